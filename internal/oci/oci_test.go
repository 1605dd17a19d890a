package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// testImages is a two-platform image like `fnrun image` writes, with
// fnbin as the function's binary.
func testImages(t *testing.T, fnbin string) []Image {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ims []Image
	for _, arch := range []string{"amd64", "arm64"} {
		ims = append(ims, Image{
			Platform: Platform{OS: "linux", Architecture: arch},
			Layers: []Layer{
				BaseLayer(ca),
				{CreatedBy: "fnrun", Files: []File{{Path: "/usr/local/bin/fnrun", Mode: 0o755, Data: []byte("fnrun-" + arch)}}},
				{CreatedBy: "greeter", Files: []File{{Path: "/fn/greeter", Mode: 0o755, From: fnbin}}},
			},
			Config: Config{
				User:       "65532:65532",
				Entrypoint: []string{"/usr/local/bin/fnrun", "exec", "--", "/fn/greeter"},
				Env:        []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=" + CACertsPath},
				WorkingDir: "/",
			},
		})
	}
	return ims
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestWriteLayout_ReadBack(t *testing.T) {
	fnbin := writeFile(t, filepath.Join(t.TempDir(), "greeter"), "greeter binary")
	dir := filepath.Join(t.TempDir(), "img")
	d, err := WriteLayout(dir, testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.Digest(); got.String() != d {
		t.Errorf("index digest = %s, WriteLayout said %s", got, d)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(im.Manifests), 2; got != want {
		t.Fatalf("manifests: got %d, want %d", got, want)
	}
	for i, arch := range []string{"amd64", "arm64"} {
		desc := im.Manifests[i]
		if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != arch {
			t.Errorf("manifest %d platform = %+v, want linux/%s", i, desc.Platform, arch)
		}
		if desc.MediaType != MediaTypeManifest {
			t.Errorf("manifest %d media type = %s", i, desc.MediaType)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		// validate recomputes every digest, size and diff_id.
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: %v", arch, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != arch || cf.OS != "linux" {
			t.Errorf("config platform = %s/%s, want linux/%s", cf.OS, cf.Architecture, arch)
		}
		if got, want := cf.Config.Entrypoint, []string{"/usr/local/bin/fnrun", "exec", "--", "/fn/greeter"}; !slices.Equal(got, want) {
			t.Errorf("entrypoint: got %q, want %q", got, want)
		}
		if cf.Config.Cmd != nil {
			t.Errorf("cmd: got %q, want none", cf.Config.Cmd)
		}
		if got, want := cf.Config.User, "65532:65532"; got != want {
			t.Errorf("user: got %q, want %q", got, want)
		}
		if !slices.Contains(cf.Config.Env, "SSL_CERT_FILE="+CACertsPath) {
			t.Errorf("env: got %q, want SSL_CERT_FILE", cf.Config.Env)
		}
		if got, want := len(cf.History), 3; got != want {
			t.Errorf("history: got %d entries, want %d", got, want)
		}
		if !cf.Created.Time.Equal(time.Unix(0, 0)) {
			t.Errorf("created = %v, want the epoch", cf.Created)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(layers), 3; got != want {
			t.Fatalf("layers: got %d, want %d", got, want)
		}
		for _, l := range layers {
			if mt, _ := l.MediaType(); mt != MediaTypeLayer {
				t.Errorf("layer media type = %s", mt)
			}
		}
		files := extract(t, img)
		wantFiles := map[string]struct {
			mode     int64
			uid      int
			typ      byte
			contents string
		}{
			"etc":                               {0o755, 0, tar.TypeDir, ""},
			"etc/passwd":                        {0o644, 0, tar.TypeReg, ""},
			"etc/group":                         {0o644, 0, tar.TypeReg, ""},
			"etc/ssl/certs/ca-certificates.crt": {0o644, 0, tar.TypeReg, "-----BEGIN CERTIFICATE-----\n"},
			"tmp":                               {0o1777, 0, tar.TypeDir, ""},
			"home/fnrun":                        {0o700, UserID, tar.TypeDir, ""},
			"usr/local/bin":                     {0o755, 0, tar.TypeDir, ""},
			"usr/local/bin/fnrun":               {0o755, 0, tar.TypeReg, "fnrun-" + arch},
			"fn":                                {0o755, 0, tar.TypeDir, ""},
			"fn/greeter":                        {0o755, 0, tar.TypeReg, "greeter binary"},
		}
		for name, w := range wantFiles {
			f, ok := files[name]
			if !ok {
				t.Errorf("%s: no %s in the image", arch, name)
				continue
			}
			if f.h.Mode != w.mode || f.h.Uid != w.uid || f.h.Gid != w.uid || f.h.Typeflag != w.typ {
				t.Errorf("%s: mode %o uid %d gid %d type %c, want %o %d %d %c", name, f.h.Mode, f.h.Uid, f.h.Gid, f.h.Typeflag, w.mode, w.uid, w.uid, w.typ)
			}
			if w.contents != "" && f.data != w.contents {
				t.Errorf("%s: got %q, want %q", name, f.data, w.contents)
			}
			if !f.h.ModTime.Equal(time.Unix(0, 0)) {
				t.Errorf("%s: mtime %v, want the epoch", name, f.h.ModTime)
			}
		}
		if !strings.Contains(files["etc/passwd"].data, "fnrun:x:65532:65532:") {
			t.Errorf("/etc/passwd has no user fnrun: %q", files["etc/passwd"].data)
		}
	}
}

type tarFile struct {
	h    *tar.Header
	data string
}

// extract reads img's flattened file system.
func extract(t *testing.T, img v1.Image) map[string]tarFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]tarFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = tarFile{h, string(b)}
	}
}

func TestWriteLayout_Reproducible(t *testing.T) {
	tmp := t.TempDir()
	fnbin := writeFile(t, filepath.Join(tmp, "greeter"), "greeter binary")
	d1, err := WriteLayout(filepath.Join(tmp, "a"), testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := WriteLayout(filepath.Join(tmp, "b"), testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("same inputs: digests %s and %s differ", d1, d2)
	}
	// The same directory again: replaced, same digest.
	d3, err := WriteLayout(filepath.Join(tmp, "a"), testImages(t, fnbin))
	if err != nil || d3 != d1 {
		t.Errorf("rewrite: got %s, %v; want %s", d3, err, d1)
	}
	writeFile(t, fnbin, "greeter binary, changed")
	d4, err := WriteLayout(filepath.Join(tmp, "a"), testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	if d4 == d1 {
		t.Errorf("changed file: digest %s did not change", d4)
	}
	ims := testImages(t, fnbin)
	for i := range ims {
		ims[i].Created = time.Unix(1700000000, 0)
	}
	d5, err := WriteLayout(filepath.Join(tmp, "a"), ims)
	if err != nil {
		t.Fatal(err)
	}
	if d5 == d4 {
		t.Errorf("other Created time: digest %s did not change", d5)
	}
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestWriteLayout_Refuses(t *testing.T) {
	tmp := t.TempDir()
	fnbin := writeFile(t, filepath.Join(tmp, "greeter"), "x")
	src := filepath.Join(tmp, "src")
	os.Mkdir(src, 0o755)
	keep := writeFile(t, filepath.Join(src, "main.go"), "package main")
	_, err := WriteLayout(src, testImages(t, fnbin))
	if !errors.Is(err, ErrNotLayout) {
		t.Fatalf("non-empty directory: got %v, want ErrNotLayout", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the directory was touched: %v", err)
	}
	// A failure half way (a missing file to copy) leaves nothing.
	_, err = WriteLayout(filepath.Join(tmp, "img"), testImages(t, filepath.Join(tmp, "missing")))
	if err == nil {
		t.Fatal("missing file: no error")
	}
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if e.Name() != "greeter" && e.Name() != "src" {
			t.Errorf("left behind after a failure: %s", e.Name())
		}
	}
	// Two images for one platform.
	ims := testImages(t, fnbin)
	ims[1].Platform = ims[0].Platform
	if _, err := WriteLayout(filepath.Join(tmp, "img"), ims); err == nil {
		t.Error("two images for one platform: no error")
	}
}

func TestWriteTar(t *testing.T) {
	tmp := t.TempDir()
	fnbin := writeFile(t, filepath.Join(tmp, "greeter"), "greeter binary")
	var b1, b2 bytes.Buffer
	d1, err := WriteTar(&b1, tmp, testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := WriteTar(&b2, tmp, testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 || !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Errorf("same inputs: different tars (%s, %s)", d1, d2)
	}
	dl, err := WriteLayout(filepath.Join(tmp, "layout"), testImages(t, fnbin))
	if err != nil {
		t.Fatal(err)
	}
	if dl != d1 {
		t.Errorf("tar digest %s, layout digest %s: want the same", d1, dl)
	}
	// Unpack it and read it as a layout.
	dir := filepath.Join(tmp, "unpacked")
	tr := tar.NewReader(&b1)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mtime %v, want the epoch", h.Name, h.ModTime)
		}
		p := filepath.Join(dir, h.Name)
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Error(err)
	}
	if got, _ := idx.Digest(); got.String() != d1 {
		t.Errorf("unpacked index digest = %s, want %s", got, d1)
	}
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "fnrun-oci-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]string{
		"linux/amd64":    "linux/amd64",
		"linux/arm/v7":   "linux/arm/v7",
		"linux/arm64/v8": "linux/arm64/v8",
	} {
		p, err := ParsePlatform(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePlatform(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"linux", "darwin/arm64", "linux/sparc", "linux/arm/v9", "linux/amd64/v7/x", "/amd64"} {
		if _, err := ParsePlatform(in); err == nil {
			t.Errorf("ParsePlatform(%q): no error", in)
		}
	}
	env, _ := Platform{OS: "linux", Architecture: "arm", Variant: "v7"}.GoEnv()
	if !slices.Contains(env, "GOARM=7") {
		t.Errorf("linux/arm/v7 GoEnv = %q, want GOARM=7", env)
	}
}

func TestCheckExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	if err := CheckExecutable(self, Platform{OS: "linux", Architecture: other}); !errors.Is(err, ErrPlatform) {
		t.Errorf("the test binary for %s: got %v, want ErrPlatform", other, err)
	}
	host := Platform{OS: "linux", Architecture: runtime.GOARCH}
	notELF := writeFile(t, filepath.Join(t.TempDir(), "script"), "#!/bin/sh\n")
	if err := CheckExecutable(notELF, host); err == nil || errors.Is(err, ErrDynamic) {
		t.Errorf("a script: got %v, want not an ELF executable", err)
	}
	if runtime.GOOS != "linux" {
		return
	}
	// The dynamic loader names itself in PT_INTERP of every dynamic binary.
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err == nil {
		err = CheckExecutable(sh, host)
		if err != nil && !errors.Is(err, ErrDynamic) && !strings.Contains(err.Error(), "ELF") {
			t.Errorf("/bin/sh: %v", err)
		}
	}
	if err := CheckExecutable(self, host); err != nil && !errors.Is(err, ErrDynamic) {
		t.Errorf("the test binary: %v", err)
	}
}
