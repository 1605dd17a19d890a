//go:build unix

package runner

import (
	"os"
	"sync"
)

var warmOnce sync.Once

// Warm starts, in the background, the one-time work of a process's first
// start that does not depend on what is started: the os package's pidfd
// probe (it forks and reaps a child), the reaper's set-up, where the cgroup
// of this process is, and /dev/null. A caller that will start a program
// soon calls it early (fn.New does), so that this work overlaps with what
// comes before the start (a fetch, a build, a cache lookup) instead of
// delaying it. Calling it is optional and cheap; the first start waits for
// whatever part is still under way.
func Warm() {
	warmOnce.Do(func() {
		go func() {
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				p.Release()
			}
			warmContain()
			devNull()
		}()
	})
}
