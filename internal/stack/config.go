// Package stack starts, checks and stops photobench's native service stack:
// PostgreSQL, Apache Kafka (single-node KRaft), MinIO and Prometheus, each a
// real server run as a local process on loopback with its data under one
// directory (.stack/ by default).
//
// Machines without a container engine (the development machines and CI) run
// these processes directly; compose/docker-compose.yml describes the same
// services for machines with Docker. Both honour the same environment
// contract, written by Up to <dir>/env.
//
// Run (command.go) is `photobench stack`: up, down, status, exec and clean.
package stack

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/atomicfile"
)

// Default loopback ports. They are deliberately not the services' own
// defaults, so a PostgreSQL on 5432 or a Prometheus on 9090 that a user already
// runs does not collide with the benchmark's.
const (
	DefaultPGPort              = 15432
	DefaultKafkaPort           = 19092
	DefaultKafkaControllerPort = 19093
	DefaultMinIOPort           = 19000
	DefaultPrometheusPort      = 19090
	DefaultMonolithPort        = 18080
	DefaultVisionPort          = 18081
	DefaultMonolithAsyncPort   = 18082
	DefaultRuntimePort         = 18096
)

// MinIONotifyTarget is the identifier of MinIO's Kafka notification target;
// it appears in the target's ARN, arn:minio:sqs::PHOTOBENCH:kafka. The
// topics and buckets the stack creates are the event-driven app's
// (package eventdriven/deploy).
const MinIONotifyTarget = "PHOTOBENCH"

// Config says where the stack lives, which binaries it runs and on which
// ports. Build it with LoadConfig.
type Config struct {
	// Dir is the stack's state directory: data, logs, pid files, the env file.
	Dir string
	// BinDir holds the minio and prometheus binaries that `make deps` builds.
	BinDir string
	// KafkaLibDir holds the Kafka broker's jars that `make deps` fetches.
	KafkaLibDir string
	// PGBinDir holds PostgreSQL's initdb and postgres (Debian: /usr/lib/postgresql/N/bin).
	PGBinDir string
	// PGDataDir is the PostgreSQL cluster's data directory. It is under Dir
	// (data/postgres) unless photobench runs as root: then the server runs
	// as the postgres system user, who may not be able to enter the clone
	// (a home directory is mode 0700), so the cluster lives under that
	// user's home instead, keyed by Dir (see PGDataDirFor).
	PGDataDir string
	// Java is the java launcher that runs the Kafka broker.
	Java string

	// Host is the loopback address every service listens on.
	Host string

	PGPort              int
	KafkaPort           int
	KafkaControllerPort int
	MinIOPort           int
	PrometheusPort      int

	PGUser     string
	PGPassword string
	PGDatabase string

	S3AccessKey string
	S3SecretKey string

	// KafkaHeapMB bounds the broker's JVM heap (-Xms and -Xmx).
	KafkaHeapMB int
	// KafkaPartitions is the partition count of each event topic; it caps how
	// many replicas of a consumer function can share the work.
	KafkaPartitions int

	// MinIONotifyQueue makes MinIO stage notifications in a queue directory
	// on disk before sending them to Kafka, so events survive a Kafka outage.
	// The price is latency: MinIO sends staged events from a loop that lists
	// the directory every 3 s, so each event waits 0-3 s (1.5 s on average).
	// Without it (the default) events go to Kafka at once but are lost while
	// Kafka is down, or when MinIO dies between a PUT's answer and the
	// publish; the event-driven app's reconciler (a timer-triggered
	// function) publishes those again.
	MinIONotifyQueue bool

	// AppBinary is the photobench executable that runs the apps (vision
	// service, the two monoliths); empty means Up starts the servers only.
	AppBinary string
	// VisionPort, MonolithPort and MonolithAsyncPort (the monolith in
	// async mode) are the apps' ports; FunctionPorts the event-driven
	// functions' (deploy.Ports, each overridable).
	VisionPort, MonolithPort, MonolithAsyncPort int
	FunctionPorts                               map[string]int
	// VisionSeed seeds the vision service's latency and error draws
	// (PHOTOBENCH_VISION_SEED, default 1): restarted with the same seed, it
	// draws the same sequence in request order.
	VisionSeed int
	// RuntimePort is the scale-to-zero runtime's /healthz and /metrics;
	// RuntimePinned runs one replica of every function instead of scaling
	// (PHOTOBENCH_RUNTIME_PINNED=on, for comparison).
	RuntimePort   int
	RuntimePinned bool
	// AppInstance, when set, names a second set of apps run beside the
	// stack's (on other ports): their pid files, logs and scrape
	// registrations get "-<AppInstance>" so that neither set touches the
	// other's (photobench bench's tests).
	AppInstance string
	// RunID, when set, gives the monoliths a database, a data directory and
	// a bucket of that run's own (monolith_<RunID>, ...; see CheckRunID and
	// RunResources), which DropRun removes: photobench bench starts every
	// run from empty state this way.
	RunID string
	// AuthSecret signs the apps' bearer tokens (PHOTOBENCH_AUTH_SECRET).
	AuthSecret string
	// MonolithStorage is passed to the monolith as --storage when set
	// (PHOTOBENCH_MONOLITH_STORAGE: disk or s3, which the monolith checks);
	// empty leaves the monolith's default, disk.
	MonolithStorage string

	// ReadyTimeout bounds how long Up waits for one service to become ready.
	ReadyTimeout time.Duration
}

// LoadConfig builds a Config from the environment. dir is the default state
// directory (used when PHOTOBENCH_STACK_DIR is unset); it is made absolute.
// Every malformed variable is reported in one error.
func LoadConfig(getenv func(string) string, dir string) (Config, error) {
	e := &envReader{getenv: getenv}
	c := Config{
		Dir:                 e.str("PHOTOBENCH_STACK_DIR", dir),
		Java:                e.str("PHOTOBENCH_JAVA", "java"),
		Host:                "127.0.0.1",
		PGPort:              e.num("PHOTOBENCH_PG_PORT", DefaultPGPort, 1, 65535),
		KafkaPort:           e.num("PHOTOBENCH_KAFKA_PORT", DefaultKafkaPort, 1, 65535),
		KafkaControllerPort: e.num("PHOTOBENCH_KAFKA_CONTROLLER_PORT", DefaultKafkaControllerPort, 1, 65535),
		MinIOPort:           e.num("PHOTOBENCH_MINIO_PORT", DefaultMinIOPort, 1, 65535),
		PrometheusPort:      e.num("PHOTOBENCH_PROMETHEUS_PORT", DefaultPrometheusPort, 1, 65535),
		PGUser:              "photobench",
		PGPassword:          "photobench",
		PGDatabase:          "photobench",
		S3AccessKey:         "photobench",
		S3SecretKey:         "photobench-secret",
		KafkaHeapMB:         e.num("PHOTOBENCH_KAFKA_HEAP_MB", 512, 128, 16384),
		KafkaPartitions:     e.num("PHOTOBENCH_KAFKA_PARTITIONS", 4, 1, 256),
		MinIONotifyQueue:    e.boolean("PHOTOBENCH_MINIO_NOTIFY_QUEUE", false),
		VisionPort:          e.num("PHOTOBENCH_VISION_PORT", DefaultVisionPort, 1, 65535),
		MonolithPort:        e.num("PHOTOBENCH_MONOLITH_PORT", DefaultMonolithPort, 1, 65535),
		MonolithAsyncPort:   e.num("PHOTOBENCH_MONOLITH_ASYNC_PORT", DefaultMonolithAsyncPort, 1, 65535),
		VisionSeed:          e.num("PHOTOBENCH_VISION_SEED", 1, 1, math.MaxInt32),
		AuthSecret:          string(auth.SecretFromEnv(getenv)),
		MonolithStorage:     e.str("PHOTOBENCH_MONOLITH_STORAGE", ""),
		FunctionPorts:       map[string]int{},
		RuntimePort:         e.num("PHOTOBENCH_RUNTIME_PORT", DefaultRuntimePort, 1, 65535),
		RuntimePinned:       e.boolean("PHOTOBENCH_RUNTIME_PINNED", false),
		ReadyTimeout:        time.Duration(e.num("PHOTOBENCH_READY_TIMEOUT_SECONDS", 90, 1, 3600)) * time.Second,
	}
	for name, def := range deploy.Ports { // each overridable as PHOTOBENCH_<NAME>_PORT
		c.FunctionPorts[name] = e.num("PHOTOBENCH_"+strings.ToUpper(name)+"_PORT", def, 1, 65535)
	}
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("PHOTOBENCH_STACK_DIR=%q: %v", c.Dir, err))
	}
	c.Dir = abs
	c.BinDir = absOr(e.str("PHOTOBENCH_STACK_BIN_DIR", filepath.Join(c.Dir, "bin")))
	c.KafkaLibDir = absOr(e.str("PHOTOBENCH_KAFKA_LIB_DIR", filepath.Join(c.Dir, "lib", "kafka")))
	c.PGBinDir = e.str("PHOTOBENCH_PG_BIN_DIR", findPGBinDir())
	c.PGDataDir = absOr(e.str("PHOTOBENCH_PG_DATA_DIR", PGDataDirFor(c.Dir, os.Geteuid(), postgresHome())))

	problems := append(e.problems, c.portClashes()...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return c, errors.New("stack config: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// envReader reads settings from the environment, with defaults, and
// collects every malformed one as a problem.
type envReader struct {
	getenv   func(string) string
	problems []string
}

// str is the variable name, or def when unset or blank.
func (e *envReader) str(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// num is the integer variable name, or def when unset; outside [min, max]
// or not an integer it is a problem, and def.
func (e *envReader) num(name string, def, min, max int) int {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q: want an integer in [%d, %d]", name, v, min, max))
		return def
	}
	return n
}

// boolean is the on/off variable name, or def when unset; anything else
// is a problem, and def.
func (e *envReader) boolean(name string, def bool) bool {
	switch v := strings.ToLower(strings.TrimSpace(e.getenv(name))); v {
	case "":
		return def
	case "1", "true", "on", "yes":
		return true
	case "0", "false", "off", "no":
		return false
	default:
		e.problems = append(e.problems, fmt.Sprintf("%s=%q: want on or off", name, v))
		return def
	}
}

// portClashes names every port configured for more than one service.
func (c Config) portClashes() []string {
	var problems []string
	ports := map[int][]string{}
	for _, p := range append(c.Ports(), c.appPorts()...) {
		ports[p.Port] = append(ports[p.Port], p.Name)
	}
	for port, names := range ports {
		if len(names) > 1 {
			problems = append(problems, fmt.Sprintf("port %d is configured for %s", port, strings.Join(names, " and ")))
		}
	}
	return problems
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// findPGBinDir returns the newest /usr/lib/postgresql/N/bin holding a postgres
// binary (Debian's layout), or "" when there is none.
func findPGBinDir() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	best, bestVer := "", -1
	for _, m := range matches {
		ver, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m))))
		if err == nil && ver > bestVer {
			best, bestVer = filepath.Dir(m), ver
		}
	}
	return best
}

// PortUse names one port the stack listens on and the service that owns it.
type PortUse struct {
	Service string
	Name    string
	Port    int
}

// Ports lists every port the stack listens on.
func (c Config) Ports() []PortUse {
	return []PortUse{
		{"postgres", "PHOTOBENCH_PG_PORT", c.PGPort},
		{"kafka", "PHOTOBENCH_KAFKA_PORT", c.KafkaPort},
		{"kafka", "PHOTOBENCH_KAFKA_CONTROLLER_PORT", c.KafkaControllerPort},
		{"minio", "PHOTOBENCH_MINIO_PORT", c.MinIOPort},
		{"prometheus", "PHOTOBENCH_PROMETHEUS_PORT", c.PrometheusPort},
	}
}

func (c Config) addr(port int) string { return fmt.Sprintf("%s:%d", c.Host, port) }

// PGDSN is the connection string of the project's database.
func (c Config) PGDSN() string { return c.pgDSN(c.PGDatabase) }

func (c Config) pgDSN(db string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", c.PGUser, c.PGPassword, c.addr(c.PGPort), db)
}

// KafkaBrokers is the bootstrap address list of the Kafka broker.
func (c Config) KafkaBrokers() string { return c.addr(c.KafkaPort) }

// S3Endpoint is MinIO's S3 API base URL.
func (c Config) S3Endpoint() string { return "http://" + c.addr(c.MinIOPort) }

// PrometheusURL is Prometheus's base URL.
func (c Config) PrometheusURL() string { return "http://" + c.addr(c.PrometheusPort) }

// SDDir is the directory of Prometheus file-based service discovery files;
// processes register their /metrics endpoints there (see package promsd).
func (c Config) SDDir() string { return filepath.Join(c.Dir, "prometheus", "targets") }

// DataDirs lists where each server keeps its data, in start order.
func (c Config) DataDirs() [][2]string {
	return [][2]string{
		{"postgres", c.PGDataDir},
		{"kafka", kafka{}.dataDir(c)},
		{"minio", minio{}.dataDir(c)},
		{"prometheus", prometheus{}.dataDir(c)},
	}
}

// EnvFile is the path of the shell-sourceable environment file Up writes.
func (c Config) EnvFile() string { return filepath.Join(c.Dir, "env") }

// Topics lists the Kafka topics the stack creates, with their partition counts.
// Each event topic has a dead-letter twin (<topic>.dlq) with one partition:
// dead letters are rare and read by people, not scaled consumers.
func (c Config) Topics() []Topic {
	var ts []Topic
	for _, name := range deploy.Topics {
		ts = append(ts, Topic{Name: name, Partitions: c.KafkaPartitions}, Topic{Name: name + ".dlq", Partitions: 1})
	}
	return ts
}

// Topic is a Kafka topic the stack creates.
type Topic struct {
	Name       string
	Partitions int
}

// Env is the environment contract other processes read: the same names
// whether the stack runs natively or in containers.
func (c Config) Env() [][2]string {
	return [][2]string{
		{"PHOTOBENCH_PG_DSN", c.PGDSN()},
		{"PHOTOBENCH_KAFKA_BROKERS", c.KafkaBrokers()},
		{"PHOTOBENCH_S3_ENDPOINT", c.S3Endpoint()},
		{"PHOTOBENCH_S3_ACCESS_KEY", c.S3AccessKey},
		{"PHOTOBENCH_S3_SECRET_KEY", c.S3SecretKey},
		{"PHOTOBENCH_PROMETHEUS_URL", c.PrometheusURL()},
		{"PHOTOBENCH_PROMETHEUS_SD_DIR", c.SDDir()},
		{"PHOTOBENCH_STACK_DIR", c.Dir},
	}
}

// writeEnvFile writes the env contract as `export NAME='value'` lines,
// atomically, so a reader never sources half a file. It holds the auth
// secret and MinIO's keys, so it is readable by its owner only (0600): the
// rename replaces a file of another mode, such as the 0644 of older
// versions.
func (c Config) writeEnvFile(withApps bool) error {
	var b strings.Builder
	b.WriteString("# Written by `photobench stack up`; source it: . " + c.EnvFile() + "\n")
	env := c.Env()
	if withApps {
		env = append(env, c.AppEnv()...)
	}
	for _, kv := range env {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return atomicfile.Write(c.EnvFile(), []byte(b.String()), 0o600)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
