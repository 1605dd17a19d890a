// Package watch owns recursive, debounced file watching for `fnrun run
// --watch`: it keeps an fsnotify watch on every directory under a set of
// roots (the module root and its local replace targets), filters out
// files a rebuild does not care about, and reports each burst of changes
// as one [Change] on [Watcher.Changes].
//
// fsnotify is not recursive, so the package walks the roots and adds every
// directory; directories created later are added and rescanned (a `mkdir -p`
// reports only its top directory), and renamed or removed directories are
// dropped together with everything under them. Only directories are
// watched, and events are filtered by name, so editors' atomic saves
// (write a temporary file, rename it over the original) are seen as a
// change of the original file.
//
// A root that is removed or renamed away (rm -rf, `mv root x && mv x
// root`, a checkout that swaps the directory) is reported as a change;
// then the nearest existing directory above it (its parent, normally) is
// watched until the root exists again, when the root is walked and watched
// again and a [Change] with Rescan set is reported. [Watcher.Run] fails
// with "watched directory DIR was removed" only if no directory within 16
// levels above the root exists or the nearest one cannot be watched.
//
// Ignored: hidden files and directories (".git" included), editor
// temporary files, vendor and testdata directories unless kept, the
// caller's ignore globs (see [MatchGlob]) and paths excluded by .gitignore
// files inside the roots.
//
// On Linux, running out of inotify watches or instances is reported as a
// [*LimitError] that names the sysctl to raise.
package watch
