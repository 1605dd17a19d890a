package fetch

import (
	"context"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// remembered fetches a source through its resolution record key.
//
// Without Options.Update a remembered resolution whose checkout still exists
// is returned at once: no network, no go command. Otherwise resolve runs
// under the per-source lock (re-checking the record once the lock is held,
// since another process may just have written it). A pinned source (exact
// version, full commit) is immutable, so Update does not resolve it again.
// When an update fails and a previous resolution exists, that checkout is
// returned with Stale set.
func (f *Fetcher) remembered(ctx context.Context, src Source, key string, pinned bool,
	resolve func(context.Context) (resolution, error)) (Checkout, error) {
	update := f.opts.Update && !pinned
	if !update {
		if r, ok := f.loadResolution(key); ok {
			f.log.Debug("fetch: remembered", "source", src.Redacted(), "identity", r.Identity)
			return f.checkoutOf(r), nil
		}
	}
	unlock, err := cache.Lock(ctx, f.root, "fetch "+key)
	if err != nil {
		return Checkout{}, &Error{Source: src.Raw, Op: "lock", Err: err}
	}
	defer unlock()
	prev, hadPrev := f.loadResolution(key)
	if hadPrev && !update {
		return f.checkoutOf(prev), nil
	}
	r, err := resolve(ctx)
	if err != nil {
		if hadPrev && ctx.Err() == nil {
			f.log.Debug("fetch: update failed, keeping previous", "source", src.Redacted(), "err", newRedactor(src).redactError(err))
			co := f.checkoutOf(prev)
			co.Stale, co.UpdateErr = true, redactFetchError(src, err)
			return co, nil
		}
		return Checkout{}, err
	}
	r.Source = src.Redacted()
	if err := f.saveResolution(key, r); err != nil {
		return Checkout{}, &Error{Source: src.Raw, Op: "remember", Err: err}
	}
	return f.checkoutOf(r), nil
}

// Reuse is a remembered resolution of a moving reference (FirstReuse).
type Reuse struct {
	Version  string    // the module version or git commit; "" for an archive
	Resolved time.Time // when the reference was resolved
}

// FirstReuse reports the remembered resolution that Fetch without
// Options.Update would reuse for src, the first time it is asked about that
// resolution: a caller says so once ("using v1.2.3, resolved 3 days ago"),
// and a new resolution (an update) is reported again. ok is false for a
// local or pinned source (an exact version, a full commit, an archive with
// a checksum), with Options.Update, without a remembered resolution, and
// once the resolution was reported. It does no network work: it marks the
// record under the source's lock, and reports nothing while another process
// holds that lock (a later call reports it). A mark that cannot be written
// (a read-only cache) is logged at debug level: the resolution is then
// reported again next time.
func (f *Fetcher) FirstReuse(src Source) (r Reuse, ok bool) {
	var key string
	var pinned bool
	switch src.Kind {
	case KindModule:
		key, pinned = moduleMemory(src)
	case KindGetter:
		forced, u, err := getterURL(src.URL)
		if err != nil {
			return Reuse{}, false
		}
		key, pinned = getterMemory(src, forced == "git", u.Query().Get("ref"), u)
	default:
		return Reuse{}, false
	}
	if pinned || f.opts.Update {
		return Reuse{}, false
	}
	if res, ok := f.loadResolution(key); !ok || res.Reused {
		return Reuse{}, false // cheap answer without the lock: the usual case
	}
	unlock, ok, err := cache.TryLock(f.root, "fetch "+key)
	if err != nil || !ok {
		return Reuse{}, false
	}
	defer unlock()
	res, ok := f.loadResolution(key) // again, under the lock
	if !ok || res.Reused {
		return Reuse{}, false
	}
	res.Reused = true
	if err := f.writeResolution(key, res); err != nil {
		f.log.Debug("fetch: cannot mark the resolution reused", "source", src.Redacted(), "err", err)
	}
	return Reuse{Version: res.Version, Resolved: res.Time}, true
}
