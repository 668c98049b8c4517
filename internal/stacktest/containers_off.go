//go:build !containers

package stacktest

import "testing"

func containersMode(t testing.TB) Env {
	t.Helper()
	t.Fatal("PHOTOBENCH_STACK=containers needs test binaries built with -tags containers (PHOTOBENCH_STACK=containers make test does that)")
	return Env{}
}
