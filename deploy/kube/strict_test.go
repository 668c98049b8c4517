package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/photobench/photobench/deploy/kube"
	"github.com/photobench/photobench/internal/stack"
)

// checkRelabel is Prometheus's own check of a relabelling rule that can
// be made without Prometheus: a known action, an RE2 regex that compiles,
// and a target label for the actions that write one.
func checkRelabel(action, regex, target string) error {
	switch strings.ToLower(action) {
	case "", "replace", "lowercase", "uppercase", "hashmod":
		if target == "" {
			return fmt.Errorf("action %q needs a targetLabel", action)
		}
	case "keep", "drop", "keepequal", "dropequal", "labelmap", "labeldrop", "labelkeep":
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	if _, err := regexp.Compile("^(?s:" + regex + ")$"); err != nil {
		return fmt.Errorf("regex %q: %w", regex, err)
	}
	return nil
}

// The strict decoding of Kubernetes manifests: every document of a YAML
// stream is converted to JSON and decoded into the Go type its apiVersion
// and kind name, taken from the projects' own modules (k8s.io/api, KEDA's
// apis/keda/v1alpha1, Knative Serving's pkg/apis/serving/v1) at the
// versions go.mod pins. A field the type does not have, a field spelt in
// the wrong case, a duplicate key, a value of the wrong type or a kind
// missing from manifestKinds is an error; then the type's own offline
// validation runs where the module has one.

// manifestKind is how one apiVersion/kind is decoded and checked.
type manifestKind struct {
	// new returns an empty object of the kind's Go type.
	new func() metav1.Object
	// validate is the kind's own validation beyond decoding (nil: none).
	validate func(ctx context.Context, obj metav1.Object) error
	// clusterScoped kinds have no namespace; all others must have one.
	clusterScoped bool
}

// selects is the API server's check of a workload: its selector selects
// its template's pods.
func selects(selector *metav1.LabelSelector, template map[string]string) error {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return fmt.Errorf("spec.selector: %w", err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(template)) {
		return fmt.Errorf("spec.selector %q does not select the template's labels %v", sel, template)
	}
	return nil
}

// manifestKinds is every apiVersion/kind a generated manifest may hold.
var manifestKinds = map[string]manifestKind{
	"apps/v1 Deployment": {
		new: func() metav1.Object { return &appsv1.Deployment{} },
		validate: func(_ context.Context, obj metav1.Object) error {
			d := obj.(*appsv1.Deployment)
			return selects(d.Spec.Selector, d.Spec.Template.Labels)
		},
	},
	"apps/v1 StatefulSet": {
		new: func() metav1.Object { return &appsv1.StatefulSet{} },
		validate: func(_ context.Context, obj metav1.Object) error {
			s := obj.(*appsv1.StatefulSet)
			return selects(s.Spec.Selector, s.Spec.Template.Labels)
		},
	},
	"batch/v1 Job": {new: func() metav1.Object { return &batchv1.Job{} }},
	"v1 Namespace": {new: func() metav1.Object { return &corev1.Namespace{} }, clusterScoped: true},
	"monitoring.coreos.com/v1 PodMonitor": {
		new: func() metav1.Object { return &monitoringv1.PodMonitor{} },
		// The operator has no admission check of PodMonitors beyond its
		// CRD's schema; what its module offers offline is the selector
		// and the relabelling rules, which Prometheus would reject at
		// reload: a regex must compile (RE2, as Prometheus's), an action
		// be one it knows, and a replace name a target label.
		validate: func(_ context.Context, obj metav1.Object) error {
			pm := obj.(*monitoringv1.PodMonitor)
			if _, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector); err != nil {
				return fmt.Errorf("spec.selector: %w", err)
			}
			if len(pm.Spec.PodMetricsEndpoints) == 0 {
				return errors.New("spec.podMetricsEndpoints: none")
			}
			for i, ep := range pm.Spec.PodMetricsEndpoints {
				for j, r := range ep.RelabelConfigs {
					if err := checkRelabel(r.Action, r.Regex, r.TargetLabel); err != nil {
						return fmt.Errorf("spec.podMetricsEndpoints[%d].relabelings[%d]: %w", i, j, err)
					}
				}
			}
			return nil
		},
	},
	"monitoring.coreos.com/v1alpha1 ScrapeConfig": {
		new: func() metav1.Object { return &monitoringv1alpha1.ScrapeConfig{} },
		// As for the PodMonitor: the CRD's schema (the strict decode),
		// the relabelling rules, and what Prometheus refuses at reload:
		// a static config without targets, a timeout above the interval.
		validate: func(_ context.Context, obj metav1.Object) error {
			sc := obj.(*monitoringv1alpha1.ScrapeConfig)
			for i, st := range sc.Spec.StaticConfigs {
				if len(st.Targets) == 0 {
					return fmt.Errorf("spec.staticConfigs[%d].targets: none", i)
				}
			}
			for j, r := range sc.Spec.RelabelConfigs {
				if err := checkRelabel(r.Action, r.Regex, r.TargetLabel); err != nil {
					return fmt.Errorf("spec.relabelings[%d]: %w", j, err)
				}
			}
			if sc.Spec.ScrapeInterval != nil && sc.Spec.ScrapeTimeout != nil {
				iv, err1 := time.ParseDuration(string(*sc.Spec.ScrapeInterval))
				to, err2 := time.ParseDuration(string(*sc.Spec.ScrapeTimeout))
				if err := errors.Join(err1, err2); err != nil {
					return fmt.Errorf("spec.scrapeInterval/scrapeTimeout: %w", err)
				}
				if to > iv {
					return fmt.Errorf("spec.scrapeTimeout %s is above spec.scrapeInterval %s", to, iv)
				}
			}
			return nil
		},
	},
	"v1 Service":   {new: func() metav1.Object { return &corev1.Service{} }},
	"v1 ConfigMap": {new: func() metav1.Object { return &corev1.ConfigMap{} }},
	"v1 Secret":    {new: func() metav1.Object { return &corev1.Secret{} }},
	"autoscaling/v2 HorizontalPodAutoscaler": {
		new: func() metav1.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
	},
	"keda.sh/v1alpha1 ScaledObject": {
		new: func() metav1.Object { return &kedav1alpha1.ScaledObject{} },
		// The offline part of KEDA's admission webhook (verifyReplicaCount,
		// verifyFallback, verifyTriggers, and the scaling modifiers); its
		// other checks read the cluster (the target workload, other
		// ScaledObjects and HPAs, LimitRanges).
		validate: func(_ context.Context, obj metav1.Object) error {
			so := obj.(*kedav1alpha1.ScaledObject)
			if err := kedav1alpha1.CheckReplicaCountBoundsAreValid(so); err != nil {
				return err
			}
			if err := kedav1alpha1.CheckFallbackValid(so); err != nil {
				return err
			}
			if err := kedav1alpha1.ValidateTriggers(so.Spec.Triggers); err != nil {
				return err
			}
			if so.IsUsingModifiers() {
				if _, err := kedav1alpha1.ValidateAndCompileScalingModifiers(so); err != nil {
					return err
				}
			}
			return nil
		},
	},
	"keda.sh/v1alpha1 TriggerAuthentication": {
		new: func() metav1.Object { return &kedav1alpha1.TriggerAuthentication{} },
		validate: func(_ context.Context, obj metav1.Object) error {
			_, err := obj.(*kedav1alpha1.TriggerAuthentication).ValidateCreate(nil)
			return err
		},
	},
	"serving.knative.dev/v1 Service": {
		new: func() metav1.Object { return &servingv1.Service{} },
		// Knative's webhook defaults, then validates; both need no cluster
		// (the defaults of Knative's config maps stand in for the
		// cluster's).
		validate: func(ctx context.Context, obj metav1.Object) error {
			s := obj.(*servingv1.Service).DeepCopy()
			ctx = apis.WithinCreate(ctx)
			s.SetDefaults(ctx)
			// Knative's warnings (the container's securityContext left at
			// Kubernetes' defaults) do not fail admission; its errors do.
			if err := s.Validate(ctx).Filter(apis.ErrorLevel); err != nil {
				return err
			}
			return nil
		},
	},
	"sources.knative.dev/v1 PingSource": {
		new: func() metav1.Object { return &pingSource{} },
		validate: func(ctx context.Context, obj metav1.Object) error {
			p := obj.(*pingSource)
			if p.Spec.Schedule == "" {
				return errors.New("spec.schedule: missing")
			}
			if err := p.Spec.Sink.Validate(ctx); err != nil {
				return fmt.Errorf("spec.sink: %w", err)
			}
			return nil
		},
	},
}

// pingSource is Knative Eventing's PingSource (sources.knative.dev/v1).
// Knative Eventing's module cannot be fetched here (the module proxy does
// not serve it), so its five own fields are written out; the sink and
// the CloudEvent overrides are Knative's shared duck types from
// knative.dev/pkg, which Knative Serving's module brings.
type pingSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		duckv1.SourceSpec `json:",inline"`
		Schedule          string `json:"schedule,omitempty"`
		Timezone          string `json:"timezone,omitempty"`
		ContentType       string `json:"contentType,omitempty"`
		Data              string `json:"data,omitempty"`
		DataBase64        string `json:"dataBase64,omitempty"`
	} `json:"spec,omitempty"`
}

// decodeManifests decodes every document of the YAML stream b strictly
// into its kind's Go type, runs that kind's validation, and returns the
// objects. Documents holding only comments are skipped.
func decodeManifests(ctx context.Context, b []byte) ([]metav1.Object, error) {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var objs []metav1.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		// Strict: a duplicate key is an error.
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue
		}
		obj, err := decodeObject(ctx, j)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
}

// decodeObject decodes one JSON object strictly. It decodes with
// sigs.k8s.io/json, the API server's decoder, rather than encoding/json
// with DisallowUnknownFields: encoding/json matches names without regard
// to case, so `Replicas:` would pass as `replicas:` and be dropped by the
// API server.
func decodeObject(ctx context.Context, j []byte) (metav1.Object, error) {
	var tm metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
		return nil, fmt.Errorf("apiVersion and kind: %w", err)
	}
	key := tm.APIVersion + " " + tm.Kind
	k, ok := manifestKinds[key]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", key)
	}
	obj := k.new()
	strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("%s %s: %w", key, obj.GetName(), errors.Join(strict...))
	}
	// Every object of the manifests but the cluster-scoped ones lives in
	// a namespace.
	errs := apivalidation.ValidateObjectMetaAccessor(obj, !k.clusterScoped, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if err := errs.ToAggregate(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", key, obj.GetName(), err)
	}
	if k.validate != nil {
		if err := k.validate(ctx, obj); err != nil {
			return nil, fmt.Errorf("%s %s: %w", key, obj.GetName(), err)
		}
	}
	return obj, nil
}

// TestStrictDecoderRejects shows the decoder failing on hostile documents
// (and passing their well-formed originals).
func TestStrictDecoderRejects(t *testing.T) {
	const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog, namespace: photobench}
spec:
  replicas: 1
  selector: {matchLabels: {app: catalog}}
  template:
    metadata: {labels: {app: catalog}}
    spec:
      containers: [{name: catalog, image: img}]
`
	const scaledObject = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: catalog, namespace: photobench}
spec:
  scaleTargetRef: {name: catalog}
  minReplicaCount: 0
  maxReplicaCount: 4
  pollingInterval: 1
  triggers:
    - type: kafka
      metadata: {bootstrapServers: "kafka:9092", consumerGroup: catalog, topic: t}
`
	const knativeService = `
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: query, namespace: photobench}
spec:
  template:
    metadata:
      annotations: {autoscaling.knative.dev/window: 10s}
    spec:
      containers: [{image: img, ports: [{containerPort: 8080}]}]
`
	const podMonitor = `
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: photobench, namespace: photobench}
spec:
  selector: {matchExpressions: [{key: photobench/component, operator: Exists}]}
  podMetricsEndpoints:
    - portNumber: 8080
      relabelings:
        - {sourceLabels: [__meta_kubernetes_pod_label_photobench_component], regex: .+, action: keep}
        - {sourceLabels: [__meta_kubernetes_pod_label_photobench_component], targetLabel: component, action: replace}
`
	const scrapeConfig = `
apiVersion: monitoring.coreos.com/v1alpha1
kind: ScrapeConfig
metadata: {name: photobench-bench, namespace: photobench}
spec:
  scrapeInterval: 1s
  scrapeTimeout: 1s
  staticConfigs: [{targets: ['BENCH_HOST:9464'], labels: {source: bench}}]
  relabelings: [{targetLabel: job, replacement: photobench, action: replace}]
`
	tests := []struct {
		name    string
		doc     string
		wantErr string // a substring of the error; "" for none
	}{
		{name: "Deployment", doc: deployment},
		{name: "ScaledObject", doc: scaledObject},
		{name: "Knative Service", doc: knativeService},
		{name: "Deployment with a misspelled field", wantErr: `unknown field "spec.replica"`,
			doc: strings.Replace(deployment, "replicas:", "replica:", 1)},
		{name: "Deployment with a field in the wrong case", wantErr: `unknown field "spec.Replicas"`,
			doc: strings.Replace(deployment, "replicas:", "Replicas:", 1)},
		{name: "Deployment with a misspelled container field", wantErr: `unknown field "spec.template.spec.containers[0].imag"`,
			doc: strings.Replace(deployment, "image: img", "imag: img", 1)},
		{name: "Deployment with a string for a number", wantErr: "cannot unmarshal string",
			doc: strings.Replace(deployment, "replicas: 1", `replicas: "1"`, 1)},
		{name: "Deployment with a duplicate key", wantErr: "already set in map",
			doc: strings.Replace(deployment, "replicas: 1", "replicas: 1\n  replicas: 2", 1)},
		{name: "Deployment whose selector misses its pods", wantErr: "does not select",
			doc: strings.Replace(deployment, "matchLabels: {app: catalog}", "matchLabels: {app: other}", 1)},
		{name: "Deployment without a namespace", wantErr: "metadata.namespace",
			doc: strings.Replace(deployment, ", namespace: photobench", "", 1)},
		{name: "ScaledObject with a misspelled field", wantErr: `unknown field "spec.pollingIntervall"`,
			doc: strings.Replace(scaledObject, "pollingInterval:", "pollingIntervall:", 1)},
		{name: "ScaledObject with min above max", wantErr: "MinReplicaCount=5 must be less than MaxReplicaCount=4",
			doc: strings.Replace(scaledObject, "minReplicaCount: 0", "minReplicaCount: 5", 1)},
		{name: "ScaledObject without triggers", wantErr: "no triggers",
			doc: scaledObject[:strings.Index(scaledObject, "  triggers:")]},
		{name: "Knative Service with a misspelled field", wantErr: `unknown field "spec.template.spec.containers[0].ports[0].containerport"`,
			doc: strings.Replace(knativeService, "containerPort", "containerport", 1)},
		{name: "Knative Service with a window below Knative's minimum", wantErr: "autoscaling.knative.dev/window",
			doc: strings.Replace(knativeService, "window: 10s", "window: 1s", 1)},
		{name: "an unknown kind", wantErr: `unknown kind "monitoring.coreos.com/v1 ServiceMonitor"`,
			doc: "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x, namespace: y}\n"},
		{name: "PodMonitor", doc: podMonitor},
		{name: "PodMonitor with a misspelled field", wantErr: `unknown field "spec.podMetricsEndpoints[0].relabeling"`,
			doc: strings.Replace(podMonitor, "relabelings:", "relabeling:", 1)},
		{name: "PodMonitor with a string for a number", wantErr: "cannot unmarshal string",
			doc: strings.Replace(podMonitor, "portNumber: 8080", `portNumber: "8080"`, 1)},
		{name: "PodMonitor with a bad regex", wantErr: "regex",
			doc: strings.Replace(podMonitor, "regex: .+", "regex: '(.+'", 1)},
		{name: "ScrapeConfig", doc: scrapeConfig},
		{name: "ScrapeConfig with a misspelled field", wantErr: `unknown field "spec.staticConfigs[0].target"`,
			doc: strings.Replace(scrapeConfig, "{targets:", "{target:", 1)},
		{name: "ScrapeConfig with a timeout above its interval", wantErr: "scrapeTimeout",
			doc: strings.Replace(scrapeConfig, "scrapeTimeout: 1s", "scrapeTimeout: 2s", 1)},
		{name: "ScrapeConfig whose replace has no target", wantErr: "targetLabel",
			doc: strings.Replace(scrapeConfig, "targetLabel: job, ", "", 1)},
		{name: "Namespace", doc: "apiVersion: v1\nkind: Namespace\nmetadata: {name: photobench}\n"},
		{name: "StatefulSet whose selector misses its pods", wantErr: "does not select",
			doc: strings.NewReplacer("apps/v1\nkind: Deployment", "apps/v1\nkind: StatefulSet", "matchLabels: {app: catalog}", "matchLabels: {app: other}").Replace(deployment)},
		{name: "a kind of another version", wantErr: `unknown kind "autoscaling/v1 HorizontalPodAutoscaler"`,
			doc: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: x, namespace: y}\n"},
		{name: "a document without a kind", wantErr: `unknown kind " "`,
			doc: "metadata: {name: x}\n"},
		{name: "a bad document after good ones", wantErr: "document 2:",
			doc: deployment + "---\n" + scaledObject + "---\n" + strings.Replace(deployment, "replicas:", "replica:", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeManifests(t.Context(), []byte(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("no error, want one with %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// TestPrometheusOperatorScrapesEverything holds the operator's file to
// what the bench's queries need: the apps through the PodMonitor and the
// bench's own /metrics through the ScrapeConfig (static BENCH_HOST:9464,
// job photobench, source="bench"), each every stack.ScrapeInterval, the
// native stack's (a cluster's default of 30 s or 1 m leaves the bench's
// rate(...[5s]) queries empty).
func TestPrometheusOperatorScrapesEverything(t *testing.T) {
	b, err := kube.PodMonitor(kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	var pms, scs int
	for _, o := range objs {
		switch o := o.(type) {
		case *monitoringv1.PodMonitor:
			pms++
			for i, ep := range o.Spec.PodMetricsEndpoints {
				if string(ep.Interval) != stack.ScrapeInterval || string(ep.ScrapeTimeout) != stack.ScrapeInterval {
					t.Errorf("PodMonitor endpoint %d: interval %q, scrapeTimeout %q, want %s each", i, ep.Interval, ep.ScrapeTimeout, stack.ScrapeInterval)
				}
			}
		case *monitoringv1alpha1.ScrapeConfig:
			scs++
			sp := o.Spec
			if sp.ScrapeInterval == nil || string(*sp.ScrapeInterval) != stack.ScrapeInterval || sp.ScrapeTimeout == nil || string(*sp.ScrapeTimeout) != stack.ScrapeInterval {
				t.Errorf("ScrapeConfig: scrapeInterval %v, scrapeTimeout %v, want %s each", sp.ScrapeInterval, sp.ScrapeTimeout, stack.ScrapeInterval)
			}
			if len(sp.StaticConfigs) != 1 || !slices.Equal(sp.StaticConfigs[0].Targets, []monitoringv1alpha1.Target{kube.BenchTarget}) || sp.StaticConfigs[0].Labels["source"] != "bench" {
				t.Errorf("ScrapeConfig: static configs %+v, want %s with source=bench", sp.StaticConfigs, kube.BenchTarget)
			}
			job := false
			for _, r := range sp.RelabelConfigs {
				job = job || r.TargetLabel == "job" && r.Replacement != nil && *r.Replacement == kube.Job
			}
			if !job {
				t.Errorf("ScrapeConfig: no relabelling sets job=%s", kube.Job)
			}
		}
	}
	if pms != 1 || scs != 1 {
		t.Errorf("%s: %d PodMonitors and %d ScrapeConfigs, want one each", kube.PodMonitorFile, pms, scs)
	}
}

// TestPlainScrapeConfigInterval holds every job of the plain Prometheus
// snippet to the native stack's scrape interval and timeout.
func TestPlainScrapeConfigInterval(t *testing.T) {
	b, err := kube.ScrapeConfig(kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	var c scrapeConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.ScrapeConfigs) == 0 {
		t.Fatal("no scrape_configs")
	}
	for _, sc := range c.ScrapeConfigs {
		if sc.ScrapeInterval != stack.ScrapeInterval || sc.ScrapeTimeout != stack.ScrapeInterval {
			t.Errorf("job %s: scrape_interval %q, scrape_timeout %q, want %s each", sc.JobName, sc.ScrapeInterval, sc.ScrapeTimeout, stack.ScrapeInterval)
		}
	}
}
