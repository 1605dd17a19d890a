//go:build unix

package runner

import "time"

/*
Backoff: after the n-th consecutive failure the supervisor waits
min(max, initial·2^(n-1)) with ±20% jitter, so that many supervised
programs failing together (a database restart) do not come back in
lockstep. max is the longest wait, as --backoff-max documents: the cap is
applied after the jitter, so a capped delay lies in [0.8·max, max] (the
jitter below max is kept, the excess above it is cut). The doubling stops
as soon as it reaches max, so large n never overflows.
*/

// backoffDelay returns the wait after the n-th consecutive failure; r is a
// random number in [0,1).
func backoffDelay(n int, initial, max time.Duration, r float64) time.Duration {
	if n <= 0 || initial <= 0 {
		return 0
	}
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*r))
	if max > 0 && d > max {
		d = max
	}
	return d
}
