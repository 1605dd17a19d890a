package fn

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CheckKV checks one KEY=VALUE environment entry.
func CheckKV(kv string) error {
	k, _, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("want KEY=VALUE")
	}
	if k == "" || strings.ContainsAny(k, " \t\n\r\x00") {
		return fmt.Errorf("invalid variable name %q", k)
	}
	if strings.ContainsRune(kv, 0) {
		return fmt.Errorf("contains a NUL byte")
	}
	return nil
}

// EnvFileError is a bad line in an environment file.
type EnvFileError struct {
	File string
	Line int
	Err  error
}

func (e *EnvFileError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *EnvFileError) Unwrap() error { return e.Err }

// ReadEnvFile reads KEY=VALUE lines: blank lines and # comments are
// skipped, a leading "export " is dropped, and a value in matching single
// or double quotes loses them. A bad line is an *EnvFileError.
func ReadEnvFile(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, _ := strings.Cut(line, "=")
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if err := CheckKV(line); err != nil {
			return nil, &EnvFileError{File: file, Line: n, Err: err}
		}
		out = append(out, k+"="+v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// MergeEnv returns base with kvs applied; a later KEY replaces an earlier one.
func MergeEnv(base, kvs []string) []string {
	idx := make(map[string]int, len(base))
	out := make([]string, 0, len(base)+len(kvs))
	for _, kv := range append(append([]string(nil), base...), kvs...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// ErrEmptyProgram is LookProgram's error for "".
var ErrEmptyProgram = errors.New("empty program name")

// LookProgram resolves name like a shell would, without a shell: a name with
// a slash is a path; otherwise it is looked up in PATH (the PATH in environ
// when it has one), in absolute entries only (an empty or relative entry
// would run a program from the current directory).
func LookProgram(name string, environ []string) (string, error) {
	if name == "" {
		return "", ErrEmptyProgram
	}
	if filepath.Base(name) != name {
		fi, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("exec %s: %w", name, errors.Unwrap(err))
		}
		if fi.IsDir() {
			return "", fmt.Errorf("exec %s: is a directory", name)
		}
		if fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("exec %s: permission denied", name)
		}
		return filepath.Abs(name)
	}
	pathList := os.Getenv("PATH")
	for _, kv := range environ {
		if strings.HasPrefix(kv, "PATH=") {
			pathList = kv[len("PATH="):]
		}
	}
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			continue // exec.LookPath refuses it too: ErrDot
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("exec %s: not found in PATH", name)
}
