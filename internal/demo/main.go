// Command demo is what `make demo` runs: it starts
//
//	fnrun run -r ./examples/greeter -- -port PORT
//
// calls the greeter a few times (each answer comes from a fresh process: the
// greeter serves one request and exits, fnrun restarts it), then stops fnrun
// with Ctrl-C (SIGINT) and checks that it ended cleanly. It exits 0 on
// success, so it doubles as a smoke test of the README's first command.
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
	calls := flag.Int("calls", 3, "how many requests to send")
	flag.Parse()

	port, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"run", "-r", "./examples/greeter", "--", "-port", strconv.Itoa(port)}
	fmt.Printf("$ %s %s\n", *fnrun, strings.Join(args, " "))
	cmd := exec.Command(*fnrun, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	client := &http.Client{Timeout: 5 * time.Second}
	pids := map[float64]bool{}
	for _, name := range []string{"Ada", "Grace", "Ken", "Rob", "Robert"}[:min(*calls, 5)] {
		url := fmt.Sprintf("http://127.0.0.1:%d/?name=%s", port, name)
		body, err := getWithRetry(client, url, done)
		if err != nil {
			return err
		}
		var g struct {
			Greeting string  `json:"greeting"`
			PID      float64 `json:"pid"`
		}
		if err := json.Unmarshal(body, &g); err != nil {
			return fmt.Errorf("bad answer %q: %v", body, err)
		}
		pids[g.PID] = true
		fmt.Printf("GET %s\n%s", url, body)
	}
	if len(pids) != min(*calls, 5) {
		return fmt.Errorf("%d answers came from %d processes, want one process per request", *calls, len(pids))
	}
	fmt.Printf("%d requests, %d processes: one fresh process per request\n", *calls, len(pids))

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

// getWithRetry waits for the greeter to listen (the first run builds it, and
// between requests fnrun restarts it) and returns the answer's body.
func getWithRetry(c *http.Client, url string, done <-chan error) ([]byte, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		select {
		case err := <-done:
			return nil, fmt.Errorf("fnrun exited early: %v", err)
		default:
		}
		resp, err := c.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return body, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no answer from %s: %v", url, err)
		}
		time.Sleep(delay)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
