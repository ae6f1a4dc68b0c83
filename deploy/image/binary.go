package main

import (
	"debug/elf"
	"fmt"
	"strings"
)

// inspectBinary returns the architecture of the executable at path, and an error unless it is
// a statically linked Linux executable: on an empty base there is no dynamic loader or C
// library to run anything else.
func inspectBinary(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s is not a Linux executable (build it with GOOS=linux): %w", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", fmt.Errorf("%s is an ELF %s, not an executable", path, f.Type)
	}
	arch := architecture(f.Machine)
	if arch == "" {
		return "", fmt.Errorf("%s is built for %s, which this image builder does not know", path, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			libs, _ := f.ImportedLibraries()
			return "", fmt.Errorf("%s is dynamically linked (it needs %s): build it with CGO_ENABLED=0", path, strings.Join(libs, ", "))
		}
	}
	return arch, nil
}

// architecture returns the image platform's name of an ELF machine, "" for one Go does not
// build static Linux binaries for.
func architecture(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		return "ppc64le"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return ""
}
