package chaos

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stack"
)

// Scratch returns the configuration of a stack of the matrix's own: a
// fresh directory under the system's temporary one, free loopback ports,
// the installed binaries of home (the user's stack, which it never
// touches: make deps put minio, prometheus and the Kafka jars there), and
// appBinary for the apps. cleanup stops whatever still runs there and
// removes the directory and the PostgreSQL cluster.
func Scratch(home stack.Config, appBinary string) (c stack.Config, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "photobench-chaos-")
	if err != nil {
		return c, nil, fmt.Errorf("chaos: %w", err)
	}
	vars := map[string]string{
		"PHOTOBENCH_STACK_DIR":     dir,
		"PHOTOBENCH_STACK_BIN_DIR": home.BinDir,
		"PHOTOBENCH_KAFKA_LIB_DIR": home.KafkaLibDir,
		"PHOTOBENCH_PG_BIN_DIR":    home.PGBinDir,
		"PHOTOBENCH_JAVA":          home.Java,
		"PHOTOBENCH_AUTH_SECRET":   home.AuthSecret,
		"PHOTOBENCH_KAFKA_HEAP_MB": "256",
	}
	names := []string{"PG", "KAFKA", "KAFKA_CONTROLLER", "MINIO", "PROMETHEUS", "VISION", "MONOLITH", "MONOLITH_ASYNC", "RUNTIME"}
	for name := range deploy.Ports {
		names = append(names, strings.ToUpper(name))
	}
	ports, releasePorts, err := stack.FreePorts(len(names))
	if err != nil {
		os.RemoveAll(dir)
		return c, nil, fmt.Errorf("chaos: %w", err)
	}
	for i, name := range names {
		vars["PHOTOBENCH_"+name+"_PORT"] = fmt.Sprint(ports[i])
	}
	c, err = stack.LoadConfig(func(k string) string { return vars[k] }, dir)
	if err != nil {
		releasePorts()
		os.RemoveAll(dir)
		return c, nil, fmt.Errorf("chaos: %w", err)
	}
	c.AppBinary = appBinary
	return c, func() {
		_ = stack.Down(c, nil, io.Discard)
		_ = stack.Clean(c, io.Discard)
		os.RemoveAll(dir)
		releasePorts()
	}, nil
}
