# photobench: `make help` lists the targets. Every target that needs the
# native stack installs what is missing first (make deps: seconds when all is
# present).
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin/photobench
GOFILES  := $(shell find . -name '*.go' -not -path './.stack/*' 2>/dev/null) go.mod go.sum
# Integration tests start real servers; allow for a slow first compile too.
TEST_FLAGS ?= -race -count=1 -timeout 30m

.PHONY: image help deps build up down status clean-stack test bench chaos vet loadgen-calibrate demo-vision-outage demo-slow-vision live

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

deps: ## install what the native stack and the tests need (Debian packages, Chromium included, Kafka jars, MinIO, Prometheus), pinned, idempotent
	@./stack/deps.sh

build: $(BIN) ## build the photobench command into bin/

$(BIN): $(GOFILES)
	$(GO) build -o $(BIN) ./cmd/photobench

# make image: the binary inside is built here (static, with the version and
# commit); photobench image only packs it.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_LDFLAGS = -X github.com/photobench/photobench/internal/cli.version=$(VERSION) -X github.com/photobench/photobench/internal/cli.commit=$(COMMIT)

# The tag compose/docker-compose.yml and deploy/k8s run; the version label
# says which build it is.
IMAGE_TAG ?= photobench:dev

image: build ## the container image with no Docker: dist/image/ (OCI layout), dist/photobench.tar (docker load), tagged photobench:dev (IMAGE_TAG); IMAGE_FLAGS='--push REF' pushes it
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(IMAGE_LDFLAGS)' -o dist/photobench-linux ./cmd/photobench
	@$(BIN) image --binary dist/photobench-linux --tag '$(IMAGE_TAG)' --version '$(VERSION)' --revision '$(COMMIT)' $(IMAGE_FLAGS)

up: deps build ## start PostgreSQL, Kafka, MinIO and Prometheus on loopback; writes .stack/env
	@$(BIN) stack up

down: build ## stop exactly the processes `make up` started (by pid)
	@$(BIN) stack down

status: build ## say which services run and whether they answer
	@$(BIN) stack status

clean-stack: build ## remove .stack/ data, logs and config (stop first; keeps installed binaries)
	@$(BIN) stack clean

vet: ## go vet and gofmt check
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

ifeq ($(PHOTOBENCH_STACK),containers)
# Machines with Docker: testcontainers-go starts the servers (host network,
# same ports), one test binary at a time.
test: build
	$(GO) test $(TEST_FLAGS) -p 1 -tags containers ./...
else
test: deps build ## unit and integration tests against the real stack (starts it if needed, stops only what it started)
	@$(BIN) stack exec -- $(GO) test $(TEST_FLAGS) ./...
endif

loadgen-calibrate: build ## the load generator against vegeta and wrk on a trivial local server (about 10 min; stop other work first)
	@./stack/calibrate-deps.sh
	@$(BIN) calibrate run --rates 1000,5000,10000,20000,30000 --duration 5s --repeats 3 --search-budget 2m

PROFILE ?= quick
bench: deps build ## the side-by-side benchmark of the three variants and its report (PROFILE=quick, a first look, about 9.5 min; PROFILE=full, about 1 h 20 min at most) into results/<date>-<profile>/
	@$(BIN) bench --profile $(PROFILE)

chaos: deps build ## the fault matrix on a scratch stack of its own (about 8.5 min): SIGKILL each process under load, count lost and duplicated uploads; results/chaos.md
	@$(BIN) chaos

demo-vision-outage: build ## workshop demo against make up (about 2.5 min): a 40 s vision outage, the three apps side by side
	@$(BIN) demo vision-outage

live: build ## the workshop room against make up: a live page of the three apps side by side with fault buttons, on http://127.0.0.1:18100/ (Ctrl-C ends it)
	@$(BIN) live $(LIVE_FLAGS)

demo-slow-vision: build ## workshop demo against make up (about 2.5 min): vision 10x slower for 40 s, the three apps side by side
	@$(BIN) demo slow-vision
