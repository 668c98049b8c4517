package deploy_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/platform"
)

// functions.yaml names topics too (each event function's trigger): they
// must be the registry's, and every topic must have a consumer.
func TestFunctionsConsumeTheRegistrysTopics(t *testing.T) {
	cfg, err := platform.ParseConfig(deploy.Functions)
	if err != nil {
		t.Fatal(err)
	}
	consumed := map[string]bool{}
	for _, f := range cfg.Functions {
		for _, topic := range f.Topics {
			if !slices.Contains(deploy.Topics, topic) {
				t.Errorf("function %s consumes %q, which is not a topic of the registry %v", f.Name, topic, deploy.Topics)
			}
			consumed[topic] = true
		}
	}
	for _, topic := range deploy.Topics {
		if !consumed[topic] {
			t.Errorf("no function consumes topic %s", topic)
		}
	}
}

// functions.yaml's activator addresses are the registry's ports.
func TestHTTPFunctionsListenOnTheRegistrysPorts(t *testing.T) {
	cfg, err := platform.ParseConfig(deploy.Functions)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cfg.Functions {
		if f.Kind != platform.KindHTTP {
			continue
		}
		want := fmt.Sprintf("127.0.0.1:%d", deploy.Ports[f.Name])
		if f.Addr != want {
			t.Errorf("function %s listens on %q in functions.yaml, want %s (deploy.Ports)", f.Name, f.Addr, want)
		}
	}
}
