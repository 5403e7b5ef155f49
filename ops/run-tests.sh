#!/bin/bash
# The whole test suite (make test / .ci/run):
#   1. the sanitizer build (ASan + UBSan) of everything,
#   2. every cmocka unit test under it,
#   3. every integration test (tests/integration/*.sh) against the
#      sanitizer build of gongd and gong, with real peers they start,
#   4. the release build of gongd under valgrind through the daemon's
#      integration test (leaks and memory errors fail the run),
#   5. a short fuzz run of every fuzz target (CI only, or FUZZ=1).
# Ends with one line "N passed, M failed"; exit status 0 only if M is 0.
#
# Options: --unit-only [--variant san|rel], --memcheck-only, --no-memcheck,
#          --only NAME (a unit or integration test name)
set -u
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
unit=1 integ=1 memcheck=1 fuzz=0 variant=san only=""
[ "${CI:-}" = true ] && fuzz=1
[ "${FUZZ:-}" = 1 ] && fuzz=1
[ "${FUZZ:-}" = 0 ] && fuzz=0
while [ $# -gt 0 ]; do
	case "$1" in
	--unit-only) integ=0 memcheck=0 fuzz=0 ;;
	--memcheck-only) unit=0 integ=0 fuzz=0 ;;
	--no-memcheck) memcheck=0 ;;
	--variant) variant=$2; shift ;;
	--only) only=$2; shift ;;
	*) echo "run-tests: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

passed=0 failed=0
failures=()
mkdir -p build/reports

note_fail() { failed=$((failed + 1)); failures+=("$1"); }

if [ "$variant" = san ]; then
	SANARG="SAN=1"; B=build/san; BINDIR=build/san/bin
else
	SANARG=""; B=build/rel; BINDIR=bin
fi

if [ $unit = 1 ] || [ $integ = 1 ]; then
	echo "== build ($variant)"
	if ! make -s -j"$JOBS" $SANARG tests; then
		echo "run-tests: build failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export GONG_SHARED=${GONG_SHARED:-$(cd .. && pwd)/shared}

if [ $unit = 1 ]; then
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		[ -n "$only" ] && [ "$only" != "$name" ] && continue
		echo "== unit $name"
		out=build/reports/$name.log
		t0=$SECONDS
		"$t" >"$out" 2>&1
		rc=$?
		cat "$out"
		echo "-- $name: $((SECONDS - t0)) s"
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" |
		    awk '{s+=$1} END {print s+0}')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" |
		    awk '{s+=$1} END {print s+0}')
		passed=$((passed + p))
		failed=$((failed + f))
		if [ $rc -ne 0 ]; then
			[ "$f" = 0 ] && failed=$((failed + 1))
			failures+=("unit:$name")
		fi
	done
fi

run_integ() {	# name script bindir [valgrind]
	local name=$1 script=$2 bindir=$3 vg=${4:-}
	local out=build/reports/integ-$name${vg:+-valgrind}.log
	echo "== integration $name${vg:+ (valgrind)}"
	local t0=$SECONDS
	GONG_BIN_DIR=$bindir GONG_VALGRIND=$vg bash "$script" >"$out" 2>&1
	local rc=$?
	cat "$out"
	echo "-- $name${vg:+ (valgrind)}: $((SECONDS - t0)) s"
	local p f
	p=$(sed -n 's/^ok [0-9]* .*/x/p' "$out" | wc -l)
	f=$(sed -n 's/^not ok [0-9]* .*/x/p' "$out" | wc -l)
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $rc -ne 0 ]; then
		[ "$f" = 0 ] && failed=$((failed + 1))
		failures+=("integration:$name${vg:+(valgrind)}")
	fi
}

if [ $integ = 1 ]; then
	for s in tests/integration/test_*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .sh)
		[ -n "$only" ] && [ "$only" != "$name" ] && continue
		run_integ "$name" "$s" "$BINDIR"
	done
fi

if [ $memcheck = 1 ]; then
	echo "== build (rel) for valgrind"
	if ! make -s -j"$JOBS" all; then
		note_fail "build:rel"
	else
		for s in tests/integration/test_*.sh; do
			[ -f "$s" ] || continue
			grep -q '^# valgrind: yes' "$s" || continue
			name=$(basename "$s" .sh)
			[ -n "$only" ] && [ "$only" != "$name" ] && continue
			run_integ "$name" "$s" bin valgrind
		done
	fi
fi

if [ $fuzz = 1 ] && [ -z "$only" ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
	echo "== fuzz (${FUZZ_TIME:-20}s per target)"
	if make -s -j"$JOBS" fuzz FUZZ_TIME="${FUZZ_TIME:-20}"; then
		passed=$((passed + 1))
	else
		note_fail "fuzz"
	fi
fi

echo
echo "run-tests: $SECONDS s in all"
if [ ${#failures[@]} -gt 0 ]; then
	echo "FAILED: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
