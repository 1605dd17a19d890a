package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/listen"
	"github.com/fnrun/fnrun/internal/oci"
	"github.com/fnrun/fnrun/internal/system"
	"github.com/fnrun/fnrun/runner"
)

/*
fnrun image writes, for each source entry, an OCI image whose entrypoint
is fnrun supervising the function: `fnrun exec --init <the entry's
supervision flags> -- /fn/NAME ARGS...`. A per-request function keeps
fnrun's semantics (restart after each call, the held --listen socket,
backoff) on any engine that runs images, and fnrun does PID 1's duties
there.

One entry is one image, because one image is what an engine runs: with
-f, every entry gets its own layout, OCI_DIR/NAME; --tar writes one image,
so with -f it needs exactly one entry. Each layout holds one image per
--platform. The function is built with CGO_ENABLED=0 for each platform
through the system's build (so into the same cache, keyed by GOOS/GOARCH);
fnrun itself is the running binary when it is static and for the host's
platform, else --fnrun. The image is written by internal/oci, not by
go-containerregistry (see its doc: every fnrun start would pay for it).
*/

// imageInit puts --init in the images' entrypoint (fnrun exec as PID 1:
// reaps orphans, forwards SIGTERM). Turn it off for a fnrun without it.
const imageInit = true

// DefaultImagePlatform is the platform of an image when --platform is not given.
const DefaultImagePlatform = "linux/" + runtime.GOARCH

// Paths inside the image.
const (
	imageFnrunPath = "/usr/local/bin/fnrun"
	imageFnDir     = "/fn"
	imagePath      = "PATH=/usr/local/bin:/usr/bin:/bin"
)

// imageSuperviseFlags are the flags of `fnrun run` an image's entrypoint keeps.
var imageSuperviseFlags = []string{"restart", "env", "env-file", "policy", "max-restarts", "backoff-initial", "backoff-max",
	"backoff-reset", "stop-signal", "stop-timeout", "name", "listen", "backlog", "proxy", "replicas"}

func imageCommand(env *appEnv) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, EnvVars: envVar("FILE"),
			Usage: "write an image for every source entry of `FILE` (default fnrun.yaml, when no SOURCE is given)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: envVar("OUTPUT"),
			Usage: "write an OCI image layout to `DIR` (with -f: DIR/NAME for each entry)"},
		&cli.StringFlag{Name: "tar", EnvVars: envVar("TAR"),
			Usage: "write the layout as one tar `FILE` instead (one entry only)"},
		&cli.StringSliceFlag{Name: "platform", EnvVars: envVar("PLATFORM"),
			Usage: "build for `OS/ARCH[/VARIANT]`, comma-separated or repeated (default " + DefaultImagePlatform + ")"},
		&cli.StringSliceFlag{Name: "fnrun", EnvVars: envVar("FNRUN"),
			Usage: "put the fnrun binary `[PLATFORM=]PATH` in the image (needed for another platform, or when this fnrun is not statically linked)"},
		&cli.StringFlag{Name: "push", EnvVars: envVar("PUSH"),
			Usage: "push to `REF`: not implemented (push the layout with skopeo, crane or oras)"},
	}
	for _, f := range superviseFlags() {
		if slices.Contains(imageSuperviseFlags, f.Names()[0]) {
			flags = append(flags, f)
		}
	}
	flags = append(flags, buildFlags()...)
	flags = append(flags, sourceFlags()...)
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:      "image",
		Usage:     "build SOURCE (or a file's entries) into an OCI image run by fnrun",
		ArgsUsage: "(-f FILE [NAME...] | SOURCE [-- ARGS...]) -o DIR",
		Description: `Builds the function with CGO_ENABLED=0 for each --platform and writes an
OCI image layout (or --tar, a tar of one) without Docker: a base layer (a user
fnrun, uid 65532, /tmp and the host's CA certificates), fnrun, and the
function at /fn/NAME. The image runs as fnrun:fnrun and its entrypoint is

   fnrun exec --init [--policy, --listen ... as given] -- /fn/NAME ARGS...

so the function keeps fnrun's supervision in any container engine. The
same inputs give the same digest. Prints each layout's path and digest.

Examples:
   fnrun image -r --listen 0.0.0.0:8080 ./examples/greeter -o greeter.oci
   fnrun image --platform linux/arm64 --fnrun ./fnrun-arm64 ./fn -o fn.oci
   fnrun image -f fnrun.yaml -o images      # images/NAME for each entry
   skopeo copy oci:greeter.oci docker://registry.example/greeter:v1`,
		Flags:  flags,
		Action: env.imageAction,
	}
}

// imageJob is one image to write: an entry of the file and where.
type imageJob struct {
	entry *system.Entry
	out   string // the layout directory, or the tar file
}

func (env *appEnv) imageAction(c *cli.Context) error {
	env.setupLogger(c)
	if c.IsSet("push") {
		return usageError("--push is not implemented: write a layout with -o and push it with skopeo copy oci:DIR docker://REF (or crane, oras)")
	}
	ia, err := imageArgsOf(c)
	if err != nil {
		return err
	}
	out, tarFile := ia.out, ia.tar
	if (out == "") == (tarFile == "") {
		return usageError("image: give one of -o DIR and --tar FILE")
	}
	platforms, err := imagePlatforms(ia.platforms)
	if err != nil {
		return err
	}
	fnruns, err := fnrunBinaries(ia.fnruns, platforms)
	if err != nil {
		return err
	}
	file, multi, err := env.imageFile(c, ia)
	if err != nil {
		return err
	}
	var jobs []imageJob
	for _, e := range file.Functions {
		j := imageJob{entry: e, out: out}
		if multi {
			j.out = filepath.Join(out, e.Name)
		}
		if tarFile != "" {
			j.out = tarFile
		}
		jobs = append(jobs, j)
	}
	if tarFile != "" && len(jobs) > 1 {
		return usageError("--tar writes one image and %s has %d source entries: use -o DIR (a layout per entry), or name one entry", file.Path, len(jobs))
	}
	// Where the images go is checked before any build.
	parent := filepath.Dir(jobs[0].out)
	if multi && tarFile == "" {
		parent = filepath.Dir(out)
	}
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		return usageError("image: no such directory %s", parent)
	}
	created, err := oci.SourceDateEpoch(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return usageError("%v", err)
	}
	ca := oci.FindCACerts()
	if ca == "" {
		env.log.Warn("no CA certificates on this machine: the images have none (TLS clients in them will fail)")
	}
	cacheDir, err := cacheDir(c)
	if err != nil {
		return err
	}

	// Build every entry for every platform, then write the images.
	images := make([][]oci.Image, len(jobs))
	for _, p := range platforms {
		bins, done, err := env.buildFor(c, file, p, cacheDir)
		if err != nil {
			return err
		}
		for i, j := range jobs {
			im, err := imageOf(file, j.entry, p, bins[j.entry.Name], fnruns[p], ca, created)
			if err != nil {
				done()
				return withCode(ExitFnrun, err)
			}
			images[i] = append(images[i], im)
		}
		// The binaries are copied when the layouts are written: keep the
		// pins until then.
		defer done()
	}
	if multi && tarFile == "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return withCode(ExitFnrun, err)
		}
	}
	for i, j := range jobs {
		var d string
		if tarFile != "" {
			d, err = writeImageTar(j.out, images[i])
		} else {
			d, err = oci.WriteLayout(j.out, images[i])
		}
		if errors.Is(err, oci.ErrNotLayout) {
			return usageError("-o %v", err)
		}
		if err != nil {
			return withCode(ExitFnrun, err)
		}
		fmt.Fprintf(env.stdout, "%s %s\n", j.out, d)
	}
	return nil
}

// imageFile is the entries to build: the file's (-f, or fnrun.yaml when
// no SOURCE is given), or one made of SOURCE and the flags. multi is
// whether each entry gets a directory of its own.
func (env *appEnv) imageFile(c *cli.Context, ia imageArgs) (*system.File, bool, error) {
	if c.IsSet("file") || len(ia.words) == 0 {
		if len(ia.progArgs) > 0 {
			return nil, false, usageError("image: arguments after -- are for a SOURCE: with -f, the file gives each entry's args")
		}
		for _, f := range append(slices.Clone(imageSuperviseFlags), "tags", "ldflags", "race", "build-flag") {
			if c.IsSet(f) {
				return nil, false, usageError("--%s is for a SOURCE: with -f, the file says it for each entry", f)
			}
		}
		path := c.String("file")
		if path == "" {
			path = DefaultUpFile
		}
		file, err := system.Load(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && !c.IsSet("file") {
				return nil, false, usageError("image: no SOURCE given and no %s here (usage: fnrun image [flags] SOURCE -o DIR)", DefaultUpFile)
			}
			return nil, false, usageError("%v", err)
		}
		names := ia.words
		sub := &system.File{Path: file.Path, Dir: file.Dir, Env: file.Env, Procfile: file.Procfile}
		for _, e := range file.Functions {
			if len(names) > 0 && !slices.Contains(names, e.Name) {
				continue
			}
			if e.Source == "" {
				env.log.Warn("skipped: a command entry has no source to build into an image", "name", e.Name)
				continue
			}
			if len(e.DependsOn) > 0 {
				env.log.Warn("depends_on is left to the engine that runs the images", "name", e.Name)
			}
			ec := *e
			ec.DependsOn, ec.Watch = nil, false
			sub.Functions = append(sub.Functions, &ec)
		}
		for _, n := range names {
			if !slices.ContainsFunc(file.Functions, func(e *system.Entry) bool { return e.Name == n }) {
				return nil, false, usageError("image: no entry %q in %s", n, file.Path)
			}
		}
		if len(sub.Functions) == 0 {
			return nil, false, usageError("image: %s has no source entry to build", file.Path)
		}
		return sub, true, nil
	}
	return env.sourceFile(c, ia)
}

// sourceFile makes a one-entry file of SOURCE [-- ARGS] and the flags,
// checked as `fnrun run` checks them.
func (env *appEnv) sourceFile(c *cli.Context, ia imageArgs) (*system.File, bool, error) {
	if len(ia.words) > 1 {
		return nil, false, usageError("image: one SOURCE, then -- before the program's arguments (got %s)", strings.Join(quoteAll(ia.words[1:]), " "))
	}
	source, err := localSource(c, ia.words[0])
	if err != nil {
		return nil, false, err
	}
	src, err := parseSource(source)
	if err != nil {
		return nil, false, err
	}
	bc, err := buildConfig(c)
	if err != nil {
		return nil, false, err
	}
	e, err := imageEntry(c)
	if err != nil {
		return nil, false, err
	}
	e.Source, e.Args = source, ia.progArgs
	e.Tags, e.Ldflags, e.Race, e.BuildFlags = bc.Tags, bc.Ldflags, bc.Race, bc.Flags
	if e.Name == "" {
		e.Name = sanitizeInstance(sourceName(src))
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, false, withCode(ExitFnrun, err)
	}
	return &system.File{Path: source, Dir: wd, Functions: []*system.Entry{e}}, false, nil
}

// imageEntry reads the supervision flags an image keeps, checked as
// `fnrun run` checks them; only what was given is kept (the rest is
// fnrun exec's default in the image too).
func imageEntry(c *cli.Context) (*system.Entry, error) {
	e := &system.Entry{Name: c.String("name"), MaxRestarts: c.Int("max-restarts"), Listen: c.StringSlice("listen"),
		Backlog: c.Int("backlog"), Proxy: c.StringSlice("proxy"), Replicas: c.Int("replicas")}
	policy := c.String("policy")
	if c.Bool("restart") {
		if c.IsSet("policy") && policy != string(runner.PolicyAlways) {
			return nil, usageError("--restart conflicts with --policy %s", policy)
		}
		policy = string(runner.PolicyAlways)
	}
	p, err := runner.ParsePolicy(policy)
	if err != nil {
		return nil, usageError("--policy: %v", err)
	}
	e.Restart = string(p)
	if e.MaxRestarts < 0 {
		return nil, usageError("--max-restarts must not be negative")
	}
	if e.Replicas < 1 {
		return nil, usageError("--replicas must be at least 1")
	}
	for _, name := range []string{"backoff-initial", "backoff-max", "backoff-reset", "stop-timeout"} {
		if c.Duration(name) < 0 {
			return nil, usageError("--%s must not be negative", name)
		}
	}
	if c.IsSet("stop-timeout") && c.Duration("stop-timeout") == 0 {
		return nil, usageError("--stop-timeout must be positive (for an immediate kill use --stop-signal KILL)")
	}
	if c.Duration("backoff-max") < c.Duration("backoff-initial") {
		return nil, usageError("--backoff-max (%s) is shorter than --backoff-initial (%s)", fmtDuration(c.Duration("backoff-max")), fmtDuration(c.Duration("backoff-initial")))
	}
	if c.IsSet("backoff-initial") {
		e.Backoff.Initial, e.Backoff.InitialSet = c.Duration("backoff-initial"), true
	}
	if c.IsSet("backoff-max") {
		e.Backoff.Max = c.Duration("backoff-max")
	}
	if c.IsSet("backoff-reset") {
		e.Backoff.Reset = c.Duration("backoff-reset")
	}
	if c.IsSet("stop-signal") {
		if _, err := parseSignal(c.String("stop-signal")); err != nil {
			return nil, usageError("--stop-signal: %v", err)
		}
		e.Stop.Signal = c.String("stop-signal")
	}
	if c.IsSet("stop-timeout") {
		e.Stop.Timeout = c.Duration("stop-timeout")
	}
	if strings.ContainsAny(e.Name, "\n\r") {
		return nil, usageError("--name must be one line")
	}
	for _, a := range e.Listen {
		if _, err := listen.Parse(a); err != nil {
			return nil, usageError("--listen %v", err)
		}
	}
	// -e and --env-file: what was given, not fnrun's own environment.
	if f := c.String("env-file"); f != "" {
		lines, err := fn.ReadEnvFile(f)
		if err != nil {
			return nil, usageError("--env-file %v", err)
		}
		e.Env = append(e.Env, lines...)
	}
	for _, kv := range c.StringSlice("env") {
		if err := fn.CheckKV(kv); err != nil {
			return nil, usageError("--env %q: %v", kv, err)
		}
		e.Env = append(e.Env, kv)
	}
	return e, nil
}

// imageArgs are image's words and the output flags, which may come
// after SOURCE too (fnrun image ./fn -o DIR): unlike run, image runs
// nothing, so the program's arguments need a -- before them.
type imageArgs struct {
	out, tar          string
	platforms, fnruns []string
	words             []string // SOURCE, or the entries' names
	progArgs          []string // after --
}

// imageTrailing are the flags read after SOURCE too.
var imageTrailing = map[string]string{"o": "output", "output": "output", "tar": "tar", "platform": "platform", "fnrun": "fnrun"}

func imageArgsOf(c *cli.Context) (imageArgs, error) {
	ia := imageArgs{out: c.String("output"), tar: c.String("tar"), platforms: c.StringSlice("platform"), fnruns: c.StringSlice("fnrun")}
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			ia.progArgs = args[i+1:]
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			ia.words = append(ia.words, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		flag, ok := imageTrailing[name]
		if !ok {
			return ia, usageError("image: flag %s after SOURCE: put fnrun's flags before SOURCE (-o, --tar, --platform and --fnrun may follow it) and the program's arguments after --", a)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return ia, usageError("image: %s needs a value", a)
			}
			i++
			val = args[i]
		}
		switch flag {
		case "output":
			ia.out = val
		case "tar":
			ia.tar = val
		case "platform":
			ia.platforms = append(ia.platforms, val)
		case "fnrun":
			ia.fnruns = append(ia.fnruns, val)
		}
	}
	return ia, nil
}

// imagePlatforms reads --platform (comma-separated or repeated).
func imagePlatforms(vals []string) ([]oci.Platform, error) {
	if len(vals) == 0 {
		vals = []string{DefaultImagePlatform}
	}
	var ps []oci.Platform
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			p, err := oci.ParsePlatform(strings.TrimSpace(s))
			if err != nil {
				return nil, usageError("--platform %v", err)
			}
			if !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		}
	}
	return ps, nil
}

// fnrunBinaries finds the fnrun to put in each platform's image: --fnrun
// PLATFORM=PATH, a bare --fnrun PATH, or, for the host's platform, this
// fnrun when it is statically linked. Each is checked before any build.
func fnrunBinaries(vals []string, platforms []oci.Platform) (map[oci.Platform]string, error) {
	byPlatform, any := map[string]string{}, ""
	for _, v := range vals {
		if k, path, ok := strings.Cut(v, "="); ok && strings.Contains(k, "/") && !strings.ContainsAny(k, ".") {
			p, err := oci.ParsePlatform(k)
			if err != nil {
				return nil, usageError("--fnrun %v", err)
			}
			byPlatform[p.String()] = path
			continue
		}
		any = v
	}
	out := map[oci.Platform]string{}
	for _, p := range platforms {
		how := fmt.Sprintf("build one in a checkout of fnrun with: CGO_ENABLED=0 GOOS=%s GOARCH=%s go build -o fnrun-%s ./cmd/fnrun, then give --fnrun %s=./fnrun-%[3]s",
			p.OS, p.Architecture, p.Architecture, p)
		path, given := byPlatform[p.String()]
		if !given && any != "" {
			path, given = any, true
		}
		if !given {
			if p.OS != runtime.GOOS || p.Architecture != runtime.GOARCH {
				return nil, usageError("image for %s: needs a fnrun built for %s (--fnrun); %s", p, p, how)
			}
			self, err := os.Executable()
			if err != nil {
				return nil, withCode(ExitFnrun, fmt.Errorf("find this fnrun: %w", err))
			}
			if err := oci.CheckExecutable(self, p); err != nil {
				return nil, usageError("image for %s: this fnrun cannot go in it: %v; %s", p, err, how)
			}
			out[p] = self
			continue
		}
		if err := oci.CheckExecutable(path, p); err != nil {
			return nil, usageError("--fnrun %v; %s", err, how)
		}
		out[p] = path
	}
	return out, nil
}

// buildFor builds every entry of file for p with CGO_ENABLED=0. done
// releases the binaries' pins.
func (env *appEnv) buildFor(c *cli.Context, file *system.File, p oci.Platform, cacheDir string) (map[string]string, func(), error) {
	goenv, err := p.GoEnv()
	if err != nil {
		return nil, nil, usageError("--platform %v", err)
	}
	prog := env.progress(c)
	prog.multi = true
	render := env.render(prog)
	opts := system.Options{CacheDir: cacheDir, Update: c.Bool("update"), Logger: env.log,
		BuildEnv: append(append(os.Environ(), "CGO_ENABLED=0"), goenv...),
		OnEvent: func(e system.Event) {
			if e.System == 0 {
				render(e.Event)
			}
		}}
	sys, err := system.New(file, nil, opts)
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	env.log.Info("building for " + p.String())
	bins, done, err := sys.Build(c.Context)
	if err != nil {
		var ee *system.EntryError
		if errors.As(err, &ee) {
			return nil, nil, withCode(ExitFnrun, fmt.Errorf("%s (%s): %w", ee.Entry, p, errorOf(env.verbose, fn.Result{Err: ee.Err})))
		}
		return nil, nil, withCode(ExitFnrun, err)
	}
	return bins, done, nil
}

// imageOf is the image of entry e for p: base, fnrun, the function.
func imageOf(file *system.File, e *system.Entry, p oci.Platform, bin, fnrunBin, ca string, created time.Time) (oci.Image, error) {
	if bin == "" {
		return oci.Image{}, fmt.Errorf("%s: no binary was built", e.Name)
	}
	envv := []string{imagePath, "HOME=" + oci.HomeDir}
	if ca != "" {
		envv = append(envv, "SSL_CERT_FILE="+oci.CACertsPath)
	}
	envv = append(envv, file.Env...)
	if e.EnvFile != "" {
		kvs, err := fn.ReadEnvFile(filepath.Join(file.Dir, e.EnvFile))
		if err != nil {
			return oci.Image{}, fmt.Errorf("%s: env_file: %w", e.Name, err)
		}
		envv = append(envv, kvs...)
	}
	envv = fn.MergeEnv(nil, append(envv, e.Env...))
	fnPath := imageFnDir + "/" + e.Name
	cfg := oci.Config{
		User:       fmt.Sprintf("%d:%d", oci.UserID, oci.UserID),
		Env:        envv,
		Entrypoint: append(append(append([]string{imageFnrunPath}, execArgs(e)...), "--", fnPath), e.Args...),
		WorkingDir: "/",
		Labels:     map[string]string{"org.opencontainers.image.title": e.Name},
	}
	for _, a := range e.Listen {
		if sp, err := listen.Parse(a); err == nil && sp.Network == "tcp" {
			if _, port, err := net.SplitHostPort(sp.Address); err == nil {
				if cfg.ExposedPorts == nil {
					cfg.ExposedPorts = map[string]struct{}{}
				}
				cfg.ExposedPorts[port+"/tcp"] = struct{}{}
			}
		}
	}
	return oci.Image{
		Platform: p,
		Created:  created,
		Config:   cfg,
		Layers: []oci.Layer{
			oci.BaseLayer(ca),
			{CreatedBy: "fnrun image: fnrun", Files: []oci.File{{Path: imageFnrunPath, Mode: 0o755, From: fnrunBin}}},
			{CreatedBy: "fnrun image: " + e.Name, Files: []oci.File{{Path: fnPath, Mode: 0o755, From: bin}}},
		},
	}, nil
}

// execArgs are the `fnrun exec` flags that give the entry's supervision.
func execArgs(e *system.Entry) []string {
	args := []string{"exec"}
	if imageInit {
		args = append(args, "--init")
	}
	add := func(flag, val string) { args = append(args, "--"+flag, val) }
	if e.Restart != "" && e.Restart != "never" {
		add("policy", e.Restart)
	}
	if e.MaxRestarts > 0 {
		add("max-restarts", strconv.Itoa(e.MaxRestarts))
	}
	if e.Backoff.InitialSet {
		add("backoff-initial", e.Backoff.Initial.String())
	}
	if e.Backoff.Max > 0 {
		add("backoff-max", e.Backoff.Max.String())
	}
	if e.Backoff.Reset > 0 {
		add("backoff-reset", e.Backoff.Reset.String())
	}
	if e.Stop.Signal != "" {
		add("stop-signal", e.Stop.Signal)
	}
	if e.Stop.Timeout > 0 {
		add("stop-timeout", e.Stop.Timeout.String())
	}
	for _, l := range e.Listen {
		add("listen", l)
	}
	if e.Backlog > 0 {
		add("backlog", strconv.Itoa(e.Backlog))
	}
	for _, p := range e.Proxy {
		add("proxy", p)
	}
	if e.Replicas > 1 {
		add("replicas", strconv.Itoa(e.Replicas))
	}
	return append(args, "--name", e.Name)
}

// writeImageTar writes the tar to a temporary file beside path and
// renames it into place.
func writeImageTar(path string, images []oci.Image) (string, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // nothing there after the rename
	d, err := oci.WriteTar(f, dir, images)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return d, nil
}
