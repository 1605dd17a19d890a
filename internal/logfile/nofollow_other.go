//go:build !unix

package logfile

// oNoFollow is not available here; Open's Lstat check is the only guard.
const oNoFollow = 0
