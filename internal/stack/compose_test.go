package stack_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stack"
)

// The compose stack (compose/docker-compose.yml) cannot run on the machines
// that run these tests: they have no container engine. These tests load it
// with a real compose implementation's loader (compose-go, as docker
// compose does; compose_load_test.go) and keep it consistent with the
// native stack under the same environment that stack.LoadConfig reads.

var (
	composeFilePath    = filepath.Join("..", "..", "compose", "docker-compose.yml")
	composeEnvFilePath = filepath.Join("..", "..", "compose", "env")
)

// composeRoleLabel says what a compose service is: composeRoleServer (one of
// stack.ServiceNames()), composeRoleApp (one of the apps the native stack
// runs beside them), composeRoleInit (a one-shot job that creates topics
// or buckets), composeRoleUI (Grafana) or composeRoleBench (the benchmark).
const (
	composeRoleLabel  = "photobench.role"
	composeRoleServer = "server"
	composeRoleApp    = "app"
	composeRoleInit   = "init"
	composeRoleUI     = "ui"
	composeRoleBench  = "bench"
)

// composeFile is the part of a loaded Compose project these tests read.
type composeFile struct {
	Services map[string]composeService
}

type composeService struct {
	Image       string
	Labels      map[string]string
	Environment map[string]string
	Ports       []composePort
	Entrypoint  []string
	Command     []string
	// NetworkMode is "service:NAME" for a service that shares NAME's
	// network namespace (and whose ports NAME publishes).
	NetworkMode string
}

// script is everything the service runs, for checks that a command uses a
// variable.
func (s composeService) script() string {
	return strings.Join(append(slices.Clone(s.Entrypoint), s.Command...), "\n")
}

// composePort is one published port. Published is 0 when the engine picks
// the host port.
type composePort struct {
	HostIP    string
	Published int
	Target    int
	Spec      string // as written, for messages
}

// composeFileOf is the part of project these tests read. Services of
// inactive profiles are left out.
func composeFileOf(project *types.Project) (composeFile, error) {
	f := composeFile{Services: map[string]composeService{}}
	for name, s := range project.Services {
		cs := composeService{
			Image:       s.Image,
			Labels:      map[string]string(s.Labels),
			Environment: map[string]string{},
			Entrypoint:  s.Entrypoint,
			Command:     s.Command,
			NetworkMode: s.NetworkMode,
		}
		for k, v := range s.Environment {
			if v != nil {
				cs.Environment[k] = *v
			}
		}
		for _, p := range s.Ports {
			cp := composePort{HostIP: p.HostIP, Target: int(p.Target),
				Spec: fmt.Sprintf("%s:%s:%d", p.HostIP, p.Published, p.Target)}
			if p.Published != "" {
				n, err := strconv.Atoi(p.Published)
				if err != nil {
					return f, fmt.Errorf("service %q: port %s: host port %q is not a single port number", name, cp.Spec, p.Published)
				}
				cp.Published = n
			}
			cs.Ports = append(cs.Ports, cp)
		}
		f.Services[name] = cs
	}
	if len(f.Services) == 0 {
		return f, fmt.Errorf("%s defines no services", composeFilePath)
	}
	return f, nil
}

// composeCase is the compose stack and the native configuration under one
// environment.
type composeCase struct {
	project *types.Project
	file    composeFile
	cfg     stack.Config
	// ports are the host ports each server service must publish.
	ports map[string][]int
	// envFile holds compose/env's exported values, interpolated.
	envFile map[string]string
	// image is the photobench image every app must run.
	image string
}

// newComposeCase loads the compose file under env and the native
// configuration under the same environment.
func newComposeCase(t *testing.T, env map[string]string, ports map[string][]int) composeCase {
	t.Helper()
	project, err := loadComposeProject(context.Background(), composeFilePath, env)
	if err != nil {
		t.Fatalf("load %s: %v", composeFilePath, err)
	}
	c, err := composeCaseOf(project, env, ports)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func composeCaseOf(project *types.Project, env map[string]string, ports map[string][]int) (composeCase, error) {
	cfg, err := stack.LoadConfig(func(k string) string { return env[k] }, ".stack")
	if err != nil {
		return composeCase{}, err
	}
	// The apps' ports count only when the stack runs apps.
	cfg.AppBinary = "photobench"
	f, err := composeFileOf(project)
	if err != nil {
		return composeCase{}, err
	}
	envFile, err := dotenv.GetEnvFromFile(composeLoaderEnv(env), []string{composeEnvFilePath})
	if err != nil {
		return composeCase{}, fmt.Errorf("read %s: %w", composeEnvFilePath, err)
	}
	image := env["PHOTOBENCH_IMAGE"]
	if image == "" {
		image = composeDefaultImage
	}
	return composeCase{project: project, file: f, cfg: cfg, ports: ports, envFile: envFile, image: image}, nil
}

func (c composeCase) servicesWithRole(role string) []string {
	var names []string
	for name, s := range c.file.Services {
		if s.Labels[composeRoleLabel] == role {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// initWith returns the one init service whose environment sets name.
func (c composeCase) initWith(t *testing.T, name string) composeService {
	t.Helper()
	var found []string
	for _, n := range c.servicesWithRole(composeRoleInit) {
		if _, ok := c.file.Services[n].Environment[name]; ok {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one service labelled %s: %s with %s in its environment, found %v", composeRoleLabel, composeRoleInit, name, found)
	}
	return c.file.Services[found[0]]
}

func (c composeCase) server(t *testing.T, name string) composeService {
	t.Helper()
	s, ok := c.file.Services[name]
	if !ok || s.Labels[composeRoleLabel] != composeRoleServer {
		t.Fatalf("no service %q labelled %s: %s in %s", name, composeRoleLabel, composeRoleServer, composeFilePath)
	}
	return s
}

// composeEnvironments are the environments every compose check runs under:
// the defaults, and every override variable set, which must move both
// stacks alike.
var composeEnvironments = []struct {
	name string
	env  map[string]string
	// ports are the host ports each server must publish under env.
	ports map[string][]int
}{
	{
		name: "default environment",
		env:  map[string]string{"PHOTOBENCH_AUTH_SECRET": composeTestSecret},
		ports: map[string][]int{
			"postgres":   {stack.DefaultPGPort},
			"kafka":      {stack.DefaultKafkaPort, stack.DefaultKafkaControllerPort},
			"minio":      {stack.DefaultMinIOPort},
			"prometheus": {stack.DefaultPrometheusPort},
		},
	},
	{
		name: "overridden ports, partitions and image",
		env: map[string]string{
			"PHOTOBENCH_AUTH_SECRET":           composeTestSecret,
			"PHOTOBENCH_IMAGE":                 "registry.example.org/team/photobench:v1.2.3",
			"PHOTOBENCH_PG_PORT":               "25432",
			"PHOTOBENCH_KAFKA_PORT":            "29092",
			"PHOTOBENCH_KAFKA_CONTROLLER_PORT": "29093",
			"PHOTOBENCH_MINIO_PORT":            "29000",
			"PHOTOBENCH_PROMETHEUS_PORT":       "29090",
			"PHOTOBENCH_KAFKA_PARTITIONS":      "12",
			"PHOTOBENCH_VISION_PORT":           "28081",
			"PHOTOBENCH_MONOLITH_PORT":         "28080",
			"PHOTOBENCH_MONOLITH_ASYNC_PORT":   "28082",
			"PHOTOBENCH_RUNTIME_PORT":          "28096",
			"PHOTOBENCH_FRONT_PORT":            "28090",
			"PHOTOBENCH_INGEST_PORT":           "28091",
			"PHOTOBENCH_QUERY_PORT":            "28092",
			"PHOTOBENCH_RECONCILER_PORT":       "28097",
		},
		ports: map[string][]int{
			"postgres":   {25432},
			"kafka":      {29092, 29093},
			"minio":      {29000},
			"prometheus": {29090},
		},
	},
}

func TestComposeMatchesNativeStack(t *testing.T) {
	checks := []struct {
		name string
		fn   func(*testing.T, composeCase)
	}{
		{"every service has a role", checkComposeRoles},
		{"images are pinned", checkComposeImages},
		{"servers are the native services", checkComposeServers},
		{"native ports published on loopback only", checkComposePorts},
		{"kafka advertises the host listener", checkComposeKafkaListeners},
		{"init creates the native topics", checkComposeTopics},
		{"minio notifies the native target", checkComposeMinIONotify},
		{"credentials match", checkComposeCredentials},
		{"env file exports the native contract", checkComposeEnvFile},
		{"apps run as natively", checkComposeApps},
	}
	for _, e := range composeEnvironments {
		t.Run(e.name, func(t *testing.T) {
			c := newComposeCase(t, e.env, e.ports)
			for _, check := range checks {
				t.Run(check.name, func(t *testing.T) { check.fn(t, c) })
			}
		})
	}
}

func checkComposeRoles(t *testing.T, c composeCase) {
	valid := []string{composeRoleServer, composeRoleApp, composeRoleInit, composeRoleUI, composeRoleBench}
	for name, s := range c.file.Services {
		if role := s.Labels[composeRoleLabel]; !slices.Contains(valid, role) {
			t.Errorf("service %q: label %s is %q, want one of %v", name, composeRoleLabel, role, valid)
		}
	}
}

// Every image names an exact version: a tag other than latest, or a digest.
func checkComposeImages(t *testing.T, c composeCase) {
	for name, s := range c.file.Services {
		ref := s.Image
		if _, digest, ok := strings.Cut(ref, "@"); ok && digest != "" {
			continue
		}
		repo := ref[strings.LastIndex(ref, "/")+1:]
		_, tag, ok := strings.Cut(repo, ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("service %q: image %q is not pinned to a version tag", name, ref)
		}
	}
}

// (a) The long-running servers are exactly the native stack's services.
func checkComposeServers(t *testing.T, c composeCase) {
	got := c.servicesWithRole(composeRoleServer)
	want := slices.Sorted(slices.Values(stack.ServiceNames()))
	for _, n := range want {
		if !slices.Contains(got, n) {
			t.Errorf("native service %q has no compose service labelled %s: %s", n, composeRoleLabel, composeRoleServer)
		}
	}
	for _, n := range got {
		if !slices.Contains(want, n) {
			t.Errorf("compose service %q is labelled %s: %s but is not a native service (stack.ServiceNames() = %v)", n, composeRoleLabel, composeRoleServer, want)
		}
	}
}

// (b) Servers publish exactly the native ports (and those of the apps that
// share their network namespace, checked with the apps), and every
// service publishes on 127.0.0.1 only.
func checkComposePorts(t *testing.T, c composeCase) {
	native := map[string][]int{}
	for _, p := range c.cfg.Ports() {
		native[p.Service] = append(native[p.Service], p.Port)
	}
	for svc, ports := range native {
		if w := c.ports[svc]; !slices.Equal(slices.Sorted(slices.Values(ports)), slices.Sorted(slices.Values(w))) {
			t.Fatalf("test table out of date: native %s ports are %v, table says %v", svc, ports, w)
		}
	}
	for name, s := range c.file.Services {
		var published []int
		for _, p := range s.Ports {
			if p.HostIP != "127.0.0.1" {
				t.Errorf("service %q publishes %q on %q, want 127.0.0.1 only (the native stack listens on loopback)", name, p.Spec, orAll(p.HostIP))
			}
			if p.Published == 0 {
				t.Errorf("service %q publishes %q on a host port the engine picks, want a fixed port", name, p.Spec)
			}
			published = append(published, p.Published)
		}
		if s.Labels[composeRoleLabel] != composeRoleServer {
			continue
		}
		want := slices.Clone(c.ports[name])
		for _, joined := range c.joining(name) {
			want = append(want, c.nativeAppPorts()[joined]...)
		}
		got, want := slices.Sorted(slices.Values(published)), slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("service %q publishes host ports %v, want the native stack's %v", name, got, want)
		}
	}
}

func orAll(ip string) string {
	if ip == "" {
		return "all interfaces"
	}
	return ip
}

// Host clients bootstrap from PHOTOBENCH_KAFKA_BROKERS and are then sent to
// the advertised address: it must be that same address, and the published
// port must lead to the listener behind it.
func checkComposeKafkaListeners(t *testing.T, c composeCase) {
	kafka := c.server(t, "kafka")
	advertised := parseListeners(t, kafka.Environment["KAFKA_ADVERTISED_LISTENERS"])
	var name string
	for n, addr := range advertised {
		if addr == c.cfg.KafkaBrokers() {
			name = n
		}
	}
	if name == "" {
		t.Fatalf("KAFKA_ADVERTISED_LISTENERS = %q advertises no listener at %s (PHOTOBENCH_KAFKA_BROKERS); host clients could not follow the broker's metadata", kafka.Environment["KAFKA_ADVERTISED_LISTENERS"], c.cfg.KafkaBrokers())
	}
	listen, ok := parseListeners(t, kafka.Environment["KAFKA_LISTENERS"])[name]
	if !ok {
		t.Fatalf("listener %s is advertised but not in KAFKA_LISTENERS = %q", name, kafka.Environment["KAFKA_LISTENERS"])
	}
	_, port, _ := strings.Cut(listen, ":")
	for _, p := range kafka.Ports {
		if p.Published == c.cfg.KafkaPort {
			if strconv.Itoa(p.Target) != port {
				t.Errorf("host port %d is published to container port %d, but listener %s listens on %q", c.cfg.KafkaPort, p.Target, name, listen)
			}
			return
		}
	}
	t.Errorf("kafka does not publish host port %d", c.cfg.KafkaPort)
}

// parseListeners reads NAME://host:port,... into name -> host:port.
func parseListeners(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(l), "://")
		if !ok {
			t.Fatalf("listener %q: want NAME://host:port", l)
		}
		out[name] = addr
	}
	return out
}

// (c) The init job creates the topics of cfg.Topics(), with the same
// partition counts. It lists them in PHOTOBENCH_TOPICS as name:partitions
// and creates each one in a loop over that variable.
func checkComposeTopics(t *testing.T, c composeCase) {
	job := c.initWith(t, "PHOTOBENCH_TOPICS")
	if !strings.Contains(job.script(), "$PHOTOBENCH_TOPICS") {
		t.Errorf("the topics init job does not use $PHOTOBENCH_TOPICS in its command:\n%s", job.script())
	}
	got := map[string]int{}
	for _, spec := range strings.Fields(job.Environment["PHOTOBENCH_TOPICS"]) {
		name, parts, ok := strings.Cut(spec, ":")
		n, err := strconv.Atoi(parts)
		if !ok || err != nil || name == "" {
			t.Errorf("PHOTOBENCH_TOPICS entry %q: want <topic>:<partitions>", spec)
			continue
		}
		if _, dup := got[name]; dup {
			t.Errorf("PHOTOBENCH_TOPICS lists %s twice", name)
		}
		got[name] = n
	}
	want := map[string]int{}
	for _, tp := range c.cfg.Topics() {
		want[tp.Name] = tp.Partitions
	}
	for name, n := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("topic %s (%d partitions) is not created by the compose init job", name, n)
		case g != n:
			t.Errorf("topic %s: compose creates %d partitions, the native stack %d", name, g, n)
		}
	}
	for name, n := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("compose creates topic %s (%d partitions), which the native stack does not (stack.Config.Topics)", name, n)
		}
	}
}

// (d) MinIO's only Kafka notification target has the native id, publishes
// to the objects topic, and the init job subscribes the originals bucket to
// that target's ARN.
func checkComposeMinIONotify(t *testing.T, c composeCase) {
	env := c.server(t, "minio").Environment
	const prefix = "MINIO_NOTIFY_KAFKA_"
	id := stack.MinIONotifyTarget
	for k := range env {
		if strings.HasPrefix(k, prefix) && !strings.HasSuffix(k, "_"+id) {
			t.Errorf("minio sets %s: a Kafka notification target whose id is not %s (stack.MinIONotifyTarget)", k, id)
		}
	}
	for setting, want := range map[string]string{
		"ENABLE":    "on",
		"TOPIC":     deploy.TopicObjects,
		"BROKERS":   "", // any value, but set
		"QUEUE_DIR": "", // any value, but set: events survive a Kafka outage
	} {
		k := prefix + setting + "_" + id
		got, ok := env[k]
		switch {
		case !ok || got == "":
			t.Errorf("minio does not set %s", k)
		case want != "" && got != want:
			t.Errorf("minio sets %s=%q, want %q", k, got, want)
		}
	}
	if got := env["MINIO_PROMETHEUS_AUTH_TYPE"]; got != "public" {
		t.Errorf("minio sets MINIO_PROMETHEUS_AUTH_TYPE=%q, want public: Prometheus scrapes MinIO without a token", got)
	}

	job := c.initWith(t, "PHOTOBENCH_NOTIFY_ARN")
	for k, want := range map[string]string{
		"PHOTOBENCH_NOTIFY_ARN":    stack.NotifyARN().String(),
		"PHOTOBENCH_NOTIFY_BUCKET": deploy.BucketOriginals,
	} {
		if got := job.Environment[k]; got != want {
			t.Errorf("the bucket init job sets %s=%q, want %q", k, got, want)
		}
	}
	buckets := slices.Sorted(slices.Values(strings.Fields(job.Environment["PHOTOBENCH_BUCKETS"])))
	if want := []string{deploy.BucketOriginals, deploy.BucketThumbnails}; !slices.Equal(buckets, want) {
		t.Errorf("the bucket init job creates buckets %v, want %v", buckets, want)
	}
	script := job.script()
	for _, s := range []string{"$PHOTOBENCH_BUCKETS", "$PHOTOBENCH_NOTIFY_BUCKET", "$PHOTOBENCH_NOTIFY_ARN", "--event put,delete"} {
		if !strings.Contains(script, s) {
			t.Errorf("the bucket init job's command does not contain %q:\n%s", s, script)
		}
	}
}

func checkComposeCredentials(t *testing.T, c composeCase) {
	for _, v := range []struct{ svc, key, want string }{
		{"postgres", "POSTGRES_USER", c.cfg.PGUser},
		{"postgres", "POSTGRES_PASSWORD", c.cfg.PGPassword},
		{"postgres", "POSTGRES_DB", c.cfg.PGDatabase},
		{"minio", "MINIO_ROOT_USER", c.cfg.S3AccessKey},
		{"minio", "MINIO_ROOT_PASSWORD", c.cfg.S3SecretKey},
	} {
		if got := c.server(t, v.svc).Environment[v.key]; got != v.want {
			t.Errorf("%s sets %s=%q, want %q as in the native stack", v.svc, v.key, got, v.want)
		}
	}
}

// compose/env exports every name of the native contract, with the native
// values except for the two directories, which are the compose stack's own.
func checkComposeEnvFile(t *testing.T, c composeCase) {
	own := []string{"PHOTOBENCH_PROMETHEUS_SD_DIR", "PHOTOBENCH_STACK_DIR"}
	for _, kv := range c.cfg.Env() {
		got, ok := c.envFile[kv[0]]
		switch {
		case !ok:
			t.Errorf("%s does not export %s", composeEnvFilePath, kv[0])
		case !slices.Contains(own, kv[0]) && got != kv[1]:
			t.Errorf("%s exports %s=%q, the native stack %q", composeEnvFilePath, kv[0], got, kv[1])
		}
	}
}
