package cli_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/stacktest"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"stack without subcommand", []string{"stack"}, "no subcommand"},
		{"unknown stack subcommand", []string{"stack", "explode"}, `unknown subcommand "explode"`},
		{"exec without command", []string{"stack", "exec", "--"}, "no command given"},
		{"bad port", []string{"stack", "status"}, "PHOTOBENCH_PG_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.name == "bad port" {
				env["PHOTOBENCH_PG_PORT"] = "70000"
			}
			var stdout, stderr bytes.Buffer
			err := cli.Run(context.Background(), tt.args, func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			msg := cli.Message(err)
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line mentioning %q", msg, tt.want)
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	var stdout bytes.Buffer
	if err := cli.Run(context.Background(), []string{"help", "stack"}, os.Getenv, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"stack up", "stack down", "stack status", "stack exec", "stack clean", "PHOTOBENCH_PG_PORT"} {
		if !strings.Contains(stdout.String(), sub) {
			t.Errorf("help lacks %q", sub)
		}
	}
}

// stack exec against the running stack: the command sees the environment
// contract, and its exit status comes back.
func TestStackExecPassesEnvironmentAndExitStatus(t *testing.T) {
	stacktest.NativeOnly(t)
	env := stacktest.Load(t)
	getenv := func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return env.StackDir
		}
		return os.Getenv(k)
	}
	var stdout bytes.Buffer
	err := cli.Run(context.Background(), []string{"stack", "exec", "--", "sh", "-c", `test "$PHOTOBENCH_KAFKA_BROKERS" = "` + env.KafkaBrokers + `" && exit 7`}, getenv, &stdout, &bytes.Buffer{})
	var exit command.ExitError
	if !errors.As(err, &exit) || exit.Code != 7 {
		t.Fatalf("err = %v, want exit status 7 (output %s)", err, stdout.String())
	}
	if strings.Contains(stdout.String(), "will stop them afterwards") {
		t.Errorf("exec started services although the stack was running:\n%s", stdout.String())
	}

	var status bytes.Buffer
	if err := cli.Run(context.Background(), []string{"stack", "status", "--check"}, getenv, &status, &bytes.Buffer{}); err != nil {
		t.Fatalf("status --check: %v\n%s", err, status.String())
	}
	for _, svc := range []string{"postgres", "kafka", "minio", "prometheus"} {
		if !strings.Contains(status.String(), svc) {
			t.Errorf("status lacks %s:\n%s", svc, status.String())
		}
	}
}
