package watch

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestAddError_ENOSPC(t *testing.T) {
	err := addError("/src/pkg", syscall.ENOSPC)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("addError(ENOSPC) = %T %v, want *LimitError", err, err)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("errors.Is(err, ENOSPC) = false, want true")
	}
	msg := err.Error()
	for _, want := range []string{"/src/pkg", "too many inotify watches", "sudo sysctl fs.inotify.max_user_watches=524288"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
}

func TestNewWatcherError_EMFILE(t *testing.T) {
	err := newWatcherError(syscall.EMFILE)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("newWatcherError(EMFILE) = %T %v, want *LimitError", err, err)
	}
	if !errors.Is(err, syscall.EMFILE) {
		t.Errorf("errors.Is(err, EMFILE) = false, want true")
	}
	msg := err.Error()
	for _, want := range []string{"too many inotify instances", "fs.inotify.max_user_instances"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
}

func TestAddError_Other(t *testing.T) {
	err := addError("/src/pkg", syscall.EACCES)
	var le *LimitError
	if errors.As(err, &le) {
		t.Fatalf("addError(EACCES) is a *LimitError, want plain error")
	}
	if !errors.Is(err, syscall.EACCES) || !strings.Contains(err.Error(), "/src/pkg") {
		t.Errorf("addError(EACCES) = %v, want wrapped EACCES naming the path", err)
	}
}
