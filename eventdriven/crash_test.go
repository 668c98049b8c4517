package eventdriven_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// replica runs one more thumbnailer process in the "thumbnailer" group,
// beside the stack's own, from the photobench binary make test builds.
type replica struct {
	cmd     *exec.Cmd
	metrics string
}

func startReplica(t *testing.T, env stacktest.Env) *replica {
	t.Helper()
	bin := filepath.Join(stacktest.RepoRoot(t), "bin", "photobench")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: run make build (make test does)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "fn", "thumbnailer", "--addr", addr)
	cmd.Env = append(os.Environ(),
		"PHOTOBENCH_KAFKA_BROKERS="+env.KafkaBrokers, "PHOTOBENCH_S3_ENDPOINT="+env.S3Endpoint,
		"PHOTOBENCH_S3_ACCESS_KEY="+env.S3AccessKey, "PHOTOBENCH_S3_SECRET_KEY="+env.S3SecretKey)
	stacktest.Start(t, cmd)
	return &replica{cmd: cmd, metrics: "http://" + addr + "/metrics"}
}

var handledRE = regexp.MustCompile(`photobench_events_handled_total\{[^}]*outcome="ok"[^}]*\} (\d+)`)

// handled is how many events the replica has handled.
func (r *replica) handled() int {
	resp, err := http.Get(r.metrics)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n := 0
	for _, m := range handledRE.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// A thumbnailer replica killed with SIGKILL in the middle of a stream of
// uploads loses nothing and duplicates nothing: every photo ends ready once,
// with exactly two thumbnails, one catalog row, and thumbnailed events that
// are identical replays at most.
func TestThumbnailerCrashLosesAndDuplicatesNothing(t *testing.T) {
	env := appEnv(t)
	owner := user("crash")
	c := newClient(t, env, owner)
	events := stacktest.TailTopic(t, env.KafkaBrokers, deploy.TopicThumbnailed)

	r := startReplica(t, env)
	var ids []string
	for i := range 16 {
		ids = append(ids, c.upload(synth.JPEG(synth.Options{Seed: uint64(500 + i), Width: 1600, Height: 1200})))
	}
	deadline := time.Now().Add(60 * time.Second)
	for r.handled() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the extra replica handled nothing in 60 s: it never got a partition")
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := r.handled()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait()
	t.Logf("killed the extra replica (SIGKILL) after it had handled %d events", n)
	startReplica(t, env)

	for _, id := range ids {
		if p := c.waitFinal(id, 90*time.Second); p.Status != "ready" {
			t.Fatalf("photo %s ended %s", id, p.Status)
		}
	}

	// Exactly two thumbnails per photo.
	u, _ := url.Parse(env.S3Endpoint)
	mc, err := miniogo.New(u.Host, &miniogo.Options{Creds: credentials.NewStaticV4(env.S3AccessKey, env.S3SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys := map[string]bool{}
	for obj := range mc.ListObjects(ctx, deploy.BucketThumbnails, miniogo.ListObjectsOptions{Prefix: "users/" + owner + "/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		keys[obj.Key] = true
	}
	if len(keys) != 2*len(ids) {
		t.Errorf("%d thumbnail objects, want %d", len(keys), 2*len(ids))
	}

	// One ready catalog row per photo.
	conn, err := pgx.Connect(ctx, env.CatalogDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, ready int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'ready') FROM photos WHERE owner = $1`, owner).Scan(&rows, &ready); err != nil {
		t.Fatal(err)
	}
	if rows != len(ids) || ready != len(ids) {
		t.Errorf("catalog has %d rows, %d ready, want %d each", rows, ready, len(ids))
	}

	// Replayed thumbnailed events are byte-identical to the first.
	first := map[string]string{}
	timeout := time.After(5 * time.Second)
collect:
	for {
		select {
		case m := <-events:
			ev, err := kafka.ParseEvent(m)
			if err != nil {
				t.Fatalf("unparseable event: %v", err)
			}
			var d struct{ Owner string }
			json.Unmarshal(ev.Data, &d)
			if d.Owner != owner {
				continue
			}
			sig := ev.ID + "|" + ev.Type + "|" + string(ev.Data)
			if prev, ok := first[ev.Subject]; ok && prev != sig {
				t.Errorf("photo %s: a replay changed the event:\n%s\n%s", ev.Subject, prev, sig)
			}
			first[ev.Subject] = sig
		case <-timeout:
			break collect
		}
	}
	if len(first) != len(ids) {
		t.Errorf("thumbnailed events for %d photos, want %d", len(first), len(ids))
	}
}
