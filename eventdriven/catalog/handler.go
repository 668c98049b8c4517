package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/internal/httpmetrics"
)

// Topics are what the catalog function consumes.
var Topics = []string{deploy.TopicObjects, deploy.TopicThumbnailed, deploy.TopicTagged}

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
// kafka.Permanent (dead-lettered); database errors are kafka.Transient (the
// partition waits for the database).
type Handler struct {
	Log     *slog.Logger
	Store   *Store
	Metrics *Metrics
}

// Handle is the kafka.Handler of the catalog function.
func (h *Handler) Handle(ctx context.Context, m kgo.Message) error {
	var (
		r   *Ready
		err error
	)
	switch m.Topic {
	case deploy.TopicObjects:
		return h.objectEvent(ctx, m)
	case deploy.TopicThumbnailed, deploy.TopicTagged:
		ev, perr := kafka.ParseEvent(m)
		if perr != nil {
			return kafka.Permanent(perr)
		}
		r, err = h.domainEvent(ctx, ev)
	default:
		return kafka.Permanent(fmt.Errorf("catalog does not consume topic %q", m.Topic))
	}
	if err != nil {
		return err
	}
	if r != nil {
		h.Metrics.UploadToReady.WithLabelValues(string(r.Status)).Observe(r.UploadToReady.Seconds())
	}
	return nil
}

func (h *Handler) domainEvent(ctx context.Context, ev kafka.Event) (*Ready, error) {
	bad := func(err error) error { return kafka.Permanent(fmt.Errorf("%s event %s: %w", ev.Type, ev.ID, err)) }
	switch ev.Type {
	case eventdriven.TypeThumbnailed:
		var d eventdriven.Thumbnailed
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Thumbnailed(ctx, d)
		return r, transient(err)
	case eventdriven.TypeTagged:
		var d eventdriven.Tagged
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Tagged(ctx, d)
		return r, transient(err)
	case eventdriven.TypeFailed:
		var d eventdriven.Failed
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Failed(ctx, d)
		return r, transient(err)
	}
	return nil, bad(fmt.Errorf("unknown event type"))
}

func (h *Handler) objectEvent(ctx context.Context, m kgo.Message) error {
	objs, err := eventdriven.Originals(m.Value, deploy.BucketOriginals)
	if err != nil {
		return kafka.Permanent(err)
	}
	for _, o := range objs {
		switch {
		case o.Record.Created():
			err = h.Store.ObjectCreated(ctx, o.ID, o.Owner, o.Record.S3.Object.Size, o.CreatedAt, o.Version)
		case o.Record.Removed():
			err = h.Store.ObjectRemoved(ctx, o.ID, o.Owner, o.Version)
		}
		if err != nil {
			return transient(err)
		}
	}
	return nil
}

// transient marks a store error as the database being unavailable.
func transient(err error) error {
	if err == nil {
		return nil
	}
	return kafka.Transient(err)
}
