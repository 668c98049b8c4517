package platform_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
)

// Environment of a test replica: the test binary re-executed as a small
// but real consumer replica speaking the replica protocol.
const (
	envReplica    = "PLATFORM_TEST_REPLICA"     // set: run as a replica
	envName       = "PLATFORM_TEST_NAME"        // function name in the protocol lines
	envBrokers    = "PLATFORM_TEST_BROKERS"     // comma-separated
	envTopic      = "PLATFORM_TEST_TOPIC"       // the one topic consumed
	envGroup      = "PLATFORM_TEST_GROUP"       // consumer group
	envOut        = "PLATFORM_TEST_OUT"         // file receiving "partition offset pid" per handled message
	envDelay      = "PLATFORM_TEST_DELAY"       // handling time per message, a Go duration
	envIgnoreTerm = "PLATFORM_TEST_IGNORE_TERM" // set: ignore SIGTERM (only SIGKILL stops it)
	// envFn, when set, makes the replica a real event function process
	// (kafka.RunFunction, as `photobench fn` runs one) whose handler
	// behaves as its value says (fnReplicaMain); it records "begin ID PID"
	// and "done ID PID" lines in envOut.
	envFn = "PLATFORM_TEST_FN"
)

// Handler behaviours of an envFn replica.
const (
	fnSlow       = "slow"        // take envDelay, ignoring cancellation
	fnUntilStop  = "until-stop"  // run until the handler's ctx is cancelled, then fail
	fnWedgeFirst = "wedge-first" // the first delivery of all (a marker file says) blocks for good
	fnExit       = "exit"        // the process exits at once with status 1
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envFn); mode != "" {
		if err := fnReplicaMain(mode); err != nil {
			fmt.Fprintln(os.Stderr, "test fn replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(envReplica) != "" {
		if err := replicaMain(); err != nil {
			fmt.Fprintln(os.Stderr, "test replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// replicaMain is a test replica: it serves /healthz, prints its listening
// line, consumes its topic recording every handled offset, prints the
// first-event line once, and stops gracefully on SIGTERM.
func replicaMain() error {
	name := os.Getenv(envName)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if os.Getenv(envIgnoreTerm) != "" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
		defer cancel()
	}
	delay, err := time.ParseDuration(os.Getenv(envDelay))
	if err != nil {
		delay = 0
	}
	out, err := os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	var (
		mu    sync.Mutex
		first sync.Once
	)
	c, err := kafka.NewConsumer(kafka.ConsumerConfig{
		Brokers:  strings.Split(os.Getenv(envBrokers), ","),
		Group:    os.Getenv(envGroup),
		Topics:   []string{os.Getenv(envTopic)},
		Function: name,
	}, func(ctx context.Context, m *kafka.Message) error {
		time.Sleep(delay)
		mu.Lock()
		defer mu.Unlock()
		if _, err := fmt.Fprintf(out, "%d %d %d\n", m.Partition, m.Offset, os.Getpid()); err != nil {
			return err
		}
		first.Do(func() { fmt.Printf("%s first event handled\n", name) })
		return nil
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Printf("%s listening on http://%s\n", name, ln.Addr())
	return c.Run(ctx)
}

// fnReplicaMain runs a real event function process (kafka.RunFunction:
// the consumer with its delivery policy, the shutdown budget from
// deploy.EnvStopGrace, /healthz with the liveness tracker) over the test
// topic, with a handler that behaves as mode says.
func fnReplicaMain(mode string) error {
	out, err := os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Fprintf(out, "start %d %d\n", time.Now().UnixNano(), os.Getpid())
	if mode == fnExit {
		return errors.New("exiting at once, as asked")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	delay, _ := time.ParseDuration(os.Getenv(envDelay))
	getenv := func(k string) string {
		if k == "PHOTOBENCH_KAFKA_BROKERS" {
			return os.Getenv(envBrokers)
		}
		return os.Getenv(k)
	}
	a, err := deploy.ParseArgs([]string{"catalog", "--addr", "127.0.0.1:0", "--group", os.Getenv(envGroup)}, getenv, os.Stderr)
	if err != nil {
		return err
	}
	name := os.Getenv(envName)
	a.Function = deploy.Function{Name: name, Trigger: deploy.TriggerEvent, In: []string{os.Getenv(envTopic)}}
	var mu sync.Mutex
	record := func(what, id string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s %s %d\n", what, id, os.Getpid())
	}
	marker := os.Getenv(envOut) + ".wedged"
	h := func(ctx context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
		id := d.Event.ID
		record("begin", id)
		switch mode {
		case fnSlow:
			time.Sleep(delay)
		case fnUntilStop:
			<-ctx.Done()
			return eventdriven.Result{}, eventdriven.Transient(context.Cause(ctx))
		case fnWedgeFirst:
			if f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
				f.Close()
				select {} // wedged: ignores its ctx, as a stuck call would
			}
		}
		record("done", id)
		return eventdriven.Result{}, nil
	}
	return kafka.RunFunction(ctx, a, os.Stdout, os.Stderr, func(context.Context, deploy.Deps) (eventdriven.Handler, func(), error) {
		return h, nil, nil
	})
}
