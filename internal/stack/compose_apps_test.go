package stack_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/bench/target"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
)

// The apps in compose run the native stack's commands (stack.NativeApps)
// with the native environment contract, translated from loopback to the
// compose network: a listen address 127.0.0.1:P becomes 0.0.0.0:T, and
// any other 127.0.0.1:P (a URL, a DSN, a broker) becomes NAME:T, where
// NAME is the service that owns host port P natively and T the container
// port that host port is published to.

var (
	composePrometheusPath = filepath.Join("..", "..", "compose", "prometheus.yml")
	composeTargetPath     = filepath.Join("..", "..", "compose", "target.yaml")
)

// composeOwnEnv are the contract's names whose values are the compose
// stack's own (directories inside the containers), not translated ones.
var composeOwnEnv = []string{"PHOTOBENCH_PROMETHEUS_SD_DIR", "PHOTOBENCH_STACK_DIR"}

func checkComposeApps(t *testing.T, c composeCase) {
	for _, p := range composeAppProblems(c) {
		t.Error(p)
	}
}

// joining lists the services that share owner's network namespace.
func (c composeCase) joining(owner string) []string {
	var names []string
	for name, s := range c.file.Services {
		if s.NetworkMode == "service:"+owner {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// netOwner is the service whose network namespace svc runs in (itself,
// unless network_mode says another).
func (c composeCase) netOwner(svc string) string {
	if o, ok := strings.CutPrefix(c.file.Services[svc].NetworkMode, "service:"); ok {
		return o
	}
	return svc
}

// nativeAppPorts are the host ports each native app listens on.
func (c composeCase) nativeAppPorts() map[string][]int {
	m := map[string][]int{}
	for _, p := range c.cfg.AppPorts() {
		m[p.Service] = append(m[p.Service], p.Port)
	}
	return m
}

// composeAddrs maps each native loopback port to the address that reaches
// the same service on the compose network, and reports what it cannot map.
func (c composeCase) composeAddrs() (map[int]string, []string) {
	addrs := map[int]string{}
	var problems []string
	uses := append(c.cfg.Ports(), c.cfg.AppPorts()...)
	for _, u := range uses {
		owner := c.netOwner(u.Service)
		target := 0
		for _, p := range c.file.Services[owner].Ports {
			if p.Published == u.Port {
				target = p.Target
			}
		}
		if target == 0 {
			problems = append(problems, fmt.Sprintf("native %s (%s=%d) is not published by compose service %q", u.Service, u.Name, u.Port, owner))
			continue
		}
		addrs[u.Port] = u.Service + ":" + strconv.Itoa(target)
	}
	// Kafka's published port leads to its HOST listener, which sends clients
	// back to 127.0.0.1; containers use the listener it advertises under its
	// service name.
	for _, l := range strings.Split(c.file.Services["kafka"].Environment["KAFKA_ADVERTISED_LISTENERS"], ",") {
		if _, addr, ok := strings.Cut(l, "://"); ok && strings.HasPrefix(addr, "kafka:") {
			addrs[c.cfg.KafkaPort] = addr
		}
	}
	return addrs, problems
}

var loopbackAddr = regexp.MustCompile(`127\.0\.0\.1:([0-9]+)`)

// translate rewrites every loopback address in s with addrs.
func translate(s string, addrs map[int]string) string {
	return loopbackAddr.ReplaceAllStringFunc(s, func(m string) string {
		p, _ := strconv.Atoi(m[len("127.0.0.1:"):])
		if a, ok := addrs[p]; ok {
			return a
		}
		return m
	})
}

// translateListen rewrites a listen address 127.0.0.1:P to 0.0.0.0:T.
func translateListen(s string, addrs map[int]string) string {
	return loopbackAddr.ReplaceAllStringFunc(s, func(m string) string {
		p, _ := strconv.Atoi(m[len("127.0.0.1:"):])
		if a, ok := addrs[p]; ok {
			_, port, _ := strings.Cut(a, ":")
			return "0.0.0.0:" + port
		}
		return m
	})
}

// composeArgs is a native app's command line as it must read in compose:
// addresses translated; the value of --data-dir is the compose file's own
// (under /home/nonroot, the app's volume) and is replaced by "<own>" in
// both.
func composeArgs(native []string, addrs map[int]string) []string {
	out := make([]string, len(native))
	for i, a := range native {
		prev := ""
		if i > 0 {
			prev = native[i-1]
		}
		switch prev {
		case "--addr", "--listen":
			out[i] = translateListen(a, addrs)
		case "--data-dir":
			out[i] = "<own>"
		default:
			out[i] = translate(a, addrs)
		}
	}
	return out
}

func ownDataDir(args []string) ([]string, []string) {
	var problems []string
	out := slices.Clone(args)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--data-dir" {
			if !strings.HasPrefix(out[i], "/home/nonroot/") {
				problems = append(problems, fmt.Sprintf("--data-dir %s is not under /home/nonroot, the app's volume", out[i]))
			}
			out[i] = "<own>"
		}
	}
	return out, problems
}

// composeAppProblems compares the compose file's apps with the native
// stack's: which apps there are, their image, command, environment,
// published ports, healthchecks, their scrape targets in prometheus.yml,
// and compose/target.yaml's addresses.
func composeAppProblems(c composeCase) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	native := stack.NativeApps(c.cfg)
	var names []string
	for _, a := range native {
		names = append(names, a.Name)
	}
	got := c.servicesWithRole(composeRoleApp)
	for _, n := range names {
		if !slices.Contains(got, n) {
			add("native app %q has no compose service labelled %s: %s", n, composeRoleLabel, composeRoleApp)
		}
	}
	for _, n := range got {
		if !slices.Contains(names, n) {
			add("compose service %q is labelled %s: %s but is not a native app (%v)", n, composeRoleLabel, composeRoleApp, names)
		}
	}
	benches := c.servicesWithRole(composeRoleBench)
	if len(benches) != 1 {
		add("want one service labelled %s: %s, found %v", composeRoleLabel, composeRoleBench, benches)
	}
	// The bench runs as the host's user, who cannot enter the image's
	// working directory (/home/nonroot, 0700, owned by 65532): it must set
	// one any user may enter, and keep its stack directory writable there.
	for _, b := range benches {
		s := c.project.Services[b]
		if s.WorkingDir != "/tmp" {
			add("service %q: working_dir is %q, want /tmp: it runs as PHOTOBENCH_UID, which cannot enter the image's /home/nonroot", b, s.WorkingDir)
		}
		if dir := s.Environment["PHOTOBENCH_STACK_DIR"]; dir == nil || !strings.HasPrefix(*dir, "/tmp/") {
			add("service %q: PHOTOBENCH_STACK_DIR is not under /tmp, where any user may write", b)
		}
	}

	addrs, ps := c.composeAddrs()
	problems = append(problems, ps...)
	contract := append(append(c.cfg.Env(), c.cfg.AppEnv()...), [2]string{promsd.AppSetEnv, c.cfg.AppSet()})
	nativePorts := c.nativeAppPorts()

	for _, svc := range append(slices.Clone(names), benches...) {
		s, ok := c.file.Services[svc]
		if !ok {
			continue
		}
		if s.Image != c.image {
			add("service %q runs image %q, want the photobench image %q", svc, s.Image, c.image)
		}
		for _, kv := range contract {
			v, ok := s.Environment[kv[0]]
			switch {
			case !ok:
				add("service %q does not set %s (the native apps get it)", svc, kv[0])
			case slices.Contains(composeOwnEnv, kv[0]):
			case v != translate(kv[1], addrs):
				add("service %q sets %s=%q, want %q (the native %q on the compose network)", svc, kv[0], v, translate(kv[1], addrs), kv[1])
			}
		}
	}

	// The runtime registers its replicas in its PHOTOBENCH_PROMETHEUS_SD_DIR,
	// which must be a volume Prometheus mounts too.
	sdVolume := ""
	if rt, ok := c.project.Services["runtime"]; ok {
		dir := c.file.Services["runtime"].Environment["PHOTOBENCH_PROMETHEUS_SD_DIR"]
		for _, v := range rt.Volumes {
			if v.Target == dir && v.Type == "volume" {
				sdVolume = v.Source
			}
		}
		if sdVolume == "" {
			add("runtime: PHOTOBENCH_PROMETHEUS_SD_DIR=%s is not a named volume it mounts", dir)
		}
	}
	promSDDir := ""
	for _, v := range c.project.Services["prometheus"].Volumes {
		if sdVolume != "" && v.Source == sdVolume {
			promSDDir = v.Target
		}
	}
	if sdVolume != "" && promSDDir == "" {
		add("prometheus does not mount volume %q, where the runtime registers its replicas", sdVolume)
	}

	for _, a := range native {
		s, ok := c.file.Services[a.Name]
		if !ok {
			continue
		}
		want := composeArgs(a.Args, addrs)
		gotArgs, ps := ownDataDir(s.Command)
		problems = append(problems, ps...)
		if len(s.Entrypoint) > 0 {
			add("service %q overrides the image's entrypoint with %q", a.Name, s.Entrypoint)
		}
		if !slices.Equal(gotArgs, want) {
			add("service %q runs %q, want %q (the native stack's %q on the compose network)", a.Name, gotArgs, want, a.Args)
		}

		// Published ports: the native app's, by its network namespace.
		owner := c.netOwner(a.Name)
		if owner != a.Name && len(s.Ports) > 0 {
			add("service %q publishes ports but runs in %q's network namespace, which must publish them", a.Name, owner)
		}
		for _, p := range nativePorts[a.Name] {
			if _, ok := addrs[p]; !ok {
				add("native %s port %d is not published by compose service %q", a.Name, p, owner)
			}
		}
		if owner != a.Name && !slices.Contains(c.aliases(owner), a.Name) {
			add("service %q runs in %q's network namespace, so %q must be an alias of %q on the default network", a.Name, owner, a.Name, owner)
		}

		// The healthcheck GETs its own /healthz with the binary itself.
		listen := addrs[a.Port]
		_, port, _ := strings.Cut(listen, ":")
		hc := c.project.Services[a.Name].HealthCheck
		wantHC := []string{"CMD", "/photobench", "healthcheck", "http://127.0.0.1:" + port + "/healthz"}
		if hc == nil || !slices.Equal(hc.Test, wantHC) {
			add("service %q: healthcheck %v, want %q", a.Name, hc, wantHC)
		}
	}

	tf, err := target.Load(composeTargetPath)
	if err != nil {
		return append(problems, err.Error())
	}
	problems = append(problems, composeScrapeProblems(c, native, addrs, promSDDir, tf.Metrics.Advertise)...)
	problems = append(problems, composeTargetProblems(c, tf, addrs)...)
	return problems
}

// aliases are svc's aliases on the default network.
func (c composeCase) aliases(svc string) []string {
	if n := c.project.Services[svc].Networks["default"]; n != nil {
		return n.Aliases
	}
	return nil
}

// promConfig is the part of prometheus.yml these tests read.
type promConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string          `yaml:"targets"`
			Labels  map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
		FileSDConfigs []struct {
			Files []string `yaml:"files"`
		} `yaml:"file_sd_configs"`
	} `yaml:"scrape_configs"`
}

// Prometheus scrapes every app with the labels the native stack registers
// it with (job photobench, component, architecture, app_set), the
// runtime's replicas through the shared discovery volume, and the bench
// where target.yaml advertises it.
func composeScrapeProblems(c composeCase, native []stack.NativeApp, addrs map[int]string, sdDir, benchAddr string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	raw, err := os.ReadFile(composePrometheusPath)
	if err != nil {
		return []string{err.Error()}
	}
	var cfg promConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return []string{fmt.Sprintf("parse %s: %v", composePrometheusPath, err)}
	}
	static := map[string]map[string]string{}
	var files []string
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != "photobench" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				static[tg] = st.Labels
			}
		}
		for _, f := range sc.FileSDConfigs {
			files = append(files, f.Files...)
		}
	}
	for _, a := range native {
		addr := addrs[a.Port]
		want := map[string]string{"component": a.Name, "architecture": a.Arch, promsd.AppSetLabel: c.cfg.AppSet()}
		labels, ok := static[addr]
		switch {
		case !ok:
			add("%s: job photobench does not scrape %s (%s)", composePrometheusPath, addr, a.Name)
		case !maps.Equal(labels, want):
			add("%s: target %s has labels %v, want %v as the native registration", composePrometheusPath, addr, labels, want)
		}
	}
	if sdDir != "" && !slices.Contains(files, sdDir+"/*.json") {
		add("%s: job photobench does not read %s/*.json, where the runtime registers its replicas (files: %v)", composePrometheusPath, sdDir, files)
	}
	if adv := benchAddr; adv != "" {
		if labels, ok := static[adv]; !ok || !maps.Equal(labels, map[string]string{"source": "bench"}) {
			add("%s: job photobench does not scrape the bench at %s with source=bench (got %v)", composePrometheusPath, adv, labels)
		}
	}
	return problems
}

// compose/target.yaml points the bench at the compose apps: the same URLs
// as the apps' contract, on the compose network.
func composeTargetProblems(c composeCase, f *target.Target, addrs map[int]string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	env := map[string]string{}
	for _, kv := range append(c.cfg.Env(), c.cfg.AppEnv()...) {
		env[kv[0]] = translate(kv[1], addrs)
	}
	for _, w := range []struct{ field, got, env string }{
		{"prometheus", f.Prometheus, "PHOTOBENCH_PROMETHEUS_URL"},
		{"variants.monolith", f.Variants["monolith"], "PHOTOBENCH_MONOLITH_URL"},
		{"variants.monolith-async", f.Variants["monolith-async"], "PHOTOBENCH_MONOLITH_ASYNC_URL"},
		{"variants.eventdriven", f.Variants["eventdriven"], "PHOTOBENCH_EVENTDRIVEN_URL"},
		{"vision", f.Vision, "PHOTOBENCH_VISION_URL"},
	} {
		if w.got != env[w.env] {
			add("%s: %s is %q, want %q (%s on the compose network)", composeTargetPath, w.field, w.got, env[w.env], w.env)
		}
	}
	if f.AppSet != c.cfg.AppSet() {
		add("%s: app_set is %q, want %q", composeTargetPath, f.AppSet, c.cfg.AppSet())
	}
	for server, hook := range f.Restart {
		if len(hook) != 0 {
			add("%s: restart.%s is %v, want none: the bench has no Docker socket", composeTargetPath, server, hook)
		}
	}
	if f.Metrics.Advertise != "" {
		host, port, _ := strings.Cut(f.Metrics.Advertise, ":")
		if _, ok := c.file.Services[host]; !ok || c.file.Services[host].Labels[composeRoleLabel] != composeRoleBench {
			add("%s: metrics.advertise %s is not the bench service", composeTargetPath, f.Metrics.Advertise)
		}
		if _, lport, _ := strings.Cut(f.Metrics.Listen, ":"); lport != port {
			add("%s: metrics.listen %s and advertise %s differ in port", composeTargetPath, f.Metrics.Listen, f.Metrics.Advertise)
		}
	}
	// The bench service reads this file where it mounts it.
	for _, b := range c.servicesWithRole(composeRoleBench) {
		mounted := ""
		for _, v := range c.project.Services[b].Volumes {
			if filepath.Base(v.Source) == filepath.Base(composeTargetPath) {
				mounted = v.Target
			}
		}
		args := c.file.Services[b].Command
		i := slices.Index(args, "--target")
		if mounted == "" || i < 0 || i+1 >= len(args) || args[i+1] != mounted {
			add("service %q does not run --target on the target.yaml it mounts (mounted at %q, command %q)", b, mounted, args)
		}
	}
	return problems
}

// TestComposeBenchRunDocsUseAliases holds the documented way to run the
// bench service: `docker compose run` registers the service name on the
// network only with --use-aliases, and prometheus.yml scrapes the bench's
// own metrics at bench:9464, so every `run ... bench` shown must carry it.
func TestComposeBenchRunDocsUseAliases(t *testing.T) {
	files := []string{
		filepath.Join("..", "..", "compose", "docker-compose.yml"),
		filepath.Join("..", "..", "compose", "README.md"),
		filepath.Join("..", "..", "deploy", "README.md"),
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		shown := 0
		for i, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "docker compose") || !strings.Contains(line, " run ") {
				continue
			}
			shown++
			if !strings.Contains(line, "run --rm --use-aliases bench") {
				t.Errorf("%s:%d runs the bench without --use-aliases (Prometheus cannot resolve bench:9464): %s", f, i+1, strings.TrimSpace(line))
			}
		}
		if shown == 0 {
			t.Errorf("%s shows no `docker compose ... run` of the bench", f)
		}
	}
}
