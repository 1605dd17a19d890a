//go:build unix

package shim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The test binary links this package, so it is a shim itself; with
// helperEnv set it is the program the shim execs instead.
const helperEnv = "FNRUN_SHIM_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		// The program: report what it sees.
		fmt.Printf("pid=%d %s=%s argv=%s\n", os.Getpid(), EnvPID, os.Getenv(EnvPID), strings.Join(os.Args, ","))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestMain_execsInPlace(t *testing.T) {
	exe := testBinary(t)
	cmd := exec.Command(exe, Arg, exe, "prog", "a b", "c")
	cmd.Env = append(os.Environ(), helperEnv+"=1", EnvPID+"=1")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("shim: %v\n%s", err, stderr.String())
	}
	pid := cmd.Process.Pid
	got := strings.TrimSpace(out.String())
	want := fmt.Sprintf("pid=%d %s=%d argv=prog,a b,c", pid, EnvPID, pid)
	if got != want {
		t.Errorf("program saw %q, want %q", got, want)
	}
}

func TestMain_missingProgram(t *testing.T) {
	exe := testBinary(t)
	missing := t.TempDir() + "/missing"
	cmd := exec.Command(exe, Arg, missing, "missing", "x")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("shim: got %v, want an exit error", err)
	}
	if got, want := ee.ExitCode(), ExitCannotExec; got != want {
		t.Errorf("exit code %d, want %d", got, want)
	}
	if got, want := stderr.String(), "fnrun: exec "+missing+": no such file or directory\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

func TestMain_noProgram(t *testing.T) {
	cmd := exec.Command(testBinary(t), Arg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitCannotExec {
		t.Fatalf("shim without a program: got %v, want exit code %d", err, ExitCannotExec)
	}
	if !strings.Contains(stderr.String(), "no program") {
		t.Errorf("stderr %q, want it to say there is no program", stderr.String())
	}
}

func TestItoa(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 4194304, 1<<63 - 1} {
		if got, want := itoa(n), strconv.Itoa(n); got != want {
			t.Errorf("itoa(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWithPID(t *testing.T) {
	env := []string{"A=1", EnvPID + "=7", "LISTEN_PIDX=2", EnvPID + "=8", "B="}
	got := withPID(env, 42)
	want := []string{"A=1", "LISTEN_PIDX=2", "B=", EnvPID + "=" + strconv.Itoa(42)}
	if !slices.Equal(got, want) {
		t.Errorf("withPID = %q, want %q", got, want)
	}
}
