package fetch

/*
Archive downloads.

go-getter v2 downloads an archive into a directory of its own under
os.TempDir() (Client.get: os.MkdirTemp("", "getter")), which no field of
Client or Request changes, and which a killed fnrun leaves behind. So fnrun
asks go-getter for the archive as a plain file (archive=false, ModeFile)
written inside the fetch's staging directory under the cache's tmp/ — swept
like every other leftover there — and decompresses it itself with the same
limited decompressors.

HttpGetter.MaxBytes cuts the body at the limit without saying so: a cut
archive then fails to decompress with whatever the decompressor makes of it
("unexpected EOF", "gzip: invalid header"), or go-getter reports a "short
write". fnrun sets the cut one byte past the limit and checks the size of
what arrived, so an archive over the limit fails with a *SizeLimitError
that names the limit.
*/

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	getter "github.com/hashicorp/go-getter/v2"
)

// archiveFile is the downloaded archive inside a staging directory, beside
// treeDir; it is removed before the tree is hashed and published.
const archiveFile = "archive"

// SizeLimitError is a download larger than Options.MaxArchiveBytes.
type SizeLimitError struct {
	Limit int64 // bytes
}

func (e *SizeLimitError) Error() string {
	return fmt.Sprintf("download larger than the %s limit", formatBytes(e.Limit))
}

// formatBytes writes n in the largest binary unit that divides it exactly.
func formatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// archiveType returns the decompressor key go-getter would pick for u: the
// archive query parameter, or the longest matching suffix of the path.
func archiveType(u *url.URL, decompressors map[string]getter.Decompressor) string {
	if a := u.Query().Get("archive"); a != "" {
		return a
	}
	best := ""
	for k := range decompressors {
		if strings.HasSuffix(u.Path, "."+k) && len(k) > len(best) {
			best = k
		}
	}
	return best
}

// downloadArchive downloads the archive at u (src.URL, parsed; forced is
// its forced getter) into staging and extracts it into dst.
func (f *Fetcher) downloadArchive(ctx context.Context, client *getter.Client, forced string, u *url.URL,
	staging, dst string, decompressors map[string]getter.Decompressor) error {
	kind := archiveType(u, decompressors)
	dec := decompressors[kind]
	if dec == nil {
		return fmt.Errorf("unknown archive type %q", kind)
	}
	plain := *u
	q := plain.Query()
	q.Set("archive", "false") // go-getter's switch for "no decompression"
	plain.RawQuery = q.Encode()
	srcURL := plain.String()
	if forced != "" {
		srcURL = forced + "::" + srcURL
	}
	archive := filepath.Join(staging, archiveFile)
	defer os.Remove(archive) // a symlink for a file:// URL: only the link goes
	_, err := client.Get(ctx, &getter.Request{
		Src:             srcURL,
		Dst:             archive,
		Pwd:             staging,
		GetMode:         getter.ModeFile,
		DisableSymlinks: true,
	})
	if isHTTP(u) { // before the error: a cut archive also fails its checksum
		if fi, serr := os.Lstat(archive); serr == nil && fi.Mode().IsRegular() && fi.Size() > f.opts.MaxArchiveBytes {
			return &SizeLimitError{Limit: f.opts.MaxArchiveBytes}
		}
	}
	if err != nil {
		return err
	}
	if err := dec.Decompress(dst, archive, true, 0); err != nil {
		return err
	}
	return nil
}

func isHTTP(u *url.URL) bool {
	return u.Scheme == "http" || u.Scheme == "https"
}
