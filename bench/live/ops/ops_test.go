package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/bench/live/ops"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/photo"
)

func TestBusy(t *testing.T) {
	c := stacktest.Unstarted(t)
	if err := ops.Busy(c); err != nil {
		t.Fatalf("nothing runs: %v", err)
	}

	release, err := stack.LockBench(c, "photobench bench")
	if err != nil {
		t.Fatal(err)
	}
	err = ops.Busy(c)
	if err == nil || !strings.Contains(err.Error(), "photobench bench") {
		t.Errorf("bench lock held: got %v, want an error naming photobench bench", err)
	}
	release()
	if err := ops.Busy(c); err != nil {
		t.Errorf("bench lock released: %v", err)
	}

	// This process's own live registration does not count; another live
	// process's and a demo's do, while they run.
	register := func(kind string, pid int) {
		t.Helper()
		if _, err := promsd.Register(c.SDDir(), promsd.Target{Name: fmt.Sprintf("%s-%d", kind, pid), Addr: "127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
	}
	register("live", os.Getpid())
	if err := ops.Busy(c); err != nil {
		t.Errorf("own live registration: %v", err)
	}
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	register("live", other.Process.Pid)
	err = ops.Busy(c)
	if want := fmt.Sprintf("live pid %d", other.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("another live session: got %v, want an error naming %q", err, want)
	}
	other.Process.Kill()
	other.Wait()
	if err := ops.Busy(c); err != nil {
		t.Errorf("the other live session ended: %v", err)
	}
}

// TestRefusals covers the errors that need no running stack.
func TestRefusals(t *testing.T) {
	c := stacktest.Unstarted(t)
	c.AppBinary = "/nonexistent/photobench"
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"kill an unknown function", kill(c, "front"), append([]string{`unknown function "front"`}, ops.Functions()...)},
		{"kill without a runtime", kill(c, "thumbnailer"), []string{"runtime does not run"}},
		{"restart prometheus", restart(c, "prometheus"), []string{`"prometheus" is not a server`, "kafka, minio, postgres"}},
		{"restart an unknown server", restart(c, "redis"), []string{`"redis"`, "kafka, minio, postgres"}},
		{"reset without the apps", ops.Reset(context.Background(), c, io.Discard), []string{"runtime, monolith, monolith-async not running"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(tc.err.Error(), w) {
					t.Errorf("error %q does not say %q", tc.err, w)
				}
			}
		})
	}
}

func kill(c stack.Config, fn string) error {
	_, err := ops.KillReplica(c, fn)
	return err
}

func restart(c stack.Config, server string) error {
	_, err := ops.Restart(context.Background(), c, server, io.Discard)
	return err
}

// TestControls drives every control against a scratch stack with the
// three apps: kill a replica, restart Kafka and PostgreSQL, reset.
func TestControls(t *testing.T) {
	c := stacktest.UpScratch(t, nil)
	ctx := context.Background()
	apps := appsOf(t, c)

	t.Run("kill a replica", func(t *testing.T) {
		// Nothing uploaded yet: the thumbnailer is at zero.
		if _, err := ops.KillReplica(c, "thumbnailer"); err == nil || !strings.Contains(err.Error(), "thumbnailer has no replica (scaled to zero)") {
			t.Errorf("at zero: got %v", err)
		}
		apps[2].upload(t) // wakes the thumbnailer
		rt := stack.PIDs(c)["runtime"]
		waitFor(t, "a thumbnailer replica", func() bool { return len(stack.Children(rt, "fn", "thumbnailer")) > 0 })
		before := stack.Children(rt, "fn", "thumbnailer")
		pid, err := ops.KillReplica(c, "thumbnailer")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(before, pid) {
			t.Errorf("killed pid %d, not a thumbnailer replica (%v)", pid, before)
		}
		if slices.Contains(stack.Children(rt, "fn", "thumbnailer"), pid) {
			t.Errorf("replica %d still runs", pid)
		}
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("pid %d still exists", pid)
		}
		// The app carries on: the runtime starts another replica for the
		// next upload.
		apps[2].upload(t)
	})

	for _, server := range []string{"kafka", "postgres"} {
		t.Run("restart "+server, func(t *testing.T) {
			pid := stack.PIDs(c)[server]
			var out bytes.Buffer
			took, err := ops.Restart(ctx, c, server, &out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if now := stack.PIDs(c)[server]; now == 0 || now == pid {
				t.Errorf("%s pid %d before, %d after: not restarted", server, pid, now)
			}
			t.Logf("%s restarted in %s", server, took)
			for _, a := range apps {
				a.upload(t) // every app answers again
			}
		})
	}

	t.Run("reset", func(t *testing.T) { testReset(t, c, apps) })
}

// TestResetStagedNotifications resets a stack whose MinIO stages its
// notifications on disk and sends them up to 3 s late: Reset must wait
// for the delete events to reach Kafka, not take a lag of 0 read before
// they did for the end of them.
func TestResetStagedNotifications(t *testing.T) {
	c := stacktest.UpScratch(t, map[string]string{"PHOTOBENCH_MINIO_NOTIFY_QUEUE": "on"})
	testReset(t, c, appsOf(t, c))
}

// testReset uploads to each app, resets, and checks that nothing is left
// and that the apps take new uploads.
func testReset(t *testing.T, c stack.Config, apps []app) {
	ctx := context.Background()
	for _, a := range apps {
		a.upload(t)
		a.upload(t)
		if n := len(a.list(t)); n < 2 {
			t.Fatalf("%s lists %d photos before the reset, want at least 2", a.name, n)
		}
	}
	var out bytes.Buffer
	if err := ops.Reset(ctx, c, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("reset:\n%s", out.String())
	for _, a := range apps {
		if ps := a.list(t); len(ps) != 0 {
			t.Errorf("%s lists %d photos after the reset", a.name, len(ps))
		}
	}
	// Nothing comes back once the stack is quiet: no delete event
	// still on its way makes a tombstone after the catalog was
	// emptied.
	time.Sleep(5 * time.Second)
	if _, err := stack.Settle(ctx, c, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, dt := range [][2]string{{"monolith", "photos"}, {"monolith", "thumbnails"}, {"monolith_async", "photos"},
		{"monolith_async", "river_job"}, {stack.CatalogDatabase, "photos"}} {
		if n, err := stack.CountRows(ctx, c, dt[0], dt[1]); err != nil || n != 0 {
			t.Errorf("%s.%s: %d rows (%v), want 0", dt[0], dt[1], n, err)
		}
	}
	for _, b := range deploy.Buckets {
		if n, err := stack.CountObjects(ctx, c, b); err != nil || n != 0 {
			t.Errorf("bucket %s: %d objects (%v), want 0", b, n, err)
		}
	}
	for _, app := range []string{"monolith", "monolith-async"} {
		_, dir, _ := c.MonolithState(app)
		if files := filesUnder(t, dir); len(files) > 0 {
			t.Errorf("%s: files left in %s: %v", app, dir, files)
		}
	}
	for _, a := range apps {
		a.upload(t) // each takes new uploads
		if n := len(a.list(t)); n != 1 {
			t.Errorf("%s lists %d photos after one new upload, want 1", a.name, n)
		}
	}
}

// app is one of the stack's three apps as a user of its own sees it.
type app struct {
	name, base, token string
}

func appsOf(t *testing.T, c stack.Config) []app {
	t.Helper()
	iss, err := auth.NewIssuer([]byte(c.AuthSecret))
	if err != nil {
		t.Fatal(err)
	}
	var apps []app
	for _, a := range []struct{ name, svc string }{{"monolith", "monolith"}, {"monolith-async", "monolith-async"}, {"eventdriven", "front"}} {
		base, err := c.AppURL(a.svc)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := iss.Mint("ops-"+strings.ReplaceAll(a.name, "-", ""), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app{a.name, base, tok})
	}
	return apps
}

// upload sends a photo and waits until it is ready.
func (a app) upload(t *testing.T) {
	t.Helper()
	var p photo.Photo
	deadline := time.Now().Add(90 * time.Second)
	for { // a server just restarted may refuse a moment longer
		status, body := a.do(t, http.MethodPost, "/v1/photos", pngBytes(t))
		if status == http.StatusCreated || status == http.StatusAccepted {
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("%s: upload answer %s: %v", a.name, body, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: upload answered %d: %s", a.name, status, body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	waitFor(t, a.name+" photo "+p.ID+" ready", func() bool {
		status, body := a.do(t, http.MethodGet, "/v1/photos/"+p.ID, nil)
		var got photo.Photo
		return status == http.StatusOK && json.Unmarshal(body, &got) == nil && got.Status == photo.StatusReady
	})
}

// list is the user's photos (one page: the tests upload a few).
func (a app) list(t *testing.T) []photo.Photo {
	t.Helper()
	status, body := a.do(t, http.MethodGet, "/v1/photos?limit=100", nil)
	var page photo.Page
	if status != http.StatusOK || json.Unmarshal(body, &page) != nil {
		t.Fatalf("%s: list answered %d: %s", a.name, status, body)
	}
	return page.Photos
}

func (a app) do(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "image/png")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// pngBytes is a small PNG of its own each call (a gradient offset by the
// time), so that no two uploads are the same bytes.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	off := int(time.Now().UnixNano())
	for y := 0; y < 64; y++ {
		for x := 0; x < 96; x++ {
			img.Set(x, y, color.RGBA{uint8(x*2 + off), uint8(y*3 + off>>8), uint8(off >> 16), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// waitFor polls ok until it holds, for up to 90 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 90s", what)
		}
	}
}

// filesUnder lists the regular files under dir.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	return files
}
