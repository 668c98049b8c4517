// Package cost is the cost model of `make bench`: it prices what each
// architecture measurably used with price sheets kept as data (bench/prices,
// each with its source and date) and gives the report its cost tables, a
// break-even chart and trade-off sentences, with units everywhere.
//
// The inputs are a run's results (package bench/results): over the steady
// phase, the uploads answered ok (photos), CPU-seconds by component, the
// event-driven functions' invocations and busy seconds, peak memory,
// replica-seconds and object-storage requests (as the apps sent them); over
// the idle phase once every backlog was drained, what was still invoked. Repeats are summarised by their median, with the spread.
//
// The model, in brief (Analysis.Assumptions states all of it):
//
//   - Monolith: always-on m6i.large VMs, each running the app and its
//     PostgreSQL. One VM serves vCPUs x 70% / (CPU-seconds per photo)
//     photos/s; at load L it takes max(1, ceil(L / capacity)) VMs, billed
//     per hour.
//   - Async monolith: priced as the monolith, from its own CPU per photo
//     (its process, whose workers run the jobs, and its PostgreSQL, which
//     holds River's queue).
//   - Event-driven: functions priced as AWS Lambda or Azure Functions (one
//     invocation per HTTP request or event; GB-seconds from busy seconds and
//     each function's peak memory rounded up to 128 MB), API Gateway
//     requests, S3 requests, and the always-on MSK Serverless cluster and
//     RDS instance.
//   - Event-driven on AWS Lambda + SQS: a transport the bench does not run,
//     priced from the measured events: the AWS Lambda option with MSK
//     Serverless replaced by SQS standard queues, 3 requests (send, receive,
//     delete) per event handled; its only always-on cost is RDS.
//   - The vision service (the stand-in for an external API all call) is
//     left out of all, as are storage, data transfer and free tiers.
//   - The load generator's ready polls (it follows each event-driven upload
//     until ready) are instrumentation, not workload: left out of the API
//     Gateway requests and query's invocations and GB-seconds, and
//     reported apart. The async monolith's process serves them too: its
//     CPU includes them.
//
// Missing data never fail the analysis: the figures that need them read
// "n/a (no data: ...)".
package cost
