// Package stacktest gives integration tests the endpoints of the running
// service stack, and helpers to observe it.
//
// Tests read the stack's environment contract (PHOTOBENCH_PG_DSN and the
// rest) from the process environment, as `make test` sets it, or else from
// the .stack/env file that `make up` writes. With neither, the test fails: an
// integration test is never skipped silently.
package stacktest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/stack"
	"github.com/segmentio/kafka-go"
)

// Env is the stack's environment contract.
type Env struct {
	PGDSN         string // PHOTOBENCH_PG_DSN
	KafkaBrokers  string // PHOTOBENCH_KAFKA_BROKERS
	S3Endpoint    string // PHOTOBENCH_S3_ENDPOINT, a URL
	S3AccessKey   string // PHOTOBENCH_S3_ACCESS_KEY
	S3SecretKey   string // PHOTOBENCH_S3_SECRET_KEY
	PrometheusURL string // PHOTOBENCH_PROMETHEUS_URL
	SDDir         string // PHOTOBENCH_PROMETHEUS_SD_DIR
	StackDir      string // PHOTOBENCH_STACK_DIR

	// The apps' part, set when the stack runs the apps (make up, make test).
	MonolithURL string // PHOTOBENCH_MONOLITH_URL
	// MonolithAsyncURL is PHOTOBENCH_MONOLITH_ASYNC_URL.
	MonolithAsyncURL string
	EventDrivenURL   string // PHOTOBENCH_EVENTDRIVEN_URL
	VisionURL        string // PHOTOBENCH_VISION_URL
	CatalogDSN       string // PHOTOBENCH_CATALOG_PG_DSN
	AuthSecret       string // PHOTOBENCH_AUTH_SECRET
}

// Apps fails the test unless the stack runs the apps.
func (e Env) Apps(t testing.TB) {
	t.Helper()
	if e.EventDrivenURL == "" || e.VisionURL == "" || e.AuthSecret == "" || e.CatalogDSN == "" {
		t.Fatal("the stack does not run the apps (no PHOTOBENCH_EVENTDRIVEN_URL, PHOTOBENCH_VISION_URL, PHOTOBENCH_CATALOG_PG_DSN or PHOTOBENCH_AUTH_SECRET): run make test, or make up first")
	}
}

// Load returns the running stack's environment or fails the test. With
// PHOTOBENCH_STACK=containers (and -tags containers) it starts the stack as
// containers instead; see containers.go.
func Load(t testing.TB) Env {
	t.Helper()
	switch mode := os.Getenv("PHOTOBENCH_STACK"); mode {
	case "", "native":
	case "containers":
		return containersMode(t)
	default:
		t.Fatalf("PHOTOBENCH_STACK=%q: want native or containers", mode)
	}
	get := os.Getenv
	if get("PHOTOBENCH_PG_DSN") == "" {
		vars, err := readEnvFile(filepath.Join(RepoRoot(t), ".stack", "env"))
		if err != nil {
			t.Fatalf("the service stack is not running (no PHOTOBENCH_PG_DSN, and %v): run `make test`, or `make up` before go test", err)
		}
		get = func(k string) string { return vars[k] }
	}
	e := envFrom(get)
	for name, v := range map[string]string{"PHOTOBENCH_PG_DSN": e.PGDSN, "PHOTOBENCH_KAFKA_BROKERS": e.KafkaBrokers, "PHOTOBENCH_S3_ENDPOINT": e.S3Endpoint, "PHOTOBENCH_PROMETHEUS_URL": e.PrometheusURL, "PHOTOBENCH_PROMETHEUS_SD_DIR": e.SDDir} {
		if v == "" {
			t.Fatalf("stack environment incomplete: %s is empty", name)
		}
	}
	return e
}

// EnvOf is the environment a stack configured as cfg gives its users (the
// apps' part included), as `stack up` writes it to its env file.
func EnvOf(cfg stack.Config) Env {
	vars := map[string]string{}
	for _, kv := range append(cfg.Env(), cfg.AppEnv()...) {
		vars[kv[0]] = kv[1]
	}
	return envFrom(func(k string) string { return vars[k] })
}

func envFrom(get func(string) string) Env {
	return Env{
		PGDSN:         get("PHOTOBENCH_PG_DSN"),
		KafkaBrokers:  get("PHOTOBENCH_KAFKA_BROKERS"),
		S3Endpoint:    get("PHOTOBENCH_S3_ENDPOINT"),
		S3AccessKey:   get("PHOTOBENCH_S3_ACCESS_KEY"),
		S3SecretKey:   get("PHOTOBENCH_S3_SECRET_KEY"),
		PrometheusURL: get("PHOTOBENCH_PROMETHEUS_URL"),
		SDDir:         get("PHOTOBENCH_PROMETHEUS_SD_DIR"),
		StackDir:      get("PHOTOBENCH_STACK_DIR"),

		MonolithURL:      get("PHOTOBENCH_MONOLITH_URL"),
		MonolithAsyncURL: get("PHOTOBENCH_MONOLITH_ASYNC_URL"),
		EventDrivenURL:   get("PHOTOBENCH_EVENTDRIVEN_URL"),
		VisionURL:        get("PHOTOBENCH_VISION_URL"),
		CatalogDSN:       get("PHOTOBENCH_CATALOG_PG_DSN"),
		AuthSecret:       get("PHOTOBENCH_AUTH_SECRET"),
	}
}

// readEnvFile parses the `export NAME='value'` lines that `stack up` writes.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vars[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
	}
	return vars, sc.Err()
}

// RepoRoot returns the directory holding go.mod, searching up from the
// test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TailTopic returns the messages that arrive on every partition of topic
// after the call, until the test ends. It starts from each partition's
// current end offset, so earlier messages are never seen.
func TailTopic(t testing.TB, brokers, topic string) <-chan kafka.Message {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	client := &kafka.Client{Addr: kafka.TCP(brokers), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		cancel()
		t.Fatalf("tail topic %s: metadata: %v %+v", topic, err, md)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	// A topic just created has leaders in the metadata before its broker
	// serves them: ListOffsets answers "Not Leader For Partition" for a
	// moment (seen in CI). Ask again for up to 30 s.
	var offs *kafka.ListOffsetsResponse
	for deadline := time.Now().Add(30 * time.Second); ; {
		offs, err = client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
		if err != nil {
			cancel()
			t.Fatalf("tail topic %s: list offsets: %v", topic, err)
		}
		var perr error
		for _, po := range offs.Topics[topic] {
			if po.Error != nil {
				perr = fmt.Errorf("partition %d: %w", po.Partition, po.Error)
				break
			}
		}
		if perr == nil {
			break
		}
		if !errors.Is(perr, kafka.NotLeaderForPartition) && !errors.Is(perr, kafka.LeaderNotAvailable) || time.Now().After(deadline) {
			cancel()
			t.Fatalf("tail topic %s %v", topic, perr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := make(chan kafka.Message, 1024)
	done := make(chan struct{}, len(offs.Topics[topic]))
	for _, po := range offs.Topics[topic] {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{brokers}, Topic: topic, Partition: po.Partition,
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond,
		})
		if err := r.SetOffset(po.LastOffset); err != nil {
			cancel()
			t.Fatalf("tail topic %s: %v", topic, err)
		}
		go func() {
			defer func() { r.Close(); done <- struct{}{} }()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	n := len(offs.Topics[topic])
	t.Cleanup(func() {
		cancel()
		for range n {
			<-done
		}
	})
	return out
}

// NativeOnly skips a test of the native stack's own process management when
// the stack runs as containers (PHOTOBENCH_STACK=containers), where there
// are no native processes to manage. CI runs the native stack, so these
// tests always run there.
func NativeOnly(t testing.TB) {
	t.Helper()
	if os.Getenv("PHOTOBENCH_STACK") == "containers" {
		t.Skip("tests the native stack's processes; PHOTOBENCH_STACK=containers")
	}
}

// CreateTopic creates a topic on the stack's Kafka, waits until all its
// partitions have a leader (so that first writes and group assignments do
// not race its creation), and deletes it when the test ends.
func CreateTopic(t testing.TB, brokers []string, name string, partitions int) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: name, NumPartitions: partitions, ReplicationFactor: 1},
	}})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	if err := resp.Errors[name]; err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{name}})
		if err == nil {
			err = resp.Errors[name]
		}
		if err != nil {
			t.Errorf("delete topic %s: %v", name, err)
		}
	})
	led := func() bool {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{name}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) != partitions {
			return false
		}
		for _, p := range md.Topics[0].Partitions {
			if p.Error != nil || p.Leader.ID < 0 {
				return false
			}
		}
		return true
	}
	for !led() {
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s: partitions without a leader after 90 s", name)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LockVision serialises the tests that change the shared stack's vision
// service profile (an outage, a slowdown): test binaries of different
// packages run at once against one stack, and one test's outage must not be
// another's. It blocks until no other test holds the lock (an exclusive
// flock on a file in the stack's directory) and releases it when the test
// ends.
func LockVision(t testing.TB, env Env) {
	t.Helper()
	dir := env.StackDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.OpenFile(filepath.Join(dir, "vision-profile.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("lock the vision profile: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock the vision profile: %v", err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
