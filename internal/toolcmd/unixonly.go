package toolcmd

// This package needs Unix (sessions, process groups, signals): the import
// makes a build for any other system fail with one clear error (see
// internal/unixonly).
import _ "github.com/fnrun/fnrun/internal/unixonly"
