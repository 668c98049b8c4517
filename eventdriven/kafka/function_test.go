package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/kafka"
)

// recorder is a Publisher that records what it was asked to publish, and
// the order of publishes and After steps in log.
type recorder struct {
	log  *[]string
	fail error
}

func (r recorder) Publish(_ context.Context, topic string, events ...eventdriven.Event) error {
	if r.fail != nil {
		return r.fail
	}
	for _, e := range events {
		*r.log = append(*r.log, "publish "+topic+" "+e.ID)
	}
	return nil
}

const photoID = "0190f0e2-1234-7000-8000-00000000abcd"

// objectMessage is a MinIO notification of one created original.
func objectMessage(bucket string) kgo.Message {
	v := fmt.Sprintf(`{"EventName":"s3:ObjectCreated:Put","Records":[{"eventName":"s3:ObjectCreated:Put","eventTime":"2026-11-25T10:00:00Z",
		"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":42,"sequencer":"18EB6"}}}]}`, bucket, url.QueryEscape("users/alice/"+photoID))
	return kgo.Message{Topic: "objects", Value: []byte(v)}
}

func TestFunctionDecodesPublishesThenRunsAfter(t *testing.T) {
	var log []string
	var got eventdriven.Delivery
	h := func(_ context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
		got = d
		return eventdriven.Result{
			Events: []eventdriven.Event{{ID: "e1", Source: "s", Type: "t"}, {ID: "e2", Source: "s", Type: "t"}},
			After:  func(context.Context) error { log = append(log, "after"); return nil },
		}, nil
	}
	fn := kafka.Function(h, kafka.Route{Originals: "originals", Out: "out"}, recorder{log: &log})
	ctx := context.Background()

	if err := fn(ctx, kafka.NewMessage(ctx, objectMessage("originals"))); err != nil {
		t.Fatal(err)
	}
	if got.Event != nil || len(got.Objects) != 1 || got.Objects[0].ID != photoID || got.Objects[0].Owner != "alice" {
		t.Errorf("storage notification decoded as %+v", got)
	}
	if want := []string{"publish out e1", "publish out e2", "after"}; !slices.Equal(log, want) {
		t.Errorf("steps %v, want %v", log, want)
	}

	log = nil
	ev := kafka.EncodeEvent(eventdriven.Event{ID: "in1", Source: "s", Type: eventdriven.TypeTagged, Subject: photoID, Data: []byte(`{}`)}, "tagged")
	if err := fn(ctx, kafka.NewMessage(ctx, ev)); err != nil {
		t.Fatal(err)
	}
	if got.Event == nil || got.Event.ID != "in1" || got.Event.Type != eventdriven.TypeTagged || got.Objects != nil {
		t.Errorf("CloudEvent decoded as %+v", got)
	}

	if err := fn(ctx, kafka.NewMessage(ctx, objectMessage("thumbnails"))); err != nil {
		t.Fatal(err)
	}
	if len(got.Objects) != 0 {
		t.Errorf("a record about another bucket reached the handler: %+v", got.Objects)
	}
}

func TestFunctionClassifiesWhatGoesWrong(t *testing.T) {
	ctx := context.Background()
	var log []string
	produce := func(context.Context, eventdriven.Delivery) (eventdriven.Result, error) {
		return eventdriven.Result{Events: []eventdriven.Event{{ID: "e1", Source: "s", Type: "t"}},
			After: func(context.Context) error { log = append(log, "after"); return nil }}, nil
	}
	boom := errors.New("boom")
	tests := []struct {
		name      string
		fn        kafka.Handler
		msg       kgo.Message
		permanent bool
		transient bool
		wrapsBoom bool
	}{
		{"malformed notification", kafka.Function(produce, kafka.Route{Out: "out"}, recorder{log: &log}),
			kgo.Message{Value: []byte("{nope")}, true, false, false},
		{"malformed CloudEvent", kafka.Function(produce, kafka.Route{Out: "out"}, recorder{log: &log}),
			kgo.Message{Headers: []kgo.Header{{Key: kafka.HeaderSpecVersion, Value: []byte("1.0")}}}, true, false, false},
		{"events but no output topic", kafka.Function(produce, kafka.Route{}, recorder{log: &log}),
			objectMessage("originals"), true, false, false},
		{"Kafka refuses the publish", kafka.Function(produce, kafka.Route{Out: "out"}, recorder{log: &log, fail: boom}),
			objectMessage("originals"), false, true, true},
		{"the handler's own error, as it is", kafka.Function(func(context.Context, eventdriven.Delivery) (eventdriven.Result, error) {
			return eventdriven.Result{}, boom
		}, kafka.Route{Out: "out"}, recorder{log: &log}), objectMessage("originals"), false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log = nil
			err := tt.fn(ctx, kafka.NewMessage(ctx, tt.msg))
			if err == nil {
				t.Fatal("no error")
			}
			if eventdriven.IsPermanent(err) != tt.permanent || eventdriven.IsTransient(err) != tt.transient || errors.Is(err, boom) != tt.wrapsBoom {
				t.Errorf("err %v: permanent %v transient %v wraps the cause %v; want %v %v %v", err,
					eventdriven.IsPermanent(err), eventdriven.IsTransient(err), errors.Is(err, boom), tt.permanent, tt.transient, tt.wrapsBoom)
			}
			if slices.Contains(log, "after") {
				t.Error("After ran although the events were not published")
			}
			if strings.Contains(strings.Join(log, ","), "publish") && tt.permanent {
				t.Error("published although the delivery is dead-lettered")
			}
		})
	}
}
