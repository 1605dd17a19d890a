package export

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"-url", "-url"},
		{"/opt/fn/bin/api", "/opt/fn/bin/api"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"", `""`},
		{"a b", `"a b"`},
		{"100%", `"100%%"`},
		{"$HOME", `"$$HOME"`},
		{`say "hi"`, `"say \"hi\""`},
		{`a\b`, `"a\\b"`},
		{"it's", `"it's"`},
		{"two\nlines", `"two\nlines"`},
		{"tab\there", `"tab\there"`},
		{"bell\a", `"bell\x07"`},
		{";", `";"`},
		{"%i", `"%%i"`},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q): got %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"A=b", "A=b"},
		{"PRICE=$5 and 10%", `"PRICE=$5 and 10%%"`},
		{`Q="x"`, `"Q=\"x\""`},
	} {
		if got := quoteEnv(tc.in); got != tc.want {
			t.Errorf("quoteEnv(%q): got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSystemdVersion(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want int
		ok   bool
	}{
		{"systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT -BPF_FRAMEWORK\n", 252, true},
		{"systemd 254 (254.5-1.fc39)", 254, true},
		{"systemd 249\n", 249, true},
		{"", 0, false},
		{"systemctl: command not found\n", 0, false},
		{"systemd two (2)\n", 0, false},
		{"\nsystemd 252\n", 0, false},
	} {
		got, ok := SystemdVersion(tc.out)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SystemdVersion(%q): got %d, %v, want %d, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {200 * time.Millisecond, "200ms"}, {30 * time.Second, "30s"}, {90 * time.Second, "90s"}, {1500 * time.Microsecond, "1500us"}, {1, "1us"}} {
		if got := seconds(tc.d); got != tc.want {
			t.Errorf("seconds(%v): got %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestRestartSteps(t *testing.T) {
	for _, tc := range []struct {
		initial, max time.Duration
		want         int
	}{{200 * time.Millisecond, 30 * time.Second, 8}, {time.Second, 2 * time.Second, 1}, {time.Second, 3 * time.Second, 2}, {500 * time.Millisecond, time.Minute, 7}} {
		if got := restartSteps(tc.initial, tc.max); got != tc.want {
			t.Errorf("restartSteps(%v, %v): got %d, want %d", tc.initial, tc.max, got, tc.want)
		}
	}
}

// unquote reads one value as systemd does, for tests: specifiers ("%%"
// only), then words in double quotes with C escapes, then, when dollar,
// "$$" (a lone '$' would be a variable).
func unquote(line string, dollar bool) ([]string, error) {
	var spec strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '%' {
			if i+1 >= len(line) || line[i+1] != '%' {
				return nil, fmt.Errorf("specifier at %d", i)
			}
			i++
		}
		spec.WriteByte(line[i])
	}
	s := spec.String()
	var words []string
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			i++
			continue
		}
		var w strings.Builder
		for i < len(s) && s[i] != ' ' {
			if s[i] != '"' {
				if s[i] == '\\' || s[i] == '\'' || s[i] < ' ' {
					return nil, fmt.Errorf("unquoted %q at %d", s[i], i)
				}
				w.WriteByte(s[i])
				i++
				continue
			}
			for i++; ; i++ {
				if i >= len(s) {
					return nil, errors.New("unterminated quote")
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				if c < ' ' {
					return nil, fmt.Errorf("control byte %#x in quotes", c)
				}
				if c != '\\' {
					w.WriteByte(c)
					continue
				}
				if i++; i >= len(s) {
					return nil, errors.New("trailing backslash")
				}
				switch s[i] {
				case '\\', '"':
					w.WriteByte(s[i])
				case 'n':
					w.WriteByte('\n')
				case 't':
					w.WriteByte('\t')
				case 'x':
					if i+2 >= len(s) {
						return nil, errors.New("short \\x")
					}
					n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
					if err != nil {
						return nil, err
					}
					w.WriteByte(byte(n))
					i += 2
				default:
					return nil, fmt.Errorf("unknown escape \\%c", s[i])
				}
			}
		}
		word := w.String()
		if dollar {
			var d strings.Builder
			for j := 0; j < len(word); j++ {
				if word[j] == '$' {
					if j+1 >= len(word) || word[j+1] != '$' {
						return nil, fmt.Errorf("variable at %d of %q", j, word)
					}
					j++
				}
				d.WriteByte(word[j])
			}
			word = d.String()
		}
		words = append(words, word)
	}
	return words, nil
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a b", "100%", "$HOME", `"\`, "x\ny", "\x00\x7f", "%%$$", "é ü", ";"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, dollar := range []bool{true, false} {
			q := quoteWord(s, dollar)
			if strings.ContainsAny(q, "\n\r") {
				t.Fatalf("quoteWord(%q, %v) = %s: a line break", s, dollar, q)
			}
			words, err := unquote(q, dollar)
			if err != nil {
				t.Fatalf("quoteWord(%q, %v) = %s: %v", s, dollar, q, err)
			}
			if len(words) != 1 || words[0] != s {
				t.Fatalf("quoteWord(%q, %v) = %s, read back as %q", s, dollar, q, words)
			}
		}
	})
}
