package fetch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv is a hermetic environment for go and git: no network, a private
// module cache, the fixture proxy when proxyURL is set.
func testEnv(t *testing.T, proxyURL string) []string {
	t.Helper()
	modcache := filepath.Join(t.TempDir(), "modcache")
	env := append(os.Environ(),
		"GOPROXY=off",
		"GOSUMDB=off",
		"GONOSUMDB=example.com",
		"GOPRIVATE=",
		"GOFLAGS=-mod=mod",
		"GOMODCACHE="+modcache,
		"GOTOOLCHAIN=local",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(t.TempDir(), "gitconfig"),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	)
	if proxyURL != "" {
		env = append(env, "GOPROXY="+proxyURL)
	}
	t.Cleanup(func() {
		// The module cache is read-only: let the go command remove it.
		cmd := exec.Command("go", "clean", "-modcache")
		cmd.Env = env
		cmd.Run()
	})
	return env
}

// setenv returns env with key=value appended (last one wins).
func setenv(env []string, key, value string) []string {
	return append(append([]string(nil), env...), key+"="+value)
}

func newFetcher(t *testing.T, cacheDir string, env []string, update bool) *Fetcher {
	t.Helper()
	f, err := New(Options{CacheDir: cacheDir, Env: env, Update: update})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustParse(t *testing.T, s string) Source {
	t.Helper()
	src, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return src
}

func fetch(t *testing.T, f *Fetcher, s string) Checkout {
	t.Helper()
	co, err := f.Fetch(context.Background(), mustParse(t, s))
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			t.Fatalf("Fetch(%q): %v\n%s", s, err, fe.Output)
		}
		t.Fatalf("Fetch(%q): %v", s, err)
	}
	return co
}

// goBuildRun builds the checkout's package the way the build step will and
// returns the program's trimmed output.
func goBuildRun(t *testing.T, co Checkout, env []string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "prog")
	args := append(append([]string{"build"}, co.BuildFlags...), "-o", bin, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = co.PackageDir
	cmd.Env = append(append([]string(nil), env...), co.BuildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", co.PackageDir, err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("run %s: %v\n%s", bin, err, out)
	}
	return strings.TrimSpace(string(out))
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
