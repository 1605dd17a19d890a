package export

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/fnrun/fnrun/internal/system"
)

// The manifests are built from fnrun's own structs (see kubernetes.go);
// these tests are what ties them to the Kubernetes API: every document is
// decoded strictly into the k8s.io/api type of its kind.

const testImage = "registry.example.com/fnrun/example:v1"

// kubeObjects is one manifest decoded: its workload and its Service.
type kubeObjects struct {
	deploy  *appsv1.Deployment
	job     *batchv1.Job
	service *corev1.Service
	text    string
}

// pod is the workload's pod template.
func (o kubeObjects) pod() corev1.PodTemplateSpec {
	if o.job != nil {
		return o.job.Spec.Template
	}
	return o.deploy.Spec.Template
}

// renderKube loads file and renders it with testImage.
func renderKube(t *testing.T, file string) (map[string]kubeObjects, []string) {
	t.Helper()
	f, err := system.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	files, warnings, err := Kubernetes(f, KubernetesOptions{Image: testImage, Namespace: "fn"})
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := Kubernetes(f, KubernetesOptions{Image: testImage, Namespace: "fn"})
	if err != nil || !reflect.DeepEqual(files, again) {
		t.Fatalf("a second rendering differs (err %v)", err)
	}
	if len(files) != len(f.Functions) {
		t.Fatalf("%d manifests, want one per entry, %d", len(files), len(f.Functions))
	}
	out := map[string]kubeObjects{}
	for i, m := range files {
		if want := f.Functions[i].Name + ".yaml"; m.Name != want {
			t.Errorf("manifest %d is %s, want %s", i, m.Name, want)
		}
		out[strings.TrimSuffix(m.Name, ".yaml")] = decodeManifest(t, m)
	}
	return out, warnings
}

// decodeManifest decodes every document of m strictly into its kind.
func decodeManifest(t *testing.T, m Manifest) kubeObjects {
	t.Helper()
	o := kubeObjects{text: m.Text}
	docs := kubeDocuments(m.Text)
	if len(docs) != len(m.Kinds) {
		t.Fatalf("%s: %d documents, want %d (%v)", m.Name, len(docs), len(m.Kinds), m.Kinds)
	}
	for i, doc := range docs {
		var kind struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &kind); err != nil || kind.Kind != m.Kinds[i] {
			t.Fatalf("%s: document %d is a %q (%v), want %s", m.Name, i, kind.Kind, err, m.Kinds[i])
		}
		var obj any
		switch kind.Kind {
		case "Deployment":
			o.deploy = &appsv1.Deployment{}
			obj = o.deploy
		case "Job":
			o.job = &batchv1.Job{}
			obj = o.job
		case "Service":
			o.service = &corev1.Service{}
			obj = o.service
		default:
			t.Fatalf("%s: unexpected kind %q", m.Name, kind.Kind)
		}
		if err := strictDecode(doc, obj); err != nil {
			t.Fatalf("%s: %s is not a valid %s: %v\n%s", m.Name, kind.Kind, kind.Kind, err, doc)
		}
	}
	return o
}

// strictDecode decodes doc into obj refusing unknown fields, then checks
// that obj, written back, holds every key and value of doc, spelt the same:
// encoding/json matches field names case-insensitively, which
// UnmarshalStrict alone lets through (matchlabels for matchLabels).
func strictDecode(doc string, obj any) error {
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		return err
	}
	var in, back any
	if err := yaml.Unmarshal([]byte(doc), &in); err != nil {
		return err
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &back); err != nil {
		return err
	}
	return contained(in, back, "")
}

// contained is nil when every key and value of a is in b.
func contained(a, b any, at string) error {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object after decoding", at)
		}
		for k, v := range a {
			bv, ok := bm[k]
			if !ok {
				return fmt.Errorf("%s.%s: unknown field (lost in decoding)", at, k)
			}
			if err := contained(v, bv, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		bl, ok := b.([]any)
		if !ok || len(bl) != len(a) {
			return fmt.Errorf("%s: list changed in decoding", at)
		}
		for i := range a {
			if err := contained(a[i], bl[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) {
			return fmt.Errorf("%s: %v decoded as %v", at, a, b)
		}
	}
	return nil
}

// kubeDocuments splits a YAML stream at its "---" lines, dropping the
// leading comments.
func kubeDocuments(text string) []string {
	var docs []string
	for i, d := range strings.Split("\n"+text, "\n---\n") {
		if i > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func command(o kubeObjects) []string { return o.pod().Spec.Containers[0].Command }

func env(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func hasWarning(warnings []string, prefix, part string) bool {
	return slices.ContainsFunc(warnings, func(w string) bool {
		return strings.HasPrefix(w, prefix+": ") && strings.Contains(w, part)
	})
}

// checkPod checks what every pod has: labels the selector matches, the
// security context, the writable /tmp, fnrun exec as the command.
func checkPod(t *testing.T, name string, o kubeObjects) {
	t.Helper()
	pod := o.pod()
	if got := pod.Labels["app.kubernetes.io/name"]; got != name {
		t.Errorf("%s: pod label name = %q, want %q", name, got, name)
	}
	if o.deploy != nil {
		for k, v := range o.deploy.Spec.Selector.MatchLabels {
			if pod.Labels[k] != v {
				t.Errorf("%s: selector %s=%s does not match the pod's labels %v", name, k, v, pod.Labels)
			}
		}
	}
	if o.service != nil {
		for k, v := range o.service.Spec.Selector {
			if pod.Labels[k] != v {
				t.Errorf("%s: Service selector %s=%s does not match the pod's labels %v", name, k, v, pod.Labels)
			}
		}
	}
	sc := pod.Spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("%s: pod securityContext = %+v, want runAsNonRoot as 65532", name, sc)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	csc := c.SecurityContext
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: container securityContext = %+v, want a read-only root, no escalation, no capabilities", name, csc)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/tmp" ||
		len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].EmptyDir == nil {
		t.Errorf("%s: want an emptyDir at /tmp, got mounts %+v volumes %+v", name, c.VolumeMounts, pod.Spec.Volumes)
	}
	if e := env(c); e["XDG_RUNTIME_DIR"] != "/tmp" || e["FNRUN_CACHE_DIR"] != "/tmp/fnrun-cache" {
		t.Errorf("%s: env %v: want fnrun's directories under /tmp", name, e)
	}
	if c.Image != testImage || c.Name != name {
		t.Errorf("%s: container %s image %s, want %s %s", name, c.Name, c.Image, name, testImage)
	}
	if len(c.Command) < 3 || c.Command[0] != KubeFnrunPath || c.Command[1] != "exec" || c.Command[2] != "--init" || !slices.Contains(c.Command, "--") {
		t.Errorf("%s: command %q, want fnrun exec ... -- PROGRAM", name, c.Command)
	}
}

func TestKubernetes_Example(t *testing.T) {
	objs, warnings := renderKube(t, "../../examples/fnrun.yaml")
	for name, o := range objs {
		checkPod(t, name, o)
		if got := o.pod().Spec.TerminationGracePeriodSeconds; got == nil || *got != 15 {
			t.Errorf("%s: terminationGracePeriodSeconds = %v, want 15 (stop timeout 10s + 5s)", name, got)
		}
		if o.service != nil {
			t.Errorf("%s: a Service, but it has no listen:", name)
		}
	}
	greeter, ticker, caller := objs["greeter"], objs["ticker"], objs["caller"]
	if greeter.deploy == nil || ticker.deploy == nil || caller.job == nil {
		t.Fatalf("want Deployments greeter and ticker (restart always, on-failure) and a Job caller (never)")
	}
	if r := greeter.deploy.Spec.Replicas; r == nil || *r != 1 {
		t.Errorf("greeter: replicas = %v, want 1", r)
	}
	if got, want := command(greeter), []string{KubeFnrunPath, "exec", "--init", "--policy", "always", "--stop-timeout", "10s", "--", "/fn/greeter"}; !slices.Equal(got, want) {
		t.Errorf("greeter: command = %q, want %q", got, want)
	}
	if got := greeter.pod().Spec.Containers[0].Args; !slices.Equal(got, []string{"-port", "18090"}) {
		t.Errorf("greeter: args = %q", got)
	}
	p := greeter.pod().Spec.Containers[0].ReadinessProbe
	if p == nil || p.TCPSocket == nil || p.TCPSocket.Port.IntValue() != 18090 || p.TCPSocket.Host != "" {
		t.Errorf("greeter: readinessProbe = %+v, want tcpSocket 18090 on the pod's address", p)
	}
	p = ticker.pod().Spec.Containers[0].ReadinessProbe
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.IntValue() != 18091 || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Host != "" {
		t.Errorf("ticker: readinessProbe = %+v, want httpGet /healthz on 18091", p)
	}
	if s := ticker.pod().Spec.Containers[0].StartupProbe; s != nil {
		t.Errorf("ticker: a startupProbe for the default ready timeout: %+v", s)
	}
	if j := caller.job.Spec; *j.BackoffLimit != 0 || *j.Completions != 1 || caller.pod().Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("caller: job spec %+v, want run once", j)
	}
	// No init container: greeter and ticker have no listen:, so no Service
	// to wait for.
	if ic := caller.pod().Spec.InitContainers; len(ic) != 0 {
		t.Errorf("caller: init containers %+v", ic)
	}
	for _, w := range [][2]string{
		{"caller", "depends_on greeter: ready: greeter has no listen: address"},
		{"caller", "depends_on ticker: started: ticker has no listen: address"},
		{"greeter", "must listen on all addresses"},
		{"ticker", "restart: on-failure"},
		{"ticker", "image " + testImage + " is every source entry's"},
	} {
		if !hasWarning(warnings, w[0], w[1]) {
			t.Errorf("no warning %s: …%s… in\n%s", w[0], w[1], strings.Join(warnings, "\n"))
		}
	}
	if !strings.HasPrefix(caller.text, notePrefix) || !strings.Contains(caller.text, notePrefix+"depends_on greeter: ready") {
		t.Errorf("caller: the warnings are not noted in the file:\n%s", caller.text)
	}
}

func TestKubernetes_Listen(t *testing.T) {
	objs, warnings := renderKube(t, "testdata/k8s/fnrun.yaml")
	for name, o := range objs {
		checkPod(t, name, o)
	}
	api := objs["api"]
	if api.deploy == nil || api.service == nil {
		t.Fatalf("api: want a Deployment and a Service:\n%s", api.text)
	}
	if got := api.deploy.Labels["app.kubernetes.io/part-of"]; got != "k8s" {
		t.Errorf("api: part-of = %q, want k8s (the file's directory)", got)
	}
	if api.deploy.Namespace != "fn" || api.service.Namespace != "fn" {
		t.Errorf("api: namespaces %q %q, want fn", api.deploy.Namespace, api.service.Namespace)
	}
	if r := api.deploy.Spec.Replicas; r == nil || *r != 3 {
		t.Errorf("api: replicas = %v, want 3", r)
	}
	c := api.pod().Spec.Containers[0]
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.ContainerPort))
	}
	want := []string{"http=8080", "listen-2=9090", "listen-3=9091"}
	if !slices.Equal(ports, want) {
		t.Errorf("api: container ports %q, want %q", ports, want)
	}
	ports = nil
	for _, p := range api.service.Spec.Ports {
		if c.Ports[len(ports)].Name != p.TargetPort.String() {
			t.Errorf("api: Service port %s targets %s, not the container's port", p.Name, p.TargetPort.String())
		}
		ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.Port))
	}
	if !slices.Equal(ports, want) {
		t.Errorf("api: Service ports %q, want %q", ports, want)
	}
	wantCmd := []string{KubeFnrunPath, "exec", "--init", "--policy", "always", "--max-restarts", "3",
		"--backoff-initial", "0s", "--backoff-max", "10s", "--backoff-reset", "1m0s",
		"--listen", "http=:8080", "--listen", ":9090", "--listen", "a-listener-name-too-long=:9091",
		"--listen", "unix:///tmp/api.sock", "--backlog", "128",
		"--stop-signal", "INT", "--stop-timeout", "20s", "--", "/fn/api"}
	if got := c.Command; !slices.Equal(got, wantCmd) {
		t.Errorf("api: command\n%q, want\n%q", got, wantCmd)
	}
	if !slices.Equal(c.Args, []string{"-greeting", "$$HOME"}) {
		t.Errorf("api: args %q: want $ escaped from Kubernetes' expansion", c.Args)
	}
	e := env(c)
	if e["LOG_LEVEL"] != "info" || e["HOME"] != "/tmp/api" || e["PRICE"] != "$$(FREE)" {
		t.Errorf("api: env %v: want the entry's values over the file's, $ escaped", e)
	}
	if c.WorkingDir != "" {
		t.Errorf("api: workingDir %q for a relative dir", c.WorkingDir)
	}
	if got := api.pod().Spec.TerminationGracePeriodSeconds; got == nil || *got != 25 {
		t.Errorf("api: terminationGracePeriodSeconds = %v, want 25", got)
	}
	p := c.ReadinessProbe
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.IntValue() != 8080 || p.HTTPGet.Path != "/healthz?full=1" {
		t.Errorf("api: readinessProbe %+v, want httpGet 8080 /healthz?full=1", p)
	}
	if s := c.StartupProbe; s == nil || s.HTTPGet == nil || s.PeriodSeconds != 5 || s.FailureThreshold != 24 {
		t.Errorf("api: startupProbe %+v, want the same check, 24 × 5s for a 2m timeout", s)
	}

	worker := objs["worker"]
	wc := worker.pod().Spec.Containers[0]
	if wc.WorkingDir != "/srv/worker" {
		t.Errorf("worker: workingDir %q, want /srv/worker", wc.WorkingDir)
	}
	if p := wc.ReadinessProbe; p == nil || p.TCPSocket == nil || p.TCPSocket.Port.IntValue() != 7070 {
		t.Errorf("worker: readinessProbe %+v, want tcpSocket 7070", p)
	}
	if worker.service != nil {
		t.Errorf("worker: a Service without listen:")
	}
	migrate := objs["migrate"]
	if migrate.job == nil || !slices.Equal(command(migrate)[len(command(migrate))-3:], []string{"--", "/bin/migrate", "up"}) ||
		!slices.Equal(migrate.pod().Spec.Containers[0].Args, nil) {
		t.Errorf("migrate: want a Job running /bin/migrate, got command %q args %q",
			command(migrate), migrate.pod().Spec.Containers[0].Args)
	}

	for _, w := range [][2]string{
		{"api", "listen http=127.0.0.1:8080: written as :8080"},
		{"api", "unix socket"},
		{"api", "env_file .env.api"},
		{"api", "dir ./work"},
		{"api", "max_restarts 3"},
		{"worker", "ready.log"},
		{"worker", "depends_on api: ready: init container wait-api waits until api:8080 accepts, not for fnrun's ready check"},
		{"worker", "depends_on migrate: completed"},
		{"worker", "proxy"},
		{"migrate", "command /bin/migrate"},
		{"migrate", "on_failure: stop-all"},
	} {
		if !hasWarning(warnings, w[0], w[1]) {
			t.Errorf("no warning %s: …%s… in\n%s", w[0], w[1], strings.Join(warnings, "\n"))
		}
	}
	if hasWarning(warnings, "api", "must listen on all addresses") {
		t.Errorf("api: a loopback warning for a ready.url on a listen: port")
	}
}

func TestKubernetes_DependsOn(t *testing.T) {
	objs, warnings := renderKube(t, "testdata/k8s-wait/fnrun.yaml")
	for name, o := range objs {
		checkPod(t, name, o)
	}
	app := objs["app"]
	pod := app.pod().Spec
	var names []string
	for _, c := range pod.InitContainers {
		names = append(names, c.Name)
	}
	if want := []string{"wait-db", "wait-cache", "wait-web"}; !slices.Equal(names, want) {
		t.Fatalf("app: init containers %q, want %q (none for migrate: completed)\n%s", names, want, app.text)
	}
	wait := func(addr, timeout string) []string {
		return []string{KubeFnrunPath, "wait", "--tcp", addr, "--timeout", timeout}
	}
	for i, want := range [][]string{
		wait("db:5432", "2m0s"),    // db's ready.timeout; the Service's name in the namespace
		wait("cache:6379", "5m0s"), // the port ready.tcp checks; DefaultKubeWaitTimeout
		wait("web:8080", "5m0s"),
	} {
		c := pod.InitContainers[i]
		if !slices.Equal(c.Command, want) || c.Args != nil {
			t.Errorf("app: %s: command %q args %q, want %q", c.Name, c.Command, c.Args, want)
		}
		if c.Image != testImage {
			t.Errorf("app: %s: image %s, want the pod's, %s", c.Name, c.Image, testImage)
		}
		if !reflect.DeepEqual(c.SecurityContext, pod.Containers[0].SecurityContext) {
			t.Errorf("app: %s: securityContext %+v, want the main container's", c.Name, c.SecurityContext)
		}
	}
	// A dependant named wait-DEP: the init container takes another name.
	w := objs["wait-db"].pod().Spec
	if len(w.InitContainers) != 1 || w.InitContainers[0].Name == w.Containers[0].Name ||
		!slices.Equal(w.InitContainers[0].Command, wait("db:5432", "2m0s")) {
		t.Errorf("wait-db: init containers %+v, want one waiting for db, named apart from the container", w.InitContainers)
	}
	for _, name := range []string{"db", "cache", "web", "migrate"} {
		if ic := objs[name].pod().Spec.InitContainers; len(ic) != 0 {
			t.Errorf("%s: init containers without depends_on: %+v", name, ic)
		}
	}

	for _, w := range [][2]string{
		{"app", "depends_on web: ready: init container wait-web waits until web:8080 accepts, not for fnrun's ready check"},
		{"app", "ready.log is not checked"},
		{"app", "depends_on migrate: completed: no init container"},
		{"app", "127.0.0.1:5432 in args or env: db is not in this pod: use db:5432"},
	} {
		if !hasWarning(warnings, w[0], w[1]) {
			t.Errorf("no warning %s: …%s… in\n%s", w[0], w[1], strings.Join(warnings, "\n"))
		}
	}
	// What the init containers wait for is all that db and cache ask: no
	// warning, only a note in the file. 63790 is not cache's port.
	for _, w := range [][2]string{{"app", "depends_on db"}, {"app", "depends_on cache"}, {"app", "localhost:6379"}, {"wait-db", "depends_on"}} {
		if hasWarning(warnings, w[0], w[1]) {
			t.Errorf("a warning %s: …%s… in\n%s", w[0], w[1], strings.Join(warnings, "\n"))
		}
	}
	if !strings.Contains(app.text, notePrefix+"depends_on db: ready: init container wait-db waits up to 2m0s until the Service db:5432 accepts") {
		t.Errorf("app: the init container is not noted in the file:\n%s", app.text)
	}
}

// TestKubernetes_StrictDecode guards the guard: the decode the tests rely
// on refuses a misspelt field.
func TestKubernetes_StrictDecode(t *testing.T) {
	f, err := system.Load("../../examples/fnrun.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := Kubernetes(f, KubernetesOptions{Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	doc := kubeDocuments(files[0].Text)[0]
	if err := strictDecode(doc, &appsv1.Deployment{}); err != nil {
		t.Fatalf("the document itself: %v", err)
	}
	for _, typo := range [][2]string{
		{"readinessProbe:", "readynessProbe:"},
		{"terminationGracePeriodSeconds:", "terminationGracePeriod:"},
		{"matchLabels:", "matchlabels:"},
	} {
		bad := strings.Replace(doc, typo[0], typo[1], 1)
		if bad == doc {
			t.Fatalf("%s not in the document:\n%s", typo[0], doc)
		}
		if err := strictDecode(bad, &appsv1.Deployment{}); err == nil {
			t.Errorf("%s: decoded without an error", typo[1])
		}
	}
}

func TestKubernetes_Errors(t *testing.T) {
	file := func(names ...string) *system.File {
		f := &system.File{Path: "/p/fnrun.yaml", Dir: "/p"}
		for _, n := range names {
			f.Functions = append(f.Functions, &system.Entry{Name: n, Source: "./" + n})
		}
		return f
	}
	for _, tc := range []struct {
		name string
		f    *system.File
		o    KubernetesOptions
		want string
	}{
		{"underscore", file("my_fn"), KubernetesOptions{Image: "i"}, "my_fn: not a Kubernetes name"},
		{"upper", file("API"), KubernetesOptions{Image: "i"}, "API: not a Kubernetes name"},
		{"no image", file("a", "b"), KubernetesOptions{Images: map[string]string{"a": "i"}}, "b: no image"},
		{"unknown image", file("a"), KubernetesOptions{Image: "i", Images: map[string]string{"c": "i"}}, `no function "c"`},
		{"namespace", file("a"), KubernetesOptions{Image: "i", Namespace: "Prod"}, `namespace "Prod"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Kubernetes(tc.f, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want …%s…", err, tc.want)
			}
		})
	}
	f := file("a", "b")
	files, _, err := Kubernetes(f, KubernetesOptions{Images: map[string]string{"a": "ia", "b": "ib"}})
	if err != nil {
		t.Fatal(err)
	}
	if o := decodeManifest(t, files[1]); o.job.Spec.Template.Spec.Containers[0].Image != "ib" {
		t.Errorf("b: image %s, want ib", o.job.Spec.Template.Spec.Containers[0].Image)
	}
	files, warnings, err := Kubernetes(f, KubernetesOptions{Image: "reg/fn/{name}:v1", Images: map[string]string{"b": "ib"}})
	if err != nil {
		t.Fatal(err)
	}
	if o := decodeManifest(t, files[0]); o.job.Spec.Template.Spec.Containers[0].Image != "reg/fn/a:v1" {
		t.Errorf("a: image %s, want reg/fn/a:v1", o.job.Spec.Template.Spec.Containers[0].Image)
	}
	if hasWarning(warnings, "a", "image") {
		t.Errorf("a: a warning about a shared image: %q", warnings)
	}
}

func TestKubeValidPortName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"http", true}, {"grpc-web", true}, {"h2c", true}, {"a23456789012345", true},
		{"", false}, {"a234567890123456", false}, {"HTTP", false}, {"8080", false},
		{"-http", false}, {"http-", false}, {"grpc--web", false}, {"my_port", false}, {"listen", true},
	} {
		if got := kubeValidPortName(tc.in); got != tc.want {
			t.Errorf("kubeValidPortName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestKubePortName(t *testing.T) {
	taken := map[string]bool{"http": true, "listen-3": true}
	for _, tc := range []struct {
		listener string
		n        int
		want     string
	}{
		{"api", 1, "api"},
		{"", 2, "listen-2"},
		{"http", 2, "listen-2"}, // taken
		{"HTTP", 3, "listen-4"}, // invalid; listen-3 taken
		{"a-very-long-listener", 5, "listen-5"},
	} {
		if got := kubePortName(tc.listener, tc.n, taken); got != tc.want {
			t.Errorf("kubePortName(%q, %d) = %q, want %q", tc.listener, tc.n, got, tc.want)
		}
	}
}

func TestKubePortNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{{"80", 80, true}, {"65535", 65535, true}, {"0", 0, false}, {"65536", 0, false}, {"http", 0, false}, {"", 0, false}} {
		got, err := kubePortNumber(tc.in, nil)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("kubePortNumber(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestDNS1123Label(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"api", true}, {"a-1", true}, {"1api", true}, {strings.Repeat("a", 63), true},
		{"", false}, {strings.Repeat("a", 64), false}, {"Api", false}, {"a_b", false}, {"-a", false}, {"a-", false}, {"a.b", false},
	} {
		if got := dns1123Label(tc.in); got != tc.want {
			t.Errorf("dns1123Label(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestLabelValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"examples", "examples"}, {"My Project", "My-Project"}, {"_x_", "x"}, {"/", ""}, {"é", ""},
		{strings.Repeat("a", 70), strings.Repeat("a", 63)},
	} {
		if got := labelValue(tc.in); got != tc.want {
			t.Errorf("labelValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestYAMLString(t *testing.T) {
	for _, s := range []string{
		"api", "app.kubernetes.io/name", "/usr/local/bin/fnrun", "--policy", "-port", "18090", "1.0", "0x1F",
		"true", "No", "on", "null", "~", "", " lead", "a: b", "a #b", "x\ny", `q"uote`, "tab\t", "$$(X)", "[a]",
		"{a}", "*ref", "&anchor", "!tag", "%d", "@x", "`x", "é", "<html>", "2024-01-01", ".5", "-", "---",
		"--", "-1", "--1", "-.inf", "-.5", "---a", "- a", "-a:b", "a:", "a:b", "1:20", "a:1:20", "http://x:1/y",
		"registry.example/fn/x:v1", "-Yes", "--no", "on:", "a::", "/:",
	} {
		doc := "v: " + yamlString(s) + "\n" + "l:\n- " + yamlString(s) + "\n"
		var got struct {
			V *string
			L []string
		}
		if err := yaml.UnmarshalStrict([]byte(doc), &got); err != nil || got.V == nil || *got.V != s || !slices.Equal(got.L, []string{s}) {
			t.Errorf("yamlString(%q) = %s, reads back as %v (%v)", s, yamlString(s), got.V, err)
		}
	}
}

func TestKubeYAML(t *testing.T) {
	v := map[string]any{"b": []any{map[string]any{"x": 1, "y": []any{"p", "q"}, "z": "n"}, "s", []any{}}, "a": map[string]any{}, "c": map[string]any{"d": true}}
	got, err := kubeYAML(v)
	if err != nil {
		t.Fatal(err)
	}
	want := "a: {}\nb:\n- x: 1\n  \"y\":\n  - p\n  - q\n  z: \"n\"\n- s\n- []\nc:\n  d: true\n"
	if got != want {
		t.Errorf("kubeYAML =\n%s\nwant\n%s", got, want)
	}
	var back map[string]any
	if err := yaml.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back) != "map[a:map[] b:[map[x:1 y:[p q] z:n] s []] c:map[d:true]]" {
		t.Errorf("read back as %v", back)
	}
}
