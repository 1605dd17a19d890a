// Package export renders a system file (fnrun.yaml, a Procfile) as units
// for a service manager, so that the binaries `fnrun build` produced can
// run in production without fnrun: Systemd writes one service per entry
// (a template for replicas) and socket units for its listen: addresses.
//
// It only renders text: it builds nothing, reads no file the entries name
// and changes nothing on the system. What a unit cannot express of fnrun's
// behaviour (readiness checks, backoff jitter, proxies...) is said twice:
// in a "# fnrun:" comment in the unit, and in a warning returned to the
// caller. The functions are pure and safe for concurrent use.
package export
