//go:build !unix && !windows

package unixonly

// fnrun needs process groups and Unix signals. The undefined name below is
// the build error a build for a system that is not Unix reports (see
// doc.go).
var _ = fnrun_supports_only_unix_systems__this_GOOS_is_not_supported
