package build

import "testing"

func TestCompareGo(t *testing.T) {
	tests := []struct {
		x, y string
		want int
	}{
		{"1.99", "1.26.8", 1},
		{"1.26", "1.26.8", -1},
		{"1.26.8", "go1.26.8", 0},
		{"1.26.9", "1.26.10", -1},
		{"1.27rc1", "1.27.0", -1},
		{"1.27", "1.27rc1", -1},
		{"1.27beta1", "1.27rc1", -1},
		{"1.22", "1.26.8", -1},
		{"1.26.0", "1.26.8 X:foo", -1},
		{"2", "1.99", 1},
	}
	for _, tt := range tests {
		if got := compareGo(tt.x, tt.y); got != tt.want {
			t.Errorf("compareGo(%q, %q) = %d, want %d", tt.x, tt.y, got, tt.want)
		}
	}
}

func TestBinaryName(t *testing.T) {
	tests := []struct{ importPath, modRoot, want string }{
		{"example.com/fn", "/src/x", "fn"},
		{"example.com/fn/cmd/tool", "/src/x", "tool"},
		{"example.com/fn/v2", "/src/x", "fn"},
		{"example.com/fn/v10", "/src/x", "fn"},
		{"example.com/fn/v1", "/src/x", "v1"},
		{"example.com/fn/v02", "/src/x", "v02"},
		{"example.com/fn/v2x", "/src/x", "v2x"},
		{"example.com/fn/v", "/src/x", "v"},
		{"fn", "/src/x", "fn"},
		{"v2", "/src/x", "v2"},
		{"example.com/..", "/src/x", "x"},
	}
	for _, tt := range tests {
		if got := binaryName(tt.importPath, tt.modRoot); got != tt.want {
			t.Errorf("binaryName(%q, %q) = %q, want %q", tt.importPath, tt.modRoot, got, tt.want)
		}
	}
}

func TestHasEmbed(t *testing.T) {
	if !hasEmbed([]byte("package x\n\nimport _ \"embed\"\n\n//go:embed static\nvar s string\n")) {
		t.Error("hasEmbed = false for a //go:embed line")
	}
	if hasEmbed([]byte("package x\n\n// see //go:embed docs\n")) {
		t.Error("hasEmbed = true for a mention in a comment")
	}
}
