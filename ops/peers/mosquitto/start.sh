#!/bin/bash
# ops/peers/mosquitto/start.sh DIR - start a private Mosquitto broker on
# 127.0.0.1 for tests, everything under DIR (created if missing; a
# temporary directory).
#
#   $MOSQUITTO_PORT  the port to listen on (default: a free one, chosen
#                at run time; set it to restart a broker where it was).
#   $MOSQUITTO_OWNER_PID  if set, a watcher stops the broker and the fake
#                controllers (stop.sh) as soon as that process is gone,
#                so that a test killed with -9 leaves nothing running.
#
# Anonymous clients are refused; two users with their own ACL (their
# passwords are kept from an earlier DIR/env, so that a restarted broker
# takes the same credentials):
#   gong  (the gateway)      write gong/cmd/#      read gong/status/#
#   ctl   (the controllers)  read  gong/cmd/#      write gong/status/#
# and nobody may write "forbidden/#" (a topic the ACL denies, for tests).
# Writes DIR/mosquitto.conf, DIR/passwd, DIR/acl, DIR/mosquitto.log and
# DIR/env (shell syntax) with:
#   PORT GONG_USER GONG_PASS CTL_USER CTL_PASS CMD_PREFIX STATUS_PREFIX
#   MOSQUITTO_PID
# Fake controllers: ops/peers/mosquitto/controller.sh DIR NAME ADDRESS.
# Stop with ops/peers/mosquitto/stop.sh DIR (by recorded PID).  Exits 0
# once the broker accepts the gateway's credentials; non-zero (after
# stopping what it started) otherwise.
set -eu

dir=${1:?usage: start.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
for b in "$MOSQUITTO" mosquitto_passwd mosquitto_pub mosquitto_sub; do
	command -v "$b" >/dev/null 2>&1 || { echo "start.sh: $b missing" \
	    "(apt-get install mosquitto mosquitto-clients)" >&2; exit 1; }
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

port=${MOSQUITTO_PORT:-}
[ -n "$port" ] || port=$(python3 -c '
import socket
k = socket.socket()
k.bind(("127.0.0.1", 0))
print(k.getsockname()[1])
k.close()
')
gong_pass="" ctl_pass=""
if [ -f "$dir/env" ]; then
	gong_pass=$(sed -n 's/^GONG_PASS=//p' "$dir/env")
	ctl_pass=$(sed -n 's/^CTL_PASS=//p' "$dir/env")
fi
[ -n "$gong_pass" ] ||
    gong_pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
[ -n "$ctl_pass" ] ||
    ctl_pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

rm -f "$dir/passwd"
: >"$dir/passwd"
chmod 0600 "$dir/passwd"
mosquitto_passwd -b "$dir/passwd" gong "$gong_pass" 2>/dev/null
mosquitto_passwd -b "$dir/passwd" ctl "$ctl_pass" 2>/dev/null

cat >"$dir/acl" <<EOT
user gong
topic write gong/cmd/#
topic read gong/status/#

user ctl
topic read gong/cmd/#
topic write gong/status/#
EOT
chmod 0600 "$dir/acl"

# "user root": when started as root Mosquitto would otherwise switch to
# the user mosquitto, who cannot read DIR.
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root"
cat >"$dir/mosquitto.conf" <<EOT
$user_line
per_listener_settings false
listener $port 127.0.0.1
allow_anonymous false
password_file $dir/passwd
acl_file $dir/acl
persistence false
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
EOT

: >"$dir/pids"
fail() {
	echo "start.sh: $*" >&2
	[ -f "$dir/mosquitto.log" ] && tail -n 5 "$dir/mosquitto.log" >&2
	[ -f "$dir/mosquitto.out" ] && tail -n 5 "$dir/mosquitto.out" >&2
	"$here/stop.sh" "$dir" || true
	exit 1
}

setsid "$MOSQUITTO" -c "$dir/mosquitto.conf" \
    </dev/null >"$dir/mosquitto.out" 2>&1 &
pid=$!
echo "MOSQUITTO_PID=$pid" >>"$dir/pids"

ok=0
for ((i = 0; i < 200; i++)); do
	kill -0 "$pid" 2>/dev/null || fail "mosquitto exited"
	if mosquitto_pub -h 127.0.0.1 -p "$port" -u gong -P "$gong_pass" \
	    -t gong/cmd/probe -n -q 1 2>/dev/null; then
		ok=1
		break
	fi
	sleep 0.05
done
[ $ok = 1 ] || fail "Mosquitto did not come up within 10 s"

if [ -n "${MOSQUITTO_OWNER_PID:-}" ]; then
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
	    exec "$2" "$3"' watcher "$MOSQUITTO_OWNER_PID" "$here/stop.sh" \
	    "$dir" </dev/null >/dev/null 2>&1 &
	echo "WATCHER_PID=$!" >>"$dir/pids"
fi

cat >"$dir/env" <<EOT
PORT=$port
GONG_USER=gong
GONG_PASS=$gong_pass
CTL_USER=ctl
CTL_PASS=$ctl_pass
CMD_PREFIX=gong/cmd/
STATUS_PREFIX=gong/status/
MOSQUITTO_PID=$pid
EOT
