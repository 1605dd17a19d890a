// Command ticker is a long-running service: it logs a tick periodically and
// shuts down cleanly on SIGTERM or SIGINT (exit 0). With -addr it also serves
// GET /healthz, for readiness checks.
//
//	ticker -interval 1s -addr 127.0.0.1:8081
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	interval := flag.Duration("interval", time.Second, "time between ticks")
	addr := flag.String("addr", "", "serve GET /healthz on this address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var srv *http.Server
	if *addr != "" {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ticker:", err)
			os.Exit(1)
		}
		srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(
			func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					http.NotFound(w, r)
					return
				}
				fmt.Fprintln(w, "ok")
			})}
		go srv.Serve(ln)
		fmt.Printf("listening on %s\n", ln.Addr())
	}
	fmt.Printf("ticker %d: started, ticking every %s\n", os.Getpid(), *interval)

	t := time.NewTicker(*interval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-t.C:
			fmt.Printf("tick %d\n", n)
		case <-ctx.Done():
			fmt.Println("ticker: shutting down")
			if srv != nil {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				srv.Shutdown(sctx)
				cancel()
			}
			return
		}
	}
}
