package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	ekafka "github.com/photobench/photobench/eventdriven/kafka"

	"github.com/photobench/photobench/eventdriven/deploy"
)

// domainTopics are the topics of the functions' own events, one per photo
// and step when nothing is re-sent.
var domainTopics = []string{deploy.TopicThumbnailed, deploy.TopicTagged}

// offsets are the end offsets of the domain topics' partitions, by topic
// and partition.
type offsets map[string]map[int]int64

// endOffsets reads the end offset of every partition of the domain
// topics.
func endOffsets(ctx context.Context, brokers string) (offsets, error) {
	out := offsets{}
	for _, topic := range domainTopics {
		parts, err := partitions(ctx, brokers, topic)
		if err != nil {
			return nil, err
		}
		out[topic] = map[int]int64{}
		for _, p := range parts {
			conn, err := kafkago.DialLeader(ctx, "tcp", brokers, topic, p)
			if err != nil {
				return nil, fmt.Errorf("chaos: dial %s/%d: %w", topic, p, err)
			}
			last, err := conn.ReadLastOffset()
			conn.Close()
			if err != nil {
				return nil, fmt.Errorf("chaos: end offset of %s/%d: %w", topic, p, err)
			}
			out[topic][p] = last
		}
	}
	return out, nil
}

func partitions(ctx context.Context, brokers, topic string) ([]int, error) {
	conn, err := kafkago.DialContext(ctx, "tcp", brokers)
	if err != nil {
		return nil, fmt.Errorf("chaos: dial kafka: %w", err)
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topic)
	if err != nil {
		return nil, fmt.Errorf("chaos: partitions of %s: %w", topic, err)
	}
	var out []int
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out, nil
}

// resentEvents reads the domain topics from the offsets from to their
// ends and counts, over the photos in ids, the events beyond the first of
// each type per photo (the record key is the photo id).
func resentEvents(ctx context.Context, brokers string, from offsets, ids map[string]bool) (int, error) {
	to, err := endOffsets(ctx, brokers)
	if err != nil {
		return 0, err
	}
	seen := map[[3]string]int{}
	for topic, parts := range to {
		for p, end := range parts {
			start := from[topic][p]
			if end <= start {
				continue
			}
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{brokers}, Topic: topic, Partition: p,
				MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 500 * time.Millisecond})
			if err := r.SetOffset(start); err != nil {
				r.Close()
				return 0, fmt.Errorf("chaos: read %s/%d: %w", topic, p, err)
			}
			for {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				m, err := r.ReadMessage(rctx)
				cancel()
				if err != nil {
					r.Close()
					if errors.Is(err, context.DeadlineExceeded) {
						return 0, fmt.Errorf("chaos: read %s/%d: stalled before offset %d", topic, p, end)
					}
					return 0, fmt.Errorf("chaos: read %s/%d: %w", topic, p, err)
				}
				if ids[string(m.Key)] {
					typ := ""
					for _, h := range m.Headers {
						if h.Key == ekafka.HeaderType {
							typ = string(h.Value)
						}
					}
					seen[[3]string{topic, typ, string(m.Key)}]++
				}
				if m.Offset+1 >= end {
					break
				}
			}
			r.Close()
		}
	}
	extra := 0
	for _, n := range seen {
		extra += n - 1
	}
	return extra, nil
}
