package monolith

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/httpmetrics"
)

// Metrics are the monolith's own metrics; HTTP metrics come from package
// httpmetrics.
type Metrics struct {
	// StageDuration is photobench_monolith_stage_duration_seconds{stage}:
	// validate, disk, decode, thumbnail, vision, database, in that order
	// within each upload. "disk" is the writes of the files, to MinIO too
	// with --storage s3 (the name stays, so that dashboards keep working).
	StageDuration *prometheus.HistogramVec
	// Uploads is photobench_monolith_uploads_total{outcome}: ok, rejected
	// (bad input), unavailable (vision failed), error.
	Uploads *prometheus.CounterVec
	// UploadSlotWait is photobench_monolith_upload_slot_wait_seconds: how
	// long uploads queued for one of the bounded upload slots.
	UploadSlotWait prometheus.Histogram
	// OrphanFiles is photobench_monolith_orphan_files_total: deletes whose
	// rows went but whose files could not be removed.
	OrphanFiles prometheus.Counter
	// Info is photobench_monolith_info{storage} = 1: how this process is
	// set up (storage disk or s3), for reports to record what they
	// measured.
	Info *prometheus.GaugeVec
}

// NewMetrics registers the monolith's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		StageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "photobench_monolith_stage_duration_seconds",
			Help:    "Time spent in each stage of an upload inside the monolith's request.",
			Buckets: httpmetrics.Buckets,
		}, []string{"stage"}),
		Uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_monolith_uploads_total",
			Help: "Uploads by outcome: ok, rejected (bad input), unavailable (vision failed), error.",
		}, []string{"outcome"}),
		UploadSlotWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "photobench_monolith_upload_slot_wait_seconds",
			Help:    "Time an upload waited for one of the bounded upload slots.",
			Buckets: httpmetrics.Buckets,
		}),
		OrphanFiles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "photobench_monolith_orphan_files_total",
			Help: "Deleted photos whose files could not be removed.",
		}),
		Info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_monolith_info",
			Help: "Always 1; its labels say how the monolith is set up: storage (disk or s3).",
		}, []string{"storage"}),
	}
	for _, s := range []string{"validate", "disk", "decode", "thumbnail", "vision", "database"} {
		m.StageDuration.WithLabelValues(s)
	}
	for _, o := range []string{"ok", "rejected", "unavailable", "error"} {
		m.Uploads.WithLabelValues(o)
	}
	reg.MustRegister(m.StageDuration, m.Uploads, m.UploadSlotWait, m.OrphanFiles, m.Info)
	return m
}
