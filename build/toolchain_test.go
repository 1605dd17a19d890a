package build

import (
	"maps"
	"testing"
)

func TestFactsFileRoundTrip(t *testing.T) {
	f := &facts{GoPath: "/usr/local/go/bin/go", Env: map[string]string{
		"GOVERSION": "go1.26.8", "GOFLAGS": `-tags=a,b -ldflags="-X main.v=1"`, "CC": "gcc", "EMPTY": "",
		"ODD": "line1\nline2 \"quoted\" \\ \t\x00 é",
	}}
	got := parseFacts(f.marshal())
	if got == nil {
		t.Fatalf("parseFacts(marshal) = nil; file:\n%s", f.marshal())
	}
	if got.GoPath != f.GoPath || !maps.Equal(got.Env, f.Env) {
		t.Errorf("round trip: got %+v, want %+v", got, f)
	}
}

func TestParseFactsRefuses(t *testing.T) {
	for _, data := range []string{
		"",
		`{"go":"/usr/bin/go","env":{"GOVERSION":"go1.26.8"}}`, // the JSON of earlier versions
		"fnrun-toolchain 2\ngo \"/usr/bin/go\"\nGOVERSION \"go1.26.8\"\n",
		"fnrun-toolchain 1\ngo \"/usr/bin/go\"\n",                            // no GOVERSION
		"fnrun-toolchain 1\nGOVERSION \"go1.26.8\"\n",                        // no go
		"fnrun-toolchain 1\ngo \"/usr/bin/go\"\nGOVERSION go1.26.8\n",        // not quoted
		"fnrun-toolchain 1\ngo \"/usr/bin/go\"\nGOVERSION \"go1.26.8\"\nX\n", // no value
	} {
		if f := parseFacts([]byte(data)); f != nil {
			t.Errorf("parseFacts(%q) = %+v, want nil", data, f)
		}
	}
}

func FuzzParseFacts(f *testing.F) {
	f.Add([]byte("fnrun-toolchain 1\ngo \"/usr/bin/go\"\nGOVERSION \"go1.26.8\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fa := parseFacts(data)
		if fa == nil {
			return
		}
		again := parseFacts(fa.marshal())
		if again == nil || again.GoPath != fa.GoPath || !maps.Equal(again.Env, fa.Env) {
			t.Fatalf("parse(marshal(parse(%q))) = %+v, want %+v", data, again, fa)
		}
	})
}
