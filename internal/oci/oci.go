package oci

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

/*
The layout. WriteLayout builds the whole layout in a fresh temporary
directory beside the target and renames it into place, so a failure (or
a kill) leaves the target as it was: no half-written layout. A target
that exists must be an empty directory or an earlier OCI layout (it has
an oci-layout file); it is replaced, so that `-o .` can never wipe a
source tree. Blobs are content-addressed: a layer two platforms share
(the base) is stored once.

index.json lists one manifest per image, its descriptor carrying the
image's platform, so an engine picks its own; the digest WriteLayout
returns is that of index.json's bytes.
*/

// Media types of the OCI image spec.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// layoutFile is the content of the oci-layout file.
const layoutFile = `{"imageLayoutVersion":"1.0.0"}`

// Image is one platform's image.
type Image struct {
	Platform Platform
	Layers   []Layer
	Config   Config
	// Created is the time of every file, of the config and of its history
	// entries; the zero Time means the Unix epoch.
	Created time.Time
}

// Config is the runtime part of an image's configuration.
type Config struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *Platform `json:"platform,omitempty"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by,omitempty"`
}

type configFile struct {
	Created      string `json:"created"`
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
	Config       Config `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []history `json:"history"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// ErrNotLayout is returned by WriteLayout when the target exists and is
// neither empty nor an OCI layout.
var ErrNotLayout = errors.New("exists and is not an OCI image layout (nor empty): not replaced")

// SourceDateEpoch reads $SOURCE_DATE_EPOCH's value (seconds since 1970);
// "" is the epoch itself.
func SourceDateEpoch(v string) (time.Time, error) {
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a whole number of seconds", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// WriteLayout writes images (at least one, each a different platform) as
// an OCI image layout in dir and returns the digest of its index.json.
func WriteLayout(dir string, images []Image) (indexDigest string, err error) {
	dir = filepath.Clean(dir)
	if err := checkTarget(dir); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("write image layout %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; the old layout, after a failure
	d, err := writeLayout(tmp, images)
	if err != nil {
		return "", fmt.Errorf("write image layout %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp made it 0700
		return "", err
	}
	if err := replaceDir(tmp, dir); err != nil {
		return "", fmt.Errorf("write image layout %s: %w", dir, err)
	}
	return d, nil
}

// checkTarget refuses to replace anything but nothing, an empty
// directory or an OCI layout.
func checkTarget(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err == nil {
			return nil
		}
		if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%s %w", dir, ErrNotLayout)
}

// replaceDir renames tmp to dir, moving an existing dir aside first and
// removing it after.
func replaceDir(tmp, dir string) error {
	if err := os.Rename(tmp, dir); err == nil {
		return nil
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir) // put it back
		return err
	}
	return os.RemoveAll(old)
}

// WriteTar writes images as an OCI image layout in a tar stream to w
// (the layout's files at the tar's root, as `docker save`'s OCI form and
// podman's oci-archive have them) and returns the index.json digest. The
// blobs are staged in a temporary directory under tmpDir ("" is the
// system's).
func WriteTar(w io.Writer, tmpDir string, images []Image) (string, error) {
	tmp, err := os.MkdirTemp(tmpDir, "fnrun-oci-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	d, err := writeLayout(tmp, images)
	if err != nil {
		return "", err
	}
	created := images[0].Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	if err := tarDir(w, tmp, created); err != nil {
		return "", err
	}
	return d, nil
}

// writeLayout writes the layout's files into the empty directory dir.
func writeLayout(dir string, images []Image) (string, error) {
	if len(images) == 0 {
		return "", errors.New("no image to write")
	}
	seen := map[Platform]bool{}
	for _, im := range images {
		if seen[im.Platform] {
			return "", fmt.Errorf("two images for %s", im.Platform)
		}
		seen[im.Platform] = true
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(layoutFile), 0o644); err != nil {
		return "", err
	}
	idx := index{SchemaVersion: 2, MediaType: MediaTypeIndex}
	for _, im := range images {
		desc, err := writeImage(dir, im)
		if err != nil {
			return "", fmt.Errorf("%s: %w", im.Platform, err)
		}
		p := im.Platform
		desc.Platform = &p
		idx.Manifests = append(idx.Manifests, desc)
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return "", err
	}
	if err := writeFileSync(filepath.Join(dir, "index.json"), b); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("sha256:%x", sum), nil
}

// writeImage writes im's layers, config and manifest as blobs and returns
// the manifest's descriptor.
func writeImage(dir string, im Image) (descriptor, error) {
	t := im.Created
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	t = t.UTC()
	created := t.Format(time.RFC3339)
	cf := configFile{Created: created, Architecture: im.Platform.Architecture, OS: im.Platform.OS,
		Variant: im.Platform.Variant, Config: im.Config}
	cf.RootFS.Type = "layers"
	m := manifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Layers: []descriptor{}}
	for i, l := range im.Layers {
		ld, err := writeLayerBlob(dir, l, t)
		if err != nil {
			return descriptor{}, fmt.Errorf("layer %d: %w", i+1, err)
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, ld.diffID)
		cf.History = append(cf.History, history{Created: created, CreatedBy: l.CreatedBy})
		m.Layers = append(m.Layers, descriptor{MediaType: MediaTypeLayer, Digest: ld.digest, Size: ld.size})
	}
	cfg, err := json.Marshal(cf)
	if err != nil {
		return descriptor{}, err
	}
	if m.Config, err = writeBlob(dir, MediaTypeConfig, cfg); err != nil {
		return descriptor{}, err
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return descriptor{}, err
	}
	return writeBlob(dir, MediaTypeManifest, mb)
}

// writeLayerBlob writes layer l to a temporary file in dir/blobs/sha256
// and renames it to its digest.
func writeLayerBlob(dir string, l Layer, t time.Time) (layerDigests, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	f, err := os.CreateTemp(blobs, ".layer-")
	if err != nil {
		return layerDigests{}, err
	}
	defer os.Remove(f.Name()) // after the rename: nothing there
	ld, err := writeLayer(f, l, t)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(blobs, ld.digest[len("sha256:"):]))
	}
	return ld, err
}

// writeBlob stores b under its digest.
func writeBlob(dir, mediaType string, b []byte) (descriptor, error) {
	sum := sha256.Sum256(b)
	hexd := fmt.Sprintf("%x", sum)
	if err := writeFileSync(filepath.Join(dir, "blobs", "sha256", hexd), b); err != nil {
		return descriptor{}, err
	}
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hexd, Size: int64(len(b))}, nil
}

func writeFileSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// tarDir writes the files under root to w, sorted, with fixed times and
// owners.
func tarDir(w io.Writer, root string, t time.Time) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(paths) // WalkDir's lexical order per directory is not one order overall
	tw := tar.NewWriter(w)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: t.UTC(), Mode: 0o644, Typeflag: tar.TypeReg, Size: fi.Size()}
		if fi.IsDir() {
			h.Name, h.Mode, h.Typeflag, h.Size = h.Name+"/", 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.IsDir() {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}
