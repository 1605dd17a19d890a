package fetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fnrun/fnrun/internal/cache"
)

// tarGzDir archives the regular files and directories of dir.
func tarGzDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// An archive holding a real repository whose config runs a command
// (core.fsmonitor) when git looks at the tree: neither fetching nor
// building the checkout may run it, even with GOFLAGS=-buildvcs=auto.
func TestFetcher_Fetch_archiveVCSMetadata(t *testing.T) {
	env := setenv(testEnv(t, ""), "GOFLAGS", "-mod=mod -buildvcs=auto")
	marker := filepath.Join(t.TempDir(), "pwned")
	src := t.TempDir()
	mod := filepath.Join(src, "fn-1.0")
	writeFile(t, filepath.Join(mod, "go.mod"), archiveFiles["fn-1.0/go.mod"])
	writeFile(t, filepath.Join(mod, "main.go"), archiveFiles["fn-1.0/main.go"])
	writeFile(t, filepath.Join(mod, "sub", ".hg", "hgrc"), "[hooks]\n")
	gitRun(t, env, mod, "init", "--quiet", "-b", "main")
	gitRun(t, env, mod, "add", "-A")
	gitRun(t, env, mod, "commit", "--quiet", "-m", "x")
	gitRun(t, env, mod, "config", "core.fsmonitor", "touch "+marker)
	// The trap works: git status in the repository runs the command.
	gitRun(t, env, mod, "status", "--porcelain")
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("fixture: git status did not run core.fsmonitor: %v", err)
	}
	os.Remove(marker)

	url := serveFiles(t, map[string][]byte{"fn.tar.gz": tarGzDir(t, src)})
	f := newFetcher(t, t.TempDir(), env, false)
	co := fetch(t, f, url+"/fn.tar.gz")
	if !slices.Contains(co.BuildFlags, "-buildvcs=false") {
		t.Errorf("BuildFlags = %q, want -buildvcs=false", co.BuildFlags)
	}
	for _, name := range []string{".git", filepath.Join("sub", ".hg")} {
		if _, err := os.Lstat(filepath.Join(co.ModuleDir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("checkout has %s (%v), want VCS metadata removed", name, err)
		}
	}
	if got := goBuildRun(t, co, env); got != "archive" {
		t.Errorf("output = %q, want archive", got)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("core.fsmonitor of the archive ran")
	}
}

func TestRemoveVCSMetadata(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{".git/config", "a/.svn/x", "a/b/.bzr/y", "a/.hg/z", "c/.git", "c/.fslckout", "keep/.gitignore", "keep/main.go"} {
		writeFile(t, filepath.Join(dir, p), "x")
	}
	if err := removeVCSMetadata(dir); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			left = append(left, filepath.ToSlash(rel))
		}
		return nil
	})
	if want := []string{"keep/.gitignore", "keep/main.go"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
}

// Without HOME, the go command gets a private home in the cache, never a
// shared temporary directory.
func TestFetcher_goEnv_noHome(t *testing.T) {
	var env []string
	for _, kv := range testEnv(t, "") {
		if !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, env, false)
	goEnv, err := f.goEnv()
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(cacheDir, homeDir)
	if got := lastValue(goEnv, "HOME"); got != home {
		t.Errorf("HOME = %q, want %q", got, home)
	}
	if fi, err := os.Lstat(home); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("home %s: %v, %v; want a 0700 directory", home, fi, err)
	}
	// A fetch works with it.
	url := serveFiles(t, map[string][]byte{"fn.tar.gz": makeTarGz(t, archiveFiles)})
	fetch(t, f, url+"/fn.tar.gz")

	// With HOME set, it is the user's.
	withHome, err := newFetcher(t, cacheDir, setenv(env, "HOME", "/home/u"), false).goEnv()
	if err != nil || lastValue(withHome, "HOME") != "/home/u" {
		t.Errorf("HOME = %q, %v; want the user's", lastValue(withHome, "HOME"), err)
	}
}

func lastValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// A remote repository's submodule with a local path is not cloned: the
// fetch fails (CVE-2022-39253 class).
func TestFetcher_Fetch_gitLocalSubmodule(t *testing.T) {
	fx := newGitRepo(t)
	secret := filepath.Join(t.TempDir(), "secret")
	gitRun(t, fx.env, "", "init", "--quiet", "-b", "main", secret)
	writeFile(t, filepath.Join(secret, "key.txt"), "private\n")
	gitRun(t, fx.env, secret, "add", "-A")
	gitRun(t, fx.env, secret, "commit", "--quiet", "-m", "s")
	gitRun(t, fx.env, fx.repo, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet", secret, "vendored")
	gitRun(t, fx.env, fx.repo, "commit", "--quiet", "-m", "submodule")

	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, fx.env, false)
	_, err := f.Fetch(t.Context(), mustParse(t, "git::"+fx.serveHTTP(t)))
	var fe *Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "submodule") && !strings.Contains(fe.Output, "not allowed") {
		t.Errorf("err = %v, want the submodule refused", err)
	} else {
		t.Logf("%v\n%s", err, fe.Output)
	}
	filepath.WalkDir(cacheDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "key.txt" {
			t.Errorf("the local repository was cloned: %s", p)
		}
		return nil
	})
}

// Resolution records that name something else than a checkout of the
// cache are ignored.
func TestFetcher_loadResolution_invalid(t *testing.T) {
	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, testEnv(t, ""), false)
	key := cache.Hash("a checkout")
	writeFile(t, filepath.Join(f.srcDir(key), metaFile), `{"identity":"archive x"}`)
	if err := os.MkdirAll(filepath.Join(f.srcDir(key), treeDir), 0o755); err != nil {
		t.Fatal(err)
	}
	good := resolution{SrcKey: key, Identity: "archive x", ModuleRel: ".", PackageRel: "cmd/x", ImportPath: "example.com/x"}
	if err := f.saveResolution("good", good); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.loadResolution("good"); !ok {
		t.Fatal("valid record ignored")
	}
	for name, mod := range map[string]func(*resolution){
		"upper key":   func(r *resolution) { r.SrcKey = strings.ToUpper(key) },
		"short key":   func(r *resolution) { r.SrcKey = key[:10] },
		"path key":    func(r *resolution) { r.SrcKey = "../../" + key[6:] },
		"mod escapes": func(r *resolution) { r.ModuleRel = "../../.." },
		"pkg escapes": func(r *resolution) { r.PackageRel = "cmd/../../x" },
		"pkg abs":     func(r *resolution) { r.PackageRel = "/etc" },
		"mod empty":   func(r *resolution) { r.ModuleRel = "" },
	} {
		r := good
		mod(&r)
		data, _ := json.Marshal(r)
		writeFile(t, f.resolvePath("bad"), string(data))
		if got, ok := f.loadResolution("bad"); ok {
			t.Errorf("%s: record accepted: %+v", name, got)
		}
	}
}

// A remote tree without go.mod is not a *NoModuleError: there is no
// directory the user could run go mod init in.
func TestFetcher_Fetch_archiveNoModule(t *testing.T) {
	url := serveFiles(t, map[string][]byte{"fn.tar.gz": makeTarGz(t, map[string]string{"fn/main.go": "package main\n"})})
	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, testEnv(t, ""), false)
	_, err := f.Fetch(t.Context(), mustParse(t, url+"/fn.tar.gz"))
	var nm *NoModuleError
	if err == nil || errors.As(err, &nm) || !strings.Contains(err.Error(), "no go.mod") || strings.Contains(err.Error(), cacheDir) {
		t.Errorf("err = %v, want a plain 'no go.mod' error naming no staging directory", err)
	}
}

func TestMakeReadOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "d", "f"), "x")
	for _, p := range []string{dir, filepath.Join(dir, "d")} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "d", "f"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := makeReadOnly(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o755, filepath.Join(dir, "d"): 0o755, filepath.Join(dir, "d", "f"): 0o444} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, fi.Mode().Perm(), err, want)
		}
	}
}
