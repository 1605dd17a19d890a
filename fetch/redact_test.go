package fetch

import (
	"context"
	"errors"
	"io/fs"
	"os"
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
		{"git::https://user@host/r.git", "git::https://xxxxx@host/r.git"},
		{"git::https://ghp_T0KEN@host/r.git//cmd/x?ref=main", "git::https://xxxxx@host/r.git//cmd/x?ref=main"},
		{"ssh://git@host/r.git", "ssh://git@host/r.git"},
		{"git::ssh://git@host/r.git?ref=v1", "git::ssh://git@host/r.git?ref=v1"},
		{"https://host/fn.tar.gz?X-Amz-Signature=S3CRET&X-Amz-Credential=AKIA%2F1&archive=tgz",
			"https://host/fn.tar.gz?X-Amz-Signature=xxxxx&X-Amz-Credential=xxxxx&archive=tgz"},
		{"https://host/fn.tar.gz?checksum=sha256:00ff&token", "https://host/fn.tar.gz?checksum=sha256:00ff&xxxxx"},
		{"https://host/x.zip?sig=abc#frag", "https://host/x.zip?sig=xxxxx#frag"},
		{"GET \"https://host/x.zip?sig=abc\": 403", "GET \"https://host/x.zip?sig=xxxxx\": 403"},
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

func TestRedacted_tokenAndQuery(t *testing.T) {
	for _, tt := range []struct{ source, want, secret string }{
		{"git::https://ghp_T0KEN@127.0.0.1:1/r.git?ref=v1", "git::https://xxxxx@127.0.0.1:1/r.git?ref=v1", "ghp_T0KEN"},
		{"https://127.0.0.1:1/fn.tar.gz?X-Amz-Signature=S3CRET%2Bx&checksum=sha256:00",
			"https://127.0.0.1:1/fn.tar.gz?X-Amz-Signature=xxxxx&checksum=sha256:00", "S3CRET"},
	} {
		src := mustParse(t, tt.source)
		if got := src.Redacted(); got != tt.want {
			t.Errorf("Redacted(%s) = %q, want %q", tt.source, got, tt.want)
		}
		// The bare secret in tool output is hidden too.
		out := "error: " + tt.secret + "+x rejected"
		err := redactFetchError(src, &Error{Source: src.Raw, Op: "download", Err: errors.New(out), Output: out})
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("err = %T", err)
		}
		for name, s := range map[string]string{"Error()": err.Error(), "Source": fe.Source, "Output": fe.Output} {
			if strings.Contains(s, tt.secret) {
				t.Errorf("%s: %s shows the secret: %q", tt.source, name, s)
			}
		}
	}
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
	// A token given as the user name.
	withToken := strings.Replace(plain, "http://", "http://ghp_T0KEN@", 1)
	co = fetch(t, f, "git::"+withToken+"?ref=v1.0.0")
	if want := "git::" + strings.Replace(plain, "http://", "http://xxxxx@", 1) + "?ref=v1.0.0"; co.Source != want {
		t.Errorf("Source = %q, want %q", co.Source, want)
	}
	if want := "git " + plain + " " + fx.tag; co.Identity != want {
		t.Errorf("Identity = %q, want %q", co.Identity, want)
	}
	if p := progress.String(); strings.Contains(p, "s3cret") || strings.Contains(p, "ghp_T0KEN") {
		t.Errorf("progress shows a credential: %q", p)
	}
	// Nothing in the cache (metadata, resolution records, the clone's
	// config and logs) holds a credential.
	scanCache(t, cacheDir, "s3cret", "ghp_T0KEN")
}

// scanCache fails t if a file under dir holds one of secrets.
func scanCache(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if strings.Contains(string(data), sec) {
				t.Errorf("%s holds %s:\n%s", p, sec, data)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFetcher_Fetch_archiveCredentialsNotStored(t *testing.T) {
	url := serveFiles(t, map[string][]byte{"fn.tar.gz": makeTarGz(t, archiveFiles)}) // ignores credentials and query
	env := testEnv(t, "")
	cacheDir := t.TempDir()
	var progress progressLog
	f, err := New(Options{CacheDir: cacheDir, Env: env, Progress: progress.add})
	if err != nil {
		t.Fatal(err)
	}
	source := strings.Replace(url, "http://", "http://tok3n@", 1) + "/fn.tar.gz?X-Amz-Signature=S3CRET&X-Amz-Expires=60"
	co := fetch(t, f, source)
	if want := strings.Replace(url, "http://", "http://xxxxx@", 1) + "/fn.tar.gz?X-Amz-Signature=xxxxx&X-Amz-Expires=xxxxx"; co.Source != want {
		t.Errorf("Source = %q, want %q", co.Source, want)
	}
	if p := progress.String(); strings.Contains(p, "S3CRET") || strings.Contains(p, "tok3n") {
		t.Errorf("progress shows a credential: %q", p)
	}
	scanCache(t, cacheDir, "S3CRET", "tok3n")
	// A failure (404) does not show them either.
	_, err = f.Fetch(t.Context(), mustParse(t, strings.Replace(source, "fn.tar.gz", "missing.tar.gz", 1)))
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *Error", err)
	}
	for name, s := range map[string]string{"Error()": err.Error(), "Source": fe.Source, "Output": fe.Output} {
		if strings.Contains(s, "S3CRET") || strings.Contains(s, "tok3n") {
			t.Errorf("%s shows a credential: %q", name, s)
		}
	}
}
