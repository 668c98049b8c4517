package calibrate

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// WrkResult is what the calibration reads from wrk's text output. Times are
// in seconds.
type WrkResult struct {
	Threads     int     `json:"threads"`
	Connections int     `json:"connections"`
	Requests    uint64  `json:"requests"`
	Duration    float64 `json:"duration_seconds"`
	RequestsSec float64 `json:"requests_per_second"`
	LatencyAvg  float64 `json:"latency_avg_seconds"`
	LatencyMax  float64 `json:"latency_max_seconds"`
	// The latency distribution's percentiles, present with --latency.
	LatencyP50 *float64 `json:"latency_p50_seconds,omitempty"`
	LatencyP99 *float64 `json:"latency_p99_seconds,omitempty"`
	// Socket errors (connect, read, write, timeout) and non-2xx/3xx answers;
	// wrk prints them only when there are some.
	SocketErrors uint64 `json:"socket_errors"`
	Non2xx3xx    uint64 `json:"non_2xx_3xx"`
}

var (
	wrkSetupRe    = regexp.MustCompile(`^(\d+) threads and (\d+) connections$`)
	wrkLatencyRe  = regexp.MustCompile(`^Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+$`)
	wrkPctRe      = regexp.MustCompile(`^(50|75|90|99)(?:\.0+)?%\s+(\S+)$`)
	wrkRequestsRe = regexp.MustCompile(`^(\d+) requests in (\S+), \S+ read$`)
	wrkSocketRe   = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$`)
	wrkNon2xxRe   = regexp.MustCompile(`^Non-2xx or 3xx responses: (\d+)$`)
	wrkRateRe     = regexp.MustCompile(`^Requests/sec:\s+(\S+)$`)
)

// ParseWrk reads the report wrk prints (with or without --latency). It needs
// at least the requests line and Requests/sec.
func ParseWrk(text string) (WrkResult, error) {
	var r WrkResult
	var haveRate, haveRequests bool
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var m []string
		var err error
		switch {
		case matchInto(&m, wrkSetupRe, line):
			r.Threads, _ = strconv.Atoi(m[1])
			r.Connections, _ = strconv.Atoi(m[2])
		case matchInto(&m, wrkLatencyRe, line):
			if r.LatencyAvg, err = wrkTime(m[1]); err == nil {
				r.LatencyMax, err = wrkTime(m[3])
			}
		case matchInto(&m, wrkPctRe, line):
			var v float64
			if v, err = wrkTime(m[2]); err == nil {
				switch m[1] {
				case "50":
					r.LatencyP50 = &v
				case "99":
					r.LatencyP99 = &v
				}
			}
		case matchInto(&m, wrkRequestsRe, line):
			haveRequests = true
			if r.Requests, err = strconv.ParseUint(m[1], 10, 64); err == nil {
				r.Duration, err = wrkTime(m[2])
			}
		case matchInto(&m, wrkSocketRe, line):
			for _, s := range m[1:] {
				n, _ := strconv.ParseUint(s, 10, 64)
				r.SocketErrors += n
			}
		case matchInto(&m, wrkNon2xxRe, line):
			r.Non2xx3xx, err = strconv.ParseUint(m[1], 10, 64)
		case matchInto(&m, wrkRateRe, line):
			haveRate = true
			r.RequestsSec, err = strconv.ParseFloat(m[1], 64)
		}
		if err != nil {
			return WrkResult{}, fmt.Errorf("parse wrk output: %q: %w", line, err)
		}
	}
	if !haveRate || !haveRequests {
		return WrkResult{}, errors.New("parse wrk output: no \"requests in\" and \"Requests/sec:\" lines: not wrk's report")
	}
	return r, nil
}

func matchInto(m *[]string, re *regexp.Regexp, s string) bool {
	*m = re.FindStringSubmatch(s)
	return *m != nil
}

// wrkTime parses wrk's times: 812.00us, 1.23ms, 2.00s, 1.50m, 1.00h.
func wrkTime(s string) (float64, error) {
	units := []struct {
		suffix string
		scale  float64
	}{{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("bad time %q", s)
			}
			return v * u.scale, nil
		}
	}
	return 0, fmt.Errorf("bad time %q (want a unit: us, ms, s, m, h)", s)
}
