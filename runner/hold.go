//go:build unix

package runner

import "context"

/*
Holding: "stop until start". A hold is a state, guarded by mu, that Run
acts on; holdCh (buffered, one token is enough) only wakes Run up to look
at it, so a token that finds nothing to do is ignored.

	holdOff      no hold: Hold moves to holdPending and wakes Run
	holdPending  Hold was called and Run has not acted on it yet
	holdOn       Run took the hold (takeHold): it stops the run, or ends
	             the backoff wait, and starts nothing until the state is
	             holdOff again

Resume and Restart (so also Replace) end a hold the same way: the state
goes back to holdOff and a token goes on restartCh, all under mu. A hold
Run has not taken yet is thus turned into a restart: Hold followed at once
by Resume stops the run and starts the next one, like Restart, whatever
Run was doing meanwhile, and there is never a second copy. Run, waiting
while held, looks at the state again on every token of holdCh and
restartCh: a Restart made before the Hold left a token that finds the hold
still on and is ignored, one made after finds it off. When Run leaves a
hold it empties restartCh: the run it starts is the restart asked for.

Run acts on a pending hold wherever it would otherwise go on: while a run
is running (it stops it as Restart does), after a run that exited by
itself if the policy would restart it (instead of the restart; if the
policy does not, Run returns as without a hold), after a run stopped by
Restart, and during the backoff wait. Each hold Run takes gives one
EventHeld once the run's processes are gone, also when Resume came during
the stop (the next run then starts right after it). A Hold that comes when
nothing is left to stop (after a Resume during the stop, or with a Resume
while held) is taken by holding at once, without an event of its own.
*/

// holdState is a hold's progress; see the comment above.
type holdState int

const (
	holdOff holdState = iota
	holdPending
	holdOn
)

// Hold stops the current run gracefully (as Restart does: stop signal,
// StopTimeout, the group gone) and starts no further run until Resume;
// during a backoff wait it ends the wait and holds. While held, Run keeps
// running (it returns on ctx, Kill as usual). A Hold while already held
// does nothing; one made before Run starts is dropped (as Restart's is).
// Once the run's processes are gone (after its EventExited) Run emits
// EventHeld. A Hold that arrives as the program exits by itself holds
// instead of the restart the policy would make; if the policy does not
// restart the program, Run returns as it would without the hold. Hold is
// safe to call from any goroutine.
func (s *Supervisor) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != holdOff {
		return
	}
	s.hold = holdPending
	select {
	case s.holdCh <- struct{}{}:
	default: // a token is waiting already
	}
}

// Resume ends a hold: the next run starts at once, with the backoff reset.
// Without a hold it does nothing (a Resume never starts a second copy, and
// is not remembered for a later Hold). Restart and Replace end a hold the
// same way. Nothing is emitted on Resume other than the next EventStarted.
// A Resume made before the held run is gone lets the stop finish, then
// starts the next run. It reports whether there was a hold to end. Resume
// is safe to call from any goroutine.
func (s *Supervisor) Resume() (resumed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == holdOff {
		return false
	}
	s.restartLocked()
	return true
}

// Held reports whether the supervisor is holding (after the held run's
// group is gone, until Resume). It is safe to call from any goroutine.
func (s *Supervisor) Held() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// restartLocked ends any hold and asks for a restart; s.mu is held.
func (s *Supervisor) restartLocked() {
	s.hold, s.held = holdOff, false
	select {
	case s.restartCh <- struct{}{}:
	default: // one pending request is enough
	}
}

// takeHold reports whether a Hold is pending, and if so marks it taken.
func (s *Supervisor) takeHold() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != holdPending {
		return false
	}
	s.hold = holdOn
	return true
}

// holding reports whether Run, with nothing of the program running, is to
// hold, and sets Held's answer. A pending Hold (one made after a Resume
// that came during the stop, or while held) holds too: there is nothing
// left to stop.
func (s *Supervisor) holding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == holdPending {
		s.hold = holdOn
	}
	s.held = s.hold == holdOn
	return s.held
}

// resetHold drops a hold, for a Run that starts or returns.
func (s *Supervisor) resetHold() {
	s.mu.Lock()
	s.hold, s.held = holdOff, false
	s.mu.Unlock()
	select {
	case <-s.holdCh:
	default:
	}
}

// holdWait runs once a hold was taken and nothing of run is left (pid is
// the run's, or 0 when the hold ended a backoff wait and run is the one
// that would have started). It emits EventHeld and waits until the hold is
// ended; it reports false if Run must return instead (ctx done, Kill).
func (s *Supervisor) holdWait(ctx context.Context, run, pid int) bool {
	if ctx.Err() != nil || s.killed() {
		return false
	}
	on := s.holding() // false if Resume came during the stop
	s.emit(Event{Kind: EventHeld, Run: run, PID: pid})
	for on {
		select {
		case <-s.holdCh: // look again
		case <-s.restartCh:
		case <-ctx.Done():
			return false
		case <-s.killCh:
			return false
		}
		on = s.holding()
	}
	select { // the run about to start is the restart asked for
	case <-s.restartCh:
	default:
	}
	return !s.killed() && ctx.Err() == nil
}
