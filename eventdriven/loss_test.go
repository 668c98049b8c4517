package eventdriven_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// lossStack is a scratch stack of its own, with the apps: these tests stop
// and kill its servers, which the other tests' shared stack must not see.
type lossStack struct {
	cfg stack.Config
	env stacktest.Env
}

func newLossStack(t *testing.T) *lossStack {
	t.Helper()
	cfg := stacktest.UpScratch(t, nil)
	return &lossStack{cfg: cfg, env: stacktest.EnvOf(cfg)}
}

// restart starts whatever of the stack is not running (after a stop or a
// kill) and waits until it is ready.
func (s *lossStack) restart(t *testing.T) {
	t.Helper()
	var out bytes.Buffer
	if _, err := stack.Up(context.Background(), s.cfg, &out); err != nil {
		t.Fatalf("restart: %v\n%s", err, out.String())
	}
}

// tryUpload is one upload that may fail while a server is down: it
// returns the photo's id when the upload was accepted (202), "" otherwise.
func (c *client) tryUpload(img []byte) string {
	req, err := http.NewRequest("POST", c.base+"/v1/photos", bytes.NewReader(img))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return ""
	}
	var p photoJSON
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.ID == "" {
		c.t.Errorf("a 202 without a photo: %v", err)
		return ""
	}
	return p.ID
}

// allReady waits until every accepted photo is ready, then checks that the
// catalog holds each exactly once and nothing else of the owner.
func (s *lossStack) allReady(t *testing.T, c *client, owner string, accepted []string, timeout time.Duration) {
	t.Helper()
	if len(accepted) == 0 {
		t.Fatal("no upload was accepted: nothing was tested")
	}
	deadline := time.Now().Add(timeout)
	for _, id := range accepted {
		if p := c.waitFinal(id, time.Until(deadline)); p.Status != "ready" {
			t.Errorf("photo %s ended %s (%s), want ready", id, p.Status, p.FailureReason)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.env.CatalogDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id::text, count(*) OVER (PARTITION BY id) FROM photos WHERE owner = $1 AND NOT deleted`, owner)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		got[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(accepted) {
		t.Errorf("the catalog holds %d photos of %s, want the %d accepted", len(got), owner, len(accepted))
	}
	for _, id := range accepted {
		if got[id] != 1 {
			t.Errorf("photo %s is in the catalog %d times, want once", id, got[id])
		}
	}
}

// reconciled reads the runtime's count of object events published again.
func (s *lossStack) reconciled(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", s.cfg.RuntimePort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "photobench_reconciled_total") {
			return strings.TrimSpace(line[strings.LastIndex(line, " "):])
		}
	}
	return "?"
}

// No accepted photo is lost to a broken notification path: with MinIO's
// notification queue off (the default), an object-created event that
// cannot reach Kafka is gone, and the reconciler publishes it again.
func TestNoAcceptedPhotoIsLost(t *testing.T) {
	stacktest.NativeOnly(t)
	s := newLossStack(t)

	t.Run("Kafka down for 30 s", func(t *testing.T) {
		owner := user("kafka-down")
		c := newClient(t, s.env, owner)
		first := c.upload(synth.JPEG(synth.Options{Seed: 1, Width: 400, Height: 300}))
		c.waitFinal(first, 90*time.Second) // the pipeline works
		accepted := []string{first}
		if err := stack.Down(s.cfg, []string{"kafka"}, io.Discard); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		for i := 0; time.Since(stopped) < 30*time.Second; i++ {
			if id := c.tryUpload(synth.JPEG(synth.Options{Seed: uint64(10 + i), Width: 400, Height: 300})); id != "" {
				accepted = append(accepted, id)
			}
			time.Sleep(time.Second)
		}
		t.Logf("%d uploads accepted while Kafka was down", len(accepted)-1)
		s.restart(t)
		// The reconciler runs every minute; a lost event waits at most one
		// period plus its minimum age, and the pipeline's own recovery.
		s.allReady(t, c, owner, append(accepted, c.upload(synth.JPEG(synth.Options{Seed: 2, Width: 400, Height: 300}))), 4*time.Minute)
		t.Logf("reconciled so far: %s", s.reconciled(t))
	})

	t.Run("MinIO killed right after a batch of PUTs", func(t *testing.T) {
		owner := user("minio-kill")
		c := newClient(t, s.env, owner)
		var (
			mu       sync.Mutex
			accepted []string
			wg       sync.WaitGroup
		)
		for i := range 12 {
			wg.Go(func() {
				if id := c.tryUpload(synth.JPEG(synth.Options{Seed: uint64(100 + i), Width: 400, Height: 300})); id != "" {
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		pid := stack.PIDs(s.cfg)["minio"]
		if pid == 0 {
			t.Fatal("MinIO is not running")
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d uploads accepted, then MinIO killed", len(accepted))
		time.Sleep(2 * time.Second)
		s.restart(t)
		s.allReady(t, c, owner, accepted, 4*time.Minute)
		t.Logf("reconciled so far: %s", s.reconciled(t))
	})
}
