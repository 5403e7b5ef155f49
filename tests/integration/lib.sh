# tests/integration/lib.sh - shared by the integration tests (sourced).
#
# TAP-style output: "ok N - what" / "not ok N - what"; the runner counts
# them.  Everything runs on 127.0.0.1 in a temporary directory that is
# removed at exit, and every process started is stopped by its PID.
#
# Environment: GONG_BIN_DIR (gongd, gong, gong-genroster), GONG_VALGRIND
# (non-empty: run gongd under valgrind, fail on leaks or errors),
# GONG_KEEP_TMP (non-empty: keep the temporary directory, for a look at
# the logs after a failure).

set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${GONG_BIN_DIR:-$REPO/bin}
case "$BIN" in /*) ;; *) BIN=$REPO/$BIN ;; esac
GONGD=$BIN/gongd
GONG=$BIN/gong
GENROSTER=$BIN/gong-genroster
SHARED=${GONG_SHARED:-$REPO/../shared}

T=$(mktemp -d /tmp/gong-it.XXXXXX)
N=0
FAILS=0
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ -n "${GONG_KEEP_TMP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $*"; }
# check "description" command...: ok if the command succeeds
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# expect_eq "description" got want
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}
expect_contains() {	# description haystack needle
	case "$2" in *"$3"*) ok "$1" ;; *)
		not_ok "$1"; echo "#   '$3' not in:"; printf '%s\n' "$2" |
		    head -20 | sed 's/^/#     /' ;; esac
}
finish() {
	echo "1..$N"
	[ "$FAILS" -eq 0 ]
}

# start_gongd NAME ARGS... : starts gongd, waits for its URL file in the
# data dir given by --data-dir (required), sets URL_<NAME>, PID_<NAME>.
start_gongd() {
	local name=$1; shift
	local dd="" a prev=""
	for a in "$@"; do
		[ "$prev" = --data-dir ] && dd=$a
		prev=$a
	done
	local log=$T/$name.log
	rm -f "$dd/gongd.url"
	if [ -n "${GONG_VALGRIND:-}" ]; then
		valgrind --quiet --leak-check=full --show-leak-kinds=definite \
		    --errors-for-leak-kinds=definite --error-exitcode=99 \
		    --suppressions="$REPO/ops/valgrind.supp" \
		    --log-file="$T/$name.valgrind" \
		    "$GONGD" "$@" >"$log" 2>&1 &
	else
		"$GONGD" "$@" >"$log" 2>&1 &
	fi
	local pid=$!
	PIDS+=("$pid")
	eval "PID_$name=$pid"
	local i
	for i in $(seq 1 600); do
		if [ -s "$dd/gongd.url" ]; then
			eval "URL_$name=$(head -1 "$dd/gongd.url")"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "# gongd $name exited early:"; sed 's/^/#   /' "$log"
			return 1
		fi
		sleep 0.1
	done
	echo "# gongd $name did not start in 60 s"; sed 's/^/#   /' "$log"
	return 1
}

# stop_gongd NAME: SIGTERM, wait; the exit status in RC.
stop_gongd() {
	local name=$1 pid
	eval "pid=\$PID_$name"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	RC=$?
	if [ -n "${GONG_VALGRIND:-}" ] && [ -s "$T/$name.valgrind" ]; then
		echo "# valgrind ($name):"
		sed 's/^/#   /' "$T/$name.valgrind"
	fi
}
