package vision_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/photobench/photobench/vision"
)

// Admin drives the real service's /admin/profile: a patch merges, a put
// replaces, and a refused profile is an error naming the status.
func TestAdminGetPutPatch(t *testing.T) {
	s := newService(t, vision.Profile{})
	a := vision.Admin{BaseURL: s.URL}
	ctx := context.Background()
	outage := func(raw json.RawMessage) vision.Outage {
		var p vision.Profile
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		return p.Outage
	}
	if _, err := a.Put(ctx, []byte(`{"latency":{"distribution":"fixed","fixed_ms":5}}`)); err != nil {
		t.Fatal(err)
	}
	now, err := a.Patch(ctx, []byte(`{"outage":"fail"}`))
	if err != nil || outage(now) != vision.OutageFail {
		t.Fatalf("patch: %s, %v: want the outage on", now, err)
	}
	got, err := a.Get(ctx)
	if err != nil || outage(got) != vision.OutageFail || !strings.Contains(string(got), `"fixed_ms":5`) {
		t.Errorf("get after patch: %s, %v: want the outage merged into the fixed latency", got, err)
	}
	if now, err = a.Put(ctx, []byte(`{}`)); err != nil || outage(now) != vision.OutageOff {
		t.Errorf("put {}: %s, %v: want the outage off", now, err)
	}
	if _, err := a.Patch(ctx, []byte(`{"outage":"sometimes"}`)); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("bad outage: err = %v, want a 400", err)
	}
}
