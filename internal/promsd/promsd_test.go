package promsd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stacktest"
)

func TestRegisterWritesFileSDAndUnregisterRemovesIt(t *testing.T) {
	dir := t.TempDir()
	unregister, err := promsd.Register(dir, promsd.Target{
		Name: "monolith-1", Addr: "127.0.0.1:8080",
		Labels: map[string]string{"component": "monolith"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "monolith-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(b, &groups); err != nil {
		t.Fatalf("not file_sd JSON: %v\n%s", err, b)
	}
	if len(groups) != 1 || len(groups[0].Targets) != 1 || groups[0].Targets[0] != "127.0.0.1:8080" || groups[0].Labels["component"] != "monolith" {
		t.Fatalf("unexpected content: %s", b)
	}
	if err := unregister(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "monolith-1.json")); !os.IsNotExist(err) {
		t.Fatalf("file still there after unregister (stat err %v)", err)
	}
	if err := unregister(); err != nil {
		t.Fatalf("second unregister: %v", err)
	}
}

func TestRegisterRejectsBadInput(t *testing.T) {
	tests := map[string]promsd.Target{
		"empty name":       {Name: "", Addr: "127.0.0.1:1"},
		"path in name":     {Name: "../escape", Addr: "127.0.0.1:1"},
		"empty address":    {Name: "x", Addr: ""},
		"slash inside too": {Name: "a/b", Addr: "127.0.0.1:1"},
	}
	for name, tgt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := promsd.Register(dir, tgt); err == nil {
				t.Fatal("accepted, want an error")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("left %d files behind", len(entries))
			}
		})
	}
}

// Against the stack's Prometheus: a registered target is scraped within the
// discovery delay, and WaitScraped says so; an address nobody registered is
// never scraped, and WaitScraped gives up with ctx.
func TestWaitScrapedAgainstTheStacksPrometheus(t *testing.T) {
	env := stacktest.Load(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE photobench_promsd_test_up gauge")
		fmt.Fprintln(w, "photobench_promsd_test_up 1")
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	start := time.Now()
	unregister, err := promsd.Register(env.SDDir, promsd.Target{Name: fmt.Sprintf("promsd-test-%d", os.Getpid()), Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer unregister()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := promsd.WaitScraped(ctx, env.PrometheusURL, addr, start); err != nil {
		t.Fatal(err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := promsd.WaitScraped(ctx, env.PrometheusURL, "127.0.0.1:1", start); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unregistered address: err = %v, want the deadline", err)
	}
}

func TestLoadsNamesOtherLiveLoads(t *testing.T) {
	dir := t.TempDir()
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		fmt.Sprintf("bench-%d", other.Process.Pid),    // counts
		fmt.Sprintf("live-%d", other.Process.Pid),     // counts
		fmt.Sprintf("live-%d", os.Getpid()),           // this process's own
		fmt.Sprintf("demo-%d", gone.Process.Pid),      // ended
		fmt.Sprintf("monolith-%d", other.Process.Pid), // an app, not a load
	} {
		if _, err := promsd.Register(dir, promsd.Target{Name: name, Addr: "127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
	}
	got := promsd.Loads(dir, os.Getpid())
	want := []string{fmt.Sprintf("bench pid %d", other.Process.Pid), fmt.Sprintf("live pid %d", other.Process.Pid)}
	if !slices.Equal(got, want) {
		t.Errorf("Loads = %q, want %q", got, want)
	}
	if got := promsd.Loads("", os.Getpid()); got != nil {
		t.Errorf("no directory: Loads = %q, want none", got)
	}
}
