package fetch

import (
	"context"

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
