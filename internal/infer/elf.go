package infer

import (
	"debug/elf"
	"fmt"
	"runtime"
)

var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386, "riscv64": elf.EM_RISCV,
}

// checkELF turns dlopen's unhelpful "cannot open shared object file" for a
// library of another architecture into an error that says so.
func checkELF(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("infer: ONNX Runtime library %s is not a shared library: %w", path, err)
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Errorf("infer: ONNX Runtime library %s is built for %v, this program is %s (%v)", path, f.Machine, runtime.GOARCH, want)
	}
	return nil
}
