package cli

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestImage_Run writes an image of the greeter with a real, static fnrun,
// unpacks it and runs its entrypoint as an engine would (its user, its
// environment, a root of its own with the /dev/null and /proc a runtime
// provides, no network but loopback): the greeter
// answers on the socket fnrun holds and a fresh process answers the next
// call. Root only (chroot, unshare).
func TestImage_Run(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot, unshare)")
	}
	tools := map[string]string{}
	for _, tool := range []string{"unshare", "chroot"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s", tool)
		}
		tools[tool] = p
	}
	if testing.Short() {
		t.Skip("builds fnrun")
	}
	tmp := t.TempDir()
	repo, _ := filepath.Abs("../..")
	fnrun := filepath.Join(tmp, "fnrun")
	build := exec.Command(goPath(t), "build", "-o", fnrun, "./cmd/fnrun")
	build.Dir, build.Env = repo, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fnrun: %v\n%s", err, out)
	}
	img := filepath.Join(tmp, "img")
	mk := exec.Command(fnrun, "image", "--cache-dir", filepath.Join(tmp, "cache"), "-r", "--listen", "unix:///tmp/greeter.sock",
		filepath.Join(repo, "examples", "greeter"), "-o", img)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("fnrun image: %v\n%s", err, out)
	}

	p, err := layout.FromPath(img)
	if err != nil {
		t.Fatal(err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	idx, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.Image(idx.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := im.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/local/bin/fnrun", "exec", "--init", "--policy", "always", "--listen", "unix:///tmp/greeter.sock", "--name", "greeter", "--", "/fn/greeter"}
	if got := cf.Config.Entrypoint; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("entrypoint: got %q, want %q", got, want)
	}
	root := filepath.Join(tmp, "root")
	unpack(t, mutate.Extract(im), root)
	// What every OCI runtime provides (runtime-spec: default devices).
	os.Mkdir(filepath.Join(root, "dev"), 0o755)
	if err := syscall.Mknod(filepath.Join(root, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(root, "dev", "null"), 0o666)
	os.Mkdir(filepath.Join(root, "proc"), 0o555) // unshare mounts a proc there

	uid, gid, ok := strings.Cut(cf.Config.User, ":")
	if !ok {
		t.Fatalf("user %q: want UID:GID", cf.Config.User)
	}
	args := append([]string{"--net", "--mount", "--mount-proc=" + filepath.Join(root, "proc"), "--", tools["chroot"], "--userspec=" + uid + ":" + gid, root}, cf.Config.Entrypoint...)
	run := exec.Command(tools["unshare"], args...)
	run.Env = cf.Config.Env
	var out strings.Builder
	run.Stdout, run.Stderr = &out, &out
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	})

	sock := filepath.Join(root, "tmp", "greeter.sock")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	deadline := time.Now().Add(waitLimit)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no socket %s; output:\n%s", sock, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var pids []int
	for _, name := range []string{"Ada", "Grace"} {
		resp, err := client.Get("http://greeter/?name=" + name)
		if err != nil {
			t.Fatalf("call %s: %v; output:\n%s", name, err, out.String())
		}
		var body struct {
			Greeting string
			PID      int
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "Hello, " + name + "!"; body.Greeting != want {
			t.Errorf("greeting: got %q, want %q", body.Greeting, want)
		}
		pids = append(pids, body.PID)
	}
	if pids[0] == pids[1] {
		t.Errorf("both calls answered by pid %d, want a fresh process for each", pids[0])
	}

	// An engine stops a container with SIGTERM to its process 1.
	run.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("fnrun did not stop on SIGTERM; output:\n%s", out.String())
	}
	// The greeters answered one call each and are gone; the one running at
	// SIGTERM was never seen: look for any process still inside the image.
	procs, _ := filepath.Glob("/proc/[0-9]*/root")
	for _, p := range procs {
		if r, err := os.Readlink(p); err == nil && r == root {
			st, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
			if !strings.Contains(string(st), ") Z ") {
				t.Errorf("process %s still running in the image after fnrun stopped", filepath.Base(filepath.Dir(p)))
			}
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out.String())
	}
}

// unpack writes a flattened image file system to dir with its modes and owners.
func unpack(t *testing.T, r io.ReadCloser, dir string) {
	t.Helper()
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("%s: outside the root", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: unexpected type %c", h.Name, h.Typeflag)
		}
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, os.FileMode(h.Mode&0o777)|modeBits(h.Mode)); err != nil {
			t.Fatal(err)
		}
	}
}

func modeBits(m int64) os.FileMode {
	var b os.FileMode
	if m&0o1000 != 0 {
		b |= os.ModeSticky
	}
	if m&0o2000 != 0 {
		b |= os.ModeSetgid
	}
	if m&0o4000 != 0 {
		b |= os.ModeSetuid
	}
	return b
}
