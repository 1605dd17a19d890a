package system

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/runner"
)

// DefaultPortBase is the first PORT given to Procfile entries (foreman's).
const DefaultPortBase = 5000

// configs turns entry i of the file into one fn.Config per replica: the
// same keys as `fnrun run`'s flags, with the same defaults. Local paths
// are relative to the file's directory, which is also the programs'
// working directory unless the entry says otherwise.
func (s *System) configs(e *Entry, i int) ([]fn.Config, error) {
	f, o := s.file, &s.opts
	base := fn.Config{CacheDir: o.CacheDir, Update: o.Update, Logger: o.Logger, Runner: o.Runner}
	r := &base.Runner
	r.Name, r.Function = e.Name, e.Name
	r.NameWidth = s.width
	if len(o.Colors) > 0 {
		r.NameColor = o.Colors[i%len(o.Colors)]
	}
	r.Dir = f.Dir
	if e.Dir != "" {
		r.Dir = f.path(e.Dir)
	}
	p, err := runner.ParsePolicy(e.Restart)
	if err != nil {
		return nil, err
	}
	r.Policy, r.MaxRestarts = p, e.MaxRestarts
	r.BackoffInitial, r.BackoffMax, r.BackoffReset = runner.DefaultBackoffInitial, e.Backoff.Max, e.Backoff.Reset
	if e.Backoff.InitialSet { // max against initial: validate.go
		r.BackoffInitial = e.Backoff.Initial
	}
	if e.Stop.Signal != "" {
		if r.StopSignal, err = runner.ParseSignal(e.Stop.Signal); err != nil {
			return nil, err
		}
	}
	r.StopTimeout = e.Stop.Timeout

	// Environment: fnrun's, the file's, the entry's env_file, its env.
	env := append(os.Environ(), f.Env...)
	if e.EnvFile != "" {
		kvs, err := fn.ReadEnvFile(f.path(e.EnvFile))
		if err != nil {
			return nil, fmt.Errorf("env_file: %w", err)
		}
		env = append(env, kvs...)
	}
	if f.Procfile {
		// Before the entry's own env: `web: PORT=3000 cmd` keeps its PORT.
		port := o.PortBase
		if port == 0 {
			port = DefaultPortBase
		}
		env = append(env, "PORT="+strconv.Itoa(port+100*i))
	}
	for _, kv := range e.Env {
		if f.Procfile { // `web: URL=http://$HOST cmd`: expanded like the words
			k, v, _ := strings.Cut(kv, "=")
			kv = k + "=" + ExpandWord(v, env)
		}
		env = append(env, kv)
	}

	base.Ready = fn.ReadyConfig{URL: e.Ready.URL, TCP: e.Ready.TCP, Timeout: e.Ready.Timeout,
		Names: fn.ReadyNames{Log: "ready.log", URL: "ready.url", TCP: "ready.tcp"}}
	if e.Ready.Log != "" {
		if base.Ready.Log, err = regexp.Compile(e.Ready.Log); err != nil {
			return nil, fmt.Errorf("ready.log: %w", err)
		}
	}

	switch {
	case e.Source != "":
		src, err := fetch.Parse(e.Source)
		if err != nil {
			return nil, err
		}
		if src.Kind == fetch.KindLocal && !filepath.IsAbs(src.Raw) {
			src.Dir = f.path(src.Raw)
		}
		base.Source = &src
		base.Build = fn.BuildConfig{Tags: e.Tags, Ldflags: e.Ldflags, Race: e.Race, Flags: e.BuildFlags, Env: o.BuildEnv}
		if e.Watch || (o.Watch && src.Kind == fetch.KindLocal) {
			if src.Kind != fetch.KindLocal {
				return nil, fmt.Errorf("watch: needs a local source, not %s", e.Source)
			}
			base.Watch = &fn.WatchConfig{Debounce: o.Debounce, Ignore: o.Ignore}
		}
		r.Args = e.Args
	default:
		// A Procfile's words expand $NAME from the entry's environment, as
		// the shell foreman runs them in would; a YAML command list is
		// taken literally.
		words := append([]string(nil), e.Command...)
		merged := fn.MergeEnv(nil, env)
		if f.Procfile {
			for j, w := range words {
				words[j] = ExpandWord(w, merged)
			}
		}
		prog := words[0]
		if strings.Contains(prog, "/") && !filepath.IsAbs(prog) {
			prog = f.path(prog)
		}
		if base.Program, err = fn.LookProgram(prog, merged); err != nil {
			return nil, err
		}
		r.Args = append(words[1:len(words):len(words)], e.Args...)
	}

	n := max(1, e.Replicas)
	out := make([]fn.Config, n)
	for k := range n {
		c := base
		if n > 1 {
			c.Runner.Name = fmt.Sprintf("%s.%d", e.Name, k+1)
		}
		c.Runner.Env = fn.MergeEnv(env, []string{"FNRUN_REPLICA=" + strconv.Itoa(k+1)})
		out[k] = c
	}
	return out, nil
}

// path resolves p against the file's directory.
func (f *File) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(f.Dir, p)
}
