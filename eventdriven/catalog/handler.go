package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/httpmetrics"
)

// Metrics are the catalog's own metrics.
type Metrics struct {
	// UploadToReady is photobench_catalog_upload_to_ready_seconds{status}:
	// from the upload (ingest's clock, or MinIO's for presigned uploads) to
	// the write that made the photo ready or failed.
	UploadToReady *prometheus.HistogramVec
}

// NewMetrics registers the catalog's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{UploadToReady: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "photobench_catalog_upload_to_ready_seconds",
		Help:    "Time from upload to the photo becoming ready (or failed), as the catalog records it.",
		Buckets: httpmetrics.Buckets,
	}, []string{"status"})}
	m.UploadToReady.WithLabelValues("ready")
	m.UploadToReady.WithLabelValues("failed")
	reg.MustRegister(m.UploadToReady)
	return m
}

// Handler turns events into catalog writes. Malformed events are
// eventdriven.Permanent (dead-lettered); database errors are
// eventdriven.Transient (the partition waits for the database).
type Handler struct {
	Log     *slog.Logger
	Store   *Store
	Metrics *Metrics
}

// Handle is the catalog's eventdriven.Handler. It produces no events.
func (h *Handler) Handle(ctx context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
	if d.Event == nil {
		return eventdriven.Result{}, h.objects(ctx, d.Objects)
	}
	r, err := h.domainEvent(ctx, *d.Event)
	if err != nil {
		return eventdriven.Result{}, err
	}
	if r != nil {
		h.Metrics.UploadToReady.WithLabelValues(string(r.Status)).Observe(r.UploadToReady.Seconds())
	}
	return eventdriven.Result{}, nil
}

func (h *Handler) domainEvent(ctx context.Context, ev eventdriven.Event) (*Ready, error) {
	bad := func(err error) error {
		return eventdriven.Permanent(fmt.Errorf("%s event %s: %w", ev.Type, ev.ID, err))
	}
	switch ev.Type {
	case eventdriven.TypeThumbnailed:
		var d eventdriven.Thumbnailed
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Thumbnailed(ctx, d)
		return r, eventdriven.Transient(err)
	case eventdriven.TypeTagged:
		var d eventdriven.Tagged
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Tagged(ctx, d)
		return r, eventdriven.Transient(err)
	case eventdriven.TypeFailed:
		var d eventdriven.Failed
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Failed(ctx, d)
		return r, eventdriven.Transient(err)
	}
	return nil, bad(fmt.Errorf("unknown event type"))
}

// objects records originals created and removed.
func (h *Handler) objects(ctx context.Context, objs []eventdriven.Object) error {
	for _, o := range objs {
		var err error
		switch {
		case o.Record.Created():
			err = h.Store.ObjectCreated(ctx, o.ID, o.Owner, o.Record.S3.Object.Size, o.CreatedAt, o.Version)
		case o.Record.Removed():
			err = h.Store.ObjectRemoved(ctx, o.ID, o.Owner, o.Version)
		}
		if err != nil {
			return eventdriven.Transient(err)
		}
	}
	return nil
}
