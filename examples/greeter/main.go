// Command greeter is a function in the Funker/micro style: it listens on a
// port, serves exactly one HTTP request and exits 0. Run it under
// `fnrun run -r` and every request is served by a fresh process.
//
//	GET /?name=Ada  →  {"greeting":"Hello, Ada!","pid":1234}
//
// The port comes from -port, else $PORT, else 8080.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
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

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s (pid %d)\n", ln.Addr(), os.Getpid())

	served := make(chan struct{})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Connection", "close")
		json.NewEncoder(w).Encode(map[string]any{
			"greeting": "Hello, " + name + "!",
			"pid":      os.Getpid(),
		})
		fmt.Printf("greeted %q\n", name)
		select {
		case <-served:
		default:
			close(served)
		}
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-served:
	case err := <-errc:
		return err
	}
	// Shutdown lets the response in flight finish, then closes the listener.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
