#!/bin/sh
# Install from Debian's packages whatever gong needs to build, test and run
# and is not installed yet.  Idempotent: a second run installs nothing and
# touches no network.  Needs root (or sudo) only when something is missing.
set -eu

PKGS="
build-essential pkg-config make gcc clang valgrind curl ca-certificates jq bc
sqlite3 libsqlite3-dev libxml2-dev libxml2-utils libxmlsec1-dev
libcurl4-openssl-dev libnng-dev libmicrohttpd-dev libjansson-dev
libyaml-dev libcsv-dev libsodium-dev libcmocka-dev python3 uthash-dev
kannel kannel-extras
libmosquitto-dev mosquitto mosquitto-clients
chromium fonts-noto-cjk
"
# --bench: only what `make bench` needs beyond that (a keep-alive HTTP
# sink and a load tool for ops/bench/bench_dispatch.sh); the test suite
# never needs them.
if [ "${1:-}" = --bench ]; then
	PKGS="nginx-light wrk"
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: not root and no sudo; please install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; refresh them once, then install.
$SUDO apt-get update -qq >&2 || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
