#!/bin/sh
# demo.sh runs the main job end to end on sample images: keys for a hub and a
# device, a clinician's features from a fingerprint through the int8
# ResNet152, protect → recover of each sample image with both schemes, a
# bit-for-bit check of each restored file, and the evaluation tables.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
edge=$root/bin/edge
out=$root/out/demo
rm -rf "$out"
mkdir -p "$out/images" "$out/features"

shared=$root/../shared/data
if [ -d "$shared/medical" ]; then
	images=$shared/medical
	echo "demo: images from $images"
else
	images=$(sh scripts/fetch-samples.sh)
	echo "demo: no shared data here; using the real CT/MR DICOMs Debian's python3-pydicom ships ($images)"
fi
if [ -f "$shared/fingerprints/multi-impression/1_1.png" ]; then
	print=$shared/fingerprints/multi-impression/1_1.png
	echo "demo: clinician's print $print"
else
	print=$out/print.png
	"$edge" synth-print --out "$print" --seed 7
	echo "demo: no real prints here; using a SYNTHETIC fingerprint drawn by edge synth-print"
fi

# The hub's keys and the device's are made apart: hub.key never goes onto a device.
"$edge" keys init --hub "$out/keys/hub"
"$edge" keys init --device "$out/keys/device" --hub-pub "$out/keys/hub/hub.pub"

if [ ! -f models/resnet152-int8.onnx ]; then
	echo "demo: building the int8 ResNet152 (deterministic weights; once)"
	mkdir -p models
	"$edge" model build --out models/resnet152-int8.onnx
fi
"$edge" features --fingerprint "$print" --out "$out/features/clinician.f32"

status=0
for img in "$images"/*; do
	case $img in *.dcm | *.png) ;; *) continue ;; esac
	name=$(basename "$img")
	ext=${name##*.}
	for scheme in v1 paper; do
		env=$out/images/$name.$scheme.edge
		# Features from a file are sealed unverified (zero model hash); the demo's
		# hub accepts them with --allow-unverified, a hub in service would not.
		if ! "$edge" protect --image "$img" --features "$out/features/clinician.f32" --unverified \
			--hub-pub "$out/keys/device/hub.pub" --device-key "$out/keys/device/device.key" \
			--out "$env" --scheme "$scheme" --clinician demo-clinician \
			--report-json "$env.protect.json" >/dev/null 2>"$out/err"; then
			echo "  $name ($scheme): not protected: $(cat "$out/err")"
			continue
		fi
		restored=$out/images/$name.$scheme.restored.$ext
		"$edge" recover --in "$env" --hub-key "$out/keys/hub/hub.key" --device-pub "$out/keys/device/device.pub" \
			--allow-unverified --out "$restored" --report-json "$env.recover.json"
		if [ "$ext" = dcm ]; then
			if cmp -s "$img" "$restored"; then echo "  $name ($scheme): restored DICOM identical to the original file"; else
				echo "  $name ($scheme): RESTORED FILE DIFFERS"; status=1; fi
		fi
	done
done

"$edge" eval --images "$images" --features "$out/features" --scheme both --json "$out/eval.json" --report "$out/eval.md"
echo
cat "$out/eval.md"
echo
echo "demo: envelopes, restored images and reports are in $out"
exit $status
