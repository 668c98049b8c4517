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
--storage s3), every step of an upload done inside the request (201 with the
ready photo).

Flags (each also read from the environment variable shown; flags win):
  --addr ADDR             listen address (PHOTOBENCH_MONOLITH_ADDR, default 127.0.0.1:18080)
  --storage disk|s3       where originals and thumbnails go (PHOTOBENCH_MONOLITH_STORAGE, default disk):
                          files under --data-dir, or objects in MinIO bucket --s3-bucket
  --data-dir DIR          with disk: the directory (PHOTOBENCH_MONOLITH_DATA_DIR, default .stack/data/monolith)
  --s3-bucket NAME        with s3: the bucket, created if missing (default monolith; never the
                          event-driven app's buckets, whose notifications would start its pipeline)
  --pg-dsn DSN            its PostgreSQL database, created if missing (PHOTOBENCH_MONOLITH_PG_DSN,
                          default: PHOTOBENCH_PG_DSN with the database "monolith")
  --pg-max-conns N        connection pool size (default 16)
  --vision-url URL        vision service (PHOTOBENCH_VISION_URL, default http://127.0.0.1:18081)
  --vision-timeout D      per attempt (default 5s)
  --vision-retries N      retries after the first attempt on 429, 5xx and timeouts (default 2)
  --vision-backoff D      first retry delay, exponential with full jitter, at most 2s;
                          a Retry-After from the service is honoured up to 2s (default 100ms)
  --max-uploads N         uploads processed at once; others queue (default 4 x cores)
  --max-bytes N           upload byte limit (default 20971520)
  --max-pixels N          upload pixel limit (default 40000000)
  --sync-writes           fsync each original before acknowledging (default true); with s3,
                          MinIO syncs every PUT before its 200 whatever this says

Environment: PHOTOBENCH_AUTH_SECRET signs and verifies bearer tokens
(default: a development secret; see photobench token). With --storage s3:
PHOTOBENCH_S3_ENDPOINT, PHOTOBENCH_S3_ACCESS_KEY and PHOTOBENCH_S3_SECRET_KEY,
as the event-driven functions read them (make up writes them to .stack/env).

With the defaults an upload that the vision service cannot serve fails after
at most 3 attempts x 5 s plus 2 waits of at most 2 s, with 503 and
Retry-After, and leaves no file and no row behind.
`

// config is the monolith process's configuration, from flags and environment.
type config struct {
	addr, dataDir, pgDSN, visionURL string
	storage, s3Bucket               string
	s3Endpoint, s3Key, s3Secret     string
	pgMaxConns, maxUploads          int
	visionTimeout, visionBackoff    time.Duration
	visionRetries                   int
	limits                          imaging.Limits
	syncWrites                      bool
	secret                          []byte
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
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var problems command.Problems
	if fs.NArg() > 0 {
		problems.Addf("unexpected arguments %q", fs.Args())
	}
	if c.pgDSN == "" {
		base := getenv("PHOTOBENCH_PG_DSN")
		if base == "" {
			problems.Addf("no database: set --pg-dsn, PHOTOBENCH_MONOLITH_PG_DSN or PHOTOBENCH_PG_DSN (make up writes it to .stack/env)")
		} else if u, err := url.Parse(base); err != nil {
			problems.Addf("PHOTOBENCH_PG_DSN is not a URL: %v", err)
		} else {
			u.Path = "/monolith"
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
	for name, v := range map[string]int{"--pg-max-conns": c.pgMaxConns, "--max-uploads": c.maxUploads} {
		if v < 1 {
			problems.Addf("%s must be at least 1", name)
		}
	}
	if c.visionRetries < 0 || c.visionTimeout <= 0 || c.visionBackoff <= 0 {
		problems.Addf("--vision-timeout and --vision-backoff must be positive, --vision-retries not negative")
	}
	if c.limits.MaxBytes < 1 || c.limits.MaxPixels < 1 {
		problems.Addf("--max-bytes and --max-pixels must be positive")
	}
	c.secret = auth.SecretFromEnv(getenv)
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
// and the environment, opens the database and the storage, and serves
// the API until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := command.Logger(stderr, "monolith")

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
	verifier, err := auth.NewVerifier(c.secret, 5*time.Second)
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
	h := NewHandler(log, svc, verifier, reg, httpm, m, HandlerOptions{MaxUploads: c.maxUploads, Limits: c.limits, Health: checks})
	return command.ServeHTTP(ctx, log, "monolith", c.addr, h, stdout)
}
