package cli

import (
	"fmt"
	"io"
)

// version and commit are set at build time (make image, make build):
//
//	go build -ldflags "-X github.com/photobench/photobench/internal/cli.version=v1.2.3 -X github.com/photobench/photobench/internal/cli.commit=SHA"
//
// A plain go build leaves them "dev" and "unknown".
var (
	version = "dev"
	commit  = "unknown"
)

// printVersion answers `photobench version` and `photobench --version`.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "photobench %s (commit %s)\n", version, commit)
}
