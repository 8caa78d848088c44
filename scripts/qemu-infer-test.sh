#!/bin/sh
# qemu-infer-test.sh runs a small network from the model builder through the
# arm64 ONNX Runtime library under qemu-user and checks that its features
# agree with the amd64 build's (cosine >= 0.999). It skips, saying why, when
# qemu, the aarch64 cross compiler and libraries or the fetched libraries are
# absent, or when it cannot make a private mount namespace. Under CI=true a
# skip is a failure: this is the only arm64 inference check, and a locked-down
# runner must not drop it silently.
#
# Why the mount: the arm64 ONNX Runtime reads /proc/cpuinfo to find its cores;
# under qemu-user that file is the host's x86 one, the library finds no ARM
# cores and writes through a NULL pointer inside dlopen. Inside unshare -m a
# bind mount puts an ARM-looking cpuinfo over /proc/cpuinfo for this process
# tree only (needs root, as here and in CI); scripts/arm64-cpuinfo is that
# file (two Neoverse N1 cores), shared with board/pack's tarball start test.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
skip() {
	if [ "${CI:-}" = true ]; then
		echo "qemu-infer-test: FAIL: CI=true and this required check cannot run: $*" >&2
		exit 1
	fi
	echo "qemu-infer-test: SKIP: $*"
	exit 0
}

command -v qemu-aarch64-static >/dev/null || skip "qemu-aarch64-static not installed (apt-get install qemu-user-static)"
command -v aarch64-linux-gnu-gcc >/dev/null || skip "aarch64-linux-gnu-gcc not installed (apt-get install gcc-aarch64-linux-gnu)"
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || skip "aarch64 libc not in /usr/aarch64-linux-gnu (apt-get install libc6-dev-arm64-cross)"
[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || skip "aarch64 libstdc++ not in /usr/aarch64-linux-gnu (apt-get install libstdc++6-arm64-cross)"
[ -f "$root/third_party/onnxruntime/linux-arm64/libonnxruntime.so.1" ] || skip "ONNX Runtime libraries not fetched (scripts/fetch-ort.sh)"
command -v unshare >/dev/null || skip "unshare not available"
[ "$(id -u)" = 0 ] || skip "needs root for unshare -m and the bind mount"
unshare -m true 2>/dev/null || skip "cannot create a mount namespace here"

# The work folder is in the clone, not /tmp: the test binary looks for the
# ONNX Runtime library beside and above itself first, and a third_party/
# left under /tmp by another run must not stand in for this clone's.
GO=${GO:-go}
export GOTMPDIR="${GOTMPDIR:-$root/.cache/go-tmp}"
mkdir -p "$root/.cache" "$GOTMPDIR"
work=$(mktemp -d "$root/.cache/qemu-infer.XXXXXX")
trap 'rm -rf "$work"' EXIT

cd "$root/internal/infer"
EDGE_XARCH_OUT=$work/amd64.f32 $GO test -count=1 -run '^TestCrossArchAgreement$' . >"$work/amd64.log" 2>&1 || { cat "$work/amd64.log"; exit 1; }
if grep -q SKIP "$work/amd64.log" || [ ! -s "$work/amd64.f32" ]; then
	$GO test -count=1 -run '^TestCrossArchAgreement$' -v . | grep -i skip || true
	skip "the amd64 run skipped (see above)"
fi
CGO_ENABLED=1 GOARCH=arm64 CC=aarch64-linux-gnu-gcc $GO test -c -o "$work/infer.arm64" .
export EDGE_XARCH_REF="$work/amd64.f32" work root
unshare -m sh -c '
	mount --bind "$root/scripts/arm64-cpuinfo" /proc/cpuinfo &&
	exec qemu-aarch64-static -L /usr/aarch64-linux-gnu "$work/infer.arm64" -test.run "^TestCrossArchAgreement\$" -test.v -test.count=1
' | tee "$work/arm64.log"
if ! grep -q "^--- PASS: TestCrossArchAgreement" "$work/arm64.log"; then
	echo "qemu-infer-test: FAIL: the arm64 run did not pass TestCrossArchAgreement (log above)" >&2
	exit 1
fi
echo "qemu-infer-test: arm64 under qemu agrees with amd64"
