// Package conformance is the photo app's API contract as a test suite: one
// suite that every implementation of the public HTTP API (the monolith, the
// event-driven app) must pass, the way testing/fstest checks file systems.
//
// A test of an implementation starts it, then calls Run:
//
//	func TestConformance(t *testing.T) {
//		base := startServer(t) // e.g. run(ctx, ...) on port 0
//		conformance.Run(t, conformance.Target{BaseURL: base, Secret: secret})
//	}
//
// Run needs a running server only: it mints its own tokens with the shared
// secret and uses fresh random user ids, so it can run again and again
// against a server whose data persists. Its subtests run one group at a
// time (the subtests inside a group in parallel), so servers stopped with
// defer or t.Cleanup stay up until Run returns.
package conformance

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/imaging"
)

// Target describes the implementation under test.
type Target struct {
	// BaseURL is where the API is served, e.g. "http://127.0.0.1:8080".
	BaseURL string
	// Secret is the server's token signing secret (PHOTOBENCH_AUTH_SECRET):
	// the suite mints its users' tokens with it.
	Secret []byte
	// Eventual says the implementation is eventually consistent: POST
	// answers 202 with a pending photo that becomes ready later, DELETE may
	// answer 202, and reads reflect writes after a while. Otherwise POST
	// must answer 201 with a ready photo and DELETE 204, visible at once.
	Eventual bool
	// ReadyTimeout bounds how long, when Eventual, the suite waits for a
	// photo to become ready or for a deletion to show (default 60s).
	ReadyTimeout time.Duration
	// Limits are the server's upload limits, to craft bodies just over
	// them (default imaging.DefaultLimits).
	Limits imaging.Limits
	// Client makes the requests (default: a client with a two-minute
	// timeout). The suite follows thumbnail redirects itself, without the
	// Authorization header, whatever the client's redirect policy.
	Client *http.Client
}

// DefaultReadyTimeout is Target.ReadyTimeout's default.
const DefaultReadyTimeout = 60 * time.Second

// settle is how long, when Eventual, the suite waits before checking that
// something did not happen (a refused upload or delete left no trace).
const settle = 2 * time.Second

// Run checks the implementation at tgt against the API contract, in named
// subtests:
//
//	healthz          GET /healthz answers 200 without a token
//	upload           JPEG and PNG uploads become ready with the right size,
//	                 format, bytes, tags and thumbnails; GET agrees
//	duplicate        the same image twice: two photos, same tags and hash
//	list_paging      newest first, cursor paging, no duplicates, no cursor
//	                 on the last page
//	list_tag_filter  ?tag= returns exactly the photos with the tag
//	delete           a deleted photo is gone from GET, thumbnail and list
//	isolation        another user's photos are 404 and never listed
//	upper_case_id    a photo's id in upper case names the same photo
//	                 for GET, thumbnail and delete
//	bad_input        every refused request gets its status and JSON error,
//	                 and leaves the user's photos unchanged
//	hostile          what attackers and broken clients send: made-up HTTP
//	                 methods (405 JSON, never a metric label), tokens
//	                 from the future, for ten years or without expiry
//	                 (401), and many slow-body uploads that must not keep
//	                 an ordinary upload from being served; the server is
//	                 healthy afterwards
//
// Every photo a test reads is checked for its timeline: a ready photo has
// thumbnailed_at and tagged_at, between created_at and ready_at; one not
// ready yet has no time from the future (no ready_at, its stage times
// before its updated_at; none at all in an eventual upload's answer).
func Run(t *testing.T, tgt Target) {
	t.Helper()
	s := newSuite(t, tgt)
	t.Run("healthz", s.testHealthz)
	t.Run("upload", s.testUpload)
	t.Run("duplicate", s.testDuplicate)
	t.Run("list_paging", s.testListPaging)
	t.Run("list_tag_filter", s.testTagFilter)
	t.Run("delete", s.testDelete)
	t.Run("isolation", s.testIsolation)
	t.Run("upper_case_id", s.testUpperCaseID)
	t.Run("bad_input", s.testBadInput)
	t.Run("hostile", s.testHostile)
}

// suite is one run's configuration.
type suite struct {
	tgt    Target
	base   *url.URL
	client *http.Client
	// direct is client without redirects, for thumbnails.
	direct       *http.Client
	issuer       *auth.Issuer
	limits       imaging.Limits
	readyTimeout time.Duration
}

func newSuite(t testing.TB, tgt Target) *suite {
	t.Helper()
	base, err := url.Parse(tgt.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		t.Fatalf("conformance: BaseURL %q is not an absolute URL", tgt.BaseURL)
	}
	issuer, err := auth.NewIssuer(tgt.Secret)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	s := &suite{tgt: tgt, base: base, issuer: issuer, limits: tgt.Limits, readyTimeout: tgt.ReadyTimeout}
	if s.limits == (imaging.Limits{}) {
		s.limits = imaging.DefaultLimits
	}
	if s.readyTimeout <= 0 {
		s.readyTimeout = DefaultReadyTimeout
	}
	s.client = tgt.Client
	if s.client == nil {
		s.client = &http.Client{Timeout: 2 * time.Minute}
	}
	direct := *s.client
	direct.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.direct = &direct
	return s
}
