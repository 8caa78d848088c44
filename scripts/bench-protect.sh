#!/bin/sh
# bench-protect.sh times whole processes side by side in one run: `edge
# protect` and `edge recover` (scheme v1) against dcmtk's JPEG-LS tools
# (dcmcjpls / dcmdjpls, DICOM in and out) and, where libjxl-tools is
# installed, JPEG XL lossless (cjxl -d 0 -e 7 / djxl), on the sample images
# and on generated 256² to 3072² 16-bit images. Each figure is the median of
# REPS runs (default 5) of wall time and peak RSS (GNU time's %M), taken in
# turn so that a busy machine slows every tool alike. It prints a Markdown
# table with the ratios the README quotes, and per-pixel times of protect.
#
#   scripts/bench-protect.sh [out-dir]      REPS=7, IMAGES="mr1024 dr3072" to run a subset
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-$root/out/bench}
reps=${REPS:-5}
med=$root/../shared/data/medical
mkdir -p "$out"
for t in /usr/bin/time dcmcjpls dcmdjpls; do
	command -v "$t" >/dev/null || { echo "bench-protect: $t is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
jxl=0
command -v cjxl >/dev/null && command -v djxl >/dev/null && jxl=1

go build -o "$out/edge" ./cmd/edge
edge=$out/edge
in=$out/in
if [ ! -f "$in/dr3072.dcm" ]; then
	# The generator is a test of internal/eval run with a flag: DR-like
	# 16-bit images from integer arithmetic, DICOM copies of PNG samples.
	go test -count=1 -run TestWriteBenchInputs ./internal/eval -args -write-inputs "$in" >/dev/null
fi
# The hub's and the device's key sets are made apart, as in service.
[ -f "$out/keys/hub/hub.key" ] || "$edge" keys init --hub "$out/keys/hub" >/dev/null
[ -f "$out/keys/device/device.key" ] || "$edge" keys init --device "$out/keys/device" --hub-pub "$out/keys/hub/hub.pub" >/dev/null
hubpub=$out/keys/hub/hub.pub hubkey=$out/keys/hub/hub.key
devkey=$out/keys/device/device.key devpub=$out/keys/device/device.pub

# measure NAME CMD... appends "NAME seconds kilobytes" for one run.
measure() {
	name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/err.txt" || {
		echo "bench-protect: $name failed: $(cat "$out/err.txt")" >&2
		exit 1
	}
	echo "$name $(cat "$out/time.txt")" >>"$out/runs.txt"
}

# median NAME FIELD: median of field 2 (seconds) or 3 (KB) of NAME's runs.
median() {
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$out/runs.txt" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

: >"$out/runs.txt"
# image label, DICOM file, PNG file (the same pixels)
set -- \
	mr1024 "$med/MR2_UNCR.dcm" "$in/mr1024.png" \
	ct512rgb "$in/ct512rgb.dcm" "$in/ct512rgb.png" \
	cr1760 "$in/cr1760.dcm" "$in/cr1760.png" \
	dr256 "$in/dr256.dcm" "$in/dr256.png" \
	dr512 "$in/dr512.dcm" "$in/dr512.png" \
	dr1024 "$in/dr1024.dcm" "$in/dr1024.png" \
	dr2048 "$in/dr2048.dcm" "$in/dr2048.png" \
	dr3072 "$in/dr3072.dcm" "$in/dr3072.png"
images=""
while [ $# -ge 3 ]; do
	label=$1 dcm=$2 png=$3
	shift 3
	case " ${IMAGES:-$label} " in *" $label "*) ;; *) continue ;; esac
	[ -f "$dcm" ] || { echo "bench-protect: $dcm missing, $label skipped" >&2; continue; }
	images="$images $label"
	echo "$label: $reps rounds" >&2
	for r in $(seq "$reps"); do
		measure "$label.protect" "$edge" protect --image "$dcm" --features "$in/features.f32" --unverified --clinician bench \
			--hub-pub "$hubpub" --device-key "$devkey" --out "$out/$label.edge" --force
		measure "$label.recover" "$edge" recover --in "$out/$label.edge" --hub-key "$hubkey" \
			--device-pub "$devpub" --allow-unverified --out "$out/$label.restored.dcm" --force
		cmp -s "$dcm" "$out/$label.restored.dcm" || { echo "bench-protect: $label restored file differs" >&2; exit 1; }
		measure "$label.protect1" env GOMAXPROCS=1 "$edge" protect --image "$dcm" --features "$in/features.f32" --unverified --clinician bench \
			--hub-pub "$hubpub" --device-key "$devkey" --out "$out/$label.1.edge" --force
		measure "$label.recover1" env GOMAXPROCS=1 "$edge" recover --in "$out/$label.1.edge" --hub-key "$hubkey" \
			--device-pub "$devpub" --allow-unverified --out "$out/$label.restored1.dcm" --force
		measure "$label.jpls" dcmcjpls "$dcm" "$out/$label.jls.dcm"
		measure "$label.djpls" dcmdjpls "$out/$label.jls.dcm" "$out/$label.unjls.dcm"
		if [ "$jxl" = 1 ] && [ -n "$png" ]; then
			measure "$label.cjxl" cjxl -d 0 -e 7 --quiet "$png" "$out/$label.jxl"
			measure "$label.djxl" djxl --quiet "$out/$label.jxl" "$out/$label.unjxl.png"
		fi
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f", a / b }'; }
echo "| image | pixels | raw MiB | protect s / MiB | dcmcjpls s / MiB | protect ÷ dcmcjpls | recover s / MiB | dcmdjpls s | recover ÷ dcmdjpls | cjxl -e 7 s | djxl s | RSS ÷ (6·raw + 48 MiB), protect / recover | 1 core ÷ default, protect / recover |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for label in $images; do
	case $label in
	mr1024) px=$((1024 * 1024)) raw=$((2 * px)) ;;
	ct512rgb) px=$((512 * 512)) raw=$((3 * px)) ;;
	cr1760) px=$((1760 * 1760)) raw=$((2 * px)) ;;
	dr*) n=${label#dr} px=$((n * n)) raw=$((2 * px)) ;;
	esac
	ps=$(median "$label.protect" 2) pk=$(median "$label.protect" 3)
	rs=$(median "$label.recover" 2) rk=$(median "$label.recover" 3)
	js=$(median "$label.jpls" 2) jk=$(median "$label.jpls" 3)
	ds=$(median "$label.djpls" 2)
	xs=$(median "$label.cjxl" 2) xd=$(median "$label.djxl" 2)
	p1=$(median "$label.protect1" 2) r1=$(median "$label.recover1" 2)
	budget=$(awk -v r="$raw" 'BEGIN { print (6 * r + 48 * 1048576) / 1024 }')
	mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
	echo "| $label | $px | $(awk -v r="$raw" 'BEGIN { printf "%.1f", r / 1048576 }') | $ps / $(mib "$pk") | $js / $(mib "$jk") | $(ratio "$ps" "$js") | $rs / $(mib "$rk") | $ds | $(ratio "$rs" "$ds") | ${xs:-–} | ${xd:-–} | $(ratio "$pk" "$budget") / $(ratio "$rk" "$budget") | $(ratio "$p1" "$ps") / $(ratio "$r1" "$rs") |"
done
echo
echo "protect, microseconds per pixel (median wall / pixels):"
for label in $images; do
	case $label in dr*) n=${label#dr} ;; *) continue ;; esac
	awk -v l="$label" -v s="$(median "$label.protect" 2)" -v p=$((n * n)) 'BEGIN { printf "  %s: %.3f\n", l, 1e6 * s / p }'
done
echo "(runs: $out/runs.txt; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
