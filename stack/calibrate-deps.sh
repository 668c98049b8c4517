#!/usr/bin/env bash
# Installs the two reference tools `photobench calibrate` compares the load
# generator with, idempotently (a second run with both present does nothing):
#
#   - vegeta v12.13.0 (open-loop HTTP load tool), built with go install into
#     .stack/bin/vegeta (PHOTOBENCH_STACK_BIN_DIR overrides the directory)
#   - wrk (closed-loop HTTP benchmark), Debian's package, unless wrk is on PATH
#     already (needs root, as on CI, or sudo)
set -euo pipefail
cd "$(dirname "$0")/.."

VEGETA_VERSION=v12.13.0
STACK_DIR=${PHOTOBENCH_STACK_DIR:-.stack}
BIN_DIR=${PHOTOBENCH_STACK_BIN_DIR:-$STACK_DIR/bin}

say() { printf 'calibrate-deps: %s\n' "$*"; }
die() { printf 'calibrate-deps: %s\n' "$*" >&2; exit 1; }

# --- vegeta ------------------------------------------------------------------
if [ ! -x "$BIN_DIR/vegeta" ]; then
  command -v go >/dev/null || die "go not found: install Go 1.26 or newer first"
  say "building vegeta $VEGETA_VERSION with go install"
  mkdir -p "$BIN_DIR"
  bin=$(realpath -m "$BIN_DIR")
  GOBIN="$bin" GOFLAGS=-buildvcs=false go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi

# --- wrk -----------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "wrk is missing and we are not root: install Debian's wrk package (apt-get install wrk), then run this again"
    sudo=sudo
  fi
  command -v apt-get >/dev/null || die "wrk is missing and apt-get is not available: install wrk with the system's package manager"
  say "installing Debian's wrk package"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

# A go-installed vegeta prints no version of its own; the module's is in the binary.
vegeta_version=$(go version -m "$BIN_DIR/vegeta" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')
say "vegeta ${vegeta_version:-(version unknown)} and $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}') present"
