#!/bin/sh
# fuzz.sh runs every fuzz target in the module, one at a time, for FUZZTIME
# each (default 10s; any go test -fuzztime value: 10m, 500000x). The targets
# are found with go test -list, so a new Fuzz function is run without being
# named here. A target that finds a failing input leaves it in its package's
# testdata/fuzz/ (a new seed to commit with the fix); the run goes on with the
# other targets and fails at the end. One worker each (-parallel=1): the build
# machine is shared.
#
# Go 1.26's fuzz coordinator can end a duration-bound run with a bare
# "context deadline exceeded" and no failing input (golang/go#75804, fixed in
# Go 1.27): such a run is tried again, and counted as a failure only when it
# writes a failing input or fails some other way. A count (FUZZTIME=200000x)
# has no deadline to race.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}

list=$($GO test -list '^Fuzz' ./...)
# go test -list prints a package's names, then its "ok  <pkg> <time>" line.
targets=$(printf '%s\n' "$list" | awk '
	/^Fuzz/ { names = names " " $1; next }
	/^ok / { n = split(names, a, " "); for (i = 1; i <= n; i++) print $2, a[i]; names = "" }
')
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }

total=$(printf '%s\n' "$targets" | wc -l)
echo "fuzz: $total targets, $FUZZTIME each"
failed=
n=0
mkdir -p "$root/.cache"
log=$(mktemp "$root/.cache/fuzz.XXXXXX")
trap 'rm -f "$log" "$log.rc"' EXIT
inputs() { ls "$1" 2>/dev/null | wc -l; }
while read -r pkg name; do
	n=$((n + 1))
	corpus=$root/${pkg#edge/}/testdata/fuzz/$name
	for try in 1 2 3; do
		echo "fuzz: [$n/$total] $pkg $name"
		before=$(inputs "$corpus")
		# Shown as it runs (a long FUZZTIME), kept for the check below.
		{
			$GO test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -timeout 0 -parallel=1 "$pkg" 2>&1
			echo $? >"$log.rc"
		} | tee "$log"
		[ "$(cat "$log.rc")" = 0 ] && break
		if [ "$(inputs "$corpus")" = "$before" ] && grep -q '^    context deadline exceeded$' "$log" && [ $try -lt 3 ]; then
			echo "fuzz: $name: deadline race in Go's fuzz coordinator (golang/go#75804), no failing input; again"
			continue
		fi
		failed="$failed $pkg.$name"
		break
	done
done <<EOT
$targets
EOT

if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed" >&2
	exit 1
fi
echo "fuzz: all $total targets ran $FUZZTIME without a failure"
