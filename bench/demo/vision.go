package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/vision"
)

// visionAdmin reads and sets the vision service's remote-API profile
// (GET, PUT and PATCH /admin/profile), and remembers the profile it set
// last, so that it changes the profile only while nobody else has.
type visionAdmin struct {
	admin vision.Admin

	mu   sync.Mutex
	last json.RawMessage // the profile as the last PUT or PATCH left it; nil before
}

// errNotOurs is a profile someone else changed since the demo last set it.
var errNotOurs = errors.New("the vision profile was changed by someone else (a bench, or another demo?)")

// owned reports whether the profile is still the one the demo set last.
func (v *visionAdmin) owned(ctx context.Context) (bool, error) {
	v.mu.Lock()
	last := v.last
	v.mu.Unlock()
	if last == nil {
		return false, nil
	}
	cur, err := v.get(ctx)
	if err != nil {
		return false, err
	}
	return sameJSON(cur, last), nil
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}

// get returns the current profile as the service wrote it.
func (v *visionAdmin) get(ctx context.Context) (json.RawMessage, error) { return v.admin.Get(ctx) }

// put replaces the whole profile.
func (v *visionAdmin) put(ctx context.Context, p json.RawMessage) error {
	return v.set(ctx, http.MethodPut, p)
}

// patch merges fields into the profile.
func (v *visionAdmin) patch(ctx context.Context, fields json.RawMessage) error {
	return v.set(ctx, http.MethodPatch, fields)
}

// putIfOwned replaces the profile unless someone else changed it since the
// demo last set it: then it leaves it and returns errNotOurs.
func (v *visionAdmin) putIfOwned(ctx context.Context, p json.RawMessage) error {
	ok, err := v.owned(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errNotOurs
	}
	return v.put(ctx, p)
}

// patchIfOwned merges fields into the profile unless someone else changed
// it since the demo last set it: then it leaves it and returns errNotOurs.
func (v *visionAdmin) patchIfOwned(ctx context.Context, fields json.RawMessage) error {
	ok, err := v.owned(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errNotOurs
	}
	return v.patch(ctx, fields)
}

func (v *visionAdmin) set(ctx context.Context, method string, body []byte) error {
	send := v.admin.Put
	if method == http.MethodPatch {
		send = v.admin.Patch
	}
	now, err := send(ctx, body)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.last = now // the service answers with the profile it now has
	v.mu.Unlock()
	return nil
}

// queryBacklog reads a backlog (query, one series) from Prometheus now; ok
// is false when Prometheus has no such series.
func queryBacklog(ctx context.Context, client *http.Client, promURL, query string) (v float64, ok bool, err error) {
	samples, err := promsd.Query(ctx, client, promURL, query)
	if err != nil {
		return 0, false, fmt.Errorf("backlog: %w", err)
	}
	if len(samples) == 0 {
		return 0, false, nil
	}
	return samples[0].Value, true, nil
}
