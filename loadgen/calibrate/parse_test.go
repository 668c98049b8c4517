package calibrate_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen/calibrate"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// The vegeta fixtures are `vegeta report -type json` of vegeta v12.13.0's
// runs: 1000/s for 2 s against `photobench calibrate serve`, 30000/s for 3 s
// (beyond what it keeps up with on a 2-core machine), and 10/s for 1 s with a
// 1 s timeout against a listener that never answers.
func TestCalibrateParseVegetaReport(t *testing.T) {
	tests := []struct {
		file                string
		rate                float64
		d                   time.Duration
		requests, ok, drops uint64
		p50, p99            float64
		achieved            float64
		errors              int
	}{
		{"vegeta-1000.json", 1000, 2 * time.Second, 2000, 2000, 0, 108319e-9, 272155e-9, 1999 / 1.999645417, 0},
		{"vegeta-overload.json", 30000, 3 * time.Second, 44531, 44531, 90000 - 44531, 0.271359191, 1.824872992, 44530 / 3.465450058, 0},
		{"vegeta-timeouts.json", 10, time.Second, 10, 0, 0, 1.000938959, 1.001250553, 9 / 0.900099187, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep, err := calibrate.ParseVegetaReport(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != tt.requests || rep.OK() != tt.ok || len(rep.Errors) != tt.errors {
				t.Errorf("requests %d, ok %d, errors %d; want %d, %d, %d", rep.Requests, rep.OK(), len(rep.Errors), tt.requests, tt.ok, tt.errors)
			}
			m := rep.Measurement(tt.rate, tt.d)
			if m.Tool != calibrate.ToolVegeta || m.Sent != tt.requests || m.OK != tt.ok || m.Errors != tt.requests-tt.ok || m.Dropped != tt.drops {
				t.Errorf("measurement %+v", m)
			}
			if want := uint64(tt.rate * tt.d.Seconds()); m.Scheduled != want {
				t.Errorf("scheduled %d, want %d", m.Scheduled, want)
			}
			if !near(m.LatencyP50, tt.p50) || !near(m.LatencyP99, tt.p99) {
				t.Errorf("latency p50 %g p99 %g, want %g %g", m.LatencyP50, m.LatencyP99, tt.p50, tt.p99)
			}
			if !near(m.AchievedRate, tt.achieved) {
				t.Errorf("achieved %g, want %g", m.AchievedRate, tt.achieved)
			}
			if m.LagP99 != nil || m.ServiceP50 != nil {
				t.Error("vegeta has no schedule lag or service time, but the measurement has")
			}
		})
	}
}

func TestCalibrateParseVegetaReportErrors(t *testing.T) {
	tests := []struct{ name, input string }{
		{"empty", ""},
		{"text report", "Requests      [total, rate, throughput]         2000, 1000.18, 1000.11\n"},
		{"other JSON", `{"requests": 5}`},
		{"success out of range", `{"requests": 5, "success": 2, "status_codes": {"200": 5}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calibrate.ParseVegetaReport([]byte(tt.input))
			if err == nil || !strings.HasPrefix(err.Error(), "parse vegeta report: ") {
				t.Fatalf("error %v, want a parse vegeta report error", err)
			}
		})
	}
}

func ptr(v float64) *float64 { return &v }

// The wrk fixtures are Debian's wrk 4.1.0's output: -t2 -c64 -d3s --latency
// and -t2 -c16 -d1s against `photobench calibrate serve`, -t1 -c4 against a
// server answering 404, and -t1 -c2 --timeout 1s --latency against a listener
// that never answers. wrk-socket-errors.txt is written by hand in wrk's format
// (its "Socket errors" line and minute-long run are what the parser must
// read; a real run takes too long to provoke them).
func TestCalibrateParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want calibrate.WrkResult
	}{
		{"wrk-latency.txt", calibrate.WrkResult{Threads: 2, Connections: 64, Requests: 231399, Duration: 3, RequestsSec: 77008.96,
			LatencyAvg: 1.15e-3, LatencyMax: 21.25e-3, LatencyP50: ptr(689e-6), LatencyP99: ptr(6.41e-3)}},
		{"wrk-plain.txt", calibrate.WrkResult{Threads: 2, Connections: 16, Requests: 80540, Duration: 1.1, RequestsSec: 73220.18,
			LatencyAvg: 683.99e-6, LatencyMax: 16.21e-3}},
		{"wrk-non2xx.txt", calibrate.WrkResult{Threads: 1, Connections: 4, Requests: 3126, Duration: 1.1, RequestsSec: 2841.81,
			LatencyAvg: 1.39e-3, LatencyMax: 10.27e-3, LatencyP50: ptr(1.3e-3), LatencyP99: ptr(2.84e-3), Non2xx3xx: 3126}},
		{"wrk-no-answers.txt", calibrate.WrkResult{Threads: 1, Connections: 2, Requests: 0, Duration: 2,
			LatencyP50: ptr(0), LatencyP99: ptr(0)}},
		{"wrk-socket-errors.txt", calibrate.WrkResult{Threads: 2, Connections: 64, Requests: 372, Duration: 120, RequestsSec: 3.1,
			LatencyAvg: 1.02, LatencyMax: 1.99, LatencyP50: ptr(1.01), LatencyP99: ptr(1.98), SocketErrors: 44, Non2xx3xx: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := calibrate.ParseWrk(string(readFixture(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if got.Threads != w.Threads || got.Connections != w.Connections || got.Requests != w.Requests ||
				got.SocketErrors != w.SocketErrors || got.Non2xx3xx != w.Non2xx3xx {
				t.Errorf("counts %+v, want %+v", got, w)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"duration", got.Duration, w.Duration}, {"requests/sec", got.RequestsSec, w.RequestsSec},
				{"latency avg", got.LatencyAvg, w.LatencyAvg}, {"latency max", got.LatencyMax, w.LatencyMax}} {
				if !near(f.got, f.want) {
					t.Errorf("%s %g, want %g", f.name, f.got, f.want)
				}
			}
			for _, f := range []struct {
				name      string
				got, want *float64
			}{{"p50", got.LatencyP50, w.LatencyP50}, {"p99", got.LatencyP99, w.LatencyP99}} {
				switch {
				case (f.got == nil) != (f.want == nil):
					t.Errorf("%s present %v, want %v", f.name, f.got != nil, f.want != nil)
				case f.got != nil && !near(*f.got, *f.want):
					t.Errorf("%s %g, want %g", f.name, *f.got, *f.want)
				}
			}
		})
	}
}

func TestCalibrateParseWrkErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"empty", "", "not wrk's report"},
		{"usage text", "Usage: wrk <options> <url>\n  Options:\n", "not wrk's report"},
		{"connection refused", "unable to connect to 127.0.0.1:9 Connection refused\n", "not wrk's report"},
		{"no rate line", "  10 requests in 1.00s, 1.00KB read\n", "not wrk's report"},
		{"bad time unit", "    Latency     1.15xs    1.39ms  21.25ms   87.26%\n", "bad time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calibrate.ParseWrk(tt.input)
			if err == nil || !strings.HasPrefix(err.Error(), "parse wrk output: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a parse wrk output error with %q", err, tt.want)
			}
		})
	}
}
