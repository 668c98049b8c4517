package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/photobench/photobench/photo"
)

// upload posts data as u and returns the photo as the POST answered it and
// once ready (the same photo when not Eventual). It checks the status
// (201 ready, or 202 pending when Eventual), the Location header, the id
// and the owner.
func (s *suite) upload(t testing.TB, u user, data []byte) (posted, ready photo.Photo) {
	t.Helper()
	r := s.do(t, request{method: http.MethodPost, path: "/v1/photos", authz: u.authz(), body: data, contentType: "application/octet-stream"})
	wantStatus, wantPhotoStatus := http.StatusCreated, photo.StatusReady
	if s.tgt.Eventual {
		wantStatus, wantPhotoStatus = http.StatusAccepted, photo.StatusPending
	}
	if r.status != wantStatus {
		t.Fatalf("%v\nwant status %d", r, wantStatus)
	}
	decodeJSON(t, r, &posted)
	switch {
	case !photo.ValidID(posted.ID):
		t.Fatalf("%v\nphoto id %q is not a UUID", r, posted.ID)
	case posted.Owner != u.id:
		t.Fatalf("%v\nowner %q, want %q", r, posted.Owner, u.id)
	case posted.Status != wantPhotoStatus:
		t.Fatalf("%v\nstatus %q, want %q", r, posted.Status, wantPhotoStatus)
	}
	if err := checkTimeline(posted); err != nil {
		t.Errorf("%v\n%v", r, err)
	}
	if s.tgt.Eventual && (posted.ThumbnailedAt != nil || posted.TaggedAt != nil) {
		t.Errorf("%v\nthe photo as accepted is thumbnailed at %v, tagged at %v: stages that have not happened yet",
			r, posted.ThumbnailedAt, posted.TaggedAt)
	}
	if err := s.checkLocation(r, posted.ID); err != nil {
		t.Fatal(err)
	}
	if !s.tgt.Eventual {
		return posted, posted
	}
	return posted, s.waitReady(t, u, posted.ID)
}

// waitReady polls GET /v1/photos/{id} until the photo is ready; a failed
// photo fails the test at once. 404 counts as not visible yet.
func (s *suite) waitReady(t testing.TB, u user, id string) photo.Photo {
	t.Helper()
	var p photo.Photo
	s.poll(t, "photo "+id+" ready", func() (bool, string) {
		r := s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + id, authz: u.authz()})
		switch r.status {
		case http.StatusOK:
			p = photo.Photo{}
			decodeJSON(t, r, &p)
			if err := checkTimeline(p); err != nil {
				t.Errorf("%v\n%v", r, err)
			}
			switch p.Status {
			case photo.StatusReady:
				return true, ""
			case photo.StatusFailed:
				t.Fatalf("%v\nthe photo failed: %q", r, p.FailureReason)
			}
			return false, r.String()
		case http.StatusNotFound:
			return false, r.String()
		}
		if s.tgt.Eventual && r.status >= 500 {
			return false, r.String()
		}
		t.Fatalf("%v\nwant 200 (or 404 while the photo is not visible yet)", r)
		return false, ""
	})
	return p
}

// get fetches a photo that must exist.
func (s *suite) get(t testing.TB, u user, id string) photo.Photo {
	t.Helper()
	r := s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + id, authz: u.authz()})
	wantStatus(t, r, http.StatusOK)
	var p photo.Photo
	decodeJSON(t, r, &p)
	if p.ID != id || p.Owner != u.id {
		t.Fatalf("%v\nwant photo %s of %s", r, id, u.id)
	}
	return p
}

// page is a list answer, with what the suite checks beyond photo.Page.
type page struct {
	photo.Page
	// hasCursor says the next_cursor member was present (even if empty).
	hasCursor bool
}

// listPage fetches one page of u's photos with the query q.
func (s *suite) listPage(t testing.TB, u user, q url.Values) page {
	t.Helper()
	path := "/v1/photos"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r := s.do(t, request{method: http.MethodGet, path: path, authz: u.authz()})
	wantStatus(t, r, http.StatusOK)
	p, err := parsePage(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range p.Photos {
		if ph.Owner != u.id {
			t.Fatalf("%v\nthe list of %s holds photo %s of %q", r, u.id, ph.ID, ph.Owner)
		}
	}
	return p
}

// parsePage decodes a list answer: "photos" must be an array (empty, not
// null, when there are none), next_cursor a non-empty string when present.
func parsePage(r response) (page, error) {
	var p page
	if err := checkJSON(r, &p.Page); err != nil {
		return p, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return p, fmt.Errorf("%v\n%v", r, err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw["photos"]), []byte("[")) {
		return p, fmt.Errorf("%v\nwant \"photos\" to be an array", r)
	}
	if c, ok := raw["next_cursor"]; ok && string(c) != "null" {
		p.hasCursor = true
		if p.NextCursor == "" {
			return p, fmt.Errorf("%v\nnext_cursor is present but empty: omit it on the last page", r)
		}
	}
	return p, nil
}

// listAll follows the cursor through every page of u's photos (with tag,
// if not empty) and returns their ids in order, failing on duplicates.
func (s *suite) listAll(t testing.TB, u user, tag string, limit int) []string {
	t.Helper()
	var ids []string
	q := url.Values{}
	if tag != "" {
		q.Set("tag", tag)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("list of %s: over 1000 pages; the cursor does not advance?", u.id)
		}
		p := s.listPage(t, u, q)
		if limit > 0 && len(p.Photos) > limit {
			t.Fatalf("list of %s with limit %d: page of %d photos", u.id, limit, len(p.Photos))
		}
		for _, ph := range p.Photos {
			if slices.Contains(ids, ph.ID) {
				t.Fatalf("list of %s (query %s): photo %s appears twice; ids so far %v", u.id, q.Encode(), ph.ID, ids)
			}
			ids = append(ids, ph.ID)
		}
		if !p.hasCursor {
			return ids
		}
		if p.NextCursor == q.Get("cursor") {
			t.Fatalf("list of %s (query %s): next_cursor is the cursor just given; the listing does not advance", u.id, q.Encode())
		}
		q.Set("cursor", p.NextCursor)
	}
}

// fetchThumbnail gets a thumbnail as u. A redirect (to a presigned URL) is
// followed without the Authorization header, as a browser would.
func (s *suite) fetchThumbnail(t testing.TB, u user, id, size string) response {
	t.Helper()
	path := "/v1/photos/" + id + "/thumbnail?size=" + url.QueryEscape(size)
	return s.fetchFollowing(t, s.url(path), u.authz())
}

func (s *suite) fetchFollowing(t testing.TB, target, authz string) response {
	t.Helper()
	r := s.send(t, s.direct, target, request{method: http.MethodGet, authz: authz})
	for hops := 0; isRedirect(r.status); hops++ {
		if hops == 5 {
			t.Fatalf("%v\nmore than 5 redirects", r)
		}
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil || r.header.Get("Location") == "" {
			t.Fatalf("%v\nredirect without a usable Location: %q", r, r.header.Get("Location"))
		}
		from, _ := url.Parse(r.url)
		r = s.send(t, s.direct, from.ResolveReference(loc).String(), request{method: http.MethodGet})
	}
	return r
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// checkThumbnails fetches both thumbnails of p and checks each: a JPEG
// that decodes, of the size and byte count the photo JSON says, fitting
// its bound without upscaling.
func (s *suite) checkThumbnails(t testing.TB, u user, p photo.Photo) {
	t.Helper()
	for _, size := range photo.Sizes {
		meta, ok := p.Thumbnails[size]
		if !ok {
			t.Fatalf("photo %s: no %s thumbnail in %v", p.ID, size, p.Thumbnails)
		}
		r := s.fetchThumbnail(t, u, p.ID, string(size))
		wantStatus(t, r, http.StatusOK)
		if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "image/jpeg" {
			t.Errorf("%v\nwant Content-Type image/jpeg", r)
		}
		img, err := jpeg.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("%v\nthe thumbnail does not decode as JPEG: %v", r, err)
		}
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		if w != meta.Width || h != meta.Height || int64(len(r.body)) != meta.Bytes {
			t.Errorf("photo %s: %s thumbnail is %dx%d, %d bytes; the photo JSON says %dx%d, %d bytes",
				p.ID, size, w, h, len(r.body), meta.Width, meta.Height, meta.Bytes)
		}
		if err := checkThumbSize(p.Width, p.Height, w, h, size.Bound()); err != nil {
			t.Errorf("photo %s (%dx%d): %s thumbnail: %v", p.ID, p.Width, p.Height, size, err)
		}
	}
}

// checkThumbSize checks a tw x th thumbnail of an ow x oh original against
// its bound: inside it, never larger than the original, the original's
// size when that fits, otherwise touching the bound with the aspect ratio
// kept (to a pixel of rounding).
func checkThumbSize(ow, oh, tw, th, bound int) error {
	switch {
	case tw < 1 || th < 1:
		return fmt.Errorf("%dx%d is empty", tw, th)
	case tw > bound || th > bound:
		return fmt.Errorf("%dx%d does not fit in %dx%d", tw, th, bound, bound)
	case tw > ow || th > oh:
		return fmt.Errorf("%dx%d is upscaled from %dx%d", tw, th, ow, oh)
	case ow <= bound && oh <= bound:
		if tw != ow || th != oh {
			return fmt.Errorf("%dx%d, want the original's %dx%d (it fits in %d)", tw, th, ow, oh, bound)
		}
		return nil
	}
	long, short, tlong, tshort := ow, oh, tw, th
	if oh > ow {
		long, short, tlong, tshort = oh, ow, th, tw
	}
	want := max(1, (short*bound+long/2)/long)
	if tlong != bound || tshort < want-1 || tshort > want+1 {
		return fmt.Errorf("%dx%d, want the original %dx%d scaled to fit %d (long side %d, short side %d±1)", tw, th, ow, oh, bound, bound, want)
	}
	return nil
}

// checkTimeline checks a photo's times as one read shows them: a ready
// photo has every stage time, each at or after created_at and at or before
// ready_at; a photo not ready yet has no ready_at, and the stage times it
// has fall between created_at and its last update (nothing from the
// future); a failed one's come before it failed. thumbnailed_at and
// tagged_at may come in either order. Times agree to a millisecond
// (sameTime).
func checkTimeline(p photo.Photo) error {
	stages := []struct {
		name string
		at   *time.Time
	}{{"thumbnailed_at", p.ThumbnailedAt}, {"tagged_at", p.TaggedAt}}
	end, endName := p.UpdatedAt, "updated_at"
	switch p.Status {
	case photo.StatusReady, photo.StatusFailed:
		if p.ReadyAt == nil {
			return fmt.Errorf("%s photo %s has no ready_at", p.Status, p.ID)
		}
		end, endName = *p.ReadyAt, "ready_at"
	default:
		if p.ReadyAt != nil {
			return fmt.Errorf("%s photo %s has a ready_at (%v)", p.Status, p.ID, *p.ReadyAt)
		}
	}
	for _, st := range stages {
		switch {
		case st.at == nil && p.Status == photo.StatusReady:
			return fmt.Errorf("ready photo %s has no %s", p.ID, st.name)
		case st.at == nil:
		case !notAfter(p.CreatedAt, *st.at) || !notAfter(*st.at, end):
			return fmt.Errorf("%s photo %s: created_at %v, %s %v, %s %v; want them in that order",
				p.Status, p.ID, p.CreatedAt, st.name, *st.at, endName, end)
		}
	}
	return nil
}

// notAfter reports whether a is at or before b, to a millisecond.
func notAfter(a, b time.Time) bool { return !a.After(b) || sameTime(a, b) }

// sameTime reports whether two timestamps agree to a millisecond (stores
// may keep microseconds, answers may carry nanoseconds).
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return -time.Millisecond <= d && d <= time.Millisecond
}

// sameStage reports whether two optional times are both absent or agree
// to a millisecond.
func sameStage(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameTime(*a, *b)
}
