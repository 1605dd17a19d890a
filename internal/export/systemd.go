package export

/*
systemd units for a system file.

Each entry is one service, NAME.service, or with replicas a template
NAME@.service whose instances NAME@1..N are what other units and `systemctl
enable` name (FNRUN_REPLICA=%i, as fnrun numbers its replicas api.1, api.2).
The template keeps [Install] WantedBy=multi-user.target: enabling an
instance links that instance into the target. Its listen: addresses are
socket units, which hold the listening sockets as fnrun does, so that
connections wait in the backlog while the program restarts.

Choices where a unit can only come close to fnrun (each also a "# fnrun:"
comment in the unit, and a warning when behaviour differs):

  - Type=exec: a unit is started once its program was executed, which is
    when fnrun counts an entry started. A restart: never dependency that
    others wait `completed` on is Type=oneshot with RemainAfterExit=yes and
    no start timeout: systemd then starts the dependants once it exited 0,
    and fails them when it failed, as fnrun does.
  - on-failure restarts after any signal too (RestartForceExitStatus=):
    systemd counts SIGHUP, SIGINT, SIGTERM and SIGPIPE as clean exits.
  - fnrun restarts without limit unless max_restarts says otherwise: the
    start rate limit (5 starts in 10s by default) is turned off, or set to
    max_restarts+1 starts ever.
  - RestartSteps= (systemd >= 254) only for on-failure: systemd counts every
    automatic restart, a clean one too, and only an explicit start resets
    the count, so with restart: always a program that exits after each
    request (greeter) would soon wait the longest delay every time.
  - Backoff jitter, the backoff reset, readiness checks, proxies,
    on_failure: stop-all and watch have no unit equivalent.

A fact has one owner here too: signal names are runner's, listen addresses
are parsed by package listen.
*/

import (
	"errors"
	"fmt"
	"math"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fnrun/fnrun/internal/listen"
	"github.com/fnrun/fnrun/internal/system"
	"github.com/fnrun/fnrun/runner"
)

// SystemdOptions say where and for which systemd the units are written.
type SystemdOptions struct {
	// Prefix is the absolute directory the binaries of source entries live
	// in on the target: ExecStart=PREFIX/BINARY.
	Prefix string
	// Version is the target's systemd version (SystemdVersion); 254 or
	// later enables RestartSteps= and RestartMaxDelaySec=. 0 means unknown,
	// treated as older.
	Version int
	// Binaries maps a source entry's name to its binary's file name under
	// Prefix; an entry not in it uses its name. Command entries run their
	// command as written.
	Binaries map[string]string
	// FileDir is the directory of the system file on the target; relative
	// dir, env_file and command paths are resolved against it, and it is
	// the default working directory, as under fnrun. "" means File.Dir.
	FileDir string
	// PortBase is the first PORT of a Procfile's entries (`up
	// --port-base`); 0 means system.DefaultPortBase.
	PortBase int
}

// RestartStepsVersion is the first systemd with RestartSteps= and
// RestartMaxDelaySec=.
const RestartStepsVersion = 254

// SystemPath is the PATH systemd looks a command up in (and gives it).
const SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Systemd renders the units of f: per entry, in file order, its service
// (or template) then its sockets. warnings are "NAME: message" lines, in
// the same order, one per behaviour of fnrun's that the units do not have.
// An error is a mistake in o, or in f that system.Load would have refused.
func Systemd(f *system.File, o SystemdOptions) (units []Unit, warnings []string, err error) {
	r, err := newRenderer(f, o)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]string{}
	for i, e := range f.Functions {
		us, err := r.entry(e, i)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		for _, u := range us {
			if other, dup := seen[u.Name]; dup {
				return nil, nil, fmt.Errorf("%s: unit %s is also one of %s's (rename a listener)", e.Name, u.Name, other)
			}
			seen[u.Name] = e.Name
		}
		units = append(units, us...)
	}
	return units, r.warns, nil
}

// renderer holds what every entry's units need.
type renderer struct {
	f       *system.File
	o       SystemdOptions
	dir     string
	byName  map[string]*system.Entry
	oneshot map[string]bool // restart: never entries that others wait `completed` on
	warns   []string
}

func newRenderer(f *system.File, o SystemdOptions) (*renderer, error) {
	r := &renderer{f: f, o: o, dir: o.FileDir, byName: map[string]*system.Entry{}, oneshot: map[string]bool{}}
	if r.dir == "" {
		r.dir = f.Dir
	}
	if !filepath.IsAbs(r.dir) {
		return nil, fmt.Errorf("file directory %q is not an absolute path", r.dir)
	}
	for _, e := range f.Functions {
		r.byName[e.Name] = e
		if e.Source != "" && !filepath.IsAbs(o.Prefix) {
			return nil, fmt.Errorf("prefix %q is not an absolute path (ExecStart= needs one)", o.Prefix)
		}
	}
	for name, bin := range o.Binaries {
		e, ok := r.byName[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("binaries: no function %q in %s", name, f.Path)
		case e.Source == "":
			return nil, fmt.Errorf("binaries: %s runs a command, it has no binary", name)
		case bin == "" || bin != filepath.Base(bin):
			return nil, fmt.Errorf("binaries: %s: want a file name, not %q", name, bin)
		}
	}
	for _, e := range f.Functions {
		for _, d := range e.DependsOn {
			if dep := r.byName[d.Name]; d.Condition == system.CondCompleted && dep != nil && restartPolicy(dep) == runner.PolicyNever {
				r.oneshot[d.Name] = true
			}
		}
	}
	return r, nil
}

func (r *renderer) warn(e *system.Entry, format string, args ...any) {
	r.warns = append(r.warns, e.Name+": "+strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", `\n`))
}

func restartPolicy(e *system.Entry) runner.Policy {
	p, err := runner.ParsePolicy(e.Restart)
	if err != nil {
		return runner.Policy(e.Restart)
	}
	return p
}

// instances are the units that stand for e: NAME.service, or its
// template's instances.
func instances(e *system.Entry) []string {
	if e.Replicas <= 1 {
		return []string{e.Name + ".service"}
	}
	out := make([]string, e.Replicas)
	for i := range out {
		out[i] = e.Name + "@" + strconv.Itoa(i+1) + ".service"
	}
	return out
}

// path resolves p against the file's directory, as fnrun does.
func (r *renderer) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(r.dir, p)
}

// entry renders e's service and sockets; i is its index in the file.
func (r *renderer) entry(e *system.Entry, i int) ([]Unit, error) {
	socks, err := r.sockets(e)
	if err != nil {
		return nil, err
	}
	var u unitFile
	un := u.sec("Unit")
	un.set("Description", "fnrun function "+e.Name)
	name, enable := e.Name+".service", instances(e)
	if e.Replicas > 1 {
		name = e.Name + "@.service"
		un.note("replicas: %d: enable the instances %s@1..%s@%d (FNRUN_REPLICA=%%i)", e.Replicas, e.Name, e.Name, e.Replicas)
	}
	r.dependencies(e, un)
	for _, s := range socks {
		un.set("Requires", s.Name)
		un.set("After", s.Name)
	}
	svc := u.sec("Service")
	r.start(e, svc)
	if err := r.exec(e, svc); err != nil {
		return nil, err
	}
	r.environment(e, i, svc)
	if len(socks) > 0 {
		var names []string
		for _, s := range socks {
			names = append(names, s.Name)
		}
		svc.set("Sockets", strings.Join(names, " "))
		if len(socks) > 1 {
			svc.note("several socket units: systemd passes their descriptors in an order of its own; find them by LISTEN_FDNAMES")
		}
	}
	r.restart(e, un, svc)
	if err := r.stop(e, svc); err != nil {
		return nil, err
	}
	r.unsupported(e, svc)
	u.sec("Install").set("WantedBy", "multi-user.target")
	return append([]Unit{{Name: name, Text: u.text(), Enable: enable}}, socks...), nil
}

// dependencies orders e after what it depends on.
func (r *renderer) dependencies(e *system.Entry, un *section) {
	for _, d := range e.DependsOn {
		dep := r.byName[d.Name]
		if dep == nil {
			continue // system.Load refuses it
		}
		targets := strings.Join(instances(dep), " ")
		un.set("After", targets)
		switch d.Condition {
		case system.CondReady:
			un.set("Requires", targets)
			if hasReadyCheck(dep) {
				un.note("depends_on %s: ready: systemd orders by start; it cannot wait for %s's ready check", d.Name, d.Name)
				r.warn(e, "depends_on %s: ready: fnrun starts %s once %s passed its ready check; systemd starts it once %s has started", d.Name, e.Name, d.Name, d.Name)
			}
		case system.CondCompleted:
			un.set("Requires", targets)
			if r.oneshot[d.Name] {
				un.note("depends_on %s: completed: %s is Type=oneshot: systemd starts %s once it exited 0 and fails %s when it failed", d.Name, d.Name, e.Name, e.Name)
			} else {
				un.note("depends_on %s: completed: systemd orders by start; it cannot wait for %s to exit 0 (only for a Type=oneshot unit)", d.Name, d.Name)
				r.warn(e, "depends_on %s: completed: fnrun starts %s once %s exited 0; systemd starts it once %s has started", d.Name, e.Name, d.Name, d.Name)
			}
		default:
			un.set("Wants", targets)
		}
	}
}

func hasReadyCheck(e *system.Entry) bool {
	return e.Ready.URL != "" || e.Ready.TCP != "" || e.Ready.Log != ""
}

// start writes the service type.
func (r *renderer) start(e *system.Entry, svc *section) {
	if !r.oneshot[e.Name] {
		svc.set("Type", "exec")
		return
	}
	svc.note("others wait for %s to complete: a oneshot unit, which systemd waits for until it exits, without a time limit as fnrun", e.Name)
	svc.set("Type", "oneshot")
	svc.set("RemainAfterExit", "yes")
	svc.set("TimeoutStartSec", "infinity")
}

// exec writes ExecStart= and WorkingDirectory=.
func (r *renderer) exec(e *system.Entry, svc *section) error {
	var argv []string
	if e.Source != "" {
		bin := e.Name
		if b, ok := r.o.Binaries[e.Name]; ok {
			bin = b
		}
		argv = append([]string{filepath.Join(r.o.Prefix, bin)}, e.Args...)
	} else {
		if len(e.Command) == 0 {
			return errors.New("no command")
		}
		prog := e.Command[0]
		switch {
		case strings.Contains(prog, "/") && !filepath.IsAbs(prog):
			prog = r.path(prog)
		case !strings.Contains(prog, "/"):
			svc.note("%s is looked up in systemd's PATH, %s", prog, SystemPath)
			r.warn(e, "command %s is not an absolute path: systemd finds it only in %s (fnrun looked in its own PATH)", prog, SystemPath)
		}
		if strings.IndexByte(execPrefixes, prog[0]) >= 0 {
			return fmt.Errorf("command %s: systemd would read the leading %q as a prefix of ExecStart= (give a path)", prog, prog[0])
		}
		argv = append(append([]string{prog}, e.Command[1:]...), e.Args...)
		if r.f.Procfile && strings.Contains(strings.Join(e.Command, " "), "$") {
			svc.note("the command is written as the Procfile has it; fnrun expands its $NAME words when it starts it")
			r.warn(e, "$NAME in the command: fnrun expands it from the environment; the unit passes it literally")
		}
	}
	words := make([]string, len(argv))
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argument %q: a NUL byte cannot be passed", a)
		}
		words[i] = quote(a)
	}
	svc.set("ExecStart", strings.Join(words, " "))
	dir := r.dir
	if e.Dir != "" {
		dir = r.path(e.Dir)
	}
	svc.set("WorkingDirectory", escapePercent(dir))
	return nil
}

// environment writes the environment fnrun gives the entry: the file's
// env, its env_file, a Procfile's PORT, its env, FNRUN_REPLICA.
func (r *renderer) environment(e *system.Entry, i int, svc *section) {
	svc.note("fnrun passes its own environment on; systemd starts from a clean one with these")
	var env []string
	env = append(env, r.f.Env...)
	if r.f.Procfile {
		base := r.o.PortBase
		if base == 0 {
			base = system.DefaultPortBase
		}
		env = append(env, "PORT="+strconv.Itoa(base+100*i))
	}
	env = append(env, e.Env...)
	for _, kv := range env {
		svc.set("Environment", quoteEnv(kv))
	}
	replica := "1"
	if e.Replicas > 1 {
		replica = "%i"
	}
	svc.set("Environment", "FNRUN_REPLICA="+replica)
	if e.EnvFile != "" {
		svc.note("systemd reads env_file with its own parser (EnvironmentFile= in systemd.exec(5)); its values win over Environment=")
		svc.set("EnvironmentFile", escapePercent(r.path(e.EnvFile)))
		if len(e.Env) > 0 {
			r.warn(e, "env_file and env: for a variable set in both, fnrun takes env's value, systemd the file's")
		}
	}
}

// restart writes the restart policy, its limit and its backoff.
func (r *renderer) restart(e *system.Entry, un, svc *section) {
	p := restartPolicy(e)
	switch p {
	case runner.PolicyNever:
		svc.set("Restart", "no")
		return
	case runner.PolicyOnFailure:
		svc.set("Restart", "on-failure")
		svc.note("fnrun restarts after any signal; systemd counts these as clean exits unless told")
		svc.set("RestartForceExitStatus", "SIGHUP SIGINT SIGTERM SIGPIPE")
	default:
		svc.set("Restart", "always")
	}
	if e.MaxRestarts > 0 {
		un.note("max_restarts %d: approximated by the start limit, the first start and %d restarts ever (a manual start counts too)", e.MaxRestarts, e.MaxRestarts)
		un.set("StartLimitIntervalSec", "infinity")
		un.set("StartLimitBurst", strconv.Itoa(e.MaxRestarts+1))
	} else {
		un.note("fnrun restarts without limit: no start rate limit")
		un.set("StartLimitIntervalSec", "0")
	}

	initial, max, reset := runner.DefaultBackoffInitial, e.Backoff.Max, e.Backoff.Reset
	if e.Backoff.InitialSet {
		initial = e.Backoff.Initial
	}
	if max == 0 {
		max = runner.DefaultBackoffMax
	}
	if reset == 0 {
		reset = runner.DefaultBackoffReset
	}
	svc.set("RestartSec", seconds(initial))
	if initial == 0 {
		return
	}
	doubles := max > initial
	switch {
	case p == runner.PolicyAlways:
		svc.note("restart: always: systemd waits RestartSec after every exit; fnrun restarts at once after an exit 0")
		r.warn(e, "restart: always: fnrun restarts at once after an exit 0; systemd waits %s after every exit", seconds(initial))
		if doubles {
			svc.note("no RestartSteps=: systemd would count clean exits too and never count down, so the delay would stay at %s", seconds(max))
			r.warn(e, "backoff: the restart delay is fixed at %s (fnrun doubles it after consecutive failures up to %s)", seconds(initial), seconds(max))
		}
	case doubles && r.o.Version >= RestartStepsVersion:
		svc.set("RestartSteps", strconv.Itoa(restartSteps(initial, max)))
		svc.set("RestartMaxDelaySec", seconds(max))
	case doubles:
		svc.note("systemd < %d: the restart delay is fixed at RestartSec (fnrun doubles it up to %s)", RestartStepsVersion, seconds(max))
		r.warn(e, "backoff: systemd < %d: the restart delay is fixed at %s (fnrun doubles it after consecutive failures up to %s)", RestartStepsVersion, seconds(initial), seconds(max))
	}
	svc.note("backoff jitter: fnrun varies each delay by ±20%%; systemd waits exactly")
	r.warn(e, "backoff: fnrun varies each restart delay by ±20%%; systemd waits the exact delay")
	if doubles {
		svc.note("backoff reset: fnrun forgets past failures after a run of %s; systemd only when the unit is started by hand", seconds(reset))
		r.warn(e, "backoff: fnrun resets the delay to %s after a run of %s; systemd keeps counting restarts until the unit is started by hand", seconds(initial), seconds(reset))
	}
}

// restartSteps is the number of steps that takes initial to max doubling
// it at most each time: ceil(log2(max/initial)), at least 1. It stays
// below 64, since a Duration is.
func restartSteps(initial, max time.Duration) int {
	n := int(math.Ceil(math.Log2(float64(max) / float64(initial))))
	return min(64, n)
}

// stop writes how the service is stopped.
func (r *renderer) stop(e *system.Entry, svc *section) error {
	svc.set("KillMode", "control-group")
	sig := "SIGTERM"
	if e.Stop.Signal != "" {
		s, err := runner.ParseSignal(e.Stop.Signal)
		if err != nil {
			return fmt.Errorf("stop.signal: %w", err)
		}
		sig = runner.SignalName(s)
		if strings.HasPrefix(sig, "signal ") {
			sig = strconv.Itoa(int(s))
		}
	}
	svc.set("KillSignal", sig)
	timeout := e.Stop.Timeout
	if timeout == 0 {
		timeout = runner.DefaultStopTimeout
	}
	svc.set("TimeoutStopSec", seconds(timeout))
	return nil
}

// unsupported notes what fnrun does for e that no unit can.
func (r *renderer) unsupported(e *system.Entry, svc *section) {
	for _, c := range []struct{ key, val string }{{"tcp", e.Ready.TCP}, {"url", e.Ready.URL}, {"log", e.Ready.Log}} {
		if c.val != "" {
			svc.note("ready.%s %q: not expressible; the unit counts as started once its program runs", c.key, c.val)
			r.warn(e, "ready.%s %q: fnrun waits for it before the dependants and --smoke count %s ready; systemd does not check it", c.key, c.val, e.Name)
		}
	}
	for _, p := range e.Proxy {
		svc.note("proxy %q: not expressible; run a proxy of your own", p)
		r.warn(e, "proxy %q: fnrun forwards the public address to the program; systemd does not (run a proxy of your own)", p)
	}
	if e.OnFailure == "stop-all" {
		svc.note("on_failure: stop-all: not expressible; a failure of %s stops only %s", e.Name, e.Name)
		r.warn(e, "on_failure: stop-all: fnrun stops the whole system when %s fails; systemd marks only %s failed", e.Name, e.Name)
	}
	if e.Watch {
		r.warn(e, "watch: ignored: the units run built binaries")
	}
}

// sockets renders e's socket units: one NAME.socket when all its
// listeners have one name (LISTEN_FDNAMES entry), else one per name,
// NAME-LISTENER.socket, since a socket unit has one FileDescriptorName=.
func (r *renderer) sockets(e *system.Entry) ([]Unit, error) {
	type group struct {
		name  string
		specs []listen.Spec
	}
	var groups []*group
	at := map[string]*group{}
	safe, reordered := true, false
	for _, a := range e.Listen {
		sp, err := listen.Parse(a)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		name := sp.Name
		if name == "" {
			name = runner.DefaultListenerName
		}
		g := at[name]
		if g == nil {
			g = &group{name: name}
			at[name] = g
			groups = append(groups, g)
			safe = safe && unitSafe(name)
		} else if groups[len(groups)-1] != g {
			reordered = true
		}
		g.specs = append(g.specs, sp)
	}
	if reordered {
		r.warn(e, "listen: the sockets are passed grouped by name, not in the order listen gives them")
	}
	service := ""
	if e.Replicas > 1 {
		service = instances(e)[0]
	}
	var out []Unit
	for k, g := range groups {
		name := e.Name + ".socket"
		if len(groups) > 1 {
			suffix := g.name
			if !safe {
				suffix = strconv.Itoa(k + 1)
			}
			name = e.Name + "-" + suffix + ".socket"
		}
		var u unitFile
		un := u.sec("Unit")
		un.set("Description", "fnrun sockets of "+e.Name)
		so := u.sec("Socket")
		so.note("holds the listening sockets as fnrun does: connections wait in the backlog while %s restarts", e.Name)
		unix := false
		for _, sp := range g.specs {
			addr, err := r.listenStream(e, sp)
			if err != nil {
				return nil, err
			}
			so.set("ListenStream", addr)
			unix = unix || sp.Network == "unix"
		}
		so.set("FileDescriptorName", escapePercent(g.name))
		if e.Backlog > 0 {
			so.set("Backlog", strconv.Itoa(e.Backlog))
		}
		if unix {
			so.set("RemoveOnStop", "yes")
		}
		switch {
		case service != "":
			so.note("a connection starts the first replica; all of them share the sockets")
			so.set("Service", service)
		case len(groups) > 1:
			so.set("Service", e.Name+".service")
		}
		u.sec("Install").set("WantedBy", "sockets.target")
		out = append(out, Unit{Name: name, Text: u.text(), Enable: []string{name}})
	}
	return out, nil
}

// listenStream writes a ListenStream= value: HOST:PORT, PORT for all
// addresses, or the socket's path.
func (r *renderer) listenStream(e *system.Entry, sp listen.Spec) (string, error) {
	if sp.Network == "unix" {
		return escapePercent(sp.Address), nil
	}
	host, port, err := net.SplitHostPort(sp.Address)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", sp, err)
	}
	switch {
	case host == "":
		return port, nil
	case host == "localhost":
		r.warn(e, "listen %s: systemd takes no host names: written as 127.0.0.1:%s, where fnrun listens for localhost", sp, port)
		return "127.0.0.1:" + port, nil
	case net.ParseIP(host) == nil:
		r.warn(e, "listen %s: systemd takes no host names: write an IP address", sp)
	}
	return escapePercent(sp.Address), nil
}

// unitSafe reports whether s can be part of a unit name as it is.
func unitSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return s != ""
}
