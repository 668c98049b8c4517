#!/usr/bin/env bash
# Installs everything photobench's native stack needs, at pinned versions,
# idempotently: a second run with everything present takes seconds.
#
#   - Debian packages: postgresql, a Java 17 runtime, maven (only when missing;
#     needs root, as on CI, or sudo)
#   - the Apache Kafka broker's jars, from Maven Central via stack/kafka/pom.xml
#   - MinIO and Prometheus servers, built with go install
#   - the project's Go modules
#
# Versions come from internal/stack/versions.env. Binaries go to .stack/bin,
# jars to .stack/lib/kafka (PHOTOBENCH_STACK_BIN_DIR, PHOTOBENCH_KAFKA_LIB_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
. internal/stack/versions.env

STACK_DIR=${PHOTOBENCH_STACK_DIR:-.stack}
BIN_DIR=${PHOTOBENCH_STACK_BIN_DIR:-$STACK_DIR/bin}
LIB_DIR=${PHOTOBENCH_KAFKA_LIB_DIR:-$STACK_DIR/lib/kafka}

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go not found: install Go 1.26 or newer first"

# --- Debian packages -------------------------------------------------------
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1 || true)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then missing+=(openjdk-17-jre-headless); fi
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing Debian packages (${missing[*]}) and not root: install them, then run make deps again"
    sudo=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  # Our own cluster runs under .stack/; do not let the package create and
  # start a system cluster on port 5432 as a side effect.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Kafka broker jars -------------------------------------------------------
if [ ! -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]; then
  say "fetching Apache Kafka $KAFKA_VERSION broker jars with Maven"
  tmp="$LIB_DIR.tmp"
  rm -rf "$tmp"
  log=$(mktemp)
  if ! mvn -q -B -f stack/kafka/pom.xml -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$(realpath -m "$tmp")" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "fetching the Kafka jars with Maven failed (output above)"
  fi
  rm -f "$log"
  rm -rf "$LIB_DIR"
  mkdir -p "$(dirname "$LIB_DIR")"
  mv "$tmp" "$LIB_DIR"
fi

# --- Go-built servers ----------------------------------------------------------
# go_server NAME PACKAGE VERSION MINUTES: builds PACKAGE@VERSION into BIN_DIR/NAME
# unless the stamp file says that version is there already.
go_server() {
  local name=$1 pkg=$2 version=$3 minutes=$4
  local stamp="$BIN_DIR/$name.version"
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return
  fi
  say "building $name $version with go install (about $minutes minutes on 2 cores the first time)"
  local tmp
  tmp=$(mktemp -d)
  local start=$SECONDS
  GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$pkg@$version"
  mkdir -p "$BIN_DIR"
  mv "$tmp/$name" "$BIN_DIR/$name"
  rmdir "$tmp"
  echo "$version" > "$stamp"
  say "built $name in $((SECONDS - start)) s"
}
go_server minio github.com/minio/minio "$MINIO_VERSION" 3
go_server prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" 5

# --- the project's Go modules ---------------------------------------------------
go mod download
say "all present"
