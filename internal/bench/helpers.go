package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The helper programs the benchmarks supervise. They are written into a
// throwaway module and built with the local go command.
var helperSources = map[string]string{
	// exit0 appends one byte to $COUNT_FILE and exits 0: one restart = one byte.
	"exit0": `package main

import "os"

func main() {
	f, err := os.OpenFile(os.Getenv("COUNT_FILE"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		os.Exit(3)
	}
	f.Write([]byte{'.'})
	f.Close()
}
`,
	// spam prints N short lines ("line 123456") as fast as it can.
	"spam": `package main

import (
	"bufio"
	"os"
	"strconv"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	buf := make([]byte, 0, 32)
	for i := range n {
		buf = append(buf[:0], "line "...)
		buf = strconv.AppendInt(buf, int64(100000+i%900000), 10)
		buf = append(buf, '\n')
		w.Write(buf)
	}
	w.Flush()
}
`,
	// lines1 prints N short lines ("line 123456"), one write(2) per line.
	"lines1": `package main

import (
	"os"
	"strconv"
)

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	buf := make([]byte, 0, 32)
	for i := range n {
		buf = append(buf[:0], "line "...)
		buf = strconv.AppendInt(buf, int64(100000+i%900000), 10)
		buf = append(buf, '\n')
		os.Stdout.Write(buf)
	}
}
`,
	// prefixer copies stdin to stdout with "spam | " before every line, in
	// large reads and writes: the least work any tool that prefixes lines
	// does (the limit for fnrun's log rows).
	"prefixer": `package main

import (
	"bytes"
	"os"
)

func main() {
	prefix := []byte("spam | ")
	in := make([]byte, 1<<20)
	out := make([]byte, 0, 2<<20)
	var carry []byte
	for {
		n, err := os.Stdin.Read(in)
		p := in[:n]
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				carry = append(carry, p...)
				break
			}
			out = append(append(append(out, prefix...), carry...), p[:i+1]...)
			carry, p = carry[:0], p[i+1:]
		}
		if len(out) > 0 {
			os.Stdout.Write(out)
			out = out[:0]
		}
		if err != nil {
			return
		}
	}
}
`,
	// sleeper sleeps until it is signalled.
	"sleeper": `package main

import "time"

func main() { time.Sleep(24 * time.Hour) }
`,
}

// logLines is how many lines spam prints in the logs benchmark.
const logLines = 1000000

// buildHelpers builds every helper into b.bin.
func (b *bench) buildHelpers(ctx context.Context) error {
	src := filepath.Join(b.work, "helpers")
	if err := writeFiles(src, map[string]string{"go.mod": "module fnrunbench\n\ngo 1.22\n"}); err != nil {
		return err
	}
	args := []string{"build", "-o", b.bin + string(filepath.Separator)}
	for name, code := range helperSources {
		if err := writeFiles(filepath.Join(src, name), map[string]string{"main.go": code}); err != nil {
			return err
		}
		args = append(args, "./"+name)
	}
	if _, err := b.goCmd(ctx, src, b.env("GOWORK=off", "GOFLAGS=-mod=mod"), args...); err != nil {
		return fmt.Errorf("build helper programs: %w", err)
	}
	return nil
}

// helper returns the path of a helper binary.
func (b *bench) helper(name string) string { return filepath.Join(b.bin, name) }

// goCmd runs the go command to completion and returns its stdout.
func (b *bench) goCmd(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	setProcessGroup(cmd)
	cmd.Cancel = func() error { signalGroupKill(cmd); return nil }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.String(), &cmdError{Cmd: cmdLine(cmd), Dir: dir, Err: err, Stderr: stderr.String()}
	}
	return stdout.String(), nil
}

// writeFiles writes name → content under dir, creating directories.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
