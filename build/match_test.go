package build

import (
	"fmt"
	gobuild "go/build"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestMatchFileAgreesWithGoBuild compares target.matchFile with go/build's
// Context.MatchFile, which it stands in for, on file names and headers of
// every kind, for several targets.
func TestMatchFileAgreesWithGoBuild(t *testing.T) {
	dir := t.TempDir()
	headers := []string{
		"",
		"//go:build linux\n\n",
		"//go:build !linux\n\n",
		"//go:build unix && !cgo\n\n",
		"//go:build cgo\n\n",
		"//go:build (darwin || freebsd) && arm64\n\n",
		"//go:build go1.21\n\n",
		"//go:build go1.99\n\n",
		"//go:build mytag\n\n",
		"//go:build !mytag\n\n",
		"//go:build ignore\n\n",
		"//go:build gc\n\n",
		"// Copyright notice.\n\n//go:build windows\n\n",
		"/* block\ncomment */\n//go:build linux && amd64\n\n",
		"// +build linux darwin\n\n",
		"// +build linux\n// +build arm64\n\n",
		"// +build !windows,amd64\n\n",
		"// Package doc.\n",
	}
	names := []string{"main.go", "x_linux.go", "x_windows.go", "x_linux_arm64.go", "x_darwin_amd64.go",
		"x_amd64.go", "x_test_linux.go", "linux.go", "x_unix.go", "x_android.go", "x_ios.go", "x_illumos.go", "a_b_c.go"}
	type tgt struct {
		goos, goarch string
		cgo          bool
		tags         string
	}
	targets := []tgt{
		{"linux", "amd64", true, ""}, {"linux", "arm64", false, "mytag"}, {"darwin", "arm64", true, ""},
		{"windows", "amd64", false, ""}, {"android", "arm64", true, ""}, {"illumos", "amd64", false, "a,b"},
		{"freebsd", "386", false, "mytag"},
	}
	i := 0
	for _, h := range headers {
		for _, n := range names {
			i++
			sub := filepath.Join(dir, fmt.Sprint(i))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, n), []byte(h+"package main\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, tg := range targets {
				ours := newTarget(&facts{Env: map[string]string{"GOOS": tg.goos, "GOARCH": tg.goarch,
					"CGO_ENABLED": map[bool]string{true: "1", false: "0"}[tg.cgo], "GOVERSION": runtime.Version()}}, tg.tags)
				got, err := ours.matchFile(sub, n)
				if err != nil {
					t.Fatal(err)
				}
				ctx := gobuild.Default
				ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = tg.goos, tg.goarch, tg.cgo
				ctx.BuildTags = nil
				if tg.tags != "" {
					ctx.BuildTags = strings.Split(tg.tags, ",")
				}
				want, err := ctx.MatchFile(sub, n)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s with header %q on %+v: matchFile = %v, go/build says %v", n, h, tg, got, want)
				}
			}
		}
	}
}

func TestPackageFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := PackageFiles(dir, nil, ""); err == nil {
		t.Error("PackageFiles of an empty directory succeeded")
	}
	write("main.go", "package main\n")
	write("other_windows.go", "package main\n")
	write("tagged.go", "//go:build extra\n\npackage main\n")
	write("x_test.go", "package main_test\n")
	write("doc.go", "package documentation\n")
	name, files, err := PackageFiles(dir, []string{"GOOS=linux"}, "")
	if err != nil || name != "main" || !slices.Equal(files, []string{"main.go"}) {
		t.Errorf("PackageFiles = %q, %q, %v; want main, [main.go]", name, files, err)
	}
	name, files, err = PackageFiles(dir, []string{"GOOS=windows"}, "extra")
	if err != nil || name != "main" || !slices.Equal(files, []string{"main.go", "other_windows.go", "tagged.go"}) {
		t.Errorf("PackageFiles(windows, extra) = %q, %q, %v", name, files, err)
	}
	write("lib.go", "package lib\n")
	if _, _, err := PackageFiles(dir, []string{"GOOS=linux"}, ""); err == nil {
		t.Error("PackageFiles of two packages succeeded")
	}
}
