// Command greeter is a function in the Funker/micro style: it listens on a
// port, serves exactly one HTTP request and exits 0. Run it under
// `fnrun run -r` and every request is served by a fresh process.
//
//	GET /?name=Ada  →  {"greeting":"Hello, Ada!","pid":1234}
//
// The port comes from -port, else $PORT, else 8080. Under
// `fnrun run -r --listen ADDR` it uses the socket fnrun holds instead (the
// systemd protocol: LISTEN_FDS, LISTEN_PID), so no call is refused while
// the next process starts.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "greeter:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	flag.StringVar(&port, "port", port, "TCP port to listen on (env PORT)")
	flag.Parse()

	ln, err := inherited()
	if ln == nil && err == nil {
		ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	}
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s (pid %d)\n", ln.Addr(), os.Getpid())
	defer ln.Close()
	// One call, then exit. The connections are taken one at a time, and
	// only until a request has been answered: the calls queued behind it
	// (on a socket fnrun holds, shared by every run) wait for the next
	// process. A connection that sends no request (a port probe) is not
	// the call.
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if greet(c) {
			return nil
		}
	}
}

// greet answers the request on c, if c carries one, and closes c.
func greet(c net.Conn) bool {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return false
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	body, _ := json.Marshal(map[string]any{"greeting": "Hello, " + name + "!", "pid": os.Getpid()})
	body = append(body, '\n')
	resp := &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Close: true,
		Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(body)),
		Body: io.NopCloser(bytes.NewReader(body))}
	if err := resp.Write(c); err != nil {
		return false
	}
	fmt.Printf("greeted %q\n", name)
	return true
}

// inherited returns the listening socket handed over by a supervisor with
// the systemd protocol (fd 3, LISTEN_FDS and LISTEN_PID naming this
// process), or nil when there is none. go-systemd's activation.Listeners
// does the same for any number of sockets.
func inherited() (net.Listener, error) {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) || os.Getenv("LISTEN_FDS") == "" {
		return nil, nil
	}
	f := os.NewFile(3, "listen")
	defer f.Close() // FileListener made its own copy
	return net.FileListener(f)
}
