package build

import (
	"go/version"
	"strings"
)

// Go version comparison is go/version's: "1.21" (the language version) sorts
// before "1.21rc1", which sorts before "1.21.0". The versions fnrun compares
// come from go directives ("1.21", no "go" prefix) and from `go env
// GOVERSION` ("go1.26.8", possibly followed by " X:experiment" or a
// "-custom"/"+build" suffix); parseGover turns both into the "go1.21.0" form
// go/version takes.

// parseGover returns v as go/version spells it: with a "go" prefix and
// without a suffix after a space, '-' or '+'. ok reports whether the result
// is a valid Go version.
func parseGover(v string) (gv string, ok bool) {
	if i := strings.IndexAny(v, " -+"); i >= 0 {
		v = v[:i]
	}
	if !strings.HasPrefix(v, "go") {
		v = "go" + v
	}
	return v, version.IsValid(v)
}

// compareGo compares two Go versions, with or without the "go" prefix;
// unparsable versions sort lowest (and equal to each other).
func compareGo(x, y string) int {
	a, _ := parseGover(x)
	b, _ := parseGover(y)
	return version.Compare(a, b)
}
