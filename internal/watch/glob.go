package watch

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// MatchGlob reports whether the slash-separated relPath matches pattern.
// Pattern segments are matched with [path.Match] one path segment at a
// time; a segment that is exactly "**" matches zero or more whole
// segments, so "gen/**" matches "gen", "gen/a.go" and "gen/x/y.go", and
// "**/*_test.go" matches test files at any depth. A malformed pattern
// matches nothing; use [ValidateGlob] to reject it up front.
// MatchGlob is safe for concurrent use.
func MatchGlob(pattern, relPath string) bool {
	if pattern == "" {
		return false
	}
	return matchSegments(strings.Split(pattern, "/"), strings.Split(relPath, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			// Collapse runs of "**" and try every possible split.
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// ValidateGlob returns an error if pattern is empty or is not a valid
// [MatchGlob] pattern. A syntax error wraps [path.ErrBadPattern].
func ValidateGlob(pattern string) error {
	if err := globError(pattern); err != nil {
		return fmt.Errorf("invalid glob %q: %w", pattern, err)
	}
	return nil
}

// errEmptyGlob is the cause reported for an empty pattern.
var errEmptyGlob = errors.New("empty pattern")

// globError returns why pattern is not a valid MatchGlob pattern, without
// naming the pattern, or nil if it is valid.
func globError(pattern string) error {
	if pattern == "" {
		return errEmptyGlob
	}
	for _, seg := range strings.Split(pattern, "/") {
		if _, err := path.Match(seg, ""); err != nil {
			return err
		}
	}
	return nil
}
