package fetch

import (
	"context"
	"errors"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRun runs git in dir and returns its trimmed output.
func gitRun(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

type gitFixture struct {
	env            []string
	base, repo     string // base holds repo.git
	tag, main, dev string // commits
}

// newGitRepo creates base/repo.git: main (tagged v1.0.0) with cmd/sub and
// two symlinks leading out of the repository, and a branch dev one commit
// ahead.
func newGitRepo(t *testing.T) *gitFixture {
	t.Helper()
	env := testEnv(t, "")
	base := t.TempDir()
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "go.mod"), "module example.com/outside\n\ngo 1.21\n")
	writeFile(t, filepath.Join(outside, "main.go"), "package main\n\nfunc main() { println(\"outside\") }\n")
	repo := filepath.Join(base, "repo.git")
	gitRun(t, env, base, "init", "--quiet", "-b", "main", repo)
	writeFile(t, filepath.Join(repo, "go.mod"), "module example.com/gitfn\n\ngo 1.21\n")
	writeFile(t, filepath.Join(repo, "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"main\") }\n")
	writeFile(t, filepath.Join(repo, "cmd", "sub", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"sub\") }\n")
	if err := os.Symlink(outside, filepath.Join(repo, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../..", filepath.Join(repo, "cmd", "up")); err != nil {
		t.Fatal(err)
	}
	gitRun(t, env, repo, "add", "-A")
	gitRun(t, env, repo, "commit", "--quiet", "-m", "v1")
	gitRun(t, env, repo, "tag", "v1.0.0")
	fx := &gitFixture{env: env, base: base, repo: repo}
	fx.tag = gitRun(t, env, repo, "rev-parse", "HEAD")
	fx.main = fx.tag
	gitRun(t, env, repo, "checkout", "--quiet", "-b", "dev")
	fx.dev = fx.commit(t, "dev1")
	gitRun(t, env, repo, "checkout", "--quiet", "main")
	return fx
}

// commit changes main.go on the checked-out branch to print msg.
func (fx *gitFixture) commit(t *testing.T, msg string) string {
	t.Helper()
	writeFile(t, filepath.Join(fx.repo, "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\""+msg+"\") }\n")
	gitRun(t, fx.env, fx.repo, "commit", "--quiet", "-am", msg)
	return gitRun(t, fx.env, fx.repo, "rev-parse", "HEAD")
}

// serveHTTP serves fx.base over git's smart HTTP protocol on loopback.
func (fx *gitFixture) serveHTTP(t *testing.T) string {
	t.Helper()
	execPath := strings.TrimSpace(gitRun(t, fx.env, "", "--exec-path"))
	srv := httptest.NewServer(&cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Root: "/git",
		Env:  []string{"GIT_PROJECT_ROOT=" + fx.base, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	})
	t.Cleanup(srv.Close)
	return srv.URL + "/git/repo.git"
}

func TestFetcher_Fetch_git(t *testing.T) {
	fx := newGitRepo(t)
	for _, transport := range []string{"file", "http"} {
		t.Run(transport, func(t *testing.T) {
			url := "file://" + fx.repo
			if transport == "http" {
				url = fx.serveHTTP(t)
			}
			cacheDir := t.TempDir()
			f := newFetcher(t, cacheDir, fx.env, false)
			tests := []struct {
				query, wantCommit, wantPkg, wantImport string
			}{
				{"", fx.main, ".", "example.com/gitfn"},
				{"?ref=v1.0.0", fx.tag, ".", "example.com/gitfn"},
				{"?ref=dev", fx.dev, ".", "example.com/gitfn"},
				{"?ref=" + fx.dev, fx.dev, ".", "example.com/gitfn"},
				{"?ref=" + fx.dev[:10], fx.dev, ".", "example.com/gitfn"},
				{"//cmd/sub?ref=v1.0.0", fx.tag, "cmd/sub", "example.com/gitfn/cmd/sub"},
			}
			for _, tt := range tests {
				source := "git::" + url + tt.query
				co := fetch(t, f, source)
				if co.Version != tt.wantCommit {
					t.Errorf("%s: Version = %q, want %q", source, co.Version, tt.wantCommit)
				}
				if want := "git " + url + " " + tt.wantCommit; co.Identity != want {
					t.Errorf("%s: Identity = %q, want %q", source, co.Identity, want)
				}
				if got := filepath.Join(co.ModuleDir, tt.wantPkg); got != co.PackageDir || co.ImportPath != tt.wantImport {
					t.Errorf("%s: PackageDir %q ImportPath %q, want %q %q", source, co.PackageDir, co.ImportPath, got, tt.wantImport)
				}
				if !strings.HasPrefix(co.ModuleDir, cacheDir) {
					t.Errorf("%s: ModuleDir %q outside the cache", source, co.ModuleDir)
				}
			}
			if got := goBuildRun(t, fetch(t, f, "git::"+url+"?ref=dev"), fx.env); got != "dev1" {
				t.Errorf("dev program output = %q, want dev1", got)
			}
		})
	}
}

func TestFetcher_Fetch_gitBranchUpdate(t *testing.T) {
	fx := newGitRepo(t)
	cacheDir := t.TempDir()
	source := "git::file://" + fx.repo + "?ref=dev"
	first := fetch(t, newFetcher(t, cacheDir, fx.env, false), source)
	if first.Version != fx.dev {
		t.Fatalf("Version = %q, want %q", first.Version, fx.dev)
	}
	gitRun(t, fx.env, fx.repo, "checkout", "--quiet", "dev")
	dev2 := fx.commit(t, "dev2")

	if co := fetch(t, newFetcher(t, cacheDir, fx.env, false), source); co.Version != fx.dev {
		t.Errorf("without update: Version = %q, want the remembered %q", co.Version, fx.dev)
	}
	co := fetch(t, newFetcher(t, cacheDir, fx.env, true), source)
	if co.Version != dev2 || co.Stale {
		t.Errorf("update: Version = %q, Stale = %v, want %q, false", co.Version, co.Stale, dev2)
	}
	if co.ModuleDir == first.ModuleDir {
		t.Errorf("update reused the checkout %s", co.ModuleDir)
	}
	if got := goBuildRun(t, co, fx.env); got != "dev2" {
		t.Errorf("program output = %q, want dev2", got)
	}

	// Offline warm start: the repository is gone.
	if err := os.RemoveAll(fx.repo); err != nil {
		t.Fatal(err)
	}
	warm := fetch(t, newFetcher(t, cacheDir, fx.env, false), source)
	if warm.ModuleDir != co.ModuleDir || warm.Version != dev2 {
		t.Errorf("warm start = %+v, want %+v", warm, co)
	}
	pinned := fetch(t, newFetcher(t, cacheDir, fx.env, true), "git::file://"+fx.repo+"?ref="+fx.dev)
	if pinned.Version != fx.dev || pinned.Stale {
		t.Errorf("pinned commit after removal: %+v, want %s from the cache", pinned, fx.dev)
	}
	stale := fetch(t, newFetcher(t, cacheDir, fx.env, true), source)
	if !stale.Stale || stale.UpdateErr == nil || stale.ModuleDir != co.ModuleDir {
		t.Errorf("failed update = %+v, want the previous checkout marked stale", stale)
	}
}

func TestFetcher_Fetch_gitErrors(t *testing.T) {
	fx := newGitRepo(t)
	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, fx.env, false)
	url := "git::file://" + fx.repo
	for _, tt := range []struct{ source, want string }{
		{url + "//escape", "leaves the fetched tree"},
		{url + "//cmd/up", "leaves the fetched tree"},
		{url + "//cmd/up/etc", "leaves the fetched tree"},
		{url + "//nosuch", `subdirectory "nosuch" not found`},
		{url + "?ref=nosuch", `unknown ref "nosuch"`},
		{"git::file://" + filepath.Join(fx.base, "missing.git"), "git clone"},
	} {
		_, err := f.Fetch(context.Background(), mustParse(t, tt.source))
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Fetch(%s) = %v, want one-line *Error containing %q", tt.source, err, tt.want)
		} else {
			t.Logf("%v", err)
		}
	}
	// Nothing outside the cache was written, and nothing is left in tmp.
	if entries, _ := os.ReadDir(filepath.Join(cacheDir, "tmp")); len(entries) != 0 {
		t.Errorf("leftovers in the cache's tmp: %v", entries)
	}
}

func TestFetcher_Fetch_concurrent(t *testing.T) {
	fx := newGitRepo(t)
	cacheDir := t.TempDir()
	source := "git::file://" + fx.repo + "?ref=dev"
	const n = 4
	results := make(chan Checkout, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			f := newFetcher(t, cacheDir, fx.env, false)
			co, err := f.Fetch(context.Background(), mustParse(t, source))
			results <- co
			errs <- err
		}()
	}
	var first Checkout
	for i := range n {
		co, err := <-results, <-errs
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if i == 0 {
			first = co
		} else if co.ModuleDir != first.ModuleDir || co.Identity != first.Identity {
			t.Errorf("concurrent fetches disagree: %+v and %+v", co, first)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cacheDir, "src")); len(entries) != 1 {
		t.Errorf("src has %d entries, want 1", len(entries))
	}
}
