// Package memtrim gives back memory that a long-running process used only
// while it started.
package memtrim

import "runtime/debug"

// Trim returns the heap's free pages to the system and, on Linux, drops
// this process's mappings of its own executable's code and read-only data
// (see trimExecutable). Call it once start-up is over; it costs a garbage
// collection and a read of /proc/self/smaps.
func Trim() {
	debug.FreeOSMemory()
	trimExecutable()
}
