#!/bin/bash
# make bench: every benchmark under ops/bench/bench_*.sh, in turn.
# Each prints its own figures (medians of several runs).
set -u
cd "$(dirname "$0")/../.."
rc=0
for b in ops/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	echo "== $(basename "$b" .sh)"
	bash "$b" || rc=1
done
exit $rc
