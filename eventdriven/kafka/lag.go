package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	kgo "github.com/segmentio/kafka-go"
)

// lagTimeout bounds each request of a Lag call when ctx has no deadline.
const lagTimeout = 10 * time.Second

// Lag returns, for each of topics and each of its partitions, how many
// messages group has not committed yet: the partition's end offset minus
// the group's committed offset. A partition the group never committed
// (or whose commit is older than the retained log) counts from its first
// retained offset, where the group would start (ReaderStartOffset), so a
// group that has not consumed yet reports the whole backlog. Values are >= 0.
//
// This is what kafka-go's Reader.Lag cannot give with a GroupID (it
// returns -1), and what the scale-to-zero runtime scales on: it reads only
// broker state, so it works with no consumer running. It fails if a topic
// does not exist or the group coordinator cannot answer.
func Lag(ctx context.Context, brokers []string, group string, topics []string) (map[string]map[int]int64, error) {
	st, err := GroupOffsets(ctx, brokers, group, topics)
	return st.Lag, err
}

// GroupState is what GroupOffsets reads of a consumer group.
type GroupState struct {
	// Lag is Lag's answer: per topic and partition, the messages not
	// committed yet.
	Lag map[string]map[int]int64
	// Produced is the sum of the topics' end offsets: how many messages
	// were ever written to them. Its growth between two reads is the
	// events that arrived meanwhile, whether or not the group has already
	// handled them.
	Produced int64
}

// GroupOffsets reads a group's lag (as Lag) and its topics' total end
// offset, in one set of requests.
func GroupOffsets(ctx context.Context, brokers []string, group string, topics []string) (GroupState, error) {
	client := &kgo.Client{Addr: kgo.TCP(brokers...), Timeout: lagTimeout}
	md, err := client.Metadata(ctx, &kgo.MetadataRequest{Topics: topics})
	if err != nil {
		return GroupState{}, fmt.Errorf("lag of %s: metadata: %w", group, err)
	}
	partitions := map[string][]int{}
	for _, t := range md.Topics {
		if t.Error != nil {
			return GroupState{}, fmt.Errorf("lag of %s: topic %s: %w", group, t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			partitions[t.Name] = append(partitions[t.Name], p.ID)
		}
	}
	for _, t := range topics {
		if _, ok := partitions[t]; !ok {
			return GroupState{}, fmt.Errorf("lag of %s: topic %s: not in metadata", group, t)
		}
	}

	// Two requests: Kafka rejects a ListOffsets request naming a partition
	// twice, and kafka-go would send first and last in one.
	first, err := listOffsets(ctx, client, partitions, kgo.FirstOffset)
	if err != nil {
		return GroupState{}, fmt.Errorf("lag of %s: first offsets: %w", group, err)
	}
	last, err := listOffsets(ctx, client, partitions, kgo.LastOffset)
	if err != nil {
		return GroupState{}, fmt.Errorf("lag of %s: end offsets: %w", group, err)
	}
	of, err := client.OffsetFetch(ctx, &kgo.OffsetFetchRequest{GroupID: group, Topics: partitions})
	if err != nil {
		return GroupState{}, fmt.Errorf("lag of %s: committed offsets: %w", group, err)
	}
	if of.Error != nil {
		return GroupState{}, fmt.Errorf("lag of %s: committed offsets: %w", group, of.Error)
	}
	committed := map[string]map[int]int64{}
	for topic, ps := range of.Topics {
		committed[topic] = map[int]int64{}
		for _, p := range ps {
			if p.Error != nil {
				return GroupState{}, fmt.Errorf("lag of %s: committed offset of %s/%d: %w", group, topic, p.Partition, p.Error)
			}
			committed[topic][p.Partition] = p.CommittedOffset
		}
	}

	st := GroupState{Lag: map[string]map[int]int64{}}
	for topic, ps := range partitions {
		lag := map[int]int64{}
		st.Lag[topic] = lag
		for _, p := range ps {
			st.Produced += last[topic][p]
			start := first[topic][p]
			c, ok := committed[topic][p]
			if !ok || c < start { // -1: no commit
				c = start
			}
			lag[p] = max(last[topic][p]-c, 0)
		}
	}
	return st, nil
}

// listOffsets returns the first or last (end) offset of each partition.
func listOffsets(ctx context.Context, client *kgo.Client, partitions map[string][]int, which int64) (map[string]map[int]int64, error) {
	req := &kgo.ListOffsetsRequest{Topics: map[string][]kgo.OffsetRequest{}}
	for topic, ps := range partitions {
		for _, p := range ps {
			req.Topics[topic] = append(req.Topics[topic], kgo.OffsetRequest{Partition: p, Timestamp: which})
		}
	}
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[string]map[int]int64{}
	for topic, ps := range partitions {
		out[topic] = map[int]int64{}
		got := map[int]kgo.PartitionOffsets{}
		for _, po := range resp.Topics[topic] {
			got[po.Partition] = po
		}
		for _, p := range ps {
			po, ok := got[p]
			switch {
			case !ok:
				return nil, fmt.Errorf("%s/%d: no offset in the response", topic, p)
			case po.Error != nil:
				return nil, fmt.Errorf("%s/%d: %w", topic, p, po.Error)
			case which == kgo.FirstOffset:
				out[topic][p] = po.FirstOffset
			default:
				out[topic][p] = po.LastOffset
			}
			if out[topic][p] < 0 {
				return nil, fmt.Errorf("%s/%d: %w", topic, p, errors.New("negative offset in the response"))
			}
		}
	}
	return out, nil
}

// PollLag keeps photobench_consumer_lag current for the consumer's group and
// topics, computing Lag every interval (default 5 s when every <= 0) until
// ctx ends. Failures are logged and retried at the next tick. It needs no
// running Run: it reads the group's committed offsets from the broker.
func (c *Consumer) PollLag(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		lag, err := Lag(ctx, c.cfg.Brokers, c.cfg.Group, c.cfg.Topics)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("lag poll failed", "error", err)
		case err == nil:
			for topic, ps := range lag {
				for p, n := range ps {
					c.m.ConsumerLag.WithLabelValues(c.cfg.Function, topic, strconv.Itoa(p)).Set(float64(n))
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
