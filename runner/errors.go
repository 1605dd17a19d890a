//go:build unix

package runner

import (
	"errors"
	"io/fs"
)

// StartError reports that the program could not be started: the file is
// missing, not executable, or the exec failed. The program never ran, so
// the supervisor does not retry. Unwrap returns the exec error.
type StartError struct {
	Path string // the executable
	Err  error  // the error from exec, usually an *fs.PathError
}

func (e *StartError) Error() string {
	cause := e.Err
	var pe *fs.PathError
	if errors.As(cause, &pe) && pe.Path == e.Path {
		cause = pe.Err // avoid repeating the path
	}
	return "start " + e.Path + ": " + cause.Error()
}

func (e *StartError) Unwrap() error { return e.Err }
