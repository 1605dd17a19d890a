package build

/*
Toolchain facts.

The build key needs the Go version, target platform and a few settings that
only `go env` knows for sure. Running it costs ~10-40 ms, so a cache hit must
not. The facts are cached under root/toolchain/<hash>.facts, where the hash
covers everything `go env` output depends on that we can observe cheaply: the
resolved go binary (path, size, mtime), its GOROOT directory mtime, every GO*
and CGO_* variable plus CC/CXX in the environment, and the stat of the go env
config file. root/toolchain/last.facts holds the facts of the most recent
`go env`, used when no go command is on PATH: a cache hit still works, a miss
returns ErrNoGo.

`go env` runs in the filesystem root so that GOWORK reflects only an explicit
setting (environment or config file), not a go.work found from the current
directory; the workspace file that applies to a package is found per request.
*/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/toolcmd"
)

const lastFacts = "last.facts"

// factsHeader starts a facts file. The format is lines of KEY "VALUE" (Go
// quoting), not JSON: a warm start reads it, and its first JSON decode costs
// 0.1–0.2 ms (encoding/json builds its type caches).
const factsHeader = "fnrun-toolchain 1"

// facts is the cached outcome of one `go env -json`.
type facts struct {
	GoPath string            `json:"go"`  // resolved path of the go binary that produced Env
	Env    map[string]string `json:"env"` // go env -json
	noGo   bool              // no go command on PATH: Env comes from last.json
}

func (f *facts) get(k string) string { return f.Env[k] }

// toolchain returns the facts for b's environment, running `go env -json` only
// when they are not cached.
func (b *Builder) toolchain(ctx context.Context) (*facts, error) {
	goPath, err := lookGo(b.env)
	if err != nil {
		return b.lastFacts()
	}
	tkey, err := toolchainKey(goPath, b.env)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	f := b.facts[tkey]
	b.mu.Unlock()
	if f != nil {
		return f, nil
	}
	dir, err := cache.Sub(b.root, cache.ToolchainDir)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, tkey+".facts")
	if data, err := os.ReadFile(file); err == nil {
		f = parseFacts(data)
	}
	if f == nil {
		f, err = b.goEnv(ctx, goPath)
		if err != nil {
			return nil, err
		}
		data := f.marshal()
		if err := cache.WriteFileAtomic(file, data, 0o600); err != nil {
			return nil, err
		}
		if err := cache.WriteFileAtomic(filepath.Join(dir, lastFacts), data, 0o600); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	b.facts[tkey] = f
	b.mu.Unlock()
	return f, nil
}

func (b *Builder) lastFacts() (*facts, error) {
	data, err := os.ReadFile(filepath.Join(b.root, cache.ToolchainDir, lastFacts))
	if err != nil {
		return nil, ErrNoGo
	}
	f := parseFacts(data)
	if f == nil {
		return nil, ErrNoGo
	}
	f.noGo = true
	return f, nil
}

// marshal writes f in the facts file format (factsHeader).
func (f *facts) marshal() []byte {
	keys := make([]string, 0, len(f.Env))
	for k := range f.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte(factsHeader + "\n")
	b = strconv.AppendQuote(append(b, "go "...), f.GoPath)
	for _, k := range keys {
		b = append(append(append(b, '\n'), k...), ' ')
		b = strconv.AppendQuote(b, f.Env[k])
	}
	return append(b, '\n')
}

// parseFacts reads a facts file; nil when it is not one, or has no GOVERSION.
func parseFacts(data []byte) *facts {
	header, rest, ok := strings.Cut(string(data), "\n")
	if !ok || header != factsHeader {
		return nil
	}
	f := &facts{Env: map[string]string{}}
	for line := range strings.Lines(rest) {
		k, q, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok {
			return nil
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil
		}
		if k == "go" {
			f.GoPath = v
		} else {
			f.Env[k] = v
		}
	}
	if f.GoPath == "" || f.Env["GOVERSION"] == "" {
		return nil
	}
	return f
}

func (b *Builder) goEnv(ctx context.Context, goPath string) (*facts, error) {
	b.logger.Debug("running go env", "go", goPath)
	cmd := toolcmd.Command(ctx, goPath, "env", "-json")
	cmd.Dir = fsRoot()
	cmd.Env = b.goCmdEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n"); msg != "" {
			return nil, fmt.Errorf("run go env: %w: %s", err, msg)
		}
		return nil, fmt.Errorf("run go env: %w", err)
	}
	f := &facts{GoPath: goPath}
	if err := json.Unmarshal(out, &f.Env); err != nil {
		return nil, fmt.Errorf("read go env output: %w", err)
	}
	if f.Env["GOVERSION"] == "" {
		return nil, fmt.Errorf("read go env output: no GOVERSION")
	}
	return f, nil
}

// goCmdEnv is the environment for go commands: b.env with GOTOOLCHAIN=local
// unless the user set GOTOOLCHAIN explicitly (no toolchain downloads behind
// the user's back).
func (b *Builder) goCmdEnv() []string {
	env := append([]string(nil), b.env...)
	if _, ok := lookupEnv(env, "GOTOOLCHAIN"); !ok {
		env = append(env, "GOTOOLCHAIN=local")
	}
	return env
}

// toolchainKey hashes what `go env` output depends on.
func toolchainKey(goPath string, env []string) (string, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "go %q\n", goPath)
	fi, err := os.Stat(goPath)
	if err != nil {
		return "", fmt.Errorf("stat go command: %w", err)
	}
	fmt.Fprintf(&sb, "go-stat %d %d\n", fi.Size(), fi.ModTime().UnixNano())
	// GOROOT is normally the parent of the bin directory holding go.
	if fi, err := os.Stat(filepath.Dir(filepath.Dir(goPath))); err == nil {
		fmt.Fprintf(&sb, "goroot-stat %d\n", fi.ModTime().UnixNano())
	}
	var vars []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_") || k == "CC" || k == "CXX" {
			vars = append(vars, kv)
		}
	}
	sort.Strings(vars)
	for _, kv := range vars {
		fmt.Fprintf(&sb, "env %q\n", kv)
	}
	if cfg := goEnvFile(env); cfg != "" {
		if fi, err := os.Stat(cfg); err == nil {
			fmt.Fprintf(&sb, "goenv %q %d %d\n", cfg, fi.Size(), fi.ModTime().UnixNano())
		} else {
			fmt.Fprintf(&sb, "goenv %q absent\n", cfg)
		}
	}
	return cache.Hash(sb.String()), nil
}

// lookGo finds the go command in env's PATH and resolves symlinks.
func lookGo(env []string) (string, error) {
	path, _ := lookupEnv(env, "PATH")
	name := "go"
	if runtime.GOOS == "windows" {
		name = "go.exe"
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // like exec.LookPath, never resolve relative to the cwd
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || (runtime.GOOS != "windows" && fi.Mode()&0o111 == 0) {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		return real, nil
	}
	return "", ErrNoGo
}

// goEnvFile returns the go env config file for env: GOENV, or
// UserConfigDir/go/env computed from env's variables.
func goEnvFile(env []string) string {
	if v, ok := lookupEnv(env, "GOENV"); ok {
		if v == "off" {
			return ""
		}
		return v
	}
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir, _ = lookupEnv(env, "AppData")
	case "darwin", "ios":
		if h, _ := lookupEnv(env, "HOME"); h != "" {
			dir = filepath.Join(h, "Library", "Application Support")
		}
	case "plan9":
		if h, _ := lookupEnv(env, "home"); h != "" {
			dir = filepath.Join(h, "lib")
		}
	default:
		dir, _ = lookupEnv(env, "XDG_CONFIG_HOME")
		if dir == "" || !filepath.IsAbs(dir) {
			if h, _ := lookupEnv(env, "HOME"); h != "" {
				dir = filepath.Join(h, ".config")
			}
		}
	}
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "go", "env")
}

// lookupEnv returns the last value of key in env.
func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		k, v, ok := strings.Cut(env[i], "=")
		if ok && (k == key || runtime.GOOS == "windows" && strings.EqualFold(k, key)) {
			return v, true
		}
	}
	return "", false
}

func fsRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		wd = os.TempDir()
	}
	return filepath.VolumeName(wd) + string(filepath.Separator)
}
