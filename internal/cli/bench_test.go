package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/cli"
)

// Bad input fails at once, with one line, before anything starts.
func TestBenchBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"bench", "--profile", "nope"}, `unknown profile "nope"`},
		{"unknown architecture", []string{"bench", "--arch", "microservices"}, `--arch "microservices"`},
		{"architecture twice", []string{"bench", "--arch", "monolith,monolith"}, "twice"},
		{"stray argument", []string{"bench", "quick"}, "unexpected arguments"},
		{"missing profile file", []string{"bench", "--profile", "/nonexistent/p.yaml"}, "profile"},
		{"report of nothing", []string{"bench", "--report-only", t.TempDir()}, "results.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := cli.Run(context.Background(), tt.args, func(string) string { return "" }, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			msg := cli.Message(err)
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line containing %q", msg, tt.want)
			}
		})
	}
}

func TestBenchHelp(t *testing.T) {
	var stdout bytes.Buffer
	if err := cli.Run(context.Background(), []string{"bench", "-h"}, func(string) string { return "" }, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"--profile", "quick", "full", "report.html", "results.json", "Ctrl-C", "--report-only"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("help lacks %q", w)
		}
	}
}
