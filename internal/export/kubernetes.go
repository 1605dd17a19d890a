package export

/*
Kubernetes manifests for a system file.

Each entry is one file, NAME.yaml: a Deployment NAME (a Job for restart:
never, which fnrun runs once), plus a ClusterIP Service NAME when it has TCP
listen: addresses. The container runs the image that holds fnrun at
/usr/local/bin/fnrun and the entry's binary at /fn/NAME, and its command is
`fnrun exec --init` with the entry's supervision flags: fnrun is the
container's process 1 and restarts the program inside the container, so a
function that exits after every request is restarted by fnrun and never
sent into CrashLoopBackOff by the kubelet.

Built with k8s.io/api types, without linking them. Linking k8s.io/api,
apimachinery and sigs.k8s.io/yaml would add about 2 ms to every start of
fnrun (package maps and scheme registration at init) and 11 MB to the
binary. So the objects are fnrun's own small structs below, holding only
the fields fnrun writes, with the JSON names of the Kubernetes API; they are
marshalled with encoding/json and written out as block YAML by a small
emitter (kubeYAML). kubernetes_test.go decodes every document strictly
(sigs.k8s.io/yaml.UnmarshalStrict) into the k8s.io/api type of its kind, so
a misspelt or misplaced field fails the tests: that is what keeps these
structs honest. A field added here must be covered by a test document.

Choices where the cluster can only come close to fnrun (each also a
"# fnrun:" comment at the top of the file, and a warning):

  - Kubernetes starts every pod at once. A dependency with a Service (a
    TCP listen: address) becomes an init container wait-DEP that runs
    `fnrun wait --tcp DEP:PORT` from the pod's own image, so the program
    starts once the Service accepts: once a pod of DEP is running and
    passes its readiness probe, as the Service forwards only to ready
    pods. That is not fnrun's ready check (ready.log is not probed, and
    the kubelet, not fnrun, runs ready.url), and nothing waits for a
    dependency without a Service or for a `completed` one.
  - The kubelet probes the pod's address: ready: checks on 127.0.0.1 reach
    only a program that listens on all addresses, and listen: addresses on
    a host are rewritten to :PORT so that the Service reaches them.
  - A Deployment's pods always restart: when fnrun exits (on-failure after
    an exit 0, max_restarts reached) the kubelet starts it again.
  - The image has no file tree of the project: a relative dir or command
    path, and env_file, cannot be carried over.
  - Kubernetes expands $(VAR) in command, args and env values: every $ is
    written as $$ so that the program gets the text as fnrun gives it.
*/

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/listen"
	"github.com/fnrun/fnrun/internal/system"
	"github.com/fnrun/fnrun/runner"
)

// KubernetesOptions say which image runs the entries and where.
type KubernetesOptions struct {
	// Image is the reference of the image that holds fnrun at
	// /usr/local/bin/fnrun and a source entry's binary at /fn/NAME, as
	// `fnrun image` writes it, pushed where the cluster pulls from. Each
	// {name} in it is replaced by the entry's name: `fnrun image -f` writes
	// one image per entry (registry.example/fn/{name}:v1). Required unless
	// Images names every entry.
	Image string
	// Namespace is every object's metadata.namespace; "" leaves it to
	// kubectl's context.
	Namespace string
	// Images overrides Image for the entries it names.
	Images map[string]string
}

// Manifest is one rendered file: an entry's objects as a YAML stream.
type Manifest struct {
	Name  string   // its file name, NAME.yaml
	Kinds []string // the kinds of its documents, in order: Deployment (or Job), Service
	Text  string
}

// Paths in the image `fnrun image` lays out, and the pod's identity.
const (
	KubeFnrunPath = "/usr/local/bin/fnrun"
	KubeBinDir    = "/fn"
	KubeUser      = 65532 // distroless "nonroot"
	KubeTmp       = "/tmp"
	KubeImageName = "{name}" // replaced by the entry's name in KubernetesOptions.Image
)

// KubeGraceMargin is added to an entry's stop timeout to make the pod's
// terminationGracePeriodSeconds: fnrun stops the program gracefully before
// the kubelet kills fnrun.
const KubeGraceMargin = 5 * time.Second

// DefaultKubeWaitTimeout is how long a wait-DEP init container waits for
// its dependency's Service when the dependency has no ready.timeout; then
// it fails, and the kubelet starts it again (a Job's pod fails).
const DefaultKubeWaitTimeout = 5 * time.Minute

// kubeProbePeriod is periodSeconds of the probes; a startup probe is added
// when ready.timeout is longer than kubeStartupAfter (fnrun's default).
const (
	kubeProbePeriod  = 5 * time.Second
	kubeStartupAfter = fn.DefaultReadyTimeout
)

// Labels every object carries.
const (
	labelName      = "app.kubernetes.io/name"
	labelPartOf    = "app.kubernetes.io/part-of"
	labelManagedBy = "app.kubernetes.io/managed-by"
)

// Kubernetes renders the manifests of f: one per entry, in file order.
// warnings are "NAME: message" lines, one per behaviour of fnrun's that the
// cluster does not have. An error is a mistake in o, a name Kubernetes
// refuses, or a mistake in f that system.Load would have refused.
func Kubernetes(f *system.File, o KubernetesOptions) (files []Manifest, warnings []string, err error) {
	k := &kube{f: f, o: o, byName: map[string]*system.Entry{}, ports: map[string][]kubePort{}}
	if o.Namespace != "" && !dns1123Label(o.Namespace) {
		return nil, nil, fmt.Errorf("namespace %q: %s", o.Namespace, dns1123Rule)
	}
	for _, e := range f.Functions {
		k.byName[e.Name] = e
		if e.Source != "" {
			k.sources++
		}
		if !dns1123Label(e.Name) {
			return nil, nil, fmt.Errorf("%s: not a Kubernetes name: %s", e.Name, dns1123Rule)
		}
		if o.Images[e.Name] == "" && o.Image == "" {
			return nil, nil, fmt.Errorf("%s: no image (give one for all entries, or one for %s)", e.Name, e.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o.Images)) {
		if k.byName[name] == nil {
			return nil, nil, fmt.Errorf("images: no function %q in %s", name, f.Path)
		}
	}
	k.partOf = labelValue(path.Base(strings.ReplaceAll(f.Dir, `\`, "/")))
	// Ports first: a dependant names its dependency's Service port.
	for _, e := range f.Functions {
		ke := &kubeEntry{kube: k, e: e}
		if k.ports[e.Name], ke.listenFlags, err = ke.listens(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		k.entries = append(k.entries, ke)
	}
	for i, ke := range k.entries {
		m, err := ke.render(i)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", ke.e.Name, err)
		}
		files = append(files, m)
		warnings = append(warnings, ke.warns...)
	}
	return files, warnings, nil
}

// kube holds what every entry's manifest needs.
type kube struct {
	f       *system.File
	o       KubernetesOptions
	partOf  string
	byName  map[string]*system.Entry
	ports   map[string][]kubePort // by entry: its Service ports
	entries []*kubeEntry
	sources int // source entries
}

// kubeEntry is one entry being rendered.
type kubeEntry struct {
	*kube
	e           *system.Entry
	listenFlags []string // --listen values, rewritten for the pod
	program     []string // what fnrun exec runs: /fn/NAME, or the command
	notes       []string // the file's "# fnrun:" lines
	warns       []string // "NAME: message"
}

// kubePort is a TCP listen: address, a container and a Service port.
type kubePort struct {
	Name string
	Port int
}

// warn says msg in the file and as a warning.
func (k *kubeEntry) warn(format string, args ...any) {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", `\n`)
	k.notes = append(k.notes, msg)
	k.warns = append(k.warns, k.e.Name+": "+msg)
}

// note says msg in the file only.
func (k *kubeEntry) note(format string, args ...any) {
	k.notes = append(k.notes, strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", `\n`))
}

func (k *kubeEntry) render(i int) (Manifest, error) {
	e := k.e
	labels := map[string]string{labelName: e.Name, labelManagedBy: "fnrun"}
	if k.partOf != "" {
		labels[labelPartOf] = k.partOf
	}
	c, err := k.container()
	if err != nil {
		return Manifest{}, err
	}
	k.environment(i, &c)
	if c.ReadinessProbe, c.StartupProbe, err = k.probes(); err != nil {
		return Manifest{}, err
	}
	grace, err := k.stopFlags(&c)
	if err != nil {
		return Manifest{}, err
	}
	inits := k.dependencies(c)
	k.unsupported()

	pod := kubePodTemplate{Metadata: kubeLabels{Labels: labels}, Spec: kubePodSpec{
		TerminationGracePeriodSeconds: grace,
		SecurityContext: kubePodSecurity{RunAsNonRoot: true, RunAsUser: KubeUser, RunAsGroup: KubeUser,
			SeccompProfile: kubeSeccomp{Type: "RuntimeDefault"}},
		InitContainers: inits,
		Containers:     []kubeContainer{c},
		Volumes:        []kubeVolume{{Name: "tmp", EmptyDir: &struct{}{}}},
	}}
	replicas := max(e.Replicas, 1)
	meta := kubeMeta{Name: e.Name, Namespace: k.o.Namespace, Labels: labels}
	var docs []any
	kinds := []string{"Deployment"}
	if restartPolicy(e) == runner.PolicyNever {
		k.note("restart: never: a Job, run once as fnrun does (backoffLimit 0, %d completion(s))", replicas)
		kinds[0] = "Job"
		pod.Spec.RestartPolicy = "Never"
		docs = append(docs, kubeJob{APIVersion: "batch/v1", Kind: "Job", Metadata: meta,
			Spec: kubeJobSpec{Parallelism: replicas, Completions: replicas, Template: pod}})
	} else {
		docs = append(docs, kubeDeployment{APIVersion: "apps/v1", Kind: "Deployment", Metadata: meta,
			Spec: kubeDeploymentSpec{Replicas: replicas, Selector: kubeSelector{MatchLabels: map[string]string{labelName: e.Name}}, Template: pod}})
	}
	if ports := k.ports[e.Name]; len(ports) > 0 {
		if e.Name[0] >= '0' && e.Name[0] <= '9' {
			return Manifest{}, fmt.Errorf("a Service name must start with a letter (it has listen: addresses)")
		}
		svc := kubeService{APIVersion: "v1", Kind: "Service", Metadata: meta,
			Spec: kubeServiceSpec{Type: "ClusterIP", Selector: map[string]string{labelName: e.Name}}}
		for _, p := range ports {
			svc.Spec.Ports = append(svc.Spec.Ports, kubeServicePort{Name: p.Name, Port: p.Port, TargetPort: p.Name})
		}
		docs = append(docs, svc)
		kinds = append(kinds, "Service")
	}

	var b strings.Builder
	b.WriteString(notePrefix + e.Name + ", from " + k.f.Path + " (generated: edit the system file, not this)\n")
	for _, n := range k.notes {
		b.WriteString(notePrefix + n + "\n")
	}
	for _, d := range docs {
		text, err := kubeYAML(d)
		if err != nil {
			return Manifest{}, err
		}
		b.WriteString("---\n" + text)
	}
	return Manifest{Name: e.Name + ".yaml", Kinds: kinds, Text: b.String()}, nil
}

// container is the fnrun exec container: image, command, ports, mounts.
func (k *kubeEntry) container() (kubeContainer, error) {
	e := k.e
	img := strings.ReplaceAll(k.o.Image, KubeImageName, e.Name)
	if v := k.o.Images[e.Name]; v != "" {
		img = v
	} else if e.Source != "" && img == k.o.Image && k.sources > 1 {
		k.warn("image %s is every source entry's: it must hold /fn/%s (`fnrun image -f` writes one image per entry: write %s in the image)", img, e.Name, KubeImageName)
	}
	c := kubeContainer{Name: e.Name, Image: img,
		SecurityContext: kubeContainerSecurity{ReadOnlyRootFilesystem: true, Capabilities: kubeCapabilities{Drop: []string{"ALL"}}},
		VolumeMounts:    []kubeVolumeMount{{Name: "tmp", MountPath: KubeTmp}},
	}
	argv := []string{KubeFnrunPath, "exec", "--init", "--policy", string(restartPolicy(e))}
	if e.MaxRestarts > 0 {
		argv = append(argv, "--max-restarts", strconv.Itoa(e.MaxRestarts))
	}
	if b := e.Backoff; b.InitialSet || b.Initial != 0 {
		argv = append(argv, "--backoff-initial", b.Initial.String())
	}
	if d := e.Backoff.Max; d != 0 {
		argv = append(argv, "--backoff-max", d.String())
	}
	if d := e.Backoff.Reset; d != 0 {
		argv = append(argv, "--backoff-reset", d.String())
	}
	for _, l := range k.listenFlags {
		argv = append(argv, "--listen", l)
	}
	if e.Backlog > 0 {
		argv = append(argv, "--backlog", strconv.Itoa(e.Backlog))
	}
	c.Command = argv // the stop flags and the program follow (stopFlags)
	switch {
	case e.Source != "":
		k.program = []string{KubeBinDir + "/" + e.Name}
	case len(e.Command) == 0:
		return c, errors.New("no command")
	default:
		prog := e.Command[0]
		switch {
		case strings.HasPrefix(prog, "/"):
			k.warn("command %s: runs only if the image holds it (fnrun's image holds fnrun and the built functions)", prog)
		case strings.Contains(prog, "/"):
			k.warn("command %s: a path relative to the system file, which the image does not hold: give an absolute path in the image", prog)
		default:
			k.warn("command %s: runs only if the image holds it in PATH (fnrun's image holds fnrun and the built functions)", prog)
		}
		if k.f.Procfile && strings.Contains(strings.Join(e.Command, " "), "$") {
			k.warn("$NAME in the command: fnrun expands it from the environment; the container passes it literally")
		}
		k.program = e.Command
	}
	c.Args = kubeEscapeAll(e.Args)
	for _, p := range k.ports[e.Name] {
		c.Ports = append(c.Ports, kubeContainerPort{Name: p.Name, ContainerPort: p.Port})
	}
	if e.Dir != "" {
		if strings.HasPrefix(e.Dir, "/") {
			c.WorkingDir = path.Clean(e.Dir)
		} else {
			k.warn("dir %s: relative to the system file, which the image does not hold: the image's working directory is used", e.Dir)
		}
	}
	return c, nil
}

// stopFlags ends the command with the stop flags and the program, and
// returns terminationGracePeriodSeconds.
func (k *kubeEntry) stopFlags(c *kubeContainer) (int64, error) {
	e := k.e
	if e.Stop.Signal != "" {
		if _, err := runner.ParseSignal(e.Stop.Signal); err != nil {
			return 0, fmt.Errorf("stop.signal: %w", err)
		}
		c.Command = append(c.Command, "--stop-signal", e.Stop.Signal)
	}
	timeout := e.Stop.Timeout
	if timeout <= 0 {
		timeout = runner.DefaultStopTimeout
	}
	c.Command = append(c.Command, "--stop-timeout", timeout.String(), "--")
	c.Command = kubeEscapeAll(append(c.Command, k.program...))
	k.note("terminationGracePeriodSeconds: the stop timeout %s and %s for fnrun to stop %s before the kubelet kills fnrun", timeout, KubeGraceMargin, e.Name)
	return int64(ceilSeconds(timeout + KubeGraceMargin)), nil
}

// environment writes fnrun's writable directories, then the file's env, a
// Procfile's PORT, the entry's env; a later value of a name replaces an
// earlier one in place.
func (k *kubeEntry) environment(i int, c *kubeContainer) {
	e := k.e
	env := []string{"HOME=" + KubeTmp, "XDG_RUNTIME_DIR=" + KubeTmp, "FNRUN_CACHE_DIR=" + KubeTmp + "/fnrun-cache"}
	env = append(env, k.f.Env...)
	if k.f.Procfile {
		env = append(env, "PORT="+strconv.Itoa(system.DefaultPortBase+100*i))
	}
	env = append(env, e.Env...)
	at := map[string]int{}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		v := kubeEnv{Name: name, Value: kubeEscape(value)}
		if j, ok := at[name]; ok {
			c.Env[j] = v
			continue
		}
		at[name] = len(c.Env)
		c.Env = append(c.Env, v)
	}
	if e.EnvFile != "" {
		k.warn("env_file %s: not carried over (no ConfigMap or Secret is generated): add its variables to env, or an envFrom of your own", e.EnvFile)
	}
}

// probes maps ready: to a readiness probe, and a startup probe when
// ready.timeout is longer than fnrun's default.
func (k *kubeEntry) probes() (ready, startup *kubeProbe, err error) {
	r := k.e.Ready
	if r.Log != "" {
		k.warn("ready.log %q: the kubelet cannot match output: no probe checks it", r.Log)
	}
	var p kubeProbe
	var port int
	switch {
	case r.URL != "":
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, nil, fmt.Errorf("ready.url %q: want an http:// or https:// URL", r.URL)
		}
		port, err = kubeURLPort(u)
		if err != nil {
			return nil, nil, fmt.Errorf("ready.url %q: %w", r.URL, err)
		}
		p.HTTPGet = &kubeHTTPGet{Path: u.RequestURI(), Port: port, Host: k.probeHost("ready.url", u.Hostname(), port)}
		if u.Scheme == "https" {
			p.HTTPGet.Scheme = "HTTPS"
		}
		if r.TCP != "" {
			k.warn("ready.tcp %q: a probe has one check: only ready.url is probed", r.TCP)
		}
	case r.TCP != "":
		host, ps, err := net.SplitHostPort(r.TCP)
		if port, err = kubePortNumber(ps, err); err != nil {
			return nil, nil, fmt.Errorf("ready.tcp %q: %w", r.TCP, err)
		}
		p.TCPSocket = &kubeTCPSocket{Port: port, Host: k.probeHost("ready.tcp", host, port)}
	default:
		return nil, nil, nil
	}
	p.PeriodSeconds = ceilSeconds(kubeProbePeriod)
	ready = &p
	if r.Timeout > kubeStartupAfter {
		s := p
		s.FailureThreshold = ceilSeconds(r.Timeout) / p.PeriodSeconds
		if ceilSeconds(r.Timeout)%p.PeriodSeconds != 0 {
			s.FailureThreshold++
		}
		k.note("ready.timeout %s: a startup probe; when it fails the kubelet restarts the container, where fnrun only reports it", r.Timeout)
		startup = &s
	}
	return ready, startup, nil
}

// probeHost is the host a probe names: none (the pod's address) for a
// local one; the kubelet cannot reach a pod's loopback.
func (k *kubeEntry) probeHost(what, host string, port int) string {
	switch host {
	case "", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::":
		for _, p := range k.ports[k.e.Name] {
			if p.Port == port {
				return "" // a listen: address, rewritten to all addresses
			}
		}
		if host != "" && host != "0.0.0.0" && host != "::" {
			k.warn("%s: the kubelet probes the pod's address, not %s: %s must listen on all addresses (:%d), or it never becomes ready", what, host, k.e.Name, port)
		}
		return ""
	}
	k.warn("%s: the kubelet probes %s from the node, not from the pod (a cluster DNS name does not resolve there)", what, host)
	return host
}

// listens parses listen:, returns the Service ports of its TCP addresses
// and the --listen values for the container: a TCP address on a host is
// rewritten to :PORT, all addresses, as nothing outside the pod reaches
// its loopback.
func (k *kubeEntry) listens() (ports []kubePort, flags []string, err error) {
	taken := map[string]bool{}
	for i, a := range k.e.Listen {
		sp, err := listen.Parse(a)
		if err != nil {
			return nil, nil, fmt.Errorf("listen: %w", err)
		}
		if sp.Network != "tcp" {
			k.warn("listen %s: a unix socket inside the container: no port, no Service", sp)
			if !strings.HasPrefix(sp.Address, KubeTmp+"/") {
				k.warn("listen %s: the root file system is read-only: put the socket under %s", sp, KubeTmp)
			}
			flags = append(flags, a)
			continue
		}
		host, ps, err := net.SplitHostPort(sp.Address)
		port, err := kubePortNumber(ps, err)
		if err != nil {
			if ps == "0" {
				k.warn("listen %s: port 0, chosen when fnrun starts: no Service port", sp)
				flags = append(flags, a)
				continue
			}
			return nil, nil, fmt.Errorf("listen %s: %w", sp, err)
		}
		if host != "" && host != "0.0.0.0" && host != "::" {
			k.warn("listen %s: written as :%d: a Service reaches the pod's addresses, not %s", sp, port, host)
			sp.Address = ":" + ps
		}
		flags = append(flags, sp.String())
		name := kubePortName(sp.Name, i+1, taken)
		taken[name] = true
		ports = append(ports, kubePort{Name: name, Port: port})
	}
	return ports, flags, nil
}

// dependencies returns an init container wait-DEP for each dependency
// with a Service, in main's image and with its securityContext, and warns
// of what they do not wait for.
func (k *kubeEntry) dependencies(main kubeContainer) []kubeContainer {
	var inits []kubeContainer
	taken := map[string]bool{main.Name: true}
	for i, d := range k.e.DependsOn {
		ports := k.ports[d.Name]
		if d.Condition == system.CondCompleted {
			k.warn("depends_on %s: completed: no init container can wait for %s to exit 0: Kubernetes starts %s at once (make it wait, or apply %s first and wait with kubectl wait --for=condition=complete)",
				d.Name, d.Name, k.e.Name, d.Name)
			continue
		}
		if len(ports) == 0 {
			k.warn("depends_on %s: %s: %s has no listen: address, so no Service for an init container to wait for: Kubernetes starts %s at once, and it must retry until %s answers (at its pod's address)",
				d.Name, d.Condition, d.Name, k.e.Name, d.Name)
			continue
		}
		dep := k.byName[d.Name]
		port := kubeWaitPort(dep.Ready, ports)
		addr := d.Name + ":" + strconv.Itoa(port)
		timeout := dep.Ready.Timeout
		if timeout <= 0 {
			timeout = DefaultKubeWaitTimeout
		}
		name := "wait-" + d.Name
		if taken[name] || !dns1123Label(name) {
			name = "wait-" + strconv.Itoa(i+1)
			for n := len(k.e.DependsOn) + 1; taken[name]; n++ {
				name = "wait-" + strconv.Itoa(n)
			}
		}
		taken[name] = true
		inits = append(inits, kubeContainer{Name: name, Image: main.Image,
			Command:         []string{KubeFnrunPath, "wait", "--tcp", addr, "--timeout", timeout.String()},
			SecurityContext: main.SecurityContext})
		k.note("depends_on %s: %s: init container %s waits up to %s until the Service %s accepts (once a %s pod is ready); reach %s there, not at 127.0.0.1",
			d.Name, d.Condition, name, timeout, addr, d.Name, d.Name)
		if why := kubeBeyondPort(dep.Ready, port); d.Condition == system.CondReady && why != "" {
			k.warn("depends_on %s: ready: init container %s waits until %s accepts, not for fnrun's ready check (%s)", d.Name, name, addr, why)
		}
		k.loopbackRefs(d.Name, ports)
	}
	return inits
}

// kubeWaitPort is the Service port a dependant waits for: the one r.TCP
// checks, else the first.
func kubeWaitPort(r system.Ready, ports []kubePort) int {
	if _, ps, err := net.SplitHostPort(r.TCP); err == nil {
		for _, p := range ports {
			if strconv.Itoa(p.Port) == ps {
				return p.Port
			}
		}
	}
	return ports[0].Port
}

// kubeBeyondPort says what r checks beyond "port accepts", or "".
func kubeBeyondPort(r system.Ready, port int) string {
	var more []string
	_, ps, err := net.SplitHostPort(r.TCP)
	switch {
	case r.URL != "":
		more = append(more, "the Service accepts once a pod passes its readinessProbe, ready.url, run by the kubelet")
	case r.TCP != "" && (err != nil || ps != strconv.Itoa(port)):
		more = append(more, "the Service accepts once a pod passes its readinessProbe, ready.tcp on another port")
	}
	if r.Log != "" {
		more = append(more, "ready.log is not checked")
	}
	return strings.Join(more, "; ")
}

// loopbackRefs warns when the entry's args or env name a loopback address
// on one of dep's Service ports: in the cluster dep is another pod.
func (k *kubeEntry) loopbackRefs(dep string, ports []kubePort) {
	texts := slices.Concat(k.e.Command, k.e.Args, k.f.Env, k.e.Env)
	for _, p := range ports {
		for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
			loop := host + ":" + strconv.Itoa(p.Port)
			if slices.ContainsFunc(texts, func(s string) bool { return kubeHasAddr(s, loop) }) {
				k.warn("%s in args or env: %s is not in this pod: use %s:%d, its Service", loop, dep, dep, p.Port)
			}
		}
	}
}

// kubeHasAddr reports whether s holds addr not followed by another digit.
func kubeHasAddr(s, addr string) bool {
	for {
		i := strings.Index(s, addr)
		if i < 0 {
			return false
		}
		s = s[i+len(addr):]
		if s == "" || s[0] < '0' || s[0] > '9' {
			return true
		}
	}
}

// unsupported warns of what fnrun does for e that the manifests do not.
func (k *kubeEntry) unsupported() {
	e := k.e
	switch restartPolicy(e) {
	case runner.PolicyOnFailure:
		k.warn("restart: on-failure: after an exit 0 fnrun exits, and the kubelet starts the container again (a Deployment's pods always restart)")
	case runner.PolicyNever:
		if e.MaxRestarts > 0 {
			k.warn("max_restarts %d: no effect with restart: never", e.MaxRestarts)
		}
	}
	if e.MaxRestarts > 0 && restartPolicy(e) != runner.PolicyNever {
		k.warn("max_restarts %d: when fnrun gives up it exits, and the kubelet starts it again with a fresh count", e.MaxRestarts)
	}
	for _, p := range e.Proxy {
		k.warn("proxy %q: not generated: fnrun forwards the public address to the program; run a proxy of your own", p)
	}
	if e.OnFailure == "stop-all" {
		k.warn("on_failure: stop-all: fnrun stops the whole system when %s fails; Kubernetes restarts only %s", e.Name, e.Name)
	}
	if e.RestartDependants {
		k.warn("restart_dependants: fnrun restarts the entries that depend on %s when it restarts; Kubernetes does not", e.Name)
	}
	if e.Watch {
		k.warn("watch: ignored: the image holds built binaries")
	}
}

// kubeURLPort is u's port, or its scheme's.
func kubeURLPort(u *url.URL) (int, error) {
	if u.Port() == "" {
		if u.Scheme == "https" {
			return 443, nil
		}
		return 80, nil
	}
	return kubePortNumber(u.Port(), nil)
}

// kubePortNumber reads a port 1-65535 from SplitHostPort's results.
func kubePortNumber(port string, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q (want 1-65535)", port)
	}
	return n, nil
}

// kubePortName is the name of the n'th listen: address: its listener name
// when that is a valid port name not yet taken, else listen-N.
func kubePortName(listener string, n int, taken map[string]bool) string {
	if kubeValidPortName(listener) && !taken[listener] {
		return listener
	}
	for ; ; n++ {
		if name := "listen-" + strconv.Itoa(n); !taken[name] {
			return name
		}
	}
}

// kubeValidPortName reports whether s is an IANA service name, which a
// port's name must be: 1-15 of a-z, 0-9 and '-', a letter among them, no
// '-' at either end or twice in a row.
func kubeValidPortName(s string) bool {
	if s == "" || len(s) > 15 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			letter = true
		case '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return letter
}

const dns1123Rule = "want a DNS-1123 label: 1-63 of a-z, 0-9 and '-', starting and ending with a letter or digit"

// dns1123Label reports whether s is a DNS-1123 label.
func dns1123Label(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// labelValue makes s a label value: 63 at most of letters, digits, '-',
// '_' and '.', starting and ending with a letter or digit; others become
// '-'. "" when nothing is left.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }
	start, end := 0, len(b)
	for start < end && !alnum(b[start]) {
		start++
	}
	for end > start && !alnum(b[end-1]) {
		end--
	}
	return string(b[start:end])
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// kubeEscape writes s so that Kubernetes' $(VAR) expansion gives s back.
func kubeEscape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func kubeEscapeAll(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = kubeEscape(s)
	}
	return out
}

// The objects, with the field names of k8s.io/api (checked by the tests).
type (
	kubeMeta struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace,omitempty"`
		Labels    map[string]string `json:"labels,omitempty"`
	}
	kubeLabels struct {
		Labels map[string]string `json:"labels"`
	}
	kubeDeployment struct {
		APIVersion string             `json:"apiVersion"`
		Kind       string             `json:"kind"`
		Metadata   kubeMeta           `json:"metadata"`
		Spec       kubeDeploymentSpec `json:"spec"`
	}
	kubeDeploymentSpec struct {
		Replicas int             `json:"replicas"`
		Selector kubeSelector    `json:"selector"`
		Template kubePodTemplate `json:"template"`
	}
	kubeSelector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	}
	kubeJob struct {
		APIVersion string      `json:"apiVersion"`
		Kind       string      `json:"kind"`
		Metadata   kubeMeta    `json:"metadata"`
		Spec       kubeJobSpec `json:"spec"`
	}
	kubeJobSpec struct {
		Parallelism  int             `json:"parallelism"`
		Completions  int             `json:"completions"`
		BackoffLimit int             `json:"backoffLimit"` // 0: run once, as fnrun
		Template     kubePodTemplate `json:"template"`
	}
	kubePodTemplate struct {
		Metadata kubeLabels  `json:"metadata"`
		Spec     kubePodSpec `json:"spec"`
	}
	kubePodSpec struct {
		AutomountServiceAccountToken  bool            `json:"automountServiceAccountToken"` // false: no API token in the pod
		RestartPolicy                 string          `json:"restartPolicy,omitempty"`
		TerminationGracePeriodSeconds int64           `json:"terminationGracePeriodSeconds"`
		SecurityContext               kubePodSecurity `json:"securityContext"`
		InitContainers                []kubeContainer `json:"initContainers,omitempty"`
		Containers                    []kubeContainer `json:"containers"`
		Volumes                       []kubeVolume    `json:"volumes,omitempty"`
	}
	kubePodSecurity struct {
		RunAsNonRoot   bool        `json:"runAsNonRoot"`
		RunAsUser      int64       `json:"runAsUser"`
		RunAsGroup     int64       `json:"runAsGroup"`
		SeccompProfile kubeSeccomp `json:"seccompProfile"`
	}
	kubeSeccomp struct {
		Type string `json:"type"`
	}
	kubeVolume struct {
		Name     string    `json:"name"`
		EmptyDir *struct{} `json:"emptyDir,omitempty"`
	}
	kubeContainer struct {
		Name            string                `json:"name"`
		Image           string                `json:"image"`
		Command         []string              `json:"command"`
		Args            []string              `json:"args,omitempty"`
		WorkingDir      string                `json:"workingDir,omitempty"`
		Ports           []kubeContainerPort   `json:"ports,omitempty"`
		Env             []kubeEnv             `json:"env,omitempty"`
		ReadinessProbe  *kubeProbe            `json:"readinessProbe,omitempty"`
		StartupProbe    *kubeProbe            `json:"startupProbe,omitempty"`
		SecurityContext kubeContainerSecurity `json:"securityContext"`
		VolumeMounts    []kubeVolumeMount     `json:"volumeMounts,omitempty"`
	}
	kubeContainerPort struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	}
	kubeEnv struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	kubeProbe struct {
		HTTPGet          *kubeHTTPGet   `json:"httpGet,omitempty"`
		TCPSocket        *kubeTCPSocket `json:"tcpSocket,omitempty"`
		PeriodSeconds    int            `json:"periodSeconds,omitempty"`
		FailureThreshold int            `json:"failureThreshold,omitempty"`
	}
	kubeHTTPGet struct {
		Host   string `json:"host,omitempty"`
		Path   string `json:"path"`
		Port   int    `json:"port"`
		Scheme string `json:"scheme,omitempty"`
	}
	kubeTCPSocket struct {
		Host string `json:"host,omitempty"`
		Port int    `json:"port"`
	}
	kubeContainerSecurity struct {
		ReadOnlyRootFilesystem   bool             `json:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation bool             `json:"allowPrivilegeEscalation"`
		Capabilities             kubeCapabilities `json:"capabilities"`
	}
	kubeCapabilities struct {
		Drop []string `json:"drop"`
	}
	kubeVolumeMount struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	}
	kubeService struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   kubeMeta        `json:"metadata"`
		Spec       kubeServiceSpec `json:"spec"`
	}
	kubeServiceSpec struct {
		Type     string            `json:"type"`
		Selector map[string]string `json:"selector"`
		Ports    []kubeServicePort `json:"ports"`
	}
	kubeServicePort struct {
		Name       string `json:"name"`
		Port       int    `json:"port"`
		TargetPort string `json:"targetPort"` // the container port's name
	}
)

/*
The YAML emitter: v is marshalled to JSON (struct fields in declaration
order, map keys sorted), read back as an ordered tree, and written as block
YAML in kubectl's layout (a list under a key is not indented). A string is
written plain only when YAML reads it back as that string (letters, digits,
'.', '_', '/', '-', ':', starting with a letter or '/' after at most two
'-', and not a word YAML 1.1 reads as a bool or null); otherwise as a JSON
string, which is a valid YAML double-quoted scalar.
*/

// ynode is a JSON value: a map (keys, vals), a list (vals) or a scalar,
// already written as YAML.
type ynode struct {
	isMap, isList bool
	keys          []string
	vals          []*ynode
	scalar        string
}

// kubeYAML writes v as a YAML document.
func kubeYAML(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("yaml: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readYNode(dec)
	if err != nil {
		return "", fmt.Errorf("yaml: %w", err)
	}
	var b strings.Builder
	if n.isMap || n.isList {
		n.write(&b, "")
	} else {
		b.WriteString(n.scalar + "\n")
	}
	return b.String(), nil
}

func readYNode(dec *json.Decoder) (*ynode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &ynode{isMap: t == '{', isList: t == '['}
		for dec.More() {
			if n.isMap {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, yamlString(kt.(string)))
			}
			v, err := readYNode(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &ynode{scalar: yamlString(t)}, nil
	case json.Number:
		return &ynode{scalar: t.String()}, nil
	case bool:
		return &ynode{scalar: strconv.FormatBool(t)}, nil
	default:
		return &ynode{scalar: "null"}, nil
	}
}

// inline is how n is written after "key: " or "- ", or "" when it takes
// lines of its own.
func (n *ynode) inline() string {
	switch {
	case n.isMap && len(n.vals) == 0:
		return "{}"
	case n.isList && len(n.vals) == 0:
		return "[]"
	case n.isMap || n.isList:
		return ""
	}
	return n.scalar
}

// write writes a non-empty map or list, each line starting with indent.
func (n *ynode) write(b *strings.Builder, indent string) {
	for i, v := range n.vals {
		if n.isMap {
			b.WriteString(indent + n.keys[i] + ":")
			switch s := v.inline(); {
			case s != "":
				b.WriteString(" " + s + "\n")
			case v.isMap:
				b.WriteString("\n")
				v.write(b, indent+"  ")
			default:
				b.WriteString("\n")
				v.write(b, indent)
			}
			continue
		}
		if s := v.inline(); s != "" {
			b.WriteString(indent + "- " + s + "\n")
			continue
		}
		var sub strings.Builder
		v.write(&sub, indent+"  ")
		b.WriteString(indent + "- " + sub.String()[len(indent)+2:])
	}
}

// yamlString writes s as a YAML scalar that reads back as the string s.
func yamlString(s string) string {
	// A flag (--policy, -port) is plain too: a '-' before a letter or a
	// '-' cannot start a number or a sequence entry; a ':' inside is not a
	// key's end when no space follows, and after a letter no number.
	start := strings.IndexFunc(s, func(r rune) bool { return r != '-' })
	plain := start >= 0 && (start == 0 || start <= 2 && s[1] != ' ')
	for i := max(start, 0); i < len(s) && plain; i++ {
		c := s[i]
		plain = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' ||
			i > start && ('0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':' && i < len(s)-1)
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		plain = false
	}
	if plain {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
