package calibrate

import (
	"fmt"
	"math"
	"strings"
)

// markdown accumulates the report's Markdown.
type markdown struct{ strings.Builder }

// p appends one formatted piece.
func (b *markdown) p(format string, args ...any) { fmt.Fprintf(&b.Builder, format, args...) }

// Markdown writes the report for people: the machine, the method, a table of
// both tools at every listed rate, the highest sustained rates against wrk's
// bound, photobench beyond capacity, and the aims as the figures judge them.
// jsonPath names the file with the raw runs.
func (r *Report) Markdown(jsonPath string) string {
	var b markdown
	r.writeIntro(&b, jsonPath)
	r.writeMachine(&b)
	r.writeMethod(&b)
	r.writeRates(&b)
	r.writeSustained(&b)
	r.writeBeyond(&b)
	r.writeAims(&b)
	return b.String()
}

// writeIntro writes the title, what was compared and when, and whether the
// calibration was stopped early.
func (r *Report) writeIntro(b *markdown, jsonPath string) {
	p := b.p
	p("# Load generator calibration\n\n")
	p("photobench's open-loop generator against vegeta (open loop, the same rates) and wrk (closed loop, the machine's bound), ")
	p("on one machine against one trivial local target. Made by `photobench calibrate run` (`make loadgen-calibrate`) ")
	p("from %s to %s UTC", r.Started.Format("2006-01-02 15:04:05"), r.Ended.Format("15:04:05"))
	if jsonPath != "" {
		p("; every run's raw figures are in `%s`", jsonPath)
	}
	p(".\n\n")
	if r.Partial {
		p("**Partial: the calibration was stopped before its end; the figures cover the runs that finished.**\n\n")
	}
}

// writeMachine writes the machine the tools shared and their versions.
func (r *Report) writeMachine(b *markdown) {
	p := b.p
	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s |\n| cores | %d (target, generator and, for wrk, its threads all share them) |\n", r.Machine.CPU, r.Machine.Cores)
	p("| OS | %s |\n| Go (photobench) | %s |\n| vegeta | %s |\n| wrk | %s |\n\n", r.Machine.OS, r.Machine.GoVersion, r.Machine.Vegeta, r.Machine.Wrk)
}

// writeMethod writes how each tool was run and what each figure means, with
// the configuration's numbers.
func (r *Report) writeMethod(b *markdown) {
	p, c := b.p, r.Config
	p("## Method\n\n")
	p("- **Target**: `photobench calibrate serve`, a Go net/http server answering GET with 200 and a 20-byte body, ")
	p("in its own process on loopback (%s). Its CPU is read from /proc around each run.\n", r.Target)
	p("- **Connections**: both open-loop tools are capped at %d connections to the target (0: no cap; photobench's transport MaxConnsPerHost, vegeta's -max-connections), the number wrk keeps open. ", c.MaxConns)
	p("Without a cap, a tool that falls behind opens a new connection for every late request, and on 2 shared cores the connection churn feeds on itself: ")
	p("both tools were seen to collapse that way in trial runs (photobench to 1,244/s at 20,000/s with a 10,000 in-flight cap, vegeta to 3,497/s at 30,000/s).\n")
	p("- **photobench**: `photobench calibrate attack --rate R --duration %s --max-in-flight %d --max-conns %d --timeout %s`, its own process: ",
		dur(c.Duration), c.MaxInFlight, c.MaxConns, dur(c.Timeout))
	p("one constant-pacer phase, no warm-up, `loadgen.PlainTarget`, a keep-alive transport keeping %d idle connections per host. ", c.MaxInFlight)
	p("Latency is measured from each request's intended start, so it includes the generator's own lateness (schedule lag: send time minus intended start); ")
	p("service time, from the request's connection to its answer, is the figure comparable with vegeta's latency.\n")
	p("- **vegeta**: `vegeta attack -rate R/1s -duration %s -timeout %s -keepalive=true -max-connections %d -output FILE` with target `GET URL` on stdin, ",
		dur(c.Duration), dur(c.Timeout), c.MaxConns)
	p("everything else at its defaults (10 initial workers, no worker limit, 10000 idle connections per host); ")
	p("then `vegeta report -type json FILE`, whose CPU is not counted (photobench's analysis runs inside its attack process and is). ")
	p("vegeta measures latency from each request's actual send, so its latency leaves out any lateness of its own, and it reports no schedule lag.\n")
	p("- **wrk**: `wrk -t%d -c%d -d%.0fs --timeout %.0fs --latency URL`, closed loop, once per repeat: the machine's bound with this target.\n",
		c.WrkThreads, c.WrkConnections, math.Ceil(c.Duration), math.Ceil(c.Timeout))
	p("- **Order**: wrk first; then at each rate, %d time(s) over, photobench then vegeta, %s apart. ", c.Repeats, dur(c.Pause))
	p("Figures are medians over the repeats, with the range [min–max] when there are several.\n")
	p("- **Achieved rate**: (requests sent − 1) / (last send − first send), for both tools. ")
	p("**CPU**: user + system time of the tool's process from the kernel, per 1000 requests sent.\n")
	p("- **Sustained**: %s.\n", r.Criterion)
	p("- **Highest sustained rate**: the highest listed rate sustained below the lowest listed rate that failed; ")
	p("from it the rate is multiplied by %g (rounded) and measured (%d time(s) at each) until a rate fails, ", c.SearchStep, c.Repeats)
	p("the next would reach a failed one, or the search's budget of %s per tool would be exceeded ", dur(c.SearchBudget))
	p("(then the figure is a lower bound, written ≥).\n\n")
}

// writeRates writes the table of both open-loop tools at every listed rate.
func (r *Report) writeRates(b *markdown) {
	p := b.p
	p("## Results by rate\n\n")
	if len(r.Rates) == 0 {
		p("No runs finished.\n\n")
	} else {
		p("| target | tool | achieved | ok | schedule lag p99 | latency p50 | latency p99 | service p50 / p99 | CPU-s / 1000 req | target's CPU-s / 1000 req | sustained |\n")
		p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, rs := range r.Rates {
			for _, s := range []Summary{rs.Photobench, rs.Vegeta} {
				if s.Runs == 0 {
					continue
				}
				lag := "n/a"
				if s.LagP99 != nil {
					lag = spreadWith(*s.LagP99, seconds)
				}
				svc := "n/a"
				if s.ServiceP50 != nil && s.ServiceP99 != nil {
					svc = spreadWith(*s.ServiceP50, seconds) + " / " + spreadWith(*s.ServiceP99, seconds)
				}
				srv := "n/a"
				if s.ServerCPU1000 != nil {
					srv = spreadWith(*s.ServerCPU1000, f4)
				}
				verdict := "yes"
				if !s.Sustained {
					verdict = "no: " + s.Reason
				}
				if s.Failed > 0 {
					verdict += fmt.Sprintf(" (%d of %d runs failed)", s.Failed, s.Runs)
				}
				p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rateStr(rs.Rate), s.Tool,
					spreadWith(s.AchievedRate, f1), spreadWith(Spread{Median: (1 - s.ErrorFraction.Median) * 100,
						Min: (1 - s.ErrorFraction.Max) * 100, Max: (1 - s.ErrorFraction.Min) * 100, N: s.ErrorFraction.N}, pct),
					lag, spreadWith(s.LatencyP50, seconds), spreadWith(s.LatencyP99, seconds), svc,
					spreadWith(s.CPUPer1000, f4), srv, verdict)
			}
		}
		p("\n")
	}
}

// writeSustained writes each tool's highest sustained rate and its search,
// against wrk's closed-loop bound and its latency there.
func (r *Report) writeSustained(b *markdown) {
	p, c := b.p, r.Config
	p("## Highest sustained rate\n\n")
	p("| tool | highest sustained | lowest failing | search | why it stopped |\n|---|---:|---:|---|---|\n")
	for _, t := range []struct {
		name string
		res  *SearchResult
	}{{ToolPhotobench, r.MaxSustained.Photobench}, {ToolVegeta, r.MaxSustained.Vegeta}} {
		if t.res == nil {
			continue
		}
		fail := "—"
		if t.res.FirstFailure > 0 {
			fail = rateStr(t.res.FirstFailure)
		}
		var steps []string
		for _, s := range t.res.Steps {
			mark := "✓"
			if !s.Sustained {
				mark = "✗"
			}
			steps = append(steps, rateStr(s.Rate)+" "+mark)
		}
		search := "—"
		if len(steps) > 0 {
			search = strings.Join(steps, ", ")
		}
		p("| %s | %s | %s | %s | %s |\n", t.name, maxRate(*t.res), fail, search, t.res.Stopped)
	}
	if r.WrkBound.N > 0 {
		p("| wrk (closed loop, the bound) | %s req/s | | | |\n", spreadWith(r.WrkBound, f0))
	} else {
		p("| wrk (closed loop, the bound) | not measured | | | %s |\n", strings.Join(r.WrkErrors, "; "))
	}
	if len(r.Wrk) > 0 {
		var p50, p99 []float64
		for _, w := range r.Wrk {
			if w.LatencyP50 != nil && w.LatencyP99 != nil {
				p50, p99 = append(p50, *w.LatencyP50), append(p99, *w.LatencyP99)
			}
		}
		if len(p50) > 0 {
			p("\nwrk's latency at its bound (%d connections): p50 %s, p99 %s.\n", c.WrkConnections,
				spreadWith(SpreadOf(p50), seconds), spreadWith(SpreadOf(p99), seconds))
		}
	}
	p("\n")
}

// writeBeyond writes every run of photobench's that failed the criterion.
func (r *Report) writeBeyond(b *markdown) {
	p := b.p
	p("## photobench beyond capacity\n\n")
	var beyond []Measurement
	for _, m := range r.Runs {
		if ok, _ := Check(m.Figures()); m.Tool == ToolPhotobench && !ok {
			beyond = append(beyond, m)
		}
	}
	if len(beyond) == 0 {
		p("No run of photobench's failed the criterion.\n\n")
	} else {
		p("Every run of photobench's that failed the criterion (one line per run):\n\n")
		p("| target | stage | scheduled | sent | ok | errors | dropped | achieved | schedule lag p99 | latency p99 | wall |\n")
		p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, m := range beyond {
			if m.Error != "" {
				p("| %s | %s | run failed: %s | | | | | | | | |\n", rateStr(m.Rate), m.Stage, m.Error)
				continue
			}
			p("| %s | %s | %d | %d | %d | %d | %d | %.1f/s | %s | %s | %.1fs |\n", rateStr(m.Rate), m.Stage,
				m.Scheduled, m.Sent, m.OK, m.Errors, m.Dropped, m.AchievedRate, optSeconds(m.LagP99), seconds(m.LatencyP99), m.Wall)
		}
		p("\n")
	}
}

// writeAims writes the aims as the figures judge them.
func (r *Report) writeAims(b *markdown) {
	p := b.p
	p("## Aims\n\n| aim | status | figures |\n|---|---|---|\n")
	for _, a := range r.Aims {
		p("| %s | **%s** | %s |\n", a.Name, a.Status, a.Detail)
	}
}

// spreadWith formats a spread as "median [min–max]", or the median alone when
// there is one value or none differs.
func spreadWith(s Spread, f func(float64) string) string {
	if s.N == 0 {
		return "n/a"
	}
	med := f(s.Median)
	if s.N == 1 || (f(s.Min) == med && f(s.Max) == med) {
		return med
	}
	return med + " [" + f(s.Min) + "–" + f(s.Max) + "]"
}

func f0(v float64) string  { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string  { return fmt.Sprintf("%.1f/s", v) }
func f4(v float64) string  { return fmt.Sprintf("%.4f", v) }
func pct(v float64) string { return fmt.Sprintf("%.2f%%", v) }

// dur formats seconds as a Go duration: 10s, 1m30s.
func dur(s float64) string { return seconds(s) }
