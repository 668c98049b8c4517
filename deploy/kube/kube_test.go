package kube_test

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/photobench/photobench/deploy/kube"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/platform"
	"github.com/photobench/photobench/internal/stack"
)

var update = flag.Bool("update", false, "rewrite the generated manifests under deploy/k8s")

const (
	functionsYAML = "../../eventdriven/deploy/functions.yaml"
	k8sDir        = "../k8s"
	baseDir       = k8sDir + "/base"
)

// generated returns what deploy/k8s's generated files must hold, by path
// relative to deploy/k8s.
func generated(t *testing.T) map[string][]byte {
	t.Helper()
	cfg, err := platform.LoadConfig(functionsYAML)
	if err != nil {
		t.Fatal(err)
	}
	base, err := kube.Base(cfg, kube.Image, kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for name, b := range base {
		files["base/"+name] = b
	}
	sc, err := kube.ScrapeConfig(kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	files[kube.ScrapeConfigFile] = sc
	pm, err := kube.PodMonitor(kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	files[kube.PodMonitorFile] = pm
	return files
}

// TestManifests holds the generated files under deploy/k8s (base/ and the
// scrape configuration) to what deploy/kube generates now;
// `go test ./deploy/kube -run Manifests -args -update` rewrites them.
func TestManifests(t *testing.T) {
	files := generated(t)
	if *update {
		old, _ := filepath.Glob(filepath.Join(baseDir, "*.yaml"))
		for _, p := range old {
			if _, ok := files["base/"+filepath.Base(p)]; !ok {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, b := range files {
			p := filepath.Join(k8sDir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	onDisk, err := filepath.Glob(filepath.Join(baseDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk = append(onDisk, filepath.Join(k8sDir, kube.ScrapeConfigFile), filepath.Join(k8sDir, kube.PodMonitorFile))
	for _, p := range onDisk {
		rel, _ := filepath.Rel(k8sDir, p)
		b, err := os.ReadFile(p)
		want, ok := files[rel]
		switch {
		case err != nil:
			t.Errorf("%v; run: go test ./deploy/kube -run Manifests -args -update", err)
		case !ok:
			t.Errorf("%s: not generated any more; remove it (-update does)", rel)
		case !bytes.Equal(b, want):
			t.Errorf("%s differs from what deploy/kube generates; run: go test ./deploy/kube -run Manifests -args -update", rel)
		}
		delete(files, rel)
	}
	for name := range files {
		t.Errorf("%s is missing under deploy/k8s; run: go test ./deploy/kube -run Manifests -args -update", name)
	}
}

// TestManifestsDecodeStrictly decodes every file under deploy/k8s,
// generated or written by hand, strictly: kustomization.yaml files into
// kustomize's Kustomization, the plain Prometheus scrape configuration by
// its own check, and every other YAML file document by document into the
// Go type of its kind. A YAML file none of these covers fails.
func TestManifestsDecodeStrictly(t *testing.T) {
	var paths []string
	err := filepath.WalkDir(k8sDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 10 {
		t.Fatalf("only %d YAML files under %s", len(paths), k8sDir)
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(k8sDir, p)
		t.Run(rel, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case filepath.Base(p) == "kustomization.yaml":
				if _, err := decodeKustomization(b); err != nil {
					t.Fatal(err)
				}
			case rel == kube.ScrapeConfigFile:
				if err := checkScrapeConfig(b); err != nil {
					t.Fatal(err)
				}
			case rel == "target-dev.yaml":
				// The bench's target file, not a manifest: package
				// bench/target reads it.
			default:
				objs, err := decodeManifests(t.Context(), b)
				if err != nil {
					t.Fatal(err)
				}
				if len(objs) == 0 {
					t.Fatal("no objects")
				}
			}
		})
	}
}

// decodeKustomization decodes a kustomization.yaml strictly into
// kustomize's own type.
func decodeKustomization(b []byte) (*types.Kustomization, error) {
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		return nil, err
	}
	var k types.Kustomization
	strict, err := kjson.UnmarshalStrict(j, &k, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, strict[0]
	}
	if k.Kind != types.KustomizationKind || k.APIVersion != types.KustomizationVersion {
		return nil, &kindError{k.APIVersion + " " + k.Kind}
	}
	return &k, nil
}

type kindError struct{ got string }

func (e *kindError) Error() string {
	return "not a " + types.KustomizationVersion + " Kustomization: " + e.got
}

// scrapeConfig is the part of Prometheus's configuration file the snippet
// uses, with Prometheus's field names.
type scrapeConfig struct {
	ScrapeConfigs []struct {
		JobName             string `json:"job_name"`
		ScrapeInterval      string `json:"scrape_interval,omitempty"`
		ScrapeTimeout       string `json:"scrape_timeout,omitempty"`
		KubernetesSDConfigs []struct {
			Role       string `json:"role"`
			Namespaces struct {
				Names []string `json:"names"`
			} `json:"namespaces"`
		} `json:"kubernetes_sd_configs,omitempty"`
		StaticConfigs []struct {
			Targets []string          `json:"targets"`
			Labels  map[string]string `json:"labels"`
		} `json:"static_configs,omitempty"`
		RelabelConfigs []struct {
			SourceLabels []string `json:"source_labels,omitempty"`
			Regex        string   `json:"regex,omitempty"`
			TargetLabel  string   `json:"target_label,omitempty"`
			Replacement  string   `json:"replacement,omitempty"`
			Action       string   `json:"action"`
		} `json:"relabel_configs"`
	} `json:"scrape_configs"`
}

// checkScrapeConfig decodes the plain Prometheus snippet strictly into
// scrapeConfig and checks its relabelling rules as Prometheus would
// (Prometheus's Go loader is not in this module's graph: its module would
// move the k8s.io pins; TestScrapeConfigLoadsInPrometheus runs the
// binary's).
func checkScrapeConfig(b []byte) error {
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		return err
	}
	var c scrapeConfig
	strict, err := kjson.UnmarshalStrict(j, &c, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return strict[0]
	}
	for _, sc := range c.ScrapeConfigs {
		for _, r := range sc.RelabelConfigs {
			if err := checkRelabel(r.Action, r.Regex, r.TargetLabel); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestOverlaysBuild builds each overlay with kustomize's own Go API (what
// `kubectl apply -k` runs) and decodes every object of the result
// strictly; the app's containers all run the overlay's image.
func TestOverlaysBuild(t *testing.T) {
	for _, tt := range []struct{ overlay, image string }{
		{"dev", "photobench:dev"},
		{"cloud", "registry.example.com/team/photobench:v1"},
	} {
		t.Run(tt.overlay, func(t *testing.T) {
			objs := build(t, filepath.Join(k8sDir, "overlays", tt.overlay))
			if len(objs) < 20 {
				t.Fatalf("%d objects, want the app and more", len(objs))
			}
			// Every app container, Knative's included, runs the
			// overlay's image (kustomize's images transformer).
			var apps int
			for _, o := range objs {
				for _, img := range images(o) {
					if strings.Contains(img, "photobench") {
						apps++
						if img != tt.image {
							t.Errorf("%s %s: image %q, want %q", o["kind"], name(o), img, tt.image)
						}
					}
				}
			}
			if apps < 10 {
				t.Errorf("%d app containers, want one per app", apps)
			}
		})
	}
}

func name(o map[string]any) string {
	m, _ := o["metadata"].(map[string]any)
	n, _ := m["name"].(string)
	return n
}

// images returns every containers[].image and initContainers[].image in o.
func images(o any) []string {
	var out []string
	switch v := o.(type) {
	case map[string]any:
		for k, e := range v {
			if cs, ok := e.([]any); ok && (k == "containers" || k == "initContainers") {
				for _, c := range cs {
					if cm, ok := c.(map[string]any); ok {
						if img, ok := cm["image"].(string); ok {
							out = append(out, img)
						}
					}
				}
				continue
			}
			out = append(out, images(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, images(e)...)
		}
	}
	return out
}

// TestDevOverlayMatchesTheStack holds the dev overlay's hand-written init
// Job and MinIO to the facts typed once: the topics and buckets of package
// deploy, the stack's partition count and MinIO's notification target.
func TestDevOverlayMatchesTheStack(t *testing.T) {
	objs := build(t, filepath.Join(k8sDir, "overlays", "dev"))
	env := map[string]string{}
	for _, o := range objs {
		collectEnv(o, env)
	}
	// The stack's topics with its default partition count.
	sc, err := stack.LoadConfig(func(string) string { return "" }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, tp := range sc.Topics() {
		topics = append(topics, fmt.Sprintf("%s:%d", tp.Name, tp.Partitions))
	}
	if got := strings.Fields(env["PHOTOBENCH_TOPICS"]); !slices.Equal(got, topics) {
		t.Errorf("init Job topics %q, want %q", got, topics)
	}
	if got := strings.Fields(env["PHOTOBENCH_BUCKETS"]); !slices.Equal(got, deploy.Buckets) {
		t.Errorf("init Job buckets %q, want %q", got, deploy.Buckets)
	}
	want := map[string]string{
		"PHOTOBENCH_NOTIFY_BUCKET":                              deploy.BucketOriginals,
		"PHOTOBENCH_NOTIFY_ARN":                                 stack.NotifyARN().String(),
		"MINIO_NOTIFY_KAFKA_ENABLE_" + stack.MinIONotifyTarget:  "on",
		"MINIO_NOTIFY_KAFKA_TOPIC_" + stack.MinIONotifyTarget:   deploy.TopicObjects,
		"MINIO_NOTIFY_KAFKA_BROKERS_" + stack.MinIONotifyTarget: platform.KafkaBootstrap,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

// collectEnv gathers every env entry with a literal value in o.
func collectEnv(o any, into map[string]string) {
	switch v := o.(type) {
	case map[string]any:
		if es, ok := v["env"].([]any); ok {
			for _, e := range es {
				if em, ok := e.(map[string]any); ok {
					if val, ok := em["value"].(string); ok {
						into[em["name"].(string)] = val
					}
				}
			}
		}
		for _, e := range v {
			collectEnv(e, into)
		}
	case []any:
		for _, e := range v {
			collectEnv(e, into)
		}
	}
}

// build runs kustomize on dir and decodes its output strictly.
func build(t *testing.T, dir string) []map[string]any {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeManifests(t.Context(), out); err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []map[string]any
	for _, r := range rm.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, m)
	}
	return objs
}

// TestKustomizationRejects shows the Kustomization decoder failing on a
// misspelled field and a value of the wrong type.
func TestKustomizationRejects(t *testing.T) {
	const good = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\n"
	for _, tt := range []struct{ name, doc, wantErr string }{
		{"well-formed", good, ""},
		{"misspelled field", strings.Replace(good, "resources:", "resource:", 1), `unknown field "resource"`},
		{"wrong type", strings.Replace(good, "[../../base]", "../../base", 1), "cannot unmarshal string"},
		{"not a Kustomization", strings.Replace(good, "kind: Kustomization", "kind: Component", 1), "not a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeKustomization([]byte(tt.doc))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestScrapeConfigRejects shows the snippet's check failing.
func TestScrapeConfigRejects(t *testing.T) {
	good, err := kube.ScrapeConfig(kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, doc, wantErr string }{
		{"generated", string(good), ""},
		{"misspelled field", strings.Replace(string(good), "target_label:", "targetLabel:", 1), `unknown field`},
		{"bad regex", strings.Replace(string(good), "regex: .+", "regex: (.+", 1), "regex"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkScrapeConfig([]byte(tt.doc))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestReadmeBenchSecret holds deploy/README.md's bench command to the dev
// overlay's secret: the bench signs its users' tokens with
// PHOTOBENCH_AUTH_SECRET from its environment, which must be the apps'.
func TestReadmeBenchSecret(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(k8sDir, "overlays", "dev", "secret.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	secret := s.StringData["PHOTOBENCH_AUTH_SECRET"]
	if secret == "" {
		t.Fatal("overlays/dev/secret.yaml sets no PHOTOBENCH_AUTH_SECRET")
	}
	readme, err := os.ReadFile(filepath.Join(k8sDir, "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "PHOTOBENCH_AUTH_SECRET=" + secret + " photobench bench --target deploy/k8s/target-dev.yaml"
	if !strings.Contains(string(readme), want) {
		t.Errorf("deploy/README.md does not show %q", want)
	}
}
