package watch

import "sort"

// Limits on what one Change carries.
const (
	maxChangePaths = 100  // Change.Paths is truncated to this many entries
	maxBurstPaths  = 4096 // paths remembered per burst before giving up on detail
)

// burst accumulates the events of one debounce window. It is owned by the
// event loop goroutine.
type burst struct {
	paths    map[string]pathState
	overflow bool // more than maxBurstPaths distinct paths
	rescan   bool
}

type pathState struct {
	created bool // appeared during the burst
	gone    bool // last seen being removed or renamed away
}

// add records an event on p. created means p appeared (Create), gone means
// p disappeared (Remove or Rename); neither means it was written.
func (b *burst) add(p string, created, gone bool) {
	if b.paths == nil {
		b.paths = make(map[string]pathState)
	}
	st, ok := b.paths[p]
	if !ok && len(b.paths) >= maxBurstPaths {
		b.overflow = true
		return
	}
	st.created = st.created || created && !ok
	st.gone = gone
	b.paths[p] = st
}

// change builds the notification for the burst. Paths that both appeared
// and disappeared within the burst (sed's and renameio's temporary files,
// vim's backup) are left out; if nothing else happened, ok is false.
func (b *burst) change() (c Change, ok bool) {
	for p, st := range b.paths {
		if st.created && st.gone {
			continue
		}
		c.Paths = append(c.Paths, p)
	}
	sort.Strings(c.Paths)
	if len(c.Paths) > maxChangePaths {
		c.Paths = c.Paths[:maxChangePaths]
		c.Truncated = true
	}
	c.Truncated = c.Truncated || b.overflow
	c.Rescan = b.rescan
	return c, len(c.Paths) > 0 || c.Truncated || c.Rescan
}

func (b *burst) reset() { *b = burst{} }
