package monolith_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/monolith"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// hanger is a vision service that answers nothing until the caller gives
// up, as the vision client reports it: unavailable.
type hanger struct{}

func (hanger) Analyze(ctx context.Context, _ []byte) (vision.Analysis, error) {
	<-ctx.Done()
	return vision.Analysis{}, &photo.Error{Kind: photo.Unavailable, Message: "the vision service is unavailable", Err: ctx.Err()}
}

// panicker is a vision client with a bug.
type panicker struct{}

func (panicker) Analyze(context.Context, []byte) (vision.Analysis, error) {
	panic(errors.New("a bug in the vision client"))
}

// A photo never stays pending for good. Each case ends a photo's job in a
// way the job's own code does not record as the photo's outcome, and the
// photo must end failed with a reason, its files removed, its job no
// longer live.
func TestAsyncStrandedPhotoEndsFailed(t *testing.T) {
	tests := []struct {
		name     string
		analyzer monolith.Analyzer
		opts     func(o *monolith.AsyncOptions)
		reason   string
		jobs     []string // the states the photo's job may end in
	}{
		{
			// The last attempt times out: its outcome is written with a
			// context of its own, not the attempt's, which has ended.
			"last attempt times out", hanger{},
			func(o *monolith.AsyncOptions) {
				o.MaxAttempts, o.JobTimeout, o.RescueAfter = 1, 300*time.Millisecond, 2*time.Second
			},
			"the vision service is unavailable", []string{"completed"},
		},
		{
			// River discards a job whose last attempt panicked, with the
			// photo pending: the stranded-photo check fails it.
			"last attempt panics", panicker{},
			func(o *monolith.AsyncOptions) { o.MaxAttempts, o.CheckInterval = 1, 200*time.Millisecond },
			"the photo could not be processed: its job ended without a result", []string{"discarded"},
		},
		{
			// Vision down for longer than the pending limit: the check
			// cancels the job and fails the photo.
			"pending past the limit", hanger{},
			func(o *monolith.AsyncOptions) {
				o.JobTimeout, o.PendingLimit, o.CheckInterval = 200*time.Millisecond, 2*time.Second, 200*time.Millisecond
			},
			"the photo was pending longer than the limit of 2s", []string{"cancelled", "completed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := asyncOptions()
			tt.opts(o)
			a := newApp(t, appOptions{async: o, analyzer: tt.analyzer})
			tok := token(t, "stranded")
			id := uploadPending(t, a.URL, tok, synth.JPEG(synth.Options{Seed: 81, Width: 320, Height: 240}))
			allStatus(t, a.URL, tok, []string{id}, photo.StatusFailed, 60*time.Second)
			_, p := getPhoto(t, a.URL, tok, id)
			if !strings.Contains(p.FailureReason, tt.reason) {
				t.Errorf("failure reason %q, want %q", p.FailureReason, tt.reason)
			}
			eventually(t, "the failed photo's files removed and its job ended", 30*time.Second, func() (bool, string) {
				left := a.Stored(t)
				jobs := jobsOf(t, a.DSN, []string{id})[id]
				return len(left) == 0 && len(jobs) == 1 && slices.Contains(tt.jobs, jobs[0]),
					strings.Join(append(left, jobs...), " ")
			})
		})
	}
}
