#!/bin/bash
# ops/peers/mosquitto/controller.sh DIR NAME ADDRESS [ack|fail|silent]
# ops/peers/mosquitto/controller.sh --crash DIR NAME
#
# A fake siren / loudspeaker controller on the broker started by
# start.sh DIR.  It subscribes (user ctl, QoS 1) to gong/cmd/ADDRESS with
# a last will "offline" (retained, QoS 1) on gong/status/ADDRESS, says
# "online" there (retained) once its subscription works, appends every
# command it receives (one JSON line) to DIR/ctl-NAME.log and answers on
# gong/status/ADDRESS:
#   ack     {"delivery":ID,"status":"done"}   (default)
#   fail    {"delivery":ID,"status":"failed","error":"amplifier fault"}
#   silent  nothing
# Its PIDs go to DIR/pids (CTL_NAME_SUB_PID, CTL_NAME_READER_PID), so
# that stop.sh stops it.  Returns once it is subscribed.
#
# --crash kills the controller's MQTT client with SIGKILL (no clean
# DISCONNECT: the broker publishes its will) and returns once the
# retained "offline" is on its status topic.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

pid_of() { sed -n "s/^$2=\\([0-9][0-9]*\\)\$/\\1/p" "$1/pids" | tail -n 1; }

if [ "${1:-}" = --crash ]; then
	dir=${2:?usage: controller.sh --crash DIR NAME}
	name=${3:?usage: controller.sh --crash DIR NAME}
	. "$dir/env"
	pid=$(pid_of "$dir" "CTL_${name}_SUB_PID")
	addr=$(cat "$dir/ctl-$name.addr")
	[ -n "$pid" ] || { echo "controller.sh: no controller $name" >&2; exit 1; }
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		st=$(mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$GONG_USER" \
		    -P "$GONG_PASS" -t "${STATUS_PREFIX}$addr" -C 1 -W 1 \
		    2>/dev/null || true)
		[ "$st" = offline ] && exit 0
		sleep 0.05
	done
	echo "controller.sh: $name's will did not arrive" >&2
	exit 1
fi

dir=${1:?usage: controller.sh DIR NAME ADDRESS [ack|fail|silent]}
name=${2:?usage: controller.sh DIR NAME ADDRESS [ack|fail|silent]}
addr=${3:?usage: controller.sh DIR NAME ADDRESS [ack|fail|silent]}
mode=${4:-ack}
case "$name" in *[!A-Za-z0-9_]*|"") echo "controller.sh: NAME must be" \
    "letters, digits, _" >&2; exit 1 ;; esac
case "$mode" in ack|fail|silent) ;; *) echo "controller.sh: bad mode" \
    "$mode" >&2; exit 1 ;; esac
. "$dir/env"
cmd_topic=${CMD_PREFIX}$addr
st_topic=${STATUS_PREFIX}$addr
fifo=$dir/ctl-$name.fifo
log=$dir/ctl-$name.log
ready=$dir/ctl-$name.ready
rm -f "$fifo" "$ready"
mkfifo "$fifo"
: >"$log"
printf '%s\n' "$addr" >"$dir/ctl-$name.addr"

# The reader: one line per command.
setsid bash -c '
	fifo=$1 log=$2 ready=$3 mode=$4 port=$5 user=$6 pass=$7 topic=$8
	while IFS= read -r line; do
		if [ "$line" = ping ]; then
			: >"$ready"
			continue
		fi
		printf "%s\n" "$line" >>"$log"
		id=$(printf "%s" "$line" | jq -r ".delivery // empty" \
		    2>/dev/null || true)
		case "$id" in ""|*[!0-9]*) continue ;; esac
		case "$mode" in
		ack) msg="{\"delivery\":$id,\"status\":\"done\"}" ;;
		fail) msg="{\"delivery\":$id,\"status\":\"failed\",\"error\":\"amplifier fault\"}" ;;
		*) continue ;;
		esac
		mosquitto_pub -h 127.0.0.1 -p "$port" -u "$user" -P "$pass" \
		    -q 1 -t "$topic" -m "$msg" || true
	done <"$fifo"' reader "$fifo" "$log" "$ready" "$mode" "$PORT" \
    "$CTL_USER" "$CTL_PASS" "$st_topic" </dev/null >/dev/null 2>&1 &
echo "CTL_${name}_READER_PID=$!" >>"$dir/pids"

setsid mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$CTL_USER" -P "$CTL_PASS" \
    -i "ctl-$name" -q 1 -t "$cmd_topic" --will-topic "$st_topic" \
    --will-payload offline --will-retain --will-qos 1 -k 5 \
    </dev/null >"$fifo" 2>>"$dir/ctl-$name.err" &
echo "CTL_${name}_SUB_PID=$!" >>"$dir/pids"

for ((i = 0; i < 200; i++)); do
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -u "$GONG_USER" -P "$GONG_PASS" \
	    -q 1 -t "$cmd_topic" -m ping 2>/dev/null || true
	if [ -e "$ready" ]; then
		mosquitto_pub -h 127.0.0.1 -p "$PORT" -u "$CTL_USER" \
		    -P "$CTL_PASS" -q 1 -r -t "$st_topic" -m online
		exit 0
	fi
	sleep 0.05
done
echo "controller.sh: $name did not subscribe within 10 s" >&2
"$here/stop.sh" "$dir" >/dev/null 2>&1 || true
exit 1
