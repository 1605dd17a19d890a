//go:build !unix

package build

import "io/fs"

// inode returns 0: no portable inode number on this system.
func inode(fs.FileInfo) uint64 { return 0 }
