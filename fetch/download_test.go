package fetch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// An archive over MaxArchiveBytes fails with an error naming the limit,
// whether the server sends a Content-Length or not, with a checksum or not.
func TestFetcher_Fetch_archiveOverLimit(t *testing.T) {
	junk := make([]byte, 16<<10) // incompressible: the .tar.gz is over 8 KiB
	rand.Read(junk)
	tgz := makeTarGz(t, map[string]string{"go.mod": "module example.com/big\n", "big.go": "package main\n//" + hex.EncodeToString(junk) + "\n"})
	sum := sha256.Sum256(tgz)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/chunked/") {
			if r.Method == http.MethodHead {
				return
			}
			for i := 0; i < len(tgz); i += 1000 { // no Content-Length
				w.Write(tgz[i:min(i+1000, len(tgz))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(tgz)))
		w.Write(tgz)
	}))
	t.Cleanup(srv.Close)
	cacheDir := t.TempDir()
	f, err := New(Options{CacheDir: cacheDir, Env: testEnv(t, ""), MaxArchiveBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		srv.URL + "/fn.tar.gz",
		srv.URL + "/chunked/fn.tar.gz",
		srv.URL + "/chunked/fn.tar.gz?checksum=sha256:" + hex.EncodeToString(sum[:]),
		srv.URL + "/fn?archive=tgz",
	} {
		_, err := f.Fetch(context.Background(), mustParse(t, u))
		var se *SizeLimitError
		if !errors.As(err, &se) || se.Limit != 8<<10 ||
			!strings.HasSuffix(err.Error(), ": download larger than the 8 KiB limit") {
			t.Errorf("Fetch(%s) = %v, want a *SizeLimitError naming the 8 KiB limit", u, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cacheDir, "tmp")); len(entries) != 0 {
		t.Errorf("leftovers in the cache's tmp: %v", entries)
	}
}

// An archive is downloaded into the cache's tmp/, never into $TMPDIR, so
// that a killed fnrun leaves nothing the next sweep of the cache misses.
func TestFetcher_Fetch_archiveDownloadsIntoCache(t *testing.T) {
	tmpdir := t.TempDir()
	t.Setenv("TMPDIR", tmpdir)
	tgz := makeTarGz(t, archiveFiles)
	cacheDir := t.TempDir()
	var mu sync.Mutex // the handler's goroutine writes during, the test reads it
	var during []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			return
		}
		w.Write(tgz[:len(tgz)/2])
		w.(http.Flusher).Flush()
		// Half the archive is on its way: look where it lands. The
		// client has read it once it appears in a file.
		for range 1000 {
			found := findFiles(tmpdir, filepath.Join(cacheDir, "tmp"))
			mu.Lock()
			during = found
			mu.Unlock()
			if len(found) > 0 {
				break
			}
			select {
			case <-r.Context().Done():
				return
			default:
			}
			time.Sleep(2 * time.Millisecond)
		}
		w.Write(tgz[len(tgz)/2:])
	}))
	t.Cleanup(srv.Close)
	f, err := New(Options{CacheDir: cacheDir, Env: testEnv(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	fetch(t, f, srv.URL+"/fn.tar.gz")
	mu.Lock()
	defer mu.Unlock()
	if len(during) == 0 {
		t.Fatal("the partial download was not seen anywhere")
	}
	for _, p := range during {
		if !strings.HasPrefix(p, filepath.Join(cacheDir, "tmp")+string(filepath.Separator)) {
			t.Errorf("download in progress at %s, want it under the cache's tmp/", p)
		}
	}
	if left := findFiles(tmpdir, filepath.Join(cacheDir, "tmp")); len(left) != 0 {
		t.Errorf("left after the fetch: %v", left)
	}
}

// findFiles lists the regular files under dirs.
func findFiles(dirs ...string) []string {
	var files []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}
