package target_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/target"
	"github.com/photobench/photobench/internal/stack"
)

const good = `name: kind
prometheus: http://127.0.0.1:9090
app_set: stack
variants:
  monolith: http://127.0.0.1:18080
  eventdriven: https://photos.example.internal
vision: none
restart:
  kafka: [kubectl, -n, photobench, rollout, restart, statefulset/kafka]
  postgres: none
metrics:
  listen: 0.0.0.0:9464
  advertise: bench.photobench:9464
`

func TestParseReadsEveryField(t *testing.T) {
	tg, err := target.Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := &target.Target{Name: "kind", Prometheus: "http://127.0.0.1:9090", AppSet: "stack",
		Variants: map[string]string{"monolith": "http://127.0.0.1:18080", "eventdriven": "https://photos.example.internal"},
		Vision:   target.None,
		Restart:  map[string]target.Hook{"kafka": {"kubectl", "-n", "photobench", "rollout", "restart", "statefulset/kafka"}, "postgres": nil},
		Metrics:  target.Metrics{Listen: "0.0.0.0:9464", Advertise: "bench.photobench:9464"}}
	if !reflect.DeepEqual(tg, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", tg, want)
	}
	if got := tg.Restart["postgres"].String(); got != "none" {
		t.Errorf("postgres hook %q, want none", got)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ name, edit, want, err string }{
		{"unknown field", "name: kind\n", "name: kind\nregion: eu\n", "field region not found"},
		{"no name", "name: kind\n", "name: \"\"\n", "name: empty"},
		{"prometheus not a URL", "prometheus: http://127.0.0.1:9090", "prometheus: 127.0.0.1:9090", "prometheus: want an http(s) URL"},
		{"unknown architecture", "  monolith: http", "  lambda: http", `unknown architecture "lambda"`},
		{"variant not a URL", "  monolith: http://127.0.0.1:18080", "  monolith: ftp://127.0.0.1:18080", "variants.monolith: want an http(s) URL"},
		{"vision neither URL nor none", "vision: none", "vision: off", "vision: want an http(s) URL"},
		{"hook a string", "  postgres: none", "  postgres: systemctl restart postgresql", "want a command as a list"},
		{"empty hook", "  postgres: none", "  postgres: []", "empty command"},
		{"unknown server", "  postgres: none", "  minio: none", `unknown server "minio"`},
		{"listen not host:port", "listen: 0.0.0.0:9464", "listen: 9464", "metrics.listen: want host:port"},
		{"nowhere to register", "  advertise: bench.photobench:9464\n", "", "metrics: give file_sd"},
		{"every interface without advertise", "  advertise: bench.photobench:9464\n", "  file_sd: /tmp/targets\n", "every interface"},
		{"advertise with a random port", "listen: 0.0.0.0:9464", "listen: 0.0.0.0:0", "picks a port at random"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(good, c.edit, c.want, 1)
			if in == good {
				t.Fatalf("edit %q did not apply", c.edit)
			}
			if tg, err := target.Parse([]byte(in)); err == nil {
				t.Fatalf("accepted %+v", tg)
			} else if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q: want one line containing %q", err, c.err)
			}
		})
	}
}

// The local stack written as a target file and read back is the same
// description: what the agreement test in package bench relies on.
func TestLocalRoundTrips(t *testing.T) {
	c, err := stack.LoadConfig(func(string) string { return "" }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.AppBinary = "/opt/photobench/bin/photobench"
	local := target.Local(c)
	if local.Variants["monolith"] == "" || local.Variants["monolith-async"] == "" || local.Variants["eventdriven"] == "" || local.Vision == "" {
		t.Fatalf("local target lacks a URL: %+v", local)
	}
	if got := local.Restart["kafka"].String(); got != "/opt/photobench/bin/photobench stack restart kafka" {
		t.Errorf("kafka restart %q", got)
	}
	data, err := local.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "local.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := target.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, local) {
		t.Fatalf("read back\n%+v\nwant\n%+v", back, local)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := target.Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name %s", err, path)
	}
}

// Every target file the repository ships parses.
func TestShippedTargetFilesParse(t *testing.T) {
	root := filepath.Join("..", "..")
	files := []string{filepath.Join(root, "deploy", "k8s", "target-dev.yaml")}
	if extra, err := filepath.Glob(filepath.Join(root, "compose", "target*.yaml")); err == nil {
		files = append(files, extra...)
	}
	for _, f := range files {
		if _, err := target.Load(f); err != nil {
			t.Error(err)
		}
	}
}
