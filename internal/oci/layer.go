package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

/*
A layer is a gzipped tar of a file list. Everything that could vary
between two runs with the same inputs is fixed: every time is the image's
Created time; owners are numeric (no names); entries are sorted by path,
every directory an explicit entry before what it holds (parents that the
list does not name are added as 0755 root:root); the tar format is
whatever the headers need, chosen the same way each time; gzip's header
has no name and no time, and the level is CompressionLevel.
*/

// CompressionLevel is the gzip level of every layer: a fixed level keeps
// the compressed bytes, and so the digests, the same. The fastest: on
// fnrun's 18 MB binary it takes 0.2 s where the default level takes 0.7 s,
// for a layer 6% larger (10.5 MB against 9.9 MB), and an image is made
// again on every change of a function.
const CompressionLevel = gzip.BestSpeed

// File is one entry of a layer: a directory (Mode has fs.ModeDir), a
// symlink (fs.ModeSymlink, target in Data) or a regular file, whose
// content is Data or, when From is set, the host file From (copied when
// the layer is written).
type File struct {
	Path     string      // absolute path in the image, e.g. /etc/passwd
	Mode     fs.FileMode // permission bits, fs.ModeDir, fs.ModeSymlink, setuid/setgid/sticky
	UID, GID int
	Data     []byte
	From     string
}

// Layer is one layer of an image: its files, and what made it (the
// history entry's created_by).
type Layer struct {
	CreatedBy string
	Files     []File
}

// layerDigests is what writing a layer learnt: the blob's digest and size
// and the uncompressed tar's digest (the config's diff_id).
type layerDigests struct {
	digest string
	size   int64
	diffID string
}

// writeLayer writes l to w as a gzipped tar with every time set to t.
func writeLayer(w io.Writer, l Layer, t time.Time) (layerDigests, error) {
	files, err := normalize(l.Files)
	if err != nil {
		return layerDigests{}, err
	}
	blob := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, blob)}
	gz, err := gzip.NewWriterLevel(cw, CompressionLevel)
	if err != nil {
		return layerDigests{}, err
	}
	// gzip.Header is zero: no name, no comment, ModTime 0, OS unknown.
	diff := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(gz, diff))
	for _, f := range files {
		if err := writeEntry(tw, f, t); err != nil {
			return layerDigests{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return layerDigests{}, err
	}
	if err := gz.Close(); err != nil {
		return layerDigests{}, err
	}
	return layerDigests{digest: digestOf(blob), size: cw.n, diffID: digestOf(diff)}, nil
}

// normalize cleans the paths, refuses duplicates, adds missing parent
// directories and sorts the list so that a directory comes before its
// contents.
func normalize(in []File) ([]File, error) {
	byPath := map[string]File{}
	for _, f := range in {
		p := path.Clean("/" + f.Path)
		if p == "/" || f.Path == "" {
			return nil, fmt.Errorf("layer file %q: not a path below /", f.Path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("layer file %s: named twice", p)
		}
		f.Path = p
		byPath[p] = f
	}
	for p := range byPath {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Mode: fs.ModeDir | 0o755}
			} else if !byPath[d].Mode.IsDir() {
				return nil, fmt.Errorf("layer file %s: %s is not a directory", p, d)
			}
		}
	}
	out := make([]File, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	// Comparing paths with / as the lowest byte keeps a directory's
	// contents right after it: /a, /a/b, /a-b.
	key := func(p string) string { return strings.ReplaceAll(p, "/", "\x00") }
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(key(a.Path), key(b.Path)) })
	return out, nil
}

func writeEntry(tw *tar.Writer, f File, t time.Time) error {
	h := &tar.Header{
		Name:    strings.TrimPrefix(f.Path, "/"),
		Mode:    int64(f.Mode.Perm()),
		Uid:     f.UID,
		Gid:     f.GID,
		ModTime: t,
	}
	if f.Mode&fs.ModeSetuid != 0 {
		h.Mode |= 0o4000
	}
	if f.Mode&fs.ModeSetgid != 0 {
		h.Mode |= 0o2000
	}
	if f.Mode&fs.ModeSticky != 0 {
		h.Mode |= 0o1000
	}
	var content io.Reader
	switch {
	case f.Mode.IsDir():
		h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
	case f.Mode&fs.ModeSymlink != 0:
		h.Typeflag, h.Linkname = tar.TypeSymlink, string(f.Data)
	case f.From != "":
		src, err := os.Open(f.From)
		if err != nil {
			return fmt.Errorf("layer file %s: %w", f.Path, err)
		}
		defer src.Close()
		fi, err := src.Stat()
		if err != nil {
			return fmt.Errorf("layer file %s: %w", f.Path, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("layer file %s: %s is not a regular file", f.Path, f.From)
		}
		h.Typeflag, h.Size, content = tar.TypeReg, fi.Size(), src
	default:
		h.Typeflag, h.Size, content = tar.TypeReg, int64(len(f.Data)), bytes.NewReader(f.Data)
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("layer file %s: %w", f.Path, err)
	}
	if content != nil {
		if n, err := io.Copy(tw, content); err != nil || n != h.Size {
			if err == nil {
				err = fmt.Errorf("%s changed while it was copied", f.From)
			}
			return fmt.Errorf("layer file %s: %w", f.Path, err)
		}
	}
	return nil
}

func digestOf(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
