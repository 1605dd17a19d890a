package build

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

func TestDependencyDirs(t *testing.T) {
	root := filepath.FromSlash("/src/fn")
	at := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	ws := func(file string) *workspace { return &workspace{file: file} }
	for _, tc := range []struct {
		name  string
		trees []string
		work  *workspace
		want  []string
	}{
		{"module only", []string{root}, nil, []string{root}},
		{"replace outside", []string{root, at("../lib")}, nil, []string{root, filepath.FromSlash("/src/lib")}},
		{"replace inside is covered", []string{root, at("sub/lib")}, nil, []string{root}},
		{"replace beside, same prefix", []string{root, root + "lib"}, nil, []string{root, root + "lib"}},
		{"replace under testdata kept", []string{root, at("testdata/lib")}, nil, []string{root, at("testdata/lib")}},
		{"replace under _dir kept", []string{root, at("_third/lib")}, nil, []string{root, at("_third/lib")}},
		{"replace under hidden dir kept", []string{root, at(".deps/lib")}, nil, []string{root, at(".deps/lib")}},
		{"replace under vendor kept", []string{root, at("vendor/lib")}, nil, []string{root, at("vendor/lib")}},
		{"covered by a kept one", []string{root, at("testdata/lib"), at("testdata/lib/x")}, nil,
			[]string{root, at("testdata/lib")}},
		{"workspace above covers all", []string{root, at("../lib")}, ws(at("../go.work")), []string{filepath.FromSlash("/src")}},
		{"workspace elsewhere", []string{root}, ws(filepath.FromSlash("/etc/ws/other.work")),
			[]string{filepath.FromSlash("/etc/ws"), root}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var trees []tree
			for _, d := range tc.trees {
				trees = append(trees, tree{label: d, dir: d})
			}
			if got := dependencyDirs(trees, tc.work); !slices.Equal(got, tc.want) {
				t.Errorf("dependencyDirs = %q, want %q", got, tc.want)
			}
		})
	}
}

// checkDirs asserts that Dirs lists want (in any order).
func checkDirs(t *testing.T, b *Builder, req Request, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	got, err := b.Dirs(context.Background(), req)
	if err != nil {
		t.Fatalf("Dirs: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Dirs = %q, want %q", got, want)
	}
}

// keyChanges asserts that writing file (relative to dir) changes req's key.
func keyChanges(t *testing.T, b *Builder, req Request, dir, file, content string) {
	t.Helper()
	before := mustKey(t, b, req)
	writeFiles(t, dir, map[string]string{file: content})
	if after := mustKey(t, b, req); after == before {
		t.Errorf("key unchanged after writing %s", filepath.Join(dir, file))
	}
}

func TestBuilder_Dirs_Replace(t *testing.T) {
	t.Parallel()
	path, log := pathWithGo(t)
	tmp := t.TempDir()
	mod, lib, inner := filepath.Join(tmp, "fn"), filepath.Join(tmp, "lib"), filepath.Join(tmp, "fn", "inner")
	writeFiles(t, tmp, map[string]string{
		"fn/go.mod": "module example.com/fn\n\ngo 1.22\n\nrequire (\n\texample.com/lib v0.0.0\n\texample.com/inner v0.0.0\n)\n\n" +
			"replace example.com/lib => ../lib\n\nreplace example.com/inner => ./inner\n",
		"fn/main.go": "package main\n\nimport (\n\t\"example.com/inner\"\n\t\"example.com/lib\"\n)\n\n" +
			"func main() { println(lib.Msg + inner.Msg) }\n",
		"fn/inner/go.mod":   "module example.com/inner\n\ngo 1.22\n",
		"fn/inner/inner.go": "package inner\n\nconst Msg = \"inner\"\n",
		"lib/go.mod":        "module example.com/lib\n\ngo 1.22\n",
		"lib/lib.go":        "package lib\n\nconst Msg = \"lib\"\n",
	})
	root := t.TempDir()
	b := newBuilder(t, root, testEnv(path), nil)
	req := Request{ModuleDir: mod}
	want := []string{mod, lib} // inner is inside mod
	res := mustBuild(t, b, req)
	if !slices.Equal(res.Dirs, want) {
		t.Errorf("Build (miss): Dirs = %q, want %q", res.Dirs, want)
	}
	if res = mustBuild(t, newBuilder(t, root, testEnv(path), nil), req); !res.CacheHit || !slices.Equal(res.Dirs, want) {
		t.Errorf("Build (hit %v): Dirs = %q, want %q", res.CacheHit, res.Dirs, want)
	}
	envRuns := goRuns(t, log, "env")
	checkDirs(t, newBuilder(t, root, testEnv(path), nil), req, want)
	if got := goRuns(t, log, "env"); got != envRuns {
		t.Errorf("Dirs with the toolchain facts cached ran go env %d times, want 0", got-envRuns)
	}
	keyChanges(t, b, req, lib, "more.go", "package lib\n")
	keyChanges(t, b, req, inner, "more.go", "package inner\n")

	// Remote sources depend on no local directory.
	if dirs, err := b.Dirs(context.Background(), Request{ModuleDir: mod, Identity: "git 0123"}); err != nil || dirs != nil {
		t.Errorf("Dirs of a remote source = %q, %v; want nil", dirs, err)
	}
}

// workspaceTree writes ws/go.work using ./fn, ./lib and a module outside
// ws, and returns the directories of ws, fn and the outside module.
func workspaceTree(t *testing.T) (ws, fn, outside string) {
	t.Helper()
	tmp := t.TempDir()
	ws, fn, outside = filepath.Join(tmp, "ws"), filepath.Join(tmp, "ws", "fn"), filepath.Join(tmp, "outside")
	writeFiles(t, tmp, map[string]string{
		"ws/go.work":   "go 1.22\n\nuse (\n\t./fn\n\t./lib\n\t" + outside + "\n)\n",
		"ws/fn/go.mod": "module example.com/fn\n\ngo 1.22\n\nrequire (\n\texample.com/lib v0.0.0\n\texample.com/outside v0.0.0\n)\n",
		"ws/fn/main.go": "package main\n\nimport (\n\t\"example.com/lib\"\n\t\"example.com/outside\"\n)\n\n" +
			"func main() { println(lib.Msg + outside.Msg) }\n",
		"ws/lib/go.mod":      "module example.com/lib\n\ngo 1.22\n",
		"ws/lib/lib.go":      "package lib\n\nconst Msg = \"lib\"\n",
		"outside/go.mod":     "module example.com/outside\n\ngo 1.22\n",
		"outside/outside.go": "package outside\n\nconst Msg = \"outside\"\n",
	})
	return ws, fn, outside
}

func TestBuilder_Dirs_Workspace(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	ws, fn, outside := workspaceTree(t)
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	req := Request{ModuleDir: fn}
	want := []string{outside, ws} // fn and lib are inside ws, beside go.work
	if res := mustBuild(t, b, req); !slices.Equal(res.Dirs, want) {
		t.Errorf("Build: Dirs = %q, want %q", res.Dirs, want)
	}
	checkDirs(t, b, req, want)
	keyChanges(t, b, req, outside, "more.go", "package outside\n")
	keyChanges(t, b, req, filepath.Join(ws, "lib"), "more.go", "package lib\n")
	keyChanges(t, b, req, ws, "go.work.sum", "example.com/x v1.0.0 h1:AAAA=\n")
}

func TestBuilder_Dirs_GoworkOff(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	_, fn, _ := workspaceTree(t)
	b := newBuilder(t, t.TempDir(), append(testEnv(path), "GOWORK=off"), nil)
	checkDirs(t, b, Request{ModuleDir: fn}, []string{fn})
}

func TestBuilder_Dirs_GoworkFile(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	_, fn, outside := workspaceTree(t) // ws/go.work must be ignored
	other := filepath.Join(t.TempDir(), "other")
	writeFiles(t, other, map[string]string{
		"other.work":    "go 1.22\n\nuse (\n\t" + fn + "\n\t./lib3\n)\n",
		"lib3/go.mod":   "module example.com/lib3\n\ngo 1.22\n",
		"lib3/lib3.go":  "package lib3\n",
		"unrelated.txt": "x\n",
	})
	b := newBuilder(t, t.TempDir(), append(testEnv(path), "GOWORK="+filepath.Join(other, "other.work")), nil)
	req := Request{ModuleDir: fn}
	checkDirs(t, b, req, []string{fn, other})
	keyChanges(t, b, req, other, "other.work.sum", "example.com/x v1.0.0 h1:AAAA=\n")
	keyChanges(t, b, req, filepath.Join(other, "lib3"), "more.go", "package lib3\n")
	// The default workspace is not in effect: the outside module is not an input.
	before := mustKey(t, b, req)
	writeFiles(t, outside, map[string]string{"more.go": "package outside\n"})
	if after := mustKey(t, b, req); after != before {
		t.Error("key changed after editing a module of the go.work that GOWORK overrides")
	}
}
