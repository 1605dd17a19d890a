package runner

import (
	"syscall"
	"time"
)

/*
Stopping is one sequence: StopSignal to the whole group, wait for the
leader until StopTimeout, SIGKILL the group, wait for the leader to be
reaped, then make sure no member of the group is left (the grace period
left over applies to them, then SIGKILL). Kill cuts any grace period short.
A leader that exits by itself may leave members behind (a crash that
orphans a worker); they get the same sequence before the next run starts
or Run returns, so a restarted program never finds its port still taken.
After the final SIGKILL the wait is bounded (killWait): a process stuck in
the kernel, or one that is not our child and waits to be reaped, must not
hang the supervisor forever.
*/

const killWait = 2 * time.Second

// stop stops a running leader and its group gracefully.
func (s *Supervisor) stop(p *proc, run int) {
	sig := s.opts.StopSignal
	s.emit(Event{Kind: EventStopping, Run: run, PID: p.pid, Signal: sig})
	deadline := time.Now().Add(s.opts.StopTimeout)
	signalGroup(p.pid, sig)
	t := time.NewTimer(s.opts.StopTimeout)
	select {
	case <-p.done:
		t.Stop()
	case <-t.C:
		signalGroup(p.pid, syscall.SIGKILL)
		<-p.done
	case <-s.killCh:
		t.Stop()
		signalGroup(p.pid, syscall.SIGKILL)
		<-p.done
	}
	s.awaitMembers(p, deadline)
}

// kill SIGKILLs the group at once and waits for it to be gone.
func (s *Supervisor) kill(p *proc) {
	signalGroup(p.pid, syscall.SIGKILL)
	<-p.done
	if groupAlive(p.pid) {
		signalGroup(p.pid, syscall.SIGKILL)
		awaitGroupGone(p.pid, time.Now().Add(killWait), nil)
	}
}

// clearGroup runs after the leader exited by itself: members left in its
// group are stopped like a running program.
func (s *Supervisor) clearGroup(p *proc, run int) {
	if !groupAlive(p.pid) { // the common case: one syscall
		return
	}
	sig := s.opts.StopSignal
	s.emit(Event{Kind: EventStopping, Run: run, PID: p.pid, Signal: sig})
	signalGroup(p.pid, sig)
	s.awaitMembers(p, time.Now().Add(s.opts.StopTimeout))
}

// awaitMembers waits, after the leader was reaped, until the rest of the
// group is gone; at deadline (or on Kill) it SIGKILLs the group and waits
// at most killWait more.
func (s *Supervisor) awaitMembers(p *proc, deadline time.Time) {
	if awaitGroupGone(p.pid, deadline, s.killCh) {
		return
	}
	signalGroup(p.pid, syscall.SIGKILL)
	awaitGroupGone(p.pid, time.Now().Add(killWait), nil)
}
