#!/bin/sh
# install-deps.sh installs the Debian packages the tests and the demo use as
# real peers and cross tools, and the pinned Go tools. It installs only what
# is missing, so a second run is quick and quiet.
set -eu

pkgs="qemu-user-static gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross dcmtk ent dieharder orthanc libjxl-tools jq curl chromium"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# npm fetches the ONNX Runtime package; a machine whose Node.js came with
# its own npm keeps it (Debian's npm would fight that Node.js).
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Go tools (staticcheck, msgp) are pinned as tool lines in go.mod and run with
# `go tool`, so nothing left in a shared GOPATH/bin can stand in for a broken pin.
