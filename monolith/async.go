package monolith

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/pgdb"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/monolith/postgres"
	"github.com/photobench/photobench/photo"
)

// JobQueue is the River queue the asynchronous monolith's jobs go to.
const JobQueue = "photos"

// AsyncOptions tune the asynchronous monolith's job queue (River). Each
// zero field takes the default in DefaultAsyncOptions, which departs from
// River's own defaults where those suit a batch system more than a
// benchmark; both are listed in `photobench monolith --help`.
type AsyncOptions struct {
	// Workers is how many jobs run at once in this process (River's
	// QueueConfig.MaxWorkers, which has no default). A job spends most of
	// its time waiting for the vision service, as an upload of the
	// synchronous monolith does: same default as its upload slots, 4 x cores.
	Workers int
	// FetchCooldown is the least time between two fetches of jobs (River:
	// 100 ms). Every fetch after a burst of inserts waits for it, so it adds
	// to upload-to-ready: 5 ms.
	FetchCooldown time.Duration
	// FetchPollInterval is how often workers look for jobs without being
	// told of one (River: 1 s). Inserts notify (LISTEN/NOTIFY), but a
	// retry that is due only becomes visible to a poll: 200 ms.
	FetchPollInterval time.Duration
	// JobTimeout cancels an attempt that runs longer (River: 1 min). An
	// attempt is a decode, two thumbnails and at most 3 vision requests of
	// 5 s with waits of at most 2 s between them: 30 s.
	JobTimeout time.Duration
	// RescueAfter is when a job still marked running, because the process
	// that ran it died, is given to another attempt (River's
	// RescueStuckJobsAfter: 1 h). It must exceed JobTimeout: 40 s. River's
	// rescuer looks every 30 s (fixed), and only in the elected leader,
	// whose lease outlives a killed process by up to 15 s.
	RescueAfter time.Duration
	// RetryBackoff and RetryMaxBackoff shape the retries of an attempt that
	// failed for a reason that may pass (vision unavailable, the database
	// away): before retry n (from 1) a job waits a random time in
	// [0, min(RetryMaxBackoff, RetryBackoff x 2^(n-1))], full jitter like
	// the vision client's and the event-driven functions' retries. River's
	// policy waits n^4 s (1 s, 16 s, 81 s, 4 min, ... 4.5 days at n = 24),
	// which would keep a backlog long after an outage ends: 100 ms and 5 s.
	RetryBackoff, RetryMaxBackoff time.Duration
	// MaxAttempts bounds a job's attempts (River: 25). A vision outage must
	// make a backlog, not failed photos: 10,000, more than 13 hours of
	// outage at the 5 s cap. The last attempt marks the photo failed.
	MaxAttempts int
	// StopTimeout is how long a graceful stop waits for running jobs
	// before it cancels them (River's SoftStopTimeout: forever); a
	// cancelled job runs again after the restart: 10 s.
	StopTimeout time.Duration
	// PendingLimit is the longest a photo may stay pending: past it, the
	// stranded-photo check cancels its job and marks it failed with the
	// reason. MaxAttempts at the backoff cap already ends a job after 13 h
	// or more (every attempt timing out: 3.8 days); the limit is the
	// documented bound whatever the attempts do: 24 h.
	PendingLimit time.Duration
	// CheckInterval is how often the stranded-photo check runs (and once
	// at Start): it also fails a pending photo whose job has ended without
	// recording an outcome (River discards a job whose last attempt
	// panicked or could not reach the database): 1 min.
	CheckInterval time.Duration
}

// DefaultAsyncOptions are the asynchronous monolith's defaults but
// Workers, which is 4 x cores (runtime.NumCPU).
var DefaultAsyncOptions = AsyncOptions{
	FetchCooldown:     5 * time.Millisecond,
	FetchPollInterval: 200 * time.Millisecond,
	JobTimeout:        30 * time.Second,
	RescueAfter:       40 * time.Second,
	RetryBackoff:      100 * time.Millisecond,
	RetryMaxBackoff:   5 * time.Second,
	MaxAttempts:       10_000,
	StopTimeout:       10 * time.Second,
	PendingLimit:      24 * time.Hour,
	CheckInterval:     time.Minute,
}

// withDefaults fills o's zero fields from DefaultAsyncOptions.
func (o AsyncOptions) withDefaults(workers int) AsyncOptions {
	d := DefaultAsyncOptions
	d.Workers = workers
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.FetchCooldown, d.FetchCooldown)
	set(&o.FetchPollInterval, d.FetchPollInterval)
	set(&o.JobTimeout, d.JobTimeout)
	set(&o.RescueAfter, d.RescueAfter)
	set(&o.RetryBackoff, d.RetryBackoff)
	set(&o.RetryMaxBackoff, d.RetryMaxBackoff)
	set(&o.StopTimeout, d.StopTimeout)
	set(&o.PendingLimit, d.PendingLimit)
	set(&o.CheckInterval, d.CheckInterval)
	if o.Workers <= 0 {
		o.Workers = d.Workers
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = d.MaxAttempts
	}
	return o
}

// Async is the monolith in asynchronous mode: Upload keeps the original,
// then writes the photo's pending row and enqueues its job in one
// transaction and returns the photo pending; River's workers, in this
// process, derive the photo (Service.derive, the synchronous Upload's own
// steps) and mark it ready in the transaction that completes the job.
// The job's stage times (photo.Photo.ThumbnailedAt, TaggedAt) are taken as
// its steps end and written with the outcome, in that transaction: a
// pending photo shows none, and no stage costs a write of its own.
// Reads and deletes are the Service's.
type Async struct {
	*Service
	jobs *river.Client[pgx.Tx]
	m    *JobMetrics
	// queue is the job queue's options, defaults filled in.
	queue AsyncOptions
	// stopCheck ends the stranded-photo check that Start started.
	stopCheck context.CancelFunc
	checkDone chan struct{}
}

// NewAsync applies River's migrations to svc's database (after the
// monolith's own, which postgres.Open applied) and makes the job queue's
// client; Start starts its workers. jm may be nil (no job metrics).
func NewAsync(ctx context.Context, svc *Service, jm *JobMetrics, opts AsyncOptions) (*Async, error) {
	if jm == nil {
		jm = newJobMetrics()
	}
	opts = opts.withDefaults(4 * runtime.NumCPU())
	if opts.RescueAfter <= opts.JobTimeout {
		return nil, fmt.Errorf("async monolith: rescue-after %v must exceed the job timeout %v", opts.RescueAfter, opts.JobTimeout)
	}
	pool := svc.db.Pool()
	driver := riverpgxv5.New(pool)
	if err := migrateRiver(ctx, pool, svc.log); err != nil {
		return nil, err
	}
	a := &Async{Service: svc, m: jm, queue: opts}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deriveWorker{a: a}); err != nil {
		return nil, fmt.Errorf("async monolith: %w", err)
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger:               svc.log.With("component", "river"),
		Queues:               map[string]river.QueueConfig{JobQueue: {MaxWorkers: opts.Workers}},
		Workers:              workers,
		FetchCooldown:        opts.FetchCooldown,
		FetchPollInterval:    opts.FetchPollInterval,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		RetryPolicy:          backoffPolicy{base: opts.RetryBackoff, ceiling: opts.RetryMaxBackoff},
		MaxAttempts:          opts.MaxAttempts,
		SoftStopTimeout:      opts.StopTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("async monolith: job queue: %w", err)
	}
	a.jobs = client
	jm.watch(pool)
	return a, nil
}

// migrateRiver applies River's own migrations, each in its own
// transaction (one adds an enum value that a later one uses, which
// PostgreSQL refuses within one transaction), under the lock the
// monolith's own migrations take (pgdb.Exclusive).
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log.With("component", "rivermigrate")})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return pgdb.Exclusive(ctx, pool, "river migrations", func(*pgxpool.Conn) error {
		_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	})
}

// Start starts the workers, and the stranded-photo check (FailStranded,
// now and every AsyncOptions.CheckInterval); they run until Stop. Jobs
// left by an earlier process (queued, retrying, or running when it died)
// are picked up.
func (a *Async) Start(ctx context.Context) error {
	if err := a.jobs.Start(ctx); err != nil {
		return err
	}
	ctx, a.stopCheck = context.WithCancel(ctx)
	a.checkDone = make(chan struct{})
	go a.checkStranded(ctx)
	return nil
}

// Stop stops fetching jobs and waits for the running ones, at most
// AsyncOptions.StopTimeout before it cancels them (they run again after a
// restart), or until ctx ends.
func (a *Async) Stop(ctx context.Context) error {
	if a.stopCheck != nil {
		a.stopCheck()
		<-a.checkDone
	}
	return a.jobs.Stop(ctx)
}

// Upload validates data (its header, and its last bytes for a truncated
// image: nothing is decoded) and keeps the original, as the synchronous
// Upload does, then writes the photo's pending row and enqueues the job that
// derives it in one transaction, and returns the photo pending. If the
// transaction fails, the original is removed: no row, no job, no file.
// Errors are those of Service.Upload, vision's excepted.
func (a *Async) Upload(ctx context.Context, owner string, data []byte) (p photo.Photo, err error) {
	defer func() { a.metrics.Uploads.WithLabelValues(uploadOutcome(err)).Inc() }()

	info, err := a.inspect(data)
	if err != nil {
		return photo.Photo{}, err
	}
	if !imaging.Complete(data, info) {
		// What the synchronous decode would refuse, found without one.
		return photo.Photo{}, photo.Errorf(photo.Invalid, "%s image is truncated", info.Format)
	}
	p = newPhoto(owner, info, photo.StatusPending)
	orig, err := a.storeOriginal(p, data)
	if err != nil {
		return photo.Photo{}, err
	}
	now := postgres.Now()
	p.CreatedAt, p.UpdatedAt = now, now
	t := time.Now()
	err = a.db.InTx(ctx, "enqueue photo "+p.ID, func(tx pgx.Tx) error {
		if err := postgres.InsertTx(ctx, tx, p); err != nil {
			return err
		}
		_, err := a.jobs.InsertTx(ctx, tx, deriveArgs{ID: p.ID, Owner: owner}, nil)
		return err
	})
	a.stage("database", t)
	if err != nil {
		a.remove(ctx, p.ID, "upload not enqueued", orig)
		return photo.Photo{}, err
	}
	return p, nil
}

// deriveArgs is a job: derive photo ID of Owner from its original.
type deriveArgs struct {
	ID    string `json:"id"`
	Owner string `json:"owner"`
}

// Kind names the job in River's table.
func (deriveArgs) Kind() string { return "derive_photo" }

// InsertOpts puts the job on the monolith's queue.
func (deriveArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: JobQueue} }

// deriveWorker runs derive_photo jobs.
type deriveWorker struct {
	river.WorkerDefaults[deriveArgs]
	a *Async
}

// Work derives the photo and records the outcome in the transaction that
// completes the job: the photo ready, or failed with a reason when the
// image cannot be derived (decode fails, vision refuses it). An error that
// may pass (vision or the database unavailable, a disk write) returns to
// River, which retries the job after a backoff; on the job's last attempt
// it too marks the photo failed. A photo deleted meanwhile stays deleted:
// the job removes the thumbnails it wrote and completes.
func (w *deriveWorker) Work(ctx context.Context, job *river.Job[deriveArgs]) error {
	a, id, owner := w.a, job.Args.ID, job.Args.Owner
	p := photo.Photo{ID: id, Owner: owner, Status: photo.StatusReady, Thumbnails: map[photo.Size]photo.Thumbnail{}}
	orig, err := a.files.OriginalPath(owner, id)
	if err != nil {
		return a.finish(ctx, job, failed(p, err), nil)
	}
	data, err := a.files.Read(orig)
	if photo.KindOf(err) == photo.NotFound {
		// Deleted (the row too, then finish changes nothing) or lost.
		return a.finish(ctx, job, failed(p, photo.Errorf(photo.NotFound, "the original is missing")), nil)
	}
	if err != nil {
		return a.retry(ctx, job, p, err, nil)
	}
	info, err := imaging.Inspect(data, a.opts.Limits)
	if err != nil {
		return a.finish(ctx, job, failed(p, err), nil, orig)
	}
	written, err := a.derive(ctx, &p, data, info)
	switch {
	case err == nil:
		p.UpdatedAt = postgres.Now()
		return a.finish(ctx, job, p, written)
	case permanent(err):
		a.remove(ctx, id, "failed photo", written...)
		return a.finish(ctx, job, failed(p, err), nil, orig)
	}
	return a.retry(ctx, job, p, err, written)
}

// permanent reports whether err says the image itself is at fault, so
// that another attempt would fail the same way.
func permanent(err error) bool {
	switch photo.KindOf(err) {
	case photo.Invalid, photo.Unsupported, photo.TooLarge, photo.TooManyPixels:
		return true
	}
	return false
}

// failed is p failed for the reason err gives (its client-safe message),
// with the stage times of what it completed before it failed.
func failed(p photo.Photo, err error) photo.Photo {
	p.Status, p.FailureReason = photo.StatusFailed, photo.MessageOf(err)
	p.Tags, p.Colors, p.Hash = nil, nil, ""
	p.Thumbnails = map[photo.Size]photo.Thumbnail{}
	p.UpdatedAt = postgres.Now()
	return p
}

// retry hands err back to River for another attempt, or, on the job's
// last attempt, marks the photo failed. The last attempt's outcome is
// recorded even when the attempt's own context has ended (the job
// timeout): a job River discards with its photo still pending is left to
// the stranded-photo check.
func (a *Async) retry(ctx context.Context, job *river.Job[deriveArgs], p photo.Photo, err error, written []string) error {
	if job.Attempt >= job.MaxAttempts {
		a.log.ErrorContext(ctx, "photo failed after its last attempt", "photo", p.ID, "attempt", job.Attempt, "err", err)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		a.remove(ctx, p.ID, "failed photo", written...)
		orig, _ := a.files.OriginalPath(p.Owner, p.ID)
		return a.finish(ctx, job, failed(p, err), nil, orig)
	}
	a.m.Attempts.WithLabelValues("retry").Inc()
	return fmt.Errorf("derive photo %s, attempt %d: %w", p.ID, job.Attempt, err)
}

// finish records p (ready or failed) and completes the job in one
// transaction, so that neither a ready photo whose job runs again nor a
// completed job whose photo stays pending can exist. If the photo was no
// longer pending (deleted), the files of written are removed; a failed
// photo's files in drop are removed once it is recorded.
func (a *Async) finish(ctx context.Context, job *river.Job[deriveArgs], p photo.Photo, written []string, drop ...string) error {
	t := time.Now()
	var (
		created time.Time
		pending bool
	)
	err := a.db.InTx(ctx, "finish photo "+p.ID, func(tx pgx.Tx) error {
		var err error
		if created, pending, err = postgres.FinishTx(ctx, tx, p); err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	a.stage("database", t)
	if err != nil {
		a.m.Attempts.WithLabelValues("retry").Inc()
		return err // the files stay: the next attempt rewrites them
	}
	switch {
	case !pending:
		a.m.Attempts.WithLabelValues("deleted").Inc()
		a.remove(ctx, p.ID, "deleted photo", written...)
	case p.Status == photo.StatusReady:
		a.m.Attempts.WithLabelValues("ready").Inc()
		a.m.UploadToReady.WithLabelValues("ready").Observe(p.UpdatedAt.Sub(created).Seconds())
	default:
		a.m.Attempts.WithLabelValues("failed").Inc()
		a.m.UploadToReady.WithLabelValues("failed").Observe(p.UpdatedAt.Sub(created).Seconds())
		a.log.InfoContext(ctx, "photo failed", "photo", p.ID, "reason", p.FailureReason)
		a.remove(ctx, p.ID, "failed photo", drop...)
	}
	return nil
}

// recordTimeout bounds the recording of a last attempt's outcome, which
// outlives the attempt's own context.
const recordTimeout = 10 * time.Second

// Reasons of the photos FailStranded fails, as clients read them.
const (
	reasonJobEnded = "the photo could not be processed: its job ended without a result"
	reasonOverdue  = "the photo was pending longer than the limit of %v"
)

// FailStranded marks failed, with a reason, every pending photo that no
// job will finish: one whose job has ended without recording an outcome
// (River discards a job whose last attempt panicked, or whose outcome
// could not be written), and one pending longer than
// AsyncOptions.PendingLimit, whose job it cancels in the same
// transaction. The failed photos' files are removed. It returns how many
// photos it failed.
func (a *Async) FailStranded(ctx context.Context) (int, error) {
	type stranded struct {
		p     photo.Photo
		jobID *int64
	}
	var found []stranded
	t := time.Now()
	err := a.db.InTx(ctx, "fail stranded photos", func(tx pgx.Tx) error {
		found = found[:0]
		rows, err := tx.Query(ctx, `SELECT p.id::text, p.owner, j.id
			FROM photos p
			LEFT JOIN LATERAL (
				SELECT id FROM river_job
				WHERE kind = $1 AND args @> jsonb_build_object('id', p.id::text)
					AND state IN ('available', 'pending', 'retryable', 'running', 'scheduled')
				ORDER BY id DESC LIMIT 1
			) j ON true
			WHERE p.status = 'pending' AND (j.id IS NULL OR p.created_at < $2)
			ORDER BY p.created_at
			LIMIT 1000
			FOR UPDATE OF p SKIP LOCKED`,
			deriveArgs{}.Kind(), t.Add(-a.queue.PendingLimit))
		if err != nil {
			return err
		}
		for rows.Next() {
			var s stranded
			if err := rows.Scan(&s.p.ID, &s.p.Owner, &s.jobID); err != nil {
				return err
			}
			found = append(found, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for i, s := range found {
			reason := reasonJobEnded
			if s.jobID != nil {
				reason = fmt.Sprintf(reasonOverdue, a.queue.PendingLimit)
				if _, err := a.jobs.JobCancelTx(ctx, tx, *s.jobID); err != nil {
					return fmt.Errorf("cancel job %d: %w", *s.jobID, err)
				}
			}
			found[i].p = failed(s.p, photo.Errorf(photo.Internal, "%s", reason))
			if _, _, err := postgres.FinishTx(ctx, tx, found[i].p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, s := range found {
		a.m.Attempts.WithLabelValues("failed").Inc()
		a.log.WarnContext(ctx, "stranded photo failed", "photo", s.p.ID, "reason", s.p.FailureReason)
		a.remove(ctx, s.p.ID, "stranded photo", a.paths(s.p.Owner, s.p.ID)...)
	}
	return len(found), nil
}

// checkStranded runs FailStranded now and every CheckInterval until ctx
// ends; a failed check is logged and tried again at the next.
func (a *Async) checkStranded(ctx context.Context) {
	defer close(a.checkDone)
	for {
		if _, err := a.FailStranded(ctx); err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "stranded-photo check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.queue.CheckInterval):
		}
	}
}

// backoffPolicy is the jobs' retry policy: exponential backoff from base,
// capped at ceiling, with full jitter.
type backoffPolicy struct{ base, ceiling time.Duration }

// NextRetry is when job, which has just failed, runs again.
func (b backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(sleep.Backoff(b.base, b.ceiling, len(job.Errors)+1))
}

var (
	_ photo.Uploader = (*Async)(nil)
	_ photo.Reader   = (*Async)(nil)
	_ photo.Deleter  = (*Async)(nil)
)
