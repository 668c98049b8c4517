package chaos

import (
	"bufio"
	"strings"
	"testing"
)

// sumSamples adds every label set of one metric and no other metric,
// and says so when the metric is absent.
func TestSumSamples(t *testing.T) {
	text := `# HELP photobench_events_in_flight Messages being handled now.
# TYPE photobench_events_in_flight gauge
photobench_events_in_flight{function="thumbnailer"} 2
photobench_events_in_flight_total 40
photobench_events_in_flight{function="catalog",note="a } b"} 1
photobench_http_in_flight_requests 1
`
	got, err := sumSamples(bufio.NewScanner(strings.NewReader(text)), "photobench_events_in_flight", "test")
	if err != nil || got != 3 {
		t.Errorf("events in flight = %d, %v; want 3", got, err)
	}
	got, err = sumSamples(bufio.NewScanner(strings.NewReader(text)), "photobench_http_in_flight_requests", "test")
	if err != nil || got != 1 {
		t.Errorf("http in flight = %d, %v; want 1", got, err)
	}
	got, err = sumSamples(bufio.NewScanner(strings.NewReader(text)), `photobench_events_in_flight{function="thumbnailer"}`, "test")
	if err != nil || got != 2 {
		t.Errorf("the thumbnailer's series = %d, %v; want 2", got, err)
	}
	if _, err := sumSamples(bufio.NewScanner(strings.NewReader(text)), "photobench_runtime_in_flight_requests", "test"); err == nil {
		t.Error("an absent metric read as 0")
	}
}

// The photo id of an original's name, a thumbnail's name and a key's
// rest, lower case; other names have none.
func TestPhotoIDPrefix(t *testing.T) {
	const id = "0193b6a4-7c2e-7d3f-8a1b-2c3d4e5f6a7b"
	for name, want := range map[string]string{
		id: id, strings.ToUpper(id): id, id + "-small.jpg": id, id + "/large.jpg": id,
		"tmp-123": "", "": "", "0193b6a4-7c2e-7d3f-8a1b-2c3d4e5f6a7": "",
	} {
		if got := photoIDPrefix(name); got != want {
			t.Errorf("photoIDPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}
