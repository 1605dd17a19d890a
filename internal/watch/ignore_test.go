package watch

import (
	"path/filepath"
	"testing"
)

func TestParseGitignore(t *testing.T) {
	rules := parseGitignore([]byte("# comment\n\n/bin\nbuild/\n*.log\n!keep.log\ndocs/**/*.tmp\n\\#hash\n[bad\n"))
	want := []gitRule{
		{glob: "bin", anchored: true},
		{glob: "build", dirOnly: true},
		{glob: "*.log"},
		{glob: "keep.log", negate: true},
		{glob: "docs/**/*.tmp", anchored: true},
		{glob: "#hash"},
	}
	if len(rules) != len(want) {
		t.Fatalf("got %d rules %+v, want %d", len(rules), rules, len(want))
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Errorf("rule %d: got %+v, want %+v", i, rules[i], want[i])
		}
	}
}

func TestWatcher_ignored(t *testing.T) {
	root := "/r"
	w := &Watcher{
		opts: Options{Ignore: []string{"*.pb.go", "gen/**", "tools"}},
		gitignore: map[string][]gitRule{
			"/r":     parseGitignore([]byte("/bin\nbuild/\n*.log\n!keep.log\n")),
			"/r/sub": parseGitignore([]byte("local.txt\n/anch.go\n")),
		},
	}
	yes, no := ptr(true), ptr(false)
	tests := []struct {
		path  string
		isDir *bool
		want  bool
	}{
		{"/r", yes, false},
		{"/r/main.go", no, false},
		{"/r/.git", yes, true},
		{"/r/.git/HEAD", no, true},
		{"/r/.env", no, true},
		{"/r/main.go~", no, true},
		{"/r/main.go.swp", no, true},
		{"/r/4913", no, true},
		{"/r/main.go___jb_tmp___", no, true},
		{"/r/vendor", yes, true},
		{"/r/vendor/x.go", no, true},
		{"/r/pkg/testdata/in.txt", no, true},
		{"/r/x.pb.go", no, true},
		{"/r/pkg/x.pb.go", no, true},
		{"/r/gen/x.go", no, true},
		{"/r/gen", yes, true},
		{"/r/pkg/gen/x.go", no, false}, // "gen/**" is relative to the root
		{"/r/tools/x.go", no, true},
		{"/r/bin", yes, true},
		{"/r/bin/x", no, true},
		{"/r/pkg/bin", yes, false}, // anchored to the root
		{"/r/build", yes, true},
		{"/r/build", nil, true}, // removed: type unknown
		{"/r/build", no, false}, // dir-only rule
		{"/r/pkg/build/out", no, true},
		{"/r/a.log", no, true},
		{"/r/keep.log", no, false},
		{"/r/sub/local.txt", no, true},
		{"/r/local.txt", no, false},
		{"/r/sub/anch.go", no, true},
		{"/r/sub/deep/anch.go", no, false},
		{"/other/x.go", no, true},
	}
	for _, tt := range tests {
		if got := w.ignored(root, filepath.FromSlash(tt.path), tt.isDir); got != tt.want {
			t.Errorf("ignored(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	w.opts.KeepVendor, w.opts.KeepTestdata = true, true
	for _, p := range []string{"/r/vendor/x.go", "/r/pkg/testdata/in.txt"} {
		if w.ignored(root, p, no) {
			t.Errorf("with KeepVendor and KeepTestdata, ignored(%q) = true, want false", p)
		}
	}
}
