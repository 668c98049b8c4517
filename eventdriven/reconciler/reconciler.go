// Package reconciler is the event-driven app's safety net for lost object
// notifications. MinIO publishes an original's s3:ObjectCreated event to
// Kafka after the PUT is answered, and without its on-disk queue (off by
// default: the queue is drained by a loop that polls every 3 s, which is
// what upload-to-ready used to measure) an event is lost when Kafka is down
// or MinIO dies between the answer and the publish. Every run, the
// reconciler lists the originals MinIO stored more than MinAge ago, asks
// the catalog database which of them it has heard of, and publishes an
// object-created event again, in MinIO's own format and with MinIO's Kafka
// key, for each one it has not. Consumers are idempotent, so an event
// published twice (a notification that was only late) costs work, not
// correctness.
//
// The same pass ends photos stuck in pending: one the catalog has had
// pending for longer than PendingTimeout (an event dead-lettered on its
// way, a function failing on it without end) gets a photo.failed event
// with the reason, e.g. "timed out in pending after 30m0s; last stage
// reached: thumbnailed", which the catalog applies as it applies the
// thumbnailer's (only a pending photo fails, exactly once); then its
// original is removed, as the thumbnailer removes an invalid one. The
// limit (DefaultPendingTimeout) is far above any backlog a benchmark
// leaves (loadgen gives up following a photo after 2 minutes; a burst or
// a 30-second vision outage drains in a few minutes), so only a photo that
// would otherwise never finish reaches it.
//
// It is an HTTP function that a timer invokes (a Knative PingSource, an
// EventBridge schedule, a CronJob): POST / runs one pass and answers
// {"checked": N, "reconciled": M}; the runtime that invokes it counts M
// (photobench_reconciled_total), because a replica that lives a few
// seconds may be gone before Prometheus scrapes it.
package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/photo"
)

// Source is the eventSource of the records the reconciler publishes.
const Source = "photobench:reconciler"

// DefaultMinAge is how old an original must be before a missing catalog row
// counts as a lost event: long enough for a notification to go through
// MinIO, Kafka and a cold-started catalog (a few seconds), so that events
// that are merely late are rarely published twice.
const DefaultMinAge = 10 * time.Second

// DefaultPendingTimeout is how long a photo may stay pending before the
// reconciler fails it (PHOTOBENCH_PENDING_TIMEOUT overrides it): 15 times
// loadgen's ready timeout, and several times the longest backlog a
// benchmark run drains.
const DefaultPendingTimeout = 30 * time.Minute

// batch is how many originals one catalog query checks, and how many
// stuck photos one pass fails at most.
const batch = 500

// Originals is what the reconciler reads of MinIO (*s3store.Store).
type Originals interface {
	ListOriginals(ctx context.Context, cutoff time.Time, fn func(s3store.Listed) error) error
	StatOriginal(ctx context.Context, owner, id string) (s3store.ObjectInfo, error)
	RemoveOriginal(ctx context.Context, owner, id string) error
}

// Catalog says which photos the catalog has a row for, and which are
// stuck in pending (*catalog.Store).
type Catalog interface {
	Known(ctx context.Context, ids []string) (map[string]bool, error)
	Stuck(ctx context.Context, cutoff time.Time, limit int) ([]catalog.Stuck, error)
}

// Publisher publishes domain events (*kafka.Producer).
type Publisher interface {
	Publish(ctx context.Context, topic string, events ...eventdriven.Event) error
}

// Writer publishes raw messages (*kafka.Producer).
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kgo.Message) error
}

// Reconciler re-emits the object-created events of originals the catalog
// never heard of.
type Reconciler struct {
	// Originals lists and describes the originals; Bucket is their bucket's
	// name, as the records name it.
	Originals Originals
	Bucket    string
	Catalog   Catalog
	// Out receives the events on Topic.
	Out   Writer
	Topic string
	// MinAge is how old an original must be (default DefaultMinAge).
	MinAge time.Duration
	// Failed receives the photo.failed events of photos pending longer
	// than PendingTimeout (default DefaultPendingTimeout) on FailedTopic
	// (the thumbnailer's topic, which the catalog reads); nil turns the
	// pending timeout off.
	Failed         Publisher
	FailedTopic    string
	PendingTimeout time.Duration
	Log            *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Result is what one pass found.
type Result struct {
	// Checked is how many originals older than MinAge were checked.
	Checked int `json:"checked"`
	// Reconciled is how many object-created events were published again.
	Reconciled int `json:"reconciled"`
	// TimedOut is how many pending photos were failed for taking longer
	// than the pending timeout.
	TimedOut int `json:"timed_out"`
}

// Run makes one pass over the originals. On error, the events published
// before it are counted in the result.
func (r *Reconciler) Run(ctx context.Context) (Result, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	minAge := r.MinAge
	if minAge <= 0 {
		minAge = DefaultMinAge
	}
	var (
		res     Result
		pending []s3store.Listed
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n, err := r.reemit(ctx, pending)
		res.Reconciled += n
		pending = pending[:0]
		return err
	}
	err := r.Originals.ListOriginals(ctx, now().Add(-minAge), func(l s3store.Listed) error {
		res.Checked++
		pending = append(pending, l)
		if len(pending) == batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && r.Failed != nil {
		res.TimedOut, err = r.timeOut(ctx, now())
	}
	if err != nil {
		return res, fmt.Errorf("reconcile: %w", err)
	}
	return res, nil
}

// timeOut fails the photos pending for longer than the pending timeout
// and returns how many. The event comes first and the original's removal
// after it, as the thumbnailer does it: a removal that fails leaves an
// original that the owner's delete still removes, and a pass that fails
// before the event is out finds the photo again next time.
func (r *Reconciler) timeOut(ctx context.Context, now time.Time) (int, error) {
	limit := r.PendingTimeout
	if limit <= 0 {
		limit = DefaultPendingTimeout
	}
	stuck, err := r.Catalog.Stuck(ctx, now.Add(-limit), batch)
	if err != nil || len(stuck) == 0 {
		return 0, err
	}
	events := make([]eventdriven.Event, len(stuck))
	for i, st := range stuck {
		reason := fmt.Sprintf("timed out in pending after %s; last stage reached: %s", limit, st.Stage)
		data, _ := json.Marshal(eventdriven.Failed{ID: st.ID, Owner: st.Owner, Reason: reason}) // strings: cannot fail
		events[i] = eventdriven.Event{
			ID: eventdriven.EventID(eventdriven.TypeFailed, st.ID, "pending-timeout"), Source: Source,
			Type: eventdriven.TypeFailed, Subject: st.ID, Data: data,
		}
	}
	if err := r.Failed.Publish(ctx, r.FailedTopic, events...); err != nil {
		return 0, fmt.Errorf("publish %d photo.failed events: %w", len(events), err)
	}
	for _, st := range stuck {
		if r.Log != nil {
			r.Log.WarnContext(ctx, "photo failed: pending too long", "photo", st.ID, "owner", st.Owner,
				"uploaded", st.CreatedAt, "stage", st.Stage, "limit", limit.String())
		}
		if err := r.Originals.RemoveOriginal(ctx, st.Owner, st.ID); err != nil && photo.KindOf(err) != photo.NotFound && r.Log != nil {
			r.Log.WarnContext(ctx, "remove the original of a timed-out photo", "photo", st.ID, "err", err)
		}
	}
	return len(stuck), nil
}

// reemit publishes the object-created events of the listed originals that
// the catalog does not know, and returns how many it published.
func (r *Reconciler) reemit(ctx context.Context, listed []s3store.Listed) (int, error) {
	ids := make([]string, len(listed))
	for i, l := range listed {
		ids[i] = l.ID
	}
	known, err := r.Catalog.Known(ctx, ids)
	if err != nil {
		return 0, err
	}
	var (
		msgs []kgo.Message
		lost []s3store.Listed
	)
	for _, l := range listed {
		if known[strings.ToLower(l.ID)] {
			continue
		}
		info, err := r.Originals.StatOriginal(ctx, l.Owner, l.ID)
		if photo.KindOf(err) == photo.NotFound {
			continue // deleted since it was listed
		}
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, r.created(l, info))
		lost = append(lost, l)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := r.Out.WriteMessages(ctx, msgs...); err != nil {
		return 0, fmt.Errorf("publish %d object events: %w", len(msgs), err)
	}
	for _, l := range lost {
		if r.Log != nil {
			r.Log.InfoContext(ctx, "object event published again", "photo", l.ID, "owner", l.Owner, "stored", l.LastModified)
		}
	}
	return len(msgs), nil
}

// created is the object-created notification of one original, as MinIO
// would have published it.
func (r *Reconciler) created(l s3store.Listed, info s3store.ObjectInfo) kgo.Message {
	meta := map[string]string{eventdriven.MetaOwner: l.Owner}
	if !info.CreatedAt.IsZero() {
		meta[eventdriven.MetaCreatedAt] = info.CreatedAt.Format(time.RFC3339Nano)
	}
	msg, key := s3event.Created(Source, r.Bucket, eventdriven.ObjectKey(l.Owner, l.ID),
		info.Size, info.ETag, info.ContentType, meta, info.LastModified)
	value, _ := json.Marshal(msg) // plain strings, numbers and times: cannot fail
	return kgo.Message{Topic: r.Topic, Key: []byte(key), Value: value}
}

// Handler serves POST /: one pass, answered with its Result as JSON (503
// with the error's message when the pass failed: the next run tries again).
func Handler(r *Reconciler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST runs a pass"})
			return
		}
		res, err := r.Run(req.Context())
		if err != nil {
			if r.Log != nil {
				r.Log.ErrorContext(req.Context(), "reconcile", "err", err, "reconciled", res.Reconciled)
			}
			writeJSON(w, http.StatusServiceUnavailable, struct {
				Result
				Error string `json:"error"`
			}{res, err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
