package proxy

import (
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tcp := func(a string) Addr { return Addr{"tcp", a} }
	unix := func(a string) Addr { return Addr{"unix", a} }
	tests := []struct {
		spec          string
		public, priv  Addr
		wantErrSubstr string
	}{
		{spec: ":8080=127.0.0.1:9000", public: tcp(":8080"), priv: tcp("127.0.0.1:9000")},
		{spec: "0.0.0.0:80=localhost:8081", public: tcp("0.0.0.0:80"), priv: tcp("localhost:8081")},
		{spec: "tcp://:8080=tcp://127.0.0.1:9000", public: tcp(":8080"), priv: tcp("127.0.0.1:9000")},
		{spec: "[::1]:8080=[::1]:9000", public: tcp("[::1]:8080"), priv: tcp("[::1]:9000")},
		{spec: ":8080=unix:///run/fn/app.sock", public: tcp(":8080"), priv: unix("/run/fn/app.sock")},
		{spec: ":8080=/run/fn/app.sock", public: tcp(":8080"), priv: unix("/run/fn/app.sock")},
		{spec: "unix:///tmp/pub.sock=:9000", public: unix("/tmp/pub.sock"), priv: tcp(":9000")},
		{spec: ":65535=:01", public: tcp(":65535"), priv: tcp(":1")},
		{spec: "10.0.0.1:8080=127.0.0.1:8080", public: tcp("10.0.0.1:8080"), priv: tcp("127.0.0.1:8080")},

		{spec: ":8080", wantErrSubstr: "want PUBLIC=PRIVATE"},
		{spec: "", wantErrSubstr: "want PUBLIC=PRIVATE"},
		{spec: "=:9000", wantErrSubstr: "public address: empty"},
		{spec: ":8080=", wantErrSubstr: "private address: empty"},
		{spec: ":8080=:9000=:9001", wantErrSubstr: `more than one "="`},
		{spec: ":http=:9000", wantErrSubstr: `bad port "http"`},
		{spec: ":8080=:0", wantErrSubstr: `bad port "0"`},
		{spec: ":8080=:65536", wantErrSubstr: `bad port "65536"`},
		{spec: ":8080=:-1", wantErrSubstr: `bad port "-1"`},
		{spec: ":8080=:", wantErrSubstr: `bad port ""`},
		{spec: ":8080=localhost", wantErrSubstr: "want host:port"},
		{spec: ":8080=::1:9000", wantErrSubstr: "want host:port"},
		{spec: ":8080=unix://app.sock", wantErrSubstr: `unix socket path "app.sock" is not absolute`},
		{spec: ":8080=unix://", wantErrSubstr: "is not absolute"},
		{spec: ":8080=app.sock", wantErrSubstr: "want host:port"},
		{spec: ":8080=http://localhost:9000", wantErrSubstr: `unknown scheme "http"`},
		{spec: ":8080=tcp:///x:9000", wantErrSubstr: `bad host "/x"`},
		{spec: ":8080=:8080", wantErrSubstr: "forward to itself"},
		{spec: ":8080=:08080", wantErrSubstr: "forward to itself"},
		{spec: ":8080=127.0.0.1:8080", wantErrSubstr: "forward to itself"},
		{spec: "0.0.0.0:8080=localhost:8080", wantErrSubstr: "forward to itself"},
		{spec: "127.0.0.1:8080=[::]:8080", wantErrSubstr: "forward to itself"},
		{spec: "/s=unix:///s", wantErrSubstr: "forward to itself"},
	}
	for _, tt := range tests {
		public, priv, err := ParseSpec(tt.spec)
		if tt.wantErrSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
				t.Errorf("ParseSpec(%q): got error %v, want one containing %q", tt.spec, err, tt.wantErrSubstr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.spec, err)
			continue
		}
		if public != tt.public || priv != tt.priv {
			t.Errorf("ParseSpec(%q): got %+v, %+v; want %+v, %+v", tt.spec, public, priv, tt.public, tt.priv)
		}
	}
}

func TestAddr_String(t *testing.T) {
	for _, tt := range []struct {
		a    Addr
		want string
	}{
		{Addr{"tcp", "127.0.0.1:80"}, "127.0.0.1:80"},
		{Addr{"tcp", "[::1]:80"}, "[::1]:80"},
		{Addr{"unix", "/run/a.sock"}, "unix:///run/a.sock"},
	} {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String(): got %q, want %q", tt.a, got, tt.want)
		}
	}
}

// FuzzParseSpec: ParseSpec never panics, and what it accepts is printed
// by String in a form it reads back to the same addresses.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		":8080=127.0.0.1:9000", "tcp://[::1]:1=unix:///a/b", "/a=/b", "=", "a=b=c",
		"unix://=:1", ":1=tcp://", "[fe80::1%eth0]:80=:81", ":8080=:0x50",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		public, private, err := ParseSpec(s)
		if err != nil {
			return
		}
		for _, a := range []Addr{public, private} {
			if a.Network != "tcp" && a.Network != "unix" || a.Address == "" {
				t.Fatalf("ParseSpec(%q): bad address %+v", s, a)
			}
		}
		spec := public.String() + "=" + private.String()
		public2, private2, err := ParseSpec(spec)
		if err != nil {
			t.Fatalf("ParseSpec(%q) = %v, %v, but ParseSpec(%q): %v", s, public, private, spec, err)
		}
		if public2 != public || private2 != private {
			t.Fatalf("ParseSpec(%q) = %v, %v; ParseSpec(%q) = %v, %v", s, public, private, spec, public2, private2)
		}
	})
}
