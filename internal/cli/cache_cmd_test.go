package cli

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * day}, {"2d12h", 2*day + 12*time.Hour}, {"1.5d", 36 * time.Hour},
		{"720h", 720 * time.Hour}, {"90m", 90 * time.Minute}, {"0", 0}, {"0d", 0},
	} {
		got, err := parseAge(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "d", "3x", "-1d", "-1h", "1d-1h", "inf d", "1e3d", "30 days"} {
		if got, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", in, got)
		}
	}
}

func TestAgo(t *testing.T) {
	for _, c := range []struct {
		d           time.Duration
		short, long string
	}{
		{0, "just now", "just now"},
		{42 * time.Second, "42s ago", "just now"},
		{3 * time.Minute, "3m ago", "3 minutes ago"},
		{time.Hour, "1h ago", "1 hour ago"},
		{30 * time.Hour, "30h ago", "1 day ago"},
		{3 * 24 * time.Hour, "3d ago", "3 days ago"},
	} {
		if got := agoShort(c.d); got != c.short {
			t.Errorf("agoShort(%v) = %q, want %q", c.d, got, c.short)
		}
		if got := agoLong(c.d); got != c.long {
			t.Errorf("agoLong(%v) = %q, want %q", c.d, got, c.long)
		}
	}
}
