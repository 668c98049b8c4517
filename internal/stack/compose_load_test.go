package stack_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeDefaultImage is the photobench image the compose file runs when
// PHOTOBENCH_IMAGE is unset: the tag compose/README.md gives make image.
const composeDefaultImage = "photobench:dev"

// composeTestSecret stands in for the PHOTOBENCH_AUTH_SECRET a user sets.
const composeTestSecret = "compose-test-secret-0123456789abcdef-0123456789"

// composeLoaderEnv is the environment the loader sees: env and a working
// directory (compose/env refers to $PWD), nothing from the test process's
// own environment, so that a developer's PHOTOBENCH_* cannot change the
// outcome.
func composeLoaderEnv(env map[string]string) map[string]string {
	out := map[string]string{"PWD": "/home/user/photobench"}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// loadComposeProject loads the compose file at path as `docker compose
// --env-file compose/env --profile bench` does, with compose-go's loader:
// the env file, interpolation (${VAR:-default}, ${VAR:?message}), schema
// validation (unknown keys and wrong types are errors) and the
// consistency checks (references to services, networks and volumes) all
// on. Relative paths are resolved against the compose directory, as the
// file's own location would be.
func loadComposeProject(ctx context.Context, path string, env map[string]string) (*types.Project, error) {
	var list []string
	for k, v := range composeLoaderEnv(env) {
		list = append(list, k+"="+v)
	}
	dir, err := filepath.Abs(filepath.Dir(composeFilePath))
	if err != nil {
		return nil, err
	}
	envFile, err := filepath.Abs(composeEnvFilePath)
	if err != nil {
		return nil, err
	}
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(list),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithProfiles([]string{"bench"}),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(ctx)
}

// The loader stands in for a compose engine; these cases show that it
// bites: each breaks the file (or its environment) in one way, in a copy,
// and the loader must refuse it with a message naming the problem.
func TestComposeLoaderRejectsBrokenFiles(t *testing.T) {
	raw, err := os.ReadFile(composeFilePath)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]string{"PHOTOBENCH_AUTH_SECRET": composeTestSecret}
	tests := []struct {
		name     string
		old, new string // the one edit, on the file's text
		env      map[string]string
		want     string // in the loader's error
	}{
		{
			name: "unknown key under a service",
			old:  "    command: [\"vision\",",
			new:  "    restart_polcy: always\n    command: [\"vision\",",
			env:  good,
			want: "restart_polcy",
		},
		{
			name: "wrong type",
			old:  "      retries: 60\n",
			new:  "      retries: sixty\n",
			env:  good,
			want: "retries",
		},
		{
			name: "network namespace of a service that does not exist",
			old:  "network_mode: service:prometheus",
			new:  "network_mode: service:prometheus-gone",
			env:  good,
			want: "prometheus-gone",
		},
		{
			name: "dependency on a service that does not exist",
			old:  "      runtime:\n        condition: service_healthy\n",
			new:  "      runtme:\n        condition: service_healthy\n",
			env:  good,
			want: "runtme",
		},
		{
			name: "auth secret unset",
			env:  map[string]string{},
			want: "set PHOTOBENCH_AUTH_SECRET",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := string(raw)
			if tt.old != "" {
				if !strings.Contains(text, tt.old) {
					t.Fatalf("the compose file no longer contains %q: update this case", tt.old)
				}
				text = strings.Replace(text, tt.old, tt.new, 1)
			}
			// Relative paths resolve against compose/ (the loader's working
			// directory), as for the original.
			path := filepath.Join(t.TempDir(), "docker-compose.yml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := loadComposeProject(context.Background(), path, tt.env)
			if err == nil {
				t.Fatalf("the loader accepted the broken file, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("the loader's error %q does not name %q", err, tt.want)
			}
			t.Logf("the loader says: %v", err)
		})
	}
	t.Run("the unbroken file loads", func(t *testing.T) {
		if _, err := loadComposeProject(context.Background(), composeFilePath, good); err != nil {
			t.Fatal(err)
		}
	})
}

// The app checks bite too: each case breaks the loaded project in one way
// and the checks must name the problem.
func TestComposeAppChecksRejectDrift(t *testing.T) {
	env := map[string]string{"PHOTOBENCH_AUTH_SECRET": composeTestSecret}
	tests := []struct {
		name    string
		breakIt func(p *types.Project)
		want    string
	}{
		{"a native app missing", func(p *types.Project) { delete(p.Services, "vision") },
			`native app "vision" has no compose service`},
		{"an app not from the photobench image", func(p *types.Project) {
			s := p.Services["monolith"]
			s.Image = "photobench-fork:v1"
			p.Services["monolith"] = s
		}, `service "monolith" runs image "photobench-fork:v1", want the photobench image "photobench:dev"`},
		{"an environment value that is not the contract's", func(p *types.Project) {
			s := p.Services["monolith-async"]
			v := "127.0.0.1:19092"
			s.Environment = maps.Clone(s.Environment)
			s.Environment["PHOTOBENCH_KAFKA_BROKERS"] = &v
			p.Services["monolith-async"] = s
		}, `service "monolith-async" sets PHOTOBENCH_KAFKA_BROKERS="127.0.0.1:19092", want "kafka:9092"`},
		{"a flag the native stack does not pass", func(p *types.Project) {
			s := p.Services["front"]
			s.Command = append(slices.Clone(s.Command), "--max-uploads", "1")
			p.Services["front"] = s
		}, `service "front" runs`},
		{"an activator port not published", func(p *types.Project) {
			s := p.Services["prometheus"]
			s.Ports = slices.DeleteFunc(slices.Clone(s.Ports), func(pc types.ServicePortConfig) bool { return pc.Target == 18092 })
			p.Services["prometheus"] = s
		}, `native runtime (PHOTOBENCH_QUERY_PORT=18092) is not published by compose service "prometheus"`},
		{"a healthcheck of another port", func(p *types.Project) {
			s := p.Services["vision"]
			hc := *s.HealthCheck
			hc.Test = types.HealthCheckTest{"CMD", "/photobench", "healthcheck", "http://127.0.0.1:18080/healthz"}
			s.HealthCheck = &hc
			p.Services["vision"] = s
		}, `service "vision": healthcheck`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := loadComposeProject(context.Background(), composeFilePath, env)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := composeCaseOf(p, env, nil); err != nil {
				t.Fatal(err)
			} else if problems := composeAppProblems(c); len(problems) > 0 {
				t.Fatalf("the unbroken project has problems: %q", problems)
			}
			tt.breakIt(p)
			c, err := composeCaseOf(p, env, nil)
			if err != nil {
				t.Fatal(err)
			}
			problems := composeAppProblems(c)
			if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Fatalf("the checks did not name %q; they said %q", tt.want, problems)
			}
		})
	}
}
