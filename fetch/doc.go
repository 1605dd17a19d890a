// Package fetch owns SOURCE: it parses the user's reference (a local
// directory, a Go module or package path at any version, or an explicit
// go-getter URL) and turns it into a Checkout: a local directory holding the
// module, the package to build inside it, and an immutable identity (module
// version and sum, git commit, or archive content hash).
//
// Local directories are used in place and never copied. Everything else is
// fetched (an archive downloaded too, never under $TMPDIR) into a fresh
// temporary directory under the cache and renamed into root/src/<hash>; what a moving reference (latest, a branch, a getter URL
// without a fixed ref) resolved to is remembered in root/resolve so that later
// runs work offline until an update is asked for. A published checkout is
// complete (go.sum filled in before publishing) and read-only: it is built
// with Checkout.BuildFlags (-mod=readonly -buildvcs=false) and never written
// again. Version control metadata (.git, .hg, .svn, .bzr, fossil) is removed
// from archives and module copies, and no go command fetch runs looks at
// version control (-buildvcs=false): a fetched tree's configuration must not
// run commands.
//
// Credentials in a getter URL (a password, a token given as the user name,
// the values of query parameters such as a signature) are used for the
// download but never shown or stored: progress, errors, records,
// Checkout.Source and Identity carry the URL with "xxxxx" in their place
// (Source.Redacted; see redact.go for the rules).
//
// The package never prints and never exits: progress goes to the injected
// callback and logger, failures come back as *ParseError or *Error (an
// archive over Options.MaxArchiveBytes: an *Error wrapping *SizeLimitError).
// A Fetcher is safe for concurrent use by several goroutines, and several
// processes may share one cache directory.
package fetch
