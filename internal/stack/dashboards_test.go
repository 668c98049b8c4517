package stack_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/stacktest"
)

var metricName = regexp.MustCompile(`photobench_[a-z0-9_]+`)

// Every photobench_ metric a dashboard queries must be one the code
// defines: a renamed metric would otherwise leave an empty panel.
func TestDashboardsUseDefinedMetrics(t *testing.T) {
	root := stacktest.RepoRoot(t)
	var source strings.Builder
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".stack" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			source.Write(b)
		}
		return nil
	})
	code := source.String()

	files, _ := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				Panels []struct {
					Title   string
					Targets []struct{ Expr string }
				}
			}
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			seen := map[string]bool{}
			for _, p := range d.Panels {
				for _, tg := range p.Targets {
					for _, m := range metricName.FindAllString(tg.Expr, -1) {
						for _, suffix := range []string{"_bucket", "_count", "_sum"} {
							m = strings.TrimSuffix(m, suffix)
						}
						if !strings.Contains(code, `"`+m+`"`) {
							seen[m+" (panel "+p.Title+")"] = true
						}
					}
				}
			}
			var missing []string
			for m := range seen {
				missing = append(missing, m)
			}
			sort.Strings(missing)
			for _, m := range missing {
				t.Errorf("queries %s, which no code defines", m)
			}
		})
	}
}
