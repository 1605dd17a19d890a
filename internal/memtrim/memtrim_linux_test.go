package memtrim

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// exeRSS sums the resident kB of the executable's read-only mappings.
func exeRSS(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	sum, ours := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if _, _, ok := mappingRange(line); ok {
			fl := strings.Fields(line)
			ours = len(fl) >= 6 && fl[5] == exe && (fl[1] == "r-xp" || fl[1] == "r--p")
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); ok && ours {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			sum += n
		}
	}
	return sum
}

// TestTrimDropsExecutablePages: after Trim the executable's read-only
// mappings hold fewer resident pages, and the process goes on working
// (the code and data it uses next are mapped again).
func TestTrimDropsExecutablePages(t *testing.T) {
	before := exeRSS(t)
	if before == 0 {
		t.Skip("no resident pages of the executable seen")
	}
	Trim()
	after := exeRSS(t)
	if after >= before {
		t.Fatalf("resident kB of the executable's read-only mappings: %d before Trim, %d after; want fewer", before, after)
	}
	// Code and tables run again: formatting, maps, a goroutine.
	done := make(chan string)
	go func() { done <- strconv.Itoa(len(map[string]int{"a": 1, "b": 2})) + strings.Repeat("x", 3) }()
	if got := <-done; got != "2xxx" {
		t.Fatalf("after Trim: %q", got)
	}
	t.Logf("executable's read-only mappings: %d kB resident before Trim, %d kB after", before, after)
}

func TestMappingRange(t *testing.T) {
	for _, tt := range []struct {
		line   string
		lo, hi uint64
		ok     bool
	}{
		{"00400000-00982000 r-xp 00000000 fe:00 10166449  /bin/x", 0x400000, 0x982000, true},
		{"7fec4449f000-7fec444a1000 r-xp 00000000 00:00 0  [vdso]", 0x7fec4449f000, 0x7fec444a1000, true},
		{"Rss:                5020 kB", 0, 0, false},
		{"VmFlags: rd ex mr mw me", 0, 0, false},
		{"00400000-00400000 r-xp", 0, 0, false},
		{"zz-yy r-xp", 0, 0, false},
	} {
		lo, hi, ok := mappingRange(tt.line)
		if ok != tt.ok || (ok && (lo != tt.lo || hi != tt.hi)) {
			t.Errorf("mappingRange(%q) = %x, %x, %v; want %x, %x, %v", tt.line, lo, hi, ok, tt.lo, tt.hi, tt.ok)
		}
	}
}
