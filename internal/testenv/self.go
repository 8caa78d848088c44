package testenv

import (
	"fmt"
	"os"
	"os/exec"
)

// EnvExec names the emulator that runs this test binary when it was built
// for another architecture (scripts/cross-test.sh sets it to
// qemu-aarch64-static or qemu-arm-static). Without binfmt_misc the kernel
// cannot start such a binary itself, so a test that runs itself again as a
// child process must go through the same emulator.
const EnvExec = "EDGE_TEST_EXEC"

// SelfCommand is a command that runs this test binary again with args, as a
// child process a test can kill: directly, or through $EDGE_TEST_EXEC when
// the binary runs under emulation.
func SelfCommand(args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("testenv: this test binary: %w", err)
	}
	if w := os.Getenv(EnvExec); w != "" {
		return exec.Command(w, append([]string{self}, args...)...), nil
	}
	return exec.Command(self, args...), nil
}
