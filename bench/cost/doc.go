// Package cost is the cost model of `make bench`: it prices what each
// architecture measurably used with price sheets kept as data (bench/prices,
// each with its source and date) and gives the report its cost tables, a
// break-even chart, a sensitivity table and trade-off sentences, with units
// everywhere.
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
//     per hour. Its HA option adds a spare VM (at least 2) and an
//     application load balancer (hour and LCUs).
//   - Async monolith: priced as the monolith, from its own CPU per photo
//     (its process, whose workers run the jobs, and its PostgreSQL, which
//     holds River's queue), with its own HA option.
//   - Event-driven: functions priced as AWS Lambda or Azure Functions (one
//     invocation per HTTP request or event). Azure's GB-seconds are from
//     busy seconds and each function's peak memory rounded up to 128 MB;
//     Lambda's CPU share grows with memory (one vCPU at 1,769 MB), so its
//     sizes are at least 1,769 MB x CPU-seconds / busy seconds. Plus API
//     Gateway requests, S3 requests, a NAT gateway (the functions live in
//     a VPC and call the internet vision API), the S3-to-Kafka bridge (a
//     Lambda function S3's notification invokes), and the always-on event
//     transport and RDS instance. The transport is MSK Serverless as
//     measured, or priced as a provisioned MSK cluster (2 kafka.t3.small
//     brokers) or as SQS standard queues (3 requests per event handled), a
//     transport the bench does not run.
//   - Storage (originals and thumbnails per GB-month: EBS gp3 for a
//     monolith on disk, S3 otherwise) is priced apart, per million photos
//     stored per month, since it accumulates.
//   - A sensitivity table says which single input (load, event transport,
//     VM price, Lambda memory, storage retention), changed by how much,
//     changes which option is cheapest at the measured load, idle, and
//     per million photos with their storage.
//   - The vision service (the stand-in for an external API all call) is
//     left out of all, as are data transfer and free tiers.
//   - The load generator's ready polls (it follows each event-driven upload
//     until ready) are instrumentation, not workload: left out of the API
//     Gateway requests and query's invocations and GB-seconds, and
//     reported apart. The async monolith's process serves them too: its
//     CPU includes them.
//
// Analysis.PerMillionAt gives an option's cost per million photos at any
// sustained load, from the break-even chart's lines; OptionsOf lists an
// architecture's options.
//
// Missing data never fail the analysis: the figures that need them read
// "n/a (no data: ...)".
package cost
