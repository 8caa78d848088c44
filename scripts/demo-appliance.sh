#!/bin/sh
# demo-appliance.sh runs the whole appliance on this machine: the sensor
# simulator on a pty serving a clinician's print, enrollment of that
# clinician through it, a hub on loopback with local storage (Orthanc as its
# PACS where installed), edge run with the embedded default config below,
# dcmtk's storescu sending the sample DICOMs, and a table per image. The
# status page stays up until Ctrl-C; DEMO_EXIT=1 ends the demo after the
# table instead, and so does a run with no terminal to press Ctrl-C in (a
# script, CI).
#
# Needs bin/edge, models/resnet152-int8.onnx and ONNX Runtime (make build,
# make model, make ort: `make demo` makes them first), dcmtk, jq and curl
# (scripts/install-deps.sh). Ports: EDGE_DEMO_PORT_BASE (default 18440) and
# the four after it. EDGE_DEMO_DATA replaces ../shared/data.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
edge=$root/bin/edge
model=$root/models/resnet152-int8.onnx
out=$root/out/demo-appliance
base=${EDGE_DEMO_PORT_BASE:-18440}
hub_port=$base status_port=$((base + 1)) dicom_port=$((base + 2)) orthanc_port=$((base + 3))

for tool in storescu jq curl; do
	command -v "$tool" >/dev/null || { echo "demo-appliance: $tool is needed (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$edge" ] || go build -o "$edge" ./cmd/edge
[ -f "$model" ] || { echo "demo-appliance: $model is missing: make model" >&2; exit 1; }
sh scripts/fetch-ort.sh

rm -rf "$out"
mkdir -p "$out/device" "$out/cal"
chmod 700 "$out/device"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for WHAT SECONDS COMMAND…: run COMMAND every half second until it succeeds.
wait_for() {
	what=$1 secs=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt $((secs * 2)) ] || { echo "demo-appliance: timed out waiting for $what" >&2; exit 1; }
		sleep 0.5
	done
}
health() { curl -fsS "http://127.0.0.1:$status_port/healthz"; }

# EDGE_DEMO_DATA stands in for ../shared/data (a folder that does not exist
# shows what a fresh machine does).
shared=${EDGE_DEMO_DATA:-$root/../shared/data}
if [ -d "$shared/medical" ]; then
	images=$shared/medical
	echo "demo-appliance: images from $images"
else
	images=$(sh scripts/fetch-samples.sh)
	echo "demo-appliance: no shared data here; real CT/MR DICOMs from Debian's python3-pydicom ($images)"
fi
# The store is calibrated on prints of four fingers, the clinician's among them.
if [ -f "$shared/fingerprints/multi-impression/1_1.png" ]; then
	print=$shared/fingerprints/multi-impression/1_1.png
	cp "$shared"/fingerprints/multi-impression/[1-4]_*.png "$out/cal/"
	echo "demo-appliance: clinician's print $print"
else
	for f in 1 2 3 4; do
		for i in 1 2 3 4 5; do "$edge" synth-print --out "$out/cal/${f}_$i.png" --seed $((f * 85 + i)) >/dev/null; done
	done
	print=$out/cal/1_1.png
	echo "demo-appliance: no real prints here; a SYNTHETIC fingerprint drawn by edge synth-print"
fi
echo "demo-appliance: calibrating the template store on $(ls "$out/cal" | wc -l) prints"
"$edge" eval-biometrics --fingerprints "$out/cal" --store "$out/device/templates" --model "$model" >"$out/calibration.txt"

# The sensor: the simulator on a pty at the module's line rate.
"$edge" sensor simulate --print "$print" --link "$out/sensor" --baud 115200 2>"$out/simulator.log" &
pids="$pids $!"
wait_for "the sensor simulator" 10 test -e "$out/sensor"
echo "demo-appliance: enrolling dr.demo from three captures through the simulated sensor"
"$edge" sensor enroll --port "$out/sensor" --baud 115200 --id dr.demo --store "$out/device/templates" --model "$model" --prints 3 2>>"$out/enroll.log"

# The hub, and Orthanc as its PACS where installed.
pacs=
if command -v Orthanc >/dev/null; then
	mkdir -p "$out/orthanc"
	cat >"$out/orthanc/orthanc.json" <<EOF
{"Name": "edge-demo", "StorageDirectory": "$out/orthanc/db", "IndexDirectory": "$out/orthanc/db",
 "HttpPort": $orthanc_port, "DicomServerEnabled": false, "RemoteAccessAllowed": false,
 "AuthenticationEnabled": false, "Plugins": [], "StorageCompression": false}
EOF
	Orthanc "$out/orthanc/orthanc.json" >"$out/orthanc/orthanc.log" 2>&1 &
	pids="$pids $!"
	wait_for Orthanc 30 curl -fsS "http://127.0.0.1:$orthanc_port/system"
	pacs=http://127.0.0.1:$orthanc_port
	echo "demo-appliance: Orthanc on $pacs is the PACS"
else
	echo "demo-appliance: Orthanc not installed; the hub keeps the images without a PACS"
fi
"$edge" hub init --dir "$out/hub" --listen "127.0.0.1:$hub_port" ${pacs:+--pacs-url "$pacs"} >"$out/hub-init.txt"
pin=$(tail -n 1 "$out/hub-init.txt")
# The hub restores only envelopes made by the model it knows.
hash=$(sha256sum "$model" | cut -d' ' -f1)
jq --arg h "$hash" '.accepted_models = [$h]' "$out/hub/hub.json" >"$out/hub/.hub.json" && mv "$out/hub/.hub.json" "$out/hub/hub.json"
chmod 600 "$out/hub/hub.json"
"$edge" keys init --device "$out/device/keys" --hub-pub "$out/hub/hub.pub" >/dev/null
"$edge" hub trust --dir "$out/hub" "$out/device/keys/device.pub" >/dev/null
start_hub() {
	"$edge" hub --config "$out/hub/hub.json" >>"$out/hub.log" 2>&1 &
	hub_pid=$!
	pids="$pids $hub_pid"
}
start_hub

# The appliance, on its embedded default config.
cat >"$out/device/edge.json" <<EOF
{
  "state_dir": "state",
  "keys": "keys",
  "store": "templates",
  "model": "$model",
  "sensor": {"port": "$out/sensor", "baud": 115200},
  "session": {"idle_timeout_seconds": 600},
  "modality": {"listen": "127.0.0.1:$dicom_port", "ae_title": "EDGE"},
  "uplink": {"hub": "https://127.0.0.1:$hub_port", "pin": "$pin"},
  "status": {"listen": "127.0.0.1:$status_port"}
}
EOF
"$edge" run --config "$out/device/edge.json" 2>"$out/run.log" &
pids="$pids $!"
wait_for "edge run" 60 health
echo "demo-appliance: edge run is up; status page on http://127.0.0.1:$status_port/"
wait_for "the clinician's login at the sensor" 60 sh -c "curl -fsS http://127.0.0.1:$status_port/healthz | jq -e '.logged_in'"
echo "demo-appliance: dr.demo logged in at the sensor"

n=0
: >"$out/sent.txt"
for img in "$images"/*.dcm; do
	[ -f "$img" ] || continue
	if storescu -aec EDGE -aet DEMO 127.0.0.1 "$dicom_port" "$img" >"$out/storescu.last" 2>&1; then
		n=$((n + 1))
		# name and SOP Instance UID: the table finds each image by its UID.
		uid=$(dcmdump +P 0008,0018 -s "$img" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -n 1)
		printf '%s %s\n' "$(basename "$img")" "$uid" >>"$out/sent.txt"
		echo "  sent $(basename "$img")"
	else
		echo "  $(basename "$img"): not sent: $(grep -m1 '^W:\|^E:' "$out/storescu.last" || echo "storescu failed")"
	fi
	cat "$out/storescu.last" >>"$out/storescu.log"
done
audit=$out/device/state/audit.jsonl
# A stored C-STORE is in the outbox or the pending folder (or was the same
# object again): once both are empty, everything sent is at the hub.
drained() { health | jq -e '.outbox_depth == 0 and .pending == 0' >/dev/null; }
wait_for "every image at the hub" 600 drained
if [ -n "$pacs" ]; then
	stored=$(jq -s '[.[] | select(.event == "protected" or .event == "released")] | length' "$audit")
	inpacs() { [ "$(curl -fsS "$pacs/instances" | jq length)" -ge "$stored" ]; }
	wait_for "every image in Orthanc" 120 inpacs
fi

# The hub's audit is read with the hub stopped (its index is locked while it runs).
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null || true
"$edge" hub audit --dir "$out/hub" --json >"$out/hub-audit.json"
start_hub
echo
printf '%-38s %-9s %8s %6s %6s %11s %11s %-8s %s\n' image clinician "PSNR dB" BER NC "bytes in" "bytes out" restored PACS
# Each image is found by its SOP Instance UID; a file that is the same
# object as one sent before (same UID and data set) made no second envelope.
jq -rn --slurpfile dev "$audit" --slurpfile hub "$out/hub-audit.json" --rawfile sent "$out/sent.txt" '
	($hub[0] | map({(.envelope_id): .}) | add // {}) as $h
	| ($sent | split("\n") | map(select(. != "") | split(" ")) | reverse | map({(.[1]): .[0]}) | add // {}) as $names
	| $dev[] | select(.event == "protected" or .event == "released")
	| ($h[.envelope] // {}) as $r
	| [($names[.sop_instance_uid // ""] // .source), .clinician, (.psnr_db * 100 | round / 100), ($r.ber // "-"), ($r.nc // "-"),
	   .original_bytes, .envelope_bytes,
	   (if $r.outcome == "stored" then "exact" else ($r.outcome // "not yet") end),
	   ($r.forward // "-")] | @tsv' |
	while IFS="$(printf '\t')" read -r src who psnr ber nc inb outb restored fwd; do
		printf '%-38s %-9s %8s %6s %6s %11s %11s %-8s %s\n' "$src" "$who" "$psnr" "$ber" "$nc" "$inb" "$outb" "$restored" "$fwd"
	done
echo
echo "demo-appliance: $n files sent, $(jq -s '[.[] | select(.event == "protected" or .event == "released")] | length' "$audit") images protected; \"exact\" means the hub restored pixels whose SHA-256 is the sealed original's"
echo "demo-appliance: logs, audit records and the hub's store are in $out"
if [ "${DEMO_EXIT:-0}" = 1 ] || [ ! -t 0 ]; then
	exit 0
fi
echo "demo-appliance: status page on http://127.0.0.1:$status_port/ until Ctrl-C"
wait
