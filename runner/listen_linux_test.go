//go:build linux

package runner

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestSupervisor_Run_listenersNotInherited: after runs with listeners, an
// ordinary child of this process does not have the sockets (the caller's
// descriptors stayed close-on-exec, and no duplicate leaked).
func TestSupervisor_Run_listenersNotInherited(t *testing.T) {
	files, _, _ := testListeners(t)
	o := helperOptions(t, "exit", "0")
	o.Listeners = []Listener{{File: files[0]}, {File: files[1]}}
	if st := run(t, mustNew(t, o)); st.Code != 0 {
		t.Fatalf("exit code %d, want 0", st.Code)
	}
	var socks []string
	for _, f := range files {
		fd, _, _ := fdFlags(t, f)
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, target)
	}
	cmd := exec.Command(o.Path)
	cmd.Env = append(os.Environ(), helperEnv+"=fds", "GORACE=atexit_sleep_ms=0")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	fds := strings.Fields(out.String())
	if len(fds) < 4 || fds[0] != "fds" {
		t.Fatalf("fds helper printed %q", out.String())
	}
	for _, fd := range fds[1:] {
		_, target, _ := strings.Cut(fd, "=")
		for _, s := range socks {
			if target == s {
				t.Errorf("a child inherited listener %s as fd %s", s, fd)
			}
		}
	}
}
