package main

/*
A minimal GOPROXY for the module benchmark. It serves a directory of txtar
fixtures in the format of go-internal's goproxytest (path_version.txt with
the slashes of the path as underscores; optional .info and .mod files; the
other files form the module zip), so a fixture can move to goproxytest
unchanged. goproxytest itself is not used because it needs
golang.org/x/tools, which this module does not require; for the same reason
the txtar parsing here is a few lines of stdlib.
*/

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// proxyServer serves modules over HTTP until close. Its maps are read-only
// once started, so handlers need no lock.
type proxyServer struct {
	URL  string
	srv  *http.Server
	mods map[string]map[string]map[string][]byte // path → version → file → data
}

// startProxy loads the fixtures in dir and serves them on localhost.
func startProxy(dir string) (*proxyServer, error) {
	ps := &proxyServer{mods: map[string]map[string]map[string][]byte{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(filepath.Base(name), ".txt")
		i := strings.LastIndex(base, "_v")
		if i < 0 {
			return nil, fmt.Errorf("load proxy fixture %s: no _v in the name", name)
		}
		path, vers := strings.ReplaceAll(base[:i], "_", "/"), base[i+1:]
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("load proxy fixture: %w", err)
		}
		if ps.mods[path] == nil {
			ps.mods[path] = map[string]map[string][]byte{}
		}
		ps.mods[path][vers] = parseTxtar(data)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	ps.URL = "http://" + ln.Addr().String()
	ps.srv = &http.Server{Handler: ps, ReadHeaderTimeout: 10 * time.Second}
	go ps.srv.Serve(ln)
	return ps, nil
}

func (ps *proxyServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ps.srv.Shutdown(ctx)
}

// ServeHTTP answers /PATH/@v/list, /PATH/@v/VERSION.{info,mod,zip} and
// /PATH/@latest; anything else is 404, which the go command reads as
// "no such module".
func (ps *proxyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if path, ok := strings.CutSuffix(p, "/@latest"); ok {
		vers := ps.versions(unescapePath(path))
		if len(vers) == 0 {
			http.NotFound(w, r)
			return
		}
		w.Write(ps.info(unescapePath(path), vers[len(vers)-1]))
		return
	}
	path, file, ok := strings.Cut(p, "/@v/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	path = unescapePath(path)
	if file == "list" {
		fmt.Fprint(w, strings.Join(ps.versions(path), "\n"))
		return
	}
	ext := filepath.Ext(file)
	vers := unescapePath(strings.TrimSuffix(file, ext))
	files, ok := ps.mods[path][vers]
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch ext {
	case ".info":
		w.Write(ps.info(path, vers))
	case ".mod":
		if data, ok := files[".mod"]; ok {
			w.Write(data)
		} else {
			w.Write(files["go.mod"])
		}
	case ".zip":
		data, err := moduleZip(path, vers, files)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(data)
	default:
		http.NotFound(w, r)
	}
}

func (ps *proxyServer) versions(path string) []string {
	var vs []string
	for v := range ps.mods[path] {
		vs = append(vs, v)
	}
	sort.Strings(vs) // enough for the fixtures used here
	return vs
}

func (ps *proxyServer) info(path, vers string) []byte {
	if data, ok := ps.mods[path][vers][".info"]; ok {
		return data
	}
	return fmt.Appendf(nil, `{"Version":%q,"Time":"1970-01-01T00:00:00Z"}`, vers)
}

// moduleZip builds the module zip: every non-dot file under path@vers/.
func moduleZip(path, vers string, files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var names []string
	for name := range files {
		if !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := zw.Create(path + "@" + vers + "/" + name)
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(files[name]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unescapePath undoes the proxy protocol's case escaping ("!a" → "A").
func unescapePath(s string) string {
	var b strings.Builder
	up := false
	for _, c := range s {
		switch {
		case c == '!':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(c)))
			up = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// parseTxtar returns the files of a txtar archive ("-- NAME --" marker
// lines; the leading comment is dropped).
func parseTxtar(data []byte) map[string][]byte {
	files := map[string][]byte{}
	var name string
	var cur []byte
	inFile := false
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		s := string(line)
		if strings.HasPrefix(s, "-- ") && strings.HasSuffix(s, " --") && len(s) > 6 {
			if inFile {
				files[name] = cur
			}
			name, cur, inFile = strings.TrimSpace(s[3:len(s)-3]), nil, true
			continue
		}
		if inFile {
			cur = append(cur, line...)
			cur = append(cur, '\n')
		}
	}
	if inFile {
		files[name] = cur
	}
	return files
}
