package fetch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParse(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want Source
	}{
		{".", Source{Kind: KindLocal, Dir: wd}},
		{"..", Source{Kind: KindLocal, Dir: filepath.Dir(wd)}},
		{"./fn", Source{Kind: KindLocal, Dir: filepath.Join(wd, "fn")}},
		{"../../etc", Source{Kind: KindLocal, Dir: filepath.Join(wd, "../../etc")}},
		{"/abs/fn/", Source{Kind: KindLocal, Dir: "/abs/fn"}},
		{"example.com/fn", Source{Kind: KindModule, Path: "example.com/fn"}},
		{"example.com/fn@latest", Source{Kind: KindModule, Path: "example.com/fn"}},
		{"example.com/fn/cmd/x@v1.2.3", Source{Kind: KindModule, Path: "example.com/fn/cmd/x", Query: "v1.2.3"}},
		{"example.com/fn/v2@v2.0.0", Source{Kind: KindModule, Path: "example.com/fn/v2", Query: "v2.0.0"}},
		{"example.com/fn@v0.0.0-20240102030405-0123456789ab", Source{Kind: KindModule, Path: "example.com/fn", Query: "v0.0.0-20240102030405-0123456789ab"}},
		{"example.com/fn@main", Source{Kind: KindModule, Path: "example.com/fn", Query: "main"}},
		{"example.com/fn@feature/x", Source{Kind: KindModule, Path: "example.com/fn", Query: "feature/x"}},
		{"example.com/fn@0123abcd", Source{Kind: KindModule, Path: "example.com/fn", Query: "0123abcd"}},
		{"git::https://host/repo.git", Source{Kind: KindGetter, URL: "git::https://host/repo.git"}},
		{"git::https://host/repo.git//cmd/fn?ref=v1.2.0", Source{Kind: KindGetter, URL: "git::https://host/repo.git?ref=v1.2.0", Subdir: "cmd/fn"}},
		{"git::file:///srv/repo.git", Source{Kind: KindGetter, URL: "git::file:///srv/repo.git"}},
		{"git::http://127.0.0.1:8080/repo", Source{Kind: KindGetter, URL: "git::http://127.0.0.1:8080/repo"}},
		{"git::ssh://git@host/repo.git?ref=main", Source{Kind: KindGetter, URL: "git::ssh://git@host/repo.git?ref=main"}},
		{"https://host/fn.tar.gz//fn", Source{Kind: KindGetter, URL: "https://host/fn.tar.gz", Subdir: "fn"}},
		{"https://host/fn.zip?checksum=sha256:00", Source{Kind: KindGetter, URL: "https://host/fn.zip?checksum=sha256:00"}},
		{"file:///tmp/fn.tar.gz", Source{Kind: KindGetter, URL: "file:///tmp/fn.tar.gz"}},
		{"http://host/", Source{Kind: KindGetter, URL: "http://host/"}}, // parses; Fetch refuses
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		tt.want.Raw = tt.in
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParse_errors(t *testing.T) {
	for _, in := range []string{
		"",
		"fn",
		"fn@v1.0.0",
		"Example..com/fn",
		"example.com/fn@",
		"example.com/fn@-v1",
		"example.com/fn@none",
		"example.com/fn@v1@v2",
		"example.com/fn@a..b",
		"example.com//fn",
		"example.com/fn\x00",
		"example.com/fn with space",
		"-example.com/fn",
		"git::ext::sh -c touch% /tmp/pwned",
		"git::ext::sh -c 'touch /tmp/x'",
		"git::https://host/repo.git?ref=--upload-pack=touch /tmp/x",
		"git::https://host/repo.git?ref=-x",
		"git::https://host/repo.git?ref=a&ref=b",
		"git::https://host/repo.git?sshkey=AAAA",
		"git::https://host/repo.git//../x",
		"git::https://host/repo.git///etc",
		"git::https://host/repo.git//a/../../x",
		"git::/srv/repo.git",
		"hg::https://host/repo",
		"s3::https://s3.amazonaws.com/bucket/fn.zip",
		"ftp://host/fn.tar.gz",
		"ssh://host/repo.git",
		"https://host/repo.git",
		"https:///fn.tar.gz",
		"file://host/fn.tar.gz",
		"https://host/fn.tar.gz?ref=main",
		"://",
		"::",
	} {
		src, err := Parse(in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %+v, %v; want *ParseError", in, src, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		".", "./fn", "../../etc", "/abs", "example.com/fn@v1.2.3", "example.com/fn/cmd/x@main",
		"git::https://host/repo.git//cmd/fn?ref=v1.2.0", "https://host/fn.tar.gz//fn?checksum=sha256:00",
		"git::ext::sh -c x", "git::https://h/r?ref=--upload-pack=x", "ftp://x", "s3::https://x", "file:///x.zip",
		"https://[::1]:80/x.zip", "git::https://h/r//a/../..",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T, want *ParseError", s, err)
			}
			return
		}
		if src.Raw != s {
			t.Fatalf("Raw = %q, want %q", src.Raw, s)
		}
		switch src.Kind {
		case KindLocal:
			if !filepath.IsAbs(src.Dir) {
				t.Fatalf("Parse(%q): Dir %q not absolute", s, src.Dir)
			}
		case KindModule:
			if src.Path == "" || (src.Query != "" && src.Query[0] == '-') {
				t.Fatalf("Parse(%q) = %+v", s, src)
			}
		case KindGetter:
			if checkSubdir(src.Subdir) != nil && src.Subdir != "" {
				t.Fatalf("Parse(%q): bad subdir %q accepted", s, src.Subdir)
			}
			_, u, err := getterURL(src.URL)
			if err != nil {
				t.Fatalf("Parse(%q): URL %q does not parse: %v", s, src.URL, err)
			}
			if ref := u.Query().Get("ref"); ref != "" && ref[0] == '-' {
				t.Fatalf("Parse(%q): ref %q accepted", s, ref)
			}
		default:
			t.Fatalf("Parse(%q): kind %v", s, src.Kind)
		}
	})
}
