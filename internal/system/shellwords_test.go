package system

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t ", nil},
		{"a b\tc", []string{"a", "b", "c"}},
		{"  a   b  ", []string{"a", "b"}},
		{`'a b' "c d"`, []string{"a b", "c d"}},
		{`a'b'"c"d`, []string{"abcd"}},
		{`'' ""`, []string{"", ""}},
		{`a\ b \'c\"`, []string{"a b", `'c"`}},
		{`"a\"b\\c\$d\e\` + "`" + `"`, []string{`a"b\c$$d\e` + "`"}},
		{`'a\b "c"'`, []string{`a\b "c"`}},
		{"a # comment", []string{"a"}},
		{"a#b '#c' #", []string{"a#b", "#c"}},
		{"$PORT ${PORT} \"$A\"B $A_1x", []string{"${PORT}", "${PORT}", "${A}B", "${A_1x}"}},
		{`'$HOME' \$HOME "\$HOME" $ "$" a$ $. $'x'`, []string{"$$HOME", "$$HOME", "$$HOME", "$$", "$$", "a$$", "$$.", "$$x"}},
		{"-port=$PORT", []string{"-port=${PORT}"}},
		{"héllo wörld", []string{"héllo", "wörld"}},
		{"{a} !b ~/c *.go", []string{"{a}", "!b", "~/c", "*.go"}},
	} {
		got, err := SplitWords(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSplitWords_assignments(t *testing.T) {
	for _, tc := range []struct {
		in      string
		assigns int
	}{
		{"A=1 B='x y' cmd C=2", 2},
		{"A=1", 1},
		{"cmd A=1", 0},
		{"'A'=1 cmd", 0},
		{`A\=1 cmd`, 0},
		{"1A=1 cmd", 0},
		{"_A1=$X cmd", 1},
		{"=1 cmd", 0},
		{"A==1 cmd", 1},
	} {
		_, n, err := splitWords(tc.in)
		if err != nil || n != tc.assigns {
			t.Errorf("splitWords(%q): %d assignments, %v; want %d", tc.in, n, err, tc.assigns)
		}
	}
}

func TestSplitWords_errors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		shell    bool
	}{
		{"a 'b", "unterminated ' quote", false},
		{`a "b`, `unterminated " quote`, false},
		{`a "b\"`, `unterminated " quote`, false},
		{`a\`, "trailing backslash", false},
		{"a ${B", "unterminated ${", false},
		{"a | b", "| needs a shell", true},
		{"a && b", "& needs a shell", true},
		{"a; b", "; needs a shell", true},
		{"a > f", "> needs a shell", true},
		{"a 2>&1", "> needs a shell", true},
		{"a < f", "< needs a shell", true},
		{"(a)", "( needs a shell", true},
		{"a `b`", "` needs a shell", true},
		{"a \"`b`\"", "` needs a shell", true},
		{"a $(b)", "$(...) needs a shell", true},
		{"a \"$(b)\"", "$(...) needs a shell", true},
		{"a $1", "$1 needs a shell", true},
		{"a $?", "$? needs a shell", true},
		{"a $$", "$$ needs a shell", true},
		{"a ${B:-c}", "${B:-c} needs a shell", true},
		{"a &", "& needs a shell", true},
	} {
		_, err := SplitWords(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("SplitWords(%q) error = %v, want %s", tc.in, err, tc.want)
			continue
		}
		if _, shell := err.(*needsShellError); shell != tc.shell {
			t.Errorf("SplitWords(%q): needs a shell = %v, want %v", tc.in, shell, tc.shell)
		}
	}
}

func TestExpandWord(t *testing.T) {
	env := []string{"PORT=5000", "A=x", "EMPTY=", "A=y"}
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"${PORT}", "5000"},
		{"$PORT", "5000"},
		{"-p=${PORT}/x", "-p=5000/x"},
		{"${A}B", "yB"},
		{"$$PORT", "$PORT"},
		{"$$$$", "$$"},
		{"${UNSET}.", "."},
		{"${EMPTY}", ""},
		{"$", "$"},
		{"a$.", "a$."},
		{"${bad-name}", "${bad-name}"},
		{"${open", "${open"},
	} {
		if got := ExpandWord(tc.in, env); got != tc.want {
			t.Errorf("ExpandWord(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A word as written, split, then expanded: what sh would give.
	words, err := SplitWords(`echo '$PORT' "$PORT" \$A $A-1 '{print $1}'`)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range words {
		words[i] = ExpandWord(w, env)
	}
	if want := []string{"echo", "$PORT", "5000", "$A", "y-1", "{print $1}"}; !reflect.DeepEqual(words, want) {
		t.Errorf("got %q, want %q", words, want)
	}
}

func TestQuoteWord(t *testing.T) {
	for _, w := range []string{"", "a b", `"`, `\`, "`", "$$", "${A}b", "$${A}", "it's", "\t\x00é"} {
		got, err := SplitWords(quoteWord(w))
		if err != nil || len(got) != 1 || got[0] != w {
			t.Errorf("SplitWords(quoteWord(%q) = %s) = %q, %v", w, quoteWord(w), got, err)
		}
	}
	if got, err := SplitWords("sh -c " + shellQuote("it's $HOME | x")); err != nil || !reflect.DeepEqual(got, []string{"sh", "-c", "it's $$HOME | x"}) {
		t.Errorf("shellQuote: got %q, %v", got, err)
	}
}

// FuzzSplitWords: SplitWords never panics, and its words, quoted and
// joined, split back into the same words with the same assignments.
func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{
		"bundle exec rails s -p $PORT",
		`A=1 B="x y" exec bin/worker --q "a b" 'c $d' \$e # c`,
		`"a\"b\\c\$d\e" '' "" ${X}y $ a$ $.`,
		"a | b", "a 'b", `a "b`, "a\\", "${A:-b}", "$(x)", "é\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, assigns, err := splitWords(s)
		if err != nil {
			return
		}
		if assigns > len(words) {
			t.Fatalf("%d assignments of %d words", assigns, len(words))
		}
		q := make([]string, len(words))
		for i, w := range words {
			q[i] = quoteWord(w)
			if i < assigns { // keep NAME= unquoted, as it was
				k, v, _ := strings.Cut(w, "=")
				q[i] = k + "=" + quoteWord(v)
			}
		}
		joined := strings.Join(q, " ")
		again, assigns2, err := splitWords(joined)
		if err != nil {
			t.Fatalf("split %q → %q; quoted %s: %v", s, words, joined, err)
		}
		if !reflect.DeepEqual(again, words) && !(len(again) == 0 && len(words) == 0) || assigns2 != assigns {
			t.Fatalf("split %q → %q (%d assignments); quoted %s → %q (%d)", s, words, assigns, joined, again, assigns2)
		}
	})
}
