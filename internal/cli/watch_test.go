package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// watchApp is a small service for the --watch tests: it binds PORT (and fails
// loudly if the address is in use), answers GET / with its version, and prints
// "VERSION pid=PID" once it listens.
const watchApp = `package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

const version = %q

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Println("LISTEN FAILED:", err)
		os.Exit(1)
	}
	fmt.Printf("%%s pid=%%d\n", version, os.Getpid())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%%s pid=%%d", version, os.Getpid())
	}))
}
`

// fnrunProc is a running `fnrun` whose output lines arrive on channels.
type fnrunProc struct {
	cmd    *exec.Cmd
	stdout chan string
	stderr chan string
	mu     sync.Mutex
	errLog []string
}

func startFnrun(t *testing.T, dir string, env []string, args ...string) *fnrunProc {
	t.Helper()
	cmd := exec.Command("fnrun", args...)
	cmd.Dir = dir
	cmd.Env = env
	outR, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &fnrunProc{cmd: cmd, stdout: make(chan string, 1000), stderr: make(chan string, 1000)}
	pump := func(r io.Reader, ch chan string, keep bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if keep {
				p.mu.Lock()
				p.errLog = append(p.errLog, sc.Text())
				p.mu.Unlock()
			}
			ch <- sc.Text()
		}
		close(ch)
	}
	go pump(outR, p.stdout, false)
	go pump(errR, p.stderr, true)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("fnrun stderr:\n%s", strings.Join(p.errLog, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// await reads ch until a line contains want; it fails after a deadline.
func await(t *testing.T, ch <-chan string, want string) string {
	t.Helper()
	return awaitNot(t, ch, want, "")
}

// awaitNot is await that also fails when a line containing forbidden comes
// first.
func awaitNot(t *testing.T, ch <-chan string, want, forbidden string) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("output ended before %q", want)
			}
			if strings.Contains(l, want) {
				return l
			}
			if forbidden != "" && strings.Contains(l, forbidden) {
				t.Fatalf("got %q before a line containing %q", l, want)
			}
		case <-deadline:
			t.Fatalf("no line containing %q", want)
		}
	}
}

// pidOf returns the "pid=N" part of a line.
func pidOf(line string) string {
	if i := strings.Index(line, "pid="); i >= 0 {
		return line[i:]
	}
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func get(t *testing.T, port string) string {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func writeApp(t *testing.T, dir, version string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "main.go"), fmt.Sprintf(watchApp, version))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func watchEnv(t *testing.T, port string) []string {
	work := t.TempDir()
	return append(os.Environ(),
		"PORT="+port,
		"FNRUN_CACHE_DIR="+filepath.Join(work, "cache"),
		"GOFLAGS=-buildvcs=false",
		"GOTOOLCHAIN=local",
		"GOPROXY=off",
		"NO_COLOR=1",
	)
}

// TestWatch_Loop drives `fnrun run --watch` through a development session:
// edits, a burst of saves, a failed build, no-op saves, new and renamed
// directories, all on a program that holds a TCP port.
func TestWatch_Loop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds several times")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.22\n")
	writeApp(t, dir, "v1")
	port := freePort(t)
	// -v: the loop then says when a change left the build key unchanged.
	p := startFnrun(t, dir, watchEnv(t, port), "run", "-v", "-w", "--debounce", "50ms", ".")

	await(t, p.stdout, "v1 pid=")
	if got := get(t, port); !strings.HasPrefix(got, "v1 ") {
		t.Fatalf("GET = %q, want v1", got)
	}

	// An edit: one rebuild, the new process binds the same port and answers.
	writeApp(t, dir, "v2")
	await(t, p.stderr, "rebuilt")
	await(t, p.stdout, "v2 pid=")
	if got := get(t, port); !strings.HasPrefix(got, "v2 ") {
		t.Fatalf("GET = %q, want v2", got)
	}

	// Ten saves inside the debounce: one rebuild, straight to the last.
	for i := 0; i < 10; i++ {
		writeApp(t, dir, fmt.Sprintf("burst%d", i))
	}
	await(t, p.stderr, "rebuilt")
	line := await(t, p.stdout, "pid=")
	if !strings.HasPrefix(line, "app | burst9 ") {
		t.Fatalf("after a burst of saves the first new process printed %q, want burst9", line)
	}

	// A failed build (and no second rebuild from the burst before it): the
	// old process keeps running and answering.
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() { notDefined() }\n")
	awaitNot(t, p.stderr, "BUILD FAILED", "rebuilt")
	if got := get(t, port); got != "burst9 "+pidOf(line) {
		t.Fatalf("after a failed build GET = %q, want %q (the old process)", got, "burst9 "+pidOf(line))
	}
	// The fix swaps it.
	writeApp(t, dir, "v3")
	await(t, p.stderr, "rebuilt")
	line = await(t, p.stdout, "v3 pid=")

	// Saving identical content, touching and editing a README: the change is
	// seen, the key is the same, nothing is rebuilt or restarted.
	writeApp(t, dir, "v3")
	now := time.Now().Add(time.Second)
	os.Chtimes(filepath.Join(dir, "main.go"), now, now)
	writeFile(t, filepath.Join(dir, "README.md"), "docs do not rebuild\n")
	awaitNot(t, p.stderr, "change without effect", "rebuilt")
	if got := get(t, port); got != "v3 "+pidOf(line) {
		t.Fatalf("after no-op saves GET = %q, want %q (the same process)", got, "v3 "+pidOf(line))
	}

	// mkdir -p a/b and a new file in it: seen, but nothing imports the
	// package, so nothing is rebuilt or restarted (watch_imports.txtar
	// shows a package counting once something imports it).
	writeFile(t, filepath.Join(dir, "a", "b", "b.go"), "package b\n\nconst X = 1\n")
	awaitNot(t, p.stderr, "change without effect", "rebuilt")
	if got := get(t, port); got != "v3 "+pidOf(line) {
		t.Fatalf("after a new package nothing imports GET = %q, want %q (the same process)", got, "v3 "+pidOf(line))
	}
	// Renaming a package directory always counts (the filter cannot know
	// what pointed into it): the key, which covers the whole module, sees
	// the new path and the program is rebuilt and restarted.
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	awaitNot(t, p.stderr, "rebuilt", "change without effect")
	next := await(t, p.stdout, "v3 pid=")
	if pidOf(next) == pidOf(line) {
		t.Fatalf("the program was not restarted after the rename (still %s)", pidOf(line))
	}
	// The renamed directory is watched under its new name: an edit in it
	// is seen (and, not imported, changes nothing).
	writeFile(t, filepath.Join(dir, "c", "b", "b.go"), "package b\n\nconst X = 2\n")
	awaitNot(t, p.stderr, "change without effect", "rebuilt")
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.errLog {
		if strings.Contains(l, "address already in use") {
			t.Errorf("a restart hit %q", l)
		}
	}
}

// TestWatch_workspace: a go.work `use` module outside the program's module
// is in the build key, so it is watched too: editing it rebuilds.
func TestWatch_workspace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds twice")
	}
	ws := t.TempDir()
	app, lib := filepath.Join(ws, "app"), filepath.Join(ws, "lib")
	writeFile(t, filepath.Join(ws, "go.work"), "go 1.22\n\nuse (\n\t./app\n\t./lib\n)\n")
	writeFile(t, filepath.Join(app, "go.mod"), "module example.com/app\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n")
	writeFile(t, filepath.Join(app, "main.go"), `package main

import (
	"fmt"
	"os"

	"example.com/lib"
)

func main() {
	fmt.Printf("lib says %s pid=%d\n", lib.Word, os.Getpid())
	select {}
}
`)
	writeFile(t, filepath.Join(lib, "go.mod"), "module example.com/lib\n\ngo 1.22\n")
	writeLib := func(word string) {
		writeFile(t, filepath.Join(lib, "lib.go"), fmt.Sprintf("package lib\n\nconst Word = %q\n", word))
	}
	writeLib("one")
	p := startFnrun(t, app, watchEnv(t, freePort(t)), "run", "-w", "--debounce", "50ms", ".")
	await(t, p.stdout, "lib says one")
	writeLib("two")
	await(t, p.stderr, "rebuilt")
	await(t, p.stdout, "lib says two")
}
