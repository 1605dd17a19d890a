package build

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A cold build records the packages of the import graph inside the local
// trees (module, replace target, vendor, embed); a warm build reads them
// back; Matters follows them.
func TestBuilder_Build_Inputs(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	top := t.TempDir()
	mod := filepath.Join(top, "m")
	writeFiles(t, top, map[string]string{
		"m/go.mod": "module example.com/m\n\ngo 1.22\n\nrequire example.com/rep v0.0.0\n\nreplace example.com/rep => ../rep\n",
		"m/cmd/a/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/lib\"\n\t\"example.com/rep/sub\"\n)\n\n" +
			"func main() { fmt.Println(lib.Msg, sub.X) }\n",
		"m/cmd/b/main.go":         "package main\n\nfunc main() {}\n",
		"m/lib/lib.go":            "package lib\n\nimport \"example.com/m/web\"\n\nvar Msg = web.Index\n",
		"m/lib/lib_windows.go":    "package lib\n\nimport _ \"example.com/m/winonly\"\n",
		"m/winonly/w.go":          "package winonly\n",
		"m/web/web.go":            "package web\n\nimport _ \"embed\"\n\n//go:embed static/index.html\nvar Index string\n",
		"m/web/static/index.html": "<p>one</p>\n",
		"m/unused/u.go":           "package unused\n",
		"rep/go.mod":              "module example.com/rep\n\ngo 1.22\n",
		"rep/sub/sub.go":          "package sub\n\nconst X = 1\n",
		"rep/other/o.go":          "package other\n",
	})
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	req := Request{ModuleDir: mod, PackageDir: filepath.Join(mod, "cmd", "a"), Watch: true}
	res := mustBuild(t, b, req)
	if res.CacheHit || res.Inputs == nil {
		t.Fatalf("cold build: hit %v, inputs %v; want a build with inputs", res.CacheHit, res.Inputs)
	}
	j := func(rel string) string { return filepath.Join(top, filepath.FromSlash(rel)) }
	want := []string{j("m/cmd/a"), j("m/lib"), j("m/web"), j("m/winonly"), j("rep/sub")}
	slices.Sort(want)
	if !slices.Equal(res.Inputs.Packages, want) {
		t.Errorf("packages = %v, want %v", res.Inputs.Packages, want)
	}
	if want := []string{j("m/web")}; !slices.Equal(res.Inputs.Trees, want) {
		t.Errorf("trees = %v, want %v", res.Inputs.Trees, want)
	}
	entries, err := List(b.root)
	if err != nil || len(entries) != 1 || !entries[0].Watch {
		t.Errorf("List = %+v, %v; want one entry with Watch set", entries, err)
	}

	warm := mustBuild(t, b, Request{ModuleDir: mod, PackageDir: filepath.Join(mod, "cmd", "a")})
	if !warm.CacheHit || warm.Inputs == nil || !slices.Equal(warm.Inputs.Packages, res.Inputs.Packages) {
		t.Errorf("warm build: hit %v, inputs %+v; want a hit with the recorded inputs", warm.CacheHit, warm.Inputs)
	}

	os.MkdirAll(j("m/lib/newpkg"), 0o755)
	for p, want := range map[string]bool{
		j("m/lib/lib.go"):            true,
		j("m/lib/new.go"):            true, // a new file in a package
		j("m/lib"):                   true, // the package directory removed or renamed
		j("m"):                       true, // an ancestor of package directories
		j("m/web/static/index.html"): true, // embedded
		j("rep/sub/sub.go"):          true,
		j("m/go.mod"):                true,
		j("m/cmd/b/go.sum"):          true,
		j("m/cgo/x.h"):               true, // cgo may include it from anywhere
		j("m/cmd/b/main.go"):         false,
		j("m/cmd/b"):                 false,
		j("m/unused/u.go"):           false,
		j("rep/other/o.go"):          false,
		j("m/README.md"):             false,
		j("m/lib/newpkg"):            false, // a new package: counts once imported
		j("m/newdir/n.go"):           false,
	} {
		if got := res.Inputs.Matters(p); got != want {
			t.Errorf("Matters(%s) = %v, want %v", p, got, want)
		}
	}
	if !(*Inputs)(nil).Matters(j("m/anything")) {
		t.Error("nil Inputs: Matters = false, want true")
	}
}

// An entry without a record (built before fnrun recorded inputs) gives nil
// Inputs: every change matters.
func TestBuilder_Build_InputsOldEntry(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	mod := helloModule(t, "old")
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	res := mustBuild(t, b, Request{ModuleDir: mod})
	dir := filepath.Dir(res.Path)
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["inputs"]; !ok {
		t.Fatalf("meta.json has no inputs: %s", data)
	}
	if _, ok := raw["watch"]; ok {
		t.Errorf("meta.json of a build without Request.Watch says watch: %s", data)
	}
	delete(raw, "inputs")
	data, _ = json.Marshal(raw)
	if err := os.WriteFile(filepath.Join(dir, metaFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	warm := mustBuild(t, b, Request{ModuleDir: mod})
	if !warm.CacheHit || warm.Inputs != nil {
		t.Errorf("old entry: hit %v, inputs %+v; want a hit without inputs", warm.CacheHit, warm.Inputs)
	}
	if entries, _ := List(b.root); len(entries) != 1 || entries[0].Watch {
		t.Errorf("List = %+v, want one entry without Watch", entries)
	}
}

// Remove removes an entry unless it is pinned (by this process too), and
// says when there is none.
func TestBuilder_Remove(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	res := mustBuild(t, b, Request{ModuleDir: helloModule(t, "rm")})
	release, err := Pin(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if removed, err := b.Remove(res.Key); removed || err != nil {
		t.Errorf("Remove of a pinned entry = %v, %v; want false, nil", removed, err)
	}
	release()
	if removed, err := b.Remove(res.Key); !removed || err != nil {
		t.Errorf("Remove = %v, %v; want true, nil", removed, err)
	}
	if _, err := os.Stat(filepath.Dir(res.Path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("entry still there after Remove: %v", err)
	}
	if removed, err := b.Remove(res.Key); removed || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove of a removed entry = %v, %v; want false, fs.ErrNotExist", removed, err)
	}
	if _, err := b.Remove("../../x"); err == nil {
		t.Error("Remove of a malformed key succeeded")
	}
}

// A module reached through a symbolic link: paths reported under the
// resolved name (as a watcher of a linked root reports them) matter too.
func TestBuilder_Build_InputsSymlink(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	mod := helloModule(t, "link")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(mod, link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	res := mustBuild(t, b, Request{ModuleDir: link})
	real, err := filepath.EvalSymlinks(mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(link, "main.go"), filepath.Join(real, "main.go")} {
		if !res.Inputs.Matters(p) {
			t.Errorf("Matters(%s) = false, want true", p)
		}
	}
}
