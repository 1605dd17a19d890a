package cli

// This package needs Unix: the import makes a build for any other system
// fail with one clear error (see internal/unixonly).
import _ "github.com/fnrun/fnrun/internal/unixonly"
