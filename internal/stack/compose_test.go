package stack_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stack"
)

// The compose stack (compose/docker-compose.yml) cannot run on the machines
// that run these tests: they have no container engine. These tests keep it
// consistent with the native stack instead, by reading the file as Compose
// would (YAML, then ${VAR:-default} interpolation) under the same
// environment that stack.LoadConfig reads.

var (
	composeFilePath    = filepath.Join("..", "..", "compose", "docker-compose.yml")
	composeEnvFilePath = filepath.Join("..", "..", "compose", "env")
)

// composeRoleLabel says what a compose service is: composeRoleServer (one of
// stack.ServiceNames()), composeRoleInit (a one-shot job that creates
// topics or buckets) or composeRoleUI (Grafana).
const (
	composeRoleLabel  = "photobench.role"
	composeRoleServer = "server"
	composeRoleInit   = "init"
	composeRoleUI     = "ui"
)

// composeFile is the part of a Compose file these tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Labels      composeStringMap  `yaml:"labels"`
	Environment composeStringMap  `yaml:"environment"`
	Ports       []composePort     `yaml:"ports"`
	Entrypoint  composeStringList `yaml:"entrypoint"`
	Command     composeStringList `yaml:"command"`
}

// script is everything the service runs, for checks that a command uses a
// variable.
func (s composeService) script() string {
	return strings.Join(append(slices.Clone(s.Entrypoint), s.Command...), "\n")
}

// composeStringMap reads Compose's two spellings of labels and environment:
// a mapping, or a list of KEY=VALUE strings.
type composeStringMap map[string]string

func (m *composeStringMap) UnmarshalYAML(n *yaml.Node) error {
	out := map[string]string{}
	switch n.Kind {
	case yaml.MappingNode:
		if err := n.Decode(&out); err != nil {
			return err
		}
	case yaml.SequenceNode:
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		for _, item := range items {
			k, v, _ := strings.Cut(item, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: want a mapping or a list of KEY=VALUE", n.Line)
	}
	*m = out
	return nil
}

// composeStringList reads a command or entrypoint: a list, or one string.
type composeStringList []string

func (l *composeStringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = []string{n.Value}
		return nil
	}
	var items []string
	if err := n.Decode(&items); err != nil {
		return err
	}
	*l = items
	return nil
}

// composePort is one published port, from the short syntax
// ([HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]) or the long one.
// Published is 0 when the engine picks the host port.
type composePort struct {
	HostIP    string
	Published int
	Target    int
	Spec      string // as written, for messages
}

func (p *composePort) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return p.parseShort(n.Value)
	case yaml.MappingNode:
		var long struct {
			Target    string `yaml:"target"`
			Published string `yaml:"published"`
			HostIP    string `yaml:"host_ip"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		p.Spec = fmt.Sprintf("{host_ip: %s, published: %s, target: %s}", long.HostIP, long.Published, long.Target)
		p.HostIP = long.HostIP
		return p.setPorts(long.Published, long.Target)
	default:
		return fmt.Errorf("line %d: want a port string or mapping", n.Line)
	}
}

func (p *composePort) parseShort(s string) error {
	p.Spec = s
	s, _, _ = strings.Cut(s, "/") // protocol
	if strings.Contains(s, "[") {
		return fmt.Errorf("port %q: IPv6 host addresses are not supported here", p.Spec)
	}
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		return p.setPorts("", parts[0])
	case 2:
		return p.setPorts(parts[0], parts[1])
	case 3:
		p.HostIP = parts[0]
		return p.setPorts(parts[1], parts[2])
	}
	return fmt.Errorf("port %q: want [HOST_IP:][HOST_PORT:]CONTAINER_PORT", p.Spec)
}

func (p *composePort) setPorts(published, target string) error {
	var err error
	if published != "" {
		if p.Published, err = strconv.Atoi(published); err != nil {
			return fmt.Errorf("port %q: host port %q is not a single port number", p.Spec, published)
		}
	}
	if p.Target, err = strconv.Atoi(target); err != nil {
		return fmt.Errorf("port %q: container port %q is not a single port number", p.Spec, target)
	}
	return nil
}

// loadCompose parses the Compose file as Compose does: YAML first, then
// interpolation of every value (not of keys) with lookup.
func loadCompose(t *testing.T, raw []byte, lookup func(string) (string, bool)) composeFile {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", composeFilePath, err)
	}
	if err := interpolateNode(&doc, lookup); err != nil {
		t.Fatalf("interpolate %s: %v", composeFilePath, err)
	}
	var f composeFile
	if err := doc.Decode(&f); err != nil {
		t.Fatalf("decode %s: %v", composeFilePath, err)
	}
	if len(f.Services) == 0 {
		t.Fatalf("%s defines no services", composeFilePath)
	}
	return f
}

func interpolateNode(n *yaml.Node, lookup func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := interpolateNode(c, lookup); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := interpolateNode(n.Content[i], lookup); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		v, err := interpolate(n.Value, lookup)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		n.Value = v
	}
	// An alias shares its anchor's node, which is interpolated where it is
	// defined.
	return nil
}

// interpolate expands the subset of Compose's syntax that the project uses:
// $$ (a literal $), $NAME, ${NAME}, ${NAME:-default} (default when unset or
// empty) and ${NAME-default} (default when unset). Anything else is an
// error, so that the file cannot use syntax these tests would misread.
func interpolate(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "$"):
			b.WriteByte('$')
			i += 2
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return "", fmt.Errorf("unclosed ${ in %q", s)
			}
			v, err := expandVar(rest[1:end], lookup)
			if err != nil {
				return "", fmt.Errorf("%q: %w", s, err)
			}
			b.WriteString(v)
			i += 1 + end + 1
		default:
			n := composeNameLen(rest)
			if n == 0 {
				return "", fmt.Errorf("lone $ in %q: write a literal $ as $$", s)
			}
			v, _ := lookup(rest[:n])
			b.WriteString(v)
			i += 1 + n
		}
	}
	return b.String(), nil
}

func expandVar(expr string, lookup func(string) (string, bool)) (string, error) {
	n := composeNameLen(expr)
	if n == 0 {
		return "", fmt.Errorf("${%s}: not a variable name", expr)
	}
	name, op := expr[:n], expr[n:]
	v, set := lookup(name)
	switch {
	case op == "":
		return v, nil
	case strings.Contains(op, "$"):
		return "", fmt.Errorf("${%s}: nested interpolation is not supported here", expr)
	case strings.HasPrefix(op, ":-"):
		if v == "" {
			return op[2:], nil
		}
		return v, nil
	case strings.HasPrefix(op, "-"):
		if !set {
			return op[1:], nil
		}
		return v, nil
	}
	return "", fmt.Errorf("${%s}: only ${NAME}, ${NAME:-default} and ${NAME-default} are supported here", expr)
}

func composeNameLen(s string) int {
	for i, c := range s {
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return i
		}
	}
	return len(s)
}

// composeCase is the compose stack and the native configuration under one
// environment.
type composeCase struct {
	file composeFile
	cfg  stack.Config
	// ports are the host ports each server service must publish.
	ports map[string][]int
	// envFile holds compose/env's exported values, interpolated.
	envFile map[string]string
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

func TestComposeMatchesNativeStack(t *testing.T) {
	raw, err := os.ReadFile(composeFilePath)
	if err != nil {
		t.Fatal(err)
	}
	rawEnv, err := os.ReadFile(composeEnvFilePath)
	if err != nil {
		t.Fatal(err)
	}
	environments := []struct {
		name string
		env  map[string]string
		// ports are the host ports each server must publish under env.
		ports map[string][]int
	}{
		{
			name: "default environment",
			env:  nil,
			ports: map[string][]int{
				"postgres":   {stack.DefaultPGPort},
				"kafka":      {stack.DefaultKafkaPort, stack.DefaultKafkaControllerPort},
				"minio":      {stack.DefaultMinIOPort},
				"prometheus": {stack.DefaultPrometheusPort},
			},
		},
		{
			// The same override variables must move both stacks alike.
			name: "overridden ports and partitions",
			env: map[string]string{
				"PHOTOBENCH_PG_PORT":               "25432",
				"PHOTOBENCH_KAFKA_PORT":            "29092",
				"PHOTOBENCH_KAFKA_CONTROLLER_PORT": "29093",
				"PHOTOBENCH_MINIO_PORT":            "29000",
				"PHOTOBENCH_PROMETHEUS_PORT":       "29090",
				"PHOTOBENCH_KAFKA_PARTITIONS":      "12",
			},
			ports: map[string][]int{
				"postgres":   {25432},
				"kafka":      {29092, 29093},
				"minio":      {29000},
				"prometheus": {29090},
			},
		},
	}
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
	}
	for _, e := range environments {
		t.Run(e.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := e.env[k]; return v, ok }
			cfg, err := stack.LoadConfig(func(k string) string { return e.env[k] }, ".stack")
			if err != nil {
				t.Fatal(err)
			}
			c := composeCase{
				file:    loadCompose(t, raw, lookup),
				cfg:     cfg,
				ports:   e.ports,
				envFile: parseComposeEnvFile(t, rawEnv, lookup),
			}
			for _, check := range checks {
				t.Run(check.name, func(t *testing.T) { check.fn(t, c) })
			}
		})
	}
}

func checkComposeRoles(t *testing.T, c composeCase) {
	valid := []string{composeRoleServer, composeRoleInit, composeRoleUI}
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

// (b) Servers publish exactly the native ports, and every service publishes
// on 127.0.0.1 only.
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
		got, want := slices.Sorted(slices.Values(published)), slices.Sorted(slices.Values(c.ports[name]))
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

// parseComposeEnvFile reads `export NAME="value"` lines. Values are
// interpolated with lookup, except those that refer to $PWD, which the
// shell fills in.
func parseComposeEnvFile(t *testing.T, raw []byte, lookup func(string) (string, bool)) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, line := range strings.Split(string(raw), "\n") {
		line, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s:%d: want export NAME=\"value\"", composeEnvFilePath, i+1)
		}
		value = strings.Trim(value, `"`)
		if !strings.Contains(value, "$PWD") {
			v, err := interpolate(value, lookup)
			if err != nil {
				t.Fatalf("%s:%d: %v", composeEnvFilePath, i+1, err)
			}
			value = v
		}
		out[name] = value
	}
	return out
}
