// Package build turns a Go package inside a module directory into a binary in
// fnrun's content-addressed cache, and manages that cache.
//
// It owns the build key (a hash of a readable manifest of every input that can
// change the binary), the `go build` invocation, atomic publication of entries
// under root/bin/<key[:2]>/<key>/, and the typed errors a build can fail with
// (*NotMainError, *Error, *GoVersionError, ErrNoGo). It knows nothing of where a
// source came from: callers pass a module directory, a package directory inside
// it and, for immutable sources, an identity string.
//
// A cache hit runs no `go` command: the toolchain facts (`go env -json`) are
// cached per go binary and environment, and a local module tree is identified
// by a stat fingerprint that maps to a content hash.
//
// An entry is trusted only while its binary is what was published: meta.json
// records its size, mtime, inode, ctime and sha256; a hit costs one stat and
// one read of meta.json, and the binary is hashed only when its stat changed.
// Build rebuilds a damaged entry (binary overwritten or truncated, meta.json
// missing or garbage) with a warning on the logger; Verify is the same check
// for a supervisor to run before each (re)start, failing with
// ErrEntryDamaged or fs.ErrNotExist.
//
// A process that runs a cached binary and may exec it again (a supervisor
// restarting it) pins its entry with Pin; Prune and Clean skip pinned entries
// (a shared/exclusive flock on the entry's pin.lock).
//
// Result.Dirs and Builder.Dirs list the directories whose files the key of
// a local source covers (module root, local replace targets, go.work use
// directories and the go.work file's directory), for a watcher to watch
// recursively; they come from the same trees the identity hashes (dirs.go).
//
// A cold build of a local source also records, in meta.json, the directories
// of the packages its program imports within those trees (inputs.go);
// Result.Inputs returns them on a hit too, and Inputs.Matters tells a watcher
// whether a change can matter before it computes a key (nil: unknown, every
// change can). A build for a watch (Request.Watch) is recorded as such
// (Entry.Watch); Builder.Remove removes one entry as Prune does, so that a
// watch can drop the builds its later edits superseded.
//
// The go command is started with internal/toolcmd: a cancelled build
// interrupts its whole process group, so no compiler outlives it, and the go
// command's work directory is fnrun's own temporary directory, removed
// afterwards.
//
// A *Builder is safe for concurrent use by several goroutines; several
// processes may share one cache directory (per-key lock files, re-check after
// taking the lock). The package never prints; progress goes to
// Options.Progress and Options.Logger.
package build
