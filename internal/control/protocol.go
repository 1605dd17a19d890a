package control

/*
The wire protocol.

A client connects, writes one Request as a JSON line, reads one Response as a
JSON line, and the server closes the connection. One request per connection
keeps both sides free of framing state and of idle connections; a `ps` over
a unix socket costs well under a millisecond, so nothing is gained by
keeping connections open.

Both messages carry "version". A server answers a request whose version it
does not speak with an error of code "unsupported_version" (and its own
version), so a newer client can tell an old server apart from a failure.
Fields are only ever added; a field's meaning never changes without a new
version.
*/

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ProtocolVersion is the version of the request/response protocol and of
// the Instance schema that this package speaks.
const ProtocolVersion = 1

// Operations a Request may name.
const (
	OpPS      = "ps"      // report the instance's status
	OpRestart = "restart" // restart the named functions (resets backoff)
	OpStop    = "stop"    // stop the named functions until OpStart
	OpStart   = "start"   // start the named, stopped functions
	OpDown    = "down"    // stop the whole instance, as Ctrl-C would
)

// Error codes a Response may carry.
const (
	CodeBadRequest         = "bad_request"
	CodeUnsupportedVersion = "unsupported_version"
	CodeUnknownNames       = "unknown_names"
	CodeFailed             = "failed"
)

// Function states reported in FunctionStatus.State.
const (
	StateFetching = "fetching"
	StateBuilding = "building"
	StateStarting = "starting"
	StateReady    = "ready"
	StateRunning  = "running"
	StateBackoff  = "backoff"
	StateStopped  = "stopped"
	StateFailed   = "failed"
	StateExited   = "exited"
)

// Instance is the status of one running fnrun instance: the answer to
// OpPS and one element of `fnrun ps --json`.
type Instance struct {
	Version   int              `json:"version"`
	Name      string           `json:"name"`
	PID       int              `json:"pid"`
	Started   time.Time        `json:"started"`
	Command   string           `json:"command,omitempty"` // run, exec or up
	Dir       string           `json:"dir,omitempty"`     // the working directory it was started in
	LogDir    string           `json:"log_dir,omitempty"` // where its functions' log files are
	Functions []FunctionStatus `json:"functions"`
}

// FunctionStatus is the status of one function (or one replica of it) in an
// instance. Name is the entry's name as used by restart/stop/start
// ("api", "api.2" for a replica); Function is the source it runs.
type FunctionStatus struct {
	Name        string     `json:"name"`
	Function    string     `json:"function"`
	State       string     `json:"state"`
	PID         int        `json:"pid,omitempty"`
	Runs        int        `json:"runs"`
	Restarts    int        `json:"restarts"`
	Started     *time.Time `json:"started,omitempty"` // of the live run
	LastExit    string     `json:"last_exit,omitempty"`
	LastExitAt  *time.Time `json:"last_exit_at,omitempty"`
	NextRestart *time.Time `json:"next_restart,omitempty"`
	Listen      []string   `json:"listen,omitempty"` // the sockets fnrun holds for it (--listen, --proxy)
	Source      string     `json:"source,omitempty"`
	Key         string     `json:"key,omitempty"`
}

// Request is one client request.
type Request struct {
	Version int      `json:"version"`
	Op      string   `json:"op"`
	Names   []string `json:"names,omitempty"`
	NoWait  bool     `json:"no_wait,omitempty"` // return once the action is under way
}

// Response is the server's answer to one Request. Error is empty on
// success; Code then says which kind of failure it is.
type Response struct {
	Version  int       `json:"version"`
	Instance *Instance `json:"instance,omitempty"`
	Error    string    `json:"error,omitempty"`
	Code     string    `json:"code,omitempty"`
	Unknown  []string  `json:"unknown,omitempty"`
	Known    []string  `json:"known,omitempty"`
}

// UnknownNamesError is returned by a Handler's Do for names the instance
// does not have; the server sends Unknown and Known to the client, whose
// Call returns it again, so the CLI can list the known names.
type UnknownNamesError struct {
	Unknown []string
	Known   []string
}

func (e *UnknownNamesError) Error() string {
	return fmt.Sprintf("unknown function %s (known: %s)",
		strings.Join(e.Unknown, ", "), strings.Join(e.Known, ", "))
}

// RemoteError is a failure reported by the server in a Response.
type RemoteError struct {
	Instance string
	Op       string
	Code     string
	Message  string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("instance %s: %s: %s", e.Instance, e.Op, e.Message)
}

// RunningError is returned by Listen when an instance of the same name is
// already running and answering on its socket.
type RunningError struct {
	Instance string
	PID      int
}

func (e *RunningError) Error() string {
	return fmt.Sprintf("instance %s is already running (pid %d)", e.Instance, e.PID)
}

// ErrInvalidInstanceName is wrapped by the errors for an instance name that
// ValidInstanceName refuses.
var ErrInvalidInstanceName = errors.New("invalid instance name")

// ValidInstanceName reports, as an error wrapping ErrInvalidInstanceName,
// whether name can name an instance (and so a socket file): 1 to 64 of
// A-Z a-z 0-9 . _ -, and not "." or "..".
func ValidInstanceName(name string) error {
	ok := len(name) >= 1 && len(name) <= 64 && name != "." && name != ".."
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%w %q: want 1 to 64 letters, digits, dots, _ or - (and not . or .. alone)", ErrInvalidInstanceName, name)
	}
	return nil
}

func validOp(op string) bool {
	switch op {
	case OpPS, OpRestart, OpStop, OpStart, OpDown:
		return true
	}
	return false
}
