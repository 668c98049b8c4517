// Package dlq is `photobench dlq`, the event-driven app's dead-letter
// tool. A function that cannot handle a message (malformed, forged, or
// failing every attempt) writes it to its topic's dead-letter twin,
// "<topic>.dlq", with headers saying where it came from and why
// (eventdriven/kafka's DeadLetter), and its partition moves on.
//
//   - list TOPIC shows the dead letters of TOPIC. It reads without a
//     consumer group and commits nothing: listing never hides a letter.
//   - replay TOPIC publishes every letter not replayed yet back to TOPIC,
//     and records how far it went as the offset of the consumer group
//     ReplayGroup on TOPIC.dlq, so a second replay sends only letters
//     written since. A replayed message reaches every function that
//     consumes TOPIC again; they are idempotent, so that is safe. A letter
//     that fails again is dead-lettered again, as a new letter.
package dlq

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/command"
)

// ReplayGroup is the consumer group whose committed offsets on a
// dead-letter topic mark the letters already replayed. It never joins the
// group: the tool commits offsets as a standalone consumer.
const ReplayGroup = "photobench-dlq-replay"

// Usage is `photobench dlq -h`.
var Usage = fmt.Sprintf(`Usage:
  photobench dlq list [--json] [--brokers LIST] TOPIC
  photobench dlq replay [--brokers LIST] [--group NAME] TOPIC

The dead letters of an event topic: messages a function could not handle
(malformed or forged events, or failing every attempt), written to TOPIC.dlq
with where they came from and why.

  list     shows TOPIC's dead letters: offset, where from (topic/partition@offset),
           the function that failed, attempts, whether already replayed, key and
           error. It uses no consumer group and commits nothing, so it can be run
           any number of times.
  replay   publishes the letters not replayed yet back to TOPIC (key, value and
           original headers), then records them as replayed (the offset of the
           consumer group --group on TOPIC.dlq): a second replay resends nothing.
           Every function consuming TOPIC sees them again; they are idempotent.

TOPIC is one of %s (or its .dlq name).

Flags:
  --brokers LIST   Kafka brokers, comma-separated (default $PHOTOBENCH_KAFKA_BROKERS)
  --json           list: one JSON object per letter, with its value
  --group NAME     replay: the group that records what was replayed (default %s)
`, strings.Join(deploy.Topics, ", "), ReplayGroup)

// Run runs `photobench dlq` (args after "dlq") on the app's topics.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return run(ctx, deploy.Topics, args, getenv, stdout, stderr)
}

// run is Run for the given event topics.
func run(ctx context.Context, known []string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		fmt.Fprint(stderr, Usage)
		if len(args) == 0 {
			return fmt.Errorf("%w: dlq: name an action: list or replay", command.ErrUsage)
		}
		return fmt.Errorf("%w: dlq: unknown action %q (list, replay)", command.ErrUsage, brief.Clip(args[0], 40))
	}
	action := args[0]
	fs := flag.NewFlagSet("dlq "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	brokers := fs.String("brokers", getenv("PHOTOBENCH_KAFKA_BROKERS"), "")
	asJSON := fs.Bool("json", false, "")
	group := fs.String("group", ReplayGroup, "")
	// Flags may come before or after TOPIC.
	var topics []string
	for rest := args[1:]; ; {
		if err := command.ParseFlags(fs, rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, Usage)
				return nil
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		topics = append(topics, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var problems command.Problems
	if len(topics) != 1 {
		problems.Addf("name one topic (%s), got %d", strings.Join(known, ", "), len(topics))
	}
	topic := ""
	if len(topics) == 1 {
		topic = strings.TrimSuffix(topics[0], kafka.DLQSuffix)
		if !slices.Contains(known, topic) {
			problems.Addf("unknown topic %q (%s)", brief.Clip(topics[0], 80), strings.Join(known, ", "))
		}
	}
	if *brokers == "" {
		problems.Addf("no brokers: set PHOTOBENCH_KAFKA_BROKERS or --brokers")
	}
	if *group == "" {
		problems.Addf("--group is empty")
	}
	if err := problems.Err("dlq " + action); err != nil {
		return err
	}
	list := strings.Split(*brokers, ",")
	if action == "list" {
		return listLetters(ctx, list, topic, *group, *asJSON, stdout)
	}
	return replay(ctx, list, topic, *group, stdout)
}

// jsonLetter is a letter as `dlq list --json` prints it.
type jsonLetter struct {
	Partition         int       `json:"partition"`
	Offset            int64     `json:"offset"`
	Time              time.Time `json:"time"`
	Topic             string    `json:"topic"`
	OriginalPartition int       `json:"original_partition"`
	OriginalOffset    int64     `json:"original_offset"`
	Function          string    `json:"function"`
	Attempts          int       `json:"attempts"`
	Error             string    `json:"error"`
	Replayed          bool      `json:"replayed"`
	Key               string    `json:"key"`
	// Value is the message's value as text, or ValueBase64 when it is not
	// UTF-8.
	Value       string `json:"value,omitempty"`
	ValueBase64 []byte `json:"value_base64,omitempty"`
}

func listLetters(ctx context.Context, brokers []string, topic, group string, asJSON bool, stdout io.Writer) error {
	dlqTopic := topic + kafka.DLQSuffix
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	enc := json.NewEncoder(stdout)
	if !asJSON {
		fmt.Fprintln(tw, "PARTITION\tOFFSET\tFROM\tFUNCTION\tATTEMPTS\tREPLAYED\tKEY\tERROR")
	}
	var n, replayed int
	err := kafka.ListLetters(ctx, brokers, dlqTopic, group, func(l kafka.Letter, done bool) error {
		n++
		if done {
			replayed++
		}
		if asJSON {
			j := jsonLetter{Partition: l.Partition, Offset: l.Offset, Time: l.Time.UTC(), Topic: l.Topic,
				OriginalPartition: l.OriginalPartition, OriginalOffset: l.OriginalOffset, Function: l.Function,
				Attempts: l.Attempts, Error: l.Error, Replayed: done, Key: string(l.Key)}
			if utf8.Valid(l.Value) {
				j.Value = string(l.Value)
			} else {
				j.ValueBase64 = l.Value
			}
			return enc.Encode(j)
		}
		_, err := fmt.Fprintf(tw, "%d\t%d\t%s/%d@%d\t%s\t%d\t%s\t%s\t%s\n", l.Partition, l.Offset, l.Topic, l.OriginalPartition,
			l.OriginalOffset, l.Function, l.Attempts, yesNo(done), brief.Clip(string(l.Key), 60), brief.OneLine(l.Error))
		return err
	})
	if err != nil {
		return fmt.Errorf("dlq list: %w", err)
	}
	if asJSON {
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d dead letters in %s, %d of them replayed (group %s)\n", n, dlqTopic, replayed, group)
	return err
}

func replay(ctx context.Context, brokers []string, topic, group string, stdout io.Writer) error {
	prod := kafka.NewProducer(brokers, kafka.ProducerOptions{})
	defer prod.Close()
	dlqTopic := topic + kafka.DLQSuffix
	n, err := kafka.ReplayLetters(ctx, brokers, dlqTopic, group, prod, func(l kafka.Letter) {
		fmt.Fprintf(stdout, "replayed %s/%d@%d (from %s/%d@%d, %s)\n", dlqTopic, l.Partition, l.Offset,
			l.Topic, l.OriginalPartition, l.OriginalOffset, l.Function)
	})
	if err != nil {
		return fmt.Errorf("dlq replay: %d letters replayed before: %w", n, err)
	}
	_, err = fmt.Fprintf(stdout, "%d dead letters of %s replayed to %s (group %s)\n", n, dlqTopic, topic, group)
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
