package build

import "strings"

// Go version comparison in the style of cmd/go's internal/gover: versions are
// "1.21", "1.21.0", "1.21rc1", optionally with a "go" prefix. "1.21" (the
// language version) sorts before "1.21rc1", which sorts before "1.21.0".

type gover struct {
	major, minor, patch string
	kind, pre           string // kind "", "alpha", "beta", "rc"
}

func parseGover(v string) (gover, bool) {
	v = strings.TrimPrefix(v, "go")
	// Drop a suffix like " X:nocoverageredesign" or "-devel ...".
	if i := strings.IndexAny(v, " -+"); i >= 0 {
		v = v[:i]
	}
	var g gover
	var ok bool
	if g.major, v, ok = cutInt(v); !ok {
		return g, false
	}
	if v == "" {
		g.minor, g.patch = "0", "0"
		return g, true
	}
	if v[0] != '.' {
		return g, false
	}
	if g.minor, v, ok = cutInt(v[1:]); !ok {
		return g, false
	}
	if v == "" {
		return g, true // language version: patch empty
	}
	if v[0] == '.' {
		if g.patch, v, ok = cutInt(v[1:]); !ok || v != "" {
			return g, false
		}
		return g, true
	}
	for _, k := range []string{"alpha", "beta", "rc"} {
		if strings.HasPrefix(v, k) {
			g.kind = k
			if g.pre, v, ok = cutInt(v[len(k):]); !ok || v != "" {
				return g, false
			}
			return g, true
		}
	}
	return g, false
}

func cutInt(s string) (n, rest string, ok bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || (s[0] == '0' && i > 1) {
		return "", "", false
	}
	return s[:i], s[i:], true
}

func cmpInt(x, y string) int {
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

// compareGo compares two Go versions; unparsable versions sort lowest.
func compareGo(x, y string) int {
	a, aok := parseGover(x)
	b, bok := parseGover(y)
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return -1
	case !bok:
		return 1
	}
	if c := cmpInt(a.major, b.major); c != 0 {
		return c
	}
	if c := cmpInt(a.minor, b.minor); c != 0 {
		return c
	}
	// Language version < prerelease < release.
	rank := func(g gover) int {
		switch {
		case g.patch == "" && g.kind == "":
			return 0
		case g.kind != "":
			return 1
		}
		return 2
	}
	if c := rank(a) - rank(b); c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	if a.kind != b.kind {
		return strings.Compare(a.kind, b.kind) // alpha < beta < rc
	}
	if a.kind != "" {
		return cmpInt(a.pre, b.pre)
	}
	return cmpInt(a.patch, b.patch)
}
