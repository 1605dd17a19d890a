package fetch

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRedactURLs(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"example.com/fn@v1.0.0", "example.com/fn@v1.0.0"},
		{"git::https://host/r.git?ref=v1", "git::https://host/r.git?ref=v1"},
		{"git::https://user@host/r.git", "git::https://user@host/r.git"},
		{"git::https://user:s3cret@127.0.0.1:1/r.git", "git::https://user:xxxxx@127.0.0.1:1/r.git"},
		{"git::https://user:s3cret@host/r.git//cmd/x?ref=main", "git::https://user:xxxxx@host/r.git//cmd/x?ref=main"},
		{"https://u:p%40ss@host", "https://u:xxxxx@host"},
		{"https://u:p@ss@host/x", "https://u:xxxxx@host/x"},
		{"ssh://git:pw@host/r.git", "ssh://git:xxxxx@host/r.git"},
		{"fatal: unable to access 'https://user:s3cret@host/r.git/': 403\nretry https://a:b@c/d and mail@example.com",
			"fatal: unable to access 'https://user:xxxxx@host/r.git/': 403\nretry https://a:xxxxx@c/d and mail@example.com"},
	} {
		if got := redactURLs(tt.in); got != tt.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactFetchError(t *testing.T) {
	src := mustParse(t, "git::https://user:s3cret@127.0.0.1:1/r.git")
	if got, want := src.Redacted(), "git::https://user:xxxxx@127.0.0.1:1/r.git"; got != want {
		t.Errorf("Redacted() = %q, want %q", got, want)
	}
	// A tool that echoes the URL, and even the bare password.
	gitErr := &gitError{args: []string{"clone"}, err: context.Canceled,
		output: "Cloning into 'x'...\nfatal: could not read from 'https://user:s3cret@127.0.0.1:1/r.git': password s3cret rejected"}
	err := redactFetchError(src, &Error{Source: src.Raw, Op: "download", Err: gitErr, Output: gitErr.output})
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %T, want *Error", err)
	}
	for name, s := range map[string]string{"Error()": err.Error(), "Source": fe.Source, "Output": fe.Output, "Err": fe.Err.Error()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows the password: %q", name, s)
		}
	}
	if !strings.Contains(err.Error(), "user:xxxxx@127.0.0.1:1") {
		t.Errorf("Error() = %q, want the redacted URL", err.Error())
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("redaction hid the cause: errors.Is(%v, context.Canceled) = false", err)
	}
	var ge *gitError
	if !errors.As(err, &ge) {
		t.Errorf("redaction hid the *gitError")
	}
}

// progressLog collects Progress messages.
type progressLog struct {
	mu   sync.Mutex
	msgs []string
}

func (p *progressLog) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, s)
}

func (p *progressLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.msgs, "\n")
}

func TestFetcher_Fetch_credentialsInFailure(t *testing.T) {
	env := testEnv(t, "")
	var progress progressLog
	f, err := New(Options{CacheDir: t.TempDir(), Env: env, Progress: progress.add})
	if err != nil {
		t.Fatal(err)
	}
	const source = "git::https://user:s3cret@127.0.0.1:1/r.git"
	_, err = f.Fetch(context.Background(), mustParse(t, source))
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	t.Logf("err: %v\noutput: %s\nprogress: %s", err, fe.Output, &progress)
	for name, s := range map[string]string{"Error()": err.Error(), "Source": fe.Source, "Output": fe.Output, "Err": fe.Err.Error(), "progress": progress.String()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows the password: %q", name, s)
		}
	}
	if want := "git::https://user:xxxxx@127.0.0.1:1/r.git"; !strings.HasPrefix(err.Error(), "fetch "+want+": ") ||
		!strings.Contains(progress.String(), "downloading "+want) {
		t.Errorf("err = %q, progress = %q: want the redacted URL %s", err, &progress, want)
	}
}

func TestFetcher_Fetch_credentialsNotStored(t *testing.T) {
	fx := newGitRepo(t)
	plain := fx.serveHTTP(t) // http://127.0.0.1:port/git/repo.git; the server ignores credentials
	withCreds := strings.Replace(plain, "http://", "http://user:s3cret@", 1)
	cacheDir := t.TempDir()
	var progress progressLog
	f, err := New(Options{CacheDir: cacheDir, Env: fx.env, Progress: progress.add})
	if err != nil {
		t.Fatal(err)
	}
	co := fetch(t, f, "git::"+withCreds+"?ref=dev")
	if want := "git::" + strings.Replace(plain, "http://", "http://user:xxxxx@", 1) + "?ref=dev"; co.Source != want {
		t.Errorf("Source = %q, want %q", co.Source, want)
	}
	if want := "git " + plain + " " + fx.dev; co.Identity != want {
		t.Errorf("Identity = %q, want %q", co.Identity, want)
	}
	// The same repository without credentials is the same content.
	if other := fetch(t, f, "git::"+plain+"?ref=dev"); other.Identity != co.Identity || other.ModuleDir != co.ModuleDir {
		t.Errorf("without credentials: %+v, want the same checkout as %+v", other, co)
	}
	if strings.Contains(progress.String(), "s3cret") {
		t.Errorf("progress shows the password: %q", &progress)
	}
	if got := goBuildRun(t, co, fx.env); got != "dev1" {
		t.Errorf("program output = %q, want dev1", got)
	}
	// Nothing in the cache (metadata, resolution records, the clone's
	// config and logs) holds the password.
	err = filepath.WalkDir(cacheDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), "s3cret") {
			t.Errorf("%s holds the password:\n%s", p, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCommand_interrupts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := command(ctx, "sh", "-c", `trap 'echo interrupted; exit 3' INT; echo ready; while :; do sleep 0.01; done`)
	if cmd.Cancel == nil || cmd.WaitDelay != commandWaitDelay {
		t.Fatalf("command: Cancel set %v, WaitDelay %v; want a Cancel and %v", cmd.Cancel != nil, cmd.WaitDelay, commandWaitDelay)
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("ready\n"))
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("read %q, %v; want ready", buf, err)
	}
	cancel()
	rest, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	if !strings.Contains(string(rest), "interrupted") {
		t.Errorf("after cancel: output %q, err %v; want the command interrupted (not killed)", rest, err)
	}
	if err == nil {
		t.Errorf("Wait = nil, want an error after cancel")
	}
}
