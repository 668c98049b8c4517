// Package prices holds the price sheets of the bench's cost model (package
// bench/cost) as data: one YAML file per priced service, each with its
// official pricing page (source), region, the date it was written down,
// whether and when it was verified on that page, and every price with its
// unit. The files are
// embedded so that a built photobench binary prices a run the same way as
// the source tree it was built from.
package prices

import "embed"

// FS holds the price sheets, *.yaml at its root. Package bench/cost parses
// and validates them (cost.Sheets).
//
//go:embed *.yaml
var FS embed.FS
