package export

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fnrun/fnrun/internal/system"
)

// render loads file and renders it for a prefix ROOT/bin of executables
// named as its entries (./bin/migrate is one), ROOT being the file's
// directory on the target, a temporary one.
func render(t *testing.T, file string, version int) (units []Unit, warnings []string, prefix string) {
	t.Helper()
	f, err := system.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	prefix = filepath.Join(root, "bin")
	if err := os.Mkdir(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.Functions {
		if err := os.WriteFile(filepath.Join(prefix, e.Name), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	units, warnings, err = Systemd(f, SystemdOptions{Prefix: prefix, Version: version, FileDir: root})
	if err != nil {
		t.Fatal(err)
	}
	return units, warnings, prefix
}

// verify writes units to a directory and checks them with systemd-analyze.
func verify(t *testing.T, units []Unit) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	var args []string
	for _, u := range units {
		if err := os.WriteFile(filepath.Join(dir, u.Name), []byte(u.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		// A template is checked through its instances.
		names := []string{u.Name}
		if strings.Contains(u.Name, "@.") {
			names = u.Enable
		}
		for _, n := range names {
			args = append(args, filepath.Join(dir, n))
		}
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	out, err := cmd.CombinedOutput()
	bad := regexp.MustCompile(`(?i)unknown key|invalid|failed|error`)
	// Keys newer than this machine's systemd are expected to be unknown.
	newer := regexp.MustCompile(`Unknown key '(RestartSteps|RestartMaxDelaySec)'`)
	if v, ok := localSystemd(); ok && v >= RestartStepsVersion {
		newer = nil
	}
	for _, line := range strings.Split(string(out), "\n") {
		if newer != nil && newer.MatchString(line) {
			continue
		}
		if bad.MatchString(line) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	t.Logf("systemd-analyze verify %d units: %v, output %q", len(args), err, out)
	if t.Failed() {
		for _, u := range units {
			t.Logf("%s:\n%s", u.Name, u.Text)
		}
	}
}

// localSystemd is the version of this machine's systemd.
func localSystemd() (int, bool) {
	out, err := exec.Command("systemctl", "--version").Output()
	if err != nil {
		return 0, false
	}
	return SystemdVersion(string(out))
}

func unitNamed(t *testing.T, units []Unit, name string) Unit {
	t.Helper()
	for _, u := range units {
		if u.Name == name {
			return u
		}
	}
	var names []string
	for _, u := range units {
		names = append(names, u.Name)
	}
	t.Fatalf("no unit %s in %v", name, names)
	return Unit{}
}

func TestSystemd_Example(t *testing.T) {
	units, warnings, prefix := render(t, "../../examples/fnrun.yaml", 252)
	var names []string
	for _, u := range units {
		names = append(names, u.Name)
	}
	if want := []string{"greeter.service", "ticker.service", "caller.service"}; !slices.Equal(names, want) {
		t.Errorf("units: got %v, want %v", names, want)
	}
	caller := unitNamed(t, units, "caller.service").Text
	for _, want := range []string{
		"ExecStart=" + prefix + "/caller -url \"http://127.0.0.1:18090/?name=caller\"\n",
		"After=greeter.service\nRequires=greeter.service\n",
		"After=ticker.service\nWants=ticker.service\n",
		"Restart=no\n",
		"KillMode=control-group\nKillSignal=SIGTERM\nTimeoutStopSec=10s\n",
	} {
		if !strings.Contains(caller, want) {
			t.Errorf("caller.service: no %q in\n%s", want, caller)
		}
	}
	for _, w := range warnings {
		if !regexp.MustCompile(`^(greeter|ticker|caller): \S`).MatchString(w) {
			t.Errorf("warning %q: want NAME: message", w)
		}
	}
	if len(warnings) == 0 {
		t.Error("no warnings (ready checks cannot be expressed)")
	}
	verify(t, units)
}

func TestSystemd_Everything(t *testing.T) {
	units, warnings, prefix := render(t, "testdata/fnrun.yaml", 254)
	root := filepath.Dir(prefix)
	var names []string
	for _, u := range units {
		names = append(names, u.Name)
	}
	want := []string{"migrate.service", "store.service", "store-web.socket", "store-admin.socket", "api@.service", "api.socket", "worker.service"}
	if !slices.Equal(names, want) {
		t.Errorf("units: got %v, want %v", names, want)
	}
	store := unitNamed(t, units, "store.service").Text
	for _, want := range []string{
		`ExecStart=` + prefix + `/store -data "/var/lib/store dir" -pct "100%%" -var "$$HOME" -q "say \"hi\"" -b "a\\b"` + "\n",
		`Environment="GREETING=hello world"` + "\n",
		`Environment="RATE=50%%"` + "\n",
		`Environment="PRICE=$5 and 10%%"` + "\n",
		`Environment="QUOTED=it's \"quoted\""` + "\n",
		"Environment=FNRUN_REPLICA=1\n",
		"EnvironmentFile=" + root + "/store.env\n",
		"WorkingDirectory=" + root + "/data\n",
		"StartLimitIntervalSec=infinity\nStartLimitBurst=6\n",
		"Restart=on-failure\n",
		"RestartSec=500ms\nRestartSteps=7\nRestartMaxDelaySec=60s\n",
		"KillSignal=SIGINT\nTimeoutStopSec=20s\n",
		"Sockets=store-web.socket store-admin.socket\n",
		"After=migrate.service\nRequires=migrate.service\n",
		"[Install]\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(store, want) {
			t.Errorf("store.service: no %q in\n%s", want, store)
		}
	}
	migrate := unitNamed(t, units, "migrate.service").Text
	for _, want := range []string{"Type=oneshot\nRemainAfterExit=yes\n", "ExecStart=" + root + "/bin/migrate -up\n"} {
		if !strings.Contains(migrate, want) {
			t.Errorf("migrate.service: no %q in\n%s", want, migrate)
		}
	}
	api := unitNamed(t, units, "api@.service")
	if want := []string{"api@1.service", "api@2.service", "api@3.service"}; !slices.Equal(api.Enable, want) {
		t.Errorf("api@.service Enable: got %v, want %v", api.Enable, want)
	}
	for _, want := range []string{"Environment=FNRUN_REPLICA=%i\n", "KillSignal=SIGTERM\n", "Restart=always\n", "Sockets=api.socket\n"} {
		if !strings.Contains(api.Text, want) {
			t.Errorf("api@.service: no %q in\n%s", want, api.Text)
		}
	}
	if strings.Contains(api.Text, "\nRestartSteps=") {
		t.Errorf("api@.service (restart: always): RestartSteps= in\n%s", api.Text)
	}
	worker := unitNamed(t, units, "worker.service").Text
	if want := "After=api@1.service api@2.service api@3.service\nWants=api@1.service api@2.service api@3.service\n"; !strings.Contains(worker, want) {
		t.Errorf("worker.service: no %q in\n%s", want, worker)
	}
	for _, want := range []struct{ unit, text string }{
		{"store-web.socket", "ListenStream=127.0.0.1:8081\nFileDescriptorName=web\nBacklog=128\nService=store.service\n"},
		{"store-admin.socket", "ListenStream=/run/store/admin.sock\nFileDescriptorName=admin\nBacklog=128\nRemoveOnStop=yes\nService=store.service\n"},
		{"api.socket", "ListenStream=8090\nFileDescriptorName=listen\n"},
		{"api.socket", "Service=api@1.service\n"},
		{"api.socket", "[Install]\nWantedBy=sockets.target\n"},
	} {
		if text := unitNamed(t, units, want.unit).Text; !strings.Contains(text, want.text) {
			t.Errorf("%s: no %q in\n%s", want.unit, want.text, text)
		}
	}
	// Every comment is one of fnrun's.
	for _, u := range units {
		for _, line := range strings.Split(u.Text, "\n") {
			if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, notePrefix) {
				t.Errorf("%s: comment %q does not start with %q", u.Name, line, notePrefix)
			}
		}
	}
	for _, want := range []string{
		"api: depends_on store: ready",
		"store: ready.url",
		"store: ready.log",
		"store: env_file and env",
		"store: backoff: fnrun varies",
		"store: backoff: fnrun resets",
		"api: proxy",
		"api: restart: always",
		"worker: on_failure: stop-all",
		"worker: watch",
	} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q... in\n%s", want, strings.Join(warnings, "\n"))
		}
	}
	// migrate is a oneshot unit: waiting for it is exact.
	if slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, "store: depends_on migrate") }) {
		t.Errorf("a warning for depends_on migrate: completed, which a oneshot unit expresses:\n%s", strings.Join(warnings, "\n"))
	}
	verify(t, units)

	again, again2, _ := render(t, "testdata/fnrun.yaml", 254)
	if len(again) != len(units) || !slices.Equal(again2, warnings) {
		t.Error("a second rendering differs")
	}
}

func TestSystemd_Version(t *testing.T) {
	for _, tc := range []struct {
		version int
		steps   bool
	}{{254, true}, {255, true}, {252, false}, {0, false}} {
		units, warnings, _ := render(t, "testdata/fnrun.yaml", tc.version)
		store := unitNamed(t, units, "store.service").Text
		if got := strings.Contains(store, "\nRestartSteps=") && strings.Contains(store, "\nRestartMaxDelaySec="); got != tc.steps {
			t.Errorf("version %d: RestartSteps= and RestartMaxDelaySec=: got %v, want %v\n%s", tc.version, got, tc.steps, store)
		}
		const fixed = "# fnrun: systemd < 254: the restart delay is fixed at RestartSec (fnrun doubles it up to 60s)\n"
		if got := strings.Contains(store, fixed); got == tc.steps {
			t.Errorf("version %d: fixed-delay comment: got %v, want %v\n%s", tc.version, got, !tc.steps, store)
		}
		warned := slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, "store: backoff: systemd < 254") })
		if warned == tc.steps {
			t.Errorf("version %d: fixed-delay warning: got %v, want %v", tc.version, warned, !tc.steps)
		}
		if tc.version == 252 {
			verify(t, units)
		}
	}
}

func TestSystemd_Options(t *testing.T) {
	f, err := system.Load("testdata/fnrun.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    SystemdOptions
	}{
		{"relative prefix", SystemdOptions{Prefix: "bin"}},
		{"unknown binary", SystemdOptions{Prefix: "/opt/x", Binaries: map[string]string{"nope": "x"}}},
		{"command binary", SystemdOptions{Prefix: "/opt/x", Binaries: map[string]string{"migrate": "x"}}},
		{"path as binary", SystemdOptions{Prefix: "/opt/x", Binaries: map[string]string{"store": "a/b"}}},
		{"relative file dir", SystemdOptions{Prefix: "/opt/x", FileDir: "etc"}},
	} {
		if _, _, err := Systemd(f, tc.o); err == nil {
			t.Errorf("%s: got no error", tc.name)
		}
	}
	units, _, err := Systemd(f, SystemdOptions{Prefix: "/opt/x", Binaries: map[string]string{"store": "store-server"}})
	if err != nil {
		t.Fatal(err)
	}
	if text := unitNamed(t, units, "store.service").Text; !strings.Contains(text, "ExecStart=/opt/x/store-server ") {
		t.Errorf("store.service: Binaries not used:\n%s", text)
	}
	// Without FileDir, paths are the file's.
	if text := unitNamed(t, units, "migrate.service").Text; !strings.Contains(text, "WorkingDirectory="+f.Dir+"\n") {
		t.Errorf("migrate.service: want WorkingDirectory=%s:\n%s", f.Dir, text)
	}
}

func TestInstallList(t *testing.T) {
	units, _, _ := render(t, "testdata/fnrun.yaml", 254)
	got := InstallList(units, "/opt/fn")
	for _, want := range []string{
		"install -m 0755 bin/* /opt/fn/\n",
		"/etc/systemd/system/\n",
		"systemctl daemon-reload\n",
		"systemctl enable --now store-web.socket store-admin.socket api.socket\n",
		"systemctl enable --now migrate.service store.service api@1.service api@2.service api@3.service worker.service\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("InstallList: no %q in\n%s", want, got)
		}
	}
}
