package bench_test

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/bench/target"
	"github.com/photobench/photobench/internal/stack"
)

// The bench pointed at the local stack through a target file (the path of
// a cluster or a compose deployment) agrees with its default path: on one
// scratch stack the tiny profile runs by default (the bench starts each
// architecture's apps for its run), then with the same stack's apps
// started as `make up` starts them and described by a target file written
// by target.Local and read back by target.Load. The two must have the same
// runs in the same order with the same schedules, every request answered
// and every upload final, the same queries captured with data, the same
// settings but those that say where and how the runs went, the same
// machine, and the same report: its sections, its tables' columns and its
// charts. The figures themselves differ as two runs of one schedule do.
func TestTargetAgreesWithDefault(t *testing.T) {
	cfg, p := scratchServers(t)
	ctx := context.Background()
	cache := t.TempDir()
	run := func(name string, tg *target.Target) (*results.Results, string) {
		t.Helper()
		out := t.TempDir()
		var log strings.Builder
		res, err := bench.RunProfile(ctx, bench.Config{Profile: p, Out: out, Stack: cfg, Secret: []byte(cfg.AuthSecret),
			Cache: cache, Log: &log, EmptyShared: tg == nil, Target: tg})
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, log.String())
		}
		if err := bench.WriteReport(out, res, io.Discard); err != nil {
			t.Fatalf("%s: report: %v", name, err)
		}
		return res, out
	}
	def, defDir := run("default", nil)

	if _, err := stack.UpApps(ctx, cfg, stack.AppNames(), io.Discard); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "local.yaml")
	data, err := target.Local(cfg).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err := target.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	via, viaDir := run("target", tg)

	if !strings.HasPrefix(via.Machine.Deployment, "target local (") || !strings.Contains(def.Machine.Deployment, "local native stack") {
		t.Errorf("deployments %q and %q: want each path named", def.Machine.Deployment, via.Machine.Deployment)
	}
	if !slices.Equal(def.Planned, via.Planned) || len(def.Runs) != len(results.Archs) || len(via.Runs) != len(def.Runs) {
		t.Fatalf("planned %v and %v; runs %d and %d", def.Planned, via.Planned, len(def.Runs), len(via.Runs))
	}
	for i := range def.Runs {
		a, b := def.Runs[i], via.Runs[i]
		t.Run(a.Arch, func(t *testing.T) {
			if a.Arch != b.Arch || a.Scenario != b.Scenario || a.Repeat != b.Repeat || a.Status != results.StatusOK || b.Status != results.StatusOK {
				t.Fatalf("runs %s %s %s (%s) and %s %s %s (%s)", a.Arch, a.Scenario, a.Status, a.Error, b.Arch, b.Scenario, b.Status, b.Error)
			}
			if len(a.Summary.Phases) != len(b.Summary.Phases) {
				t.Fatalf("phases %d and %d", len(a.Summary.Phases), len(b.Summary.Phases))
			}
			for j, pa := range a.Summary.Phases {
				pb := b.Summary.Phases[j]
				// The seeded open-loop schedule is the same; each path
				// answered every request it sent.
				if pa.Name != pb.Name || pa.All.Scheduled != pb.All.Scheduled || pa.All.Scheduled == 0 {
					t.Errorf("phase %s: %d scheduled by default, %s: %d through the target", pa.Name, pa.All.Scheduled, pb.Name, pb.All.Scheduled)
				}
				for _, s := range []struct {
					path string
					st   results.Run
				}{{"default", a}, {"target", b}} {
					all := s.st.Summary.Phases[j].All
					if all.OK+all.Errors+all.Dropped != all.Scheduled || all.Dropped != 0 {
						t.Errorf("%s, phase %s: %+v", s.path, pa.Name, all)
					}
				}
			}
			var fa, fb []string
			for _, f := range a.Faults {
				fa = append(fa, f.Name+": "+f.Description)
			}
			for _, f := range b.Faults {
				fb = append(fb, f.Name+": "+f.Description)
			}
			if !slices.Equal(fa, fb) || len(fa) != 1 {
				t.Errorf("faults %q and %q", fa, fb)
			}
			if !slices.Equal(slices.Sorted(maps.Keys(a.Series)), slices.Sorted(maps.Keys(b.Series))) {
				t.Errorf("captured %v and %v", slices.Sorted(maps.Keys(a.Series)), slices.Sorted(maps.Keys(b.Series)))
			}
			for _, q := range []string{results.QRequests, results.QHTTPRequests, results.QProcessCPU, results.QComponentCPU, results.QVisionRequests} {
				if len(a.Series[q]) == 0 || len(b.Series[q]) == 0 {
					t.Errorf("%s: %d series by default, %d through the target", q, len(a.Series[q]), len(b.Series[q]))
				}
			}
		})
	}
	if !reflect.DeepEqual(def.Queries, via.Queries) {
		t.Errorf("queries differ:\n%v\n%v", def.Queries, via.Queries)
	}
	// The settings that say where and how the runs went differ; no other.
	for k, v := range def.Settings {
		switch k {
		case "start_state", "vision_seed":
			if via.Settings[k] == v {
				t.Errorf("setting %s says the same on both paths: %q", k, v)
			}
		default:
			if via.Settings[k] != v {
				t.Errorf("setting %s: %q by default, %q through the target", k, v, via.Settings[k])
			}
		}
	}
	for k := range via.Settings {
		if _, ok := def.Settings[k]; !ok && k != "deployment" && k != "restart_hooks" && k != "runtime_series" {
			t.Errorf("setting %s only through the target", k)
		}
	}
	ma, mb := def.Machine, via.Machine
	ma.Load, mb.Load, ma.Deployment, mb.Deployment = results.HostLoad{}, results.HostLoad{}, "", ""
	if !reflect.DeepEqual(ma, mb) {
		t.Errorf("machines differ:\n%+v\n%+v", ma, mb)
	}
	if a, b := reportShape(t, defDir), reportShape(t, viaDir); !slices.Equal(a, b) {
		t.Errorf("reports differ in shape:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// reportShape is a report's structure: its headings, the header row of
// each table, and its chart files.
func reportShape(t *testing.T, dir string) []string {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	var shape []string
	lines := strings.Split(string(md), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "# "):
			shape = append(shape, "# (title)") // it holds the date and time
		case strings.HasPrefix(l, "#"):
			shape = append(shape, l)
		case strings.HasPrefix(l, "|") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "| ---"):
			shape = append(shape, l)
		}
	}
	charts, err := filepath.Glob(filepath.Join(dir, "charts", "*.svg"))
	if err != nil || len(charts) == 0 {
		t.Fatalf("no charts in %s (%v)", dir, err)
	}
	for _, c := range charts {
		shape = append(shape, "chart "+filepath.Base(c))
	}
	if len(shape) < 10 {
		t.Fatalf("report %s has %d headings, tables and charts", dir, len(shape))
	}
	return shape
}
