package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	// Middleware wraps the handler inside the delivery policy (so a panic
	// or error in it is retried like the handler's own), the first
	// outermost; e.g. OnFirstSuccess.
	Middleware []Middleware
}

// Consumer runs a Handler over a consumer group's messages, one message at
// a time, so order within a partition is kept. It fetches and commits; what
// happens to a message in between is its middleware chain:
//
//	Measure(DeadLetter(Retry(Recover(cfg.Middleware...(handler)))))
//
// so a handler's error is retried by its kind, then dead-lettered, and
// every acknowledged message is counted.
type Consumer struct {
	cfg ConsumerConfig
	h   Handler
	log *slog.Logger
	m   *Metrics
	dlq *Producer
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
	cfg.Middleware = append([]Middleware(nil), cfg.Middleware...)
	log := cfg.Log.With("component", "kafka.consumer", "function", cfg.Function, "group", cfg.Group)
	c := &Consumer{cfg: cfg, log: log, m: cfg.Metrics, dlq: NewProducer(cfg.Brokers, ProducerOptions{})}
	p := c.retryPolicy()
	policy := []Middleware{
		Measure(cfg.Function, c.m),
		DeadLetter(cfg.Function, c.dlq, p, log, c.m),
		Retry(cfg.Function, p, log, c.m),
		Recover(log),
	}
	c.h = Chain(h, append(policy, cfg.Middleware...)...)
	return c, nil
}

// retryPolicy is the consumer's retry policy, from its configuration.
func (c *Consumer) retryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: c.cfg.MaxAttempts, Backoff: c.cfg.Backoff, MaxBackoff: c.cfg.MaxBackoff, TransientMaxBackoff: c.cfg.TransientMaxBackoff}
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
// the middleware chain, commit, one message at a time, so order within a
// partition is kept.
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
// covers it). Run returns an error if the commit of the last message
// failed, if the reader closed under it, or if the chain returned an error
// while not stopping (only a chain without Retry and DeadLetter does): the
// message is then left uncommitted and the consumer stops, since nothing
// after it on its partition may be committed first.
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
			d := sleep.Backoff(c.cfg.Backoff, c.cfg.TransientMaxBackoff, fetchFailures)
			c.log.Warn("fetch failed; retrying", "error", err, "retry_in", d.String())
			sleep.For(ctx, d)
			continue
		}
		fetchFailures = 0
		if err := c.process(ctx, r, m); err != nil {
			if errors.Is(err, errLeft) {
				if ctx.Err() == nil {
					runErr = err
				}
				break // nothing after it may be committed
			}
			if ctx.Err() != nil {
				runErr = err
			}
		}
	}
	start := time.Now()
	if err := r.Close(); err != nil {
		c.log.Warn("close reader", "error", err)
	}
	if err := c.dlq.Close(); err != nil {
		c.log.Warn("close dead-letter producer", "error", err)
	}
	c.log.Info("consumer stopped", "close_seconds", time.Since(start).Seconds())
	return runErr
}

// errLeft reports a message the chain left uncommitted.
var errLeft = errors.New("left uncommitted")

// process runs one message through the chain and commits it. It returns
// the commit's error, or one wrapping errLeft.
func (c *Consumer) process(ctx context.Context, r *kgo.Reader, m kgo.Message) error {
	hctx, cancel := c.handlerContext(ctx)
	defer cancel(nil)
	if err := c.h(hctx, &Message{Message: m, stopping: ctx}); err != nil {
		messageLog(c.log, m).Info("message left uncommitted; it will be redelivered", "error", err)
		return fmt.Errorf("%s/%d@%d %w: %w", m.Topic, m.Partition, m.Offset, errLeft, err)
	}
	if err := r.CommitMessages(hctx, m); err != nil {
		// A later commit on the partition covers this one; if none comes
		// (a rebalance, a stop) the message is redelivered: at-least-once.
		messageLog(c.log, m).Error("commit failed; the message may be redelivered", "error", err)
		return fmt.Errorf("commit %s/%d@%d: %w", m.Topic, m.Partition, m.Offset, err)
	}
	return nil
}

// messageLog is log naming m. It is made only when there is something to
// log: a message handled at the first try logs nothing.
func messageLog(log *slog.Logger, m kgo.Message) *slog.Logger {
	return log.With("topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
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
