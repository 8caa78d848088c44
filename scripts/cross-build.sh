#!/bin/sh
# cross-build.sh builds edge for the architecture of every board profile in
# board/profiles (linux/amd64, linux/arm64 and linux/arm with GOARM=7, each
# with cgo through Debian's cross compilers) and packs, per board,
# dist/edge-VERSION-BOARD.tar.gz with the binary, the ONNX Runtime library
# for that architecture, the int8 model, the profile, the systemd unit, an
# example config and an install note, plus dist/SHA256SUMS.
#
# Reproducible: two runs on the same commit give the same bytes, wherever
# the clone is. The binaries are built with -trimpath, -buildvcs=false and an
# empty build id; the tarballs (board/pack) have sorted entries owned by 0:0,
# stamped with the commit time, and a gzip header without name or time.
#
# VERSION, SOURCE_DATE_EPOCH and DIST override the version (git describe),
# the time stamped on the entries (the commit's) and the output folder.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
model=models/resnet152-int8.onnx
out=${DIST:-dist}

[ -f "$model" ] || { echo "cross-build: $model missing (make model builds it)" >&2; exit 1; }
sh scripts/fetch-ort.sh
version=${VERSION:-$(git describe --tags --always --dirty --abbrev=12)}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$GO build -o "$work/pack" ./board/pack

# One binary per architecture key the profiles name.
bins=
for key in $("$work/pack" -list | awk '{print $2}' | sort -u); do
	line=$("$work/pack" -list | awk -v k="$key" '$2 == k {print $3, $4; exit}')
	goarch=${line% *}
	goarm=${line#* }
	[ "$goarm" = - ] && goarm=
	case $goarch in
	amd64) cc=x86_64-linux-gnu-gcc ;;
	arm64) cc=aarch64-linux-gnu-gcc ;;
	arm) cc=arm-linux-gnueabihf-gcc ;;
	*) echo "cross-build: no cross compiler known for $goarch" >&2; exit 1 ;;
	esac
	command -v "$cc" >/dev/null || { echo "cross-build: $cc missing (make deps installs it)" >&2; exit 1; }
	echo "cross-build: edge for linux/$key"
	CGO_ENABLED=1 GOOS=linux GOARCH=$goarch GOARM=$goarm CC=$cc \
		$GO build -trimpath -buildvcs=false -ldflags=-buildid= -o "$work/edge-$key" ./cmd/edge
	bins="$bins -bin $key=$work/edge-$key"
done

mkdir -p "$out"
rm -f "$out"/edge-*.tar.gz "$out/SHA256SUMS"
# shellcheck disable=SC2086 # $bins is a list of flags
"$work/pack" -version "$version" -mtime "$epoch" $bins -ort-dir third_party/onnxruntime -model "$model" -out "$out"
(cd "$out" && sha256sum -c --quiet SHA256SUMS)
echo "cross-build: $(grep -c . "$out/SHA256SUMS") tarballs in $out, SHA256SUMS verifies"
