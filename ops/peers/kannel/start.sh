#!/bin/bash
# ops/peers/kannel/start.sh DIR [MO_BASE_URL] - start a private Kannel
# (bearerbox + the fake SMSC handset fakesmsc + smsbox) on 127.0.0.1 for
# tests, everything under DIR (created if missing; a temporary directory).
#
#   MO_BASE_URL  where the sms-service sends handset replies (MO):
#                MO_BASE_URL/mo?from=%p&to=%P&text=%a  (default: a closed
#                port; also taken from $KANNEL_MO_URL)
#
#   $KANNEL_OWNER_PID  if set, a watcher stops Kannel (stop.sh) as soon as
#                that process is gone, so that a test killed with -9
#                leaves nothing running.
#
# Ports are chosen free at run time.  Writes DIR/kannel.conf and DIR/env
# (shell syntax) with:
#   SENDSMS_URL USER PASS ADMIN_URL ADMIN_PASS FAKESMSC_LOG MO_FIFO
#   BEARERBOX_PID SMSBOX_PID FAKESMSC_PID SMSC_PORT BOX_PORT
# fakesmsc (-v 0) logs every message it receives as
#   ... DEBUG: Got message N: <SENDER RECEIVER ucs-2 %XX..>   (or
#   <SENDER RECEIVER udh %XX.. data %XX..> for a concatenated part); a
# line written to MO_FIFO ("SENDER RECEIVER text 收到") is a handset reply.
# Stop with ops/peers/kannel/stop.sh DIR (by recorded PID).  Exits 0 once
# sendsms answers and the fake SMSC is online; non-zero (after stopping
# what it started) otherwise.
set -eu

dir=${1:?usage: start.sh DIR [MO_BASE_URL]}
mo_base=${2:-${KANNEL_MO_URL:-}}
here=$(cd "$(dirname "$0")" && pwd)
KBIN=${KANNEL_BIN:-/usr/sbin}
FAKESMSC=${FAKESMSC:-/usr/lib/kannel/test/fakesmsc}

for b in "$KBIN/bearerbox" "$KBIN/smsbox" "$FAKESMSC"; do
	[ -x "$b" ] || { echo "start.sh: $b missing (apt-get install" \
	    "kannel kannel-extras)" >&2; exit 1; }
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Four distinct free ports on 127.0.0.1 (bound and released at once; the
# window before Kannel binds them is short).
read -r admin_port box_port sendsms_port smsc_port < <(python3 -c '
import socket
s = []
for _ in range(4):
    k = socket.socket()
    k.bind(("127.0.0.1", 0))
    s.append(k)
print(" ".join(str(k.getsockname()[1]) for k in s))
for k in s:
    k.close()
')
[ -n "$mo_base" ] || mo_base="http://127.0.0.1:9"
user=gong
pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
admin_pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

sed -e "s|@DIR@|$dir|g" -e "s|@ADMIN_PORT@|$admin_port|g" \
    -e "s|@ADMIN_PASS@|$admin_pass|g" -e "s|@BOX_PORT@|$box_port|g" \
    -e "s|@SENDSMS_PORT@|$sendsms_port|g" -e "s|@SMSC_PORT@|$smsc_port|g" \
    -e "s|@USER@|$user|g" -e "s|@PASS@|$pass|g" \
    -e "s|@MO_URL@|$mo_base/mo?from=%p\&to=%P\&text=%a|g" \
    "$here/kannel.conf.in" >"$dir/kannel.conf"

fifo=$dir/mo.fifo
rm -f "$fifo"
mkfifo "$fifo"

# Record PIDs as we go so that stop.sh can clean up after a failure.
: >"$dir/pids"
fail() {
	echo "start.sh: $*" >&2
	for f in bearerbox smsbox fakesmsc; do
		[ -f "$dir/$f.log" ] && tail -n 5 "$dir/$f.log" >&2
	done
	"$here/stop.sh" "$dir" || true
	exit 1
}

# wait_port PORT SECONDS: until something listens on 127.0.0.1:PORT.
wait_port() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

setsid "$KBIN/bearerbox" "$dir/kannel.conf" \
    </dev/null >"$dir/bearerbox.out" 2>&1 &
bb_pid=$!
echo "BEARERBOX_PID=$bb_pid" >>"$dir/pids"
wait_port "$smsc_port" 10 || fail "bearerbox did not open the fake SMSC port"

# fakesmsc: stdin from the FIFO opened read-write (it panics on EOF).
setsid "$FAKESMSC" -H 127.0.0.1 -r "$smsc_port" -i 0.1 -m -1 -v 0 \
    <>"$fifo" >"$dir/fakesmsc.log" 2>&1 &
fs_pid=$!
echo "FAKESMSC_PID=$fs_pid" >>"$dir/pids"

wait_port "$box_port" 10 || fail "bearerbox did not open the smsbox port"
setsid "$KBIN/smsbox" "$dir/kannel.conf" \
    </dev/null >"$dir/smsbox.out" 2>&1 &
sb_pid=$!
echo "SMSBOX_PID=$sb_pid" >>"$dir/pids"

sendsms_url="http://127.0.0.1:$sendsms_port/cgi-bin/sendsms"
admin_url="http://127.0.0.1:$admin_port"
ok=0
for ((i = 0; i < 200; i++)); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
	    "$sendsms_url" 2>/dev/null || true)
	if [ "$code" != "000" ] && [ -n "$code" ] &&
	    curl -s --max-time 1 "$admin_url/status.txt?password=$admin_pass" \
	    2>/dev/null | grep -q 'fake.*online'; then
		ok=1
		break
	fi
	kill -0 "$bb_pid" 2>/dev/null || fail "bearerbox exited"
	kill -0 "$sb_pid" 2>/dev/null || fail "smsbox exited"
	kill -0 "$fs_pid" 2>/dev/null || fail "fakesmsc exited"
	sleep 0.05
done
[ $ok = 1 ] || fail "Kannel did not come up within 10 s"

if [ -n "${KANNEL_OWNER_PID:-}" ]; then
	owner=$KANNEL_OWNER_PID
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
	    exec "$2" "$3"' watcher "$owner" "$here/stop.sh" "$dir" \
	    </dev/null >/dev/null 2>&1 &
	echo "WATCHER_PID=$!" >>"$dir/pids"
fi

cat >"$dir/env" <<EOT
SENDSMS_URL=$sendsms_url
USER=$user
PASS=$pass
ADMIN_URL=$admin_url
ADMIN_PASS=$admin_pass
FAKESMSC_LOG=$dir/fakesmsc.log
MO_FIFO=$fifo
SMSC_PORT=$smsc_port
BOX_PORT=$box_port
BEARERBOX_PID=$bb_pid
SMSBOX_PID=$sb_pid
FAKESMSC_PID=$fs_pid
EOT
