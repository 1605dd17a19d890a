// Package oci writes OCI images: an image layout directory (oci-layout,
// index.json, blobs/sha256/...) or a tar of one, holding one image per
// platform, each made of layers built from in-memory file lists.
//
// It uses the standard library only (archive/tar, compress/gzip,
// crypto/sha256, encoding/json). go-containerregistry would do the same
// work, but linking it into fnrun costs every fnrun start 0.5–1 ms
// (opencontainers/go-digest compiles regexps at init, ggcr's pkg/name
// more) and 3.2 MB of binary, for a command most starts never run. It is
// used only by the tests, to read what this package wrote back with an
// independent implementation of the spec.
//
// Output is reproducible: the same inputs give the same bytes and so the
// same digests (fixed times, owners and entry order, gzip without name or
// time at a fixed level; the compressed bytes can change with the Go
// release that built fnrun, the diff_ids cannot).
//
// The functions are safe for concurrent use when they write to different
// places; they never print and hold no state.
package oci
