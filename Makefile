# tug — build, run and test.
#   make up     install what is missing, build, start a single-node cluster
#   make test   install what tests need, run every test
SHELL := /bin/bash
export GOTOOLCHAIN := local
export CGO_ENABLED := 0

GO        ?= go
BIN       := bin/tug
DATA_DIR  ?= /var/lib/tug
VERSION   ?= v0.1.0
KUBE_VERSION := v1.37.2
LDFLAGS := -s -w \
	-X github.com/tugcluster/tug/internal/version.Version=$(VERSION) \
	-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=37 \
	-X k8s.io/client-go/pkg/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=1 \
	-X k8s.io/client-go/pkg/version.gitMinor=37

.PHONY: all build deps test-deps up down test test-unit test-fuzz test-e2e vet bench bench-server clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-test-deps.sh

build: deps
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tug

up: build
	@DATA_DIR=$(DATA_DIR) scripts/up.sh

down:
	@DATA_DIR=$(DATA_DIR) scripts/down.sh

vet:
	@test -z "$$(gofmt -l cmd internal pkg test bench 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l cmd internal pkg test bench; exit 1; }
	$(GO) vet ./...

test: test-deps build vet test-unit test-fuzz test-e2e

test-unit:
	$(GO) test -count=1 -timeout 20m ./...

# Each fuzz target runs briefly; the seed corpus also runs in test-unit.
FUZZ_TIME ?= 15s
test-fuzz:
	@scripts/fuzz.sh $(FUZZ_TIME)

test-e2e: build
	TUG_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m -tags e2e ./test/e2e/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bench/...

# Start time, idle and loaded memory of the real binary (see docs/benchmarks.md).
bench-server: build
	TUG_BIN=$(CURDIR)/$(BIN) $(GO) run ./bench/cmd/serverload

clean:
	rm -rf bin
