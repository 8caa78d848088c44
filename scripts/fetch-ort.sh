#!/bin/sh
# fetch-ort.sh puts the ONNX Runtime shared libraries the appliance loads into
# third_party/onnxruntime/linux-{amd64,arm64}/. They come from the npm package
# onnxruntime-node, whose tarball ships prebuilt Linux libraries for both
# architectures; the tarball and each library are checked against the SHA-512
# values pinned below before anything is used. Run again, it does nothing and
# prints nothing once the libraries are in place and match.
set -eu

version=1.30.0
# npm's dist.integrity for onnxruntime-node@1.30.0 (base64 SHA-512 of the tarball).
tarball_sha512=twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==
amd64_sha512=927fc128db9eedb9fae07dfa0574a4d53af91efa7e42c3192678910d32ae4fde46441c14fd42eaf0f925a2f71c1de4816d25720bd6c7579b60e56293cc862215
arm64_sha512=95be392538dfe3bd660207ebad503bcfbcbcd4e6162fb83d19f35d291a981560294914ce471d5251626122aff63cf201a215bb052d7cf5ea009fffcd57dbd366

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/ort
dest=$root/third_party/onnxruntime
tgz=$cache/onnxruntime-node-$version.tgz

# lib_ok ARCH SHA512: the extracted library for ARCH is present and intact.
lib_ok() {
	f=$dest/linux-$1/libonnxruntime.so.1
	[ -f "$f" ] && [ "$(sha512sum "$f" | cut -d' ' -f1)" = "$2" ]
}

if lib_ok amd64 "$amd64_sha512" && lib_ok arm64 "$arm64_sha512"; then
	exit 0
fi

for tool in npm tar sha512sum openssl base64; do
	command -v "$tool" >/dev/null || { echo "fetch-ort: $tool is needed" >&2; exit 1; }
done

mkdir -p "$cache"
tgz_ok() {
	[ -f "$tgz" ] && [ "$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)" = "$tarball_sha512" ]
}
if ! tgz_ok; then
	rm -f "$tgz"
	(cd "$cache" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
	if ! tgz_ok; then
		echo "fetch-ort: $tgz does not match the pinned sha512 $tarball_sha512; removed" >&2
		rm -f "$tgz"
		exit 1
	fi
fi

tmp=$(mktemp -d "$cache/extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tgz" -C "$tmp" \
	package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
	package/bin/napi-v6/linux/arm64/libonnxruntime.so.1

install_lib() { # ARCH NPMARCH SHA512
	src=$tmp/package/bin/napi-v6/linux/$2/libonnxruntime.so.1
	got=$(sha512sum "$src" | cut -d' ' -f1)
	if [ "$got" != "$3" ]; then
		echo "fetch-ort: linux/$2 library has sha512 $got, want $3" >&2
		exit 1
	fi
	mkdir -p "$dest/linux-$1"
	mv "$src" "$dest/linux-$1/.libonnxruntime.so.1.tmp"
	mv "$dest/linux-$1/.libonnxruntime.so.1.tmp" "$dest/linux-$1/libonnxruntime.so.1"
}
install_lib amd64 x64 "$amd64_sha512"
install_lib arm64 arm64 "$arm64_sha512"
echo "fetch-ort: ONNX Runtime $version in $dest"
