// Package storetest is the contract of a PostgreSQL photo store's reads:
// one suite, run against every store (the monolith's and the event-driven
// catalog's), as package conformance runs one API suite against every app.
// It covers what photo.Reader promises of Get and List, the stage times
// (photo.Photo.ThumbnailedAt, TaggedAt) and error kinds included: a database that cannot be reached is Unavailable, never an
// error of no kind (which the API answers as a bare 500).
//
// The suite talks to the real PostgreSQL server of the stack: each test has
// a database of its own, dropped when it ends, and the outage is real too:
// the store connects through a TCP relay that the test cuts.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net/url"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/photobench/photobench/internal/pgdb"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/photo"
)

// Store is what the suite reads.
type Store interface {
	Get(ctx context.Context, owner, id string) (photo.Photo, error)
	List(ctx context.Context, q photo.ListQuery) (photo.Page, error)
}

// Harness opens one kind of store and writes photos into it the way its
// architecture does.
type Harness struct {
	// Open opens the store on the database dsn names, creating it when
	// missing; it is closed when the test ends.
	Open func(t *testing.T, dsn string) Store
	// PutReady writes p as a ready photo of p.Owner (with its Tags, Format,
	// size, CreatedAt and stage times) through the store's own writers.
	PutReady func(t *testing.T, s Store, p photo.Photo)
	// PutThumbnailed writes p as a pending photo of p.Owner whose
	// thumbnails are stored (at p.ThumbnailedAt) and whose tags are not.
	PutThumbnailed func(t *testing.T, s Store, p photo.Photo)
}

// Run runs the contract against fresh databases on the server that baseDSN
// (a DSN of any database there) names.
func Run(t *testing.T, baseDSN string, h Harness) {
	t.Run("GetReturnsWhatWasWritten", func(t *testing.T) { getRoundTrip(t, baseDSN, h) })
	t.Run("PendingHasOnlyTheStagesItWentThrough", func(t *testing.T) { pendingStages(t, baseDSN, h) })
	t.Run("GetOfNoneOrAnotherUsersIsNotFound", func(t *testing.T) { getNotFound(t, baseDSN, h) })
	t.Run("ListIsTheOwnersNewestFirstInPages", func(t *testing.T) { listPages(t, baseDSN, h) })
	t.Run("ListFiltersByTag", func(t *testing.T) { listTag(t, baseDSN, h) })
	t.Run("ListRefusesAMalformedCursor", func(t *testing.T) { listBadCursor(t, baseDSN, h) })
	t.Run("DatabaseDownIsUnavailable", func(t *testing.T) { databaseDown(t, baseDSN, h) })
}

var epoch = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// readyPhoto is a ready photo of owner created i seconds after epoch,
// thumbnailed 100 ms later, tagged 200 ms later, ready 300 ms later.
func readyPhoto(owner string, i int, tags ...string) photo.Photo {
	created := epoch.Add(time.Duration(i) * time.Second)
	thumbnailed, tagged, ready := created.Add(100*time.Millisecond), created.Add(200*time.Millisecond), created.Add(300*time.Millisecond)
	return photo.Photo{
		ID: photo.NewID(), Owner: owner, Status: photo.StatusReady, Format: photo.FormatJPEG,
		Width: 640, Height: 480, Bytes: 1000 + int64(i), Tags: tags,
		Thumbnails: map[photo.Size]photo.Thumbnail{
			photo.SizeSmall: {Width: 256, Height: 192, Bytes: 100},
			photo.SizeLarge: {Width: 640, Height: 480, Bytes: 900},
		},
		CreatedAt: created, UpdatedAt: ready, ReadyAt: &ready, ThumbnailedAt: &thumbnailed, TaggedAt: &tagged,
	}
}

func open(t *testing.T, baseDSN string, h Harness) Store {
	t.Helper()
	return h.Open(t, FreshDatabase(t, baseDSN, "pbtest_store_"))
}

func getRoundTrip(t *testing.T, baseDSN string, h Harness) {
	s := open(t, baseDSN, h)
	want := readyPhoto("ann", 1, "beach", "sunset")
	h.PutReady(t, s, want)
	got, err := s.Get(context.Background(), "ann", want.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.ID != want.ID || got.Owner != "ann" || got.Status != photo.StatusReady {
		t.Errorf("Get = id %s owner %s status %s, want %s ann ready", got.ID, got.Owner, got.Status, want.ID)
	}
	if got.Width != want.Width || got.Height != want.Height || got.Format != want.Format {
		t.Errorf("Get = %dx%d %s, want %dx%d %s", got.Width, got.Height, got.Format, want.Width, want.Height, want.Format)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	if !slices.Equal(sorted(got.Tags), sorted(want.Tags)) {
		t.Errorf("Tags = %v, want %v", got.Tags, want.Tags)
	}
	for _, size := range photo.Sizes {
		if got.Thumbnails[size] != want.Thumbnails[size] {
			t.Errorf("thumbnail %s = %+v, want %+v", size, got.Thumbnails[size], want.Thumbnails[size])
		}
	}
	if !sameTime(got.ThumbnailedAt, want.ThumbnailedAt) || !sameTime(got.TaggedAt, want.TaggedAt) {
		t.Errorf("thumbnailed at %v, tagged at %v; want %v, %v", got.ThumbnailedAt, got.TaggedAt, want.ThumbnailedAt, want.TaggedAt)
	}
	// The store may set the ready time itself (the catalog does, on its
	// clock): it comes after every stage.
	for name, at := range map[string]*time.Time{"thumbnailed": got.ThumbnailedAt, "tagged": got.TaggedAt} {
		if at == nil || at.Before(got.CreatedAt) || got.ReadyAt == nil || got.ReadyAt.Before(*at) {
			t.Errorf("created at %v, %s at %v, ready at %v: want them in that order", got.CreatedAt, name, at, got.ReadyAt)
		}
	}
}

// pendingStages: a photo read before it is ready has the stage times it
// went through, as written, and none of a later stage.
func pendingStages(t *testing.T, baseDSN string, h Harness) {
	s := open(t, baseDSN, h)
	p := readyPhoto("ann", 1)
	p.Status, p.Tags, p.TaggedAt, p.ReadyAt, p.UpdatedAt = photo.StatusPending, nil, nil, nil, *p.ThumbnailedAt
	h.PutThumbnailed(t, s, p)
	got, err := s.Get(context.Background(), "ann", p.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	page, err := s.List(context.Background(), photo.ListQuery{Owner: "ann", Limit: 10})
	if err != nil || len(page.Photos) != 1 {
		t.Fatalf("List = %v, %v; want the one photo", ids(page.Photos), err)
	}
	for name, q := range map[string]photo.Photo{"Get": got, "List": page.Photos[0]} {
		if q.Status != photo.StatusPending || !sameTime(q.ThumbnailedAt, p.ThumbnailedAt) || q.TaggedAt != nil || q.ReadyAt != nil {
			t.Errorf("%s: %s, thumbnailed at %v, tagged at %v, ready at %v; want pending, %v, none, none",
				name, q.Status, q.ThumbnailedAt, q.TaggedAt, q.ReadyAt, *p.ThumbnailedAt)
		}
	}
}

// sameTime reports whether two optional times are both absent, or the
// same instant.
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func getNotFound(t *testing.T, baseDSN string, h Harness) {
	s := open(t, baseDSN, h)
	p := readyPhoto("ann", 1)
	h.PutReady(t, s, p)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"no such photo":  func() error { _, err := s.Get(ctx, "ann", photo.NewID()); return err },
		"another user's": func() error { _, err := s.Get(ctx, "bob", p.ID); return err },
	} {
		if k := photo.KindOf(call()); k != photo.NotFound {
			t.Errorf("%s: kind %q, want %q", name, k, photo.NotFound)
		}
	}
}

func listPages(t *testing.T, baseDSN string, h Harness) {
	s := open(t, baseDSN, h)
	var want []string // ann's ids, newest first
	for i := range 7 {
		p := readyPhoto("ann", i)
		h.PutReady(t, s, p)
		want = append([]string{p.ID}, want...)
		h.PutReady(t, s, readyPhoto("bob", i)) // never in ann's pages
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page, err := s.List(context.Background(), photo.ListQuery{Owner: "ann", Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(page.Photos) > 3 {
			t.Fatalf("page of %d photos, limit 3", len(page.Photos))
		}
		for _, p := range page.Photos {
			got = append(got, p.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("ann's photos over all pages:\n got %v\nwant %v (newest first, each once)", got, want)
	}
}

func listTag(t *testing.T, baseDSN string, h Harness) {
	s := open(t, baseDSN, h)
	beach := readyPhoto("ann", 1, "beach")
	h.PutReady(t, s, beach)
	h.PutReady(t, s, readyPhoto("ann", 2, "forest"))
	h.PutReady(t, s, readyPhoto("bob", 3, "beach"))
	page, err := s.List(context.Background(), photo.ListQuery{Owner: "ann", Tag: "beach", Limit: 10})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Photos) != 1 || page.Photos[0].ID != beach.ID {
		t.Errorf("ann's beach photos = %v, want only %s", ids(page.Photos), beach.ID)
	}
}

func listBadCursor(t *testing.T, baseDSN string, h Harness) {
	s := open(t, baseDSN, h)
	_, err := s.List(context.Background(), photo.ListQuery{Owner: "ann", Limit: 3, Cursor: "not-a-cursor"})
	if k := photo.KindOf(err); k != photo.Invalid {
		t.Errorf("List with a malformed cursor: kind %q (%v), want %q", k, err, photo.Invalid)
	}
}

func databaseDown(t *testing.T, baseDSN string, h Harness) {
	dsn := FreshDatabase(t, baseDSN, "pbtest_store_")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	relay := stacktest.NewRelay(t, u.Host, 0)
	u.Host = relay.Addr
	s := h.Open(t, u.String())
	p := readyPhoto("ann", 1)
	h.PutReady(t, s, p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Get(ctx, "ann", p.ID); err != nil {
		t.Fatalf("Get before the outage: %v", err)
	}

	relay.Cut() // the server is gone: pooled connections drop, new ones are refused
	for name, call := range map[string]func() error{
		"Get":  func() error { _, err := s.Get(ctx, "ann", p.ID); return err },
		"List": func() error { _, err := s.List(ctx, photo.ListQuery{Owner: "ann", Limit: 3}); return err },
	} {
		err := call()
		if k := photo.KindOf(err); k != photo.Unavailable {
			t.Errorf("%s with the database down: kind %q (%v), want %q", name, k, err, photo.Unavailable)
		}
		if photo.RetryAfterOf(err) <= 0 {
			t.Errorf("%s with the database down: no RetryAfter (%v)", name, err)
		}
	}
}

func ids(ps []photo.Photo) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// BeforeMigration returns the DSN of a fresh database (FreshDatabase)
// migrated as a deployment from before a migration was: with the files of
// migrations named before next applied (by pgdb.Open, as a store's Open
// applies them) and seed run with args, to put rows of that schema in. A
// test then opens its store on it: the store's Open must apply next and
// the rest on top, and read the old rows.
func BeforeMigration(t testing.TB, baseDSN, prefix string, migrations fs.FS, next, seed string, args ...any) string {
	t.Helper()
	dsn := FreshDatabase(t, baseDSN, prefix)
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil || !slices.Contains(names, next) {
		t.Fatalf("migrations %v (%v): want %s among them", names, err, next)
	}
	old := fstest.MapFS{}
	for _, name := range names {
		if name < next {
			b, err := fs.ReadFile(migrations, name)
			if err != nil {
				t.Fatal(err)
			}
			old[name] = &fstest.MapFile{Data: b}
		}
	}
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, dsn, 2, old, nil)
	if err != nil {
		t.Fatalf("migrate to before %s: %v", next, err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, seed, args...); err != nil {
		t.Fatalf("seed the database from before %s: %v", next, err)
	}
	return dsn
}

// FreshDatabase returns the DSN of a new database on baseDSN's server,
// named prefix and random hex; whoever opens it creates it (pgdb.Open
// does), and it is dropped when the test ends.
func FreshDatabase(t testing.TB, baseDSN, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	u, err := url.Parse(baseDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, baseDSN)
		if err == nil {
			_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return u.String()
}
