package build

import (
	"bufio"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"go/version"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// target is what decides whether the go command compiles a file: the
// platform, cgo, the Go release and the build tags. It stands in for
// go/build's Context, whose package initialisation (internal/platform,
// internal/buildcfg) cost 0.25 ms of every fnrun start, a warm start included,
// for a check that only a cache miss makes (checkMain). A verdict that a
// package is not main is confirmed with `go list` before it is reported.
type target struct {
	goos, goarch string
	cgo          bool
	release      int // N of go1.N
	tags         map[string]bool
}

func newTarget(f *facts, tags string) *target {
	t := &target{goos: f.get("GOOS"), goarch: f.get("GOARCH"), cgo: f.get("CGO_ENABLED") == "1", tags: map[string]bool{}}
	if v, ok := parseGover(f.get("GOVERSION")); ok {
		t.release, _ = strconv.Atoi(strings.TrimPrefix(version.Lang(v), "go1."))
	}
	for _, tag := range strings.Split(tags, ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			t.tags[tag] = true
		}
	}
	return t
}

// Known operating systems and architectures (go/build's lists): a file
// name suffix that names one restricts the file to it.
var (
	knownOS = strings.Fields("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd " +
		"openbsd plan9 solaris wasip1 windows zos")
	unixOS    = strings.Fields("aix android darwin dragonfly freebsd hurd illumos ios linux netbsd openbsd solaris")
	knownArch = strings.Fields("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le " +
		"mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm")
)

func isOneOf(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// has reports whether tag is satisfied for t.
func (t *target) has(tag string) bool {
	switch {
	case tag == t.goos || tag == t.goarch || tag == "gc" || t.tags[tag]:
		return true
	case tag == "unix":
		return isOneOf(t.goos, unixOS)
	case tag == "cgo":
		return t.cgo
	case tag == "linux":
		return t.goos == "android"
	case tag == "solaris":
		return t.goos == "illumos"
	case tag == "darwin":
		return t.goos == "ios"
	case strings.HasPrefix(tag, "go1."):
		n, err := strconv.Atoi(tag[len("go1."):])
		return err == nil && n >= 1 && n <= t.release
	}
	return false
}

// goodOSArch reports whether the name's _GOOS, _GOARCH or _GOOS_GOARCH
// suffix (before .go and _test) allows the file on t.
func (t *target) goodOSArch(name string) bool {
	name, _, _ = strings.Cut(name, ".")
	i := strings.Index(name, "_")
	if i < 0 {
		return true
	}
	l := strings.Split(name[i:], "_")
	if n := len(l); n > 0 && l[n-1] == "test" {
		l = l[:n-1]
	}
	n := len(l)
	switch {
	case n >= 2 && isOneOf(l[n-2], knownOS) && isOneOf(l[n-1], knownArch):
		return t.has(l[n-2]) && t.has(l[n-1])
	case n >= 1 && isOneOf(l[n-1], knownOS):
		return t.has(l[n-1])
	case n >= 1 && isOneOf(l[n-1], knownArch):
		return t.has(l[n-1])
	}
	return true
}

// matchFile reports whether the go command compiles dir/name for t: its
// name, then its //go:build line (or // +build lines) in the comments
// before the package clause.
func (t *target) matchFile(dir, name string) (bool, error) {
	if !t.goodOSArch(name) {
		return false, nil
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return false, err
	}
	defer f.Close()
	var plus []constraint.Expr
	sc := bufio.NewScanner(f)
	inBlock := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case inBlock:
			if _, after, ok := strings.Cut(line, "*/"); ok {
				inBlock = false
				if strings.TrimSpace(after) != "" {
					return t.plusOK(plus), nil
				}
			}
			continue
		case line == "":
			continue
		case strings.HasPrefix(line, "/*"):
			if !strings.Contains(line[2:], "*/") {
				inBlock = true
			}
			continue
		case !strings.HasPrefix(line, "//"):
			return t.plusOK(plus), nil // the package clause: no //go:build line
		case constraint.IsGoBuild(line):
			x, err := constraint.Parse(line)
			if err != nil {
				return true, nil // go build reports it
			}
			return x.Eval(t.has), nil
		case constraint.IsPlusBuild(line):
			if x, err := constraint.Parse(line); err == nil {
				plus = append(plus, x)
			}
		}
	}
	return t.plusOK(plus), sc.Err()
}

func (t *target) plusOK(plus []constraint.Expr) bool {
	for _, x := range plus {
		if !x.Eval(t.has) {
			return false
		}
	}
	return true
}

// hostTarget is the target of a go command run here with the environment
// env (GOOS, GOARCH and CGO_ENABLED as set there, else this machine's).
func hostTarget(env []string, tags string) *target {
	get := func(k, def string) string {
		if v, ok := lookupEnv(env, k); ok && v != "" {
			return v
		}
		return def
	}
	f := &facts{Env: map[string]string{
		"GOOS": get("GOOS", runtime.GOOS), "GOARCH": get("GOARCH", runtime.GOARCH),
		"CGO_ENABLED": get("CGO_ENABLED", "1"), "GOVERSION": runtime.Version(),
	}}
	return newTarget(f, tags)
}

// PackageFiles returns the package name and the non-test Go files (base
// names, sorted) of dir that a go command run with the environment env and
// the build tags would compile. An error says why dir holds no package:
// no buildable Go files, or files of several packages.
func PackageFiles(dir string, env []string, tags string) (name string, files []string, err error) {
	t := hostTarget(env, tags)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	fset := token.NewFileSet()
	var first string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") ||
			strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		if ok, err := t.matchFile(dir, n); err != nil {
			return "", nil, err
		} else if !ok {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.PackageClauseOnly)
		if err != nil {
			return "", nil, err
		}
		switch pkg := f.Name.Name; {
		case pkg == "documentation":
			continue // go/build ignores such files
		case name == "":
			name, first = pkg, n
		case pkg != name:
			return "", nil, fmt.Errorf("found packages %s (%s) and %s (%s) in %s", name, first, pkg, n, dir)
		}
		files = append(files, n)
	}
	if len(files) == 0 {
		return "", nil, fmt.Errorf("no buildable Go source files in %s", dir)
	}
	return name, files, nil
}
