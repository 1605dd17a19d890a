package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/control"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/system"
)

/*
The control side of `run` and `up`: every foreground fnrun serves a control
socket (internal/control) under an instance name, through which `fnrun ps`,
`restart`, `stop`, `start` and `down` reach it from another terminal. The
name is --instance, or by default the function's name (run, exec) or the
directory of the system's file (up). A run whose default name is taken
takes the next free one (greeter-2); an up whose default name is taken is
refused (one instance per file), as is any --instance that is taken. A
socket that cannot be served (no runtime directory, say) costs a warning,
not the run.
*/

func instanceFlag() cli.Flag {
	return &cli.StringFlag{Name: "instance", EnvVars: envVar("INSTANCE"), Category: catOutput,
		Usage: "name this instance `NAME` for fnrun ps, logs, restart, stop, start and down (default: the function's name; for up, the file's directory)"}
}

// instanceName is the instance's name and whether the user chose it.
func instanceName(c *cli.Context, def string) (string, bool, error) {
	if n := c.String("instance"); n != "" {
		if err := control.ValidInstanceName(n); err != nil {
			return "", false, usageError("--instance: %v", err)
		}
		return n, true, nil
	}
	return sanitizeInstance(def), false, nil
}

// sanitizeInstance makes s a valid instance name.
func sanitizeInstance(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), ".-")
	if len(n) > 48 {
		n = n[:48]
	}
	if n == "" {
		n = "fnrun"
	}
	return n
}

// sourceName is the name a source's function gets by default: the last
// element of its directory, package path or URL path.
func sourceName(src fetch.Source) string {
	s := src.Redacted()
	if src.Kind == fetch.KindLocal {
		if abs, err := filepath.Abs(s); err == nil {
			return filepath.Base(abs)
		}
	}
	s, _, _ = strings.Cut(s, "?")
	if i := strings.LastIndex(s, "@"); i > 0 && !strings.Contains(s[i:], "/") {
		s = s[:i]
	}
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndex(s, "//"); i >= 0 && strings.Contains(s[:i], "://") && i > strings.Index(s, "://")+2 {
		s = s[i+2:]
	}
	s = strings.TrimSuffix(filepath.Base(s), ".git")
	return s
}

// serve serves the instance's control socket with h until the returned
// function is called. A default name that is taken gets a suffix when
// suffix is set; otherwise a taken name is an error.
func (env *appEnv) serve(c *cli.Context, name string, chosen, suffix bool, h control.Handler) (string, func(), error) {
	cache, err := cacheDir(c)
	if err != nil {
		return "", nil, err
	}
	dir, err := control.Dir(cache)
	if err != nil {
		env.log.Warn("no control socket: fnrun ps and friends will not see this instance", "err", err.Error())
		return name, func() {}, nil
	}
	base := name
	for i := 2; ; i++ {
		srv, err := control.Listen(dir, name, h)
		if err == nil {
			return name, func() { srv.Close() }, nil
		}
		var re *control.RunningError
		switch {
		case errors.As(err, &re) && !chosen && suffix && i < 100:
			name = base + "-" + strconv.Itoa(i)
			continue
		case errors.As(err, &re):
			how := "name another with --instance"
			if chosen {
				how = "choose another --instance"
			}
			return "", nil, withCode(ExitFnrun, fmt.Errorf("%w: stop it with `fnrun down %s`, or %s", err, re.Instance, how))
		}
		env.log.Warn("no control socket: fnrun ps and friends will not see this instance", "err", err.Error())
		return name, func() {}, nil
	}
}

// workDir is fnrun's working directory, for ps --json.
func workDir() string {
	d, _ := os.Getwd()
	return d
}

// errDown is the cause of a stop asked for by `fnrun down`.
var errDown = &stopCause{code: ExitOK, msg: "stopped by fnrun down"}

// statusOf converts an engine status.
func statusOf(name string, st fn.Status) control.FunctionStatus {
	fs := control.FunctionStatus{Name: name, Function: st.Source, State: st.State, PID: st.PID,
		Runs: st.Runs, Restarts: st.Restarts, LastExit: st.LastExit, Source: st.Source, Key: st.Key}
	if !st.NextRestart.IsZero() {
		t := st.NextRestart
		fs.NextRestart = &t
	}
	if !st.Started.IsZero() {
		t := st.Started
		fs.Started = &t
	}
	if !st.LastExitAt.IsZero() {
		t := st.LastExitAt
		fs.LastExitAt = &t
	}
	return fs
}

// fnHandler serves one function (run, exec).
type fnHandler struct {
	env    *appEnv
	f      atomic.Pointer[fn.Function] // set once the function exists
	cmd    string                      // run or exec
	listen []string                    // held addresses, for ps
}

func (h *fnHandler) Status() control.Instance {
	inst := control.Instance{Command: h.cmd, Dir: workDir()}
	if f := h.f.Load(); f != nil {
		fs := statusOf(f.Name(), f.Status())
		fs.Listen = h.listen
		inst.Functions = []control.FunctionStatus{fs}
	}
	return inst
}

func (h *fnHandler) Do(ctx context.Context, op string, names []string) error {
	if op == control.OpDown {
		return h.env.down(ctx)
	}
	f := h.f.Load()
	if f == nil {
		return fn.ErrNotRunning
	}
	for _, n := range names {
		if n != f.Name() {
			return &control.UnknownNamesError{Unknown: []string{n}, Known: []string{f.Name()}}
		}
	}
	do, err := fn.Action(op)
	if err != nil {
		return err
	}
	if control.NoWait(ctx) {
		go do(f, context.WithoutCancel(ctx))
		return nil
	}
	return do(f, ctx)
}

// sysHandler serves a system (up).
type sysHandler struct {
	env    *appEnv
	sys    atomic.Pointer[system.System] // set once the system exists
	listen map[string][]string           // held addresses by entry, for ps
}

func (h *sysHandler) Status() control.Instance {
	inst := control.Instance{Command: "up", Dir: workDir()}
	sys := h.sys.Load()
	if sys == nil {
		return inst
	}
	for _, s := range sys.Status() {
		fs := statusOf(s.Name, s.Status)
		fs.Listen = h.listen[s.Entry]
		inst.Functions = append(inst.Functions, fs)
	}
	return inst
}

func (h *sysHandler) Do(ctx context.Context, op string, names []string) error {
	if op == control.OpDown {
		return h.env.down(ctx)
	}
	sys := h.sys.Load()
	if sys == nil {
		return fn.ErrNotRunning
	}
	err := sys.Act(ctx, op, names, !control.NoWait(ctx))
	var ue *system.UnknownError
	if errors.As(err, &ue) {
		return &control.UnknownNamesError{Unknown: ue.Unknown, Known: ue.Known}
	}
	return err
}

// down stops the instance as Ctrl-C would, and returns when it is over
// (the server closes, cancelling ctx) or at once with NoWait.
func (env *appEnv) down(ctx context.Context) error {
	env.sig.request(errDown)
	if control.NoWait(ctx) {
		return nil
	}
	<-ctx.Done()
	return nil
}
