package export

import (
	"fmt"
	"strings"
)

// Unit is one rendered unit file.
type Unit struct {
	Name string // its file name: store.service, store.socket, api@.service
	Text string
	// Enable is what `systemctl enable` takes for it: Name, or the
	// instances of a template (api@1.service, api@2.service).
	Enable []string
}

// notePrefix starts every comment the units carry, for grep.
const notePrefix = "# fnrun: "

// unitFile is a unit being written: its sections in order.
type unitFile struct{ secs []*section }

type section struct {
	name  string
	lines []string
}

// sec returns the section called name, added after the others the first
// time.
func (u *unitFile) sec(name string) *section {
	for _, s := range u.secs {
		if s.name == name {
			return s
		}
	}
	s := &section{name: name}
	u.secs = append(u.secs, s)
	return s
}

func (u *unitFile) text() string {
	var b strings.Builder
	for i, s := range u.secs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + s.name + "]\n")
		for _, l := range s.lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// set adds KEY=value; value must already be quoted or escaped.
func (s *section) set(key, value string) { s.lines = append(s.lines, key+"="+value) }

// note adds a comment line; a newline in it is written as \n.
func (s *section) note(format string, args ...any) {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", `\n`)
	s.lines = append(s.lines, notePrefix+msg)
}
