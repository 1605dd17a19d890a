package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var filesMu sync.Mutex

var archiveFiles = map[string]string{
	"fn-1.0/go.mod":       "module example.com/archfn\n\ngo 1.21\n",
	"fn-1.0/main.go":      "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"archive\") }\n",
	"fn-1.0/sub/main.go":  "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"archive sub\") }\n",
	"fn-1.0/sub/data.txt": "data\n",
}

func sortedNames(files map[string]string) []string {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func makeTarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range sortedNames(files) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[name]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

func makeZip(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedNames(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serveFiles serves name → content over HTTP on loopback. files may be
// changed while holding filesMu.
func serveFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filesMu.Lock()
		data, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		filesMu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFetcher_Fetch_archive(t *testing.T) {
	tgz := makeTarGz(t, archiveFiles)
	sum := sha256.Sum256(tgz)
	many := map[string]string{"go.mod": "module example.com/many\n"}
	for i := range 20 {
		many[fmt.Sprintf("f%d.go", i)] = "package main\n"
	}
	big := map[string]string{"go.mod": "module example.com/big\n", "big.go": "package main\n//" + strings.Repeat("x", 8<<10) + "\n"}
	url := serveFiles(t, map[string][]byte{
		"fn.tar.gz":   tgz,
		"fn.zip":      makeZip(t, archiveFiles),
		"many.zip":    makeZip(t, many),
		"many.tar.gz": makeTarGz(t, many),
		"big.tar.gz":  makeTarGz(t, big),
		"big.zip":     makeZip(t, big),
	})
	env := testEnv(t, "")
	cacheDir := t.TempDir()
	f, err := New(Options{CacheDir: cacheDir, Env: env, MaxArchiveFiles: 10, MaxArchiveBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ source, wantPkg, wantImport string }{
		{url + "/fn.tar.gz", "fn-1.0", "example.com/archfn"},
		{url + "/fn.tar.gz//fn-1.0/sub", "fn-1.0/sub", "example.com/archfn/sub"},
		{url + "/fn.zip//fn-1.0/sub", "fn-1.0/sub", "example.com/archfn/sub"},
		{url + "/fn.tar.gz?checksum=sha256:" + hex.EncodeToString(sum[:]), "fn-1.0", "example.com/archfn"},
	} {
		co := fetch(t, f, tt.source)
		tree := filepath.Dir(co.ModuleDir)
		if !strings.HasPrefix(co.Identity, "archive sha256:") || co.ImportPath != tt.wantImport ||
			co.PackageDir != filepath.Join(tree, tt.wantPkg) || !strings.HasPrefix(tree, cacheDir) {
			t.Errorf("%s: %+v, want package %s, import %s", tt.source, co, tt.wantPkg, tt.wantImport)
		}
	}
	if got := goBuildRun(t, fetch(t, f, url+"/fn.zip//fn-1.0/sub"), env); got != "archive sub" {
		t.Errorf("program output = %q, want %q", got, "archive sub")
	}

	for _, tt := range []struct{ source, want string }{
		{url + "/many.zip", "10"},
		{url + "/many.tar.gz", "10"},
		{url + "/big.tar.gz", "larger than limit"},
		{url + "/big.zip", "larger than limit"},
		{url + "/fn.tar.gz?checksum=sha256:" + strings.Repeat("0", 64), "checksum mismatch"},
		{url + "/missing.tar.gz", "404"},
		{url + "/", "no archive or repository at URL"},
		{url + "/fn.tar.gz//fn-1.0/nosuch", "not found"},
	} {
		_, err := f.Fetch(context.Background(), mustParse(t, tt.source))
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Fetch(%s) = %v, want *Error containing %q", tt.source, err, tt.want)
		} else {
			t.Logf("%v", err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cacheDir, "tmp")); len(entries) != 0 {
		t.Errorf("leftovers in the cache's tmp: %v", entries)
	}
}

func TestFetcher_Fetch_archiveOffline(t *testing.T) {
	tgz := makeTarGz(t, archiveFiles)
	sum := sha256.Sum256(tgz)
	files := map[string][]byte{"fn.tar.gz": tgz}
	url := serveFiles(t, files)
	env := testEnv(t, "")
	cacheDir := t.TempDir()
	plain := url + "/fn.tar.gz"
	pinned := plain + "?checksum=sha256:" + hex.EncodeToString(sum[:])
	first := fetch(t, newFetcher(t, cacheDir, env, false), plain)
	fetch(t, newFetcher(t, cacheDir, env, false), pinned)

	filesMu.Lock()
	delete(files, "fn.tar.gz") // the server now answers 404
	filesMu.Unlock()
	if co := fetch(t, newFetcher(t, cacheDir, env, false), plain); co.ModuleDir != first.ModuleDir || co.Stale {
		t.Errorf("warm start = %+v, want %+v", co, first)
	}
	if co := fetch(t, newFetcher(t, cacheDir, env, true), pinned); co.ModuleDir != first.ModuleDir || co.Stale {
		t.Errorf("update of a checksummed archive = %+v, want the cached %+v without download", co, first)
	}
	co := fetch(t, newFetcher(t, cacheDir, env, true), plain)
	if co.ModuleDir != first.ModuleDir || !co.Stale || co.UpdateErr == nil {
		t.Errorf("failed update = %+v, want the previous checkout marked stale", co)
	}
}
