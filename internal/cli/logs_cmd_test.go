package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/control"
	"github.com/fnrun/fnrun/internal/logfile"
)

// logsApp is fnrun with only the logs command, writing to stdout and stderr.
func logsApp(stdout, stderr io.Writer) *cli.App {
	env := &appEnv{stdout: stdout, stderr: stderr, log: newLogger(stderr, "text", false, false, false)}
	cmd := logsCommand(env)
	cmd.OnUsageError = onUsageError
	return &cli.App{Name: "fnrun", Writer: stdout, ErrWriter: stderr, OnUsageError: onUsageError,
		ExitErrHandler: func(*cli.Context, error) {}, Commands: []*cli.Command{cmd}}
}

// runLogs runs `fnrun logs args...` to its end and returns its output and exit code.
func runLogs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := logsApp(&out, &errb).RunContext(context.Background(), append([]string{"fnrun", "logs"}, args...))
	code = report(&errb, err)
	return out.String(), errb.String(), code
}

// logWriter opens root/instance/name.log with small files: rotated and gzipped ones soon.
func logWriter(t *testing.T, root, instance, name string) *logfile.Writer {
	t.Helper()
	w, err := logfile.Open(filepath.Join(root, instance, name+".log"), logfile.Options{MaxSize: 512, MaxFiles: 50, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func writeRecs(t *testing.T, w *logfile.Writer, recs ...logfile.Record) {
	t.Helper()
	for _, r := range recs {
		if _, err := w.Write(logfile.AppendRecord(nil, r)); err != nil {
			t.Fatal(err)
		}
	}
}

// writeLog writes a whole log and closes it.
func writeLog(t *testing.T, root, instance, name string, recs ...logfile.Record) {
	t.Helper()
	w := logWriter(t, root, instance, name)
	writeRecs(t, w, recs...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

var logBase = time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)

func lrec(sec, run int, stream, text string) logfile.Record {
	partial := strings.HasSuffix(stream, "+")
	return logfile.Record{Time: logBase.Add(time.Duration(sec) * time.Second), Run: run,
		Stream: strings.TrimSuffix(stream, "+"), Partial: partial, Text: []byte(text)}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func checkRun(t *testing.T, args []string, wantOut string, wantCode int, wantErr string) {
	t.Helper()
	out, errOut, code := runLogs(t, args...)
	if code != wantCode || out != wantOut || !strings.Contains(errOut, wantErr) {
		t.Errorf("fnrun logs %s:\n got exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr containing %q",
			strings.Join(args, " "), code, out, errOut, wantCode, wantOut, wantErr)
	}
}

func TestLogs_Lines(t *testing.T) {
	root := t.TempDir()
	var recs []logfile.Record
	for i := range 250 {
		recs = append(recs, lrec(i, 1, "out", fmt.Sprintf("line %d", i)))
	}
	writeLog(t, root, "shop", "api", recs...)
	files, err := logfile.Files(filepath.Join(root, "shop", "api.log"))
	if err != nil || len(files) < 10 || !strings.HasSuffix(files[0], ".gz") {
		t.Fatalf("files = %v, %v; want many, gzipped and plain", files, err)
	}
	checkRun(t, []string{"--log-dir", root, "api"}, numbered(150, 250), 0, "")
	checkRun(t, []string{"--log-dir", root, "-n", "3", "shop/api"}, numbered(247, 250), 0, "")
	checkRun(t, []string{"--log-dir", root, "-n", "-1", "api"}, numbered(0, 250), 0, "")
	checkRun(t, []string{"--log-dir", root, "-n", "0", "api"}, "", 0, "")
	checkRun(t, []string{"--log-dir", root, "-n", "-2", "api"}, "", ExitUsage, "-n -2")
	t.Setenv("FNRUN_LOG_DIR", root)
	checkRun(t, []string{"-n", "1", "api"}, numbered(249, 250), 0, "")
}

func TestLogs_StreamsAndPieces(t *testing.T) {
	root := t.TempDir()
	writeLog(t, root, "shop", "api",
		lrec(0, 1, "evt", "run 1 started (pid 42)"),
		lrec(1, 1, "out+", "a long "),
		lrec(1, 1, "err", "to stderr"),
		lrec(2, 1, "out+", "line in "),
		lrec(3, 1, "out", "three pieces"),
		lrec(4, 1, "out+", "cut by the exit"),
		lrec(5, 1, "evt", "run 1 exited: code 2"),
	)
	// A line the writer of a crashed fnrun left: skipped, with a warning.
	f, err := os.OpenFile(filepath.Join(root, "shop", "api.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("2024-05-06T07:00:0\n")
	f.Close()
	checkRun(t, []string{"--log-dir", root, "api"},
		"fnrun: run 1 started (pid 42)\nto stderr\na long line in three pieces\nfnrun: run 1 exited: code 2\ncut by the exit\n",
		0, "fnrun: api: skipped 1 line: not log records")
}

func TestLogs_Previous(t *testing.T) {
	root := t.TempDir()
	writeLog(t, root, "shop", "api",
		lrec(0, 1, "out", "run one"),
		lrec(1, 2, "out", "run two"),
		lrec(2, 2, "evt", "run 2 exited: code 2"),
		lrec(3, 3, "out", "run three"),
	)
	writeLog(t, root, "shop", "web", lrec(0, 1, "out", "only run"))
	checkRun(t, []string{"--log-dir", root, "--previous", "api"}, "run two\nfnrun: run 2 exited: code 2\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "-p", "-n", "1", "api"}, "fnrun: run 2 exited: code 2\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "--previous", "web"}, "", exitNoLog, "fnrun: web: no previous run: only run 1 is in its log\n")
	checkRun(t, []string{"--log-dir", root, "--previous", "-f", "web"}, "", ExitUsage, "cannot be combined with -f")
}

func TestLogs_Since(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	at := func(ago time.Duration, text string) logfile.Record {
		return logfile.Record{Time: now.Add(-ago), Run: 1, Stream: logfile.StreamOut, Text: []byte(text)}
	}
	var recs []logfile.Record
	for i := range 150 { // more than -n's default: --since shows them all
		recs = append(recs, at(50*time.Hour, fmt.Sprintf("old %d", i)))
	}
	recs = append(recs, at(3*time.Hour, "3h ago"), at(time.Hour, "1h ago"), at(10*time.Minute, "10m ago"))
	writeLog(t, root, "shop", "api", recs...)
	checkRun(t, []string{"--log-dir", root, "--since", "30m", "api"}, "10m ago\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "--since", "2h", "api"}, "1h ago\n10m ago\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "--since", "1d", "api"}, "3h ago\n1h ago\n10m ago\n", 0, "")
	out, _, code := runLogs(t, "--log-dir", root, "--since", "2d12h", "api")
	if n := strings.Count(out, "\n"); code != 0 || n != 153 {
		t.Errorf("--since 2d12h: exit %d, %d lines; want 0, 153", code, n)
	}
	checkRun(t, []string{"--log-dir", root, "--since", "1d", "-n", "1", "api"}, "10m ago\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "--since", "yesterday", "api"}, "", ExitUsage, `--since "yesterday": want a duration`)
	checkRun(t, []string{"--log-dir", root, "--since", "-5m", "api"}, "", ExitUsage, "--since")
}

func TestLogs_JSON(t *testing.T) {
	root := t.TempDir()
	writeLog(t, root, "shop", "api",
		lrec(0, 1, "out", "plain <b>&"),
		lrec(1, 1, "err", "bad \xff\xfe utf-8 \"quoted\"\t\x01"),
		lrec(2, 1, "evt", "run 1 exited: code 2"),
	)
	out, errOut, code := runLogs(t, "--log-dir", root, "--json", "api")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []logJSON{
		{Time: "2024-05-06T07:00:00.000Z", Instance: "shop", Name: "api", Run: 1, Stream: "stdout", Line: "plain <b>&"},
		{Time: "2024-05-06T07:00:01.000Z", Instance: "shop", Name: "api", Run: 1, Stream: "stderr", Line: "bad \ufffd\ufffd utf-8 \"quoted\"\t\x01"},
		{Time: "2024-05-06T07:00:02.000Z", Instance: "shop", Name: "api", Run: 1, Stream: "fnrun", Line: "run 1 exited: code 2"},
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i, line := range got {
		var g logJSON
		if !json.Valid([]byte(line)) {
			t.Fatalf("line %d is not valid JSON: %s", i, line)
		}
		if err := json.Unmarshal([]byte(line), &g); err != nil || g != want[i] {
			t.Errorf("line %d = %+v (%v), want %+v", i, g, err, want[i])
		}
	}
}

func TestLogs_Merge(t *testing.T) {
	root := t.TempDir()
	writeLog(t, root, "shop", "api", lrec(0, 1, "out", "api 0"), lrec(2, 1, "out", "api 2"), lrec(3, 1, "evt", "exited"))
	writeLog(t, root, "shop", "worker", lrec(1, 1, "out", "worker 1"), lrec(2, 1, "out", "worker 2"), lrec(4, 1, "out", "worker 4"))
	checkRun(t, []string{"--log-dir", root, "api", "shop/worker"},
		"api    | api 0\nworker | worker 1\napi    | api 2\nworker | worker 2\napi    | fnrun: exited\nworker | worker 4\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "-n", "2", "api", "worker", "api"},
		"api    | fnrun: exited\nworker | worker 4\n", 0, "")
	// The same name in two instances: the prefix says which.
	writeLog(t, root, "other", "api", lrec(5, 1, "out", "other api"))
	checkRun(t, []string{"--log-dir", root, "-n", "2", "shop/api", "other/api"},
		"shop/api  | fnrun: exited\nother/api | other api\n", 0, "")
}

func TestLogs_Names(t *testing.T) {
	root := filepath.Join(t.TempDir(), "logs")
	checkRun(t, []string{"--log-dir", root, "api"}, "", exitNoLog, `no log for "api": no logs yet (fnrun run and up write them under `+root+")")
	writeLog(t, root, "a", "api", lrec(0, 1, "out", "a's api"))
	writeLog(t, root, "b", "api", lrec(0, 1, "out", "b's api"))
	writeLog(t, root, "b", "web.2", lrec(0, 1, "out", "b's web.2"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no instance is running
	checkRun(t, []string{"--log-dir", root, "api"}, "", ExitUsage, "fnrun: logs: api is in instances a, b: say a/api\n")
	checkRun(t, []string{"--log-dir", root, "b/api"}, "b's api\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "web.2"}, "b's web.2\n", 0, "")
	checkRun(t, []string{"--log-dir", root, "apx"}, "", exitNoLog, `fnrun: no log for "apx"; known: a/api, b/api, b/web.2`+"\n")
	checkRun(t, []string{"--log-dir", root, "c/api"}, "", exitNoLog, `no log for "c/api"; known: a/api`)
	for _, bad := range []string{"..", "../api", "a/..", "a/b/c", "a/", "/api", "a b"} {
		checkRun(t, []string{"--log-dir", root, bad}, "", ExitUsage, "invalid")
	}
	checkRun(t, []string{"--log-dir", root}, "", ExitUsage, "name a function")
}

type idleHandler struct{}

func (idleHandler) Status() control.Instance                   { return control.Instance{} }
func (idleHandler) Do(context.Context, string, []string) error { return nil }

func TestLogs_AmbiguousNameRunning(t *testing.T) {
	root := t.TempDir()
	writeLog(t, root, "a", "api", lrec(0, 1, "out", "a's api"))
	writeLog(t, root, "b", "api", lrec(0, 1, "out", "b's api"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir, err := control.Dir("")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := control.Listen(dir, "b", idleHandler{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	checkRun(t, []string{"--log-dir", root, "api"}, "b's api\n", 0, "")
}

// pipeLines collects the lines of a pipe as they arrive.
func pipeLines(t *testing.T) (io.Writer, <-chan string) {
	t.Helper()
	pr, pw := io.Pipe()
	ch := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	t.Cleanup(func() { pw.Close() })
	return pw, ch
}

func awaitLogLines(t *testing.T, ch <-chan string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-ch:
			if got != w {
				t.Fatalf("got line %q, want %q", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no line after 10s, want %q", w)
		}
	}
}

// startLogs runs `fnrun logs args...` until the returned stop is called, which returns
// its exit code.
func startLogs(t *testing.T, stdout io.Writer, args ...string) (stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		err := logsApp(stdout, &errb).RunContext(ctx, append([]string{"fnrun", "logs"}, args...))
		done <- report(&errb, err)
	}()
	stop = sync.OnceValue(func() int {
		cancel()
		code := <-done
		if code != 0 {
			t.Errorf("fnrun logs -f: exit %d, want 0; stderr:\n%s", code, errb.String())
		}
		return code
	})
	t.Cleanup(func() { stop() })
	return stop
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogs_Follow(t *testing.T) {
	root := t.TempDir()
	w := logWriter(t, root, "shop", "api")
	defer w.Close()
	writeRecs(t, w, lrec(0, 1, "out", "line 0"), lrec(1, 1, "out", "line 1"))
	out, ch := pipeLines(t)
	stop := startLogs(t, out, "--log-dir", root, "-f", "-n", "1", "api")
	awaitLogLines(t, ch, "line 1")
	writeRecs(t, w, lrec(2, 1, "out", "line 2"))
	awaitLogLines(t, ch, "line 2")
	// Across rotations (MaxSize 512), and a restart of the function: same file, next run.
	for i := 3; i < 60; i++ {
		run := 1 + i/30
		writeRecs(t, w, lrec(i, run, "out", fmt.Sprintf("line %d", i)))
		awaitLogLines(t, ch, fmt.Sprintf("line %d", i))
	}
	if files, _ := logfile.Files(filepath.Join(root, "shop", "api.log")); len(files) < 3 {
		t.Fatalf("files = %v: the test wants rotations", files)
	}
	writeRecs(t, w, lrec(60, 2, "out+", "joined "), lrec(60, 2, "out", "while following"))
	awaitLogLines(t, ch, "joined while following")
	stop()
}

func TestLogs_FollowWaitsForLog(t *testing.T) {
	root := t.TempDir()
	writeLog(t, root, "shop", "web", lrec(0, 1, "out", "web 0"))
	out, ch := pipeLines(t)
	stop := startLogs(t, out, "--log-dir", root, "-f", "web", "shop/api")
	awaitLogLines(t, ch, "web | web 0")
	w := logWriter(t, root, "shop", "api") // api starts after fnrun logs did
	defer w.Close()
	writeRecs(t, w, lrec(1, 1, "out", "api 1"))
	awaitLogLines(t, ch, "api | api 1")
	stop()
}
