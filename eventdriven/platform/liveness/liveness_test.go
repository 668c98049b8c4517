package liveness_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/platform/liveness"
)

func TestTracker(t *testing.T) {
	probe := func(tr *liveness.Tracker) int {
		rec := httptest.NewRecorder()
		tr.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code
	}
	tr := liveness.New(50 * time.Millisecond)
	if code := probe(tr); code != http.StatusOK {
		t.Fatalf("idle: %d, want 200", code)
	}
	end := tr.Begin()
	if code := probe(tr); code != http.StatusOK {
		t.Errorf("a call within its deadline: %d, want 200", code)
	}
	if err := tr.Check(time.Now().Add(time.Second)); err == nil {
		t.Error("Check a second into a call with a 50ms deadline: nil, want wedged")
	}
	time.Sleep(100 * time.Millisecond)
	if code := probe(tr); code != http.StatusServiceUnavailable {
		t.Errorf("a call over its deadline: %d, want 503", code)
	}
	end()
	if code := probe(tr); code != http.StatusOK {
		t.Errorf("after the call ended: %d, want 200", code)
	}
}
