package cli

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain_brokenPipe: `fnrun exec ... | head -2` stops the program's whole
// group gracefully and exits 141, instead of dying of SIGPIPE and leaving
// the group behind.
func TestMain_brokenPipe(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	cmd := exec.Command("fnrun", "exec", "-q", "--", "helper", "spawnyes", pids)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	for range 2 {
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	out.Close() // like head exiting
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitBrokenPipe {
		t.Fatalf("fnrun ended with %v, want exit %d", err, ExitBrokenPipe)
	}
	data, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, f := range strings.Fields(string(data)) {
		pid, _ := strconv.Atoi(f)
		if !awaitGone(pid, deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still running after fnrun exited", pid)
		}
	}
}
