package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/photobench/photobench/auth"
)

// APIConfig configures an API target.
type APIConfig struct {
	BaseURL  string        // the architecture's public API, e.g. http://127.0.0.1:8080
	Secret   []byte        // the bearer tokens' signing secret
	Users    int           // synthetic users load-<Seed>-0 .. load-<Seed>-<Users-1>
	Seed     uint64        // names the users (the scenario's seed)
	TokenTTL time.Duration // how long the tokens last; 0 means 24 h
	Photos   *PhotoSet     // upload bodies; required when the mix uploads
	Tag      string        // the tag searches ask for; "" means DefaultSearchTag
	KnownIDs int           // photo ids remembered per user; 0 means DefaultKnownIDs
}

// Defaults of APIConfig.
const (
	DefaultSearchTag = "landscape" // the vision service tags wider-than-tall photos so, as all synthetic ones are
	DefaultKnownIDs  = 64
	DefaultTokenTTL  = 24 * time.Hour
)

// APITarget builds the requests of photobench's public HTTP API for synthetic
// users with their own bearer tokens:
//
//   - upload: POST /v1/photos with a synthetic JPEG (photo Hit.Seq of the set)
//   - get: GET /v1/photos/{id} of one of the user's uploaded photos
//   - list: GET /v1/photos?limit=20
//   - search: GET /v1/photos?tag=<Tag>&limit=20
//   - thumbnail: GET /v1/photos/{id}/thumbnail?size=small of an uploaded photo
//   - delete: DELETE /v1/photos/{id} of an uploaded photo (then forgotten)
//
// get, thumbnail and delete need a photo the user uploaded in this run; until
// there is one they send a list instead (the Result keeps the hit's Op).
//
// The ids come from the upload answers. A Targeter only builds requests, so the
// target learns them through the client: Client wraps a client's transport to
// read the answers to uploads (201 or 202 with the photo's JSON) and hands the
// body on unchanged. Attack must send with that client (WithClient), or the
// target never learns an id and every get, thumbnail and delete is a list.
// The same client reports accepted uploads to the function set with OnUpload.
type APITarget struct {
	base     *url.URL
	tokens   []string
	users    []*idRing
	photos   *PhotoSet
	tag      string
	onUpload atomic.Pointer[func(Hit, UploadAnswer)]
	// ready holds, per user, the ids known to be ready (MarkReady); with
	// readyOnly, thumbnails are asked only of those.
	ready     []*idRing
	readyOnly atomic.Bool
}

// UploadAnswer is what the answer to an accepted upload (201 or 202) said, as
// the target's client read it.
type UploadAnswer struct {
	ID      string    // the photo's id
	Status  string    // the photo's status: "pending", "ready" or "failed" ("" if absent)
	ReadyAt time.Time // the photo's ready_at; zero when absent
	Acked   time.Time // when the answer's body had been read
}

// NewAPITarget mints the users' tokens and returns the target.
func NewAPITarget(c APIConfig) (*APITarget, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api target: base URL %q is not an http(s) URL", c.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if c.Users <= 0 {
		return nil, errors.New("api target: users must be positive")
	}
	iss, err := auth.NewIssuer(c.Secret)
	if err != nil {
		return nil, fmt.Errorf("api target: %w", err)
	}
	ttl := c.TokenTTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	keep := c.KnownIDs
	if keep <= 0 {
		keep = DefaultKnownIDs
	}
	t := &APITarget{base: u, photos: c.Photos, tag: c.Tag}
	if t.tag == "" {
		t.tag = DefaultSearchTag
	}
	for i := range c.Users {
		tok, err := iss.Mint(UserName(c.Seed, i), ttl)
		if err != nil {
			return nil, fmt.Errorf("api target: %w", err)
		}
		t.tokens = append(t.tokens, tok)
		t.users = append(t.users, &idRing{ids: make([]string, keep)})
		t.ready = append(t.ready, &idRing{ids: make([]string, keep)})
	}
	return t, nil
}

// UserName is the id of synthetic user i of a run with the given seed.
func UserName(seed uint64, i int) string { return fmt.Sprintf("load-%d-%d", seed, i) }

// Known returns how many photo ids the target currently remembers for user.
func (t *APITarget) Known(user int) int { return t.users[user].len() }

// OnUpload sets f to be called, by the client Client returns, with the hit
// and the answer of every upload accepted with a photo id (nil stops the
// calls). f runs on the sending goroutine before the response is handed on,
// so it must be quick: Follower.Follow is.
func (t *APITarget) OnUpload(f func(h Hit, a UploadAnswer)) {
	if f == nil {
		t.onUpload.Store(nil)
		return
	}
	t.onUpload.Store(&f)
}

// ThumbnailsOfReady makes thumbnail hits ask only for photos known to be
// ready (MarkReady), as a client showing a gallery would; until a user has
// one, a list is sent instead. Without it a thumbnail may be asked of a photo
// still pending, which the event-driven app answers 404 until it is ready.
func (t *APITarget) ThumbnailsOfReady(on bool) { t.readyOnly.Store(on) }

// MarkReady records that user's photo id is ready (the Follower saw it).
func (t *APITarget) MarkReady(user int, id string) {
	if user >= 0 && user < len(t.ready) && id != "" {
		t.ready[user].add(id)
	}
}

// PhotoRequest builds user's GET /v1/photos/{id}, with the user's token: the
// request the Follower polls a photo's status with.
func (t *APITarget) PhotoRequest(ctx context.Context, user int, id string) (*http.Request, error) {
	if user < 0 || user >= len(t.users) {
		return nil, fmt.Errorf("photo request: user %d out of range", user)
	}
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("photo request: bad photo id %q", id)
	}
	u := *t.base
	u.Path += "/v1/photos/" + id
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("photo request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+t.tokens[user])
	return req, nil
}

type hitKey struct{}

// Target builds the request for h; it is the target's Targeter.
func (t *APITarget) Target(ctx context.Context, h Hit) (*http.Request, error) {
	if h.User < 0 || h.User >= len(t.users) {
		return nil, fmt.Errorf("user %d out of range", h.User)
	}
	ring := t.users[h.User]
	method, path, query := http.MethodGet, "/v1/photos", "limit=20"
	var body []byte
	switch h.Op {
	case OpUpload:
		if t.photos == nil || t.photos.Len() == 0 {
			return nil, errors.New("no photos to upload")
		}
		method, query, body = http.MethodPost, "", t.photos.Pick(h.Seq)
	case OpSearch:
		query = "tag=" + url.QueryEscape(t.tag) + "&limit=20"
	case OpGet:
		if id, ok := ring.pick(h.Seq); ok {
			path, query = "/v1/photos/"+id, ""
		}
	case OpThumbnail:
		from := ring
		if t.readyOnly.Load() {
			from = t.ready[h.User]
		}
		if id, ok := from.pick(h.Seq); ok {
			path, query = "/v1/photos/"+id+"/thumbnail", "size=small"
		}
	case OpDelete:
		if id, ok := ring.take(); ok {
			t.ready[h.User].remove(id)
			method, path, query = http.MethodDelete, "/v1/photos/"+id, ""
		}
	case OpList:
	default:
		return nil, fmt.Errorf("unknown operation %q", h.Op)
	}
	u := *t.base
	u.Path += path
	u.RawQuery = query
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, hitKey{}, h), method, u.String(), r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+t.tokens[h.User])
	if body != nil {
		req.Header.Set("Content-Type", "image/jpeg")
	}
	return req, nil
}

// Client returns a client sending through base's transport (the default
// transport when base or its transport is nil) that also reads the ids of
// uploaded photos for the target. It reads an upload answer's body (at most
// 1 MiB) before returning the response, with the body replaced by the bytes read,
// so timings are unchanged: the engine reads the whole body anyway.
func (t *APITarget) Client(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &observer{next: next, t: t}
	return c
}

type observer struct {
	next http.RoundTripper
	t    *APITarget
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || (resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted) {
		return resp, err
	}
	h, ok := req.Context().Value(hitKey{}).(Hit)
	if !ok || h.User < 0 || h.User >= len(o.t.users) {
		return resp, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	acked := time.Now()
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var p struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		ReadyAt string `json:"ready_at"` // parsed apart: a bad time must not lose the id
	}
	if json.Unmarshal(data, &p) != nil || p.ID == "" || strings.ContainsAny(p.ID, "/?#") {
		return resp, nil
	}
	o.t.users[h.User].add(p.ID)
	if f := o.t.onUpload.Load(); f != nil {
		a := UploadAnswer{ID: p.ID, Status: p.Status, Acked: acked}
		a.ReadyAt, _ = time.Parse(time.RFC3339Nano, p.ReadyAt) // zero when absent or malformed
		(*f)(h, a)
	}
	return resp, nil
}

// idRing remembers a user's most recent photo ids, safe for concurrent use.
type idRing struct {
	mu   sync.Mutex
	ids  []string
	n    int // ids held: ids[(next-n) mod len] .. ids[next-1]
	next int
}

func (r *idRing) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[r.next] = id
	r.next = (r.next + 1) % len(r.ids)
	r.n = min(r.n+1, len(r.ids))
}

func (r *idRing) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// slot returns the index of held id number k mod n, oldest first.
func (r *idRing) slot(k uint64) int {
	return (r.next - r.n + int(k%uint64(r.n)) + len(r.ids)) % len(r.ids)
}

func (r *idRing) pick(k uint64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return "", false
	}
	return r.ids[r.slot(k)], true
}

// take removes and returns a held id: the oldest, so that recent uploads stay
// available to gets and thumbnails.
func (r *idRing) take() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return "", false
	}
	i := r.slot(0)
	id := r.ids[i]
	r.ids[i] = ""
	r.n--
	return id, true
}

// remove forgets id if held, keeping the others in order.
func (r *idRing) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := make([]string, 0, r.n)
	for k := 0; k < r.n; k++ {
		if v := r.ids[r.slot(uint64(k))]; v != id {
			kept = append(kept, v)
		}
	}
	if len(kept) == r.n {
		return
	}
	clear(r.ids)
	copy(r.ids, kept)
	r.n, r.next = len(kept), len(kept)%len(r.ids)
}
