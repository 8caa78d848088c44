#!/bin/sh
# cross-test.sh proves the same bytes on every architecture the appliance
# ships for. It runs the golden-vector tests of the bit-exact packages as
# linux/arm64 and linux/arm (GOARM=7) binaries under qemu-user and as 386
# natively, then seals envelopes with the arm64 and arm builds of edge and
# opens them with the amd64 build, and the reverse, checking exact restore.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for tool in qemu-aarch64-static qemu-arm-static aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc; do
	command -v $tool >/dev/null || { echo "cross-test: $tool missing (make deps installs it)"; exit 1; }
done

# Golden vectors: keystream, permutation, Huffman bitstreams, embedding.
golden_pkgs="./internal/chaos ./internal/huffman ./internal/embed ./internal/protect"
for target in arm64 arm 386; do
	for pkg in $golden_pkgs; do
		name=$(basename "$pkg")
		bin=$work/$name.$target.test
		case $target in
		arm64) GOARCH=arm64 CGO_ENABLED=0 $GO test -c -o "$bin" "$pkg"; run="qemu-aarch64-static $bin" ;;
		arm) GOARCH=arm GOARM=7 CGO_ENABLED=0 $GO test -c -o "$bin" "$pkg"; run="qemu-arm-static $bin" ;;
		386) GOARCH=386 CGO_ENABLED=0 $GO test -c -o "$bin" "$pkg"; run="$bin" ;;
		esac
		if (cd "$pkg" && $run -test.run 'Golden' -test.count=1 >"$work/log" 2>&1); then
			ok "golden $name on $target"
		else
			bad "golden $name on $target"; cat "$work/log"
		fi
	done
done

# Envelopes across architectures: the device is ARM, the hub usually x86.
CGO_ENABLED=1 $GO build -o "$work/edge-amd64" ./cmd/edge
CGO_ENABLED=1 GOARCH=arm64 CC=aarch64-linux-gnu-gcc $GO build -o "$work/edge-arm64" ./cmd/edge
CGO_ENABLED=1 GOARCH=arm GOARM=7 CC=arm-linux-gnueabihf-gcc $GO build -o "$work/edge-arm" ./cmd/edge
run_arch() {
	arch=$1
	shift
	case $arch in
	amd64) "$work/edge-amd64" "$@" ;;
	arm64) qemu-aarch64-static -L /usr/aarch64-linux-gnu "$work/edge-arm64" "$@" ;;
	arm) qemu-arm-static -L /usr/arm-linux-gnueabihf "$work/edge-arm" "$@" ;;
	esac
}

"$work/edge-amd64" keys init --dir "$work/keys" >/dev/null
perl -e 'print pack("f<*", map { sin($_ * 0.37) * 3 + cos($_ * 0.011) } 0..2047)' >"$work/f.f32"

data=$root/../shared/data/medical
if [ -d "$data" ]; then
	images="$data/CT_small.dcm $data/US1_UNCR.dcm $data/BrainT1Slice.png"
else
	samples=$(sh scripts/fetch-samples.sh)
	images="$samples/CT_small.dcm $samples/MR_small.dcm"
fi

for img in $images; do
	ext=${img##*.}
	for pair in arm64:amd64 amd64:arm64 arm:amd64 amd64:arm; do
		from=${pair%%:*}
		to=${pair##*:}
		for scheme in v1 paper; do
			env=$work/x.edge
			outf=$work/restored.$ext
			rm -f "$env" "$outf"
			what="$(basename "$img") $scheme sealed on $from, recovered on $to"
			if run_arch "$from" protect --image "$img" --features "$work/f.f32" --hub-pub "$work/keys/hub.pub" \
				--device-key "$work/keys/device.key" --out "$env" --scheme "$scheme" --clinician cross-test >"$work/log" 2>&1 &&
				run_arch "$to" recover --in "$env" --hub-key "$work/keys/hub.key" --device-pub "$work/keys/device.pub" \
					--out "$outf" --report-json "$work/r.json" >>"$work/log" 2>&1 &&
				grep -q '"exact": true' "$work/r.json" && grep -q '"ber": 0,' "$work/r.json"; then
				if [ "$ext" = dcm ] && ! cmp -s "$img" "$outf"; then
					bad "$what: restored DICOM differs from the original file"
				else
					ok "$what"
				fi
			else
				bad "$what"; cat "$work/log"
			fi
		done
	done
done

echo "cross: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
