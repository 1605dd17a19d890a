GO ?= go
BIN := bin/fnrun
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/fnrun/fnrun/internal/cli.Version=$(VERSION)
# urfave/cli's man/markdown generators (and blackfriday's init) are not used.
TAGS := urfave_cli_no_docs
# A static binary: no dynamic loader at each start (1.2 ms of every fnrun
# start, and of every --listen run through the exec shim); fnrun needs no C.
# Only for build and install: go test -race needs cgo.
STATIC := CGO_ENABLED=0

.PHONY: build install test unix-only bench demo fuzz lint clean

build:
	$(STATIC) $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/fnrun

install:
	$(STATIC) $(GO) install -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' ./cmd/fnrun

test: unix-only
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# unix-only proves that fnrun supports Unix systems and only them: macOS and
# the BSDs compile, and a Windows build fails with the guard's one message and
# nothing else (see internal/unixonly). `make test` runs it first, so that go
# test's summary stays the last thing it prints.
UNIXONLY_MSG := fnrun_supports_only_unix_systems__windows_is_not_supported
unix-only:
	GOOS=darwin $(GO) vet ./...
	GOOS=freebsd $(GO) build ./...
	GOOS=openbsd $(GO) build ./...
	@if out=$$(GOOS=windows $(GO) build ./... 2>&1); then \
		echo 'GOOS=windows go build ./... succeeded: want it refused by internal/unixonly'; exit 1; \
	fi; \
	if ! printf '%s\n' "$$out" | grep -q '$(UNIXONLY_MSG)' || \
		printf '%s\n' "$$out" | grep -v -e '^# ' -e '^go: downloading ' | grep -qv '$(UNIXONLY_MSG)'; then \
		printf 'GOOS=windows go build ./...: want only the error naming $(UNIXONLY_MSG), got:\n%s\n' "$$out"; exit 1; \
	fi; \
	echo 'GOOS=windows go build ./... refused, as intended: $(UNIXONLY_MSG)'

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
	$(GO) test -run XXX -fuzz FuzzEnvFile -fuzztime $(FUZZTIME) ./internal/fn/
	$(GO) test -run XXX -fuzz FuzzParseSignal -fuzztime $(FUZZTIME) ./internal/cli/
	$(GO) test -run XXX -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./internal/system/
	$(GO) test -run XXX -fuzz FuzzSplitWords -fuzztime $(FUZZTIME) ./internal/system/
	$(GO) test -run XXX -fuzz FuzzParseFacts -fuzztime $(FUZZTIME) ./build/

clean:
	rm -rf bin
