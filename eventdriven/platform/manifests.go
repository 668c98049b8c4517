package platform

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/auth"
)

// Kubernetes manifests: the same functions, scaled by KEDA (event
// functions) and Knative Serving (HTTP functions) instead of this runtime,
// from the same Config, so the two cannot disagree.
const (
	// EnvName is the ConfigMap and the Secret every function takes its
	// PHOTOBENCH_* environment from (the cluster's Kafka, MinIO,
	// PostgreSQL, vision service and auth secret). Manifests writes a
	// placeholder ConfigMap; the Secret is the operator's.
	EnvName = "photobench-env"
	// KafkaBootstrap is the ConfigMap's Kafka address. The KEDA triggers
	// read it from the function's environment (bootstrapServersFromEnv), so
	// an overlay that points the ConfigMap elsewhere moves both.
	KafkaBootstrap = "kafka:9092"
	// EnvKafkaBrokers is the variable holding the Kafka address.
	EnvKafkaBrokers = "PHOTOBENCH_KAFKA_BROKERS"
	// ContainerPort is the port every function listens on in its pod.
	ContainerPort = 8080
	// S3Endpoint is the ConfigMap's MinIO endpoint: a URL, as the
	// functions' store requires.
	S3Endpoint = "http://minio:9000"
	// KnativeConfigFile is the file of Manifests' answer holding Knative's
	// cluster-wide config-autoscaler settings.
	KnativeConfigFile = "knative-config-autoscaler.yaml"
	// EnvFile is the file of Manifests' answer holding the placeholder
	// ConfigMap EnvName.
	EnvFile = "photobench-env.yaml"
	// VisionURL is the ConfigMap's vision service: its Service on port 80.
	VisionURL = "http://vision"
	// UID is the image's user (deploy/oci), which every pod runs as.
	UID = 65532
)

// The pod labels the cluster's scrape configuration turns into the
// bench's query labels component, architecture and app_set (the PodMonitor
// and the plain Prometheus snippet under deploy/k8s relabel them), and the
// value of LabelAppSet in the manifests.
const (
	LabelComponent    = "photobench/component"
	LabelArchitecture = "photobench/architecture"
	LabelAppSet       = "photobench/app-set"
	AppSet            = "k8s"
)

// FrontName is the event-driven app's front, its public API.
const FrontName = "front"

// Manifests returns Kubernetes YAML for every function of cfg, keyed by
// file name: "<name>.yaml" per function, holding a Deployment and a KEDA
// ScaledObject (event functions: one kafka trigger per topic) or a Knative
// Service (HTTP functions); "front.yaml", the front's Deployment (one
// replica, always on) and Service (port 80); EnvFile, the placeholder ConfigMap the
// functions read their environment from; and, when there are HTTP
// functions, KnativeConfigFile: Knative's scale-to-zero grace period is a
// cluster-wide setting (ConfigMap config-autoscaler in knative-serving),
// not a per-service annotation, so it carries the longest grace period of
// the HTTP functions. Every container runs `photobench fn NAME`.
func Manifests(cfg Config, image, namespace string) (map[string][]byte, error) {
	if image == "" || namespace == "" {
		return nil, errors.New("manifests: image and namespace must be set")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	out := make(map[string][]byte)
	var grace time.Duration
	for _, f := range cfg.Functions {
		var docs []any
		switch f.Kind {
		case KindEvent:
			docs = []any{deployment(f, image, namespace), scaledObject(f, namespace)}
		case KindHTTP:
			docs = []any{knativeService(f, image, namespace)}
			if f.Schedule.Duration > 0 {
				docs = append(docs, pingSource(f, namespace))
			}
			grace = max(grace, f.ScaleToZeroGracePeriod.Duration)
		}
		b, err := marshalDocs("", docs...)
		if err != nil {
			return nil, fmt.Errorf("manifests %s: %w", f.Name, err)
		}
		out[f.Name+".yaml"] = b
	}
	// The front: always on, as the local runtime keeps it (deploy.Registry's
	// TriggerNone), routing to the ingest and query Knative Services.
	front := FunctionConfig{Name: FrontName, Kind: KindHTTP}
	b, err := marshalDocs("", deployment(front, image, namespace), service(front, namespace))
	if err != nil {
		return nil, fmt.Errorf("manifests %s: %w", FrontName, err)
	}
	out[FrontName+".yaml"] = b
	b, err = marshalDocs("# Placeholder: the non-secret environment of every function. Put\n"+
		"# PHOTOBENCH_S3_ACCESS_KEY, PHOTOBENCH_S3_SECRET_KEY, PHOTOBENCH_PG_DSN (the catalog\n"+
		"# and the monoliths use its databases catalog, monolith and monolith_async, created\n"+
		"# if missing) and PHOTOBENCH_AUTH_SECRET in a Secret named "+EnvName+" in the same\n"+
		"# namespace (the HTTP functions need PHOTOBENCH_AUTH_SECRET: a random value of at\n"+
		"# least 16 bytes). The overlays under deploy/k8s/overlays provide both.\n",
		envConfigMap(namespace))
	if err != nil {
		return nil, fmt.Errorf("manifests env: %w", err)
	}
	out[EnvFile] = b
	if grace > 0 {
		b, err := marshalDocs("# Knative's scale-to-zero grace period is cluster-wide (it cannot be set per\n"+
			"# Service): merge this into knative-serving/config-autoscaler. It is the longest\n"+
			"# scaleToZeroGracePeriod of the HTTP functions. The activator's hold timeout has\n"+
			"# no Knative knob beside the request timeout (timeoutSeconds).\n",
			knativeAutoscalerConfig(grace))
		if err != nil {
			return nil, fmt.Errorf("manifests knative config: %w", err)
		}
		out[KnativeConfigFile] = b
	}
	return out, nil
}

// marshalDocs writes docs as one multi-document YAML stream after a
// comment header.
func marshalDocs(header string, docs ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Generated by eventdriven/platform.Manifests from eventdriven/deploy/functions.yaml.\n")
	b.WriteString("# Do not edit: go test ./deploy/kube -run Manifests -args -update\n")
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encode yaml: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return b.Bytes(), nil
}

type objectMeta struct {
	Name        string            `yaml:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type container struct {
	Name            string          `yaml:"name,omitempty"`
	Image           string          `yaml:"image"`
	Args            []string        `yaml:"args"`
	EnvFrom         []envFrom       `yaml:"envFrom"`
	Env             []envVar        `yaml:"env,omitempty"`
	Ports           []port          `yaml:"ports"`
	ReadinessProbe  probe           `yaml:"readinessProbe"`
	Resources       resources       `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
}

// resources are a container's requests and limits ("cpu", "memory").
type resources struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

// securityContext is the container's: the image's non-root user, a
// read-only root filesystem (the functions write no files: originals,
// thumbnails and events go to MinIO and Kafka, uploads are read in
// memory), no privilege escalation, no capabilities.
type securityContext struct {
	RunAsNonRoot             bool `yaml:"runAsNonRoot"`
	RunAsUser                int  `yaml:"runAsUser"`
	RunAsGroup               int  `yaml:"runAsGroup"`
	ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

// restricted is the securityContext of every photobench container: it
// meets the Pod Security Standards' "restricted" profile.
func restricted() securityContext {
	s := securityContext{RunAsNonRoot: true, RunAsUser: UID, RunAsGroup: UID, ReadOnlyRootFilesystem: true}
	s.Capabilities.Drop = []string{"ALL"}
	s.SeccompProfile.Type = "RuntimeDefault"
	return s
}

type envFrom struct {
	ConfigMapRef *nameRef `yaml:"configMapRef,omitempty"`
	SecretRef    *nameRef `yaml:"secretRef,omitempty"`
}

type nameRef struct {
	Name string `yaml:"name"`
}

// envVar is a container variable from a Secret's key (no optional field:
// the key is required).
type envVar struct {
	Name      string    `yaml:"name"`
	ValueFrom envSource `yaml:"valueFrom"`
}

type envSource struct {
	SecretKeyRef keyRef `yaml:"secretKeyRef"`
}

type keyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type port struct {
	Name          string `yaml:"name,omitempty"`
	ContainerPort int    `yaml:"containerPort"`
}

type probe struct {
	HTTPGet httpGet `yaml:"httpGet"`
}

type httpGet struct {
	Path string `yaml:"path"`
	Port int    `yaml:"port,omitempty"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds,omitempty"`
	Containers                    []container `yaml:"containers"`
}

type podTemplate struct {
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type deploymentDoc struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   objectMeta     `yaml:"metadata"`
	Spec       deploymentSpec `yaml:"spec"`
}

type deploymentSpec struct {
	Replicas int           `yaml:"replicas"`
	Selector labelSelector `yaml:"selector"`
	Template podTemplate   `yaml:"template"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// replicasAlwaysOn is 1 for the front, which nothing scales, else 0.
func replicasAlwaysOn(f FunctionConfig) int {
	if f.Name == FrontName {
		return 1
	}
	return 0
}

type serviceDoc struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   objectMeta  `yaml:"metadata"`
	Spec       serviceSpec `yaml:"spec"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []servicePort     `yaml:"ports"`
}

type servicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort string `yaml:"targetPort"`
}

// service is a Deployment's Service: port 80 to the container's "http".
func service(f FunctionConfig, namespace string) serviceDoc {
	return serviceDoc{
		APIVersion: "v1",
		Kind:       "Service",
		Metadata:   objectMeta{Name: f.Name, Namespace: namespace, Labels: labels(f)},
		Spec: serviceSpec{
			Selector: map[string]string{"app.kubernetes.io/name": f.Name},
			Ports:    []servicePort{{Name: "http", Port: 80, TargetPort: "http"}},
		},
	}
}

type scaledObjectDoc struct {
	APIVersion string           `yaml:"apiVersion"`
	Kind       string           `yaml:"kind"`
	Metadata   objectMeta       `yaml:"metadata"`
	Spec       scaledObjectSpec `yaml:"spec"`
}

type scaledObjectSpec struct {
	ScaleTargetRef  nameRef   `yaml:"scaleTargetRef"`
	MinReplicaCount int       `yaml:"minReplicaCount"`
	MaxReplicaCount int       `yaml:"maxReplicaCount"`
	PollingInterval int       `yaml:"pollingInterval"`
	CooldownPeriod  int       `yaml:"cooldownPeriod"`
	Advanced        advanced  `yaml:"advanced"`
	Triggers        []trigger `yaml:"triggers"`
}

// advanced is the ScaledObject's pass-through to the HPA it creates.
type advanced struct {
	HorizontalPodAutoscalerConfig struct {
		Behavior struct {
			ScaleDown struct {
				StabilizationWindowSeconds int `yaml:"stabilizationWindowSeconds"`
			} `yaml:"scaleDown"`
		} `yaml:"behavior"`
	} `yaml:"horizontalPodAutoscalerConfig"`
}

type trigger struct {
	Type     string            `yaml:"type"`
	Metadata map[string]string `yaml:"metadata"`
}

type knativeServiceDoc struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   objectMeta  `yaml:"metadata"`
	Spec       knativeSpec `yaml:"spec"`
}

type knativeSpec struct {
	Template podTemplate `yaml:"template"`
}

type configMapDoc struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   objectMeta        `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
}

func labels(f FunctionConfig) map[string]string {
	return map[string]string{"app.kubernetes.io/name": f.Name, "app.kubernetes.io/part-of": "photobench"}
}

// podLabels are a function pod's labels: labels(f) and the scrape labels
// (component: the function's name; architecture: eventdriven).
func podLabels(f FunctionConfig) map[string]string {
	l := labels(f)
	l[LabelComponent] = f.Name
	l[LabelArchitecture] = "eventdriven"
	l[LabelAppSet] = AppSet
	return l
}

// ScrapeAnnotations are the annotations by which a plain Prometheus
// (kubernetes_sd_configs, role pod, without the operator's PodMonitor)
// finds a pod's /metrics on ContainerPort.
func ScrapeAnnotations() map[string]string {
	return map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(ContainerPort),
		"prometheus.io/path":   "/metrics",
	}
}

// functionContainer runs `photobench fn NAME` on ContainerPort with the
// environment of EnvName. It listens on every interface, as a pod must for
// the kubelet's probes and the Service to reach it; so an HTTP function (a
// Knative Service, reachable through the cluster's ingress; ingest and
// query verify bearer tokens) takes PHOTOBENCH_AUTH_SECRET from the Secret
// by key, without optional: a Secret lacking the key keeps the pod from
// starting rather than leave the variable unset (and ingest and query
// refuse the public development secret off loopback anyway).
func functionContainer(f FunctionConfig, image, namespace string) container {
	args := []string{"fn", f.Name, "--addr", fmt.Sprintf("0.0.0.0:%d", ContainerPort)}
	if f.Kind == KindEvent {
		args = append(args, "--group", f.Group)
	}
	if f.Name == FrontName {
		// front finds ingest and query as the Knative Services of the
		// same namespace.
		args = append(args,
			"--ingest-url", "http://ingest."+namespace+".svc.cluster.local",
			"--query-url", "http://query."+namespace+".svc.cluster.local")
	}
	c := container{
		Image: image,
		// The image's entrypoint is the photobench binary.
		Args: args,
		EnvFrom: []envFrom{
			{ConfigMapRef: &nameRef{Name: EnvName}},
			{SecretRef: &nameRef{Name: EnvName}},
		},
		Ports:          []port{{ContainerPort: ContainerPort}},
		ReadinessProbe: probe{HTTPGet: httpGet{Path: "/healthz"}},
		// A request of a quarter core and 128 MiB lets many functions
		// share a small cluster; the limit of one core and 1 GiB holds
		// the decode of the largest accepted image (40 Mpx, 160 MB as
		// RGBA) with its thumbnails.
		Resources: resources{
			Requests: map[string]string{"cpu": "250m", "memory": "128Mi"},
			Limits:   map[string]string{"cpu": "1", "memory": "1Gi"},
		},
		SecurityContext: restricted(),
	}
	if f.Kind == KindHTTP {
		c.Env = []envVar{{Name: auth.EnvSecret, ValueFrom: envSource{SecretKeyRef: keyRef{Name: EnvName, Key: auth.EnvSecret}}}}
	}
	if f.Kind == KindEvent || f.Name == FrontName {
		// Knative probes the container port itself and names it; a
		// Deployment needs both spelt out.
		c.Name = f.Name
		c.Ports[0].Name = "http"
		c.ReadinessProbe.HTTPGet.Port = ContainerPort
	}
	return c
}

func deployment(f FunctionConfig, image, namespace string) deploymentDoc {
	return deploymentDoc{
		APIVersion: "apps/v1",
		Kind:       "Deployment",
		Metadata:   objectMeta{Name: f.Name, Namespace: namespace, Labels: labels(f)},
		Spec: deploymentSpec{
			Replicas: max(f.MinReplicaCount, replicasAlwaysOn(f)), // KEDA owns the count of an event function from here
			Selector: labelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": f.Name}},
			Template: podTemplate{
				Metadata: objectMeta{Labels: podLabels(f), Annotations: ScrapeAnnotations()},
				Spec: podSpec{
					// SIGTERM finishes the in-flight event and commits;
					// the local runtime's grace is 10 s too.
					TerminationGracePeriodSeconds: 10,
					Containers:                    []container{functionContainer(f, image, namespace)},
				},
			},
		},
	}
}

func scaledObject(f FunctionConfig, namespace string) scaledObjectDoc {
	triggers := make([]trigger, 0, len(f.Topics))
	for _, t := range f.Topics {
		triggers = append(triggers, trigger{Type: "kafka", Metadata: map[string]string{
			// KEDA resolves it from the Deployment's container environment
			// (the ConfigMap EnvName), where the function reads it too.
			"bootstrapServersFromEnv": EnvKafkaBrokers,
			"consumerGroup":           f.Group,
			"topic":                   t,
			"lagThreshold":            strconv.FormatInt(f.LagThreshold, 10),
			"activationLagThreshold":  strconv.FormatInt(f.ActivationLagThreshold, 10),
		}})
	}
	var adv advanced
	adv.HorizontalPodAutoscalerConfig.Behavior.ScaleDown.StabilizationWindowSeconds = seconds(f.ScaleDownStabilizationWindow.Duration)
	return scaledObjectDoc{
		APIVersion: "keda.sh/v1alpha1",
		Kind:       "ScaledObject",
		Metadata:   objectMeta{Name: f.Name, Namespace: namespace, Labels: labels(f)},
		Spec: scaledObjectSpec{
			ScaleTargetRef:  nameRef{Name: f.Name},
			MinReplicaCount: f.MinReplicaCount,
			MaxReplicaCount: f.MaxReplicaCount,
			PollingInterval: seconds(f.PollingInterval.Duration),
			CooldownPeriod:  seconds(f.CooldownPeriod.Duration),
			Advanced:        adv,
			Triggers:        triggers,
		},
	}
}

// Knative autoscaling annotations (on the revision template).
const (
	annMinScale    = "autoscaling.knative.dev/min-scale"
	annMaxScale    = "autoscaling.knative.dev/max-scale"
	annTarget      = "autoscaling.knative.dev/target"
	annUtilization = "autoscaling.knative.dev/target-utilization-percentage"
	annWindow      = "autoscaling.knative.dev/window"
	annDownDelay   = "autoscaling.knative.dev/scale-down-delay"
)

func knativeService(f FunctionConfig, image, namespace string) knativeServiceDoc {
	return knativeServiceDoc{
		APIVersion: "serving.knative.dev/v1",
		Kind:       "Service",
		Metadata:   objectMeta{Name: f.Name, Namespace: namespace, Labels: labels(f)},
		Spec: knativeSpec{Template: podTemplate{
			Metadata: objectMeta{
				Labels: podLabels(f),
				Annotations: mergeMaps(ScrapeAnnotations(), map[string]string{
					annMinScale: strconv.Itoa(f.MinScale),
					annMaxScale: strconv.Itoa(f.MaxScale),
					// A soft target, as our ContainerConcurrency is; the
					// hard limit spec.containerConcurrency stays 0
					// (unlimited).
					annTarget:      strconv.Itoa(f.ContainerConcurrency),
					annUtilization: strconv.FormatFloat(f.TargetUtilization, 'f', -1, 64),
					annWindow:      f.StableWindow.String(),
					annDownDelay:   f.ScaleDownDelay.String(),
				}),
			},
			Spec: podSpec{Containers: []container{functionContainer(f, image, namespace)}},
		}},
	}
}

type pingSourceDoc struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   objectMeta     `yaml:"metadata"`
	Spec       pingSourceSpec `yaml:"spec"`
}

type pingSourceSpec struct {
	Schedule    string `yaml:"schedule"`
	ContentType string `yaml:"contentType"`
	Data        string `yaml:"data"`
	Sink        struct {
		Ref sinkRef `yaml:"ref"`
	} `yaml:"sink"`
}

type sinkRef struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Name       string `yaml:"name"`
}

// pingSource is the timer of a scheduled HTTP function: a Knative
// PingSource that sends its Service an event on a cron schedule. Cron counts
// whole minutes, so the schedule is rounded up to minutes (1m at least).
func pingSource(f FunctionConfig, namespace string) pingSourceDoc {
	d := pingSourceDoc{
		APIVersion: "sources.knative.dev/v1",
		Kind:       "PingSource",
		Metadata:   objectMeta{Name: f.Name + "-timer", Namespace: namespace, Labels: labels(f)},
		Spec:       pingSourceSpec{Schedule: cronEvery(f.Schedule.Duration), ContentType: "application/json", Data: "{}"},
	}
	d.Spec.Sink.Ref = sinkRef{APIVersion: "serving.knative.dev/v1", Kind: "Service", Name: f.Name}
	return d
}

// cronEvery is the cron schedule of "every d", d rounded up to minutes.
func cronEvery(d time.Duration) string {
	m := max(1, int(math.Ceil(d.Minutes())))
	if m == 1 {
		return "* * * * *"
	}
	return fmt.Sprintf("*/%d * * * *", m)
}

func envConfigMap(namespace string) configMapDoc {
	return configMapDoc{
		APIVersion: "v1",
		Kind:       "ConfigMap",
		Metadata:   objectMeta{Name: EnvName, Namespace: namespace},
		Data: map[string]string{
			EnvKafkaBrokers:          KafkaBootstrap,
			"PHOTOBENCH_S3_ENDPOINT": S3Endpoint,
			"PHOTOBENCH_VISION_URL":  VisionURL,
		},
	}
}

func knativeAutoscalerConfig(grace time.Duration) configMapDoc {
	return configMapDoc{
		APIVersion: "v1",
		Kind:       "ConfigMap",
		Metadata:   objectMeta{Name: "config-autoscaler", Namespace: "knative-serving"},
		Data:       map[string]string{"scale-to-zero-grace-period": grace.String()},
	}
}

// mergeMaps returns the union of a and b (b wins).
func mergeMaps(a, b map[string]string) map[string]string {
	m := make(map[string]string, len(a)+len(b))
	maps.Copy(m, a)
	maps.Copy(m, b)
	return m
}

// seconds rounds d up to whole seconds, at least 1: KEDA's intervals are
// integer seconds.
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
