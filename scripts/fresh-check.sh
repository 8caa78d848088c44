#!/bin/sh
# fresh-check.sh runs the README's two set-up commands, make demo then make
# test, as a new user would: on a fresh clone of this repository's committed
# HEAD (or of REV) in a new temporary folder with no ../shared beside it,
# with an empty HOME, a new empty GOPATH and GOBIN, a PATH without any
# GOPATH/bin, and an environment holding nothing else of the caller's but
# network and certificate settings and CI. Only the Go module cache is shared
# (GOMODCACHE), to save downloading; the build cache starts empty. It fails on
# the first error and prints how long each command took.
#
#   sh scripts/fresh-check.sh            # HEAD of this clone
#   REV=main sh scripts/fresh-check.sh   # another commit
#   KEEP=1 sh scripts/fresh-check.sh     # keep the temporary folder
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$src" rev-parse --verify "${REV:-HEAD}^{commit}")
GO=${GO:-go}
modcache=$($GO env GOMODCACHE)
goroot_bin=$(dirname "$(command -v "$GO")")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/edge-fresh.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
	trap 'echo "fresh-check: left $tmp"' EXIT
else
	trap 'rm -rf "$tmp"' EXIT
fi
clone=$tmp/edge
home=$tmp/home
gopath=$tmp/gopath
mkdir -p "$home" "$gopath/bin"

# PATH without any GOPATH/bin or GOBIN of the caller's (a tool installed
# there must not stand in for a pin); go itself stays reachable.
strip=$($GO env GOPATH | tr ':' '\n' | sed 's|$|/bin|')
gobin=$($GO env GOBIN)
[ -n "$gobin" ] && strip="$strip
$gobin"
path=$(printf '%s\n' "$PATH" | tr ':' '\n' | grep -v '^$' | grep -vxF "$strip" | paste -sd: -)
case ":$path:" in *":$goroot_bin:"*) ;; *) path=$goroot_bin:$path ;; esac

git clone --quiet --no-local "$src" "$clone"
git -C "$clone" checkout --quiet --detach "$rev"
[ ! -e "$tmp/shared" ] || { echo "fresh-check: $tmp/shared exists" >&2; exit 1; }
echo "fresh-check: $(git -C "$clone" log -1 --format='%h %s') in $clone"
echo "fresh-check: HOME=$home GOPATH=$gopath GOMODCACHE=$modcache (shared)"
echo "fresh-check: PATH=$path"
if PATH=$path command -v staticcheck >/dev/null 2>&1; then
	echo "fresh-check: note: a staticcheck is on PATH ($(PATH=$path command -v staticcheck)); make uses go tool staticcheck"
fi

# fresh ENV...: run a command in the clone with only the fresh environment.
fresh() {
	env -i \
		HOME="$home" PATH="$path" GOPATH="$gopath" GOBIN="$gopath/bin" GOMODCACHE="$modcache" \
		${CI:+CI="$CI"} ${TERM:+TERM="$TERM"} ${LANG:+LANG="$LANG"} \
		${GOPROXY:+GOPROXY="$GOPROXY"} ${GONOSUMDB:+GONOSUMDB="$GONOSUMDB"} ${GOPRIVATE:+GOPRIVATE="$GOPRIVATE"} \
		${http_proxy:+http_proxy="$http_proxy"} ${https_proxy:+https_proxy="$https_proxy"} ${no_proxy:+no_proxy="$no_proxy"} \
		${HTTP_PROXY:+HTTP_PROXY="$HTTP_PROXY"} ${HTTPS_PROXY:+HTTPS_PROXY="$HTTPS_PROXY"} ${NO_PROXY:+NO_PROXY="$NO_PROXY"} \
		${SSL_CERT_FILE:+SSL_CERT_FILE="$SSL_CERT_FILE"} ${SSL_CERT_DIR:+SSL_CERT_DIR="$SSL_CERT_DIR"} \
		sh -c 'cd "$1" && shift && exec "$@"' sh "$clone" "$@"
}

times=
step() {
	echo "fresh-check: \$ $*"
	start=$(date +%s)
	if ! fresh "$@"; then
		echo "fresh-check: FAIL: $* exited non-zero after $(($(date +%s) - start)) s" >&2
		exit 1
	fi
	took=$(($(date +%s) - start))
	times="$times
fresh-check: $* took $took s"
}

step make demo
step make test
echo "fresh-check: both commands exited 0 on a fresh clone$times"
