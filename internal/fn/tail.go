package fn

import (
	"strings"
	"sync"
)

// tailLines is how many lines of output a failed smoke test shows.
const tailLines = 20

// tailMax bounds each kept line.
const tailMax = 512

// Tail keeps the last lines of output (20, each cut at 512 bytes), for a
// failure message. The zero value is ready; safe for concurrent use.
type Tail struct {
	mu    sync.Mutex
	lines [tailLines][]byte // ring
	n     int               // lines seen; lines[n%tailLines] is the oldest when full
}

// Add keeps line (it is copied).
func (t *Tail) Add(line []byte) {
	t.mu.Lock()
	i := t.n % tailLines
	t.lines[i] = append(t.lines[i][:0], line[:min(len(line), tailMax)]...)
	t.n++
	t.mu.Unlock()
}

// Text is "last lines of output:" and the lines indented, or "" when there
// were none.
func (t *Tail) Text() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("last lines of output:\n")
	for n := max(0, t.n-tailLines); n < t.n; n++ {
		b.WriteString("  ")
		b.Write(t.lines[n%tailLines])
		b.WriteString("\n")
	}
	return b.String()
}
