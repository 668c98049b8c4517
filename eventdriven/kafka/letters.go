package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	kgo "github.com/segmentio/kafka-go"
)

// Letter is one message of a dead-letter topic, with what DeadLetter
// recorded about it in its dlq_* headers.
type Letter struct {
	// Partition and Offset locate the letter in the dead-letter topic.
	Partition int
	Offset    int64
	// Time is when it was dead-lettered.
	Time time.Time
	// Topic, OriginalPartition and OriginalOffset are where the message
	// was when its handling failed.
	Topic             string
	OriginalPartition int
	OriginalOffset    int64
	// Function is the function that failed on it, Attempts how many times
	// it was tried, Error the last error's text.
	Function string
	Attempts int
	Error    string
	// Key, Value and Headers are the original message's (Headers without
	// the dlq_* ones), as a replay publishes them again.
	Key, Value []byte
	Headers    []kgo.Header
}

// letterOf reads a dead-letter topic's message.
func letterOf(m kgo.Message) Letter {
	l := Letter{Partition: m.Partition, Offset: m.Offset, Time: m.Time, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderDLQTopic:
			l.Topic = v
		case HeaderDLQPartition:
			l.OriginalPartition, _ = strconv.Atoi(v)
		case HeaderDLQOffset:
			l.OriginalOffset, _ = strconv.ParseInt(v, 10, 64)
		case HeaderDLQError:
			l.Error = v
		case HeaderDLQAttempts:
			l.Attempts, _ = strconv.Atoi(v)
		case HeaderDLQFunction:
			l.Function = v
		default:
			l.Headers = append(l.Headers, h)
		}
	}
	return l
}

// letterRange is, per partition of a dead-letter topic, the first
// retained offset, the end offset, and the replay group's committed
// offset (the first not replayed; the first retained when it never
// committed).
type letterRange struct {
	first, end, replayed map[int]int64
}

// readRange reads dlqTopic's offsets and group's commits on it.
func readRange(ctx context.Context, client *kgo.Client, dlqTopic, group string) (letterRange, error) {
	md, err := client.Metadata(ctx, &kgo.MetadataRequest{Topics: []string{dlqTopic}})
	if err != nil {
		return letterRange{}, fmt.Errorf("metadata: %w", err)
	}
	var parts []int
	for _, t := range md.Topics {
		if t.Error != nil {
			return letterRange{}, fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		return letterRange{}, fmt.Errorf("topic %s: not in metadata", dlqTopic)
	}
	partitions := map[string][]int{dlqTopic: parts}
	first, err := listOffsets(ctx, client, partitions, kgo.FirstOffset)
	if err != nil {
		return letterRange{}, fmt.Errorf("first offsets: %w", err)
	}
	end, err := listOffsets(ctx, client, partitions, kgo.LastOffset)
	if err != nil {
		return letterRange{}, fmt.Errorf("end offsets: %w", err)
	}
	r := letterRange{first: first[dlqTopic], end: end[dlqTopic], replayed: map[int]int64{}}
	for _, p := range parts {
		r.replayed[p] = r.first[p]
	}
	of, err := client.OffsetFetch(ctx, &kgo.OffsetFetchRequest{GroupID: group, Topics: partitions})
	if err == nil {
		err = of.Error
	}
	if err != nil {
		return letterRange{}, fmt.Errorf("offsets of group %s: %w", group, err)
	}
	for _, po := range of.Topics[dlqTopic] {
		if po.Error != nil {
			return letterRange{}, fmt.Errorf("offset of group %s on %s/%d: %w", group, dlqTopic, po.Partition, po.Error)
		}
		if po.CommittedOffset > r.replayed[po.Partition] {
			r.replayed[po.Partition] = min(po.CommittedOffset, r.end[po.Partition])
		}
	}
	return r, nil
}

// readLetters calls fn with the letters of one partition of dlqTopic at
// offsets [from, end), in order, with a reader that has no group.
func readLetters(ctx context.Context, brokers []string, dlqTopic string, partition int, from, end int64, fn func(Letter) error) error {
	if from >= end {
		return nil
	}
	r := kgo.NewReader(kgo.ReaderConfig{
		Brokers: brokers, Topic: dlqTopic, Partition: partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: ReaderMaxWait,
	})
	defer r.Close()
	if err := r.SetOffset(from); err != nil {
		return err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", dlqTopic, partition, err)
		}
		if m.Offset >= end {
			return nil
		}
		if err := fn(letterOf(m)); err != nil {
			return err
		}
		if m.Offset == end-1 {
			return nil
		}
	}
}

// ListLetters calls fn with every letter of dlqTopic, partition by
// partition in offset order, from the first retained up to the end offset
// when it was called; replayed says whether group (the replay group of
// ReplayLetters) has replayed it. It reads without a consumer group and
// commits nothing, so listing never hides a letter from the next list or
// replay.
func ListLetters(ctx context.Context, brokers []string, dlqTopic, group string, fn func(l Letter, replayed bool) error) error {
	client := &kgo.Client{Addr: kgo.TCP(brokers...), Timeout: lagTimeout}
	r, err := readRange(ctx, client, dlqTopic, group)
	if err != nil {
		return fmt.Errorf("list %s: %w", dlqTopic, err)
	}
	for _, p := range slices.Sorted(maps.Keys(r.first)) {
		err := readLetters(ctx, brokers, dlqTopic, p, r.first[p], r.end[p], func(l Letter) error {
			return fn(l, l.Offset < r.replayed[p])
		})
		if err != nil {
			return fmt.Errorf("list %s: %w", dlqTopic, err)
		}
	}
	return nil
}

// replayBatch is how many letters ReplayLetters publishes before it
// commits.
const replayBatch = 100

// ReplayLetters publishes every letter of dlqTopic that group has not
// replayed yet to the topic it was dead-lettered from (dlqTopic without
// DLQSuffix): key, value and original headers, without the dlq_* ones.
// After each batch is acknowledged it commits the batch's end as group's
// offset on dlqTopic (a standalone commit: the group never joins), so a
// second replay sends only letters written since. A replay interrupted
// between a publish and its commit sends that batch again next time:
// consumers are idempotent, so a letter sent twice costs work, not
// correctness. done, if not nil, is called with each letter published.
// It returns how many letters it published.
func ReplayLetters(ctx context.Context, brokers []string, dlqTopic, group string, w Writer, done func(Letter)) (int, error) {
	topic, ok := strings.CutSuffix(dlqTopic, DLQSuffix)
	if !ok || topic == "" {
		return 0, fmt.Errorf("replay %s: not a dead-letter topic (no %s suffix)", dlqTopic, DLQSuffix)
	}
	client := &kgo.Client{Addr: kgo.TCP(brokers...), Timeout: lagTimeout}
	r, err := readRange(ctx, client, dlqTopic, group)
	if err != nil {
		return 0, fmt.Errorf("replay %s: %w", dlqTopic, err)
	}
	n := 0
	for _, p := range slices.Sorted(maps.Keys(r.first)) {
		var (
			batch   []kgo.Message
			letters []Letter
		)
		flush := func(next int64) error {
			if len(batch) > 0 {
				if err := w.WriteMessages(ctx, batch...); err != nil {
					return fmt.Errorf("publish %d letters to %s: %w", len(batch), topic, err)
				}
			}
			if err := commit(ctx, client, group, dlqTopic, p, next); err != nil {
				return err
			}
			for _, l := range letters {
				if done != nil {
					done(l)
				}
			}
			n += len(batch)
			batch, letters = batch[:0], letters[:0]
			return nil
		}
		err := readLetters(ctx, brokers, dlqTopic, p, r.replayed[p], r.end[p], func(l Letter) error {
			batch = append(batch, kgo.Message{Topic: topic, Key: l.Key, Value: l.Value, Headers: l.Headers})
			letters = append(letters, l)
			if len(batch) == replayBatch {
				return flush(l.Offset + 1)
			}
			return nil
		})
		if err == nil && r.replayed[p] < r.end[p] {
			err = flush(r.end[p])
		}
		if err != nil {
			return n, fmt.Errorf("replay %s: %w", dlqTopic, err)
		}
	}
	return n, nil
}

// commit records next as group's offset on topic's partition, without
// joining the group (generation -1, no member: Kafka accepts that for a
// group with no members).
func commit(ctx context.Context, client *kgo.Client, group, topic string, partition int, next int64) error {
	resp, err := client.OffsetCommit(ctx, &kgo.OffsetCommitRequest{
		GroupID: group, GenerationID: -1,
		Topics: map[string][]kgo.OffsetCommit{topic: {{Partition: partition, Offset: next}}},
	})
	if err != nil {
		return fmt.Errorf("commit %s/%d for group %s: %w", topic, partition, group, err)
	}
	var errs []error
	for _, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				errs = append(errs, fmt.Errorf("commit %s/%d for group %s: %w", topic, p.Partition, group, p.Error))
			}
		}
	}
	return errors.Join(errs...)
}
