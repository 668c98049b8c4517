// Package loadgen is photobench's open-loop load generator: it starts requests on
// a schedule, never waiting for earlier answers, and measures latency from each
// request's intended start so that a stalled target shows in the results instead of
// slowing the generator down (no coordinated omission).
//
// The parts, shaped after vegeta's lib:
//
//   - Pacers (pacer.go) are schedules: Due(i) is when hit i is meant to start.
//     Constant, NewPoisson (seeded), Ramp (exact integral), Steps, Spike, Sine and
//     Idle; Count gives the exact number of hits over a duration and each pacer's
//     Expected the integral of its rate.
//   - A Scenario (scenario.go) is a YAML file of named phases, each with a pacer and
//     a duration (warm-up phases excluded from results), an operation mix, a user
//     count, a seed, an in-flight cap and a request timeout. ParseScenario reports
//     the first problem as one line: "phases[2].pacer.rate: must be positive".
//   - Attack (attack.go) runs a scenario against a Targeter and sends one Result per
//     scheduled hit on a channel: answered, failed, timed out, dropped at the
//     in-flight cap, or cancelled when the run was stopped.
//   - A Recorder (metrics.go) folds results into HDR histograms (1 µs to 1 h, 3
//     significant digits) per phase and operation, one Recorder per goroutine,
//     merged; its Summary is the JSON report. RunScenario does all of it in one call.
//   - APITarget (target.go) is the Targeter for photobench's public API: synthetic
//     users with their own tokens, and get, thumbnail and delete of photos the
//     user uploaded, whose ids its Client reads from the upload answers.
//   - A Follower (follow.go) follows accepted uploads until their photos are ready:
//     APITarget.OnUpload hands it each upload's answer, and it polls GET
//     /v1/photos/{id} as the uploader with jittered exponential backoff
//     (ready.min_poll doubling to ready.max_poll) until the photo is ready or
//     failed or ready.timeout passes, at most ready.max_following at once, and
//     sends one ReadyResult per upload; an answer already ready (the monolith's
//     201) needs no polls. Recorder.AddReady folds them into each phase's
//     upload-to-ready latency (from the server's ready_at), outcomes and the
//     polls' own load.
//   - An Exporter (export.go) serves the run as Prometheus metrics
//     (photobench_loadgen_*: requests by operation, phase and outcome, latency,
//     service time, schedule lag, upload-to-ready, in flight, target rate;
//     ServeMetrics registers them with the stack's Prometheus), and an
//     IntervalLog (hlog.go) keeps the raw results as an HdrHistogram interval log,
//     one histogram per interval and <phase>/<operation>/<latency|service|ready>.
//   - APIRun (run.go) puts it together for photobench load and photobench bench:
//     Attack with an APITarget, the Follower, the Exporter, the IntervalLog and a
//     progress hook; it ends when the schedule has and every followed upload is final.
//   - PlainTarget (plain.go) sends GET to one URL, for calibration against other
//     generators (photobench calibrate).
//   - LoadPhotos (photos.go) makes the upload bodies from a scenario's photos
//     section: synthetic JPEGs deterministic from the seed, cached on disk.
//   - Run (command.go) is `photobench load`: its flags, the pre-flight checks
//     of the target (CheckHealth, which the demos use too, and the tokens), the
//     run directory (summary.json, latency.hlog, run.json), the live progress
//     line and the summary table.
//
// Latency is Done - Intended; service time is Done - the moment the request got a
// connection; schedule lag is Sent - Intended.
package loadgen
