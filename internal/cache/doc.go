// Package cache owns the layout of fnrun's cache directory and the two
// primitives everything written there goes through: atomic file writes
// (temporary name, fsync, rename) and per-key lock files. It also writes the
// files a user names (--report, build -o) with WriteOutput: replaced
// atomically when regular, written in place when a device, FIFO or
// /dev/stdout.
//
// Layout under the root (default os.UserCacheDir()/fnrun, mode 0700):
//
//	bin/      built binaries, one directory per build key (package build)
//	src/      fetched checkouts, one directory per identity (package fetch)
//	resolve/  remembered resolutions of moving references (package fetch)
//	fp/       stat fingerprints of local trees → content hashes (package build)
//	toolchain/ cached `go env` facts keyed by the go binary's fingerprint
//	locks/    lock files, one per key
//	tmp/      temporary files and directories, renamed into place
//
// Every function here is safe for concurrent use by several goroutines and
// several processes sharing one cache directory.
package cache
