// Package logfile owns one function's log file on disk: appending whole lines to it,
// rotating it by size, keeping a bounded number of older files (optionally gzip-compressed)
// and reading them back in order.
//
// Layout for a log file at PATH with MaxFiles = 5:
//
//	PATH         the current file, appended to
//	PATH.1       the previous file, never compressed
//	PATH.2[.gz]  older files; with Compress, gzipped in the background
//	…
//	PATH.5[.gz]  the oldest kept; a rotation removes it
//
// A rotation renames PATH to PATH.1 (after shifting PATH.N to PATH.N+1) and creates a new
// PATH, so a reader following PATH notices a rotation by the inode of PATH changing: its
// open descriptor still reads the old file to its end, then it reopens PATH from offset 0.
// [Follow] does exactly that. PATH.1 stays uncompressed so that a reader that notices a
// rotation late can still find the rest of the old file by name.
//
// The package knows nothing of processes, sockets or terminals: it is given bytes.
package logfile
