package unixonly

// fnrun needs process groups and Unix signals; Windows has neither. The
// undefined name below is the build error a Windows build reports (see
// doc.go).
var _ = fnrun_supports_only_unix_systems__windows_is_not_supported
