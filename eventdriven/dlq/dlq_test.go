package dlq_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven/dlq"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/stacktest"
)

func run(t *testing.T, topics []string, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err = dlq.RunWithTopics(ctx, topics, args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func noEnv(string) string { return "" }

func TestUsage(t *testing.T) {
	topics := []string{"photo.tagged"}
	for _, help := range [][]string{{"-h"}, {"--help"}, {"list", "-h"}, {"replay", "--help"}} {
		out, _, err := run(t, topics, noEnv, help...)
		if err != nil || !strings.Contains(out, "photobench dlq list") || !strings.Contains(out, "photobench dlq replay") {
			t.Errorf("%v: %v, stdout %q; want the usage", help, err, out)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "name an action"},
		{[]string{"purge", "photo.tagged"}, `unknown action "purge"`},
		{[]string{"list", "photo.taged", "--brokers", "127.0.0.1:1"}, `unknown topic "photo.taged" (photo.tagged)`},
		{[]string{"replay", "--brokers", "127.0.0.1:1"}, "name one topic"},
		{[]string{"list", "photo.tagged"}, "no brokers"},
		{[]string{"list", "--bogus", "photo.tagged"}, "bogus"},
	} {
		_, _, err := run(t, topics, noEnv, tt.args...)
		if !errors.Is(err, command.ErrUsage) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want a one-line usage error mentioning %q", tt.args, err, tt.want)
		}
	}
}

// list shows the letters, as often as asked; replay sends them back to
// their topic once.
func TestListAndReplay(t *testing.T) {
	env := stacktest.Load(t)
	brokers := strings.Split(env.KafkaBrokers, ",")
	b := make([]byte, 4)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	topic := "dlqtest." + hex.EncodeToString(b)
	stacktest.CreateTopic(t, brokers, topic, 1)
	stacktest.CreateTopic(t, brokers, topic+kafka.DLQSuffix, 1)
	getenv := func(k string) string {
		if k == "PHOTOBENCH_KAFKA_BROKERS" {
			return env.KafkaBrokers
		}
		return ""
	}
	group := "--group=dlqtest-replay-" + hex.EncodeToString(b)

	// Two letters as a consumer's DeadLetter writes them.
	prod := kafka.NewProducer(brokers, kafka.ProducerOptions{})
	defer prod.Close()
	var letters []kgo.Message
	for i, value := range []string{`{"id":"x"}`, "not json"} {
		letters = append(letters, kgo.Message{Topic: topic + kafka.DLQSuffix, Key: fmt.Appendf(nil, "key-%d", i), Value: []byte(value), Headers: []kgo.Header{
			{Key: "ce_type", Value: []byte("photo.tagged")},
			{Key: kafka.HeaderDLQTopic, Value: []byte(topic)}, {Key: kafka.HeaderDLQPartition, Value: []byte("0")},
			{Key: kafka.HeaderDLQOffset, Value: fmt.Appendf(nil, "%d", 40+i)}, {Key: kafka.HeaderDLQError, Value: []byte("photo id \"x\" is not a UUID")},
			{Key: kafka.HeaderDLQAttempts, Value: []byte("1")}, {Key: kafka.HeaderDLQFunction, Value: []byte("catalog")},
		}})
	}
	if err := prod.WriteMessages(context.Background(), letters...); err != nil {
		t.Fatal(err)
	}

	type letter struct {
		Offset         int64  `json:"offset"`
		Topic          string `json:"topic"`
		OriginalOffset int64  `json:"original_offset"`
		Function       string `json:"function"`
		Error          string `json:"error"`
		Replayed       bool   `json:"replayed"`
		Key, Value     string
	}
	list := func() []letter {
		t.Helper()
		out, _, err := run(t, []string{topic}, getenv, "list", "--json", group, topic)
		if err != nil {
			t.Fatal(err)
		}
		var got []letter
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var l letter
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("list --json line %q: %v", sc.Text(), err)
			}
			got = append(got, l)
		}
		return got
	}
	for range 2 { // listing hides nothing
		got := list()
		if len(got) != 2 || got[0].Value != `{"id":"x"}` || got[1].Value != "not json" || got[0].Topic != topic ||
			got[1].OriginalOffset != 41 || got[0].Function != "catalog" || !strings.Contains(got[0].Error, "not a UUID") || got[0].Replayed {
			t.Fatalf("list: %+v", got)
		}
	}
	out, _, err := run(t, []string{topic}, getenv, "list", group, topic+kafka.DLQSuffix)
	if err != nil || !strings.Contains(out, "FUNCTION") || !strings.Contains(out, topic+"/0@41") || !strings.Contains(out, "2 dead letters in "+topic+".dlq, 0 of them replayed") {
		t.Errorf("list as a table: %v\n%s", err, out)
	}

	tail := stacktest.TailTopic(t, env.KafkaBrokers, topic)
	out, _, err = run(t, []string{topic}, getenv, "replay", group, topic)
	if err != nil || !strings.Contains(out, "2 dead letters of "+topic+".dlq replayed to "+topic) {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	for i := range 2 {
		select {
		case m := <-tail:
			if string(m.Value) != string(letters[i].Value) || string(m.Key) != string(letters[i].Key) {
				t.Errorf("replayed %q %q, want %q %q", m.Key, m.Value, letters[i].Key, letters[i].Value)
			}
			for _, h := range m.Headers {
				if strings.HasPrefix(h.Key, "dlq_") {
					t.Errorf("replayed message keeps header %s", h.Key)
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of 2 replayed messages reached %s", i, topic)
		}
	}
	out, _, err = run(t, []string{topic}, getenv, "replay", group, topic)
	if err != nil || !strings.Contains(out, "0 dead letters of") {
		t.Errorf("second replay: %v\n%s", err, out)
	}
	select {
	case m := <-tail:
		t.Errorf("the second replay sent %q", m.Value)
	case <-time.After(2 * time.Second):
	}
	if got := list(); len(got) != 2 || !got[0].Replayed || !got[1].Replayed {
		t.Errorf("list after the replay: %+v, want both marked replayed", got)
	}
}
