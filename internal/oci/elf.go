package oci

import (
	"debug/elf"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// machine is an architecture's ELF machine and class.
type machine struct {
	m     elf.Machine
	class elf.Class
}

var machines = map[string]machine{
	"amd64":   {elf.EM_X86_64, elf.ELFCLASS64},
	"arm64":   {elf.EM_AARCH64, elf.ELFCLASS64},
	"arm":     {elf.EM_ARM, elf.ELFCLASS32},
	"386":     {elf.EM_386, elf.ELFCLASS32},
	"ppc64le": {elf.EM_PPC64, elf.ELFCLASS64},
	"s390x":   {elf.EM_S390, elf.ELFCLASS64},
	"riscv64": {elf.EM_RISCV, elf.ELFCLASS64},
}

func knownArchs() string {
	return strings.Join(slices.Sorted(maps.Keys(machines)), ", ")
}

// ErrDynamic is returned by CheckExecutable for a dynamically linked
// executable (it has an interpreter, the dynamic loader), which a
// scratch image cannot run.
var ErrDynamic = errors.New("dynamically linked (an image without libc cannot run it)")

// ErrPlatform is returned by CheckExecutable for an executable built for
// another platform.
var ErrPlatform = errors.New("built for another platform")

// CheckExecutable checks that path is a statically linked ELF executable
// for p. Its errors wrap ErrDynamic or ErrPlatform when it is one of those.
func CheckExecutable(path string, p Platform) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not an ELF executable: %w", path, err)
	}
	defer f.Close()
	want, ok := machines[p.Architecture]
	if !ok {
		return fmt.Errorf("%s: unknown architecture %s", path, p.Architecture)
	}
	if f.Machine != want.m || f.Class != want.class {
		return fmt.Errorf("%s: %w: %s %s, want %s for %s", path, ErrPlatform, f.Class, f.Machine, want.m, p)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: %w", path, ErrDynamic)
		}
	}
	return nil
}
