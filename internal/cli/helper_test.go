package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// helperMain is the program the scripts supervise (`helper MODE ARGS...`):
//
//	exit N                 exit with code N
//	count FILE N|kill      append a line to FILE, then exit N (or die of SIGKILL)
//	countsleep FILE        append a line to FILE, then sleep
//	killself               die of SIGKILL
//	termself               die of SIGTERM
//	sleep PIDFILE          write its pid, sleep until signalled
//	ignoreterm PIDFILE     write its pid, survive SIGTERM (noted in PIDFILE.term)
//	spawn PIDFILE          start a grandchild (helper sleep), write both pids, sleep
//	setsidspawn PIDFILE    the same with a grandchild that called setsid
//	daemon PIDFILE [stay]  daemonise (double fork, setsid), append the daemon's pid; exit 0 or stay
//	lines N                print N lines alternately to stdout and stderr
//	echo TEXT...           print TEXT and exit 0
//	printenv NAME          print $NAME
func helperMain() {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no mode")
		os.Exit(2)
	}
	mode, args := args[0], args[1:]
	switch mode {
	case "exit":
		os.Exit(atoi(args[0]))
	case "count":
		f, err := os.OpenFile(args[0], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		check(err)
		fmt.Fprintf(f, "run %d\n", os.Getpid())
		f.Close()
		if args[1] == "kill" {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		os.Exit(atoi(args[1]))
	case "countsleep":
		// countsleep FILE: append a line to FILE, then sleep until signalled.
		f, err := os.OpenFile(args[0], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		check(err)
		fmt.Fprintf(f, "run %d\n", os.Getpid())
		f.Close()
		select {}
	case "termself":
		// termself: die of SIGTERM (the default action).
		fmt.Println("about to be terminated")
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {}
	case "killself":
		fmt.Println("about to die")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "sleep":
		writePids(args[0], os.Getpid())
		fmt.Println("sleeping")
		select {}
	case "ignoreterm":
		// ignoreterm PIDFILE: write its pid, then survive SIGTERM, noting
		// each one in PIDFILE.term.
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		writePids(args[0], os.Getpid())
		fmt.Println("ignoring SIGTERM")
		for range term {
			f, err := os.OpenFile(args[0]+".term", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			check(err)
			fmt.Fprintln(f, "TERM")
			f.Close()
		}
	case "spawn":
		cmd := exec.Command(os.Args[0], "sleep", args[0]+".child")
		check(cmd.Start())
		writePids(args[0], os.Getpid(), cmd.Process.Pid)
		fmt.Println("spawned", cmd.Process.Pid)
		select {}
	case "setsidspawn":
		// setsidspawn PIDFILE: start a grandchild in a session of its own
		// (out of the group), write both pids, sleep.
		cmd := exec.Command(os.Args[0], "wait", "3600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		check(cmd.Start())
		writePids(args[0], os.Getpid(), cmd.Process.Pid)
		fmt.Println("spawned", cmd.Process.Pid)
		select {}
	case "daemon":
		// daemon PIDFILE [stay]: daemonise the usual way (a child in a new
		// session starts the daemon, appends its pid to PIDFILE and exits),
		// then exit 0, or with stay append its own pid and sleep.
		cmd := exec.Command(os.Args[0], "daemonchild", args[0])
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		check(cmd.Run())
		fmt.Println("daemonised")
		if len(args) > 1 && args[1] == "stay" {
			appendPid(args[0], os.Getpid())
			select {}
		}
	case "delaylisten":
		// delaylisten ADDR DELAY: listen on ADDR after DELAY, accept
		// connections until signalled.
		d, err := time.ParseDuration(args[1])
		check(err)
		time.Sleep(d)
		ln, err := net.Listen("tcp", args[0])
		check(err)
		for {
			c, err := ln.Accept()
			check(err)
			c.Close()
		}
	case "orphans":
		// orphans N: make N orphans that exit at once (a child starts a
		// grandchild and exits without waiting), then wait until none of
		// them is left a zombie: whoever adopted them (fnrun, or process 1
		// in a pid namespace) must reap them. Exit 0, or 1 after 10s.
		n := atoi(args[0])
		var pids []int
		for range n {
			cmd := exec.Command(os.Args[0], "orphanparent")
			out, err := cmd.Output()
			check(err)
			pids = append(pids, atoi(strings.TrimSpace(string(out))))
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var left []int
			for _, pid := range pids {
				if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
					if i := strings.LastIndexByte(string(data), ')'); i > 0 && len(data) > i+2 {
						left = append(left, pid) // alive or a zombie: not reaped yet
					}
				}
			}
			if len(left) == 0 {
				fmt.Println("all", n, "orphans reaped")
				return
			}
			if time.Now().After(deadline) {
				fmt.Println("not reaped:", left)
				os.Exit(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	case "orphanparent":
		// orphanparent: start a grandchild that exits at once, print its
		// pid, exit without waiting for it.
		cmd := exec.Command(os.Args[0], "exit", "0")
		check(cmd.Start())
		fmt.Println(cmd.Process.Pid)
		os.Exit(0)
	case "daemonchild":
		// daemonchild PIDFILE: see daemon.
		cmd := exec.Command(os.Args[0], "wait", "3600")
		check(cmd.Start())
		appendPid(args[0], cmd.Process.Pid)
	case "spawnyes":
		// spawnyes PIDFILE: start a sleeping grandchild, write both pids,
		// then print lines until stopped.
		cmd := exec.Command(os.Args[0], "sleep", args[0]+".child")
		check(cmd.Start())
		writePids(args[0], os.Getpid(), cmd.Process.Pid)
		for i := 0; ; i++ {
			fmt.Println("y", i)
		}
	case "listen":
		// listen ADDR PIDFILE: accept connections on ADDR until killed.
		ln, err := net.Listen("tcp", args[0])
		check(err)
		writePids(args[1], os.Getpid())
		for {
			c, err := ln.Accept()
			check(err)
			c.Close()
		}
	case "lines":
		n := atoi(args[0])
		for i := 0; i < n; i++ {
			if i%2 == 0 {
				fmt.Fprintf(os.Stdout, "out %d\n", i)
			} else {
				fmt.Fprintf(os.Stderr, "err %d\n", i)
			}
		}
	case "echo":
		fmt.Println(strings.Join(args, " "))
	case "printenv":
		fmt.Println(os.Getenv(args[0]))
	case "wait":
		// wait SECONDS: sleep, then exit 0 (a program that outlives a timeout).
		time.Sleep(time.Duration(atoi(args[0])) * time.Second)
	default:
		fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
		os.Exit(2)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	check(err)
	return n
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
}

// appendPid appends a line with pid to file in one write.
func appendPid(file string, pid int) {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	check(err)
	_, err = fmt.Fprintln(f, pid)
	check(err)
	check(f.Close())
}

// writePids writes the pids to file through a rename, so a reader never sees a part.
func writePids(file string, pids ...int) {
	var b strings.Builder
	for _, p := range pids {
		fmt.Fprintln(&b, p)
	}
	tmp := file + ".tmp"
	check(os.WriteFile(tmp, []byte(b.String()), 0o644))
	check(os.Rename(tmp, file))
}
