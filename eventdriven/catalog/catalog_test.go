package catalog_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
)

// openStore opens a catalog in a fresh database of the stack's PostgreSQL.
func openStore(t *testing.T) *catalog.Store {
	t.Helper()
	env := stacktest.Load(t)
	s, err := catalog.Open(context.Background(), storetest.FreshDatabase(t, env.PGDSN, "pbtest_catalog_"), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var created = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// The times of the thumbnailed and tagged events the steps apply.
var (
	thumbnailedAt = created.Add(1500 * time.Millisecond)
	taggedAt      = created.Add(2500 * time.Millisecond)
)

type step struct {
	name string
	do   func(s *catalog.Store, ctx context.Context, id string) (*catalog.Ready, error)
}

func objectCreated(seq string) step {
	return step{"created", func(s *catalog.Store, ctx context.Context, id string) (*catalog.Ready, error) {
		return nil, s.ObjectCreated(ctx, id, "alice", 1234, created, seq)
	}}
}

func objectRemoved(seq string) step {
	return step{"removed", func(s *catalog.Store, ctx context.Context, id string) (*catalog.Ready, error) {
		return nil, s.ObjectRemoved(ctx, id, "alice", seq)
	}}
}

var thumbnailed = step{"thumbnailed", func(s *catalog.Store, ctx context.Context, id string) (*catalog.Ready, error) {
	return s.Thumbnailed(ctx, eventdriven.Thumbnailed{ID: id, Owner: "alice", Format: photo.FormatJPEG, Width: 800, Height: 600, Bytes: 1234,
		Thumbnails: map[photo.Size]photo.Thumbnail{photo.SizeSmall: {Width: 256, Height: 192, Bytes: 10}, photo.SizeLarge: {Width: 800, Height: 600, Bytes: 99}},
		CreatedAt:  created}, thumbnailedAt)
}}

var tagged = step{"tagged", func(s *catalog.Store, ctx context.Context, id string) (*catalog.Ready, error) {
	return s.Tagged(ctx, eventdriven.Tagged{ID: id, Owner: "alice", Tags: []string{"blue", "landscape"}, Colors: []string{"#0000ff"}, Hash: "ff00", CreatedAt: created}, taggedAt)
}}

var failed = step{"failed", func(s *catalog.Store, ctx context.Context, id string) (*catalog.Ready, error) {
	return s.Failed(ctx, eventdriven.Failed{ID: id, Owner: "alice", Reason: "not a JPEG or PNG image"})
}}

func permutations(steps []step) [][]step {
	if len(steps) <= 1 {
		return [][]step{steps}
	}
	var out [][]step
	for i := range steps {
		rest := append(append([]step{}, steps[:i]...), steps[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]step{steps[i]}, p...))
		}
	}
	return out
}

func names(steps []step) string {
	var n []string
	for _, s := range steps {
		n = append(n, s.name)
	}
	return strings.Join(n, ",")
}

// run applies steps (each twice: at-least-once delivery) and returns how
// many writes reported the photo as becoming final.
func run(t *testing.T, s *catalog.Store, id string, steps []step) int {
	t.Helper()
	ctx := context.Background()
	final := 0
	for _, st := range steps {
		for range 2 {
			r, err := st.do(s, ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if r != nil {
				final++
			}
		}
	}
	return final
}

func TestReadyWhateverTheOrderExactlyOnce(t *testing.T) {
	s := openStore(t)
	for _, order := range permutations([]step{objectCreated("0A"), thumbnailed, tagged}) {
		t.Run(names(order), func(t *testing.T) {
			id := photo.NewID()
			if n := run(t, s, id, order); n != 1 {
				t.Errorf("became ready %d times, want 1", n)
			}
			p, err := s.Get(context.Background(), "alice", id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != photo.StatusReady || p.Width != 800 || p.Bytes != 1234 || strings.Join(p.Tags, ",") != "blue,landscape" ||
				len(p.Thumbnails) != 2 || !p.CreatedAt.Equal(created) || p.ReadyAt == nil {
				t.Errorf("photo %+v", p)
			}
			if !equalTime(p.ThumbnailedAt, thumbnailedAt) || !equalTime(p.TaggedAt, taggedAt) {
				t.Errorf("thumbnailed at %v, tagged at %v; want the events' %v, %v", p.ThumbnailedAt, p.TaggedAt, thumbnailedAt, taggedAt)
			}
			if p.ReadyAt != nil && p.ReadyAt.Before(taggedAt) {
				t.Errorf("ready at %v, before it was tagged at %v", p.ReadyAt, taggedAt)
			}
		})
	}
}

func TestPendingUntilBothAreIn(t *testing.T) {
	s := openStore(t)
	for _, tt := range []struct {
		steps                       []step
		wantThumbnailed, wantTagged *time.Time
	}{
		{[]step{objectCreated("01")}, nil, nil},
		{[]step{objectCreated("01"), thumbnailed}, &thumbnailedAt, nil},
		{[]step{tagged}, nil, &taggedAt},
	} {
		t.Run(names(tt.steps), func(t *testing.T) {
			id := photo.NewID()
			if n := run(t, s, id, tt.steps); n != 0 {
				t.Errorf("reported final %d times", n)
			}
			p, err := s.Get(context.Background(), "alice", id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != photo.StatusPending || len(p.Thumbnails) != 0 {
				t.Errorf("status %s, thumbnails %v: want pending with none served", p.Status, p.Thumbnails)
			}
			// The stages it went through so far, and nothing later.
			if !samePtr(p.ThumbnailedAt, tt.wantThumbnailed) || !samePtr(p.TaggedAt, tt.wantTagged) || p.ReadyAt != nil {
				t.Errorf("thumbnailed at %v, tagged at %v, ready at %v; want %v, %v, none",
					p.ThumbnailedAt, p.TaggedAt, p.ReadyAt, tt.wantThumbnailed, tt.wantTagged)
			}
		})
	}
}

// A stage time is the first applied event's time; an event without a time,
// or with one after the catalog's clock, gets the catalog's apply time.
func TestStageTimes(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	thumbs := map[photo.Size]photo.Thumbnail{photo.SizeSmall: {Width: 4, Height: 3, Bytes: 10}}
	thumbnail := func(id string, at time.Time) {
		t.Helper()
		if _, err := s.Thumbnailed(ctx, eventdriven.Thumbnailed{ID: id, Owner: "alice", Format: photo.FormatJPEG, Width: 4, Height: 3,
			Thumbnails: thumbs, CreatedAt: created}, at); err != nil {
			t.Fatal(err)
		}
	}
	tag := func(id string, at time.Time) *catalog.Ready {
		t.Helper()
		r, err := s.Tagged(ctx, eventdriven.Tagged{ID: id, Owner: "alice", Tags: []string{"sky"}, CreatedAt: created}, at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	get := func(id string) photo.Photo {
		t.Helper()
		p, err := s.Get(ctx, "alice", id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("the first event's time stays", func(t *testing.T) {
		id := photo.NewID()
		thumbnail(id, thumbnailedAt)
		thumbnail(id, thumbnailedAt.Add(time.Minute)) // the thumbnailer ran again
		if p := get(id); !equalTime(p.ThumbnailedAt, thumbnailedAt) {
			t.Errorf("thumbnailed at %v after a second event, want the first's %v", p.ThumbnailedAt, thumbnailedAt)
		}
		tag(id, taggedAt)
		tag(id, taggedAt.Add(time.Minute))
		if p := get(id); p.Status != photo.StatusReady || !equalTime(p.TaggedAt, taggedAt) || !equalTime(p.ThumbnailedAt, thumbnailedAt) {
			t.Errorf("%s, thumbnailed at %v, tagged at %v; want ready, %v, %v", p.Status, p.ThumbnailedAt, p.TaggedAt, thumbnailedAt, taggedAt)
		}
	})
	t.Run("no event time or a future one is the apply time", func(t *testing.T) {
		id := photo.NewID()
		before := time.Now().Add(-time.Millisecond)
		thumbnail(id, time.Time{})
		tag(id, time.Now().Add(time.Hour))
		after := time.Now().Add(time.Millisecond)
		p := get(id)
		for name, at := range map[string]*time.Time{"thumbnailed": p.ThumbnailedAt, "tagged": p.TaggedAt} {
			if at == nil || at.Before(before) || at.After(after) {
				t.Errorf("%s at %v, want the apply time, in [%v, %v]", name, at, before, after)
			}
		}
		if p.ReadyAt == nil || p.TaggedAt == nil || p.ReadyAt.Before(*p.TaggedAt) {
			t.Errorf("ready at %v, tagged at %v: want ready after tagged", p.ReadyAt, p.TaggedAt)
		}
	})
	t.Run("a failed photo keeps the stages it completed", func(t *testing.T) {
		id := photo.NewID()
		thumbnail(id, thumbnailedAt)
		if _, err := s.Failed(ctx, eventdriven.Failed{ID: id, Owner: "alice", Reason: "pending too long"}); err != nil {
			t.Fatal(err)
		}
		if p := get(id); p.Status != photo.StatusFailed || !equalTime(p.ThumbnailedAt, thumbnailedAt) || p.TaggedAt != nil {
			t.Errorf("%s, thumbnailed at %v, tagged at %v; want failed, %v, none", p.Status, p.ThumbnailedAt, p.TaggedAt, thumbnailedAt)
		}
	})
}

func equalTime(got *time.Time, want time.Time) bool { return got != nil && got.Equal(want) }

func samePtr(got, want *time.Time) bool {
	if got == nil || want == nil {
		return got == want
	}
	return got.Equal(*want)
}

func TestDeletedStaysDeleted(t *testing.T) {
	s := openStore(t)
	for _, order := range [][]step{
		{objectCreated("01"), thumbnailed, tagged, objectRemoved("02")},
		{objectCreated("01"), objectRemoved("02"), thumbnailed, tagged},
		{objectRemoved("02"), objectCreated("01"), tagged, thumbnailed},
	} {
		t.Run(names(order), func(t *testing.T) {
			id := photo.NewID()
			run(t, s, id, order)
			if _, err := s.Get(context.Background(), "alice", id); photo.KindOf(err) != photo.NotFound {
				t.Errorf("Get after removal: %v, want NotFound", err)
			}
			page, err := s.List(context.Background(), photo.ListQuery{Owner: "alice", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Photos {
				if p.ID == id {
					t.Error("a removed photo is listed")
				}
			}
		})
	}
}

func TestFailedWhateverTheOrder(t *testing.T) {
	s := openStore(t)
	for _, order := range permutations([]step{objectCreated("01"), failed, objectRemoved("02")}) {
		t.Run(names(order), func(t *testing.T) {
			id := photo.NewID()
			if n := run(t, s, id, order); n != 1 {
				t.Errorf("reported final %d times, want 1", n)
			}
			p, err := s.Get(context.Background(), "alice", id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != photo.StatusFailed || p.FailureReason == "" {
				t.Errorf("status %s reason %q, want failed with a reason", p.Status, p.FailureReason)
			}
		})
	}
}

func TestOwnerIsolation(t *testing.T) {
	s := openStore(t)
	id := photo.NewID()
	run(t, s, id, []step{objectCreated("01"), thumbnailed, tagged})
	if _, err := s.Get(context.Background(), "mallory", id); photo.KindOf(err) != photo.NotFound {
		t.Errorf("another user's Get: %v, want NotFound", err)
	}
	page, err := s.List(context.Background(), photo.ListQuery{Owner: "mallory", Limit: 10})
	if err != nil || len(page.Photos) != 0 {
		t.Errorf("another user's list: %v %v", page.Photos, err)
	}
}

// The catalog keeps the storage contract every photo store keeps.
func TestStoreContract(t *testing.T) {
	env := stacktest.Load(t)
	// The catalog assembles a photo from the pipeline's events: the
	// original's object event, then the thumbnails and the tags, each
	// event at its stage's time.
	thumbnailed := func(t *testing.T, st storetest.Store, p photo.Photo) {
		s, ctx := st.(*catalog.Store), context.Background()
		if err := s.ObjectCreated(ctx, p.ID, p.Owner, p.Bytes, p.CreatedAt, "1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Thumbnailed(ctx, eventdriven.Thumbnailed{ID: p.ID, Owner: p.Owner, Format: p.Format,
			Width: p.Width, Height: p.Height, Bytes: p.Bytes, Thumbnails: p.Thumbnails, CreatedAt: p.CreatedAt}, *p.ThumbnailedAt); err != nil {
			t.Fatal(err)
		}
	}
	storetest.Run(t, env.PGDSN, storetest.Harness{
		Open: func(t *testing.T, dsn string) storetest.Store {
			s, err := catalog.Open(context.Background(), dsn, 4, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			return s
		},
		PutReady: func(t *testing.T, st storetest.Store, p photo.Photo) {
			thumbnailed(t, st, p)
			r, err := st.(*catalog.Store).Tagged(context.Background(), eventdriven.Tagged{ID: p.ID, Owner: p.Owner, Tags: p.Tags, CreatedAt: p.CreatedAt}, *p.TaggedAt)
			if err != nil {
				t.Fatal(err)
			}
			if r == nil || r.Status != photo.StatusReady {
				t.Fatalf("photo %s not ready after its events: %+v", p.ID, r)
			}
		},
		PutThumbnailed: thumbnailed,
	})
}

// A catalog database from before the stage times gets their columns when
// the store opens it: its photos read back without them, and a pending one
// records them from then on.
func TestOpenMigratesADatabaseFromBeforeTheStageTimes(t *testing.T) {
	env := stacktest.Load(t)
	id := photo.NewID()
	dsn := storetest.BeforeMigration(t, env.PGDSN, "pbtest_catalog_", os.DirFS("migrations"), "003_stages.sql",
		`INSERT INTO photos (id, owner, bytes, created_at, updated_at, object_seq) VALUES ($1, 'alice', 1234, $2, $2, '1')`, id, created)
	s, err := catalog.Open(context.Background(), dsn, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, err := s.Get(context.Background(), "alice", id); err != nil || p.ThumbnailedAt != nil || p.TaggedAt != nil {
		t.Fatalf("old photo: %+v, %v; want it pending, with no stage times", p, err)
	}
	run(t, s, id, []step{thumbnailed, tagged})
	p, err := s.Get(context.Background(), "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != photo.StatusReady || !equalTime(p.ThumbnailedAt, thumbnailedAt) || !equalTime(p.TaggedAt, taggedAt) {
		t.Errorf("%s, thumbnailed at %v, tagged at %v; want ready, %v, %v", p.Status, p.ThumbnailedAt, p.TaggedAt, thumbnailedAt, taggedAt)
	}
}
