// Package unixonly is the guard that stops fnrun from building for a system
// that is not Unix. It holds no code: every package that needs Unix (process
// groups, signals, ioctls) imports it for its side effect,
//
//	import _ "github.com/fnrun/fnrun/internal/unixonly"
//
// and on any other GOOS (windows, plan9, js, wasip1) this package does not
// compile, with one error whose text is the explanation:
//
//	internal/unixonly/unsupported_windows.go:…: undefined: fnrun_supports_only_unix_systems__windows_is_not_supported
//
// Why an undefined name and not a build constraint that excludes every file.
// A package whose files are all excluded makes `go build` say "build
// constraints exclude all Go files in DIR", once per import chain that
// reaches it, and never says why. A guard that fails to compile fails once,
// however many packages import it (the go command compiles a package only
// after its dependencies compiled, so the importers' own errors are never
// reached), and its message names the cause. Tagging the Unix packages'
// files `//go:build unix` as well (runner is) keeps editors quiet on other
// systems but is not what makes the build fail cleanly: this import is.
package unixonly
