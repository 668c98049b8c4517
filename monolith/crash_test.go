package monolith_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
	"github.com/photobench/photobench/vision"
)

// buildPhotobench builds the photobench binary of this tree into a
// temporary directory.
func buildPhotobench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "photobench")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/photobench")
	cmd.Dir = stacktest.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startMonolith runs `photobench monolith` with args on a free port and
// returns the process and its base URL, once it listens.
func startMonolith(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"monolith", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "PHOTOBENCH_AUTH_SECRET="+string(secret))
	url := stacktest.Start(t, cmd)
	return cmd, url
}

// The asynchronous monolith killed with SIGKILL while its workers run
// jobs loses nothing and duplicates nothing: after a restart the jobs left
// running are rescued and run again, and every photo ends ready exactly
// once, with one job, completed.
func TestAsyncMonolithCrashLosesAndDuplicatesNothing(t *testing.T) {
	env := stacktest.Load(t)
	bin := buildPhotobench(t)

	// A slow vision service, so that jobs are running when the kill comes.
	remote, err := vision.NewRemote(vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	vsrv := httptest.NewServer(vision.NewServer(slog.New(slog.DiscardHandler), remote, vision.NewMetrics(prometheus.NewRegistry())))
	t.Cleanup(vsrv.Close)
	dsn := storetest.FreshDatabase(t, env.PGDSN, "pbtest_monolith_async_")
	args := []string{"--mode", "async", "--data-dir", t.TempDir(), "--pg-dsn", dsn, "--vision-url", vsrv.URL,
		"--workers", "2", "--vision-timeout", "2s", "--job-timeout", "3s", "--rescue-after", "4s"}

	cmd, base := startMonolith(t, bin, args...)
	owner := "crash"
	tok := token(t, owner)
	var ids []string
	for i := range 12 {
		ids = append(ids, uploadPending(t, base, tok, synth.JPEG(synth.Options{Seed: uint64(1000 + i), Width: 1200, Height: 900})))
	}
	var running, completed int
	eventually(t, "a job running after one completed", 60*time.Second, func() (bool, string) {
		err := queryRow(dsn, `SELECT count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'completed') FROM river_job`).Scan(&running, &completed)
		return err == nil && running > 0 && completed > 0 && completed < len(ids), fmt.Sprintf("%d running, %d completed, %v", running, completed, err)
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("killed the monolith (SIGKILL) with %d jobs running and %d completed", running, completed)

	_, base = startMonolith(t, bin, args...)
	allStatus(t, base, tok, ids, photo.StatusReady, 120*time.Second)
	exactlyOnce(t, dsn, owner, ids)
	var rescued int
	if err := queryRow(dsn, `SELECT count(*) FROM river_job WHERE attempt > 1`).Scan(&rescued); err != nil {
		t.Fatal(err)
	}
	if rescued == 0 {
		t.Errorf("no job ran more than once: the jobs killed while running were not rescued")
	}
}

// queryRow runs a query on a connection of its own: the test outlives any
// one connection if the stack's PostgreSQL restarts.
func queryRow(dsn, sql string, args ...any) pgx.Row {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return errRow{err}
	}
	return closingRow{conn.QueryRow(ctx, sql, args...), conn}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type closingRow struct {
	pgx.Row
	conn *pgx.Conn
}

func (r closingRow) Scan(dest ...any) error {
	defer r.conn.Close(context.Background())
	return r.Row.Scan(dest...)
}
