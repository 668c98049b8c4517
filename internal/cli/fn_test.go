package cli_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/cli"
)

func TestFnConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no function", []string{"fn"}, []string{"name a function"}},
		{"unknown function", []string{"fn", "resizer"}, []string{`unknown function "resizer"`}},
		{"event function without its environment", []string{"fn", "tagger"}, []string{"PHOTOBENCH_KAFKA_BROKERS", "PHOTOBENCH_S3_ENDPOINT", "PHOTOBENCH_VISION_URL"}},
		{"catalog without a database", []string{"fn", "catalog"}, []string{"PHOTOBENCH_PG_DSN"}},
		{"bad flags", []string{"fn", "front", "--addr", "nowhere", "--ingest-url", "::", "--max-attempts", "0"}, []string{"--addr", "--ingest-url", "--max-attempts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cli.Run(context.Background(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			msg := cli.Message(err)
			if strings.Contains(msg, "\n") {
				t.Errorf("not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not mention %q", msg, w)
				}
			}
		})
	}
}
