package bench_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/report"
	"github.com/photobench/photobench/internal/stacktest"
)

// Every sample run committed under results/ with a headline.json (the
// report's current layout) is reproduced byte for byte by
// `photobench bench --report-only` from its results.json(.gz): the report,
// its headline figures and its charts.
func TestCommittedSamplesReproduce(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(stacktest.RepoRoot(t), "results", "*", report.HeadlineFile))
	if len(dirs) == 0 {
		t.Skip("no committed sample with a headline.json")
	}
	for _, h := range dirs {
		sample := filepath.Dir(h)
		t.Run(filepath.Base(sample), func(t *testing.T) {
			// Everything but what the report writes (the report lists which
			// raw files are there).
			tmp := t.TempDir()
			entries, err := os.ReadDir(sample)
			if err != nil {
				t.Fatal(err)
			}
			written := map[string]bool{"report.md": true, "report.html": true, report.HeadlineFile: true}
			for _, e := range entries {
				if !e.Type().IsRegular() || written[e.Name()] {
					continue
				}
				data, err := os.ReadFile(filepath.Join(sample, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(tmp, e.Name()), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := bench.Run(context.Background(), []string{"--report-only", tmp}, os.Getenv, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			want, _ := filepath.Glob(filepath.Join(sample, "charts", "*.svg"))
			want = append(want, filepath.Join(sample, "report.md"), filepath.Join(sample, "report.html"), h)
			for _, w := range want {
				rel, _ := filepath.Rel(sample, w)
				a, err := os.ReadFile(w)
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(tmp, rel))
				if err != nil {
					t.Errorf("%s not written again: %v", rel, err)
					continue
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs from the committed one (write it again with photobench bench --report-only %s)", rel, sample)
				}
			}
		})
	}
}
