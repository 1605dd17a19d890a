// Command demo is what `make demo` runs: it starts
//
//	fnrun run -r --listen 127.0.0.1:PORT ./examples/greeter
//
// calls the greeter back to back (each answer comes from a fresh process:
// the greeter serves one request and exits, fnrun restarts it, and the
// socket fnrun holds keeps the calls waiting meanwhile: none is refused),
// then stops fnrun with Ctrl-C (SIGINT) and checks that it ended cleanly. It
// exits 0 on success, so it doubles as a smoke test of the README's first
// command.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	fnrun := flag.String("fnrun", "bin/fnrun", "the fnrun binary")
	calls := flag.Int("calls", 20, "how many requests to send, back to back")
	flag.Parse()

	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"run", "-r", "--listen", addr, "./examples/greeter"}
	fmt.Printf("$ %s %s\n", *fnrun, strings.Join(args, " "))
	cmd := exec.Command(*fnrun, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}} // the first call waits for the build
	pids := map[float64]bool{}
	// fnrun binds the socket before it builds: once it is bound, even the
	// first call waits for the build rather than being refused.
	if err := awaitBound(addr, done); err != nil {
		return err
	}
	names := []string{"Ada", "Grace", "Ken", "Rob", "Robert"}
	refused := 0
	for i := range *calls {
		url := fmt.Sprintf("http://%s/?name=%s", addr, names[i%len(names)])
		body, err := get(client, url)
		if err != nil {
			refused++
			fmt.Printf("GET %s: %v\n", url, err)
			continue
		}
		var g struct {
			Greeting string  `json:"greeting"`
			PID      float64 `json:"pid"`
		}
		if err := json.Unmarshal(body, &g); err != nil {
			return fmt.Errorf("bad answer %q: %v", body, err)
		}
		pids[g.PID] = true
		if i < 3 {
			fmt.Printf("GET %s\n%s", url, body)
		}
	}
	fmt.Printf("%d calls back to back: %d answered by %d processes, %d refused\n", *calls, *calls-refused, len(pids), refused)
	if refused > 0 {
		return fmt.Errorf("%d of %d calls refused", refused, *calls)
	}
	if len(pids) != *calls {
		return fmt.Errorf("%d answers came from %d processes, want one process per request", *calls, len(pids))
	}
	fmt.Println("$ kill -INT fnrun   # Ctrl-C: graceful stop")
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 130 {
			fmt.Println("fnrun stopped cleanly (exit 130, as after Ctrl-C)")
			return nil
		}
		return fmt.Errorf("fnrun ended with %v, want exit status 130", err)
	case <-time.After(15 * time.Second):
		return errors.New("fnrun did not stop within 15s of SIGINT")
	}
}

// awaitBound waits until fnrun has bound addr (a connect succeeds).
func awaitBound(addr string, done <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		select {
		case err := <-done:
			return fmt.Errorf("fnrun exited early: %v", err)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fnrun did not bind %s within 30s", addr)
		}
		time.Sleep(delay)
	}
}

// get returns the body of a 200 answer to url.
func get(c *http.Client, url string) ([]byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return body, err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
