package fn

import (
	"strings"
	"sync"
)

// tailLines is how many lines of output a failed smoke test shows.
const tailLines = 20

// tailMax bounds each kept line.
const tailMax = 512

// tail keeps the last tailLines lines of output (each cut at tailMax bytes).
// Safe for concurrent use.
type tail struct {
	mu    sync.Mutex
	lines [tailLines][]byte // ring
	n     int               // lines seen; lines[n%tailLines] is the oldest when full
}

func (t *tail) add(line []byte) {
	t.mu.Lock()
	i := t.n % tailLines
	t.lines[i] = append(t.lines[i][:0], line[:min(len(line), tailMax)]...)
	t.n++
	t.mu.Unlock()
}

// text is "last lines of output:" and the lines indented, or "" when there
// were none.
func (t *tail) text() string {
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
