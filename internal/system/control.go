package system

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fnrun/fnrun/internal/fn"
)

// FunctionStatus is the status of one function of the system: an entry, or
// one replica of it.
type FunctionStatus struct {
	Name  string // api, or api.2 for a replica
	Entry string
	fn.Status
}

// Status returns the status of every function of the system, in start
// order (replicas in order).
func (s *System) Status() []FunctionStatus {
	var out []FunctionStatus
	for _, u := range s.units {
		for _, f := range u.fns {
			out = append(out, FunctionStatus{Name: f.Name(), Entry: u.e.Name, Status: f.Status()})
		}
	}
	return out
}

// Names returns the names Act accepts: every entry and, for an entry with
// replicas, every replica.
func (s *System) Names() []string {
	var out []string
	for _, u := range s.units {
		out = append(out, u.e.Name)
		if len(u.fns) > 1 {
			for _, f := range u.fns {
				out = append(out, f.Name())
			}
		}
	}
	return out
}

// UnknownError names the functions a request named that the system does
// not have.
type UnknownError struct {
	Unknown, Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown function %s (known: %s)", strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
}

// Actions Act carries out.
const (
	ActRestart = fn.ActRestart // stop gracefully and start again at once, backoff reset
	ActStop    = fn.ActStop    // stop gracefully and keep stopped until ActStart
	ActStart   = fn.ActStart   // start a stopped function
)

// Act carries out act on the named functions (an entry's name means all its
// replicas) at the same time, and returns once it has happened to all of
// them (or ctx is done); without wait, once it is under way. Unknown names
// are refused before anything is done.
func (s *System) Act(ctx context.Context, act string, names []string, wait bool) error {
	fns, err := s.lookup(names)
	if err != nil {
		return err
	}
	do, err := fn.Action(act)
	if err != nil {
		return err
	}
	if !wait {
		for _, f := range fns {
			go do(f, context.WithoutCancel(ctx))
		}
		return nil
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() {
			if err := do(f, ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", f.Name(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// lookup returns the functions names stand for, each once.
func (s *System) lookup(names []string) ([]*fn.Function, error) {
	var fns []*fn.Function
	var unknown []string
	for _, name := range names {
		found := false
		for _, u := range s.units {
			for _, f := range u.fns {
				if (u.e.Name == name || f.Name() == name) && !slices.Contains(fns, f) {
					fns = append(fns, f)
				}
				found = found || u.e.Name == name || f.Name() == name
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownError{Unknown: unknown, Known: s.Names()}
	}
	return fns, nil
}
