package monolith

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	// OrphansRemoved is photobench_monolith_orphans_removed_total: files
	// that no photo row pointed to, removed by the orphan sweep.
	OrphansRemoved prometheus.Counter
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
		OrphansRemoved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "photobench_monolith_orphans_removed_total",
			Help: "Files no photo row pointed to (left by a crash between the write and the insert), removed by the orphan sweep.",
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
	reg.MustRegister(m.StageDuration, m.Uploads, m.UploadSlotWait, m.OrphanFiles, m.OrphansRemoved, m.Info)
	return m
}

// JobStates are the states of River's jobs that photobench_monolith_jobs
// reports: the backlog (available, and retryable or scheduled for a later
// attempt) and the jobs being worked (running). Finished jobs are counted
// by JobMetrics.Attempts instead.
var JobStates = []string{"available", "retryable", "scheduled", "running"}

// JobMetrics are the asynchronous monolith's own metrics, beside Metrics.
type JobMetrics struct {
	// Attempts is photobench_monolith_job_attempts_total{outcome}: job
	// attempts that made their photo ready, failed it (the image cannot be
	// derived), found it deleted, or ended in an error to retry.
	Attempts *prometheus.CounterVec
	// UploadToReady is photobench_monolith_upload_to_ready_seconds{status}:
	// from the upload's row to the photo ready or failed, as the
	// event-driven catalog's photobench_catalog_upload_to_ready_seconds.
	UploadToReady *prometheus.HistogramVec
	queue         *jobQueue
}

// NewJobMetrics registers the job metrics with reg:
// photobench_monolith_jobs{state} is read from River's job table on each
// scrape, once NewAsync has the database.
func NewJobMetrics(reg prometheus.Registerer) *JobMetrics {
	m := &JobMetrics{
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_monolith_job_attempts_total",
			Help: "Job attempts by outcome: ready, failed (the image cannot be derived), deleted (the photo was deleted meanwhile), retry.",
		}, []string{"outcome"}),
		UploadToReady: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "photobench_monolith_upload_to_ready_seconds",
			Help:    "Time from an accepted upload to its photo ready or failed, by final status.",
			Buckets: httpmetrics.Buckets,
		}, []string{"status"}),
		queue: &jobQueue{desc: prometheus.NewDesc("photobench_monolith_jobs",
			"Jobs of the monolith's queue by state (available, retryable, scheduled, running), read from River's job table.",
			[]string{"state"}, nil)},
	}
	for _, o := range []string{"ready", "failed", "deleted", "retry"} {
		m.Attempts.WithLabelValues(o)
	}
	for _, s := range []string{"ready", "failed"} {
		m.UploadToReady.WithLabelValues(s)
	}
	reg.MustRegister(m.Attempts, m.UploadToReady, m.queue)
	return m
}

func newJobMetrics() *JobMetrics { return NewJobMetrics(prometheus.NewRegistry()) }

func (m *JobMetrics) watch(pool *pgxpool.Pool) { m.queue.pool.Store(pool) }

// jobQueue collects photobench_monolith_jobs on scrape: one indexed count
// over River's unfinished jobs.
type jobQueue struct {
	desc *prometheus.Desc
	pool atomic.Pointer[pgxpool.Pool]
}

func (q *jobQueue) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

func (q *jobQueue) Collect(ch chan<- prometheus.Metric) {
	pool := q.pool.Load()
	if pool == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]int64{}
	rows, err := pool.Query(ctx, `SELECT state::text, count(*) FROM river_job
		WHERE queue = $1 AND state = ANY($2::river_job_state[]) GROUP BY state`, JobQueue, JobStates)
	if err == nil {
		var (
			state string
			n     int64
		)
		_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
			counts[state] = n
			return nil
		})
	}
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.desc, fmt.Errorf("count jobs: %w", err))
		return
	}
	for _, s := range JobStates {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
}
