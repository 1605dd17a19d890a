package build

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuilder_Build_Workspace(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"go.work":   "go 1.22\n\nuse (\n\t./fn\n\t./lib\n)\n",
		"fn/go.mod": "module example.com/fn\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n",
		"fn/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\n" +
			"func main() { fmt.Println(lib.Msg) }\n",
		"lib/go.mod": "module example.com/lib\n\ngo 1.22\n",
		"lib/lib.go": "package lib\n\nconst Msg = \"ws1\"\n",
	})
	mod := filepath.Join(ws, "fn")
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	req := Request{ModuleDir: mod}
	res := mustBuild(t, b, req)
	if got, want := runBinary(t, res.Path), "ws1"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	if want := "gowork " + `"` + filepath.Join(ws, "go.work") + `"`; !strings.Contains(res.Manifest, want) {
		t.Errorf("manifest lacks %q:\n%s", want, res.Manifest)
	}
	writeFiles(t, ws, map[string]string{"lib/lib.go": "package lib\n\nconst Msg = \"ws2\"\n"})
	key, _, err := b.Key(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if key == res.Key {
		t.Error("key unchanged after editing a go.work use directory")
	}
	writeFiles(t, ws, map[string]string{"go.work": "go 1.22\n\nuse (\n\t./fn\n\t./lib\n)\n\n// edited\n"})
	if key2 := mustKey(t, b, req); key2 == key {
		t.Error("key unchanged after editing go.work")
	}
}

func TestBuilder_Key_Embed(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	mod := filepath.Join(t.TempDir(), "emb")
	writeFiles(t, mod, map[string]string{
		"go.mod":                "module example.com/emb\n\ngo 1.22\n",
		"main.go":               "package main\n\nimport \"example.com/emb/web\"\n\nfunc main() { println(web.Index) }\n",
		"web/web.go":            "package web\n\nimport _ \"embed\"\n\n//go:embed static/index.html\nvar Index string\n",
		"web/static/index.html": "<p>one</p>\n",
		"docs/notes.txt":        "not embedded\n",
	})
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	req := Request{ModuleDir: mod}
	key := mustKey(t, b, req)
	writeFiles(t, mod, map[string]string{"docs/notes.txt": "still not embedded\n"})
	if got := mustKey(t, b, req); got != key {
		t.Error("key changed after editing a file no //go:embed can see")
	}
	writeFiles(t, mod, map[string]string{"web/static/index.html": "<p>two</p>\n"})
	if got := mustKey(t, b, req); got == key {
		t.Error("key unchanged after editing an embedded file")
	}
}

func BenchmarkBuilder_Build_Hit(b *testing.B) {
	dir := b.TempDir()
	writeFilesB(b, dir, map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": mainSrc("bench"),
	})
	opts := Options{CacheDir: b.TempDir(), Env: append(testEnv(""), "PATH="+pathForBench(b))}
	bl, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	req := Request{ModuleDir: dir}
	if _, err := bl.Build(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		// A fresh Builder per iteration, as each `fnrun run` process has.
		bl, _ := New(opts)
		res, err := bl.Build(context.Background(), req)
		if err != nil || !res.CacheHit {
			b.Fatalf("Build = %+v, %v; want a hit", res, err)
		}
	}
}
