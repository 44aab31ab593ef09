package registry

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
)

// Platform is where a plugin archive runs: an operating system and a
// processor architecture with Go's names ("linux", "amd64"), or Wasm for
// WebAssembly modules, which run on every platform.
type Platform struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

// Wasm is the platform of WebAssembly modules. Its String is "wasm".
var Wasm = Platform{OS: "wasm", Arch: "wasm"}

// CurrentPlatform is the platform this program runs on.
func CurrentPlatform() Platform { return Platform{OS: runtime.GOOS, Arch: runtime.GOARCH} }

// String is "OS_ARCH", as in archive names and the lock file, or "wasm".
func (p Platform) String() string {
	if p == Wasm {
		return "wasm"
	}
	return p.OS + "_" + p.Arch
}

// IsWasm says whether p is the WebAssembly platform.
func (p Platform) IsWasm() bool { return p == Wasm }

var platformPart = regexp.MustCompile(`^[a-z0-9]+$`)

// ParsePlatform parses "OS_ARCH" (for example "linux_amd64") or "wasm".
func ParsePlatform(s string) (Platform, error) {
	if s == "wasm" {
		return Wasm, nil
	}
	os, arch, ok := strings.Cut(s, "_")
	p := Platform{OS: os, Arch: arch}
	if !ok || p.validate() != nil || p == Wasm {
		return Platform{}, fmt.Errorf("platform %q is not OS_ARCH (such as linux_amd64) or wasm", s)
	}
	return p, nil
}

// validate checks that both parts are lower-case letters and digits.
func (p Platform) validate() error {
	if !platformPart.MatchString(p.OS) || !platformPart.MatchString(p.Arch) {
		return fmt.Errorf("platform %q/%q: os and arch must be lower-case letters and digits", p.OS, p.Arch)
	}
	return nil
}

// DetectPlatform reads the header of a plugin file and says which
// platform it is built for: Wasm for a WebAssembly module (by its magic
// number), else the OS and architecture of an ELF, Mach-O or PE program.
func DetectPlatform(path string) (Platform, error) {
	f, err := os.Open(path)
	if err != nil {
		return Platform{}, fmt.Errorf("cannot detect the platform of %q: %w", path, err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.ReadAt(magic, 0); err == nil && string(magic) == "\x00asm" {
		return Wasm, nil
	}
	if e, err := elf.NewFile(f); err == nil {
		arch, ok := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386",
			elf.EM_ARM: "arm", elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x"}[e.Machine]
		osName := "linux"
		switch e.OSABI {
		case elf.ELFOSABI_FREEBSD:
			osName = "freebsd"
		case elf.ELFOSABI_OPENBSD:
			osName = "openbsd"
		case elf.ELFOSABI_NETBSD:
			osName = "netbsd"
		}
		if ok {
			return Platform{OS: osName, Arch: arch}, nil
		}
		return Platform{}, fmt.Errorf("cannot detect the platform of %q: ELF machine %s is not known; give --os and --arch", path, e.Machine)
	}
	if m, err := macho.NewFile(f); err == nil {
		arch, ok := map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[m.Cpu]
		if ok {
			return Platform{OS: "darwin", Arch: arch}, nil
		}
		return Platform{}, fmt.Errorf("cannot detect the platform of %q: Mach-O CPU %s is not known; give --os and --arch", path, m.Cpu)
	}
	if p, err := pe.NewFile(f); err == nil {
		arch, ok := map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64", pe.IMAGE_FILE_MACHINE_I386: "386"}[p.Machine]
		if ok {
			return Platform{OS: "windows", Arch: arch}, nil
		}
		return Platform{}, fmt.Errorf("cannot detect the platform of %q: PE machine %#x is not known; give --os and --arch", path, p.Machine)
	}
	return Platform{}, fmt.Errorf("cannot detect the platform of %q: it is neither a WebAssembly module nor an ELF, Mach-O or PE program; give --os and --arch", path)
}
