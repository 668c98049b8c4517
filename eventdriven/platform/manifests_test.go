package platform_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/platform"
	"github.com/photobench/photobench/eventdriven/s3store"
)

const (
	functionsYAML = "../deploy/functions.yaml"
	k8sImage      = "photobench/photobench:dev"
	k8sNamespace  = "photobench"
)

// k8sDoc is what the test reads back of a generated object: the fields the
// configuration decides.
type k8sDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		// ScaledObject
		ScaleTargetRef struct {
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicaCount *int `yaml:"minReplicaCount"`
		Advanced        struct {
			HorizontalPodAutoscalerConfig struct {
				Behavior struct {
					ScaleDown struct {
						StabilizationWindowSeconds *int `yaml:"stabilizationWindowSeconds"`
					} `yaml:"scaleDown"`
				} `yaml:"behavior"`
			} `yaml:"horizontalPodAutoscalerConfig"`
		} `yaml:"advanced"`
		MaxReplicaCount *int `yaml:"maxReplicaCount"`
		PollingInterval *int `yaml:"pollingInterval"`
		CooldownPeriod  *int `yaml:"cooldownPeriod"`
		Triggers        []struct {
			Type     string            `yaml:"type"`
			Metadata map[string]string `yaml:"metadata"`
		} `yaml:"triggers"`
		// Deployment and Knative Service
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Image   string   `yaml:"image"`
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Env     []struct {
						Name      string `yaml:"name"`
						ValueFrom struct {
							SecretKeyRef *struct {
								Name     string `yaml:"name"`
								Key      string `yaml:"key"`
								Optional *bool  `yaml:"optional"`
							} `yaml:"secretKeyRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}

func parseDocs(t *testing.T, name string, b []byte) []k8sDoc {
	t.Helper()
	var docs []k8sDoc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d k8sDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: parse: %v", name, err)
		}
		docs = append(docs, d)
	}
}

// generateManifests returns functions.yaml and the manifests Manifests
// generates from it.
func generateManifests(t *testing.T) (platform.Config, map[string][]byte) {
	t.Helper()
	cfg, err := platform.LoadConfig(functionsYAML)
	if err != nil {
		t.Fatal(err)
	}
	files, err := platform.Manifests(cfg, k8sImage, k8sNamespace)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, files
}

func ceilSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// TestManifestsMatchConfig checks the Kubernetes manifests against the
// runtime's configuration, field by field: one scaler per function with the
// same numbers and stabilisation settings. deploy/kube's tests hold the
// files under deploy/k8s/base to what Manifests generates.
func TestManifestsMatchConfig(t *testing.T) {
	cfg, files := generateManifests(t)

	t.Run("one scaler per function with the config's numbers", func(t *testing.T) {
		scalers := map[string][]k8sDoc{}     // function -> ScaledObjects and Knative Services
		deployments := map[string][]k8sDoc{} // function -> Deployments
		var autoscalerCM []k8sDoc
		for name, b := range files {
			for _, d := range parseDocs(t, name, b) {
				switch {
				case d.Kind == "ScaledObject" && d.APIVersion == "keda.sh/v1alpha1",
					d.Kind == "Service" && d.APIVersion == "serving.knative.dev/v1":
					scalers[d.Metadata.Name] = append(scalers[d.Metadata.Name], d)
				case d.Kind == "Deployment":
					deployments[d.Metadata.Name] = append(deployments[d.Metadata.Name], d)
				case d.Kind == "ConfigMap" && d.Metadata.Name == "config-autoscaler":
					autoscalerCM = append(autoscalerCM, d)
				}
				if d.Metadata.Namespace == "" {
					t.Errorf("%s: %s %s has no namespace", name, d.Kind, d.Metadata.Name)
				}
			}
		}
		var maxGrace time.Duration
		for _, f := range cfg.Functions {
			got := scalers[f.Name]
			delete(scalers, f.Name)
			if len(got) != 1 {
				t.Errorf("%s: %d scalers, want 1", f.Name, len(got))
				continue
			}
			d := got[0]
			switch f.Kind {
			case platform.KindEvent:
				checkScaledObject(t, f, d)
				if deps := deployments[f.Name]; len(deps) != 1 {
					t.Errorf("%s: %d Deployments, want 1", f.Name, len(deps))
				} else {
					checkContainer(t, f, deps[0])
				}
			case platform.KindHTTP:
				maxGrace = max(maxGrace, f.ScaleToZeroGracePeriod.Duration)
				checkKnativeService(t, f, d)
				checkContainer(t, f, d)
			}
		}
		for name := range scalers {
			t.Errorf("scaler %s: no such function in %s", name, functionsYAML)
		}
		if maxGrace > 0 {
			if len(autoscalerCM) != 1 {
				t.Fatalf("%d config-autoscaler ConfigMaps, want 1", len(autoscalerCM))
			}
			if got := autoscalerCM[0].Data["scale-to-zero-grace-period"]; got != maxGrace.String() {
				t.Errorf("scale-to-zero-grace-period = %q, want %q", got, maxGrace)
			}
		}
	})

	// The ConfigMap's MinIO endpoint is one the functions' store accepts
	// (its own check, s3store.New).
	t.Run("the ConfigMap's S3 endpoint passes the store's check", func(t *testing.T) {
		docs := parseDocs(t, platform.EnvFile, files[platform.EnvFile])
		if len(docs) != 1 || docs[0].Kind != "ConfigMap" {
			t.Fatalf("%s: %+v, want one ConfigMap", platform.EnvFile, docs)
		}
		endpoint := docs[0].Data["PHOTOBENCH_S3_ENDPOINT"]
		if _, err := s3store.New(endpoint, "access", "secret", nil); err != nil {
			t.Errorf("PHOTOBENCH_S3_ENDPOINT %q: %v", endpoint, err)
		}
	})

	// The files under deploy/k8s/base are compared with what this
	// generates by deploy/kube's tests (go test ./deploy/kube -run
	// Manifests -args -update rewrites them).
}

func checkScaledObject(t *testing.T, f platform.FunctionConfig, d k8sDoc) {
	t.Helper()
	s := d.Spec
	if s.ScaleTargetRef.Name != f.Name {
		t.Errorf("%s: scaleTargetRef %q", f.Name, s.ScaleTargetRef.Name)
	}
	intEq := func(field string, got *int, want int) {
		if got == nil || *got != want {
			t.Errorf("%s: %s = %v, want %d", f.Name, field, deref(got), want)
		}
	}
	intEq("minReplicaCount", s.MinReplicaCount, f.MinReplicaCount)
	intEq("maxReplicaCount", s.MaxReplicaCount, f.MaxReplicaCount)
	intEq("pollingInterval", s.PollingInterval, ceilSeconds(f.PollingInterval.Duration))
	intEq("cooldownPeriod", s.CooldownPeriod, ceilSeconds(f.CooldownPeriod.Duration))
	intEq("advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds",
		s.Advanced.HorizontalPodAutoscalerConfig.Behavior.ScaleDown.StabilizationWindowSeconds, ceilSeconds(f.ScaleDownStabilizationWindow.Duration))
	var topics []string
	for _, tr := range s.Triggers {
		if tr.Type != "kafka" {
			t.Errorf("%s: trigger type %q, want kafka", f.Name, tr.Type)
		}
		m := tr.Metadata
		want := map[string]string{
			"bootstrapServersFromEnv": platform.EnvKafkaBrokers,
			"consumerGroup":           f.Group,
			"lagThreshold":            strconv.FormatInt(f.LagThreshold, 10),
			"activationLagThreshold":  strconv.FormatInt(f.ActivationLagThreshold, 10),
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: trigger %s = %q, want %q", f.Name, k, m[k], v)
			}
		}
		topics = append(topics, m["topic"])
	}
	if !slices.Equal(topics, f.Topics) {
		t.Errorf("%s: trigger topics %q, want %q (one trigger per topic)", f.Name, topics, f.Topics)
	}
}

func checkKnativeService(t *testing.T, f platform.FunctionConfig, d k8sDoc) {
	t.Helper()
	ann := d.Spec.Template.Metadata.Annotations
	atoi := func(k string) int {
		n, err := strconv.Atoi(ann[k])
		if err != nil {
			t.Errorf("%s: annotation %s: %v", f.Name, k, err)
		}
		return n
	}
	for _, c := range []struct {
		key       string
		got, want int
	}{
		{"autoscaling.knative.dev/min-scale", atoi("autoscaling.knative.dev/min-scale"), f.MinScale},
		{"autoscaling.knative.dev/max-scale", atoi("autoscaling.knative.dev/max-scale"), f.MaxScale},
		{"autoscaling.knative.dev/target", atoi("autoscaling.knative.dev/target"), f.ContainerConcurrency},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s = %d, want %d", f.Name, c.key, c.got, c.want)
		}
	}
	if u, err := strconv.ParseFloat(ann["autoscaling.knative.dev/target-utilization-percentage"], 64); err != nil || u != f.TargetUtilization {
		t.Errorf("%s: target-utilization-percentage %q, want %v", f.Name, ann["autoscaling.knative.dev/target-utilization-percentage"], f.TargetUtilization)
	}
	for key, want := range map[string]time.Duration{
		"autoscaling.knative.dev/window":           f.StableWindow.Duration,
		"autoscaling.knative.dev/scale-down-delay": f.ScaleDownDelay.Duration,
	} {
		if got, err := time.ParseDuration(ann[key]); err != nil || got != want {
			t.Errorf("%s: %s %q, want %v", f.Name, key, ann[key], want)
		}
	}
}

func checkContainer(t *testing.T, f platform.FunctionConfig, d k8sDoc) {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%s %s: %d containers, want 1", d.Kind, f.Name, len(cs))
	}
	c := cs[0]
	// The image's entrypoint is the photobench binary (deploy/oci): a
	// command would replace it.
	if c.Image != k8sImage || c.Command != nil || len(c.Args) < 2 || c.Args[0] != "fn" || c.Args[1] != f.Name {
		t.Errorf("%s %s: image %q, command %q, args %q; want %s with args fn %s", d.Kind, f.Name, c.Image, c.Command, c.Args, k8sImage, f.Name)
	}
	if i := slices.Index(c.Args, "--addr"); i < 0 || i+1 == len(c.Args) || c.Args[i+1] != "0.0.0.0:"+strconv.Itoa(platform.ContainerPort) {
		t.Errorf("%s %s: args %q, want an explicit --addr 0.0.0.0:%d", d.Kind, f.Name, c.Args, platform.ContainerPort)
	}
	if f.Kind != platform.KindHTTP {
		return
	}
	// The HTTP functions verify tokens on every interface: the secret is a
	// required key of the Secret, never the public default.
	for _, e := range c.Env {
		if e.Name != auth.EnvSecret {
			continue
		}
		if r := e.ValueFrom.SecretKeyRef; r == nil || r.Name != platform.EnvName || r.Key != auth.EnvSecret || (r.Optional != nil && *r.Optional) {
			t.Errorf("%s %s: %s from %+v, want the required key %s of Secret %s", d.Kind, f.Name, auth.EnvSecret, r, auth.EnvSecret, platform.EnvName)
		}
		return
	}
	t.Errorf("%s %s: no %s from the Secret by key", d.Kind, f.Name, auth.EnvSecret)
}

func TestManifests(t *testing.T) {
	cfg, err := platform.ParseConfig([]byte(`
functions:
  - {name: catalog, kind: event, group: catalog-g, topics: [a, b, c], pollingInterval: 1500ms, cooldownPeriod: 30s}
  - {name: query, kind: http, addr: "127.0.0.1:1", scaleToZeroGracePeriod: 45s}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		image, ns string
		wantErr   bool
		wantFiles []string
	}{
		{name: "event and http", image: "img", ns: "ns", wantFiles: []string{"catalog.yaml", "front.yaml", "knative-config-autoscaler.yaml", "photobench-env.yaml", "query.yaml"}},
		{name: "no image", ns: "ns", wantErr: true},
		{name: "no namespace", image: "img", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := platform.Manifests(cfg, tt.image, tt.ns)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var names []string
			for n := range files {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.wantFiles) {
				t.Errorf("files %q, want %q", names, tt.wantFiles)
			}
			if tt.wantErr {
				return
			}
			docs := parseDocs(t, "catalog.yaml", files["catalog.yaml"])
			if len(docs) != 2 || docs[0].Kind != "Deployment" || docs[1].Kind != "ScaledObject" {
				t.Fatalf("catalog.yaml: want a Deployment and a ScaledObject, got %+v", docs)
			}
			so := docs[1].Spec
			if len(so.Triggers) != 3 || *so.PollingInterval != 2 || *so.CooldownPeriod != 30 {
				t.Errorf("catalog ScaledObject: %d triggers, pollingInterval %d, cooldownPeriod %d; want 3, 2 (rounded up), 30",
					len(so.Triggers), *so.PollingInterval, *so.CooldownPeriod)
			}
			cm := parseDocs(t, "knative-config-autoscaler.yaml", files["knative-config-autoscaler.yaml"])
			if len(cm) != 1 || cm[0].Data["scale-to-zero-grace-period"] != "45s" {
				t.Errorf("config-autoscaler: %+v, want scale-to-zero-grace-period 45s", cm)
			}
		})
	}
}

// deref is *p, or "missing" for nil.
func deref(p *int) any {
	if p == nil {
		return "missing"
	}
	return *p
}
