package system

import "time"

// File is a parsed fnrun.yaml (or Procfile): a system of functions.
type File struct {
	Path      string   // the file as given
	Dir       string   // its directory, absolute: relative paths in it are relative to Dir
	Env       []string // top-level env (KEY=VALUE, in file order), applied to every entry before its own
	Functions []*Entry // in file order
	Procfile  bool     // read from a Procfile
}

// Entry is one function of the file. Zero values mean the same default as
// the matching `fnrun run` flag.
type Entry struct {
	Name string
	Line int // the line that names it, for messages

	// Exactly one of Source and Command.
	Source  string   // any SOURCE form `fnrun run` accepts; a local one is relative to File.Dir
	Command []string // an executable and its arguments, run as `fnrun exec` does

	Args    []string
	Env     []string // KEY=VALUE, in file order
	EnvFile string   // relative to File.Dir
	Dir     string   // working directory, relative to File.Dir

	Restart     string // never | on-failure | always ("" = never)
	MaxRestarts int
	Backoff     Backoff
	Stop        Stop
	Ready       Ready
	Watch       bool
	Replicas    int // 0 means 1

	Listen  []string // [NAME=]ADDR sockets fnrun holds and hands to every run (listen.Parse)
	Backlog int      // of the Listen sockets; 0: the system's maximum
	Proxy   []string // PUBLIC=PRIVATE: fnrun accepts on PUBLIC and forwards to the program at PRIVATE

	DependsOn         []Dependency // in file order
	OnFailure         string       // "" (keep going) | "stop-all"
	RestartDependants bool

	// Build options for a Source.
	Tags       string
	Ldflags    string
	Race       bool
	BuildFlags []string
}

// Backoff is the restart backoff; zero fields take runner's defaults.
type Backoff struct {
	Initial, Max, Reset time.Duration
	InitialSet          bool // initial: 0 given explicitly (no wait)
}

// Stop is how the entry's group is stopped.
type Stop struct {
	Signal  string // TERM, SIGTERM, 15...; "" means TERM
	Timeout time.Duration
}

// Ready is when a run of the entry is ready.
type Ready struct {
	URL, TCP, Log string
	Timeout       time.Duration
}

// Condition is what an entry waits for before it starts.
type Condition string

// Conditions.
const (
	CondStarted   Condition = "started"   // the dependency's first run started
	CondReady     Condition = "ready"     // it passed its readiness checks (started, when it has none)
	CondCompleted Condition = "completed" // it exited with code 0
)

// Dependency is one depends_on item.
type Dependency struct {
	Name      string
	Condition Condition
}
