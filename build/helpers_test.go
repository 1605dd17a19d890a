package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// realGo is the go command running the tests.
func realGo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	p, err = filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// goWrapper writes a `go` script that logs its subcommand to a file and runs
// the real go. It returns the directory to put on PATH and the log path.
func goWrapper(t *testing.T) (binDir, logFile string) {
	t.Helper()
	goPath := realGo(t)
	dir := t.TempDir()
	binDir = filepath.Join(dir, "bin")
	logFile = filepath.Join(t.TempDir(), "go.log") // not beside bin/: its dir is the guessed GOROOT
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$1\" >> '" + logFile + "'\nexec '" + goPath + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(binDir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return binDir, logFile
}

// stuckCompiler writes a -toolexec script under which the compiler of
// package main never finishes: it writes its pid to pidFile and sleeps for an
// hour, so it ends sooner only if signalled. Other tools run normally.
func stuckCompiler(t *testing.T, pidFile string) (toolexec string) {
	t.Helper()
	toolexec = filepath.Join(t.TempDir(), "toolexec")
	script := "#!/bin/sh\ncase \" $* \" in *\" -p main \"*)\n" +
		"\techo $$ > '" + pidFile + ".tmp' && mv '" + pidFile + ".tmp' '" + pidFile + "'\n" +
		"\texec sleep 3600;;\nesac\nexec \"$@\"\n"
	if err := os.WriteFile(toolexec, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return toolexec
}

// readPidFile returns the pid in path, or 0 if there is none yet.
func readPidFile(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// goRuns returns how many times the wrapper ran `go sub`.
func goRuns(t *testing.T, logFile, sub string) int {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if l == sub {
			n++
		}
	}
	return n
}

// testEnv is a hermetic environment for the go command with PATH set to path.
func testEnv(path string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "GOFLAGS", "GOTOOLCHAIN", "GOPROXY", "GOWORK", "GOENV", "GONOSUMDB", "GOPRIVATE":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+path, "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local", "GOPROXY=off", "GOWORK=", "GOENV=off")
}

// pathWithGo is a PATH where `go` is the logging wrapper.
func pathWithGo(t *testing.T) (path, logFile string) {
	t.Helper()
	dir, log := goWrapper(t)
	return dir + string(os.PathListSeparator) + os.Getenv("PATH"), log
}

func newBuilder(t *testing.T, cacheDir string, env []string, mod func(*Options)) *Builder {
	t.Helper()
	opts := Options{CacheDir: cacheDir, Env: env}
	if mod != nil {
		mod(&opts)
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// helloModule writes a module example.com/hello printing msg.
func helloModule(t *testing.T, msg string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	writeFiles(t, dir, map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": mainSrc(msg),
	})
	return dir
}

func mainSrc(msg string) string {
	return "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"" + msg + "\") }\n"
}

func mustBuild(t *testing.T, b *Builder, req Request) Result {
	t.Helper()
	res, err := b.Build(context.Background(), req)
	if err != nil {
		if d, ok := err.(interface{ Detail() string }); ok {
			t.Fatalf("Build: %v\n%s", err, d.Detail())
		}
		t.Fatalf("Build: %v", err)
	}
	return res
}

func mustKey(t *testing.T, b *Builder, req Request) string {
	t.Helper()
	key, _, err := b.Key(context.Background(), req)
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	return key
}

func runBinary(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(path).CombinedOutput()
	if err != nil {
		t.Fatalf("run %s: %v\n%s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFilesB(b *testing.B, dir string, files map[string]string) {
	b.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func pathForBench(b *testing.B) string {
	b.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		b.Skip("no go command on PATH")
	}
	return os.Getenv("PATH")
}
