package monolith_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
	"github.com/photobench/photobench/vision"
)

// The sweep removes files that no row points to once they are older than
// the grace period, and leaves a live photo's files and an orphan still
// within the grace period (an upload that may not have written its row
// yet), on both storages.
func TestSweepOrphans(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			a := newApp(t, appOptions{storage: storage})
			tok := token(t, "sweeper")
			resp, body := do(t, "POST", a.URL+"/v1/photos", tok, synth.JPEG(synth.Options{Seed: 71, Width: 320, Height: 240}))
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			live := a.Stored(t)

			const grace = 3 * time.Second
			stale := writePhotoFiles(t, a, "sweeper", photo.NewID())
			time.Sleep(grace + time.Second)
			fresh := writePhotoFiles(t, a, "sweeper", photo.NewID())

			n, err := a.Service.SweepOrphans(context.Background(), grace)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(stale) {
				t.Errorf("removed %d files, want the %d of the stale orphan", n, len(stale))
			}
			want := slices.Sorted(slices.Values(append(slices.Clone(live), fresh...)))
			if got := slices.Sorted(slices.Values(a.Stored(t))); !slices.Equal(got, want) {
				t.Errorf("stored after the sweep:\n %v\nwant the live photo's and the fresh orphan's:\n %v", got, want)
			}
			if got := metric(t, a.Metrics, "photobench_monolith_orphans_removed_total", "", ""); got != float64(len(stale)) {
				t.Errorf("photobench_monolith_orphans_removed_total = %v, want %d", got, len(stale))
			}
		})
	}
}

// writePhotoFiles writes an original and both thumbnails of photo id, with
// no row, as an upload killed before its insert leaves them; it returns
// their paths.
func writePhotoFiles(t *testing.T, a *app, owner, id string) []string {
	t.Helper()
	orig, err := a.Files.OriginalPath(owner, id)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{orig}
	for _, size := range photo.Sizes {
		p, err := a.Files.ThumbnailPath(owner, id, size)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := a.Files.Write(p, []byte("bytes of "+id), true); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// The monolith killed with SIGKILL between writing an upload's files and
// inserting its row leaves files no row points to; after a restart the
// sweep removes them, and a photo that was ready keeps its files.
func TestCrashBeforeInsertLeavesNoOrphans(t *testing.T) {
	env := stacktest.Load(t)
	bin := buildPhotobench(t)
	// A slow vision service: the upload has written its original and
	// thumbnails and waits for vision when the kill comes.
	remote, err := vision.NewRemote(vision.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	vsrv := httptest.NewServer(vision.NewServer(slog.New(slog.DiscardHandler), remote, vision.NewMetrics(prometheus.NewRegistry())))
	t.Cleanup(vsrv.Close)
	dsn := storetest.FreshDatabase(t, env.PGDSN, "pbtest_monolith_orphans_")
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--pg-dsn", dsn, "--vision-url", vsrv.URL, "--orphan-grace", "2s", "--sweep-every", "500ms"}

	cmd, base := startMonolith(t, bin, args...)
	tok := token(t, "crash")
	resp, body := do(t, "POST", base+"/v1/photos", tok, synth.JPEG(synth.Options{Seed: 72, Width: 640, Height: 480}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	live := files(t, dir)
	if len(live) != 3 {
		t.Fatalf("stored after one upload: %v, want 3 files", live)
	}

	setProfile(t, remote, vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 60_000}})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("POST", base+"/v1/photos", bytes.NewReader(synth.PNG(synth.Options{Seed: 73, Width: 500, Height: 400})))
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, "the second upload's files written", 30*time.Second, func() (bool, string) {
		fs := files(t, dir)
		return len(fs) == 6, fmt.Sprint(fs)
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()
	setProfile(t, remote, vision.Profile{})
	var rows int
	if err := queryRow(dsn, `SELECT count(*) FROM photos`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("rows after the kill: %d, %v; want 1, the first photo's", rows, err)
	}
	t.Logf("killed the monolith with files of an upload and no row: %v", files(t, dir))

	_, base = startMonolith(t, bin, args...)
	eventually(t, "the orphans swept", 60*time.Second, func() (bool, string) {
		fs := files(t, dir)
		return slices.Equal(fs, live), fmt.Sprint(fs)
	})
	for _, p := range live {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the ready photo's file %s: %v", filepath.Base(p), err)
		}
	}
	resp, body = do(t, "GET", base+"/v1/photos", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("list after the restart: %d %s", resp.StatusCode, body)
	}
}
