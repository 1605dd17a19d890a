package export

import (
	"strconv"
	"strings"
)

// SystemdVersion reads the version from the output of `systemctl
// --version`, whose first line is "systemd 252 (252.38-1~deb12u1)".
func SystemdVersion(out string) (int, bool) {
	line, _, _ := strings.Cut(out, "\n")
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "systemd" {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// InstallList is the short list of steps that installs units rendered by
// Systemd on the target, binaries from bin/ going to prefix: copy, reload,
// enable and start the sockets, then the services (the instances of a
// template).
func InstallList(units []Unit, prefix string) string {
	var files, sockets, services []string
	for _, u := range units {
		files = append(files, u.Name)
		switch {
		case strings.HasSuffix(u.Name, ".socket"):
			sockets = append(sockets, u.Enable...)
		default:
			services = append(services, u.Enable...)
		}
	}
	var b strings.Builder
	b.WriteString("# as root on the target:\n")
	b.WriteString("install -d " + shellQuote(prefix) + "\n")
	b.WriteString("install -m 0755 bin/* " + shellQuote(prefix) + "/\n")
	if len(files) > 0 {
		b.WriteString("install -m 0644 " + strings.Join(files, " ") + " /etc/systemd/system/\n")
	}
	b.WriteString("systemctl daemon-reload\n")
	if len(sockets) > 0 {
		b.WriteString("systemctl enable --now " + strings.Join(sockets, " ") + "\n")
	}
	if len(services) > 0 {
		b.WriteString("systemctl enable --now " + strings.Join(shellQuoteAll(services), " ") + "\n")
	}
	return b.String()
}

// shellQuote quotes s for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./@:+=-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellQuoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = shellQuote(s)
	}
	return out
}
