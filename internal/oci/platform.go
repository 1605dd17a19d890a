package oci

import (
	"fmt"
	"strings"
)

// Platform is where an image runs: GOOS, GOARCH and, for arm, the variant
// (v6, v7; v8 for arm64), in the OCI spellings, which are Go's.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// String is os/arch[/variant], as --platform takes it.
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// ParsePlatform reads os/arch[/variant] (linux/amd64, linux/arm/v7). Only
// linux images are written, for the architectures whose ELF machine
// CheckExecutable knows.
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, fmt.Errorf("platform %q: want OS/ARCH[/VARIANT], e.g. linux/amd64", s)
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if p.OS != "linux" {
		return Platform{}, fmt.Errorf("platform %q: only linux images can be written", s)
	}
	if _, ok := machines[p.Architecture]; !ok {
		return Platform{}, fmt.Errorf("platform %q: unknown architecture %s (want one of %s)", s, p.Architecture, knownArchs())
	}
	if _, err := p.GoEnv(); err != nil {
		return Platform{}, err
	}
	return p, nil
}

// GoEnv is the go command's environment for building for p: GOOS, GOARCH
// and GOARM or GOAMD64 for a variant.
func (p Platform) GoEnv() ([]string, error) {
	env := []string{"GOOS=" + p.OS, "GOARCH=" + p.Architecture}
	switch {
	case p.Variant == "":
	case p.Architecture == "arm" && (p.Variant == "v5" || p.Variant == "v6" || p.Variant == "v7"):
		env = append(env, "GOARM="+p.Variant[1:])
	case p.Architecture == "amd64" && (p.Variant == "v1" || p.Variant == "v2" || p.Variant == "v3" || p.Variant == "v4"):
		env = append(env, "GOAMD64="+p.Variant)
	case p.Architecture == "arm64" && p.Variant == "v8":
	default:
		return nil, fmt.Errorf("platform %s: unknown variant %s for %s", p, p.Variant, p.Architecture)
	}
	return env, nil
}
