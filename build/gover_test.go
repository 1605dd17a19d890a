package build

import "testing"

func TestParseGover(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1.21", "go1.21", true},
		{"go1.21.0", "go1.21.0", true},
		{"1.22rc1", "go1.22rc1", true},
		{"go1.26.8 X:nocoverageredesign", "go1.26.8", true},
		{"go1.26.8-bigcorp", "go1.26.8", true},
		{"1.26.8+auto", "go1.26.8", true},
		{"2", "go2", true},
		{"", "go", false},
		{"devel go1.27-abc123 Tue Jan 1", "godevel", false},
		{"1.021", "go1.021", false},
		{"1.21.", "go1.21.", false},
		{"1.21RC1", "go1.21RC1", false},
	}
	for _, tt := range tests {
		got, ok := parseGover(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseGover(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// compareGo's ordering cases are in key_test.go (TestCompareGo); these are
// the ones about invalid versions and the rules go/version brought.
func TestCompareGo_stdlib(t *testing.T) {
	tests := []struct {
		x, y string
		want int
	}{
		{"", "1.21", -1},
		{"1.21", "bad", 1},
		{"bad", "", 0},
		{"devel go1.27-abc", "1.0", -1},
		// Before Go 1.21 a missing patch means .0; from 1.21 on, "1.21"
		// is the language version and sorts before "1.21.0".
		{"1.20", "1.20.0", 0},
		{"1.21", "1.21.0", -1},
		{"go1.22rc1", "1.22rc2", -1},
	}
	for _, tt := range tests {
		if got := compareGo(tt.x, tt.y); got != tt.want {
			t.Errorf("compareGo(%q, %q) = %d, want %d", tt.x, tt.y, got, tt.want)
		}
	}
}
