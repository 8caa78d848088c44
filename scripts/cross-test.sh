#!/bin/sh
# cross-test.sh proves the same behaviour and the same bytes on every
# architecture the appliance ships for, after make cross:
#
#  1. Every package's tests, compiled with go test -c as linux/arm64 and
#     linux/arm (GOARM=7) binaries, run under qemu-user; the packages with
#     golden vectors also run as 386 natively. Each package must pass and run
#     at least one test, and a package with a Golden test must have run it.
#     Excluded, because they load ONNX Runtime: internal/infer (its arm64 run
#     is scripts/qemu-infer-test.sh, which needs an ARM /proc/cpuinfo; no
#     ARMv7 library exists) and cmd/edge (its CLI tests infer, and it builds
#     only with cgo). internal/appliance runs with -test.short under
#     emulation: its crash, demo and end-to-end tests orchestrate real
#     processes for minutes each, and make test runs them natively.
#  2. The release tarballs' own binaries: the arm64 and ARMv7 ones seal
#     envelopes that the amd64 one opens, and the reverse, with exact restore.
#  3. The tarballs against their profiles (board/pack's TestDistTarballs),
#     and each tarball's unit started from it with its example config
#     (TestDistTarballsStart); both must run, not skip.
#
# Under qemu the tests read a smaller sample set than natively: all prints,
# and the medical images of at most 100 KB (the sweeps over all 14 take more
# than ten minutes a package under emulation), except for packages whose
# tests name particular large samples (internal/medimg, internal/appliance),
# which get them all.
# CROSS_DATA=full gives every package every sample; CROSS_PKGS (import
# paths) limits step 1 to those packages.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
dist=${DIST:-dist}
case $dist in /*) ;; *) dist=$root/$dist ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for tool in qemu-aarch64-static qemu-arm-static aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc; do
	command -v $tool >/dev/null || { echo "cross-test: $tool missing (make deps installs it)"; exit 1; }
done
[ -f "$dist/SHA256SUMS" ] || { echo "cross-test: no $dist/SHA256SUMS (make cross builds the tarballs)"; exit 1; }

data=${EDGE_DATA:-$root/../shared/data}
qdata=
if [ -d "$data" ] && [ "${CROSS_DATA:-small}" != full ]; then
	qdata=$work/data
	mkdir -p "$qdata/medical"
	[ -d "$data/fingerprints" ] && ln -s "$data/fingerprints" "$qdata/fingerprints"
	find "$data/medical" -maxdepth 1 -type f -size -101k -exec ln -s {} "$qdata/medical/" \;
fi

# 1. Every package's tests on each architecture.
excluded="edge/internal/infer edge/cmd/edge"
short_pkgs="edge/internal/appliance"
skips=$work/skips
: >"$skips"
for pkg in ${CROSS_PKGS:-$($GO list ./...)}; do
	case " $excluded " in *" $pkg "*) continue ;; esac
	dir=${pkg#edge/}
	[ -n "$(ls "$dir"/*_test.go 2>/dev/null)" ] || continue
	golden=$(grep -ho '^func Test[A-Za-z0-9_]*Golden[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' || true)
	targets="arm64 arm"
	[ -n "$golden" ] && targets="$targets 386"
	pdata=$qdata
	# medimg names particular large samples; the appliance's page test sends two.
	case $pkg in edge/internal/medimg | edge/internal/appliance) pdata= ;; esac
	for target in $targets; do
		bin=$work/$(echo "$dir" | tr / _).$target.test
		case $target in
		arm64) GOARCH=arm64 CGO_ENABLED=0 $GO test -c -o "$bin" "./$dir"; emu=qemu-aarch64-static ;;
		arm) GOARCH=arm GOARM=7 CGO_ENABLED=0 $GO test -c -o "$bin" "./$dir"; emu=qemu-arm-static ;;
		386) GOARCH=386 CGO_ENABLED=0 $GO test -c -o "$bin" "./$dir"; emu= ;;
		esac
		run="$emu $bin"
		# The appliance's crash, demo and end-to-end runs orchestrate real
		# processes (hub, storescu, Orthanc, the simulator) for minutes each;
		# natively make test runs them, emulated they run short (-test.short).
		short=
		[ -n "$emu" ] && case " $short_pkgs " in *" $pkg "*) short=-test.short ;; esac
		log=$work/log
		# The release tarballs are checked natively in step 3; the bench
		# script's inputs (internal/eval) are read from large samples the
		# emulated runs do not get, for a benchmark that runs natively.
		# A test that runs itself again as a child (the crash tests) starts it
		# through the same emulator: there is no binfmt_misc to do it
		# (internal/testenv.SelfCommand).
		if (cd "$dir" && if [ -n "$pdata" ]; then export EDGE_DATA="$pdata"; fi &&
			export EDGE_TEST_EXEC="$emu" &&
			$run -test.v -test.count=1 -test.timeout=30m $short -test.skip '^(TestDistTarballs(Start)?|TestWriteBenchInputs)$' >"$log" 2>&1); then
			rc=0
		else
			rc=$?
		fi
		n=$(grep -c '^--- PASS' "$log" || true)
		s=$(grep -c '^--- SKIP' "$log" || true)
		grep -A1 '^--- SKIP' "$log" | grep -v '^--$' | paste - - | sed "s|^|$dir on $target: |" >>"$skips" || true
		missing=
		for g in $golden; do
			grep -q "^--- PASS: $g " "$log" || missing="$missing $g"
		done
		if [ "$rc" -ne 0 ]; then
			# The failures with what the tests said, then the log's end.
			bad "$dir on $target (exit $rc)"
			grep -E -e '^\s*--- FAIL' -e '^\s+[A-Za-z0-9_]+_test\.go:[0-9]+: ' "$log" | grep -v 'level=INFO' | head -60
			echo "... the log's last lines:"
			tail -25 "$log"
		elif [ "$n" -eq 0 ]; then
			bad "$dir on $target: no test ran"; tail -20 "$log"
		elif [ -n "$missing" ]; then
			bad "$dir on $target: golden test$missing did not pass"
		else
			ok "$dir on $target: $n tests passed, $s skipped"
		fi
	done
done

# 2. Envelopes across architectures, sealed and opened by the tarballs'
# binaries: the device is ARM, the hub usually x86.
"$GO" build -o "$work/pack" ./board/pack
for key in amd64 arm64 armv7; do
	line=$("$work/pack" -list | awk -v k="$key" '$2 == k {print $1, $5; exit}')
	[ -n "$line" ] || { bad "no board is $key"; continue; }
	b=${line% *}
	inst=${line#* }
	tgz=$(awk -v b="$b" '$2 ~ "^edge-.*-" b "\\.tar\\.gz$" {print $2}' "$dist/SHA256SUMS")
	mkdir -p "$work/$key"
	tar -xzf "$dist/$tgz" -C "$work/$key" "${inst#/}"
	cp "$work/$key$inst" "$work/edge-$key"
	# Every board of one architecture ships the same binary.
	for other in $("$work/pack" -list | awk -v k="$key" '$2 == k {print $1}'); do
		otgz=$(awk -v b="$other" '$2 ~ "^edge-.*-" b "\\.tar\\.gz$" {print $2}' "$dist/SHA256SUMS")
		if tar -xzOf "$dist/$otgz" "${inst#/}" | cmp -s - "$work/edge-$key"; then
			ok "$otgz holds the $key binary of $tgz"
		else
			bad "$otgz holds another $key binary than $tgz"
		fi
	done
done
run_arch() {
	arch=$1
	shift
	case $arch in
	amd64) "$work/edge-amd64" "$@" ;;
	arm64) qemu-aarch64-static -L /usr/aarch64-linux-gnu "$work/edge-arm64" "$@" ;;
	armv7) qemu-arm-static -L /usr/arm-linux-gnueabihf "$work/edge-armv7" "$@" ;;
	esac
}

# The hub's and the device's key sets are made apart, as in service.
"$work/edge-amd64" keys init --hub "$work/keys/hub" >/dev/null
"$work/edge-amd64" keys init --device "$work/keys/device" --hub-pub "$work/keys/hub/hub.pub" >/dev/null
perl -e 'print pack("f<*", map { sin($_ * 0.37) * 3 + cos($_ * 0.011) } 0..2047)' >"$work/f.f32"

if [ -d "$data/medical" ]; then
	images="$data/medical/CT_small.dcm $data/medical/US1_UNCR.dcm $data/medical/BrainT1Slice.png"
else
	samples=$(sh scripts/fetch-samples.sh)
	images="$samples/CT_small.dcm $samples/MR_small.dcm"
fi

for img in $images; do
	ext=${img##*.}
	for pair in arm64:amd64 amd64:arm64 armv7:amd64 amd64:armv7; do
		from=${pair%%:*}
		to=${pair##*:}
		for scheme in v1 paper; do
			env=$work/x.edge
			outf=$work/restored.$ext
			rm -f "$env" "$outf"
			what="$(basename "$img") $scheme sealed on $from, recovered on $to"
			rm -f "$work/r.json"
			# Features from a file, so no clinician logs in: --unverified at
			# the device, --allow-unverified at the hub.
			if run_arch "$from" protect --image "$img" --features "$work/f.f32" --unverified --hub-pub "$work/keys/device/hub.pub" \
				--device-key "$work/keys/device/device.key" --out "$env" --scheme "$scheme" --clinician cross-test >"$work/log" 2>&1 &&
				run_arch "$to" recover --in "$env" --hub-key "$work/keys/hub/hub.key" --device-pub "$work/keys/device/device.pub" \
					--allow-unverified --out "$outf" --report-json "$work/r.json" >>"$work/log" 2>&1 &&
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

# 3. The tarballs against their profiles, and each one's unit started from
# it as systemd would (arm64 and ARMv7 under qemu-user).
if EDGE_DIST=$dist $GO test -count=1 -v -run '^TestDistTarballs$' ./board/pack >"$work/log" 2>&1 &&
	grep -q '^--- PASS: TestDistTarballs ' "$work/log"; then
	ok "every tarball holds its profile's library, providers, unit, model and config"
else
	bad "tarballs against their profiles"; cat "$work/log"
fi
if EDGE_DIST=$dist $GO test -count=1 -v -run '^TestDistTarballsStart$' ./board/pack >"$work/log" 2>&1 &&
	grep -q '^--- PASS: TestDistTarballsStart ' "$work/log" && ! grep -q -- '--- SKIP' "$work/log"; then
	ok "every tarball's unit starts its binary with its example config (READY=1, or status 78 without features)"
else
	bad "tarballs' units started from the tarballs"; cat "$work/log"
fi

if [ -s "$skips" ]; then
	echo "cross: skipped under emulation:"
	sed 's/^/  /' "$skips"
fi
echo "cross: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
