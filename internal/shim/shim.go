//go:build unix

package shim

// Only os and syscall: the linker schedules a package's init as soon as
// its imports are initialised and no lexically earlier package is ready,
// so with these two the shim runs right after package os (about 20 cheap
// inits), while strings or strconv would make it wait for unicode and,
// behind it, every ready package that sorts before "strings" (reflect,
// compress, crypto, encoding/json, flag...): about 60 inits. Keep it so.
import (
	"os"
	"syscall"
)

// Arg is the first argument that makes a binary linking this package act as
// the shim; the program and its argument vector follow it.
const Arg = "__fnrun-listen-shim"

// ExitCannotExec is the shim's exit code when the program cannot be exec'd
// (as a shell's 126: found but could not be started).
const ExitCannotExec = 126

// EnvPID is the variable the shim sets to its own (and so the program's) pid.
const EnvPID = "LISTEN_PID"

func init() { Main() }

// Main acts as the shim when os.Args[1] is Arg: it sets LISTEN_PID to the
// process's pid and execs os.Args[2] with os.Args[3:] as its argument
// vector (argv[0] is the program's name, the path stays os.Args[2]) and the
// environment otherwise unchanged. os.Args[2] is used as a path, without a
// PATH lookup. If the exec fails it writes
// "fnrun: exec PROGRAM: ERROR" to stderr and exits with ExitCannotExec; it
// never returns then. Otherwise it returns at once. The package's init
// function calls it, so main needs to call it only as a second line of
// defence.
func Main() {
	if len(os.Args) < 2 || os.Args[1] != Arg {
		return
	}
	os.Exit(run(os.Args[2:]))
}

// run execs args[0] with the argument vector args[1:] and LISTEN_PID set,
// and returns the exit code if that fails.
func run(args []string) int {
	if len(args) < 2 || args[0] == "" {
		os.Stderr.WriteString("fnrun: " + Arg + ": no program to exec\n")
		return ExitCannotExec
	}
	env := withPID(syscall.Environ(), syscall.Getpid())
	err := syscall.Exec(args[0], args[1:], env)
	os.Stderr.WriteString("fnrun: exec " + args[0] + ": " + err.Error() + "\n")
	return ExitCannotExec
}

// withPID returns env without any LISTEN_PID entry, plus LISTEN_PID=pid.
func withPID(env []string, pid int) []string {
	const prefix = EnvPID + "="
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if len(kv) < len(prefix) || kv[:len(prefix)] != prefix {
			out = append(out, kv)
		}
	}
	return append(out, prefix+itoa(pid))
}

// itoa formats a non-negative n in decimal (strconv is not imported, see
// above).
func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
