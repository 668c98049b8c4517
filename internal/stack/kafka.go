package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	kgo "github.com/segmentio/kafka-go"
)

// kafka runs a single-node KRaft broker (broker and controller in one JVM)
// from the jars in KafkaLibDir, with the machine's Java 17.
type kafka struct{}

func (kafka) name() string { return "kafka" }

func (kafka) endpoint(c Config) string { return "kafka://" + c.KafkaBrokers() }

func (kafka) stopSignal() syscall.Signal { return syscall.SIGTERM } // controlled shutdown

func (kafka) dataDir(c Config) string { return filepath.Join(c.Dir, "data", "kafka") }

func (kafka) confDir(c Config) string { return filepath.Join(c.Dir, "kafka") }

func (kafka) check(c Config) error {
	jar := filepath.Join(c.KafkaLibDir, "kafka_2.13-"+Versions["KAFKA_VERSION"]+".jar")
	if _, err := os.Stat(jar); err != nil {
		return fmt.Errorf("broker jar %s not found (run make deps)", jar)
	}
	if _, err := exec.LookPath(c.Java); err != nil {
		return fmt.Errorf("java launcher %q not found (install Java 17, or set PHOTOBENCH_JAVA)", c.Java)
	}
	return nil
}

// serverProperties is the broker's configuration. Every non-default value is
// a deliberate benchmark or single-node setting, explained beside it.
func (k kafka) serverProperties(c Config) string {
	lines := []string{
		"# Written by photobench on every `stack up`; edit internal/stack/kafka.go instead.",
		"process.roles=broker,controller",
		"node.id=1",
		fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", c.addr(c.KafkaPort), c.addr(c.KafkaControllerPort)),
		fmt.Sprintf("advertised.listeners=PLAINTEXT://%s", c.addr(c.KafkaPort)),
		"controller.listener.names=CONTROLLER",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		fmt.Sprintf("controller.quorum.bootstrap.servers=%s", c.addr(c.KafkaControllerPort)),
		"log.dirs=" + k.dataDir(c),
		"# The project creates every topic itself with an explicit partition count;",
		"# a typo in a topic name must fail, not silently create a 1-partition topic.",
		"auto.create.topics.enable=false",
		fmt.Sprintf("num.partitions=%d", c.KafkaPartitions),
		"# Single node: internal topics cannot be replicated.",
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=8",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"# The default (3000 ms) holds every new consumer group's first assignment",
		"# for 3 s, waiting for more members to join. Scale-from-zero replicas are",
		"# new group members, so that wait would be charged to every cold start.",
		"group.initial.rebalance.delay.ms=0",
		"log.retention.hours=24",
	}
	return strings.Join(lines, "\n") + "\n"
}

const kafkaLog4j = `# Written by photobench: broker logs to stdout (the stack's log file), INFO and up.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
`

func (k kafka) prepare(ctx context.Context, c Config) error {
	conf := k.confDir(c)
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(conf, "server.properties"), []byte(k.serverProperties(c)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(conf, "log4j.properties"), []byte(kafkaLog4j), 0o644); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(k.dataDir(c), "meta.properties")); err == nil {
		return nil
	}
	// First start: format the log directory as a standalone KRaft quorum.
	cmd := exec.CommandContext(ctx, c.Java, append(k.jvmArgs(c, 256),
		"kafka.tools.StorageTool", "format", "--standalone",
		"--cluster-id", newClusterID(),
		"--config", filepath.Join(conf, "server.properties"))...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(k.dataDir(c))
		return fmt.Errorf("format storage: %v: %s", err, lastLine(string(out)))
	}
	return nil
}

// newClusterID makes a KRaft cluster id: 16 random bytes, URL-safe base64
// without padding, as Kafka's own Uuid prints them.
func newClusterID() string {
	for {
		b := make([]byte, 16)
		rand.Read(b)
		id := base64.RawURLEncoding.EncodeToString(b)
		if id[0] != '-' { // would read as a command-line flag
			return id
		}
	}
}

func (k kafka) jvmArgs(c Config, heapMB int) []string {
	return []string{
		fmt.Sprintf("-Xms%dm", heapMB), fmt.Sprintf("-Xmx%dm", heapMB),
		"-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
		"-Djava.awt.headless=true",
		"-Dlog4j.configuration=file:" + filepath.Join(k.confDir(c), "log4j.properties"),
		"-cp", filepath.Join(c.KafkaLibDir, "*"),
	}
}

func (k kafka) command(c Config) (*exec.Cmd, error) {
	args := append(k.jvmArgs(c, c.KafkaHeapMB), "kafka.Kafka", filepath.Join(k.confDir(c), "server.properties"))
	return exec.Command(c.Java, args...), nil
}

func (kafka) ready(ctx context.Context, c Config) error {
	client := &kgo.Client{Addr: kgo.TCP(c.KafkaBrokers())}
	md, err := client.Metadata(ctx, &kgo.MetadataRequest{})
	if err != nil {
		return err
	}
	if md.Controller.ID < 0 || len(md.Brokers) == 0 {
		return errors.New("no controller elected yet")
	}
	return nil
}

func (kafka) setup(ctx context.Context, c Config) error {
	return createTopics(ctx, c.KafkaBrokers(), c.Topics())
}

// createTopics creates the topics that do not exist yet; existing topics are
// left as they are.
func createTopics(ctx context.Context, brokers string, topics []Topic) error {
	client := &kgo.Client{Addr: kgo.TCP(brokers)}
	req := &kgo.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kgo.TopicConfig{Topic: t.Name, NumPartitions: t.Partitions, ReplicationFactor: 1})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, terr := range resp.Errors {
		if terr != nil && !errors.Is(terr, kgo.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, terr)
		}
	}
	return nil
}
