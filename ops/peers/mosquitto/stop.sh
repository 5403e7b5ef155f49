#!/bin/bash
# ops/peers/mosquitto/stop.sh DIR - stop what start.sh DIR and
# controller.sh DIR … started, by the PIDs they recorded (the owner
# watcher, the fake controllers, then the broker): TERM, then KILL after
# 3 s.  Idempotent; exits 0 when nothing is left running.
set -u
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/pids" ] || exit 0

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case "$st" in Z*) return 1 ;; esac
	return 0
}

stop_one() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 60; i++)); do
		alive "$pid" || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 20; i++)); do
		alive "$pid" || return 0
		sleep 0.05
	done
	echo "stop.sh: process $pid did not stop" >&2
	return 1
}

rc=0
w=$(sed -n 's/^WATCHER_PID=\([0-9][0-9]*\)$/\1/p' "$dir/pids" | tail -n 1)
if [ -n "$w" ] && [ "$w" != "$PPID" ] && [ "$w" != "$$" ]; then
	kill -TERM "$w" 2>/dev/null || true
fi
for pid in $(sed -n 's/^CTL_[A-Za-z0-9_]*_PID=\([0-9][0-9]*\)$/\1/p' \
    "$dir/pids"); do
	stop_one "$pid" || rc=1
done
for pid in $(sed -n 's/^MOSQUITTO_PID=\([0-9][0-9]*\)$/\1/p' "$dir/pids"); do
	stop_one "$pid" || rc=1
done
[ $rc = 0 ] && rm -f "$dir/pids"
exit $rc
