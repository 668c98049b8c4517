package kafka

import (
	"context"
	"fmt"

	"github.com/photobench/photobench/eventdriven"
)

// Publisher publishes events to a topic; *Producer is one.
type Publisher interface {
	Publish(ctx context.Context, topic string, events ...eventdriven.Event) error
}

// Route is where a function's input comes from and its output goes: the
// deployment registry (eventdriven/deploy) fills it in, so the function's
// logic never names a topic or bucket.
type Route struct {
	// Originals is the bucket whose storage notifications the function
	// reads; records about other buckets are left out of its Delivery.
	Originals string
	// Out is the topic the function's events are published to; empty for
	// a function that publishes none.
	Out string
}

// Function adapts a function's logic to the transport: it decodes the
// message into an eventdriven.Delivery (a CloudEvent if the message
// carries the ce_specversion header, else a storage notification: MinIO's
// S3 event JSON), calls h, publishes the events h returned to route.Out,
// then runs the result's After step.
//
// A message that does not decode is eventdriven.Permanent. A failed
// publish is eventdriven.Transient (Kafka is down); After's error is
// returned as h's would be. Either way the whole delivery is tried again:
// h and After are idempotent, and republished events keep their ids.
func Function(h eventdriven.Handler, route Route, out Publisher) Handler {
	return func(ctx context.Context, m *Message) error {
		d, err := decode(m, route.Originals)
		if err != nil {
			return eventdriven.Permanent(err)
		}
		res, err := h(ctx, d)
		if err != nil {
			return err
		}
		if len(res.Events) > 0 {
			if route.Out == "" || out == nil {
				return eventdriven.Permanent(fmt.Errorf("handler produced %d events but the function has no output topic", len(res.Events)))
			}
			if err := out.Publish(ctx, route.Out, res.Events...); err != nil {
				return eventdriven.Transient(err)
			}
		}
		if res.After != nil {
			return res.After(ctx)
		}
		return nil
	}
}

// decode turns a message into a Delivery.
func decode(m *Message, originals string) (eventdriven.Delivery, error) {
	for _, h := range m.Headers {
		if h.Key == HeaderSpecVersion {
			ev, err := ParseEvent(m.Message)
			if err != nil {
				return eventdriven.Delivery{}, err
			}
			return eventdriven.Delivery{Event: &ev}, nil
		}
	}
	objs, err := eventdriven.Originals(m.Value, originals)
	if err != nil {
		return eventdriven.Delivery{}, fmt.Errorf("storage notification (%s/%d@%d): %w", m.Topic, m.Partition, m.Offset, err)
	}
	return eventdriven.Delivery{Objects: objs}, nil
}
