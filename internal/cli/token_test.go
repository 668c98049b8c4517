// An internal test: it calls runToken and checks defaultTokenTTL, which
// only the package sees.
package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/command"
)

func TestTokenVerifies(t *testing.T) {
	const secret = "a-secret-of-the-test-0123456789"
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		secret  string
		user    string
		ttl     time.Duration
		devNote bool
	}{
		{"default ttl", []string{"alice"}, map[string]string{auth.EnvSecret: secret}, secret, "alice", defaultTokenTTL, false},
		{"ttl before user", []string{"--ttl", "90m", "bob_2"}, map[string]string{auth.EnvSecret: secret}, secret, "bob_2", 90 * time.Minute, false},
		{"ttl after user", []string{"carol", "-ttl=1h"}, map[string]string{auth.EnvSecret: secret}, secret, "carol", time.Hour, false},
		{"the longest ttl", []string{"--ttl", "24h", "erin"}, map[string]string{auth.EnvSecret: secret}, secret, "erin", auth.MaxLifetime, false},
		{"user after --", []string{"--", "-dash"}, map[string]string{auth.EnvSecret: secret}, secret, "-dash", defaultTokenTTL, false},
		{"development secret", []string{"dave"}, nil, auth.DevelopmentSecret, "dave", defaultTokenTTL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := runToken(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if err != nil {
				t.Fatalf("runToken: %v", err)
			}
			out := stdout.String()
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("stdout %q: want one line", out)
			}
			tok := strings.TrimSpace(out)
			v, err := auth.NewVerifier([]byte(tt.secret), 0)
			if err != nil {
				t.Fatal(err)
			}
			user, err := v.Verify(tok)
			if err != nil || user != tt.user {
				t.Fatalf("Verify = %q, %v; want %q", user, err, tt.user)
			}
			var claims jwt.RegisteredClaims
			if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
				t.Fatal(err)
			}
			if got := claims.ExpiresAt.Sub(start.Truncate(time.Second)); got < tt.ttl-time.Second || got > tt.ttl+2*time.Second {
				t.Errorf("token lasts %v, want %v", got, tt.ttl)
			}
			if note := strings.Contains(stderr.String(), "development secret"); note != tt.devNote {
				t.Errorf("stderr %q: development-secret note %v, want %v", stderr.String(), note, tt.devNote)
			}
		})
	}
}

func TestTokenHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"alice", "-h"}} {
		var stdout bytes.Buffer
		if err := runToken(context.Background(), args, func(string) string { return "" }, &stdout, &bytes.Buffer{}); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if stdout.String() != tokenUsage {
			t.Errorf("%v: stdout %q, want the usage", args, stdout.String())
		}
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		want  string
		usage bool
	}{
		{"no user", nil, nil, "no user given", true},
		{"two users", []string{"alice", "bob"}, nil, "one user at a time", true},
		{"bad user", []string{"al/ice"}, nil, `user "al/ice" is not a valid user id`, true},
		{"user too long", []string{strings.Repeat("a", 65)}, nil, "not a valid user id", true},
		{"bad ttl", []string{"--ttl", "soon", "alice"}, nil, "invalid value", true},
		{"zero ttl", []string{"--ttl", "0s", "alice"}, nil, "is not in (0, 24h0m0s]", true},
		{"negative ttl", []string{"--ttl=-1h", "alice"}, nil, "is not in (0, 24h0m0s]", true},
		{"ttl over the maximum", []string{"--ttl=24h1s", "alice"}, nil, "is not in (0, 24h0m0s]", true},
		{"unknown flag", []string{"--colour", "alice"}, nil, "flag provided but not defined", true},
		{"short secret", []string{"alice"}, map[string]string{auth.EnvSecret: "short"}, "PHOTOBENCH_AUTH_SECRET", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := runToken(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &bytes.Buffer{})
			if err == nil {
				t.Fatalf("no error; stdout %q", stdout.String())
			}
			if msg := Message(err); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line mentioning %q", msg, tt.want)
			}
			if errors.Is(err, command.ErrUsage) != tt.usage {
				t.Errorf("errors.Is(err, command.ErrUsage) = %v, want %v", errors.Is(err, command.ErrUsage), tt.usage)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
