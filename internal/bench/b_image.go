package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// imageVsBuild is issue 16's yardstick, not a goal: how much longer than
// `go build` of the same binary `fnrun image` takes. Reported, not judged.
const imageRounds = 3

// benchImage times `fnrun image` of the greeter, cold (an empty fnrun
// cache: the function is built) and warm (cached), beside `CGO_ENABLED=0
// go build` of the same package (the go command's own build cache is warm
// for both), and compares the image's size with the binaries it holds.
func benchImage(ctx context.Context, b *bench) ([]row, error) {
	n := b.pick(imageRounds, 1)
	dir := filepath.Join(b.work, "image")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	examples := filepath.Join(b.root, "examples")
	out := filepath.Join(dir, "greeter.oci")
	bin := filepath.Join(dir, "greeter-bin")
	warmCache := filepath.Join(dir, "cache-warm")
	image := func(cache string) func() (float64, error) {
		return func() (float64, error) {
			os.RemoveAll(out)
			env := b.env("FNRUN_CACHE_DIR=" + cache)
			d, err := b.runTimed(ctx, "fnrun-image", b.command(examples, env, b.fnrun, "image", "-q", "./greeter", "-o", out), runTimeout)
			return d.Seconds(), err
		}
	}
	round := 0
	cold := &side{name: "cold"}
	warm := &side{name: "warm"}
	if b.haveFnrun() {
		cold.run = func() (float64, error) {
			round++
			return image(filepath.Join(dir, fmt.Sprintf("cache-cold-%d", round)))()
		}
		if _, err := image(warmCache)(); err != nil { // fills the warm cache
			return nil, err
		}
		warm.run = image(warmCache)
	}
	gobuild := &side{name: "go build", run: func() (float64, error) {
		cmd := b.command(examples, b.env("CGO_ENABLED=0"), "go", "build", "-o", bin, "./greeter")
		d, err := b.runTimed(ctx, "go-build", cmd, runTimeout)
		return d.Seconds(), err
	}}
	if _, err := gobuild.run(); err != nil { // the go command's cache is warm for every side
		return nil, err
	}
	b.logf("image: %d interleaved rounds", n)
	if err := b.alternate(n, fmtMS, cold, warm, gobuild); err != nil {
		return nil, err
	}
	c, w, g := median(cold.samples), median(warm.samples), median(gobuild.samples)
	rows := []row{
		b.withRatio(row{measure: "image of greeter, cold", fnrun: fmtMS(c), ref: fmtMS(g) + " (go build)", target: "-", status: verdict(b.haveFnrun(), true)}, c, g),
		b.withRatio(row{measure: "image of greeter, warm", fnrun: fmtMS(w), ref: fmtMS(g) + " (go build)", target: "-", status: verdict(b.haveFnrun(), true)}, w, g),
	}
	if b.haveFnrun() {
		size, err := dirSize(out)
		if err != nil {
			return rows, err
		}
		gs, err1 := os.Stat(bin)
		fs, err2 := os.Stat(b.fnrun)
		if err1 == nil && err2 == nil {
			rows = append(rows, row{measure: "image size (compressed)", fnrun: fmtMB(float64(size)),
				ref:    fmt.Sprintf("%s (greeter %s + fnrun %s)", fmtMB(float64(gs.Size()+fs.Size())), fmtMB(float64(gs.Size())), fmtMB(float64(fs.Size()))),
				ratio:  fmtRatio(float64(size), float64(gs.Size()+fs.Size())),
				target: "-", status: verdict(true, true)})
		}
	}
	return rows, nil
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			total += fi.Size()
		}
		return err
	})
	return total, err
}
