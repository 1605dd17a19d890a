package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// moduleVsGoRun is the target for fnrun / go run on a module path.
const moduleVsGoRun = 0.2

// moduleFixture is example.com/fn v1.0.0 in goproxytest's txtar format.
const moduleFixture = `-- .mod --
module example.com/fn

go 1.22
-- .info --
{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}
-- go.mod --
module example.com/fn

go 1.22
-- main.go --
package main

import "fmt"

func main() { fmt.Println("example.com/fn v1.0.0") }
`

// benchModule compares a warm `fnrun run example.com/fn@v1.0.0` with a warm
// `go run example.com/fn@v1.0.0`, both fetching from a local GOPROXY into a
// private module cache.
func benchModule(ctx context.Context, b *bench) ([]row, error) {
	n := b.pick(15, 5)
	dir := filepath.Join(b.work, "module")
	proxyDir := filepath.Join(dir, "proxy")
	runDir := filepath.Join(dir, "run") // outside any module
	modcache := filepath.Join(dir, "modcache")
	if err := writeFiles(proxyDir, map[string]string{"example.com_fn_v1.0.0.txt": moduleFixture}); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, err
	}
	proxy, err := startProxy(proxyDir)
	if err != nil {
		return nil, err
	}
	defer proxy.close()
	env := b.env(
		"GOPROXY="+proxy.URL, "GONOSUMDB=example.com", "GOSUMDB=off", "GOFLAGS=-modcacherw",
		"GOMODCACHE="+modcache, "GOTOOLCHAIN=local", "GOWORK=off", "GOPRIVATE=", "GONOPROXY=",
	)
	defer func() {
		b.goCmd(context.Background(), runDir, env, "clean", "-modcache")
		removeAll(modcache)
	}()

	const mod = "example.com/fn@v1.0.0"
	if b.haveFnrun() {
		cold, err := b.runTimed(ctx, "fnrun-fill", b.command(runDir, env, b.fnrun, "run", mod), runTimeout)
		if err != nil {
			return nil, fmt.Errorf("fill the cache: %w", err)
		}
		b.logf("cold fnrun run %s: %s", mod, fmtDur(cold))
	}
	cold, err := b.runTimed(ctx, "gorun-fill", b.command(runDir, env, "go", "run", mod), runTimeout)
	if err != nil {
		return nil, fmt.Errorf("warm up go run: %w", err)
	}
	b.logf("cold go run %s: %s", mod, fmtDur(cold))

	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		fn.run = func() (float64, error) {
			d, err := b.runTimed(ctx, "fnrun-module", b.command(runDir, env, b.fnrun, "run", mod), runTimeout)
			return d.Seconds(), err
		}
	}
	gorun := &side{name: "go run", run: func() (float64, error) {
		d, err := b.runTimed(ctx, "gorun-module", b.command(runDir, env, "go", "run", mod), runTimeout)
		return d.Seconds(), err
	}}
	b.logf("warm module run: %d interleaved runs each", n)
	if err := b.alternate(n, fmtMS, fn, gorun); err != nil {
		return nil, err
	}
	f, g := median(fn.samples), median(gorun.samples)
	r := row{
		measure: "warm module run",
		fnrun:   fmtMS(f), ref: fmtMS(g) + " (go run)",
		target: fmt.Sprintf("<= %.2fx", moduleVsGoRun),
		status: verdict(b.haveFnrun(), g > 0 && f/g <= moduleVsGoRun),
	}
	return []row{b.withRatio(r, f, g)}, nil
}
