package healthcheck_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/internal/command"
)

func TestHealthcheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/empty", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bucket missing", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	closed := httptest.NewServer(mux)
	closed.Close()

	tests := []struct {
		name string
		args []string
		// wantErr is "" for success, else a substring of the one-line error.
		wantErr string
		usage   bool // the error is a usage error
	}{
		{"200 is healthy", []string{srv.URL + "/healthz"}, "", false},
		{"204 is healthy", []string{srv.URL + "/empty"}, "", false},
		{"503 is not", []string{srv.URL + "/down"}, "answered 503 Service Unavailable", false},
		{"404 is not", []string{srv.URL + "/nowhere"}, "answered 404 Not Found", false},
		{"nothing listening", []string{closed.URL + "/healthz"}, "connection refused", false},
		{"no answer within the timeout", []string{"--timeout", "200ms", srv.URL + "/hang"}, "context deadline exceeded", false},
		{"no URL", nil, "want one URL, got 0 arguments", true},
		{"two URLs", []string{srv.URL, srv.URL}, "want one URL, got 2 arguments", true},
		{"not http", []string{"ftp://example.org/"}, `want an http(s) URL, got "ftp://example.org/"`, true},
		{"bad timeout", []string{"--timeout", "0s", srv.URL}, "--timeout 0s: want a positive duration", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// Through the command line, so the registration is tested too.
			err := cli.Run(context.Background(), append([]string{"healthcheck"}, tt.args...), func(string) string { return "" }, &stdout, &stderr)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("healthcheck %v: %v, want success", tt.args, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("healthcheck %v succeeded, want an error containing %q", tt.args, tt.wantErr)
			}
			msg := cli.Message(err)
			if !strings.Contains(msg, tt.wantErr) || strings.Contains(msg, "\n") {
				t.Errorf("healthcheck %v: message %q, want one line containing %q", tt.args, msg, tt.wantErr)
			}
			if got := errors.Is(err, command.ErrUsage); got != tt.usage {
				t.Errorf("healthcheck %v: usage error = %v, want %v (%v)", tt.args, got, tt.usage, err)
			}
		})
	}
}

func TestHealthcheckHelp(t *testing.T) {
	var stdout bytes.Buffer
	if err := cli.Run(context.Background(), []string{"help", "healthcheck"}, func(string) string { return "" }, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "photobench healthcheck [--timeout D] URL") {
		t.Errorf("photobench help healthcheck printed:\n%s", stdout.String())
	}
}
