#!/bin/sh
# ops/make-demo.sh BIN - regenerate config/demo/{regions,responders,devices}.csv
# with BIN (bin/gong-genroster).  Deterministic: the same generator gives
# the same bytes, so `git diff config/demo` after this shows nothing unless
# the generator changed.  tests/unit/test_genroster.c checks that.
set -eu
bin=${1:-bin/gong-genroster}
if [ ! -x "$bin" ]; then
	echo "make-demo.sh: $bin is not executable (run make first)" >&2
	exit 1
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
cd "$(dirname "$0")/.."
mkdir -p config/demo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --demo --out "$tmp"
for f in regions responders devices; do
	mv "$tmp/$f.csv" "config/demo/$f.csv"
done
echo "make-demo.sh: wrote config/demo/{regions,responders,devices}.csv"
