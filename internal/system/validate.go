package system

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/runner"
)

var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })

// checkName reports a function name that is not letters, digits, _ and -
// (a dot would be ambiguous with replica names api.1, api.2).
func (l *loader) checkName(line int, name string) bool {
	if nameRE().MatchString(name) {
		return true
	}
	hint := ""
	if strings.Contains(name, ".") {
		hint = " (no dots: replicas are named NAME.1, NAME.2)"
	}
	l.errf(line, "function name %q: want letters, digits, _ and - only%s", name, hint)
	return false
}

// checkVar checks an environment variable.
func checkVar(k, v string) error {
	if strings.Contains(k, "=") {
		return fmt.Errorf("invalid variable name %q", k)
	}
	return fn.CheckKV(k + "=" + v)
}

// duration reads a duration ≥ 0.
func (l *loader) duration(p pair, name string) (time.Duration, bool) {
	s, ok := scalar(p.val)
	d, err := time.ParseDuration(s)
	switch {
	case !ok || err != nil:
		l.errf(p.key.Line, "%s: not a duration (e.g. 500ms, 10s)", name)
		return 0, false
	case d < 0:
		l.errf(p.key.Line, "%s: must not be negative", name)
		return 0, false
	}
	return d, true
}

// positive reads a duration > 0: in the file, as for the flags, 0 is not
// a way to ask for the default.
func (l *loader) positive(p pair, name, hint string) time.Duration {
	d, ok := l.duration(p, name)
	if ok && d == 0 {
		l.errf(p.key.Line, "%s: must be positive%s", name, hint)
	}
	return d
}

// sub returns the value of p as a mapping, false when it is null or not a
// mapping (which is reported).
func (l *loader) sub(p pair, name, keys string) (*yaml.Node, bool) {
	v := resolve(p.val)
	if isNull(v) {
		return nil, false
	}
	if v.Kind != yaml.MappingNode {
		l.errf(p.key.Line, "%s: want a mapping {%s}", name, keys)
		return nil, false
	}
	return v, true
}

// backoff reads backoff: {initial, max, reset}. initial may be 0 (no wait).
func (l *loader) backoff(p pair, b *Backoff) {
	v, ok := l.sub(p, "backoff", strings.Join(backoffKeys, ", "))
	if !ok {
		return
	}
	maxLine := 0
	for _, kp := range l.pairs(v, "backoff", "key", backoffKeys) {
		name := "backoff." + kp.key.Value
		switch kp.key.Value {
		case "initial":
			b.Initial, b.InitialSet = l.duration(kp, name)
		case "max":
			b.Max, maxLine = l.positive(kp, name, ""), kp.key.Line
		case "reset":
			b.Reset = l.positive(kp, name, "")
		}
	}
	initial, what := b.Initial, ""
	if !b.InitialSet {
		initial, what = runner.DefaultBackoffInitial, ", the default"
	}
	if b.Max > 0 && b.Max < initial {
		l.errf(maxLine, "backoff.max (%s) is shorter than backoff.initial (%s%s)", b.Max, initial, what)
	}
}

// stop reads stop: {signal, timeout}.
func (l *loader) stop(p pair, s *Stop) {
	v, ok := l.sub(p, "stop", strings.Join(stopKeys, ", "))
	if !ok {
		return
	}
	for _, kp := range l.pairs(v, "stop", "key", stopKeys) {
		switch kp.key.Value {
		case "signal":
			sig, ok := l.str(kp, "stop.signal")
			if !ok {
				continue
			}
			if err := checkSignal(sig); err != nil {
				l.errf(kp.key.Line, "stop.signal: %v", err)
				continue
			}
			s.Signal = sig
		case "timeout":
			s.Timeout = l.positive(kp, "stop.timeout", " (for an immediate kill use signal: KILL)")
		}
	}
}

// checkSignal accepts what --stop-signal accepts, with the same words.
func checkSignal(s string) error {
	const want = "want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or a number"
	sig, err := runner.ParseSignal(s)
	if err != nil {
		return fmt.Errorf("unknown signal %q (%s)", s, want)
	}
	if !runner.CanStop(sig) {
		return fmt.Errorf("%s cannot stop a program (%s)", runner.SignalName(sig), want)
	}
	return nil
}

// ready reads ready: {url, tcp, log, timeout}, checked as --ready-* are.
func (l *loader) ready(p pair, r *Ready) {
	v, ok := l.sub(p, "ready", strings.Join(readyKeys, ", "))
	if !ok {
		return
	}
	timeoutLine, checks := 0, 0
	for _, kp := range l.pairs(v, "ready", "key", readyKeys) {
		name := "ready." + kp.key.Value
		line := kp.key.Line
		if kp.key.Value == "timeout" {
			r.Timeout, timeoutLine = l.positive(kp, name, ""), line
			continue
		}
		checks++
		s, ok := l.str(kp, name)
		if !ok {
			continue
		}
		switch kp.key.Value {
		case "url":
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				l.errf(line, "%s: want an http:// or https:// URL", name)
				continue
			}
			r.URL = s
		case "tcp":
			host, port, err := net.SplitHostPort(s)
			if err != nil || host == "" {
				l.errf(line, "%s: want HOST:PORT", name)
				continue
			}
			if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
				l.errf(line, "%s: bad port %q (want 1-65535)", name, port)
				continue
			}
			r.TCP = s
		case "log":
			if _, err := regexp.Compile(s); err != nil {
				l.errf(line, "%s: %v", name, err)
				continue
			}
			r.Log = s
		}
	}
	if timeoutLine > 0 && checks == 0 {
		l.errf(timeoutLine, "ready.timeout: no check to wait for (add url, tcp or log)")
	}
}

// checkDeps checks depends_on against the file: every name exists and is
// not the entry itself, a `completed` one can complete, and there is no
// cycle.
func (l *loader) checkDeps(f *File) {
	byName := map[string]*Entry{}
	var known []string
	for _, e := range f.Functions {
		if byName[e.Name] == nil {
			byName[e.Name] = e
			known = append(known, e.Name)
		}
	}
	for _, e := range f.Functions {
		lines := l.depLines[e]
		for i, d := range e.DependsOn {
			line := e.Line
			if i < len(lines) {
				line = lines[i]
			}
			switch {
			case d.Name == e.Name:
				l.errf(line, "depends_on: %s depends on itself", e.Name)
			case byName[d.Name] == nil:
				l.errf(line, "depends_on: no function named %q %s", d.Name, suggest(d.Name, known, "known"))
			case d.Condition == CondCompleted && byName[d.Name].Restart == "always":
				l.errf(line, "depends_on: %s: completed, but %s has restart: always (it never completes)", d.Name, d.Name)
			}
		}
	}
	for _, c := range cycles(f.Functions) {
		l.errf(c[0].Line, "dependency cycle: %s", cycleString(c))
	}
}

// keyAliases are the names other tools give to fnrun's keys.
var keyAliases = map[string]string{
	"services": "functions", "processes": "functions", "apps": "functions",
	"environment": "env", "cmd": "command", "entrypoint": "command", "exec": "command",
	"working_dir": "dir", "workdir": "dir", "cwd": "dir",
	"depends": "depends_on", "dependencies": "depends_on", "needs": "depends_on",
	"restart_policy": "restart", "healthcheck": "ready", "readiness_probe": "ready",
	"scale": "replicas", "instances": "replicas", "build_tags": "tags",
}

// suggest returns "(did you mean X?)" when word is close to one of valid
// (or another tool's name for it), else "(LABEL: a, b, c)".
func suggest(word string, valid []string, label string) string {
	if a, ok := keyAliases[strings.ToLower(word)]; ok && contains(valid, a) {
		return fmt.Sprintf("(did you mean %s?)", a)
	}
	best, bestD := "", 3
	limit := 2
	if len(word) <= 4 {
		limit = 1
	}
	for _, v := range valid {
		d := distance(strings.ToLower(word), strings.ToLower(v))
		if d <= limit && d < min(len(word), len(v)) && d < bestD {
			best, bestD = v, d
		}
	}
	if best != "" {
		return fmt.Sprintf("(did you mean %s?)", best)
	}
	return fmt.Sprintf("(%s: %s)", label, strings.Join(valid, ", "))
}

// distance is the optimal string alignment distance of a and b: edits,
// counting a swap of two neighbours as one.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // no key is that long
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
