//go:build unix

package runner

import (
	"syscall"
	"time"
)

/*
Stopping is one sequence: StopSignal to the whole group and to the run's
processes outside it (contain_linux.go: a descendant that called setsid, a
daemon), wait for the leader until StopTimeout, SIGKILL them all, wait for
the leader to be reaped, then make sure nothing of the run is left (the
grace period left over applies, then SIGKILL). Kill cuts any grace period
short. A leader that exits by itself may leave processes behind (a crash
that orphans a worker, a program that daemonises and exits 0); they get the
same sequence before the next run starts or Run returns, so a restarted
program never finds its port still taken. After the final SIGKILL the wait
is bounded (killWait): a process stuck in the kernel, or one that is not
our child and waits to be reaped, must not hang the supervisor forever.
*/

const killWait = 2 * time.Second

// signal sends sig to the run's group and its processes outside it.
func (p *proc) signal(sig syscall.Signal) {
	signalGroup(p.pid, sig)
	p.esc.signal(sig)
}

// killAll SIGKILLs the run's group and its processes outside it.
func (p *proc) killAll() {
	signalGroup(p.pid, syscall.SIGKILL)
	p.esc.kill()
}

// alive reports, once the leader was reaped, whether a process of the run
// is left.
func (p *proc) alive() bool {
	return groupAlive(p.pid) || p.esc.alive()
}

// stop stops a running leader and everything it started gracefully.
func (s *Supervisor) stop(p *proc, run int) {
	sig := s.stopSignal()
	s.emit(Event{Kind: EventStopping, Run: run, PID: p.pid, Signal: sig})
	deadline := time.Now().Add(s.opts.StopTimeout)
	p.signal(sig)
	t := time.NewTimer(time.Until(deadline))
	select {
	case <-p.done:
		t.Stop()
	case <-t.C:
		p.killAll()
		<-p.done
	case <-s.killCh:
		t.Stop()
		p.killAll()
		<-p.done
	}
	s.awaitRest(p, deadline)
}

// kill SIGKILLs the run at once and waits for it to be gone.
func (s *Supervisor) kill(p *proc) {
	p.killAll()
	<-p.done
	if p.alive() {
		p.killAll()
		awaitGone(p, time.Now().Add(killWait), nil)
	}
}

// clearGroup runs after the leader exited by itself: what the run left,
// in its group or outside, is stopped like a running program.
func (s *Supervisor) clearGroup(p *proc, run int) {
	if !p.alive() { // the common case: one syscall, one cheap look
		return
	}
	sig := s.stopSignal()
	s.emit(Event{Kind: EventStopping, Run: run, PID: p.pid, Signal: sig})
	p.signal(sig)
	s.awaitRest(p, time.Now().Add(s.opts.StopTimeout))
}

// awaitRest waits, after the leader was reaped, until the rest of the run
// is gone; at deadline (or on Kill) it SIGKILLs it and waits at most
// killWait more.
func (s *Supervisor) awaitRest(p *proc, deadline time.Time) {
	if awaitGone(p, deadline, s.killCh) {
		return
	}
	p.killAll()
	awaitGone(p, time.Now().Add(killWait), nil)
}

// awaitGone waits until nothing of the run is left, until deadline, or
// until stop is closed. It reports whether the run is gone. There is no
// portable way to be notified when processes that are not our children
// exit: it checks after 1 ms, 2 ms, ... up to 50 ms.
func awaitGone(p *proc, deadline time.Time, stop <-chan struct{}) bool {
	pause := time.Millisecond
	for {
		if !p.alive() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return !p.alive()
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}
