// Package cli is fnrun's command-line application: commands and flags (urfave/cli/v2),
// flags → options structs of the fetch, build and runner packages, the wiring
// fetch → build → runner (and the --watch loop), signals, exit codes and every
// user-facing message. It is the only package that prints to the terminal;
// Main returns an exit code and never calls os.Exit.
package cli
