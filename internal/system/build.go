package system

import "context"

// Build fetches and builds every source entry of the system, as Run does
// before it starts anything (in parallel, a failure naming its entry), and
// returns each one's binary by entry name; command entries are not in the
// map. Nothing is started. close releases the binaries' pins (the cache
// may remove them after): call it once the binaries were used, e.g. copied.
func (s *System) Build(ctx context.Context) (bins map[string]string, close func(), err error) {
	close = func() {
		for _, u := range s.units {
			for _, f := range u.fns {
				f.Close()
			}
		}
	}
	if err := s.prepare(ctx); err != nil {
		close()
		return nil, nil, err
	}
	bins = map[string]string{}
	for _, u := range s.units {
		if len(u.fns) > 0 {
			if b := u.fns[0].Binary(); b != "" {
				bins[u.e.Name] = b
			}
		}
	}
	return bins, close, nil
}
