// Package shim is the exec shim of socket activation: the few lines that
// run, in a program started by the runner with listening sockets, between
// fork and the supervised program.
//
// The systemd protocol wants LISTEN_PID to be the pid of the program that
// receives the sockets, and os/exec cannot know that pid before the fork.
// So the runner starts the fnrun binary itself as
//
//	fnrun __fnrun-listen-shim PROGRAM ARGV0 ARGS...
//
// and the shim sets LISTEN_PID to its own pid and execs PROGRAM in place,
// with ARGV0 ARGS... as its argument vector (ARGV0 is the program's name):
// same pid, same process group, cgroup and parent-death signal, with the
// sockets (fds 3, 4, ...) and LISTEN_FDS / LISTEN_FDNAMES inherited as the
// runner set them.
//
// Every start of a supervised program pays for the shim, so it does its
// work in an init function: the Go runtime initialises packages in
// dependency order and, among ready ones, by import path, so this package
// (which imports only os and syscall) runs before most of fnrun's
// dependencies and their costly inits. Any binary that links it (fnrun, and
// every binary that links package runner) can therefore serve as the shim.
// It is the one package besides main that may end the process: as the
// shim it never returns, it execs or exits with code 126.
//
// Main, and the init function that calls it, are safe to call from any
// goroutine; they do nothing unless os.Args[1] is Arg.
package shim
