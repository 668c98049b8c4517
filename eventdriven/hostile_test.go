package eventdriven_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/eventdriven/tagger"
	"github.com/photobench/photobench/eventdriven/thumbnailer"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
	"github.com/photobench/photobench/vision"
)

// hostile is one forged or malformed message for a topic.
type hostile struct {
	name string
	msg  func(h *hostileFixture) kgo.Message
	// mustDeadLetter: the message must be dead-lettered (not merely
	// ignored) by the functions listed.
	mustDeadLetter []string
}

// hostileFixture is the state the forged messages are about: alice's
// photo in the catalog, with its original stored.
type hostileFixture struct {
	alice, aliceID string
}

// domainMsg is a domain event in binary mode with the given type and data.
func domainMsg(typ, subject string, data []byte) kgo.Message {
	return kafka.EncodeEvent(eventdriven.Event{ID: "hostile:" + photo.NewID(), Source: "hostile", Type: typ, Subject: subject, Time: time.Now(), Data: data}, "")
}

func objectMsg(bucket, key string, meta map[string]string, extra string) kgo.Message {
	msg, k := s3event.Created("hostile", bucket, key, 10, "etag", "image/jpeg", meta, time.Now())
	v, _ := json.Marshal(msg)
	if extra != "" {
		v = append(v[:len(v)-1], []byte(`,`+extra+`}`)...)
	}
	return kgo.Message{Key: []byte(k), Value: v}
}

var huge = strings.Repeat("A", 200<<10) // twice in a body: over the catalog's 64 KiB, under Kafka's 1 MiB

// domainCases are the hostile messages of a domain-event topic whose
// events are of type typ.
func domainCases(typ string) []hostile {
	ev := func(data string) func(*hostileFixture) kgo.Message {
		return func(h *hostileFixture) kgo.Message {
			return domainMsg(typ, h.aliceID, []byte(strings.NewReplacer("$ID", h.aliceID, "$OWNER", h.alice).Replace(data)))
		}
	}
	return []hostile{
		{name: "not JSON", msg: ev(`{"id":"$ID",`), mustDeadLetter: []string{"catalog"}},
		{name: "wrong type", msg: func(h *hostileFixture) kgo.Message {
			return domainMsg("photo.exploded", h.aliceID, []byte(`{}`))
		}, mustDeadLetter: []string{"catalog"}},
		{name: "no CloudEvents headers", msg: func(h *hostileFixture) kgo.Message {
			return kgo.Message{Key: []byte(h.aliceID), Value: []byte(`{"id":"` + h.aliceID + `"}`)}
		}, mustDeadLetter: []string{"catalog", "tagger"}},
		{name: "missing id", msg: ev(`{"owner":"$OWNER","reason":"r","created_at":"2026-01-01T00:00:00Z"}`), mustDeadLetter: []string{"catalog"}},
		{name: "non-UUID id", msg: func(h *hostileFixture) kgo.Message {
			return domainMsg(typ, "x", []byte(`{"id":"x","owner":"`+h.alice+`","reason":"r","created_at":"2026-01-01T00:00:00Z"}`))
		}, mustDeadLetter: []string{"catalog"}},
		{name: "other owner", msg: ev(`{"id":"$ID","owner":"mallory","reason":"forged","tags":["forged"],"created_at":"2026-01-01T00:00:00Z"}`),
			mustDeadLetter: []string{"catalog"}},
		{name: "huge body", msg: ev(`{"id":"$ID","owner":"$OWNER","reason":"` + huge + `","tags":["` + huge + `"]}`), mustDeadLetter: []string{"catalog"}},
		// Well-formed but for extra fields: handled, the extra fields
		// ignored (about a photo of its own: a well-formed event naming
		// the right owner is indistinguishable from a real one).
		{name: "unknown fields", msg: func(h *hostileFixture) kgo.Message {
			id := photo.NewID()
			return domainMsg(typ, id, []byte(`{"id":"`+id+`","owner":"`+h.alice+`","evil":{"a":[1,2,{"b":null}]},"created_at":"2026-01-01T00:00:00Z"}`))
		}},
	}
}

// objectCases are the hostile messages of the storage notification topic.
func objectCases(bucket string) []hostile {
	return []hostile{
		{name: "not JSON", msg: func(h *hostileFixture) kgo.Message { return kgo.Message{Value: []byte(`{"Records":[`)} },
			mustDeadLetter: []string{"catalog", "thumbnailer"}},
		{name: "wrong type", msg: func(h *hostileFixture) kgo.Message { return kgo.Message{Value: []byte(`{"Records":"x"}`)} },
			mustDeadLetter: []string{"catalog", "thumbnailer"}},
		{name: "CloudEvent on the object topic", msg: func(h *hostileFixture) kgo.Message {
			return domainMsg(eventdriven.TypeThumbnailed, h.aliceID, []byte(`{}`))
		}, mustDeadLetter: []string{"catalog"}},
		{name: "key without id", msg: func(h *hostileFixture) kgo.Message { return objectMsg(bucket, "users/"+h.alice, nil, "") }},
		{name: "non-UUID id", msg: func(h *hostileFixture) kgo.Message { return objectMsg(bucket, "users/"+h.alice+"/x", nil, "") }},
		{name: "path in the key", msg: func(h *hostileFixture) kgo.Message {
			return objectMsg(bucket, "users/../"+h.alice+"/"+h.aliceID, nil, "")
		}},
		{name: "other owner", msg: func(h *hostileFixture) kgo.Message { return objectMsg(bucket, "users/mallory/"+h.aliceID, nil, "") },
			mustDeadLetter: []string{"catalog"}},
		{name: "huge body", msg: func(h *hostileFixture) kgo.Message {
			return objectMsg(bucket, "users/"+h.alice+"/"+photo.NewID(), map[string]string{"junk": huge}, "")
		}},
		{name: "unknown fields", msg: func(h *hostileFixture) kgo.Message {
			return objectMsg(bucket, "users/"+h.alice+"/"+photo.NewID(), nil, `"evil":{"a":[1,{"b":null}]}`)
		}},
	}
}

// Every function's handler, fed forged and malformed events through the
// real transport, dead-letters or ignores each, keeps its partition moving
// (the harmless event sent after it is handled), and does not crash.
func TestHostileEventsOnEveryTopic(t *testing.T) {
	env := stacktest.Load(t)
	ctx := context.Background()
	brokers := strings.Split(env.KafkaBrokers, ",")
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(ctx, storetest.FreshDatabase(t, env.PGDSN, "pbtest_hostile_"), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cat.Close)
	fx := &hostileFixture{alice: user("hostile"), aliceID: photo.NewID()}
	if err := cat.ObjectCreated(ctx, fx.aliceID, fx.alice, 10, time.Now(), "01"); err != nil {
		t.Fatal(err)
	}
	prod := kafka.NewProducer(brokers, kafka.ProducerOptions{})
	t.Cleanup(func() { prod.Close() })

	handlers := map[string]eventdriven.Handler{
		"thumbnailer": (&thumbnailer.Handler{Log: log, Store: store, Limits: imaging.DefaultLimits}).Handle,
		"tagger":      (&tagger.Handler{Log: log, Store: store, Vision: vision.NewClient(env.VisionURL, vision.ClientOptions{Timeout: 5 * time.Second})}).Handle,
		"catalog":     (&catalog.Handler{Log: log, Store: cat, Metrics: catalog.NewMetrics(prometheus.NewRegistry())}).Handle,
	}
	// harmless is an event each topic's consumers handle without error
	// and without effect on alice's photo.
	harmless := map[string]func() kgo.Message{
		deploy.TopicObjects: func() kgo.Message { return objectMsg("some-other-bucket", "users/x/"+photo.NewID(), nil, "") },
		deploy.TopicThumbnailed: func() kgo.Message {
			id := photo.NewID()
			return domainMsg(eventdriven.TypeFailed, id, fmt.Appendf(nil, `{"id":%q,"owner":"bob","reason":"harmless"}`, id))
		},
		deploy.TopicTagged: func() kgo.Message {
			id := photo.NewID()
			return domainMsg(eventdriven.TypeTagged, id, fmt.Appendf(nil, `{"id":%q,"owner":"bob","tags":[],"created_at":"2026-01-01T00:00:00Z"}`, id))
		},
	}
	cases := map[string][]hostile{
		deploy.TopicObjects:     objectCases(deploy.BucketOriginals),
		deploy.TopicThumbnailed: domainCases(eventdriven.TypeThumbnailed),
		deploy.TopicTagged:      domainCases(eventdriven.TypeTagged),
	}

	for _, fn := range deploy.Registry {
		h, ok := handlers[fn.Name]
		if fn.Trigger != deploy.TriggerEvent {
			continue
		}
		if !ok {
			t.Errorf("function %s has no handler in this test", fn.Name)
			continue
		}
		for _, in := range fn.In {
			t.Run(fn.Name+"/"+in, func(t *testing.T) {
				topic := fmt.Sprintf("hostiletest.%s.%s.%s", fn.Name, in, strings.ToLower(photo.NewID()[:8]))
				stacktest.CreateTopic(t, brokers, topic, 1)
				stacktest.CreateTopic(t, brokers, topic+kafka.DLQSuffix, 1)
				var (
					mu      sync.Mutex
					handled = map[string]bool{} // keys of messages handled without error
				)
				record := func(next kafka.Handler) kafka.Handler {
					return func(ctx context.Context, m *kafka.Message) error {
						err := next(ctx, m)
						if err == nil {
							mu.Lock()
							handled[string(m.Key)] = true
							mu.Unlock()
						}
						return err
					}
				}
				out := ""
				if fn.Out != "" {
					out = topic + ".out"
					stacktest.CreateTopic(t, brokers, out, 1)
				}
				c, err := kafka.NewConsumer(kafka.ConsumerConfig{
					Brokers: brokers, Group: topic, Topics: []string{topic}, Function: fn.Name, MaxAttempts: 2,
					Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, TransientMaxBackoff: 200 * time.Millisecond,
					Log: log, Metrics: kafka.NewMetrics(prometheus.NewRegistry()),
				}, record(kafka.Function(h, kafka.Route{Originals: deploy.BucketOriginals, Out: out}, prod)))
				if err != nil {
					t.Fatal(err)
				}
				runCtx, stop := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- c.Run(runCtx) }()
				t.Cleanup(func() {
					stop()
					if err := <-done; err != nil {
						t.Errorf("consumer: %v", err)
					}
				})

				dead := 0
				for _, hc := range cases[in] {
					m := hc.msg(fx)
					m.Topic = topic
					m.Key = []byte("hostile-" + photo.NewID()) // to find it in the letters
					after := harmless[in]()
					after.Topic = topic
					after.Key = []byte("after-" + photo.NewID())
					if err := prod.WriteMessages(ctx, m, after); err != nil {
						t.Fatalf("%s: %v", hc.name, err)
					}
					deadline := time.Now().Add(60 * time.Second)
					for {
						mu.Lock()
						moved := handled[string(after.Key)]
						mu.Unlock()
						if moved {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("%s: the event after it was not handled within 60 s: the partition is stuck", hc.name)
						}
						time.Sleep(50 * time.Millisecond)
					}
					mu.Lock()
					ignored := handled[string(m.Key)]
					mu.Unlock()
					if !ignored {
						dead++
					}
					if !ignored && countMessages(t, env, topic+kafka.DLQSuffix) != int64(dead) {
						t.Errorf("%s: neither handled nor dead-lettered", hc.name)
					}
					for _, f := range hc.mustDeadLetter {
						if f == fn.Name && ignored {
							t.Errorf("%s: %s handled it; want it dead-lettered", hc.name, fn.Name)
						}
					}
				}
			})
		}
	}
	// Alice's photo is as it was: no forged event reached it.
	p, err := cat.Get(ctx, fx.alice, fx.aliceID)
	if err != nil || p.Status != photo.StatusPending || len(p.Tags) != 0 || p.FailureReason != "" {
		t.Errorf("alice's photo after the hostile events: %+v %v, want pending and untouched", p, err)
	}
}

// countMessages is how many messages topic holds (the lag of a group that
// never consumed it).
func countMessages(t *testing.T, env stacktest.Env, topic string) int64 {
	t.Helper()
	lag, err := kafka.Lag(context.Background(), strings.Split(env.KafkaBrokers, ","), "never-"+photo.NewID(), []string{topic})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range lag[topic] {
		n += v
	}
	return n
}
