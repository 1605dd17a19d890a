package fetch

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

// A small GOPROXY serving the txtar fixtures in testdata/mod, in the format
// of go-internal's goproxytest (path_version.txt, slashes as underscores,
// optional .info and .mod files). goproxytest itself needs
// golang.org/x/tools, which this module does not require.
//
// Beyond goproxytest, a query that is a prefix of a pseudo-version's
// commit hash resolves to that pseudo-version, as a real proxy does.

type fixtureModule struct {
	version string
	files   map[string][]byte
}

func startProxy(t *testing.T, dir string) string {
	t.Helper()
	mods := map[string][]fixtureModule{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok {
			continue
		}
		i := strings.LastIndex(name, "_v")
		if i < 0 {
			t.Fatalf("fixture %s: no _v", e.Name())
		}
		path, vers := strings.ReplaceAll(name[:i], "_", "/"), name[i+1:]
		a, err := txtar.ParseFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m := fixtureModule{version: vers, files: map[string][]byte{}}
		for _, f := range a.Files {
			m.files[f.Name] = f.Data
		}
		mods[path] = append(mods[path], m)
	}
	find := func(path, vers string) (fixtureModule, bool) {
		for _, m := range mods[path] {
			if m.version == vers {
				return m, true
			}
		}
		for _, m := range mods[path] {
			if module.IsPseudoVersion(m.version) && len(vers) >= 7 {
				if rev, err := module.PseudoVersionRev(m.version); err == nil && strings.HasPrefix(rev, vers) {
					return m, true
				}
			}
		}
		return fixtureModule{}, false
	}
	info := func(w http.ResponseWriter, m fixtureModule) {
		if data, ok := m.files[".info"]; ok {
			w.Write(data)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Version": m.version, "Time": time.Unix(0, 0).UTC()})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := strings.CutPrefix(r.URL.Path, "/mod/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		if enc, ok := strings.CutSuffix(p, "/@latest"); ok {
			path, err := module.UnescapePath(enc)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			var best fixtureModule
			for _, m := range mods[path] {
				if best.version == "" || semver.Prerelease(m.version) == "" && semver.Prerelease(best.version) != "" ||
					(semver.Prerelease(m.version) == "") == (semver.Prerelease(best.version) == "") && semver.Compare(m.version, best.version) > 0 {
					best = m
				}
			}
			if best.version == "" {
				http.NotFound(w, r)
				return
			}
			info(w, best)
			return
		}
		enc, file, ok := strings.Cut(p, "/@v/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		path, err := module.UnescapePath(enc)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if file == "list" {
			var vs []string
			for _, m := range mods[path] {
				if !module.IsPseudoVersion(m.version) {
					vs = append(vs, m.version)
				}
			}
			sort.Strings(vs)
			io.WriteString(w, strings.Join(vs, "\n")+"\n")
			return
		}
		ext := filepath.Ext(file)
		vers, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		m, ok := find(path, vers)
		if !ok || (ext != ".info" && m.version != vers) {
			http.Error(w, "not found: unknown revision "+vers, http.StatusNotFound)
			return
		}
		switch ext {
		case ".info":
			info(w, m)
		case ".mod":
			if data, ok := m.files[".mod"]; ok {
				w.Write(data)
			} else {
				w.Write(m.files["go.mod"])
			}
		case ".zip":
			var files []modzip.File
			for name, data := range m.files {
				if !strings.HasPrefix(name, ".") {
					files = append(files, memFile{name, data})
				}
			}
			var buf bytes.Buffer
			if err := modzip.Create(&buf, module.Version{Path: path, Version: m.version}, files); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Write(buf.Bytes())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mod"
}

type memFile struct {
	name string
	data []byte
}

func (f memFile) Path() string                 { return f.name }
func (f memFile) Lstat() (os.FileInfo, error)  { return memInfo(f), nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo memFile

func (i memInfo) Name() string       { return filepath.Base(i.name) }
func (i memInfo) Size() int64        { return int64(len(i.data)) }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
