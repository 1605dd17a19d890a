package watch

import "testing"

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*.go", "main.go", true},
		{"*.go", "a/main.go", false},
		{"main.go", "main.go", true},
		{"a/*.go", "a/x.go", true},
		{"a/*.go", "a/b/x.go", false},
		{"**", "anything/at/all", true},
		{"**/*.go", "x.go", true},
		{"**/*.go", "a/b/x.go", true},
		{"**/*.go", "a/b/x.txt", false},
		{"gen/**", "gen", true},
		{"gen/**", "gen/x.go", true},
		{"gen/**", "gen/a/b/x.go", true},
		{"gen/**", "other/gen/x.go", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"**/testdata/**", "pkg/testdata/in.txt", true},
		{"a/**/**/b", "a/x/b", true},
		{"?.go", "x.go", true},
		{"[a-c].go", "b.go", true},
		{"[a-c].go", "d.go", false},
		{"[abc", "a", false},
		{"", "", false},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestValidateGlob(t *testing.T) {
	for _, good := range []string{"*.go", "**/x", "a/[bc]/d", "gen/**"} {
		if err := ValidateGlob(good); err != nil {
			t.Errorf("ValidateGlob(%q) = %v, want nil", good, err)
		}
	}
	for _, bad := range []string{"", "[abc", "a/[/b", `x\`} {
		if err := ValidateGlob(bad); err == nil {
			t.Errorf("ValidateGlob(%q) = nil, want error", bad)
		}
	}
}
