package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/control"
)

/*
The commands that see and steer running instances from another terminal:
ps, restart, stop, start and down. They find the instances through their
control sockets (internal/control) in the user's runtime directory; there
is no daemon. restart, stop and start wait until the action has happened
(the new run started, the group gone) and print the result; down waits
until the instance's fnrun has exited (through a pidfd: no polling).
*/

func runtimeDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "cache-dir", EnvVars: envVar("CACHE_DIR"), Hidden: true,
		Usage: "fnrun's cache `DIR` (its run/ holds the control sockets when XDG_RUNTIME_DIR is not set)"}
}

// runtimeDir is the directory of the control sockets.
func runtimeDir(c *cli.Context) (string, error) {
	cache, err := cacheDir(c)
	if err != nil {
		return "", err
	}
	dir, err := control.Dir(cache)
	if err != nil {
		return "", withCode(ExitFnrun, err)
	}
	return dir, nil
}

// listInstances lists the running instances; a socket that did not answer
// is a warning, not a failure.
func (env *appEnv) listInstances(c *cli.Context) (string, []control.Instance, error) {
	dir, err := runtimeDir(c)
	if err != nil {
		return "", nil, err
	}
	insts, err := control.List(dir)
	if err != nil {
		fmt.Fprintf(env.stderr, "fnrun: warning: %v\n", err)
	}
	return dir, insts, nil
}

func psCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list the running fnrun instances and their functions",
		Description: `Lists every running fnrun (run, exec, up) of this user and its functions:
state, pid, uptime, runs, restarts, the last exit and, during a backoff, when
the next run starts. --json prints the documented schema (README.md).`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", DisableDefaultText: true, Usage: "print JSON: {\"version\":1,\"instances\":[...]}"},
			runtimeDirFlag(),
		},
		Before: noArgs,
		Action: func(c *cli.Context) error {
			_, insts, err := env.listInstances(c)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if insts == nil {
					insts = []control.Instance{}
				}
				out, err := json.MarshalIndent(struct {
					Version   int                `json:"version"`
					Instances []control.Instance `json:"instances"`
				}{control.ProtocolVersion, insts}, "", "  ")
				if err != nil {
					return withCode(ExitFnrun, err)
				}
				fmt.Fprintf(env.stdout, "%s\n", out)
				return nil
			}
			if len(insts) == 0 {
				fmt.Fprintln(env.stderr, "fnrun: no instance is running")
				return nil
			}
			printPS(env, insts, time.Now())
			return nil
		},
	}
}

// printPS prints the instances as a table.
func printPS(env *appEnv, insts []control.Instance, now time.Time) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	listen := false
	for _, in := range insts {
		for _, f := range in.Functions {
			listen = listen || len(f.Listen) > 0
		}
	}
	head := "INSTANCE\tFUNCTION\tSTATE\tPID\tUPTIME\tRUNS\tLAST EXIT\tNEXT"
	if listen {
		head += "\tLISTEN"
	}
	fmt.Fprintln(tw, head)
	for _, in := range insts {
		for _, f := range in.Functions {
			pid, up, last, next := "-", "-", "-", ""
			if f.PID > 0 {
				pid = fmt.Sprint(f.PID)
			}
			if f.Started != nil && f.PID > 0 {
				up = shortDuration(now.Sub(*f.Started))
			}
			if f.LastExit != "" {
				last = f.LastExit
				if f.LastExitAt != nil {
					last += ", " + shortDuration(now.Sub(*f.LastExitAt)) + " ago"
				}
			}
			if f.NextRestart != nil {
				next = "restart in " + shortDuration(f.NextRestart.Sub(now))
			}
			row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s", in.Name, f.Name, f.State, pid, up, f.Runs, last, next)
			if listen {
				row += "\t" + strings.Join(f.Listen, ", ")
			}
			fmt.Fprintln(tw, row)
		}
	}
	tw.Flush()
	for line := range strings.Lines(buf.String()) {
		fmt.Fprintln(env.stdout, strings.TrimRight(line, " \n"))
	}
}

// shortDuration prints d in at most two units: 850ms, 12s, 3m12s, 2h5m, 3d4h.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func steerCommand(env *appEnv, op, usage, desc string) *cli.Command {
	return &cli.Command{
		Name:        op,
		Usage:       usage,
		ArgsUsage:   "[INSTANCE/]NAME...",
		Description: desc,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-wait", DisableDefaultText: true, Usage: "return once the action is under way"},
			runtimeDirFlag(),
		},
		Action: func(c *cli.Context) error { return env.steer(c, op) },
	}
}

func restartCommand(env *appEnv) *cli.Command {
	return steerCommand(env, control.OpRestart, "restart running functions (gracefully, backoff reset)",
		`Stops each named function gracefully (its stop signal, its timeout, the whole
group gone) and starts it again at once, as SIGHUP does; waits until the new
run has started. NAME is a function (an entry of fnrun up, api.2 for one
replica) of any running instance; INSTANCE/NAME says which instance.`)
}

func stopCommand(env *appEnv) *cli.Command {
	return steerCommand(env, control.OpStop, "stop running functions until fnrun start",
		`Stops each named function gracefully and keeps it stopped (fnrun ps says
stopped) until `+"`fnrun start NAME`"+`; the instance and its other functions go on.`)
}

func startCommand(env *appEnv) *cli.Command {
	return steerCommand(env, control.OpStart, "start functions stopped by fnrun stop",
		`Starts each named function that fnrun stop stopped, at once and with the
backoff reset, and waits until it has started.`)
}

// target is one instance and the names a command sends it.
type target struct {
	inst  control.Instance
	names []string
}

// resolve maps [INSTANCE/]NAME arguments to the instances that run them.
func resolve(insts []control.Instance, args []string) ([]*target, error) {
	var out []*target
	add := func(in control.Instance, name string) {
		for _, t := range out {
			if t.inst.Name == in.Name {
				if !slices.Contains(t.names, name) {
					t.names = append(t.names, name)
				}
				return
			}
		}
		out = append(out, &target{inst: in, names: []string{name}})
	}
	for _, a := range args {
		instName, name, explicit := strings.Cut(a, "/")
		if !explicit {
			name, instName = a, ""
		}
		if name == "" {
			return nil, usageError("%q: no function name", a)
		}
		var hits []control.Instance
		for _, in := range insts {
			if explicit && in.Name != instName {
				continue
			}
			if explicit || slices.ContainsFunc(in.Functions, func(f control.FunctionStatus) bool { return matches(f.Name, name) }) {
				hits = append(hits, in)
			}
		}
		switch {
		case len(hits) == 1:
			add(hits[0], name)
		case len(hits) > 1:
			var names []string
			for _, h := range hits {
				names = append(names, h.Name+"/"+name)
			}
			return nil, usageError("%s runs in more than one instance: say which (%s)", name, strings.Join(names, ", "))
		case explicit:
			return nil, withCode(ExitSmokeFail, fmt.Errorf("no instance %q is running%s", instName, knownInstances(insts)))
		default:
			return nil, withCode(ExitSmokeFail, fmt.Errorf("no running instance has a function %q%s", name, knownFunctions(insts)))
		}
	}
	return out, nil
}

// matches reports whether a function named fname answers to name: its own
// name, or its entry's (api for api.2).
func matches(fname, name string) bool {
	if fname == name {
		return true
	}
	base, _, ok := strings.Cut(fname, ".")
	return ok && base == name
}

func knownInstances(insts []control.Instance) string {
	if len(insts) == 0 {
		return " (none is)"
	}
	var n []string
	for _, in := range insts {
		n = append(n, in.Name)
	}
	return " (running: " + strings.Join(n, ", ") + ")"
}

func knownFunctions(insts []control.Instance) string {
	if len(insts) == 0 {
		return " (no instance is running)"
	}
	var n []string
	for _, in := range insts {
		for _, f := range in.Functions {
			n = append(n, in.Name+"/"+f.Name)
		}
	}
	return " (known: " + strings.Join(n, ", ") + ")"
}

// steer sends op for the named functions and prints what happened.
func (env *appEnv) steer(c *cli.Context, op string) error {
	if !c.Args().Present() {
		return usageError("%s: name the functions (see fnrun ps)", op)
	}
	dir, insts, err := env.listInstances(c)
	if err != nil {
		return err
	}
	targets, err := resolve(insts, c.Args().Slice())
	if err != nil {
		return err
	}
	noWait := c.Bool("no-wait")
	var errs []error
	for _, t := range targets {
		before := t.inst
		_, err := control.CallContext(c.Context, dir, t.inst.Name, control.Request{Op: op, Names: t.names, NoWait: noWait})
		if err != nil {
			var ue *control.UnknownNamesError
			if errors.As(err, &ue) {
				err = fmt.Errorf("instance %s: %w", t.inst.Name, ue)
			}
			errs = append(errs, err)
			continue
		}
		after := before
		if resp, err := control.CallContext(c.Context, dir, t.inst.Name, control.Request{Op: control.OpPS}); err == nil && resp.Instance != nil {
			after = *resp.Instance
		}
		for _, f := range after.Functions {
			if !slices.ContainsFunc(t.names, func(n string) bool { return matches(f.Name, n) }) {
				continue
			}
			fmt.Fprintf(env.stdout, "%s/%s: %s\n", t.inst.Name, f.Name, steerResult(op, noWait, instancePID(before, f.Name), f))
		}
	}
	if len(errs) > 0 {
		return withCode(ExitSmokeFail, errors.Join(errs...))
	}
	return nil
}

func instancePID(in control.Instance, name string) int {
	for _, f := range in.Functions {
		if f.Name == name {
			return f.PID
		}
	}
	return 0
}

// steerResult says what became of a function.
func steerResult(op string, noWait bool, oldPID int, f control.FunctionStatus) string {
	if noWait {
		return op + " under way"
	}
	switch op {
	case control.OpStop:
		if oldPID > 0 {
			return fmt.Sprintf("stopped (pid %d gone)", oldPID)
		}
		return "stopped"
	default:
		verb := "restarted"
		if op == control.OpStart {
			verb = "started"
		}
		switch {
		case f.PID > 0 && oldPID > 0:
			return fmt.Sprintf("%s (pid %d → %d, %s)", verb, oldPID, f.PID, f.State)
		case f.PID > 0:
			return fmt.Sprintf("%s (pid %d, %s)", verb, f.PID, f.State)
		}
		return fmt.Sprintf("%s; now %s", verb, f.State)
	}
}

func downCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:      "down",
		Usage:     "stop a running instance, as Ctrl-C would",
		ArgsUsage: "[INSTANCE]",
		Description: `Stops every function of the instance gracefully, in reverse dependency order,
and waits until its fnrun has exited. Without INSTANCE, the only running one.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-wait", DisableDefaultText: true, Usage: "return once the stop is under way"},
			runtimeDirFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("down: one INSTANCE at a time")
			}
			dir, insts, err := env.listInstances(c)
			if err != nil {
				return err
			}
			var in *control.Instance
			switch name := c.Args().First(); {
			case name != "":
				for i := range insts {
					if insts[i].Name == name {
						in = &insts[i]
					}
				}
				if in == nil {
					return withCode(ExitSmokeFail, fmt.Errorf("no instance %q is running%s", name, knownInstances(insts)))
				}
			case len(insts) == 1:
				in = &insts[0]
			case len(insts) == 0:
				return withCode(ExitSmokeFail, errors.New("no instance is running"))
			default:
				return usageError("down: more than one instance is running: name one%s", knownInstances(insts))
			}
			wait, release := watchPID(in.PID) // before the request: the pid cannot be reused under us
			defer release()
			_, err = control.CallContext(c.Context, dir, in.Name, control.Request{Op: control.OpDown, NoWait: c.Bool("no-wait")})
			if err != nil && !errors.Is(err, control.ErrNotRunning) && !isEOF(err) {
				return withCode(ExitSmokeFail, err)
			}
			if c.Bool("no-wait") {
				fmt.Fprintf(env.stdout, "%s: stopping\n", in.Name)
				return nil
			}
			if err := wait(c.Context); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s: stopped\n", in.Name)
			return nil
		},
	}
}

func isEOF(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"))
}
