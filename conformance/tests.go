package conformance

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

func (s *suite) testHealthz(t *testing.T) {
	wantStatus(t, s.do(t, request{method: http.MethodGet, path: "/healthz"}), http.StatusOK)
}

// testUpload: JPEG and PNG uploads of several sizes become ready with the
// right metadata and thumbnails, and GET agrees with the upload's answer.
func (s *suite) testUpload(t *testing.T) {
	tests := []struct {
		name          string
		data          []byte
		format        photo.Format
		width, height int
	}{
		{"jpeg_640x480", synth.JPEG(synth.Options{Seed: 101, Width: 640, Height: 480}), photo.FormatJPEG, 640, 480},
		{"png_300x500", synth.PNG(synth.Options{Seed: 102, Width: 300, Height: 500}), photo.FormatPNG, 300, 500},
		{"jpeg_2000x1500", synth.JPEG(synth.Options{Seed: 103, Width: 2000, Height: 1500}), photo.FormatJPEG, 2000, 1500},
		{"png_gray_1200x900", synth.PNG(synth.Options{Seed: 104, Width: 1200, Height: 900, Gray: true}), photo.FormatPNG, 1200, 900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := s.newUser(t)
			posted, p := s.upload(t, u, tt.data)
			for _, q := range []photo.Photo{posted, p} {
				// A pending photo may not know everything yet; what it
				// says must be right.
				if q.Status == photo.StatusPending && q.Width == 0 {
					continue
				}
				if q.Format != tt.format || q.Width != tt.width || q.Height != tt.height || q.Bytes != int64(len(tt.data)) {
					t.Errorf("%s photo %s: %s %dx%d, %d bytes; want %s %dx%d, %d bytes",
						q.Status, q.ID, q.Format, q.Width, q.Height, q.Bytes, tt.format, tt.width, tt.height, len(tt.data))
				}
			}
			if len(p.Tags) == 0 {
				t.Errorf("ready photo %s has no tags", p.ID)
			}
			if p.Hash == "" {
				t.Errorf("ready photo %s has no hash", p.ID)
			}
			if p.CreatedAt.IsZero() || p.ReadyAt == nil || p.ReadyAt.Before(p.CreatedAt.Add(-time.Second)) {
				t.Errorf("ready photo %s: created_at %v, ready_at %v; want both, ready after created", p.ID, p.CreatedAt, p.ReadyAt)
			}
			got := s.get(t, u, p.ID)
			if err := samePhoto(got, p); err != nil {
				t.Errorf("GET disagrees with the ready photo: %v", err)
			}
			if !sameTime(got.CreatedAt, posted.CreatedAt) {
				t.Errorf("created_at: GET says %v, the upload said %v", got.CreatedAt, posted.CreatedAt)
			}
			s.checkThumbnails(t, u, p)
		})
	}
}

// samePhoto compares what must not change between two reads of a ready
// photo.
func samePhoto(a, b photo.Photo) error {
	switch {
	case a.ID != b.ID || a.Owner != b.Owner || a.Status != b.Status:
		return fmt.Errorf("photo %s of %s (%s) vs %s of %s (%s)", a.ID, a.Owner, a.Status, b.ID, b.Owner, b.Status)
	case a.Format != b.Format || a.Width != b.Width || a.Height != b.Height || a.Bytes != b.Bytes:
		return fmt.Errorf("%s %dx%d %d bytes vs %s %dx%d %d bytes", a.Format, a.Width, a.Height, a.Bytes, b.Format, b.Width, b.Height, b.Bytes)
	case !slices.Equal(sorted(a.Tags), sorted(b.Tags)) || a.Hash != b.Hash:
		return fmt.Errorf("tags %v hash %q vs tags %v hash %q", a.Tags, a.Hash, b.Tags, b.Hash)
	case !maps.Equal(a.Thumbnails, b.Thumbnails):
		return fmt.Errorf("thumbnails %v vs %v", a.Thumbnails, b.Thumbnails)
	case !sameTime(a.CreatedAt, b.CreatedAt):
		return fmt.Errorf("created_at %v vs %v", a.CreatedAt, b.CreatedAt)
	case !sameStage(a.ThumbnailedAt, b.ThumbnailedAt) || !sameStage(a.TaggedAt, b.TaggedAt) || !sameStage(a.ReadyAt, b.ReadyAt):
		return fmt.Errorf("thumbnailed_at %v tagged_at %v ready_at %v vs %v %v %v (each is set once)",
			a.ThumbnailedAt, a.TaggedAt, a.ReadyAt, b.ThumbnailedAt, b.TaggedAt, b.ReadyAt)
	}
	return nil
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// testDuplicate: the same bytes uploaded twice are two photos with the
// same tags and perceptual hash.
func (s *suite) testDuplicate(t *testing.T) {
	u := s.newUser(t)
	data := synth.JPEG(synth.Options{Seed: 201, Width: 800, Height: 600})
	_, a := s.upload(t, u, data)
	_, b := s.upload(t, u, data)
	if a.ID == b.ID {
		t.Fatalf("two uploads got the same id %s", a.ID)
	}
	if !slices.Equal(sorted(a.Tags), sorted(b.Tags)) || a.Hash != b.Hash || a.Hash == "" {
		t.Errorf("same image, different analysis: %s has tags %v hash %q; %s has tags %v hash %q", a.ID, a.Tags, a.Hash, b.ID, b.Tags, b.Hash)
	}
	if a.Width != b.Width || a.Height != b.Height || a.Bytes != b.Bytes {
		t.Errorf("same image, different sizes: %dx%d %d bytes vs %dx%d %d bytes", a.Width, a.Height, a.Bytes, b.Width, b.Height, b.Bytes)
	}
}

// testListPaging: five photos list newest first, through pages of two,
// with no duplicates and no cursor on the last page.
func (s *suite) testListPaging(t *testing.T) {
	u := s.newUser(t)
	var uploaded []string
	for i := range 5 {
		_, p := s.upload(t, u, synth.JPEG(synth.Options{Seed: 301 + uint64(i), Width: 320, Height: 240}))
		uploaded = append(uploaded, p.ID)
	}
	newestFirst := slices.Clone(uploaded)
	slices.Reverse(newestFirst)
	t.Logf("user %s uploaded, newest first: %v", u.id, newestFirst)

	t.Run("pages_of_2", func(t *testing.T) {
		q := url.Values{"limit": {"2"}}
		var ids []string
		for i, want := range []int{2, 2, 1} {
			p := s.listPage(t, u, q)
			if len(p.Photos) != want {
				t.Fatalf("page %d (query %s): %d photos, want %d", i+1, q.Encode(), len(p.Photos), want)
			}
			last := i == 2
			if p.hasCursor == last {
				t.Fatalf("page %d of 3 (query %s): next_cursor present = %v, want %v", i+1, q.Encode(), p.hasCursor, !last)
			}
			for _, ph := range p.Photos {
				ids = append(ids, ph.ID)
			}
			q.Set("cursor", p.NextCursor)
		}
		if !slices.Equal(ids, newestFirst) {
			t.Errorf("pages list %v, want newest first %v", ids, newestFirst)
		}
	})
	t.Run("default_limit", func(t *testing.T) {
		p := s.listPage(t, u, nil)
		if got := pageIDs(p); !slices.Equal(got, newestFirst) || p.hasCursor {
			t.Errorf("list: %v (next_cursor %q), want %v and no cursor", got, p.NextCursor, newestFirst)
		}
	})
	t.Run("limit_equal_to_count", func(t *testing.T) {
		p := s.listPage(t, u, url.Values{"limit": {"5"}})
		if got := pageIDs(p); !slices.Equal(got, newestFirst) || p.hasCursor {
			t.Errorf("list?limit=5: %v (next_cursor %q), want %v and no cursor (it is the last page)", got, p.NextCursor, newestFirst)
		}
	})
	t.Run("limit_100", func(t *testing.T) {
		if got := s.listAll(t, u, "", 100); !slices.Equal(got, newestFirst) {
			t.Errorf("list?limit=100: %v, want %v", got, newestFirst)
		}
	})
	t.Run("ready_photos_listed_whole", func(t *testing.T) {
		for _, p := range s.listPage(t, u, nil).Photos {
			if p.Status != photo.StatusReady || len(p.Tags) == 0 || len(p.Thumbnails) != len(photo.Sizes) {
				t.Errorf("listed photo %s: status %s, tags %v, thumbnails %v; want it as GET shows it", p.ID, p.Status, p.Tags, p.Thumbnails)
			}
		}
	})
}

func pageIDs(p page) []string {
	ids := []string{}
	for _, ph := range p.Photos {
		ids = append(ids, ph.ID)
	}
	return ids
}

// testTagFilter: ?tag= lists exactly the photos having the tag, newest
// first. A gray photo among colourful ones makes sure some tag is on some
// photos but not all.
func (s *suite) testTagFilter(t *testing.T) {
	u := s.newUser(t)
	inputs := [][]byte{
		synth.JPEG(synth.Options{Seed: 401, Width: 400, Height: 300}),
		synth.JPEG(synth.Options{Seed: 402, Width: 300, Height: 400, Gray: true}),
		synth.JPEG(synth.Options{Seed: 403, Width: 500, Height: 500}),
		synth.PNG(synth.Options{Seed: 404, Width: 320, Height: 200}),
	}
	var photos []photo.Photo // newest first
	for _, data := range inputs {
		_, p := s.upload(t, u, data)
		photos = append([]photo.Photo{p}, photos...)
	}
	tag, want := pickTag(photos)
	if tag == "" {
		t.Fatalf("every photo has the same tags, so the filter cannot be told from no filter: %v", tagsOf(photos))
	}
	t.Logf("user %s: tag %q is on %v of %v", u.id, tag, want, tagsOf(photos))

	t.Run("some", func(t *testing.T) {
		got := s.listAll(t, u, tag, 0)
		if !slices.Equal(got, want) {
			t.Errorf("list?tag=%s: %v, want exactly %v (newest first)", tag, got, want)
		}
		for _, p := range s.listPage(t, u, url.Values{"tag": {tag}}).Photos {
			if !slices.Contains(p.Tags, tag) {
				t.Errorf("list?tag=%s returned photo %s with tags %v", tag, p.ID, p.Tags)
			}
		}
	})
	t.Run("paged", func(t *testing.T) {
		if got := s.listAll(t, u, tag, 1); !slices.Equal(got, want) {
			t.Errorf("list?tag=%s&limit=1 over all pages: %v, want %v", tag, got, want)
		}
	})
	t.Run("none", func(t *testing.T) {
		p := s.listPage(t, u, url.Values{"tag": {"conformance-no-such-tag"}})
		if len(p.Photos) != 0 || p.hasCursor {
			t.Errorf("list?tag=conformance-no-such-tag: %v (next_cursor %q), want none", pageIDs(p), p.NextCursor)
		}
	})
}

// pickTag returns the first tag (in sorted order) that some but not all
// photos have, and the ids of those photos in the given order.
func pickTag(photos []photo.Photo) (string, []string) {
	count := map[string]int{}
	for _, p := range photos {
		for _, tag := range slices.Compact(sorted(p.Tags)) {
			count[tag]++
		}
	}
	for _, tag := range slices.Sorted(maps.Keys(count)) {
		if count[tag] == len(photos) {
			continue
		}
		var ids []string
		for _, p := range photos {
			if slices.Contains(p.Tags, tag) {
				ids = append(ids, p.ID)
			}
		}
		return tag, ids
	}
	return "", nil
}

func tagsOf(photos []photo.Photo) map[string][]string {
	m := map[string][]string{}
	for _, p := range photos {
		m[p.ID] = p.Tags
	}
	return m
}

// testDelete: a deleted photo is gone (GET, both thumbnails, the list),
// its sibling stays, and deleting it again is 404.
func (s *suite) testDelete(t *testing.T) {
	u := s.newUser(t)
	_, keep := s.upload(t, u, synth.JPEG(synth.Options{Seed: 501, Width: 400, Height: 300}))
	_, doomed := s.upload(t, u, synth.PNG(synth.Options{Seed: 502, Width: 300, Height: 200}))

	r := s.do(t, request{method: http.MethodDelete, path: "/v1/photos/" + doomed.ID, authz: u.authz()})
	if s.tgt.Eventual {
		wantStatus(t, r, http.StatusNoContent, http.StatusAccepted)
	} else {
		wantStatus(t, r, http.StatusNoContent)
	}
	if r.status == http.StatusNoContent && len(r.body) > 0 {
		t.Errorf("%v\n204 with a body", r)
	}

	s.poll(t, "photo "+doomed.ID+" gone", func() (bool, string) {
		if r := s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + doomed.ID, authz: u.authz()}); r.status != http.StatusNotFound {
			return false, r.String()
		}
		for _, size := range photo.Sizes {
			if r := s.fetchThumbnail(t, u, doomed.ID, string(size)); r.status != http.StatusNotFound {
				return false, r.String()
			}
		}
		if ids := s.listAll(t, u, "", 0); slices.Contains(ids, doomed.ID) {
			return false, fmt.Sprintf("the list of %s still holds %s: %v", u.id, doomed.ID, ids)
		}
		return true, ""
	})
	wantError(t, s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + doomed.ID, authz: u.authz()}), http.StatusNotFound, photo.NotFound)
	wantError(t, s.fetchThumbnail(t, u, doomed.ID, string(photo.SizeSmall)), http.StatusNotFound, photo.NotFound)
	if ids := s.listAll(t, u, "", 0); !slices.Equal(ids, []string{keep.ID}) {
		t.Errorf("after the delete, the list of %s is %v, want only %s", u.id, ids, keep.ID)
	}
	s.get(t, u, keep.ID)
	if !s.tgt.Eventual {
		wantError(t, s.do(t, request{method: http.MethodDelete, path: "/v1/photos/" + doomed.ID, authz: u.authz()}), http.StatusNotFound, photo.NotFound)
	}
}

// testUpperCaseID: UUIDs compare without regard to case, so a photo's id
// with its hex digits in upper case names the same photo; the answer
// gives the id in its canonical lower-case form, a thumbnail and a delete
// by that id work too, and after the delete the photo is gone under either
// form.
func (s *suite) testUpperCaseID(t *testing.T) {
	u := s.newUser(t)
	_, p := s.upload(t, u, synth.JPEG(synth.Options{Seed: 651, Width: 400, Height: 300}))
	upper := strings.ToUpper(p.ID)
	r := s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + upper, authz: u.authz()})
	wantStatus(t, r, http.StatusOK)
	var got photo.Photo
	if err := json.Unmarshal(r.body, &got); err != nil || got.ID != p.ID {
		t.Fatalf("%v\nwant photo %s", r, p.ID)
	}
	if r := s.fetchThumbnail(t, u, upper, string(photo.SizeSmall)); r.status != http.StatusOK {
		t.Errorf("%v\nwant the small thumbnail", r)
	}
	r = s.do(t, request{method: http.MethodDelete, path: "/v1/photos/" + upper, authz: u.authz()})
	if s.tgt.Eventual {
		wantStatus(t, r, http.StatusNoContent, http.StatusAccepted)
	} else {
		wantStatus(t, r, http.StatusNoContent)
	}
	s.poll(t, "photo "+p.ID+" gone after a delete by "+upper, func() (bool, string) {
		for _, id := range []string{p.ID, upper} {
			if r := s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + id, authz: u.authz()}); r.status != http.StatusNotFound {
				return false, r.String()
			}
			if r := s.fetchThumbnail(t, u, id, string(photo.SizeSmall)); r.status != http.StatusNotFound {
				return false, r.String()
			}
		}
		return true, ""
	})
}

// testIsolation: user B cannot see, fetch or delete user A's photo, and
// neither lists the other's.
func (s *suite) testIsolation(t *testing.T) {
	a, b := s.newUser(t), s.newUser(t)
	_, pa := s.upload(t, a, synth.JPEG(synth.Options{Seed: 601, Width: 400, Height: 300}))
	_, pb := s.upload(t, b, synth.JPEG(synth.Options{Seed: 602, Width: 400, Height: 300}))
	t.Logf("user %s owns %s, user %s owns %s", a.id, pa.ID, b.id, pb.ID)

	t.Run("get", func(t *testing.T) {
		wantError(t, s.do(t, request{method: http.MethodGet, path: "/v1/photos/" + pa.ID, authz: b.authz()}), http.StatusNotFound, photo.NotFound)
	})
	t.Run("thumbnail", func(t *testing.T) {
		for _, size := range photo.Sizes {
			wantError(t, s.fetchThumbnail(t, b, pa.ID, string(size)), http.StatusNotFound, photo.NotFound)
		}
	})
	t.Run("delete", func(t *testing.T) {
		wantError(t, s.do(t, request{method: http.MethodDelete, path: "/v1/photos/" + pa.ID, authz: b.authz()}), http.StatusNotFound, photo.NotFound)
		s.settleDown()
		got := s.get(t, a, pa.ID)
		if got.Status != photo.StatusReady {
			t.Errorf("after another user's delete, photo %s is %s", pa.ID, got.Status)
		}
		s.checkThumbnails(t, a, got)
	})
	t.Run("list", func(t *testing.T) {
		if ids := s.listAll(t, b, "", 0); !slices.Equal(ids, []string{pb.ID}) {
			t.Errorf("the list of %s is %v, want only its own %s", b.id, ids, pb.ID)
		}
		if ids := s.listAll(t, a, "", 0); !slices.Equal(ids, []string{pa.ID}) {
			t.Errorf("the list of %s is %v, want only its own %s", a.id, ids, pa.ID)
		}
		for _, tag := range pa.Tags {
			if ids := s.listAll(t, b, tag, 0); slices.Contains(ids, pa.ID) {
				t.Errorf("list?tag=%s of %s holds %s of %s", tag, b.id, pa.ID, a.id)
			}
		}
	})
}

// testBadInput: every refused request gets its status and JSON error, and
// none changes the user's photos.
func (s *suite) testBadInput(t *testing.T) {
	u := s.newUser(t)
	_, p := s.upload(t, u, synth.JPEG(synth.Options{Seed: 701, Width: 400, Height: 300}))
	before := s.listAll(t, u, "", 0)
	valid := synth.JPEG(synth.Options{Seed: 702, Width: 64, Height: 48})

	t.Run("cases", func(t *testing.T) {
		s.badUploads(t, u)
		s.badTokens(t, u, p.ID, valid)
		s.badIDs(t, u)
		s.badQueries(t, u, p.ID)
	})

	t.Run("photos_unchanged", func(t *testing.T) {
		s.settleDown()
		if after := s.listAll(t, u, "", 0); !slices.Equal(after, before) {
			t.Errorf("refused requests changed the photos of %s: %v before, %v after", u.id, before, after)
		}
		got := s.get(t, u, p.ID)
		if err := samePhoto(got, p); err != nil {
			t.Errorf("refused requests changed photo %s: %v", p.ID, err)
		}
	})
}

// badUploads: uploads the server must refuse, each with its status and
// error kind; the Content-Type of some lies.
func (s *suite) badUploads(t *testing.T, u user) {
	uploads := []struct {
		name        string
		body        []byte
		contentType string
		status      int
		code        photo.Kind
	}{
		{"empty_body", []byte{}, "image/jpeg", http.StatusBadRequest, photo.Invalid},
		{"truncated_jpeg", truncatedJPEG(), "image/jpeg", http.StatusBadRequest, photo.Invalid},
		// Content-Type lies: servers must sniff the bytes.
		{"text_file", textFile(), "image/jpeg", http.StatusUnsupportedMediaType, photo.Unsupported},
		{"gif", tinyGIF(), "image/png", http.StatusUnsupportedMediaType, photo.Unsupported},
		{"over_byte_limit", overByteLimit(s.limits), "image/jpeg", http.StatusRequestEntityTooLarge, photo.TooLarge},
		{"over_pixel_limit", pngBomb(s.limits), "image/png", http.StatusUnprocessableEntity, photo.TooManyPixels},
	}
	for _, tt := range uploads {
		t.Run("upload_"+tt.name, func(t *testing.T) {
			t.Parallel()
			r := s.do(t, request{method: http.MethodPost, path: "/v1/photos", authz: u.authz(), body: tt.body, contentType: tt.contentType, expectContinue: len(tt.body) > 1<<20})
			wantError(t, r, tt.status, tt.code)
		})
	}
}

// badTokens: every endpoint refuses a request without a valid token, on
// the photo id (valid: an image to upload).
func (s *suite) badTokens(t *testing.T, u user, id string, valid []byte) {
	tokens := []struct{ name, authz string }{
		{"missing_token", ""},
		{"malformed_token", "Bearer not.a.token"},
		{"not_bearer", "Basic " + u.token},
		{"token_of_other_secret", "Bearer " + s.foreignToken(t, u.id)},
		{"expired_token", "Bearer " + s.expiredToken(t, u.id)},
		{"alg_none_token", "Bearer " + noneToken(t, u.id)},
	}
	for _, tt := range tokens {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, rq := range []request{
				{method: http.MethodPost, path: "/v1/photos", body: valid, contentType: "image/jpeg"},
				{method: http.MethodGet, path: "/v1/photos"},
				{method: http.MethodGet, path: "/v1/photos/" + id},
				{method: http.MethodGet, path: "/v1/photos/" + id + "/thumbnail?size=small"},
				{method: http.MethodDelete, path: "/v1/photos/" + id},
			} {
				rq.authz = tt.authz
				if err := checkError(s.do(t, rq), http.StatusUnauthorized, photo.Unauthorized); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// badIDs: the photo endpoints refuse an unknown and a malformed photo id.
func (s *suite) badIDs(t *testing.T, u user) {
	ids := []struct {
		name, id string
		status   int
		code     photo.Kind
	}{
		{"unknown_id", photo.NewID(), http.StatusNotFound, photo.NotFound},
		{"malformed_id", "not-a-photo-id", http.StatusBadRequest, photo.Invalid},
	}
	for _, tt := range ids {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, rq := range []request{
				{method: http.MethodGet, path: "/v1/photos/" + tt.id},
				{method: http.MethodGet, path: "/v1/photos/" + tt.id + "/thumbnail?size=small"},
				{method: http.MethodDelete, path: "/v1/photos/" + tt.id},
			} {
				rq.authz = u.authz()
				if err := checkError(s.do(t, rq), tt.status, tt.code); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// badQueries: a thumbnail size, a list limit and a list cursor out of
// their range are refused, on the photo id.
func (s *suite) badQueries(t *testing.T, u user, id string) {
	t.Run("bad_thumbnail_size", func(t *testing.T) {
		t.Parallel()
		for _, size := range []string{"huge", "medium", "SMALL"} {
			if err := checkError(s.fetchThumbnail(t, u, id, size), http.StatusBadRequest, photo.Invalid); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("bad_list_limit", func(t *testing.T) {
		t.Parallel()
		for _, limit := range []string{"0", "101", "abc", "-1", "1.5"} {
			r := s.do(t, request{method: http.MethodGet, path: "/v1/photos?limit=" + url.QueryEscape(limit), authz: u.authz()})
			if err := checkError(r, http.StatusBadRequest, photo.Invalid); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("malformed_cursor", func(t *testing.T) {
		t.Parallel()
		for _, cursor := range []string{"not-a-cursor!", "%%%", "\x00"} {
			r := s.do(t, request{method: http.MethodGet, path: "/v1/photos?cursor=" + url.QueryEscape(cursor), authz: u.authz()})
			if err := checkError(r, http.StatusBadRequest, photo.Invalid); err != nil {
				t.Error(err)
			}
		}
	})
}

// foreignToken is a well-formed token for user signed with another secret.
func (s *suite) foreignToken(t testing.TB, user string) string {
	t.Helper()
	other := append([]byte("not-the-server-secret:"), s.tgt.Secret...)
	iss, err := auth.NewIssuer(other)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expiredToken is a token for user, signed with the server's secret, that
// expired an hour ago (beyond any sensible clock-skew leeway).
func (s *suite) expiredToken(t testing.TB, user string) string {
	t.Helper()
	tok, err := s.issuer.MintAt(user, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// noneToken is an unsigned token (alg "none") for user.
func noneToken(t testing.TB, user string) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{
		Issuer:    auth.IssuerName,
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
