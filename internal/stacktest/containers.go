//go:build containers

package stacktest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stack"
)

// Containers mode (PHOTOBENCH_STACK=containers, built with -tags containers)
// starts the stack's four servers as containers with testcontainers-go, for
// machines with Docker. The containers use the host's network, so they listen
// on the same loopback ports as the native stack and the environment
// contract is identical; run one test binary at a time (go test -p 1), and
// not beside a running native stack. The images are the ones
// compose/docker-compose.yml names, so the two cannot drift. Ryuk, the
// testcontainers reaper, removes the containers when the test binary exits.
var (
	containersOnce sync.Once
	containersEnv  Env
	containersErr  error
)

func containersMode(t testing.TB) Env {
	t.Helper()
	containersOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		containersEnv, containersErr = startContainers(ctx, RepoRoot(t))
	})
	if containersErr != nil {
		t.Fatalf("PHOTOBENCH_STACK=containers: %v", containersErr)
	}
	return containersEnv
}

// startContainers starts the stack's servers as containers on the host's
// network (root is the repository, for the compose file's images), waits
// until they answer, provisions them, and returns their environment.
func startContainers(ctx context.Context, root string) (Env, error) {
	dir, err := os.MkdirTemp("", "photobench-containers-")
	if err != nil {
		return Env{}, err
	}
	cfg, err := stack.LoadConfig(os.Getenv, dir)
	if err != nil {
		return Env{}, err
	}
	images, err := composeImages(filepath.Join(root, "compose", "docker-compose.yml"))
	if err != nil {
		return Env{}, err
	}
	if err := os.MkdirAll(cfg.SDDir(), 0o755); err != nil {
		return Env{}, err
	}
	hostNet := testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		hc.NetworkMode = "host"
		hc.Binds = append(hc.Binds, cfg.SDDir()+":"+cfg.SDDir()+":ro")
	})
	for _, s := range containerSpecs(cfg) {
		img, ok := images[s.service]
		if !ok {
			return Env{}, fmt.Errorf("compose file names no image for %s", s.service)
		}
		if _, err := testcontainers.Run(ctx, img, append(s.opts, hostNet)...); err != nil {
			return Env{}, fmt.Errorf("start %s (%s): %w", s.service, img, err)
		}
	}
	if err := stack.WaitReady(ctx, cfg, 2*time.Minute); err != nil {
		return Env{}, err
	}
	if err := stack.Provision(ctx, cfg); err != nil {
		return Env{}, err
	}
	vars := map[string]string{}
	for _, kv := range cfg.Env() {
		vars[kv[0]] = kv[1]
	}
	return envFrom(func(k string) string { return vars[k] }), nil
}

// containerSpec is how to run one service of the stack as a container.
type containerSpec struct {
	service string // its name in the compose file, which gives its image
	opts    []testcontainers.ContainerCustomizer
}

// containerSpecs are the stack's four servers, configured as the native
// stack configures them from cfg.
func containerSpecs(cfg stack.Config) []containerSpec {
	kafkaAddr := fmt.Sprintf("%s:%d", cfg.Host, cfg.KafkaPort)
	ctrlAddr := fmt.Sprintf("%s:%d", cfg.Host, cfg.KafkaControllerPort)
	return []containerSpec{
		{"postgres", []testcontainers.ContainerCustomizer{
			testcontainers.WithEnv(map[string]string{"POSTGRES_USER": cfg.PGUser, "POSTGRES_PASSWORD": cfg.PGPassword, "POSTGRES_DB": cfg.PGDatabase}),
			testcontainers.WithCmd("postgres", "-c", "listen_addresses="+cfg.Host, "-c", fmt.Sprintf("port=%d", cfg.PGPort), "-c", "max_connections=300"),
		}},
		{"kafka", []testcontainers.ContainerCustomizer{
			testcontainers.WithEnv(map[string]string{
				"KAFKA_NODE_ID":                                  "1",
				"KAFKA_PROCESS_ROLES":                            "broker,controller",
				"KAFKA_LISTENERS":                                "PLAINTEXT://" + kafkaAddr + ",CONTROLLER://" + ctrlAddr,
				"KAFKA_ADVERTISED_LISTENERS":                     "PLAINTEXT://" + kafkaAddr,
				"KAFKA_CONTROLLER_LISTENER_NAMES":                "CONTROLLER",
				"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":           "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
				"KAFKA_CONTROLLER_QUORUM_VOTERS":                 "1@" + ctrlAddr,
				"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                "false",
				"KAFKA_NUM_PARTITIONS":                           fmt.Sprint(cfg.KafkaPartitions),
				"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
				"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
				"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
				"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
				"KAFKA_HEAP_OPTS":                                fmt.Sprintf("-Xms%dm -Xmx%dm", cfg.KafkaHeapMB, cfg.KafkaHeapMB),
			}),
		}},
		{"minio", []testcontainers.ContainerCustomizer{
			testcontainers.WithEnv(map[string]string{
				"MINIO_ROOT_USER":            cfg.S3AccessKey,
				"MINIO_ROOT_PASSWORD":        cfg.S3SecretKey,
				"MINIO_BROWSER":              "off",
				"MINIO_PROMETHEUS_AUTH_TYPE": "public",
				"MINIO_NOTIFY_KAFKA_ENABLE_" + stack.MinIONotifyTarget:    "on",
				"MINIO_NOTIFY_KAFKA_BROKERS_" + stack.MinIONotifyTarget:   kafkaAddr,
				"MINIO_NOTIFY_KAFKA_TOPIC_" + stack.MinIONotifyTarget:     deploy.TopicObjects,
				"MINIO_NOTIFY_KAFKA_QUEUE_DIR_" + stack.MinIONotifyTarget: "/data/.events",
			}),
			testcontainers.WithCmd("server", "--address", fmt.Sprintf("%s:%d", cfg.Host, cfg.MinIOPort), "/data"),
		}},
		{"prometheus", []testcontainers.ContainerCustomizer{
			testcontainers.WithFiles(testcontainers.ContainerFile{
				Reader:            strings.NewReader(stack.PrometheusConfig(cfg)),
				ContainerFilePath: "/etc/prometheus/photobench.yml",
				FileMode:          0o644,
			}),
			testcontainers.WithCmd("--config.file=/etc/prometheus/photobench.yml",
				fmt.Sprintf("--web.listen-address=%s:%d", cfg.Host, cfg.PrometheusPort), "--web.enable-lifecycle"),
		}},
	}
}

var defaultedVar = regexp.MustCompile(`^\$\{([A-Z0-9_]+):-(.+)\}$`)

// composeImages maps each compose service to its image, resolving
// ${VAR:-default} as compose does: VAR's value when set, else the default.
func composeImages(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	m := map[string]string{}
	for name, s := range f.Services {
		img := s.Image
		if sub := defaultedVar.FindStringSubmatch(img); sub != nil {
			img = sub[2]
			if v := os.Getenv(sub[1]); v != "" {
				img = v
			}
		}
		m[name] = img
	}
	return m, nil
}
