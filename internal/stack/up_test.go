package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// assertNothingLeft checks that no service of cfg runs or listens and that
// no pid file is left.
func assertNothingLeft(t *testing.T, cfg stack.Config) {
	t.Helper()
	for _, s := range stack.Statuses(context.Background(), cfg) {
		if s.Running() {
			t.Errorf("%s still running (pid %d)", s.Service, s.PID)
		}
	}
	for _, p := range cfg.Ports() {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.Port), 200*time.Millisecond); err == nil {
			c.Close()
			// The port the test itself holds is expected to answer.
			if !strings.Contains(t.Name(), "Taken") || p.Service != "kafka" || p.Name != "PHOTOBENCH_KAFKA_PORT" {
				t.Errorf("%s port %d still accepts connections", p.Service, p.Port)
			}
		}
	}
	pids, _ := filepath.Glob(filepath.Join(cfg.Dir, "run", "*.pid"))
	if len(pids) > 0 {
		t.Errorf("pid files left behind: %v", pids)
	}
}

func TestUpWithTakenPortFailsNamingTheServiceAndStartsNothing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	cfg := stacktest.Scratch(t, map[string]string{"PHOTOBENCH_KAFKA_PORT": fmt.Sprint(taken)})

	var out bytes.Buffer
	_, err = stack.Up(context.Background(), cfg, &out)
	if err == nil {
		stack.Down(cfg, nil, &out)
		t.Fatal("Up succeeded with Kafka's port taken")
	}
	msg := err.Error()
	for _, want := range []string{"kafka", fmt.Sprintf("127.0.0.1:%d", taken), "already in use", "PHOTOBENCH_KAFKA_PORT"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	assertNothingLeft(t, cfg)
}

func TestUpWithMissingBinariesNamesEachService(t *testing.T) {
	cfg := stacktest.Scratch(t, map[string]string{"PHOTOBENCH_STACK_BIN_DIR": t.TempDir()})
	_, err := stack.Up(context.Background(), cfg, &bytes.Buffer{})
	if err == nil {
		t.Fatal("Up succeeded without the minio and prometheus binaries")
	}
	for _, want := range []string{"minio: binary", "prometheus: binary", "make deps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	assertNothingLeft(t, cfg)
}

// A server that dies during start-up (here a stand-in prometheus that exits
// at once) must fail Up with its name and its last words, and Up must stop
// the services it had already started.
func TestUpRollsBackWhenALaterServiceFails(t *testing.T) {
	cfg := stacktest.Scratch(t, nil)
	bin := t.TempDir()
	if err := os.Symlink(filepath.Join(stacktest.RepoRoot(t), ".stack", "bin", "minio"), filepath.Join(bin, "minio")); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'simulated failure: cannot open storage' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, "prometheus"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.BinDir = bin

	var out bytes.Buffer
	started, err := stack.Up(context.Background(), cfg, &out)
	if err == nil {
		stack.Down(cfg, nil, &out)
		t.Fatalf("Up succeeded with a failing prometheus:\n%s", out.String())
	}
	if len(started) != 0 {
		t.Errorf("Up reported started services %v after failing", started)
	}
	for _, want := range []string{"prometheus", "exited before it was ready", "simulated failure: cannot open storage"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// It did get as far as starting the others, and stopped them again.
	for _, svc := range []string{"postgres", "kafka", "minio"} {
		if !strings.Contains(out.String(), svc+" ") {
			t.Errorf("output does not show %s starting:\n%s", svc, out.String())
		}
	}
	if !strings.Contains(out.String(), "stopping what this run started: postgres, kafka, minio") {
		t.Errorf("output does not report the rollback:\n%s", out.String())
	}
	assertNothingLeft(t, cfg)
}

// The full cycle on a scratch stack: up, up again (idempotent), status,
// down, and up again on the same data.
func TestUpIsIdempotentAndDownStopsEverything(t *testing.T) {
	cfg := stacktest.Scratch(t, nil)
	// The apps run from the photobench binary that make test builds.
	cfg.AppBinary = filepath.Join(stacktest.RepoRoot(t), "bin", "photobench")
	if _, err := os.Stat(cfg.AppBinary); err != nil {
		t.Fatalf("%v: run make build (make test does)", err)
	}
	ctx := context.Background()
	var out bytes.Buffer
	started, err := stack.Up(ctx, cfg, &out)
	t.Cleanup(func() { stack.Down(cfg, nil, &bytes.Buffer{}) })
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	want := "postgres,kafka,minio,prometheus,vision,monolith,monolith-async,runtime,front"
	if strings.Join(started, ",") != want {
		t.Errorf("started %v, want %s", started, want)
	}
	// The apps registered with Prometheus's discovery.
	for _, app := range []string{"vision", "monolith", "monolith-async", "runtime", "front"} {
		if _, err := os.Stat(filepath.Join(cfg.SDDir(), app+".json")); err != nil {
			t.Errorf("%s not registered for scraping: %v", app, err)
		}
	}
	env, err := os.ReadFile(cfg.EnvFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range append(cfg.Env(), cfg.AppEnv()...) {
		if !strings.Contains(string(env), "export "+kv[0]+"='"+kv[1]+"'") {
			t.Errorf("env file lacks %s=%s:\n%s", kv[0], kv[1], env)
		}
	}

	again, err := stack.Up(ctx, cfg, &out)
	if err != nil || len(again) != 0 {
		t.Fatalf("second up: started %v, err %v", again, err)
	}
	for _, s := range stack.Statuses(ctx, cfg) {
		if !s.Running() || s.Ready != nil {
			t.Errorf("%s: running=%v ready=%v", s.Service, s.Running(), s.Ready)
		}
	}

	// Stopping one service leaves the others; up restarts only that one.
	if err := stack.Down(cfg, []string{"minio"}, &out); err != nil {
		t.Fatal(err)
	}
	restarted, err := stack.Up(ctx, cfg, &out)
	if err != nil || strings.Join(restarted, ",") != "minio" {
		t.Fatalf("up after stopping minio: started %v, err %v", restarted, err)
	}

	if err := stack.Down(cfg, nil, &out); err != nil {
		t.Fatalf("down: %v", err)
	}
	assertNothingLeft(t, cfg)
	if reg, _ := filepath.Glob(filepath.Join(cfg.SDDir(), "*.json")); len(reg) > 0 {
		t.Errorf("scrape registrations left after down: %v", reg)
	}

	if _, err := stack.Up(ctx, cfg, &out); err != nil {
		t.Fatalf("up on existing data: %v\n%s", err, out.String())
	}
	if err := stack.Down(cfg, nil, &out); err != nil {
		t.Fatalf("second down: %v", err)
	}
	assertNothingLeft(t, cfg)
}

func TestDownRejectsUnknownService(t *testing.T) {
	cfg := stacktest.Scratch(t, nil)
	err := stack.Down(cfg, []string{"zookeeper"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `unknown service "zookeeper"`) {
		t.Fatalf("Down(zookeeper) = %v, want an unknown-service error", err)
	}
}

// A clone in a directory only its owner may enter (a home directory, or
// mktemp -d): as root the PostgreSQL server runs as the postgres user, who
// cannot enter it, and initdb used to fail with "Permission denied". The
// stack must come up, keep its data across a restart and clean it away.
func TestUpFromAClonePrivateToItsOwner(t *testing.T) {
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := stacktest.Scratch(t, map[string]string{"PHOTOBENCH_STACK_DIR": filepath.Join(parent, "clone", ".stack")})
	if want := stack.PGDataDirFor(cfg.Dir, os.Geteuid(), postgresHome(t)); cfg.PGDataDir != want {
		t.Fatalf("PGDataDir = %s, want %s", cfg.PGDataDir, want)
	}

	ctx := context.Background()
	var out bytes.Buffer
	if _, err := stack.Up(ctx, cfg, &out); err != nil {
		stack.Down(cfg, nil, io.Discard)
		t.Fatalf("up from %s (mode 0700): %v\n%s", parent, err, out.String())
	}
	t.Cleanup(func() { stack.Down(cfg, nil, io.Discard) })
	roundTrip := func(stmt string) int {
		t.Helper()
		conn, err := pgx.Connect(ctx, cfg.PGDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM private_clone").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := roundTrip("CREATE TABLE private_clone (id int); INSERT INTO private_clone VALUES (1)"); n != 1 {
		t.Fatalf("rows = %d, want 1", n)
	}
	if err := stack.Down(cfg, nil, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.Up(ctx, cfg, &out); err != nil {
		t.Fatalf("up again on the same data: %v\n%s", err, out.String())
	}
	if n := roundTrip("INSERT INTO private_clone VALUES (2)"); n != 2 {
		t.Fatalf("rows after a restart = %d, want 2 (the data did not survive)", n)
	}
	if err := stack.Down(cfg, nil, &out); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, cfg)

	var cleaned bytes.Buffer
	if err := stack.Clean(cfg, &cleaned); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.PGDataDir); !os.IsNotExist(err) {
		t.Errorf("PostgreSQL data %s left after clean (stat: %v)", cfg.PGDataDir, err)
	}
	if os.Geteuid() == 0 && !strings.Contains(cleaned.String(), "removed "+filepath.Dir(cfg.PGDataDir)) {
		t.Errorf("clean does not report removing the cluster beside %s:\n%s", cfg.PGDataDir, cleaned.String())
	}
}

// As root, a PHOTOBENCH_PG_DATA_DIR the postgres user cannot reach fails
// before anything starts, in one line that names the directory and the fix.
func TestUpRefusesAPostgresDataDirThePostgresUserCannotReach(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs PostgreSQL as another user (CI runs as root)")
	}
	private, err := os.MkdirTemp("", "photobench-private-") // mode 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(private) })
	cfg := stacktest.Scratch(t, map[string]string{"PHOTOBENCH_PG_DATA_DIR": filepath.Join(private, "pg")})
	_, err = stack.Up(context.Background(), cfg, &bytes.Buffer{})
	if err == nil {
		stack.Down(cfg, nil, io.Discard)
		t.Fatal("Up succeeded with a data directory the postgres user cannot enter")
	}
	for _, want := range []string{"postgres user", "cannot enter " + private, "PHOTOBENCH_PG_DATA_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	assertNothingLeft(t, cfg)
}

// postgresHome is the postgres user's home, or "" without one.
func postgresHome(t *testing.T) string {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(u.HomeDir); err != nil || !fi.IsDir() {
		return ""
	}
	return u.HomeDir
}
