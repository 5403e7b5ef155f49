#!/bin/sh
# ops/run-fuzz.sh [SECONDS] - run every build/fuzz/fuzz_* for SECONDS
# (default 60) each.
#
# The working corpus of each target lives in build/fuzz/corpus/<target>/,
# seeded at run time from tests/fuzz/corpus/<target>/ (seeds and crash
# regressions kept in the repo) and, for the CAP target, from
# tests/data/cap/ and $GONG_SHARED/cap-samples/valid (default ../shared).
# Nothing is copied into the repository.  Every committed crash input is
# first replayed; then the fuzzer runs.  Exits non-zero if a target
# crashes (its reproducer is left in build/fuzz/crashes/<target>/).
set -eu

cd "$(dirname "$0")/.."
SECS=${1:-60}
SHARED=${GONG_SHARED:-../shared}
status=0

targets=$(ls build/fuzz/fuzz_* 2>/dev/null | grep -v '\.' || true)
if [ -z "$targets" ]; then
	echo "run-fuzz: no build/fuzz/fuzz_* binaries (run make fuzz)" >&2
	exit 1
fi

for bin in $targets; do
	t=$(basename "$bin")
	name=${t#fuzz_}
	corpus=build/fuzz/corpus/$name
	crashes=build/fuzz/crashes/$name
	mkdir -p "$corpus" "$crashes"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -f tests/fuzz/corpus/$name/* "$corpus/" 2>/dev/null || true
		# replay committed regressions (crash-*) on their own first
		for f in tests/fuzz/corpus/$name/crash-* \
		    tests/fuzz/corpus/$name/regress-*; do
			[ -f "$f" ] || continue
			if ! "$bin" -runs=1 "$f" >/dev/null 2>&1; then
				echo "run-fuzz: $t: regression $f crashes" >&2
				status=1
			fi
		done
	fi
	if [ "$name" = cap ]; then
		cp -f tests/data/cap/* "$corpus/" 2>/dev/null || true
		cp -f "$SHARED"/cap-samples/valid/*.xml "$corpus/" \
		    2>/dev/null || true
	fi
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	echo "run-fuzz: $t for ${SECS}s, corpus $corpus"
	if ! "$bin" -max_total_time="$SECS" -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$crashes/" $dict "$corpus" \
	    >"build/fuzz/$t.log" 2>&1; then
		echo "run-fuzz: $t FAILED; see build/fuzz/$t.log and" \
		    "$crashes/" >&2
		tail -40 "build/fuzz/$t.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units|^Done' \
		    "build/fuzz/$t.log" || true
	fi
done
exit $status
