package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fnrun/fnrun/internal/fn"
)

// readmeSchema returns the --report JSON schema documented in README.md.
func readmeSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start := strings.Index(s, "<!-- report-schema -->")
	end := strings.Index(s, "<!-- /report-schema -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no report-schema block")
	}
	block := s[start:end]
	block = block[strings.Index(block, "{") : strings.LastIndex(block, "}")+1]
	var schema map[string]any
	if err := json.Unmarshal([]byte(block), &schema); err != nil {
		t.Fatalf("README schema: %v", err)
	}
	return schema
}

// validate checks v against the subset of JSON Schema the README uses: type,
// required, properties, additionalProperties false, items, enum.
func validate(schema map[string]any, v any, at string) []string {
	var errs []string
	if typ, ok := schema["type"].(string); ok && !hasType(v, typ) {
		return []string{fmt.Sprintf("%s: %T is not %s", at, v, typ)}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", at, v, enum))
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := v[r]; !ok {
				errs = append(errs, fmt.Sprintf("%s: missing %q", at, r))
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: unexpected %q", at, k))
				}
				continue
			}
			errs = append(errs, validate(sub, v[k], at+"."+k)...)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				errs = append(errs, validate(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestValidate_rejects(t *testing.T) {
	schema := readmeSchema(t)
	for _, doc := range []string{
		`{}`,
		`{"version":2,"source":"s","binary":"b","runs":[],"restarts":0,"verdict":"pass","exit_code":0}`,
		`{"version":1,"source":"s","binary":"b","runs":[{"run":1}],"restarts":0,"verdict":"pass","exit_code":0}`,
		`{"version":1,"source":"s","binary":"b","runs":[],"restarts":0,"verdict":"maybe","exit_code":0}`,
		`{"version":1,"source":"s","binary":"b","runs":[],"restarts":0,"verdict":"pass","exit_code":0,"extra":1}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if errs := validate(schema, v, "$"); len(errs) == 0 {
			t.Errorf("%s validated, want errors", doc)
		}
	}
}

func runReport(t *testing.T, dir string, args ...string) (map[string]any, Report) {
	t.Helper()
	path := filepath.Join(dir, "report.json")
	os.Remove(path)
	cmd := exec.Command("fnrun", append([]string{"--"}, args...)[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FNRUN_CACHE_DIR="+filepath.Join(dir, "cache"), "FNRUN_REPORT="+path,
		"GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local", "GOPROXY=off")
	out, _ := cmd.CombinedOutput()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no report: %v\n%s", err, out)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	if errs := validate(readmeSchema(t), v, "$"); len(errs) > 0 {
		t.Fatalf("report does not match the README schema:\n%s\n%s", strings.Join(errs, "\n"), data)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return v, rep
}

func TestReport_exec(t *testing.T) {
	dir := t.TempDir()
	_, rep := runReport(t, dir, "exec", "-q", "-r", "--max-restarts", "2", "--backoff-initial", "0", "--", "helper", "exit", "3")
	if got, want := len(rep.Runs), 3; got != want {
		t.Fatalf("runs = %d, want %d", got, want)
	}
	if rep.Restarts != 2 || rep.ExitCode != 3 || rep.Verdict != fn.VerdictFail || rep.Source != "helper" {
		t.Errorf("report = %+v, want 2 restarts, exit 3, fail, source helper", rep)
	}
	for i, r := range rep.Runs {
		if r.Run != i+1 || r.ExitCode == nil || *r.ExitCode != 3 || r.End == nil || r.PID <= 0 || r.UptimeMS == nil {
			t.Errorf("run %d = %+v, want run %d exited 3", i, r, i+1)
		}
	}

	_, rep = runReport(t, dir, "exec", "-q", "--expect-exit", "3", "--", "helper", "exit", "3")
	if rep.ExitCode != 0 || rep.Verdict != fn.VerdictPass {
		t.Errorf("--expect-exit 3: report = %+v, want pass with exit 0", rep)
	}

	_, rep = runReport(t, dir, "exec", "-q", "--", "helper", "killself")
	if len(rep.Runs) != 1 || rep.Runs[0].Signal != "SIGKILL" || rep.Runs[0].ExitCode != nil || rep.ExitCode != 137 {
		t.Errorf("killed run: report = %+v", rep)
	}
}

func TestReport_runSmoke(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "-q", "--smoke", "--ready-log", "working for", "../../examples/crasher", "--", "-after", "1m"}
	abs, _ := filepath.Abs("../../examples/crasher")
	args[5] = abs
	_, cold := runReport(t, dir, args...)
	_, warm := runReport(t, dir, args...)
	for _, rep := range []Report{cold, warm} {
		if rep.Verdict != fn.VerdictPass || rep.ExitCode != 0 || len(rep.Runs) != 1 || rep.Runs[0].ReadyMS == nil {
			t.Errorf("smoke report = %+v, want pass with one ready run", rep)
		}
		if rep.Key == "" || rep.Build == nil || !strings.HasSuffix(rep.Binary, "/crasher") {
			t.Errorf("smoke report = %+v, want binary, key and build", rep)
		}
	}
	if cold.Build.CacheHit || !warm.Build.CacheHit {
		t.Errorf("cache_hit cold=%v warm=%v, want false then true", cold.Build.CacheHit, warm.Build.CacheHit)
	}
	if cold.Key != warm.Key {
		t.Errorf("key changed between runs: %s, %s", cold.Key, warm.Key)
	}
}
