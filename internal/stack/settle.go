package stack

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/photobench/photobench/eventdriven/deploy"
	edkafka "github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/platform"
)

// The event-driven app's state has the deployment's fixed names (its
// buckets are deploy.Buckets, its catalog database CatalogDatabase), so it
// cannot be given per run or per session as the monoliths' can: starting
// it over means emptying it in place, once every event already published
// has been handled (Settle), or a late event would bring a photo back.
// photobench bench does so before each event-driven run, the live page's
// reset button on the presenter's demand (both with Empty).

// CatalogDatabase is the event-driven catalog's database.
const CatalogDatabase = "catalog"

// CatalogTables are the catalog database's tables (eventdriven/catalog's
// migrations).
var CatalogTables = []string{"photos"}

// EventFunctions are the event-driven app's event functions as the
// runtime runs them (functions.yaml): their consumer groups and topics.
func EventFunctions() []platform.FunctionConfig {
	cfg, err := platform.ParseConfig(deploy.Functions)
	if err != nil {
		return nil
	}
	var out []platform.FunctionConfig
	for _, f := range cfg.Functions {
		if f.Kind == platform.KindEvent {
			out = append(out, f)
		}
	}
	return out
}

// Settle waits until no event function's consumer group has messages left
// to handle in c's Kafka (lag 0 on every topic it reads), or timeout
// passes, or ctx ends, and returns each group's lag when it stopped
// waiting. The error says how far behind the groups still were, or why
// the lag could not be read.
func Settle(ctx context.Context, c Config, timeout time.Duration) (map[string]int64, error) {
	brokers := []string{c.KafkaBrokers()}
	deadline := time.Now().Add(timeout)
	for {
		lags := map[string]int64{}
		var total int64
		var err error
		for _, f := range EventFunctions() {
			var per map[string]map[int]int64
			if per, err = edkafka.Lag(ctx, brokers, f.Group, f.Topics); err != nil {
				break
			}
			for _, parts := range per {
				for _, n := range parts {
					lags[f.Group] += n
					total += n
				}
			}
		}
		if err == nil && total == 0 {
			return lags, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = fmt.Errorf("consumer groups still %d messages behind after %s", total, timeout)
			}
			return lags, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// Published is how many messages were ever written to the event topic in
// c's Kafka (the sum of its partitions' end offsets): its growth between
// two reads is what arrived meanwhile. Settle alone cannot tell an event
// handled from one not published yet (MinIO sends its notifications
// after the request that caused them, up to 3 s later with
// MinIONotifyQueue); waiting for Published to grow first can.
func Published(ctx context.Context, c Config, topic string) (int64, error) {
	for _, f := range EventFunctions() {
		if slices.Contains(f.Topics, topic) {
			st, err := edkafka.GroupOffsets(ctx, []string{c.KafkaBrokers()}, f.Group, []string{topic})
			if err != nil {
				return 0, fmt.Errorf("published to %s: %w", topic, err)
			}
			return st.Produced, nil
		}
	}
	return 0, fmt.Errorf("published to %s: no event function reads it", topic)
}

// EmptyEventDriven gives the event-driven app of c an empty start while it
// runs: it empties the originals bucket, then the thumbnails bucket, waits
// until the originals' delete events are in Kafka (Published grew by as
// many) and handled (Settle), and only then empties the catalog's tables
// (CatalogTables). Emptying the catalog first, or before the delete events
// are handled, leaves a tombstone row for each photo the catalog learns of
// deleted afterwards. Each wait is bounded by timeout. It returns the
// objects removed from each bucket.
func EmptyEventDriven(ctx context.Context, c Config, timeout time.Duration) (originals, thumbnails int64, err error) {
	before, err := Published(ctx, c, deploy.TopicObjects)
	if err != nil {
		return 0, 0, err
	}
	if originals, err = Empty(ctx, c, CatalogDatabase, nil, []string{deploy.BucketOriginals}); err != nil {
		return 0, 0, err
	}
	// The thumbnails go at once too; the thumbnailer's own removal of
	// them, on each original's delete event, finds them gone.
	if thumbnails, err = Empty(ctx, c, CatalogDatabase, nil, []string{deploy.BucketThumbnails}); err != nil {
		return originals, 0, err
	}
	if err := waitPublished(ctx, c, deploy.TopicObjects, before+originals, timeout); err != nil {
		return originals, thumbnails, fmt.Errorf("%w: the photos are on their way out, the catalog is not emptied yet", err)
	}
	if lag, err := Settle(ctx, c, timeout); err != nil {
		return originals, thumbnails, fmt.Errorf("the delete events were not all handled (%w; lag %v): the catalog is not emptied yet", err, lag)
	}
	if _, err := Empty(ctx, c, CatalogDatabase, CatalogTables, nil); err != nil {
		return originals, thumbnails, err
	}
	return originals, thumbnails, nil
}

// waitPublished waits until at least want messages were ever written to
// topic (Published), for up to timeout.
func waitPublished(ctx context.Context, c Config, topic string, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := Published(ctx, c, topic)
		if err == nil && n >= want {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = fmt.Errorf("%d of the delete events not in %s after %s", want-n, topic, timeout)
			}
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
