package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/kafka"
)

// Dead letters are listed (as often as one likes: listing commits
// nothing), replayed to their topic once, and a second replay sends only
// letters written since.
func TestListAndReplayLetters(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	group := fmt.Sprintf("replay-%08x", rand.Uint32())

	// The handler refuses each "bad" event the first time it sees it (a
	// bug since fixed, say) and records every event it handles.
	var (
		mu      sync.Mutex
		refused = map[string]bool{}
		handled []string
	)
	f.start(t, f.config("letters"), func(ctx context.Context, m *kafka.Message) error {
		ev, err := kafka.ParseEvent(m.Message)
		if err != nil {
			return eventdriven.Permanent(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if ev.Type == "bad" && !refused[ev.ID] {
			refused[ev.ID] = true
			return eventdriven.Permanent(errors.New("refused " + ev.ID))
		}
		handled = append(handled, ev.ID)
		return nil
	})
	handledIDs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(handled)
	}
	bad1 := f.publish(t, "photo-1", "bad", "good")
	bad2 := f.publish(t, "photo-2", "bad")
	eventually(t, "two dead letters", func() bool { return f.count(t, f.dlq) == 2 })

	list := func() map[string]bool {
		t.Helper()
		got := map[string]bool{}
		err := kafka.ListLetters(ctx, f.brokers, f.dlq, group, func(l kafka.Letter, replayed bool) error {
			ev, err := kafka.ParseEvent(kgoMessage(l))
			if err != nil {
				t.Errorf("letter %d@%d: the original headers do not parse: %v", l.Partition, l.Offset, err)
			}
			if l.Topic != f.topic || l.Function != "letters" || l.Attempts != 1 || l.Error != "refused "+ev.ID {
				t.Errorf("letter %+v: want from %s, function letters, 1 attempt, error %q", l, f.topic, "refused "+ev.ID)
			}
			got[ev.ID] = replayed
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := map[string]bool{bad1[0].ID: false, bad2[0].ID: false}
	for range 2 {
		if got := list(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("list: %v, want %v", got, want)
		}
	}

	n, err := kafka.ReplayLetters(ctx, f.brokers, f.dlq, group, f.prod, nil)
	if err != nil || n != 2 {
		t.Fatalf("replay: %d, %v; want 2 letters", n, err)
	}
	eventually(t, "the replayed events handled", func() bool {
		h := handledIDs()
		return slices.Contains(h, bad1[0].ID) && slices.Contains(h, bad2[0].ID)
	})
	want = map[string]bool{bad1[0].ID: true, bad2[0].ID: true}
	if got := list(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("list after the replay: %v, want %v", got, want)
	}
	if n, err := kafka.ReplayLetters(ctx, f.brokers, f.dlq, group, f.prod, nil); err != nil || n != 0 {
		t.Errorf("second replay: %d, %v; want nothing sent", n, err)
	}

	bad3 := f.publish(t, "photo-3", "bad")
	eventually(t, "a third dead letter", func() bool { return f.count(t, f.dlq) == 3 })
	var replayed []string
	n, err = kafka.ReplayLetters(ctx, f.brokers, f.dlq, group, f.prod, func(l kafka.Letter) {
		ev, _ := kafka.ParseEvent(kgoMessage(l))
		replayed = append(replayed, ev.ID)
	})
	if err != nil || n != 1 || !slices.Equal(replayed, []string{bad3[0].ID}) {
		t.Errorf("third replay: %d %v, %v; want only %s", n, replayed, err, bad3[0].ID)
	}
	eventually(t, "the third replayed event handled", func() bool { return slices.Contains(handledIDs(), bad3[0].ID) })
	if n := f.count(t, f.dlq); n != 3 {
		t.Errorf("%d dead letters, want 3 (the replays succeeded)", n)
	}
	if got := slices.Clone(handledIDs()); len(got) != 4 {
		t.Errorf("handled %v, want good once and each bad event once", got)
	}
}

func TestReplayRefusesATopicThatIsNotADeadLetterTopic(t *testing.T) {
	if _, err := kafka.ReplayLetters(context.Background(), []string{"127.0.0.1:1"}, "photo.tagged", "g", nil, nil); err == nil {
		t.Error("replay of photo.tagged (not a .dlq topic): no error")
	}
}

// kgoMessage is a letter as the message it was before it was
// dead-lettered.
func kgoMessage(l kafka.Letter) kgo.Message {
	return kgo.Message{Key: l.Key, Value: l.Value, Headers: l.Headers}
}
