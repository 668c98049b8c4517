package platform_test

import (
	"context"
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
)

func TestMain(m *testing.M) {
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
