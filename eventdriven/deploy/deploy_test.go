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

// functions.yaml and the registry describe the same functions: every
// scaled function of one is in the other, with the same trigger, consumer
// group and topics; every topic a function reads or writes is created.
func TestFunctionsYAMLAgreesWithTheRegistry(t *testing.T) {
	cfg, err := platform.ParseConfig(deploy.Functions)
	if err != nil {
		t.Fatal(err)
	}
	inYAML := map[string]bool{}
	for _, f := range cfg.Functions {
		inYAML[f.Name] = true
		r, ok := deploy.Lookup(f.Name)
		if !ok {
			t.Errorf("functions.yaml runs %s, which the registry does not know", f.Name)
			continue
		}
		if string(f.Kind) != string(r.Trigger) {
			t.Errorf("%s: kind %s in functions.yaml, trigger %s in the registry", f.Name, f.Kind, r.Trigger)
		}
		if scheduled := f.Schedule.Duration > 0; scheduled != r.Timer {
			t.Errorf("%s: schedule %v in functions.yaml, timer %v in the registry", f.Name, f.Schedule.Duration, r.Timer)
		}
		if f.Kind == platform.KindEvent && (f.Group != r.Name || !slices.Equal(f.Topics, r.In)) {
			t.Errorf("%s: group %q topics %v in functions.yaml, want %q %v", f.Name, f.Group, f.Topics, r.Name, r.In)
		}
	}
	for _, r := range deploy.Registry {
		if r.Trigger != deploy.TriggerNone && !inYAML[r.Name] {
			t.Errorf("the registry's %s function is not in functions.yaml", r.Name)
		}
		for _, topic := range append(slices.Clone(r.In), r.Out) {
			if topic != "" && !slices.Contains(deploy.Topics, topic) {
				t.Errorf("%s uses topic %q, which is not created (deploy.Topics)", r.Name, topic)
			}
		}
	}
}
