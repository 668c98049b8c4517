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
