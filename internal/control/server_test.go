package control

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestListen_PSRoundTrip(t *testing.T) {
	dir := testDir(t)
	h := &fakeHandler{known: []string{"api", "worker"}}
	s := listen(t, dir, "shop", h)

	if got, want := mode(t, s.Path()), os.FileMode(0o600); got != want {
		t.Errorf("socket mode = %v, want %v", got, want)
	}
	resp, err := Call(dir, "shop", Request{Op: OpPS})
	if err != nil {
		t.Fatal(err)
	}
	inst := resp.Instance
	if inst == nil {
		t.Fatalf("ps response has no instance: %+v", resp)
	}
	if inst.Version != ProtocolVersion || inst.Name != "shop" || inst.PID != os.Getpid() || inst.Started.IsZero() {
		t.Errorf("instance = %+v, want version %d, name shop, pid %d, a start time", inst, ProtocolVersion, os.Getpid())
	}
	if got, want := len(inst.Functions), 2; got != want {
		t.Fatalf("functions = %d, want %d", got, want)
	}

	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "shop" {
		t.Fatalf("List = %+v, want one instance shop", list)
	}

	if _, err := Call(dir, "shop", Request{Op: OpRestart, Names: []string{"api"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Calls(), []string{"restart[api]"}; !slices.Equal(got, want) {
		t.Errorf("handler calls = %q, want %q", got, want)
	}

	_, err = Call(dir, "shop", Request{Op: OpStop, Names: []string{"nope"}})
	u, ok := errors.AsType[*UnknownNamesError](err)
	if !ok {
		t.Fatalf("stop nope: err = %v, want *UnknownNamesError", err)
	}
	if !slices.Equal(u.Unknown, []string{"nope"}) || !slices.Equal(u.Known, h.known) {
		t.Errorf("unknown names error = %+v", u)
	}

	_, err = Call(dir, "shop", Request{Op: "explode"})
	if re, ok := errors.AsType[*RemoteError](err); !ok || re.Code != CodeBadRequest {
		t.Errorf("unknown op: err = %v, want *RemoteError with code %s", err, CodeBadRequest)
	}
	_, err = Call(dir, "shop", Request{Version: ProtocolVersion + 1, Op: OpPS})
	if re, ok := errors.AsType[*RemoteError](err); !ok || re.Code != CodeUnsupportedVersion {
		t.Errorf("future version: err = %v, want *RemoteError with code %s", err, CodeUnsupportedVersion)
	}
}

func TestServer_Close(t *testing.T) {
	dir := testDir(t)
	s := listen(t, dir, "shop", &fakeHandler{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Close: %v, want it removed", err)
	}
	if _, err := Call(dir, "shop", Request{Op: OpPS}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Call after Close: err = %v, want ErrNotRunning", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestListen_AlreadyRunning(t *testing.T) {
	dir := testDir(t)
	listen(t, dir, "shop", &fakeHandler{})
	_, err := Listen(dir, "shop", &fakeHandler{})
	re, ok := errors.AsType[*RunningError](err)
	if !ok {
		t.Fatalf("second Listen: err = %v, want *RunningError", err)
	}
	if re.PID != os.Getpid() {
		t.Errorf("RunningError.PID = %d, want %d", re.PID, os.Getpid())
	}
	if want := "instance shop is already running (pid "; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
	// The first instance still answers.
	if _, err := Call(dir, "shop", Request{Op: OpPS}); err != nil {
		t.Errorf("first instance after refused Listen: %v", err)
	}
}

func TestListen_ReplacesStaleSocket(t *testing.T) {
	dir := testDir(t)
	staleSocket(t, SocketPath(dir, "shop"))
	listen(t, dir, "shop", &fakeHandler{})
	resp, err := Call(dir, "shop", Request{Op: OpPS})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Instance == nil || resp.Instance.PID != os.Getpid() {
		t.Errorf("ps after replacing stale socket = %+v", resp)
	}
}

func TestList_RemovesStaleSocket(t *testing.T) {
	dir := testDir(t)
	listen(t, dir, "live", &fakeHandler{})
	stale := SocketPath(dir, "dead")
	staleSocket(t, stale)

	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range list {
		names = append(names, in.Name)
	}
	if want := []string{"live"}; !slices.Equal(names, want) {
		t.Errorf("List names = %q, want %q", names, want)
	}
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale socket after List: %v, want it removed", err)
	}
}

func TestList_MissingDir(t *testing.T) {
	list, err := List(filepath.Join(t.TempDir(), "absent"))
	if err != nil || list != nil {
		t.Errorf("List(missing) = %v, %v; want nil, nil", list, err)
	}
}

func TestListen_RefusesNonSocket(t *testing.T) {
	dir := testDir(t)
	file := SocketPath(dir, "file")
	if err := os.WriteFile(file, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(dir, "file", &fakeHandler{}); err == nil {
		t.Error("Listen over a regular file succeeded")
	}
	target := filepath.Join(t.TempDir(), "elsewhere.sock")
	staleSocket(t, target)
	if err := os.Symlink(target, SocketPath(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(dir, "link", &fakeHandler{}); err == nil {
		t.Error("Listen over a symlink succeeded")
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep" {
		t.Errorf("regular file after refused Listen: %q, %v", b, err)
	}
	if _, err := os.Lstat(target); err != nil {
		t.Errorf("symlink target after refused Listen: %v", err)
	}
}

func TestValidInstanceName(t *testing.T) {
	for _, name := range []string{"shop", "a", "my-app_2.0", strings.Repeat("x", 64)} {
		if err := ValidInstanceName(name); err != nil {
			t.Errorf("ValidInstanceName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "a/b", "../x", "a b", strings.Repeat("x", 65), "é"} {
		if err := ValidInstanceName(name); !errors.Is(err, ErrInvalidInstanceName) {
			t.Errorf("ValidInstanceName(%q) = %v, want ErrInvalidInstanceName", name, err)
		}
		if _, err := Listen(t.TempDir(), name, &fakeHandler{}); !errors.Is(err, ErrInvalidInstanceName) {
			t.Errorf("Listen(%q) = %v, want ErrInvalidInstanceName", name, err)
		}
	}
}

// blockingHandler's Do waits for its context, as a long action would.
type blockingHandler struct {
	fakeHandler
	entered chan struct{}
}

func (h *blockingHandler) Do(ctx context.Context, op string, names []string) error {
	close(h.entered)
	<-ctx.Done()
	return ctx.Err()
}

func TestServer_CloseCancelsDo(t *testing.T) {
	dir := testDir(t)
	h := &blockingHandler{entered: make(chan struct{})}
	s := listen(t, dir, "shop", h)
	errc := make(chan error, 1)
	go func() {
		_, err := Call(dir, "shop", Request{Op: OpDown})
		errc <- err
	}()
	<-h.entered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	if re, ok := errors.AsType[*RemoteError](err); !ok || re.Code != CodeFailed {
		t.Errorf("down interrupted by Close: err = %v, want *RemoteError with code %s", err, CodeFailed)
	}
}
