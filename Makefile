GO ?= go
BIN := bin/fnrun
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/fnrun/fnrun/internal/cli.Version=$(VERSION)

.PHONY: build install test bench demo fuzz lint clean

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

# lint runs staticcheck (fetched through the module proxy at a fixed version).
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# fuzz runs each fuzzer for FUZZTIME (the seeds also run in `make test`).
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime $(FUZZTIME) ./fetch/
	$(GO) test -run XXX -fuzz FuzzEnvFile -fuzztime $(FUZZTIME) ./internal/cli/
	$(GO) test -run XXX -fuzz FuzzParseSignal -fuzztime $(FUZZTIME) ./internal/cli/

clean:
	rm -rf bin
