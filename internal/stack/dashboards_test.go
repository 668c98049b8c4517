package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/loadgen"
)

// The dashboards (dashboards/*.json) are checked three ways: their
// conventions (the data source uid, unique uids and panel ids), that every
// photobench_ metric they query is one the code registers (no stack needed),
// and that every PromQL expression parses, as the stack's own Prometheus
// parses it (POST /api/v1/format_query).

// dataSourceUID is the uid every panel and query names its data source by
// (dashboards/provisioning/datasources/prometheus.yml).
const dataSourceUID = "photobench-prometheus"

// dashboard is the part of a classic Grafana dashboard JSON the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		Datasource *datasource `json:"datasource"`
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// variable is a templating variable; Definition holds a query variable's
// label_values(...) query.
type variable struct {
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Datasource *datasource `json:"datasource"`
	Definition string      `json:"definition"`
}

// query is one PromQL expression of a dashboard and where it is.
type query struct {
	where string // panel title and refId
	expr  string
}

// allPanels returns the panels, rows' nested panels included.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// queries returns every panel's PromQL expressions.
func (d dashboard) queries() []query {
	var qs []query
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) != "" {
				qs = append(qs, query{where: fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), expr: tg.Expr})
			}
		}
	}
	return qs
}

// loadDashboards reads every dashboards/*.json, by file name.
func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(stacktest.RepoRoot(t), "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards (%v)", err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: not JSON: %v", filepath.Base(f), err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Every dashboard names the provisioned data source by uid, has its own uid,
// and numbers its panels uniquely; every panel that draws something has a
// query.
func TestDashboardsFollowConventions(t *testing.T) {
	dashboards := loadDashboards(t)
	uids := map[string]string{}
	for _, name := range sortedKeys(dashboards) {
		d := dashboards[name]
		t.Run(name, func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Errorf("uid %q and title %q must both be set", d.UID, d.Title)
			}
			if other, ok := uids[d.UID]; ok {
				t.Errorf("uid %q is also %s's", d.UID, other)
			}
			uids[d.UID] = name
			ids := map[int]bool{}
			for _, p := range d.allPanels() {
				if ids[p.ID] {
					t.Errorf("panel %q: id %d is used twice", p.Title, p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" {
					continue
				}
				if p.Datasource == nil || p.Datasource.UID != dataSourceUID {
					t.Errorf("panel %q: data source %+v, want uid %s", p.Title, p.Datasource, dataSourceUID)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				for _, tg := range p.Targets {
					if tg.Datasource == nil || tg.Datasource.UID != dataSourceUID {
						t.Errorf("panel %q query %s: data source %+v, want uid %s", p.Title, tg.RefID, tg.Datasource, dataSourceUID)
					}
				}
			}
			for _, v := range d.Templating.List {
				if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != dataSourceUID) {
					t.Errorf("variable %s: data source %+v, want uid %s", v.Name, v.Datasource, dataSourceUID)
				}
			}
		})
	}
}

var metricName = regexp.MustCompile(`photobench_[a-z0-9_]+`)

// histogramSuffixes are the series a histogram family exposes besides its
// name.
var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// Every photobench_ metric a dashboard queries must be one the code
// registers: a renamed metric would otherwise leave an empty panel. A
// histogram's _bucket, _sum and _count series count as its name.
func TestDashboardsUseDefinedMetrics(t *testing.T) {
	defined, histograms := registeredMetrics(t, stacktest.RepoRoot(t))
	for _, n := range loadgen.ExportedMetricNames() {
		defined[n] = true
	}
	// The scan must see the code's metric definitions, or every check below
	// would fail for the wrong reason.
	for name, hist := range map[string]bool{
		"photobench_runtime_lag":                       false,
		"photobench_http_request_duration_seconds":     true,
		"photobench_vision_request_duration_seconds":   true, // through a helper inside NewHistogramVec
		"photobench_loadgen_latency_seconds":           true, // through a constant
		"photobench_component_cpu_seconds_total":       false,
		"photobench_event_delivery_delay_seconds":      true,
		"photobench_loadgen_target_rate_per_second":    false,
		"photobench_catalog_upload_to_ready_seconds":   true,
		"photobench_runtime_scaling_decisions_total":   false,
		"photobench_component_resident_memory_bytes":   false,
		"photobench_loadgen_ready_latency_seconds":     true,
		"photobench_monolith_stage_duration_seconds":   true,
		"photobench_runtime_cold_start_seconds":        true,
		"photobench_loadgen_schedule_lag_seconds":      true,
		"photobench_dlq_writes_total":                  false,
		"photobench_consumer_lag":                      false,
		"photobench_monolith_upload_slot_wait_seconds": true,
	} {
		if !defined[name] || histograms[name] != hist {
			t.Errorf("the source scan found %s: defined %v, histogram %v (want histogram %v)", name, defined[name], histograms[name], hist)
		}
	}

	dashboards := loadDashboards(t)
	for _, name := range sortedKeys(dashboards) {
		d := dashboards[name]
		t.Run(name, func(t *testing.T) {
			uses := map[string][]string{} // metric -> where
			for _, q := range d.queries() {
				for _, m := range metricName.FindAllString(q.expr, -1) {
					uses[m] = append(uses[m], q.where)
				}
			}
			for _, v := range d.Templating.List {
				for _, m := range metricName.FindAllString(v.Definition, -1) {
					uses[m] = append(uses[m], "variable "+v.Name)
				}
			}
			for _, m := range sortedKeys(uses) {
				if known(m, defined, histograms) {
					continue
				}
				t.Errorf("%s queries %s, which no code registers", strings.Join(uses[m], ", "), m)
			}
		})
	}
}

// known reports whether m is a registered metric, or a series of a
// registered histogram.
func known(m string, defined, histograms map[string]bool) bool {
	if defined[m] {
		return true
	}
	for _, s := range histogramSuffixes {
		if base, ok := strings.CutSuffix(m, s); ok && histograms[base] {
			return true
		}
	}
	return false
}

// metricNameLit is a whole metric name, as a string literal holds it.
var metricNameLit = regexp.MustCompile(`^photobench_[a-z0-9_]+$`)

// registeredMetrics scans the non-test Go source under root for metric
// definitions: a photobench_ string (a literal, or a constant of the same
// package) passed to a client_golang constructor (prometheus.NewCounterVec,
// NewDesc, ...) or set in one of its option structs (prometheus.HistogramOpts
// and the rest), helpers in between included. It returns the names and,
// among them, the histograms (inside NewHistogram/NewHistogramVec or a
// HistogramOpts).
func registeredMetrics(t *testing.T, root string) (defined, histograms map[string]bool) {
	t.Helper()
	defined, histograms = map[string]bool{}, map[string]bool{}
	fset := token.NewFileSet()
	files := map[string][]*ast.File{} // by directory: a package's constants are shared
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files[filepath.Dir(p)] = append(files[filepath.Dir(p)], f)
		return nil
	})
	if err != nil {
		t.Fatalf("scan the source: %v", err)
	}
	for _, pkg := range files {
		consts := map[string]string{}
		for _, f := range pkg {
			ast.Inspect(f, func(n ast.Node) bool {
				if vs, ok := n.(*ast.ValueSpec); ok {
					for i, id := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := stringLit(vs.Values[i]); ok {
								consts[id.Name] = s
							}
						}
					}
				}
				return true
			})
		}
		for _, f := range pkg {
			var enclosing []ast.Node
			ast.Inspect(f, func(n ast.Node) bool {
				if n == nil {
					enclosing = enclosing[:len(enclosing)-1]
					return true
				}
				enclosing = append(enclosing, n)
				var name string
				switch e := n.(type) {
				case *ast.BasicLit:
					name, _ = stringLit(e)
				case *ast.Ident:
					name = consts[e.Name]
				}
				if !metricNameLit.MatchString(name) {
					return true
				}
				inDefinition, histogram := false, false
				for _, outer := range enclosing[:len(enclosing)-1] {
					def, hist := metricConstructor(outer)
					inDefinition = inDefinition || def
					histogram = histogram || hist
				}
				if inDefinition {
					defined[name] = true
					if histogram {
						histograms[name] = true
					}
				}
				return true
			})
		}
	}
	return defined, histograms
}

// stringLit returns the value of a string literal expression.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// metricConstructor reports whether n defines a metric (a call of
// prometheus.New* or promauto.New*, or a prometheus.*Opts literal) and
// whether that metric is a histogram.
func metricConstructor(n ast.Node) (definition, histogram bool) {
	var sel *ast.SelectorExpr
	switch e := n.(type) {
	case *ast.CallExpr:
		sel, _ = e.Fun.(*ast.SelectorExpr)
		if sel == nil || !strings.HasPrefix(sel.Sel.Name, "New") {
			return false, false
		}
	case *ast.CompositeLit:
		sel, _ = e.Type.(*ast.SelectorExpr)
		if sel == nil || !strings.HasSuffix(sel.Sel.Name, "Opts") {
			return false, false
		}
	default:
		return false, false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok || (pkg.Name != "prometheus" && pkg.Name != "promauto") {
		return false, false
	}
	return true, strings.HasPrefix(sel.Sel.Name, "NewHistogram") || sel.Sel.Name == "HistogramOpts"
}

// grafanaVariable matches Grafana's variable syntaxes: $name, ${name},
// ${name:format} and [[name]].
var grafanaVariable = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

// builtinValues stand in for Grafana's global variables, as the
// provisioned data source (1 s time interval) and a 15-minute range give
// them.
var builtinValues = map[string]string{
	"__rate_interval":    "4s",
	"__interval":         "1s",
	"__interval_ms":      "1000",
	"__range":            "15m",
	"__range_s":          "900",
	"__range_ms":         "900000",
	"__rate_interval_ms": "4000",
}

// substituteVariables replaces Grafana variables with values Prometheus
// accepts: the built-in intervals with durations, a dashboard variable
// (which the dashboards use inside label matchers) with a word that is both
// a valid regular expression and a valid label name. It returns the names
// it does not know.
func substituteVariables(expr string, vars []variable) (string, []string) {
	dashboardVars := map[string]bool{}
	for _, v := range vars {
		dashboardVars[v.Name] = true
	}
	var unknown []string
	out := grafanaVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVariable.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := builtinValues[name]; ok {
			return v
		}
		if dashboardVars[name] {
			return "photobench"
		}
		unknown = append(unknown, name)
		return m
	})
	return out, unknown
}

func TestDashboardVariableSubstitution(t *testing.T) {
	vars := []variable{{Name: "architecture"}, {Name: "job"}}
	tests := []struct {
		name, expr, want string
		unknown          []string
	}{
		{"rate interval", `rate(x[$__rate_interval])`, `rate(x[4s])`, nil},
		{"interval in braces", `rate(x[${__interval}])`, `rate(x[1s])`, nil},
		{"dashboard variable", `x{architecture=~"$architecture"}`, `x{architecture=~"photobench"}`, nil},
		{"formatted and bracketed", `x{job=~"${job:regex}",a="[[architecture]]"}`, `x{job=~"photobench",a="photobench"}`, nil},
		{"regex replacement is not a variable", `label_replace(x, "a", "$1", "b", "(.+)")`, `label_replace(x, "a", "$1", "b", "(.+)")`, []string{"1"}},
		{"unknown variable", `x{a="$nope"}`, `x{a="$nope"}`, []string{"nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unknown := substituteVariables(tt.expr, vars)
			if got != tt.want || strings.Join(unknown, ",") != strings.Join(tt.unknown, ",") {
				t.Errorf("substituteVariables(%q) = %q, unknown %q; want %q, unknown %q", tt.expr, got, unknown, tt.want, tt.unknown)
			}
		})
	}
}

// Every PromQL expression of every dashboard parses, as the stack's own
// Prometheus parses it, once Grafana's variables are replaced.
func TestDashboardQueriesParse(t *testing.T) {
	env := stacktest.Load(t)
	client := &http.Client{Timeout: 10 * time.Second}
	dashboards := loadDashboards(t)
	for _, name := range sortedKeys(dashboards) {
		d := dashboards[name]
		t.Run(name, func(t *testing.T) {
			qs := d.queries()
			if len(qs) == 0 {
				t.Fatal("no queries")
			}
			for _, q := range qs {
				expr, unknown := substituteVariables(q.expr, d.Templating.List)
				for _, u := range unknown {
					// $1 and the like are label_replace's references, not variables.
					if _, err := strconv.Atoi(u); err != nil {
						t.Errorf("%s: unknown variable $%s in %s", q.where, u, q.expr)
					}
				}
				if err := formatQuery(t.Context(), client, env.PrometheusURL, expr); err != nil {
					t.Errorf("%s: %s does not parse: %v", q.where, expr, err)
				}
			}
		})
	}
}

// formatQuery asks Prometheus to format expr, which it does only for an
// expression that parses.
func formatQuery(ctx context.Context, client *http.Client, promURL, expr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(promURL, "/")+"/api/v1/format_query",
		strings.NewReader(url.Values{"query": {expr}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var ans struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("format_query answered %s: %.200s", resp.Status, body)
	}
	if resp.StatusCode != http.StatusOK || ans.Status != "success" {
		return fmt.Errorf("%s: %s", resp.Status, ans.Error)
	}
	return nil
}
