package build

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoGo is returned when a build is needed but no `go` command is on PATH
// (or no toolchain facts were ever recorded to compute a key without one).
var ErrNoGo = errors.New("no go command on PATH")

// NotMainError reports that the package to build is not a main package.
// Mains lists the import paths of the main packages found in the module.
type NotMainError struct {
	Dir        string   // the package directory
	ImportPath string   // the package's import path
	Name       string   // the package name found; "" when the directory has no Go files to build
	Mains      []string // main packages under the module root
}

func (e *NotMainError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("build %s: not a main package (no Go files to build in %s)", e.ImportPath, e.Dir)
	}
	return fmt.Sprintf("build %s: not a main package (package %s)", e.ImportPath, e.Name)
}

// Detail lists the main packages the user may have meant.
func (e *NotMainError) Detail() string {
	if len(e.Mains) == 0 {
		return "the module has no main packages"
	}
	return "main packages in this module:\n\t" + strings.Join(e.Mains, "\n\t")
}

// Error is a failed `go build`: the command, where it ran and its output.
// Unwrap returns the underlying error (an *exec.ExitError when go ran and
// failed).
type Error struct {
	Package string   // import path being built
	Cmd     []string // the go command's argument vector
	Dir     string   // the directory it ran in
	Output  string   // combined stdout and stderr of the go command
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("build %s: compile failed: %v", e.Package, e.Err)
}

// Detail returns the compiler's output.
func (e *Error) Detail() string { return strings.TrimRight(e.Output, "\n") }

func (e *Error) Unwrap() error { return e.Err }

// GoVersionError reports that go.mod (or go.work) requires a newer Go than the
// one installed, while toolchain switching is off (GOTOOLCHAIN=local).
type GoVersionError struct {
	File string // the go.mod or go.work with the go directive
	Need string // e.g. "1.99"
	Have string // e.g. "1.26.8"
}

func (e *GoVersionError) Error() string {
	return fmt.Sprintf("%s requires go >= %s (running go %s; set GOTOOLCHAIN=auto or install a newer Go)",
		goModName(e.File), e.Need, e.Have)
}

// Detail names the file holding the go directive.
func (e *GoVersionError) Detail() string { return "go directive in " + e.File }

func goModName(file string) string {
	if strings.HasSuffix(file, "go.work") {
		return "go.work"
	}
	return "go.mod"
}
