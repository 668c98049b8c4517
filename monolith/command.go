package monolith

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"slices"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/monolith/disk"
	"github.com/photobench/photobench/monolith/postgres"
	"github.com/photobench/photobench/monolith/s3"
	"github.com/photobench/photobench/vision"
)

// Usage is the help of `photobench monolith`.
const Usage = `Usage: photobench monolith [flags]

Runs the monolith: one process, go-chi + PostgreSQL + local disk (or MinIO,
--storage s3), in one of two modes:
  sync    every step of an upload done inside the request: 201 with the
          ready photo (the default)
  async   the request keeps the original, writes the photo's pending row and
          enqueues its job in one PostgreSQL transaction (River), and answers
          202 with the photo pending; workers in this process make the
          thumbnails, ask the vision service (retrying with backoff) and mark
          the photo ready in the transaction that completes the job

Flags (each also read from the environment variable shown; flags win):
  --mode sync|async       (PHOTOBENCH_MONOLITH_MODE, default sync)
  --addr ADDR             listen address (PHOTOBENCH_MONOLITH_ADDR, default 127.0.0.1:18080)
  --storage disk|s3       where originals and thumbnails go (PHOTOBENCH_MONOLITH_STORAGE, default disk):
                          files under --data-dir, or objects in MinIO bucket --s3-bucket
  --data-dir DIR          with disk: the directory (PHOTOBENCH_MONOLITH_DATA_DIR, default .stack/data/monolith)
  --s3-bucket NAME        with s3: the bucket, created if missing (default monolith; never the
                          event-driven app's buckets, whose notifications would start its pipeline)
  --pg-dsn DSN            its PostgreSQL database, created if missing (PHOTOBENCH_MONOLITH_PG_DSN,
                          default: PHOTOBENCH_PG_DSN with the database "monolith", or
                          "monolith_async" in async mode)
  --pg-max-conns N        connection pool size (default 16)
  --vision-url URL        vision service (PHOTOBENCH_VISION_URL, default http://127.0.0.1:18081)
  --vision-timeout D      per attempt (default 5s)
  --vision-retries N      retries after the first attempt on 429, 5xx and timeouts (default 2)
  --vision-backoff D      first retry delay, exponential with full jitter, at most 2s;
                          a Retry-After from the service is honoured up to 2s (default 100ms)
  --max-uploads N         uploads processed at once; others queue (default 4 x cores)
  --max-bytes N           upload byte limit (default 20971520)
  --max-pixels N          upload pixel limit (default 40000000)
  --sync-writes           fsync each original, and the directory it is renamed in, before
                          acknowledging (default true); with s3, MinIO syncs every PUT
                          before its 200 whatever this says
  --body-timeout D        an upload's body must arrive within this (default 60s); the
                          upload takes one of --max-uploads only once it has
  --orphan-grace D        the orphan sweep removes files that no photo row points to once
                          they are this old (default 10m): files an upload wrote before a
                          crash kept it from writing its row; younger ones may belong to
                          an upload still running
  --sweep-every D         sweep orphans at start and then this often (default 1h)

Async mode's job queue (River; River's own default in brackets):
  --workers N             jobs run at once (default 4 x cores, as --max-uploads) [none: required]
  --fetch-cooldown D      least time between two fetches of jobs (default 5ms) [100ms]
  --fetch-poll D          fetch without a notification this often; a retry that
                          is due waits for it (default 200ms) [1s]
  --job-timeout D         an attempt running longer is cancelled (default 30s) [1m]
  --rescue-after D        a job left running by a dead process runs again after
                          this, checked every 30s by the leader (default 40s) [1h]
  --retry-backoff D       first retry delay of a job, exponential with full jitter
                          (default 100ms) [attempt^4 s: 1s, 16s, 81s, ...]
  --retry-max-backoff D   cap of that delay (default 5s) [none]
  --max-attempts N        attempts before the photo is marked failed (default 10000,
                          more than 13 h of vision outage) [25]
  --stop-timeout D        on SIGTERM, running jobs get this long before they are
                          cancelled, to run again after a restart (default 10s) [forever]
  --pending-limit D        a photo pending longer than this is marked failed with the reason,
                          its job cancelled (default 24h); checked every minute, when a
                          photo whose job ended without an outcome (discarded after a
                          panic, or with the database away) is marked failed too
  Finished jobs are kept 24 h (River's default), removed by River's cleaner.

Environment: PHOTOBENCH_AUTH_SECRET signs and verifies bearer tokens
(default: the public development secret, refused unless --addr is loopback).
With --storage s3:
PHOTOBENCH_S3_ENDPOINT, PHOTOBENCH_S3_ACCESS_KEY and PHOTOBENCH_S3_SECRET_KEY,
as the event-driven functions read them (make up writes them to .stack/env).

In sync mode, with the defaults, an upload that the vision service cannot
serve fails after at most 3 attempts x 5 s plus 2 waits of at most 2 s, with
503 and Retry-After, and leaves no file and no row behind. In async mode the
upload is accepted all the same; its job retries until vision answers, and a
vision outage shows as a backlog (photobench_monolith_jobs) instead.
`

// config is the monolith process's configuration, from flags and environment.
type config struct {
	mode                            string
	async                           AsyncOptions
	addr, dataDir, pgDSN, visionURL string
	storage, s3Bucket               string
	s3Endpoint, s3Key, s3Secret     string
	pgMaxConns, maxUploads          int
	visionTimeout, visionBackoff    time.Duration
	visionRetries                   int
	bodyTimeout                     time.Duration
	orphanGrace, sweepEvery         time.Duration
	limits                          imaging.Limits
	syncWrites                      bool
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	c := config{}
	fs := flag.NewFlagSet("monolith", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	fs.StringVar(&c.mode, "mode", env("PHOTOBENCH_MONOLITH_MODE", "sync"), "")
	fs.StringVar(&c.addr, "addr", env("PHOTOBENCH_MONOLITH_ADDR", "127.0.0.1:18080"), "")
	fs.StringVar(&c.storage, "storage", env("PHOTOBENCH_MONOLITH_STORAGE", StorageDisk), "")
	fs.StringVar(&c.dataDir, "data-dir", env("PHOTOBENCH_MONOLITH_DATA_DIR", ".stack/data/monolith"), "")
	fs.StringVar(&c.s3Bucket, "s3-bucket", s3.DefaultBucket, "")
	fs.StringVar(&c.pgDSN, "pg-dsn", env("PHOTOBENCH_MONOLITH_PG_DSN", ""), "")
	fs.IntVar(&c.pgMaxConns, "pg-max-conns", 16, "")
	fs.StringVar(&c.visionURL, "vision-url", env("PHOTOBENCH_VISION_URL", "http://127.0.0.1:18081"), "")
	fs.DurationVar(&c.visionTimeout, "vision-timeout", 5*time.Second, "")
	fs.IntVar(&c.visionRetries, "vision-retries", 2, "")
	fs.DurationVar(&c.visionBackoff, "vision-backoff", 100*time.Millisecond, "")
	fs.IntVar(&c.maxUploads, "max-uploads", 4*runtime.NumCPU(), "")
	fs.Int64Var(&c.limits.MaxBytes, "max-bytes", imaging.DefaultLimits.MaxBytes, "")
	fs.Int64Var(&c.limits.MaxPixels, "max-pixels", imaging.DefaultLimits.MaxPixels, "")
	fs.BoolVar(&c.syncWrites, "sync-writes", true, "")
	fs.DurationVar(&c.bodyTimeout, "body-timeout", DefaultBodyTimeout, "")
	fs.DurationVar(&c.orphanGrace, "orphan-grace", DefaultOrphanGrace, "")
	fs.DurationVar(&c.sweepEvery, "sweep-every", DefaultSweepInterval, "")
	d := DefaultAsyncOptions
	fs.IntVar(&c.async.Workers, "workers", 4*runtime.NumCPU(), "")
	fs.DurationVar(&c.async.FetchCooldown, "fetch-cooldown", d.FetchCooldown, "")
	fs.DurationVar(&c.async.FetchPollInterval, "fetch-poll", d.FetchPollInterval, "")
	fs.DurationVar(&c.async.JobTimeout, "job-timeout", d.JobTimeout, "")
	fs.DurationVar(&c.async.RescueAfter, "rescue-after", d.RescueAfter, "")
	fs.DurationVar(&c.async.RetryBackoff, "retry-backoff", d.RetryBackoff, "")
	fs.DurationVar(&c.async.RetryMaxBackoff, "retry-max-backoff", d.RetryMaxBackoff, "")
	fs.IntVar(&c.async.MaxAttempts, "max-attempts", d.MaxAttempts, "")
	fs.DurationVar(&c.async.StopTimeout, "stop-timeout", d.StopTimeout, "")
	fs.DurationVar(&c.async.PendingLimit, "pending-limit", d.PendingLimit, "")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var problems command.Problems
	if fs.NArg() > 0 {
		problems.Addf("unexpected arguments %q", fs.Args())
	}
	if c.mode != "sync" && c.mode != "async" {
		problems.Addf("--mode %q: want sync or async", c.mode)
	}
	if c.pgDSN == "" {
		base := getenv("PHOTOBENCH_PG_DSN")
		if base == "" {
			problems.Addf("no database: set --pg-dsn, PHOTOBENCH_MONOLITH_PG_DSN or PHOTOBENCH_PG_DSN (make up writes it to .stack/env)")
		} else if u, err := url.Parse(base); err != nil {
			problems.Addf("PHOTOBENCH_PG_DSN is not a URL: %v", err)
		} else {
			u.Path = "/monolith"
			if c.mode == "async" {
				u.Path = "/monolith_async"
			}
			c.pgDSN = u.String()
		}
	}
	switch c.storage {
	case StorageDisk:
	case StorageS3:
		c.s3Endpoint, c.s3Key, c.s3Secret = getenv("PHOTOBENCH_S3_ENDPOINT"), getenv("PHOTOBENCH_S3_ACCESS_KEY"), getenv("PHOTOBENCH_S3_SECRET_KEY")
		for name, v := range map[string]string{"PHOTOBENCH_S3_ENDPOINT": c.s3Endpoint, "PHOTOBENCH_S3_ACCESS_KEY": c.s3Key, "PHOTOBENCH_S3_SECRET_KEY": c.s3Secret} {
			if v == "" {
				problems.Addf("--storage s3 needs %s (make up writes it to .stack/env)", name)
			}
		}
		if err := s3utils.CheckValidBucketNameStrict(c.s3Bucket); err != nil {
			problems.Addf("--s3-bucket %q: %v", c.s3Bucket, err)
		}
		if slices.Contains(deploy.Buckets, c.s3Bucket) {
			problems.Addf("--s3-bucket %q is the event-driven app's, whose notifications would start its pipeline", c.s3Bucket)
		}
	default:
		problems.Addf("--storage %q: want %s or %s", c.storage, StorageDisk, StorageS3)
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		problems.Addf("--addr %q: %v", c.addr, err)
	}
	if u, err := url.Parse(c.visionURL); err != nil || u.Host == "" {
		problems.Addf("--vision-url %q is not an http URL", c.visionURL)
	}
	for name, v := range map[string]int{"--pg-max-conns": c.pgMaxConns, "--max-uploads": c.maxUploads,
		"--workers": c.async.Workers, "--max-attempts": c.async.MaxAttempts} {
		if v < 1 {
			problems.Addf("%s must be at least 1", name)
		}
	}
	if c.bodyTimeout <= 0 || c.orphanGrace <= 0 || c.sweepEvery <= 0 {
		problems.Addf("--body-timeout, --orphan-grace and --sweep-every must be positive")
	}
	if c.visionRetries < 0 || c.visionTimeout <= 0 || c.visionBackoff <= 0 {
		problems.Addf("--vision-timeout and --vision-backoff must be positive, --vision-retries not negative")
	}
	a := c.async
	if a.FetchCooldown < time.Millisecond || a.FetchPollInterval < time.Millisecond || a.JobTimeout <= 0 ||
		a.RetryBackoff <= 0 || a.RetryMaxBackoff < a.RetryBackoff || a.StopTimeout <= 0 || a.PendingLimit <= 0 {
		problems.Addf("--fetch-cooldown and --fetch-poll must be at least 1ms, --job-timeout, --retry-backoff, --stop-timeout and --pending-limit positive, --retry-max-backoff at least --retry-backoff")
	}
	if a.RescueAfter <= a.JobTimeout {
		problems.Addf("--rescue-after (%v) must exceed --job-timeout (%v): River would rescue jobs still running", a.RescueAfter, a.JobTimeout)
	}
	if c.limits.MaxBytes < 1 || c.limits.MaxPixels < 1 {
		problems.Addf("--max-bytes and --max-pixels must be positive")
	}
	return c, problems.Err("monolith")
}

// The storages of --storage.
const (
	StorageDisk = "disk"
	StorageS3   = "s3"
)

// openFiles opens the storage c names, and the health checks it adds to
// the database's.
func openFiles(ctx context.Context, c config, sent *outbound.Counter) (Files, []httpapi.Check, error) {
	if c.storage == StorageS3 {
		st, err := s3.Open(ctx, c.s3Endpoint, c.s3Key, c.s3Secret, c.s3Bucket, sent)
		if err != nil {
			return nil, nil, err
		}
		return st, []httpapi.Check{{Name: "bucket " + st.Bucket(), Ping: st.Ping}}, nil
	}
	st, err := disk.Open(c.dataDir)
	return st, nil, err
}

// Run runs the monolith process (`photobench monolith`): it parses args
// and the environment, opens the database and the storage, and serves the
// API until ctx ends; in async mode it also runs the job queue's workers,
// and stops them after the server.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := command.Logger(stderr, "monolith")
	secret, err := auth.ServerSecret(log, getenv, c.addr)
	if err != nil {
		return fmt.Errorf("monolith: %w", err)
	}

	reg := command.Registry()
	m := NewMetrics(reg)
	httpm := httpmetrics.NewMetrics(reg)
	sent := outbound.New(reg)

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := postgres.Open(startCtx, c.pgDSN, postgres.Options{MaxConns: int32(c.pgMaxConns), Sent: sent})
	if err != nil {
		return fmt.Errorf("monolith: %w", err)
	}
	defer db.Close()
	files, checks, err := openFiles(startCtx, c, sent)
	if err != nil {
		return fmt.Errorf("monolith: %w", err)
	}
	m.Info.WithLabelValues(c.storage).Set(1)
	verifier, err := auth.NewVerifier(secret, 5*time.Second)
	if err != nil {
		return fmt.Errorf("monolith: %w", err)
	}
	retries := c.visionRetries
	if retries == 0 {
		retries = -1 // the client reads 0 as "default"; negative is none
	}
	vc := vision.NewClient(c.visionURL, vision.ClientOptions{
		Timeout: c.visionTimeout, Retries: retries, Backoff: c.visionBackoff, Sent: sent,
	})
	svc := NewService(log, db, files, vc, m, Options{Limits: c.limits, SyncWrites: c.syncWrites})
	hopts := HandlerOptions{MaxUploads: c.maxUploads, Limits: c.limits, BodyTimeout: c.bodyTimeout, Health: checks}
	go svc.sweepOrphans(ctx, c.orphanGrace, c.sweepEvery)
	if c.mode == "sync" {
		return command.ServeHTTP(ctx, log, "monolith", c.addr, NewHandler(log, svc, verifier, reg, httpm, m, hopts), stdout)
	}

	async, err := NewAsync(startCtx, svc, NewJobMetrics(reg), c.async)
	if err != nil {
		return fmt.Errorf("monolith: %w", err)
	}
	// The workers outlive ctx: they stop after the HTTP server, so that
	// jobs of the last accepted uploads may still finish.
	if err := async.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("monolith: start workers: %w", err)
	}
	hopts.Uploader = async
	serveErr := command.ServeHTTP(ctx, log, "monolith", c.addr, NewHandler(log, svc, verifier, reg, httpm, m, hopts), stdout)
	stopCtx, stop := context.WithTimeout(context.Background(), c.async.StopTimeout+5*time.Second)
	defer stop()
	if err := async.Stop(stopCtx); err != nil {
		return errors.Join(serveErr, fmt.Errorf("monolith: stop workers: %w", err))
	}
	return serveErr
}
