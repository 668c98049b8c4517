package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/kafka"
)

func TestEventMessage(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name    string
		event   eventdriven.Event
		key     string
		headers map[string]string
	}{
		{
			name:  "all attributes",
			event: eventdriven.Event{ID: "e1", Source: "photobench/test", Type: "photo.tagged", Subject: "p1", Time: at, Data: []byte(`{"a":1}`)},
			key:   "p1",
			headers: map[string]string{
				"ce_id": "e1", "ce_source": "photobench/test", "ce_type": "photo.tagged", "ce_specversion": "1.0",
				"ce_time": "2025-03-04T04:06:07.123456789Z", "ce_subject": "p1", "content-type": "application/json",
			},
		},
		{
			name:  "no subject or time",
			event: eventdriven.Event{ID: "e2", Source: "s", Type: "t", Data: []byte(`{}`)},
			headers: map[string]string{
				"ce_id": "e2", "ce_source": "s", "ce_type": "t", "ce_specversion": "1.0", "content-type": "application/json",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := kafka.EncodeEvent(tt.event, "topic-a")
			if m.Topic != "topic-a" || string(m.Key) != tt.key || string(m.Value) != string(tt.event.Data) {
				t.Errorf("message = topic %q key %q value %q", m.Topic, m.Key, m.Value)
			}
			if got := headerMap(t, m); fmt.Sprint(got) != fmt.Sprint(tt.headers) {
				t.Errorf("headers = %v, want %v", got, tt.headers)
			}
			back, err := kafka.ParseEvent(m)
			if err != nil {
				t.Fatal(err)
			}
			assertEvent(t, back, tt.event)
		})
	}
}

func TestParseEventRejects(t *testing.T) {
	good := kafka.EncodeEvent(eventdriven.Event{ID: "e1", Source: "s", Type: "t", Subject: "p", Time: time.Now()}, "x")
	tests := []struct {
		name   string
		edit   func(h map[string]string)
		reason string
	}{
		{"no specversion", func(h map[string]string) { delete(h, "ce_specversion") }, "ce_specversion"},
		{"wrong specversion", func(h map[string]string) { h["ce_specversion"] = "0.3" }, "ce_specversion"},
		{"no id", func(h map[string]string) { delete(h, "ce_id") }, "ce_id"},
		{"empty id", func(h map[string]string) { h["ce_id"] = "" }, "ce_id"},
		{"no source", func(h map[string]string) { delete(h, "ce_source") }, "ce_source"},
		{"no type", func(h map[string]string) { delete(h, "ce_type") }, "ce_type"},
		{"bad time", func(h map[string]string) { h["ce_time"] = "yesterday" }, "ce_time"},
		{"no headers at all", func(h map[string]string) { clear(h) }, "ce_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headerMap(t, good)
			tt.edit(h)
			m := kgo.Message{Topic: "x", Value: good.Value}
			for k, v := range h {
				m.Headers = append(m.Headers, kgo.Header{Key: k, Value: []byte(v)})
			}
			_, err := kafka.ParseEvent(m)
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("ParseEvent = %v, want an error about %s", err, tt.reason)
			}
		})
	}
}

func TestNewConsumerConfig(t *testing.T) {
	ok := kafka.ConsumerConfig{Brokers: []string{"127.0.0.1:1"}, Group: "g", Topics: []string{"t"}, Function: "f"}
	h := func(ctx context.Context, m *kafka.Message) error { return nil }
	tests := []struct {
		name    string
		edit    func(c *kafka.ConsumerConfig)
		wantErr string
	}{
		{"valid", func(c *kafka.ConsumerConfig) {}, ""},
		{"no brokers", func(c *kafka.ConsumerConfig) { c.Brokers = nil }, "no brokers"},
		{"no group", func(c *kafka.ConsumerConfig) { c.Group = "" }, "no consumer group"},
		{"no topics", func(c *kafka.ConsumerConfig) { c.Topics = nil }, "no topics"},
		{"no function", func(c *kafka.ConsumerConfig) { c.Function = "" }, "no function"},
		{"negative backoff", func(c *kafka.ConsumerConfig) { c.Backoff = -1 }, "negative backoff"},
		{"negative attempts", func(c *kafka.ConsumerConfig) { c.MaxAttempts = -1 }, "negative max attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			c, err := kafka.NewConsumer(cfg, h)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("NewConsumer = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.Config()
			if got.MaxAttempts != 5 || got.Backoff != 50*time.Millisecond || got.MaxBackoff != 2*time.Second ||
				got.TransientMaxBackoff != 5*time.Second || got.StopTimeout != 30*time.Second {
				t.Errorf("defaults = %+v", got)
			}
			rc := c.ReaderConfig()
			if rc.MinBytes != 1 || rc.MaxWait != 250*time.Millisecond || rc.HeartbeatInterval != time.Second ||
				rc.SessionTimeout != 6*time.Second || rc.RebalanceTimeout != 5*time.Second ||
				rc.JoinGroupBackoff != 250*time.Millisecond || rc.StartOffset != kgo.FirstOffset ||
				rc.CommitInterval != 0 || rc.GroupID != "g" || fmt.Sprint(rc.GroupTopics) != "[t]" {
				t.Errorf("reader config = %+v", rc)
			}
		})
	}
	if _, err := kafka.NewConsumer(ok, nil); err == nil {
		t.Error("NewConsumer accepted a nil handler")
	}
}

// headerMap returns m's headers, failing on duplicates.
func headerMap(t *testing.T, m kgo.Message) map[string]string {
	t.Helper()
	h := map[string]string{}
	for _, x := range m.Headers {
		if _, dup := h[x.Key]; dup {
			t.Errorf("header %s appears twice", x.Key)
		}
		h[x.Key] = string(x.Value)
	}
	return h
}

func assertEvent(t *testing.T, got, want eventdriven.Event) {
	t.Helper()
	if got.ID != want.ID || got.Source != want.Source || got.Type != want.Type || got.Subject != want.Subject ||
		!got.Time.Equal(want.Time) || string(got.Data) != string(want.Data) {
		t.Errorf("event = %+v, want %+v", got, want)
	}
}
