// Command caller is a one-shot job that depends on another function: it
// calls the greeter once, prints the answer and exits 0 (1 when the call
// fails). In examples/fnrun.yaml it starts once the greeter is ready.
//
//	caller -url http://127.0.0.1:8090/?name=caller
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/?name=caller", "what to call")
	flag.Parse()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "caller:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("caller: %s answered %s", *url, body)
	if resp.StatusCode != http.StatusOK {
		os.Exit(1)
	}
}
