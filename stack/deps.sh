#!/usr/bin/env bash
# Installs everything photobench's native stack needs, at pinned versions,
# idempotently: a second run with everything present takes about a second.
#
#   - Debian packages: postgresql, a Java 17 runtime, maven, and chromium for
#     the browser tests (only when missing; needs root, as on CI, or sudo)
#   - the Apache Kafka broker's jars, from Maven Central via stack/kafka/pom.xml
#   - MinIO and Prometheus servers, built with go install (Prometheus with the
#     build tag remove_all_sd: only the file, HTTP and static service
#     discoveries, of which the stack uses file; the cloud ones are most of
#     its build time)
#   - the project's Go modules
#
# The first run on a bare machine is dominated by the two Go builds; they run
# side by side with the downloads (network-bound) and say how far they are
# every PHOTOBENCH_DEPS_PROGRESS_SECONDS (default 20).
#
# Versions come from internal/stack/versions.env. Binaries go to .stack/bin,
# jars to .stack/lib/kafka (PHOTOBENCH_STACK_BIN_DIR, PHOTOBENCH_KAFKA_LIB_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
. internal/stack/versions.env

STACK_DIR=${PHOTOBENCH_STACK_DIR:-.stack}
BIN_DIR=${PHOTOBENCH_STACK_BIN_DIR:-$STACK_DIR/bin}
LIB_DIR=${PHOTOBENCH_KAFKA_LIB_DIR:-$STACK_DIR/lib/kafka}
PROGRESS=${PHOTOBENCH_DEPS_PROGRESS_SECONDS:-20}
# Build tags of the Prometheus server: part of its version stamp, so that a
# change rebuilds it.
PROMETHEUS_TAGS=remove_all_sd

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go not found: install Go 1.26 or newer first"
start=$SECONDS

# --- what is missing ------------------------------------------------------------
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1 || true)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then missing+=(openjdk-17-jre-headless); fi
command -v mvn >/dev/null || missing+=(maven)
# The browser tests' Chromium (internal/browser): Debian's, unless
# PHOTOBENCH_CHROMIUM names another. Its text renders in DejaVu, which its
# dependencies already bring (fontconfig's); no other fonts are needed.
[ -x "${PHOTOBENCH_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)

# stamped NAME VERSION: whether BIN_DIR/NAME is there at that version.
stamped() { [ -x "$BIN_DIR/$1" ] && [ "$(cat "$BIN_DIR/$1.version" 2>/dev/null)" = "$2" ]; }
minio_stamp=$MINIO_VERSION
prometheus_stamp="$PROMETHEUS_VERSION tags=$PROMETHEUS_TAGS"
builds=()
stamped minio "$minio_stamp" || builds+=(minio)
stamped prometheus "$prometheus_stamp" || builds+=(prometheus)
need_jars=false
[ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ] || need_jars=true

# --- Debian packages -------------------------------------------------------------
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null ||
      die "missing Debian packages (${missing[*]}) and not root: ask an administrator to run 'apt-get install ${missing[*]}' (or run make deps as root), then run it again"
    if ! sudo -n true 2>/dev/null && [ ! -t 0 ]; then
      die "missing Debian packages (${missing[*]}) and sudo needs a password but there is no terminal: run 'sudo apt-get install ${missing[*]}', then run make deps again"
    fi
    sudo=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  # Our own cluster runs under .stack/ (or the postgres user's home); do not
  # let the package create and start a system cluster on port 5432.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Measured on 2 cores with empty Go caches, downloads included (README,
# "Requirements"): both side by side 261 s, MinIO alone about 150 s,
# Prometheus alone 115 s.
case "${builds[*]}" in
"minio prometheus") say "building MinIO and Prometheus from source: about 4.5 minutes on 2 cores when nothing is cached yet (later runs take a second)" ;;
minio) say "building MinIO from source: about 2.5 minutes on 2 cores when nothing is cached yet" ;;
prometheus) say "building Prometheus from source: about 2 minutes on 2 cores when nothing is cached yet" ;;
esac

# --- background jobs ---------------------------------------------------------------
# Each job writes its output to <name>.log and then its exit status to <name>.rc; the
# jobs run side by side and the loop below reports on them until all end.
# Job control puts each job in its own process group, so that a failure or
# Ctrl-C stops the builds themselves, not only the shells waiting on them.
work=$(mktemp -d)
set -m
trap '{ for p in $(jobs -p); do kill -- "-$p" || true; done; wait; } 2>/dev/null; rm -rf "$work"' EXIT
names=()
job() { # job NAME CMD...: run CMD in the background
  local name=$1
  shift
  names+=("$name")
  (
    if "$@" >"$work/$name.log" 2>&1; then rc=0; else rc=$?; fi
    echo $rc >"$work/$name.rc.tmp" && mv "$work/$name.rc.tmp" "$work/$name.rc"
  ) &
}

# The jobs run as conditions (errexit is off there): each step is chained
# with && so that the first failure is the job's status.

fetch_jars() {
  local tmp="$LIB_DIR.tmp"
  rm -rf "$tmp" &&
    mvn -q -B -f stack/kafka/pom.xml -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$(realpath -m "$tmp")" &&
    rm -rf "$LIB_DIR" &&
    mkdir -p "$(dirname "$LIB_DIR")" &&
    mv "$tmp" "$LIB_DIR"
}

# go_server NAME PACKAGE VERSION STAMP [TAGS]: builds PACKAGE@VERSION into
# BIN_DIR/NAME and records STAMP beside it. -v lists each package as it is
# compiled, which is how the progress lines count them.
go_server() {
  local name=$1 pkg=$2 version=$3 stamp=$4 tags=${5:-} tmp
  # Under $work, which the exit trap removes however the build ends.
  tmp=$(mktemp -d "$work/$name-bin.XXXX") &&
    GOBIN="$tmp" GOFLAGS=-buildvcs=false go install -v ${tags:+-tags "$tags"} "$pkg@$version" &&
    mkdir -p "$BIN_DIR" &&
    mv "$tmp/$name" "$BIN_DIR/$name" &&
    echo "$stamp" >"$BIN_DIR/$name.version"
}

if $need_jars; then
  say "fetching Apache Kafka $KAFKA_VERSION broker jars with Maven"
  job kafka-jars fetch_jars
fi
job go-modules go mod download
for b in "${builds[@]}"; do
  case $b in
  minio) job minio go_server minio github.com/minio/minio "$MINIO_VERSION" "$minio_stamp" ;;
  prometheus) job prometheus go_server prometheus github.com/prometheus/prometheus/cmd/prometheus \
    "$PROMETHEUS_VERSION" "$prometheus_stamp" "$PROMETHEUS_TAGS" ;;
  esac
done

# Report until every job has ended; the first to fail ends the others and
# make deps, with its log's last lines.
t0=$SECONDS
next=$((t0 + PROGRESS))
declare -A reported=()
while :; do
  running=()
  for n in "${names[@]}"; do
    if [ ! -f "$work/$n.rc" ]; then
      running+=("$n")
    elif [ -z "${reported[$n]:-}" ]; then
      reported[$n]=1
      if [ "$(cat "$work/$n.rc")" != 0 ]; then
        tail -n 30 "$work/$n.log" >&2
        die "$n failed after $((SECONDS - t0)) s (its last lines above)"
      fi
      case $n in minio | prometheus | kafka-jars) say "$n done in $((SECONDS - t0)) s" ;; esac
    fi
  done
  [ ${#running[@]} -eq 0 ] && break
  sleep 0.2
  if [ "$SECONDS" -ge "$next" ]; then
    next=$((SECONDS + PROGRESS))
    line=()
    for n in "${running[@]}"; do
      case $n in
      minio | prometheus) line+=("$n $(grep -vc '^go: ' "$work/$n.log" || true) packages compiled") ;;
      *) line+=("$n") ;;
      esac
    done
    say "$((SECONDS - t0)) s: $(IFS=,; echo "${line[*]}" | sed 's/,/, /g')"
  fi
done
say "all present ($((SECONDS - start)) s)"
