#!/bin/bash
# ops/peers/kannel/stop.sh DIR - stop the Kannel started by start.sh DIR,
# by the PIDs it recorded (its owner watcher, smsbox, fakesmsc, then
# bearerbox): TERM, then KILL after 3 s.  Idempotent; exits 0 when
# nothing is left running.
set -u
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/pids" ] || exit 0

pid_of() { sed -n "s/^$1=\\([0-9][0-9]*\\)\$/\\1/p" "$dir/pids" | tail -n 1; }

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
# The owner watcher first (unless it is the one running this script).
w=$(pid_of WATCHER_PID)
if [ -n "$w" ] && [ "$w" != "$PPID" ] && [ "$w" != "$$" ]; then
	kill -TERM "$w" 2>/dev/null || true
fi
for name in SMSBOX_PID FAKESMSC_PID BEARERBOX_PID; do
	stop_one "$(pid_of "$name")" || rc=1
done
[ $rc = 0 ] && rm -f "$dir/pids"
exit $rc
