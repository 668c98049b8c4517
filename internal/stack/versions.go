package stack

import (
	_ "embed"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// Versions are the pinned versions of the stack's servers, from versions.env
// (which stack/deps.sh installs): KAFKA_VERSION (an Apache Kafka release, the
// broker jars fetched from Maven Central), MINIO_VERSION and
// PROMETHEUS_VERSION (Go module versions built with go install; Prometheus 3.x
// numbers its module v0.3xx.y).
var Versions = parseVersions(versionsEnv)

func parseVersions(s string) map[string]string {
	v := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k] = val
		}
	}
	return v
}
