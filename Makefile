GO ?= go
BIN := bin/fnrun
PREFIX ?= $(HOME)/go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/fnrun/fnrun/internal/cli.Version=$(VERSION)

.PHONY: build install test bench demo fuzz clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/fnrun

install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/fnrun

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench: build
	$(GO) run ./internal/bench -fnrun $(BIN)

demo: build
	$(GO) run ./internal/demo -fnrun $(BIN)

clean:
	rm -rf bin
