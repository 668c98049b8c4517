package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/notification"
	"github.com/photobench/photobench/eventdriven/deploy"
)

// minio runs a single-drive MinIO server whose `originals` bucket publishes
// object notifications to Kafka through MinIO's own Kafka target. MinIO is
// AGPL: it runs as a separate, unmodified server built by `make deps`;
// photobench imports none of its server code, only the Apache-2.0 client.
type minio struct{}

func (minio) name() string { return "minio" }

func (minio) endpoint(c Config) string { return c.S3Endpoint() }

func (minio) stopSignal() syscall.Signal { return syscall.SIGTERM }

func (minio) bin(c Config) string { return filepath.Join(c.BinDir, "minio") }

func (m minio) check(c Config) error {
	if _, err := os.Stat(m.bin(c)); err != nil {
		return fmt.Errorf("binary %s not found (run make deps)", m.bin(c))
	}
	return nil
}

func (minio) prepare(ctx context.Context, c Config) error {
	return os.MkdirAll(filepath.Join(c.Dir, "data", "minio-events"), 0o755)
}

func (minio) dataDir(c Config) string { return filepath.Join(c.Dir, "data", "minio") }

func (m minio) command(c Config) (*exec.Cmd, error) {
	cmd := exec.Command(m.bin(c), "server", "--quiet", "--address", c.addr(c.MinIOPort), m.dataDir(c))
	id := MinIONotifyTarget
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+c.S3AccessKey,
		"MINIO_ROOT_PASSWORD="+c.S3SecretKey,
		"MINIO_BROWSER=off", // no web console: not needed, saves memory
		"MINIO_UPDATE=off",
		"MINIO_PROMETHEUS_AUTH_TYPE=public", // Prometheus scrapes without a token
		"MINIO_NOTIFY_KAFKA_ENABLE_"+id+"=on",
		"MINIO_NOTIFY_KAFKA_BROKERS_"+id+"="+c.KafkaBrokers(),
		"MINIO_NOTIFY_KAFKA_TOPIC_"+id+"="+deploy.TopicObjects,
	)
	if c.MinIONotifyQueue {
		// Staged on disk, delivered once Kafka is back after an outage; see
		// Config.MinIONotifyQueue for the latency this costs.
		cmd.Env = append(cmd.Env, "MINIO_NOTIFY_KAFKA_QUEUE_DIR_"+id+"="+filepath.Join(c.Dir, "data", "minio-events"))
	}
	return cmd, nil
}

func (minio) ready(ctx context.Context, c Config) error {
	return httpOK(ctx, c.S3Endpoint()+"/minio/health/ready")
}

// NotifyARN is the ARN of MinIO's Kafka notification target.
func NotifyARN() notification.Arn {
	return notification.NewArn("minio", "sqs", "", MinIONotifyTarget, "kafka")
}

func (minio) setup(ctx context.Context, c Config) error {
	client, err := miniogo.New(c.addr(c.MinIOPort), &miniogo.Options{
		Creds: credentials.NewStaticV4(c.S3AccessKey, c.S3SecretKey, ""),
	})
	if err != nil {
		return err
	}
	for _, b := range deploy.Buckets {
		ok, err := client.BucketExists(ctx, b)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", b, err)
		}
		if !ok {
			if err := client.MakeBucket(ctx, b, miniogo.MakeBucketOptions{}); err != nil {
				return fmt.Errorf("make bucket %s: %w", b, err)
			}
		}
	}
	q := notification.NewConfig(NotifyARN())
	q.AddEvents(notification.ObjectCreatedAll, notification.ObjectRemovedAll)
	var cfg notification.Configuration
	cfg.AddQueue(q)
	if err := client.SetBucketNotification(ctx, deploy.BucketOriginals, cfg); err != nil {
		return fmt.Errorf("notifications of bucket %s to %s: %w", deploy.BucketOriginals, NotifyARN(), err)
	}
	return nil
}
