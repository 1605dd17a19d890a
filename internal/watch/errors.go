package watch

import (
	"errors"
	"fmt"
	"syscall"
)

// Kernel limits that inotify can run into, and example values to raise
// them to.
const (
	sysctlMaxWatches    = "fs.inotify.max_user_watches"
	sysctlMaxInstances  = "fs.inotify.max_user_instances"
	suggestMaxWatches   = 524288
	suggestMaxInstances = 1024
)

// LimitError reports that the kernel refused a watch because a per-user
// inotify limit is exhausted. Err is the underlying errno
// (syscall.ENOSPC for watches, syscall.EMFILE for instances), so
// errors.Is(err, syscall.ENOSPC) works on it.
type LimitError struct {
	Op     string // what was being done, e.g. "watch /src/pkg"
	What   string // the exhausted resource, e.g. "too many inotify watches"
	Sysctl string // the sysctl that raises the limit
	Value  int    // a suggested value for Sysctl
	Err    error
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %s (raise %s, e.g. sudo sysctl %s=%d): %v",
		e.Op, e.What, e.Sysctl, e.Sysctl, e.Value, e.Err)
}

func (e *LimitError) Unwrap() error { return e.Err }

// addError maps an error from fsnotify's Add of dir: ENOSPC, which the
// kernel returns without a path when max_user_watches is exhausted,
// becomes a *LimitError; anything else is wrapped with the directory.
func addError(dir string, err error) error {
	op := "watch " + dir
	if errors.Is(err, syscall.ENOSPC) {
		return &LimitError{Op: op, What: "too many inotify watches",
			Sysctl: sysctlMaxWatches, Value: suggestMaxWatches, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// newWatcherError maps an error from fsnotify.NewWatcher: EMFILE means the
// per-user number of inotify instances is exhausted.
func newWatcherError(err error) error {
	op := "create inotify watcher"
	if errors.Is(err, syscall.EMFILE) {
		return &LimitError{Op: op, What: "too many inotify instances",
			Sysctl: sysctlMaxInstances, Value: suggestMaxInstances, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}
