package control

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobodyUID is the uid (and gid) of the unprivileged user the peer test
// connects as.
const nobodyUID = 65534

// TestServer_RefusesOtherUID connects as user nobody to a socket made
// reachable for the test (the 0700 directory alone would stop it at
// connect) and checks the server closes the connection unanswered.
func TestServer_RefusesOtherUID(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a peer as nobody")
	}
	// A directory chain nobody can traverse, holding a copy of the test
	// binary nobody can execute.
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(base, "helper")
	copyExecutable(t, exe)

	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := filepath.Join(base, "cache")
	dir, err := Dir(cache)
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHandler{}
	s := listen(t, dir, "shop", h)
	// Open the way to the socket so that only the peer check stands in
	// between. Only directories this test created are touched.
	for _, d := range []string{cache, dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(s.Path(), 0o666); err != nil {
		t.Fatal(err)
	}

	run := func(cred *syscall.Credential) string {
		t.Helper()
		cmd := exec.Command(exe, s.Path())
		cmd.Env = append(os.Environ(), helperEnv+"=peer")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if got, want := run(&syscall.Credential{Uid: nobodyUID, Gid: nobodyUID}), "closed"; got != want {
		t.Errorf("peer as nobody: %q, want %q", got, want)
	}
	// The same helper as root is answered: the refusal above is the peer
	// check, not a broken helper.
	if got, want := run(nil), "answered"; got != want {
		t.Errorf("peer as root: %q, want %q", got, want)
	}
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
