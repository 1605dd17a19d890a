package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/export"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/listen"
	"github.com/fnrun/fnrun/internal/system"
	"github.com/fnrun/fnrun/runner"
)

/*
`fnrun export` writes what runs a system without fnrun. `export systemd`
takes a system file (-f, as `up` reads it) or one SOURCE with the flags of
`fnrun run` that an entry has a key for, builds every source entry as `up`
does, and writes into DIR: bin/NAME (a copy of each binary, never a link
into the cache), one unit per entry and socket (internal/export renders
them), and INSTALL, the steps that install them on the target. It changes
nothing outside DIR: no /etc, no systemctl but `systemctl --version`.

Everything is checked and rendered before the build, so a mistake costs no
build and a failed build leaves DIR as it was. Files are replaced
atomically (a temporary file in the same directory, renamed), so a unit
or binary in DIR is always whole.

`export kubernetes` takes the same -f FILE or SOURCE (with the flags of
run that a pod can express, which are not all of systemd's: see
kubernetesFormat) and writes DIR/NAME.yaml for each entry. It builds
nothing: the pods run an image that `fnrun image` made and the user pushed,
named by --image. The two share the reading of the command line
(exportFormat says what differs) and the atomic writes.
*/

// DefaultExportPrefix is where `export systemd` installs the binaries on
// the target unless --prefix says otherwise.
const DefaultExportPrefix = "/usr/local/lib/fnrun"

// systemctlTimeout bounds `systemctl --version`.
const systemctlTimeout = 5 * time.Second

// exportSubcommands are the formats `fnrun export` writes.
func exportSubcommands(env *appEnv) []*cli.Command {
	return []*cli.Command{
		exportSystemdCommand(env),
		exportKubernetesCommand(env),
	}
}

func exportCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write systemd units or Kubernetes manifests for a system",
		Description: `Writes a service manager's configuration for a system into a directory:
systemd units with a copy of each built binary, to be installed on the
target, or Kubernetes manifests for the images fnrun image writes.

Examples:
   fnrun export systemd -o deploy
   fnrun export systemd -f fnrun.yaml -o deploy --prefix /opt/app
   fnrun export kubernetes --image 'registry.example/fn/{name}:v1' -o k8s`,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c, c.Args().First())
			}
			cli.ShowSubcommandHelp(c)
			return codeOnly(ExitUsage) // no subcommand: a usage error, after the help
		},
		Subcommands: exportSubcommands(env),
	}
}

// exportFormat is what an export subcommand takes of run's flags. Run's
// flags outside runFlags and bothForms are accepted by the parser, hidden,
// and refused (refusedFlag), with the reason refused gives.
type exportFormat struct {
	name      string            // the subcommand
	writes    string            // what DIR receives, for messages
	runFlags  []string          // run's flags that a SOURCE takes
	bothForms []string          // run's flags that apply to -f FILE too
	refused   map[string]string // why a flag of run's cannot be exported
	nameUsage string            // --name's usage
	names     string            // what --name names, for messages
	build     bool              // it builds the functions: a SOURCE takes the build flags
	ready     bool              // a SOURCE takes --ready-url, --ready-tcp and --ready-timeout
}

var systemdFormat = exportFormat{name: "systemd", writes: "the units", runFlags: exportRunFlags,
	bothForms: exportBothForms, refused: notExported, build: true, names: "the unit",
	nameUsage: "name the function and its units `NAME` (default: SOURCE's last element, as fnrun run names it)"}

// exportRunFlags are the flags of `fnrun run` that an entry has a key for:
// `export systemd SOURCE` takes them. Run's other flags are refused.
var exportRunFlags = []string{
	"restart", "policy", "max-restarts", "backoff-initial", "backoff-max", "backoff-reset",
	"stop-signal", "stop-timeout", "env", "env-file", "dir", "name", "listen", "backlog", "replicas",
	"tags", "ldflags", "race", "build-flag",
}

// exportBothForms are run's flags that apply to -f FILE too.
var exportBothForms = []string{"cache-dir", "update", "quiet", "verbose"}

// notExported says why a flag of run's has no unit equivalent.
var notExported = map[string]string{
	"proxy":         "systemd does not proxy (run a proxy of your own)",
	"timeout":       "a service has no time limit for all its runs",
	"watch":         "the units run built binaries",
	"ready-log":     "systemd cannot wait for a ready check",
	"ready-url":     "systemd cannot wait for a ready check",
	"ready-tcp":     "systemd cannot wait for a ready check",
	"ready-timeout": "systemd cannot wait for a ready check",
}

func exportSystemdCommand(env *appEnv) *cli.Command {
	flags := exportFlags(env, systemdFormat, []cli.Flag{
		exportFileFlag(),
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: envVar("OUTPUT"),
			Usage: "write the units, bin/ and INSTALL into `DIR` (created if missing)"},
		&cli.StringFlag{Name: "prefix", Value: DefaultExportPrefix, EnvVars: envVar("PREFIX"),
			Usage: "the absolute `DIR` the binaries are installed in on the target"},
		&cli.IntFlag{Name: "systemd-version", EnvVars: envVar("SYSTEMD_VERSION"), DefaultText: "systemctl --version",
			Usage: "write for the target's systemd `N` (254 and later: RestartSteps=)"},
	})
	return &cli.Command{
		Name:  "systemd",
		Usage: "write systemd units for a system file or one SOURCE",
		UsageText: "fnrun export systemd [-f FILE] -o DIR [flags]\n" +
			"fnrun export systemd -o DIR [flags] SOURCE [-- ARGS...]",
		Description: `Builds every function of the file (or SOURCE, with the flags of fnrun run
that map onto a unit) and writes into DIR: bin/NAME, each binary; a service
per function (NAME@.service with replicas) and a .socket per listen address;
INSTALL, the commands that install them on the target. What systemd cannot
express (ready checks, backoff jitter, proxies...) is a warning and a
"# fnrun:" comment in the unit. Nothing outside DIR is changed.

Examples:
   fnrun export systemd -o deploy
   fnrun export systemd -o deploy --prefix /opt/app --systemd-version 254
   fnrun export systemd -o deploy -r --listen :8080 ./examples/greeter
   cd deploy && sudo sh INSTALL`,
		Flags:  flags,
		Action: env.exportSystemd,
	}
}

// exportFileFlag is -f FILE, the system every subcommand exports.
func exportFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "file", Aliases: []string{"f"}, Value: DefaultUpFile, EnvVars: envVar("FILE"),
		Usage: "export the system in `FILE`: fnrun.yaml, or a Procfile (without a SOURCE)"}
}

// exportFlags are own, then run's flags as format takes them: kept, or
// refused.
func exportFlags(env *appEnv, format exportFormat, own []cli.Flag) []cli.Flag {
	flags := own
	for _, f := range runCommand(env).Flags {
		name := f.Names()[0]
		_, refused := format.refused[name]
		switch {
		case refused:
			flags = append(flags, refusedFlag(f))
		case name == "name":
			// run's --name names the output's prefix; here it names the entry.
			flags = append(flags, &cli.StringFlag{Name: "name", EnvVars: envVar("NAME"), Category: catCommon,
				Usage: format.nameUsage})
		case slices.Contains(format.runFlags, name), slices.Contains(format.bothForms, name):
			flags = append(flags, f)
		default:
			flags = append(flags, refusedFlag(f))
		}
	}
	return flags
}

// refusedFlag stands for a flag of run's that cannot be exported: it is
// accepted by the parser, hidden, and refused by exportArgs with a
// reason. It reads no environment variable: FNRUN_TIMEOUT set for `run`
// does not break an export. Unset, it reads as false or "", so code shared
// by the subcommands may read any of run's flags.
func refusedFlag(f cli.Flag) cli.Flag {
	names := f.Names()
	if _, ok := base(f).(*cli.BoolFlag); ok {
		return &cli.BoolFlag{Name: names[0], Aliases: names[1:], Hidden: true}
	}
	return &cli.StringFlag{Name: names[0], Aliases: names[1:], Hidden: true}
}

// exportConfig is `export systemd`'s command line, checked.
type exportConfig struct {
	file *system.File
	dir  string // DIR, as given
	opts export.SystemdOptions
	// versionErr is why the target's systemd version is unknown (0):
	// systemctl here did not say it.
	versionErr error
}

func (env *appEnv) exportSystemd(c *cli.Context) error {
	env.setupLogger(c)
	cfg, err := env.exportSystemdConfig(c)
	if err != nil {
		return err
	}
	units, warnings, err := export.Systemd(cfg.file, cfg.opts)
	if err != nil {
		return usageError("%v", err)
	}
	install := export.InstallList(units, cfg.opts.Prefix)
	bins, release, err := env.exportBuild(c, cfg.file)
	if err != nil {
		return err
	}
	written, err := copyBinaries(cfg.dir, bins)
	release() // copied: the cache may remove them now
	if err != nil {
		return withCode(ExitFnrun, err)
	}
	more, err := writeUnits(cfg.dir, units, install)
	written = append(written, more...)
	if err != nil {
		return withCode(ExitFnrun, err)
	}
	for _, w := range warnings {
		env.log.Warn("warning: " + w)
	}
	if cfg.versionErr != nil {
		env.log.Warn(fmt.Sprintf("warning: %v: RestartSteps= is left out (give --systemd-version N)", cfg.versionErr))
	}
	for _, p := range written {
		fmt.Fprintf(env.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(env.stdout, "\n%s", install)
	return nil
}

// exportSystemdConfig checks the command line and loads (or makes) the
// system file, before any work.
func (env *appEnv) exportSystemdConfig(c *cli.Context) (*exportConfig, error) {
	dir, err := exportArgs(c, systemdFormat)
	if err != nil {
		return nil, err
	}
	cfg := &exportConfig{dir: dir}
	prefix := c.String("prefix")
	if !filepath.IsAbs(prefix) {
		return nil, usageError("export systemd: --prefix %s: want an absolute path (where the binaries are on the target)", prefix)
	}
	cfg.opts.Prefix = filepath.Clean(prefix)
	if c.IsSet("systemd-version") && c.Int("systemd-version") < 1 {
		return nil, usageError("export systemd: --systemd-version must be positive")
	}

	if cfg.file, err = exportLoad(c, systemdFormat); err != nil {
		return nil, err
	}
	cfg.opts.FileDir = cfg.file.Dir
	if c.IsSet("systemd-version") {
		cfg.opts.Version = c.Int("systemd-version")
	} else {
		cfg.opts.Version, cfg.versionErr = localSystemdVersion(c.Context)
	}
	return cfg, nil
}

// exportArgs checks what every export subcommand is given: no flag that
// format refuses, no fnrun flag after SOURCE, an -o DIR; it returns DIR.
func exportArgs(c *cli.Context, format exportFormat) (dir string, err error) {
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if why, refused := format.refused[name]; refused || isHidden(f) {
			if c.IsSet(name) {
				if why == "" {
					why = "it is about how fnrun runs the program here"
				}
				return "", usageError("export %s: --%s cannot be exported: %s", format.name, name, why)
			}
		}
	}
	// `export systemd ./fn -o out` would hand -o to the program.
	if args := c.Args().Slice(); len(args) > 1 && args[1] != "--" {
		for _, a := range args[1:] {
			if name, ok := fnrunFlag(c, a); ok {
				return "", usageError("export %s: %s after SOURCE: put fnrun's flags before SOURCE and the program's arguments after --", format.name, name)
			}
		}
	}
	dir = c.String("output")
	if dir == "" {
		return "", usageError("export %s: no -o DIR given (the directory to write %s into)", format.name, format.writes)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return "", usageError("export %s: -o %s: not a directory", format.name, dir)
	}
	return dir, nil
}

// exportLoad loads -f FILE, or makes a one-entry system of SOURCE.
func exportLoad(c *cli.Context, format exportFormat) (*system.File, error) {
	if !c.Args().Present() {
		return exportFile(c, format)
	}
	if typedSet(c, "file") {
		return nil, usageError("export %s: give -f FILE or a SOURCE, not both", format.name)
	}
	return exportSource(c, format)
}

func isHidden(f cli.Flag) bool {
	h, ok := base(f).(interface{ IsVisible() bool })
	return ok && !h.IsVisible()
}

// exportFile loads -f FILE; run's flags that shape an entry belong in it.
func exportFile(c *cli.Context, format exportFormat) (*system.File, error) {
	for _, name := range format.runFlags {
		if typedSet(c, name) {
			return nil, usageError("export %s: --%s is for a SOURCE; in a file, set the entry's key", format.name, name)
		}
	}
	path := c.String("file")
	file, err := system.Load(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !c.IsSet("file") {
			return nil, usageError("no %s here (write one, name a file with -f, or give a SOURCE)", DefaultUpFile)
		}
		return nil, usageError("%v", err)
	}
	return file, nil
}

// typedSet reports whether the flag called name was given on the command
// line: set, and not by its FNRUN_ variable (when both are, it cannot
// tell, and says no).
func typedSet(c *cli.Context, name string) bool {
	if !c.IsSet(name) {
		return false
	}
	for _, f := range c.Command.Flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		if ev, ok := base(f).(interface{ GetEnvVars() []string }); ok {
			for _, v := range ev.GetEnvVars() {
				if os.Getenv(v) != "" {
					return false
				}
			}
		}
	}
	return true
}

// entryName is system's rule for a function's name.
var entryName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// exportSource makes a one-entry system of SOURCE and the run flags format
// takes, named as `fnrun run` names it, in the working directory.
func exportSource(c *cli.Context, format exportFormat) (*system.File, error) {
	source, progArgs, err := sourceAndArgs(c)
	if err != nil {
		return nil, err
	}
	src, err := parseSource(source)
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, withCode(ExitFnrun, err)
	}
	e := &system.Entry{Source: source, Args: progArgs, Replicas: c.Int("replicas")}
	if e.Name = c.String("name"); e.Name == "" {
		e.Name = sanitizeEntry(sourceName(src))
	} else if !entryName.MatchString(e.Name) {
		return nil, usageError("--name %q: want letters, digits, _ and - only (it names %s)", e.Name, format.names)
	}
	if err := exportSupervision(c, e); err != nil {
		return nil, err
	}
	if err := exportEnv(c, e); err != nil {
		return nil, err
	}
	if e.Replicas < 1 {
		return nil, usageError("--replicas must be at least 1")
	}
	for _, a := range c.StringSlice("listen") {
		if _, err := listen.Parse(a); err != nil {
			return nil, usageError("--listen %v", err)
		}
	}
	e.Listen = c.StringSlice("listen")
	if e.Backlog = c.Int("backlog"); e.Backlog < 0 {
		return nil, usageError("--backlog must not be negative")
	}
	if format.ready {
		r, err := readyConfig(c)
		if err != nil {
			return nil, err
		}
		e.Ready = system.Ready{URL: r.URL, TCP: r.TCP}
		if c.IsSet("ready-timeout") { // unset: as an entry without the key
			e.Ready.Timeout = r.Timeout
		}
	}
	if format.build {
		b, err := buildConfig(c)
		if err != nil {
			return nil, err
		}
		e.Tags, e.Ldflags, e.Race, e.BuildFlags = b.Tags, b.Ldflags, b.Race, b.Flags
	}
	return &system.File{Path: source, Dir: wd, Functions: []*system.Entry{e}}, nil
}

// sanitizeEntry makes s a function name: a dot or any other character
// system refuses becomes '-'.
func sanitizeEntry(s string) string {
	n := strings.ReplaceAll(sanitizeInstance(s), ".", "-")
	if !entryName.MatchString(n) {
		return "fn"
	}
	return n
}

// exportSupervision reads the restart and stop flags into e, checked as
// `fnrun run` checks them.
func exportSupervision(c *cli.Context, e *system.Entry) error {
	policy := c.String("policy")
	if c.Bool("restart") {
		if c.IsSet("policy") && policy != string(runner.PolicyAlways) {
			return usageError("--restart conflicts with --policy %s", policy)
		}
		policy = string(runner.PolicyAlways)
	}
	p, err := runner.ParsePolicy(policy)
	if err != nil {
		return usageError("--policy: %v", err)
	}
	e.Restart = string(p)
	if e.MaxRestarts = c.Int("max-restarts"); e.MaxRestarts < 0 {
		return usageError("--max-restarts must not be negative")
	}
	for _, name := range []string{"backoff-initial", "backoff-max", "backoff-reset", "stop-timeout"} {
		if c.Duration(name) < 0 {
			return usageError("--%s must not be negative", name)
		}
	}
	if c.Duration("stop-timeout") == 0 {
		return usageError("--stop-timeout must be positive (for an immediate kill use --stop-signal KILL)")
	}
	e.Backoff = system.Backoff{Initial: c.Duration("backoff-initial"), Max: c.Duration("backoff-max"),
		Reset: c.Duration("backoff-reset"), InitialSet: true}
	if e.Backoff.Max < e.Backoff.Initial {
		return usageError("--backoff-max (%s) is shorter than --backoff-initial (%s)", fmtDuration(e.Backoff.Max), fmtDuration(e.Backoff.Initial))
	}
	if _, err := parseSignal(c.String("stop-signal")); err != nil {
		return usageError("--stop-signal: %v", err)
	}
	e.Stop = system.Stop{Signal: c.String("stop-signal"), Timeout: c.Duration("stop-timeout")}
	return nil
}

// exportEnv reads -e, --env-file and --dir into e: only what they set,
// not fnrun's own environment (a unit starts from a clean one).
func exportEnv(c *cli.Context, e *system.Entry) error {
	for _, kv := range c.StringSlice("env") {
		if err := fn.CheckKV(kv); err != nil {
			return usageError("--env %q: %v", kv, err)
		}
		e.Env = append(e.Env, kv)
	}
	if file := c.String("env-file"); file != "" {
		if _, err := fn.ReadEnvFile(file); err != nil {
			return usageError("--env-file: %v", err)
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			return usageError("--env-file: %v", err)
		}
		e.EnvFile = abs
	}
	if dir := c.String("dir"); dir != "" {
		fi, err := os.Stat(dir)
		switch {
		case err != nil:
			return usageError("--dir %s: no such directory", dir)
		case !fi.IsDir():
			return usageError("--dir %s: not a directory", dir)
		}
		if e.Dir, err = filepath.Abs(dir); err != nil {
			return usageError("--dir: %v", err)
		}
	}
	return nil
}

// localSystemdVersion asks this machine's systemctl for its version.
func localSystemdVersion(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, systemctlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "systemctl", "--version")
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("systemctl --version: %w", err)
	}
	v, ok := export.SystemdVersion(string(out))
	if !ok {
		return 0, fmt.Errorf("systemctl --version: no version in %q", firstLine(string(out)))
	}
	return v, nil
}

// exportBuild fetches and builds every source entry of file, as `up`
// does, with its progress on stderr, and returns entry name → binary in
// the cache. The binaries stay pinned until release is called.
func (env *appEnv) exportBuild(c *cli.Context, file *system.File) (bins map[string]string, release func(), err error) {
	cache, err := cacheDir(c)
	if err != nil {
		return nil, nil, err
	}
	prog := env.progress(c)
	prog.multi = true // a status line per entry being fetched or built
	render := env.render(prog)
	opts := system.Options{CacheDir: cache, Update: c.Bool("update"), Logger: env.log,
		OnEvent: func(e system.Event) {
			if e.System == 0 {
				render(e.Event)
			}
		}}
	sys, err := system.New(file, nil, opts)
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	bins, release, err = sys.Build(c.Context)
	if err != nil {
		return nil, nil, env.upResult(c, system.Result{Err: err})
	}
	return bins, release, nil
}

// copyBinaries copies each binary to dir/bin/NAME (0755), in name order,
// and returns the paths written. The cache's files are only read.
func copyBinaries(dir string, bins map[string]string) ([]string, error) {
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	names := make([]string, 0, len(bins))
	for name := range bins {
		names = append(names, name)
	}
	slices.Sort(names)
	var written []string
	for _, name := range names {
		in, err := os.Open(bins[name])
		if err != nil {
			return written, fmt.Errorf("copy binary of %s: %w", name, err)
		}
		p := filepath.Join(binDir, name)
		err = cache.ReplaceFile(p, in, 0o755)
		in.Close()
		if err != nil {
			return written, fmt.Errorf("copy binary of %s: %w", name, err)
		}
		written = append(written, p)
	}
	return written, nil
}

// writeUnits writes each unit (0644) and INSTALL into dir and returns the
// paths written.
func writeUnits(dir string, units []export.Unit, install string) ([]string, error) {
	var written []string
	for _, u := range units {
		p, err := writeText(dir, u.Name, u.Text)
		if err != nil {
			return written, err
		}
		written = append(written, p)
	}
	p, err := writeText(dir, "INSTALL", install)
	if err != nil {
		return written, err
	}
	return append(written, p), nil
}

// writeText replaces dir/name with text (0644) and returns its path.
func writeText(dir, name, text string) (string, error) {
	p := filepath.Join(dir, name)
	return p, cache.WriteFileAtomic(p, []byte(text), 0o644)
}

// kubernetesFormat: a SOURCE takes run's flags that the pod's command or
// probes express; what only `fnrun image` uses (the build) or the image
// lacks (the project's files) is refused.
var kubernetesFormat = exportFormat{name: "kubernetes", writes: "the manifests",
	runFlags: []string{"restart", "policy", "max-restarts", "backoff-initial", "backoff-max", "backoff-reset",
		"stop-signal", "stop-timeout", "env", "name", "listen", "backlog", "replicas",
		"ready-url", "ready-tcp", "ready-timeout"},
	bothForms: []string{"quiet", "verbose"},
	refused: map[string]string{
		"proxy":      "a pod does not proxy (run a proxy of your own)",
		"timeout":    "a Deployment has no time limit for all its runs",
		"watch":      "the image holds built binaries",
		"ready-log":  "the kubelet cannot match output",
		"env-file":   "the image does not hold it (give its variables with -e)",
		"dir":        "the image does not hold the project's directories",
		"tags":       kubeNoBuild,
		"ldflags":    kubeNoBuild,
		"race":       kubeNoBuild,
		"build-flag": kubeNoBuild,
		"cache-dir":  kubeNoBuild,
		"update":     kubeNoBuild,
	},
	ready: true, names: "its Deployment and Service",
	nameUsage: "name the function, its Deployment (or Job) and Service `NAME` (default: SOURCE's last element, as fnrun run names it)"}

const kubeNoBuild = "export kubernetes builds nothing (give it to fnrun image)"

func exportKubernetesCommand(env *appEnv) *cli.Command {
	flags := exportFlags(env, kubernetesFormat, []cli.Flag{
		exportFileFlag(),
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: envVar("OUTPUT"),
			Usage: "write NAME.yaml for each function into `DIR` (created if missing)"},
		&cli.StringFlag{Name: "image", EnvVars: envVar("IMAGE"),
			Usage: "run the image `REF` (required), made by fnrun image and pushed; {name} in it is replaced by each function's name"},
		&cli.StringFlag{Name: "namespace", EnvVars: envVar("NAMESPACE"), DefaultText: "kubectl's",
			Usage: "put every object in namespace `NS`"},
	})
	return &cli.Command{
		Name:  "kubernetes",
		Usage: "write Kubernetes manifests for a file or one SOURCE",
		UsageText: "fnrun export kubernetes [-f FILE] --image REF -o DIR [flags]\n" +
			"fnrun export kubernetes --image REF -o DIR [flags] SOURCE [-- ARGS...]",
		Description: `Writes DIR/NAME.yaml for each function of the file (or SOURCE, with the
flags of fnrun run that a pod can express): a Deployment (a Job for restart:
never) whose container runs fnrun exec --init with the function's
supervision flags, and a Service for its TCP listen addresses. A dependency
with a Service becomes an init container that runs fnrun wait. Nothing is
built: the image is the one fnrun image writes, pushed where the cluster
pulls from. What Kubernetes cannot express (ready.log, env_file,
proxies...) is a warning and a "# fnrun:" comment in the file.

Examples:
   fnrun image -f fnrun.yaml -o images
   skopeo copy oci:images/greeter docker://registry.example/fn/greeter:v1
   fnrun export kubernetes --image 'registry.example/fn/{name}:v1' -o k8s
   kubectl apply -f k8s`,
		Flags:  flags,
		Action: env.exportKubernetes,
	}
}

// kubeExportConfig is `export kubernetes`'s command line, checked.
type kubeExportConfig struct {
	file *system.File
	dir  string // DIR, as given
	opts export.KubernetesOptions
}

func (env *appEnv) exportKubernetes(c *cli.Context) error {
	env.setupLogger(c)
	cfg, err := exportKubernetesConfig(c)
	if err != nil {
		return err
	}
	files, warnings, err := export.Kubernetes(cfg.file, cfg.opts)
	if err != nil {
		return usageError("%v", err)
	}
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return withCode(ExitFnrun, fmt.Errorf("export: %w", err))
	}
	var written []string
	for _, m := range files {
		p, err := writeText(cfg.dir, m.Name, m.Text)
		if err != nil {
			return withCode(ExitFnrun, err)
		}
		written = append(written, p)
	}
	for _, w := range warnings {
		env.log.Warn("warning: " + w)
	}
	for _, p := range written {
		fmt.Fprintf(env.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(env.stdout, "\napply with: kubectl apply -f %s\n", shellQuote(cfg.dir))
	return nil
}

// exportKubernetesConfig checks the command line and loads (or makes) the
// system file, before anything is written.
func exportKubernetesConfig(c *cli.Context) (*kubeExportConfig, error) {
	dir, err := exportArgs(c, kubernetesFormat)
	if err != nil {
		return nil, err
	}
	cfg := &kubeExportConfig{dir: dir, opts: export.KubernetesOptions{Image: c.String("image"), Namespace: c.String("namespace")}}
	if cfg.opts.Image == "" {
		return nil, usageError("export kubernetes: no --image REF given (the image fnrun image wrote, pushed where the cluster pulls from)")
	}
	if cfg.file, err = exportLoad(c, kubernetesFormat); err != nil {
		return nil, err
	}
	return cfg, nil
}
