package build

import (
	"context"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fnrun/fnrun/internal/toolcmd"
)

// checkGoVersion refuses a module whose go directive is newer than the
// toolchain when toolchain switching is off (GOTOOLCHAIN=local, fnrun's
// default), instead of letting the go command fail with a longer message.
func checkGoVersion(p *plan) error {
	if err := p.parseMod(); err != nil { // a go.mod with errors is refused in any case
		return err
	}
	if tc := p.facts.get("GOTOOLCHAIN"); tc != "local" && tc != "" {
		return nil
	}
	have := strings.TrimPrefix(p.facts.get("GOVERSION"), "go")
	if i := strings.IndexAny(have, " -+"); i >= 0 {
		have = have[:i]
	}
	type directive struct{ file, need string }
	var ds []directive
	if p.mf.Go != nil {
		ds = append(ds, directive{p.modFile, p.mf.Go.Version})
	}
	if p.work != nil && p.work.wf.Go != nil {
		ds = append(ds, directive{p.work.file, p.work.wf.Go.Version})
	}
	for _, d := range ds {
		if _, ok := parseGover(have); ok && compareGo(d.need, have) > 0 {
			return &GoVersionError{File: d.file, Need: d.need, Have: have}
		}
	}
	return nil
}

// checkMain reads the package clauses of the package's Go files (honouring
// build constraints for the target) and returns a *NotMainError when they
// name another package or when the directory has no Go files to build (none,
// only tests, or all excluded by build constraints). Other problems (an
// unreadable directory, files that do not parse) are left to go build, which
// says more. Its reading of build constraints is fnrun's own (target): a
// verdict of "not main" is confirmed by `go list` before it is returned.
func (b *Builder) checkMain(ctx context.Context, p *plan) error {
	t := newTarget(p.facts, b.opts.Tags)
	name, files, err := packageName(t, p.pkgDir)
	if err != nil || name == "main" || (name == "" && files > 0) {
		return nil
	}
	if b.goListName(ctx, p) == "main" {
		return nil
	}
	return &NotMainError{Dir: p.pkgDir, ImportPath: p.importPath, Name: name, Mains: findMains(t, p)}
}

// goListName is the package name `go list` gives the package of p, "" when
// it cannot say (no Go files, or the go command failed).
func (b *Builder) goListName(ctx context.Context, p *plan) string {
	args := []string{"list", "-e", "-f", "{{.Name}}"}
	if b.opts.Tags != "" {
		args = append(args, "-tags", b.opts.Tags)
	}
	cmd := toolcmd.Command(ctx, p.facts.GoPath, append(args, ".")...)
	cmd.Dir = p.pkgDir
	cmd.Env = append(b.goCmdEnv(), p.req.Env...)
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// packageName returns the package name of the non-test Go files in dir that
// match ctx, preferring "main" if several names appear ("" if none could be
// read), and how many such files there are.
func packageName(t *target, dir string) (name string, files int, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", 0, err
	}
	fset := token.NewFileSet()
	found := ""
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") ||
			strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		if ok, err := t.matchFile(dir, n); err != nil || !ok {
			if err != nil {
				files++ // unreadable: let go build report it
			}
			continue
		}
		files++
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.PackageClauseOnly)
		if err != nil {
			continue
		}
		if f.Name.Name == "main" {
			return "main", files, nil
		}
		if found == "" && f.Name.Name != "documentation" {
			found = f.Name.Name
		}
	}
	return found, files, nil
}

// findMains lists the import paths of the main packages in the module
// (vendor, testdata, hidden, _ directories and nested modules excluded).
func findMains(t *target, p *plan) []string {
	files, err := walkTree(tree{label: ".", dir: p.modRoot}, nil)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var mains []string
	for _, f := range files {
		_, rel, _ := strings.Cut(f.dir, ":")
		if seen[rel] || !strings.HasSuffix(f.rel, ".go") || rel == "vendor" || strings.HasPrefix(rel, "vendor/") {
			continue
		}
		seen[rel] = true
		if name, _, _ := packageName(t, filepath.Dir(f.abs)); name == "main" {
			ip := p.modPath
			if rel != "." {
				ip = path.Join(ip, rel)
			}
			mains = append(mains, ip)
		}
	}
	sort.Strings(mains)
	return mains
}
