//go:build unix && !linux

package cli

import "context"

func watchPID(pid int) (wait func(context.Context) error, release func()) { return watchPIDPoll(pid) }
