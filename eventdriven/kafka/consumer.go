package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/internal/sleep"
	kgo "github.com/segmentio/kafka-go"
)

// Reader settings of every consumer. kafka-go's defaults suit long-lived
// servers; these suit functions that start cold, scale out and in, and are
// killed. The broker side of the same story is
// group.initial.rebalance.delay.ms=0 (internal/stack).
const (
	// ReaderMinBytes 1: the broker answers a fetch as soon as one record is
	// there, so no message waits for a batch to fill.
	ReaderMinBytes = 1
	// ReaderMaxBytes caps a fetch response per partition (kafka-go's
	// default, which must be set explicitly once MinBytes is). Events are
	// metadata of a few KiB, never image bytes.
	ReaderMaxBytes = 1 << 20
	// ReaderMaxWait is how long the broker holds a fetch that has nothing
	// to return. With MinBytes 1 it adds no delivery delay; what it bounds
	// is how long a partition reader is stuck in a fetch that kafka-go
	// cannot interrupt (kafka-go issue #428): Reader.Close (graceful stop,
	// scale-in) and every rebalance (the members stop their partition
	// readers before rejoining: scale-out, cold starts) wait for it. The
	// 10 s default would be charged to each. The cost is up to 4 empty
	// fetches per second per idle partition.
	ReaderMaxWait = 250 * time.Millisecond
	// ReaderHeartbeatInterval: members learn of a rebalance (a new replica
	// joining) at their next heartbeat, so a cold-started replica waits up
	// to one interval for the others to rejoin; default 3 s. 1 s is a sixth
	// of the session timeout (Kafka recommends at most a third).
	ReaderHeartbeatInterval = 1 * time.Second
	// ReaderSessionTimeout is how long a crashed member (one that never
	// sent LeaveGroup) keeps its partitions before the coordinator evicts
	// it: the stall on crash recovery. 6 s is the broker's minimum
	// (group.min.session.timeout.ms); default 30 s. A graceful stop leaves
	// the group at once and does not wait for it.
	ReaderSessionTimeout = 6 * time.Second
	// ReaderRebalanceTimeout is how long the coordinator waits for every
	// member to rejoin during a rebalance before dropping the missing ones.
	// kafka-go rejoins from its own goroutine, whatever the handler is
	// doing, so a slow handler does not need a long timeout; a long one only
	// lets one stuck member stall the whole group (and any replica joining
	// it); default 30 s.
	ReaderRebalanceTimeout = 5 * time.Second
	// ReaderJoinGroupBackoff is the wait before retrying a failed join (the
	// coordinator still loading right after the broker started, errors in a
	// rebalance); default 5 s, which a cold start would pay in full.
	ReaderJoinGroupBackoff = 250 * time.Millisecond
	// ReaderStartOffset: a group with no committed offset (a function's
	// first run, or a function added later) starts at the oldest retained
	// message, so nothing published before it first ran is skipped.
	ReaderStartOffset = kgo.FirstOffset
	// ReaderCommitInterval 0 makes CommitMessages synchronous: it returns
	// once the broker stored the offset, so a stop or crash right after a
	// handled message never loses its commit. It costs one round trip per
	// message (well under a millisecond on loopback). Interval commits would
	// batch them but re-deliver up to an interval's worth after a crash.
	ReaderCommitInterval = 0
)

// ConsumerConfig defaults.
const (
	DefaultMaxAttempts         = 5                     // ConsumerConfig.MaxAttempts
	DefaultBackoff             = 50 * time.Millisecond // ConsumerConfig.Backoff
	DefaultMaxBackoff          = 2 * time.Second       // ConsumerConfig.MaxBackoff
	DefaultTransientMaxBackoff = 5 * time.Second       // ConsumerConfig.TransientMaxBackoff
	DefaultStopTimeout         = 30 * time.Second      // ConsumerConfig.StopTimeout
)

// dlqErrorMax caps the dlq_error header (the error text) in bytes.
const dlqErrorMax = 4096

// DLQSuffix is appended to a topic's name to name its dead-letter topic.
// The stack creates "<topic>.dlq" beside every event topic (auto-creation
// is off): a consumer of a topic without one cannot dead-letter, and keeps
// retrying the write, holding the partition.
const DLQSuffix = ".dlq"

// Headers a dead-lettered message carries besides its original headers.
const (
	HeaderDLQTopic     = "dlq_topic"     // the original topic
	HeaderDLQPartition = "dlq_partition" // the original partition, decimal
	HeaderDLQOffset    = "dlq_offset"    // the original offset, decimal
	HeaderDLQError     = "dlq_error"     // the last error's text (up to 4 KiB)
	HeaderDLQAttempts  = "dlq_attempts"  // handler calls made, decimal
	HeaderDLQFunction  = "dlq_function"  // ConsumerConfig.Function
)

// Handler handles one message. Returning nil commits it. An error marked
// with Transient is retried without limit; one marked with Permanent is
// dead-lettered at once; any other error is tried up to MaxAttempts times
// in all, then dead-lettered. A panic counts as an ordinary error (it is
// recovered and logged with its stack).
//
// The handler's ctx is not cancelled when the consumer is asked to stop:
// the in-flight message gets ConsumerConfig.StopTimeout more to finish.
type Handler func(ctx context.Context, m kgo.Message) error

// ConsumerConfig configures a Consumer. Brokers, Group, Topics and Function
// are required; zero values of the rest take the defaults.
type ConsumerConfig struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string
	// Group is the consumer group: the function's replicas share its
	// partitions and its committed offsets.
	Group string
	// Topics are the topics consumed. Each needs its "<topic>.dlq".
	Topics []string
	// Function names the function in metrics and logs, e.g. "thumbnailer".
	Function string
	// MaxAttempts is how many times a message failing with an ordinary
	// error is tried in all before it is dead-lettered; default 5.
	MaxAttempts int
	// Backoff is the first retry's backoff ceiling, doubled on each retry
	// up to MaxBackoff; the actual wait is drawn uniformly below it ("full
	// jitter", so replicas retrying the same dependency spread out).
	// Default 50 ms.
	Backoff time.Duration
	// MaxBackoff caps the backoff between ordinary-error retries; default
	// 2 s (five attempts then take at most about 3.5 s of waiting).
	MaxBackoff time.Duration
	// TransientMaxBackoff caps the backoff between transient retries and
	// between retries of a failed dead-letter write; default 5 s: how soon
	// a recovered dependency is noticed, against how hard a down one is
	// polled.
	TransientMaxBackoff time.Duration
	// StopTimeout is how long the in-flight message may still take once
	// Run's ctx is cancelled; then the handler's ctx is cancelled too and
	// the message is left uncommitted. Default 30 s, within the usual
	// SIGTERM-to-SIGKILL grace.
	StopTimeout time.Duration
	// Log receives the consumer's logs; nil discards them.
	Log *slog.Logger
	// Metrics receives the consumer's metrics; nil uses an unregistered set.
	Metrics *Metrics
}

// Consumer runs a Handler over a consumer group's messages, one message at
// a time, so order within a partition is kept.
type Consumer struct {
	cfg ConsumerConfig
	h   Handler
	log *slog.Logger
	m   *Metrics
}

// NewConsumer checks cfg, fills in its defaults and returns a consumer. It
// does not connect: Run does.
func NewConsumer(cfg ConsumerConfig, h Handler) (*Consumer, error) {
	var errs []error
	if len(cfg.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if cfg.Group == "" {
		errs = append(errs, errors.New("no consumer group"))
	}
	if len(cfg.Topics) == 0 {
		errs = append(errs, errors.New("no topics"))
	}
	for _, t := range cfg.Topics {
		if t == "" {
			errs = append(errs, errors.New("empty topic name"))
		}
	}
	if cfg.Function == "" {
		errs = append(errs, errors.New("no function name"))
	}
	if h == nil {
		errs = append(errs, errors.New("no handler"))
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"backoff", cfg.Backoff}, {"max backoff", cfg.MaxBackoff}, {"transient max backoff", cfg.TransientMaxBackoff}, {"stop timeout", cfg.StopTimeout}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("negative %s %v", f.name, f.v))
		}
	}
	if cfg.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("negative max attempts %d", cfg.MaxAttempts))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.TransientMaxBackoff == 0 {
		cfg.TransientMaxBackoff = DefaultTransientMaxBackoff
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	cfg.Brokers = append([]string(nil), cfg.Brokers...)
	cfg.Topics = append([]string(nil), cfg.Topics...)
	cfg.Metrics.init(cfg.Function, cfg.Topics)
	log := cfg.Log.With("component", "kafka.consumer", "function", cfg.Function, "group", cfg.Group)
	return &Consumer{
		cfg: cfg,
		h:   Recover(log)(h),
		log: log,
		m:   cfg.Metrics,
	}, nil
}

// Config returns the consumer's configuration with the defaults filled in.
func (c *Consumer) Config() ConsumerConfig { return c.cfg }

// ReaderConfig returns the kafka-go reader configuration Run uses: the
// Reader* constants, the group and its topics.
func (c *Consumer) ReaderConfig() kgo.ReaderConfig {
	rc := kgo.ReaderConfig{
		Brokers:           c.cfg.Brokers,
		GroupID:           c.cfg.Group,
		GroupTopics:       c.cfg.Topics,
		MinBytes:          ReaderMinBytes,
		MaxBytes:          ReaderMaxBytes,
		MaxWait:           ReaderMaxWait,
		HeartbeatInterval: ReaderHeartbeatInterval,
		SessionTimeout:    ReaderSessionTimeout,
		RebalanceTimeout:  ReaderRebalanceTimeout,
		JoinGroupBackoff:  ReaderJoinGroupBackoff,
		StartOffset:       ReaderStartOffset,
		CommitInterval:    ReaderCommitInterval,
		ErrorLogger: kgo.LoggerFunc(func(msg string, args ...any) {
			c.log.Warn("kafka-go: " + strings.TrimSpace(fmt.Sprintf(msg, args...)))
		}),
	}
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		rc.Logger = kgo.LoggerFunc(func(msg string, args ...any) {
			c.log.Debug("kafka-go: " + strings.TrimSpace(fmt.Sprintf(msg, args...)))
		})
	}
	return rc
}

// Run joins the group and handles messages until ctx is cancelled: fetch,
// handle (with the retry and dead-letter policy), commit, one message at a
// time, so order within a partition is kept.
//
// When ctx is cancelled (SIGTERM, scale-in) Run lets the in-flight message
// finish: its handler's ctx stays live for up to StopTimeout, ordinary-error
// retries (bounded by MaxAttempts) and a dead-letter write go on, then the
// message is committed, the reader closed (leaving the group at once, so
// its partitions move without waiting for the session timeout) and Run
// returns nil. What cannot finish is left uncommitted for the group to
// redeliver: a message failing transiently (its dependency is down; waiting
// longer would not help), one whose dead-letter write keeps failing, and
// one still running when StopTimeout ends.
//
// A failed commit while running is logged (a later commit on the partition
// covers it); Run returns an error only if the commit of the last message
// failed, or if the reader closed under it.
func (c *Consumer) Run(ctx context.Context) error {
	r := kgo.NewReader(c.ReaderConfig())
	// kafka-go's Stats returns the counts since its last call.
	countRebalances := func() { c.m.Rebalances.WithLabelValues(c.cfg.Function).Add(float64(r.Stats().Rebalances)) }
	statsDone := make(chan struct{})
	defer close(statsDone)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-statsDone:
				return
			case <-t.C:
				countRebalances()
			}
		}
	}()
	dlq := NewProducer(c.cfg.Brokers, ProducerOptions{})
	c.log.Info("consumer starting", "topics", c.cfg.Topics)
	var runErr error
	fetchFailures := 0
	for ctx.Err() == nil {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, io.EOF) {
				runErr = fmt.Errorf("consume %s: reader closed: %w", c.cfg.Group, err)
				break
			}
			fetchFailures++
			d := backoff(c.cfg.Backoff, c.cfg.TransientMaxBackoff, fetchFailures)
			c.log.Warn("fetch failed; retrying", "error", err, "retry_in", d.String())
			sleep.For(ctx, d)
			continue
		}
		fetchFailures = 0
		err = c.process(ctx, r, dlq, m)
		if errors.Is(err, errAbandoned) {
			// Only a stop abandons a message; and nothing after it may be
			// committed, or the commit would cover it too.
			break
		}
		if err != nil && ctx.Err() != nil {
			runErr = err
		}
	}
	start := time.Now()
	if err := r.Close(); err != nil {
		c.log.Warn("close reader", "error", err)
	}
	if err := dlq.Close(); err != nil {
		c.log.Warn("close dead-letter producer", "error", err)
	}
	c.log.Info("consumer stopped", "close_seconds", time.Since(start).Seconds())
	return runErr
}

type outcome int

const (
	handled outcome = iota
	deadLettered
	abandoned // left uncommitted, to be redelivered
)

// errAbandoned reports a message left uncommitted by a stop.
var errAbandoned = errors.New("message left uncommitted")

// process handles and commits one message. It returns the commit's error,
// or errAbandoned.
func (c *Consumer) process(ctx context.Context, r *kgo.Reader, dlq *Producer, m kgo.Message) error {
	fn, topic := c.cfg.Function, m.Topic
	log := c.log.With("topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
	c.m.DeliveryDelay.WithLabelValues(fn, topic).Observe(max(time.Since(m.Time), 0).Seconds())

	hctx, cancel := c.handlerContext(ctx)
	defer cancel(nil)
	start := time.Now()
	switch c.handle(ctx, hctx, log, dlq, m) {
	case abandoned:
		log.Info("message left uncommitted; it will be redelivered")
		return errAbandoned
	case handled:
		c.m.HandledTotal.WithLabelValues(fn, topic, OutcomeOK).Inc()
	case deadLettered:
		c.m.HandledTotal.WithLabelValues(fn, topic, OutcomeDeadLettered).Inc()
	}
	c.m.HandlingDuration.WithLabelValues(fn, topic).Observe(time.Since(start).Seconds())
	if err := r.CommitMessages(hctx, m); err != nil {
		// A later commit on the partition covers this one; if none comes
		// (a rebalance, a stop) the message is redelivered: at-least-once.
		log.Error("commit failed; the message may be redelivered", "error", err)
		return fmt.Errorf("commit %s/%d@%d: %w", m.Topic, m.Partition, m.Offset, err)
	}
	return nil
}

// errStopTimeout is the cause of a handler ctx cancelled because the
// consumer stopped and StopTimeout passed.
var errStopTimeout = errors.New("consumer stopped and the in-flight message's stop timeout passed")

// handlerContext returns the in-flight message's context: it keeps ctx's
// values but not its cancellation; once ctx is cancelled it lives
// StopTimeout longer.
func (c *Consumer) handlerContext(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	hctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(c.cfg.StopTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(errStopTimeout)
		case <-hctx.Done():
		}
	})
	return hctx, func(cause error) {
		stop()
		cancel(cause)
	}
}

// handle applies the retry policy: it calls the handler until it
// succeeds, the message is dead-lettered, or the consumer stops in a way
// that leaves it uncommitted.
func (c *Consumer) handle(ctx, hctx context.Context, log *slog.Logger, dlq *Producer, m kgo.Message) outcome {
	fn, topic := c.cfg.Function, m.Topic
	var attempts, failures, transients int
	for {
		attempts++
		err := c.h(hctx, m)
		if err == nil {
			if attempts > 1 {
				log.Info("message handled after retries", "attempts", attempts)
			}
			return handled
		}
		alog := log.With("attempt", attempts, "error", err)
		if hctx.Err() != nil {
			// The failure is likely our own cancellation: not the message's fault.
			alog.Warn("handler failed after the stop timeout")
			return abandoned
		}
		switch classify(err) {
		case kindPermanent:
			alog.Warn("permanent failure; dead-lettering")
			return c.deadLetter(ctx, hctx, alog, dlq, m, err, attempts)
		case kindTransient:
			transients++
			if ctx.Err() != nil {
				alog.Info("dependency unavailable while stopping; not retrying")
				return abandoned
			}
			d := backoff(c.cfg.Backoff, c.cfg.TransientMaxBackoff, transients)
			alog.Warn("dependency unavailable; retrying", "kind", RetryTransient, "retry_in", d.String())
			if !sleep.For(ctx, d) {
				return abandoned
			}
			c.m.RetriesTotal.WithLabelValues(fn, topic, RetryTransient).Inc()
		default:
			failures++
			if failures >= c.cfg.MaxAttempts {
				alog.Error("handler failed on every attempt; dead-lettering", "max_attempts", c.cfg.MaxAttempts)
				return c.deadLetter(ctx, hctx, alog, dlq, m, err, attempts)
			}
			// Bounded, so it goes on while stopping (within StopTimeout):
			// the message is finished rather than retried from scratch.
			d := backoff(c.cfg.Backoff, c.cfg.MaxBackoff, failures)
			alog.Warn("handler failed; retrying", "kind", RetryError, "retry_in", d.String())
			if !sleep.For(hctx, d) {
				return abandoned
			}
			c.m.RetriesTotal.WithLabelValues(fn, topic, RetryError).Inc()
		}
	}
}

// deadLetter writes m to its dead-letter topic, retrying as long as Kafka
// refuses (that is Kafka being down: transient) until the consumer stops.
func (c *Consumer) deadLetter(ctx, hctx context.Context, log *slog.Logger, dlq *Producer, m kgo.Message, cause error, attempts int) outcome {
	msg := cause.Error()
	if len(msg) > dlqErrorMax {
		msg = strings.ToValidUTF8(msg[:dlqErrorMax], "")
	}
	headers := append(append(make([]kgo.Header, 0, len(m.Headers)+6), m.Headers...),
		kgo.Header{Key: HeaderDLQTopic, Value: []byte(m.Topic)},
		kgo.Header{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kgo.Header{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kgo.Header{Key: HeaderDLQError, Value: []byte(msg)},
		kgo.Header{Key: HeaderDLQAttempts, Value: []byte(strconv.Itoa(attempts))},
		kgo.Header{Key: HeaderDLQFunction, Value: []byte(c.cfg.Function)},
	)
	dlqTopic := m.Topic + DLQSuffix
	for n := 1; ; n++ {
		err := dlq.write(hctx, kgo.Message{Topic: dlqTopic, Key: m.Key, Value: m.Value, Headers: headers})
		if err == nil {
			c.m.DLQWritesTotal.WithLabelValues(c.cfg.Function, m.Topic).Inc()
			log.Error("message dead-lettered", "dlq_topic", dlqTopic, "attempts", attempts)
			return deadLettered
		}
		if ctx.Err() != nil || hctx.Err() != nil {
			log.Warn("dead-letter write failed while stopping; leaving the message uncommitted", "dlq_topic", dlqTopic, "dlq_error", err)
			return abandoned
		}
		d := backoff(c.cfg.Backoff, c.cfg.TransientMaxBackoff, n)
		log.Warn("dead-letter write failed; retrying", "dlq_topic", dlqTopic, "dlq_error", err, "retry_in", d.String())
		if !sleep.For(ctx, d) {
			return abandoned
		}
	}
}

// backoff is the wait before retry n (1-based): exponential from base,
// capped at ceiling, with full jitter (uniform in [0, that]).
func backoff(base, ceiling time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	if base <= 0 || d > ceiling {
		d = ceiling
	}
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}
