// Package calibrate measures photobench's open-loop load generator against
// the tools people trust, on the same machine and the same trivial target:
// vegeta (open loop, the same rates) and wrk (closed loop, the machine's
// bound). It backs `photobench calibrate`.
//
// Every tool runs as its own process, so that its CPU time (user + system,
// from the kernel's accounting of the child) is its own; the trivial server
// (Serve) is a child too, and its CPU is read from /proc around each run.
//
// The parts:
//
//   - Serve and Handler: the target, 200 and a 20-byte body for any GET.
//   - Attack: one constant-rate run of loadgen.Attack with loadgen.PlainTarget,
//     what `photobench calibrate attack` runs in the child.
//   - ParseVegetaReport and ParseWrk read the reference tools' reports.
//   - A Measurement is one run of one tool at one rate; Check applies the
//     sustain criterion and Summarize takes medians over repeats.
//   - Search steps a rate up from the highest sustained one until a rate
//     fails, within a time budget.
//   - Measure does the whole calibration and returns a Report, which writes
//     itself as JSON (every raw run) and Markdown (the tables and the aims,
//     computed from the measurements).
//   - Run (command.go) is `photobench calibrate`: run (Measure, then the
//     report's files and tables), and its children attack and serve.
package calibrate
