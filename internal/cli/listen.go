package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/listen"
	"github.com/fnrun/fnrun/internal/proxy"
)

/*
Never refuse a call. --listen binds sockets before the first start and keeps
them for fnrun's whole life; every run gets them as fds 3... with the systemd
protocol (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID), so connections made while
the program restarts, backs off or is rebuilt wait in the kernel's backlog.
--proxy does the same for programs that listen by themselves: fnrun accepts
on PUBLIC and forwards each connection to PRIVATE once the current run
accepts there. --replicas runs N copies that share the held sockets.
*/

func listenFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "listen", Category: catCommon, EnvVars: envVar("LISTEN"),
			Usage: "hold a socket on `[NAME=]ADDR` (HOST:PORT, tcp://HOST:PORT or unix:///PATH) and hand it to every run as systemd does (LISTEN_FDS), so calls wait instead of being refused while the program restarts (repeatable)"},
		&cli.IntFlag{Name: "backlog", Category: catSockets, EnvVars: envVar("BACKLOG"), DefaultText: "the system's maximum",
			Usage: "let up to `N` connections wait on each held socket while no run accepts"},
		&cli.StringSliceFlag{Name: "proxy", Category: catSockets, EnvVars: envVar("PROXY"),
			Usage: "accept connections on PUBLIC and forward each to the program at PRIVATE (`PUBLIC=PRIVATE`), holding them while the program restarts (repeatable)"},
		&cli.IntFlag{Name: "replicas", Value: 1, Category: catSockets, EnvVars: envVar("REPLICAS"),
			Usage: "run `N` copies, each supervised on its own, named NAME.1, NAME.2... (FNRUN_REPLICA=i), sharing the --listen sockets"},
	}
}

// held is what one fnrun holds for its programs: the bound sockets and the
// running proxies.
type held struct {
	set     *listen.Set
	proxies []net.Listener
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// hold binds the --listen sockets and starts the --proxy forwarders. A busy
// address fails with ExitFnrun before anything starts.
func (env *appEnv) hold(listens, proxies []string, backlog int) (*held, error) {
	h := &held{}
	var specs []listen.Spec
	for _, a := range listens {
		sp, err := listen.Parse(a)
		if err != nil {
			return nil, usageError("--listen %v", err)
		}
		specs = append(specs, sp)
	}
	if backlog < 0 {
		return nil, usageError("--backlog must not be negative")
	}
	type pspec struct{ pub, priv proxy.Addr }
	var ps []pspec
	for _, a := range proxies {
		pub, priv, err := proxy.ParseSpec(a)
		if err != nil {
			return nil, usageError("--proxy: %v", err)
		}
		ps = append(ps, pspec{pub, priv})
	}
	if len(specs) > 0 {
		set, err := listen.Bind(specs, backlog)
		if err != nil {
			return nil, withCode(ExitFnrun, err)
		}
		h.set = set
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	for _, p := range ps {
		ln, err := net.Listen(p.pub.Network, p.pub.Address)
		if err != nil {
			h.close()
			if errors.Is(err, syscall.EADDRINUSE) {
				err = fmt.Errorf("--proxy %s: the address is in use by another program", p.pub)
			}
			return nil, withCode(ExitFnrun, err)
		}
		h.proxies = append(h.proxies, ln)
		px := &proxy.Proxy{Private: p.priv, MaxWait: 30 * time.Second, Logger: env.log}
		h.wg.Go(func() { px.Serve(ctx, ln) })
	}
	return h, nil
}

// addrs are the held addresses, as ps shows them: tcp://127.0.0.1:8080,
// and a proxy's public address with "(proxy)".
func (h *held) addrs() []string {
	if h == nil {
		return nil
	}
	out := h.set.Addrs()
	for _, l := range h.proxies {
		out = append(out, l.Addr().Network()+"://"+l.Addr().String()+" (proxy)")
	}
	return out
}

// close stops the proxies and closes every held socket.
func (h *held) close() {
	if h == nil {
		return
	}
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	for _, l := range h.proxies {
		l.Close()
	}
	h.set.Close()
}
