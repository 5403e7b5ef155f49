#!/bin/bash
# Answers ingested per second (issue 5, acceptance 7) through the two
# paths a person answers by in the field: an SMS reply ("收到") as
# Kannel's sms-service get-url hands it to gongd (GET
# /cb/{secret}/{channel}/mo?from=&to=&text=, channels/kannel.c), and the
# 收到 button of the answer link (POST /a/{token}, engine/api_answer.c).
#
# One gongd (release build) on a generated roster: VILLAGES (8000)
# villages x 5 people; every active village person must answer (a
# routing rule with answer: true over a file channel, so that sending is
# cheap); one red alert for the whole city.  Once its plan is complete
# and the escalation rows exist (report totals.targeted), every run
# answers for PER_RUN (2000) people nobody answered for before, one
# distinct person per request, at 1, 4 and 16 connections (CONNS_LIST),
# RUNS (3) runs each: the SMS path with the person's phone, the link
# path with a token made by the engine's anslink_make under
# DATA_DIR/answer.key.  The rate is the answers the store holds
# afterwards (not HTTP 200s: counted with sqlite3 beside gongd, and GET
# answers at the end) over the load generator's wall time (first
# request to last response).
#
# The load generator (ops/bench/loadgen.c: one thread, epoll, keep-alive,
# a fixed list sent once each: wrk cannot send each request exactly once)
# is checked against nginx `return 200` in the same run, next to wrk on
# the same sink; the ratio gongd / nginx says what the figure means on
# this machine.  The kannel channel exists only to receive: its sendsms
# URL is a closed port and no routing rule uses it.  The store is on the
# disk under TMPDIR (synchronous = FULL: one fsync per answer).
# Prints the figures; asserts nothing about them.  Needs nginx and wrk
# (ops/install-deps.sh --bench).  KEEP=1 keeps the temp dir; TMPFS_PASS=0
# skips the second pass with the store on tmpfs.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
VILLAGES=${VILLAGES:-8000}
PER_RUN=${PER_RUN:-2000}
RUNS=${RUNS:-3}
CONNS_LIST=${CONNS_LIST:-"1 4 16"}
WRK_SECONDS=${WRK_SECONDS:-3}
NG_REQS=${NG_REQS:-30000}
B=build/rel/bench
for h in anslink_tokens loadgen; do
	[ -x "$B/$h" ] || make -s "$B/$h" || exit 1
done
for p in nginx wrk jq sqlite3; do
	command -v $p >/dev/null || PATH=$PATH:/usr/sbin
	command -v $p >/dev/null ||
	    { echo "bench_answers: $p missing (ops/install-deps.sh --bench)"; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/gong-bench-ans.XXXXXX")
NGINX_UP="" GPID=""
stop_all() {
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
	[ -n "$NGINX_UP" ] && [ -s "$T/nginx.pid" ] &&
	    kill -QUIT "$(cat "$T/nginx.pid")" 2>/dev/null
	sleep 0.3
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap stop_all EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
NPORT=$(freeport)
CLOSED=$(freeport)	# nothing listens there: the kannel channel's sendsms

# -- the reference: nginx `return 200`
mkdir -p "$T/ng"
cat >"$T/nginx.conf" <<NGINX
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx.err warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $T/ng/cb;
	proxy_temp_path $T/ng/px;
	fastcgi_temp_path $T/ng/fc;
	uwsgi_temp_path $T/ng/uw;
	scgi_temp_path $T/ng/sc;
	keepalive_requests 100000000;
	keepalive_timeout 120s;
	server {
		listen 127.0.0.1:$NPORT;
		location / { return 200 ''; }
	}
}
NGINX
nginx -e "$T/nginx.err" -p "$T/ng" -c "$T/nginx.conf" ||
    { cat "$T/nginx.err"; exit 1; }
NGINX_UP=1

# -- roster, config, gongd
mkdir -p "$T/r" "$T/d"
./bin/gong-genroster --villages "$VILLAGES" --responders-per-village 5 \
    --seed 1 --out "$T/r" >/dev/null 2>&1 || exit 1
# Who must answer: the villages' active people with a phone.
awk -F, 'NR > 1 && $3 !~ /000$/ && $8 == "yes" && $5 != "" { print $1 "," $5 }' \
    "$T/r/responders.csv" >"$T/people"
PEOPLE=$(wc -l <"$T/people")
NEED=$((2 * RUNS * $(echo $CONNS_LIST | wc -w) * PER_RUN))
[ "$PEOPLE" -ge "$NEED" ] ||
    { echo "bench_answers: $PEOPLE people must answer, $NEED needed (VILLAGES)"; exit 1; }
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: bench
  language: zh-CN
data_dir: $T/d
listen: 127.0.0.1:0
log_level: warn
rosters:
  regions: "$T/r/regions.csv"
  responders: "$T/r/responders.csv"
  devices: "$T/r/devices.csv"
channels:
  - { name: out, type: file, path: outbox.log, addr: phone }
  # The generated devices' channels (no routing rule uses them).
  - { name: loudspeaker, type: file, path: devices.log, addr: device }
  - { name: siren, type: file, path: devices.log, addr: device }
  - { name: radio, type: file, path: devices.log, addr: device }
  - { name: wecom, type: file, path: devices.log, addr: wecom }
  - name: sms
    type: kannel
    url: "http://127.0.0.1:$CLOSED/cgi-bin/sendsms"
    username: bench
    password: bench
    dlr: false
routing:
  ancestor_roles: []
  ancestor_channels: []
  people:
    - levels: [village]
      roles: [responsible, warner, grid_worker, info_officer, deputy]
      colours: [blue, yellow, orange, red]
      channels: [out]
      answer: true
  devices: []
escalation:
  policies:
    - levels: [village]
      steps:
        - { after: 12h, do: resend }
YAML
./bin/gongd --check-config "$T/gong.yaml" >"$T/check.out" 2>&1 ||
    { echo "bench_answers: config refused:"; cat "$T/check.out"; exit 1; }
./bin/gongd --config "$T/gong.yaml" 2>>"$T/gongd.log" &
GPID=$!
for _ in $(seq 1 600); do [ -s "$T/d/gongd.url" ] && break; sleep 0.1; done
[ -s "$T/d/gongd.url" ] ||
    { echo "bench_answers: gongd did not start"; tail "$T/gongd.log"; exit 1; }
U=$(head -1 "$T/d/gongd.url")
GPORT=${U##*:}
TOK=$(cat "$T/d/admin.token")
CB=$(cat "$T/d/callback.secret")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# -- one red alert for the city; wait for the plan and the rows
cat >"$T/a.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>BENCH_ANS_$(date +%s%N)</identifier><sender>bench</sender>
<sent>2026-07-15T11:30:00+08:00</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-CN</language><category>Met</category><event>暴雨</event>
<urgency>Immediate</urgency><severity>Extreme</severity>
<certainty>Observed</certainty><expires>2099-07-16T11:30:00+08:00</expires>
<senderName>气象台</senderName><headline>暴雨红色预警</headline>
<description>预计未来3小时内将出现100毫米以上降水。</description>
<instruction>立即转移。</instruction>
<area><areaDesc>bench</areaDesc><geocode><valueName>GB/T 2260</valueName>
<value>140400000000</value></geocode></area></info></alert>
XML
t0=$(date +%s.%N)
A=$(curl -s -H "Authorization: Bearer $TOK" -H 'Content-Type: application/cap+xml' \
    --data-binary @"$T/a.xml" "$U/api/v1/cap" | jq -r .id)
case "$A" in ''|null|*[!0-9]*) echo "bench_answers: CAP refused"; exit 1 ;; esac
for _ in $(seq 1 3000); do
	n=$(get "alerts/$A/report" | jq -r '.totals.targeted // 0')
	# ... and the dispatcher done with the first messages
	[ "$n" = "$PEOPLE" ] && [ "$(sqlite3 -readonly "$T/d/gong.db" \
	    "SELECT count(*) FROM deliveries WHERE alert_id = $A
	    AND sent_ms IS NULL")" = 0 ] && break
	sleep 0.2
done
[ "$n" = "$PEOPLE" ] ||
    { echo "bench_answers: $n of $PEOPLE escalation rows after 10 min"; exit 1; }
printf 'alert %s: %d people must answer, planned, sent and escalation rows written in %.1f s\n' \
    "$A" "$PEOPLE" "$(echo "$(date +%s.%N) - $t0" | bc)"

# -- the people, in roster order, split into one slice per run
EXP=$(( $(date +%s) + 86400 ))
cut -d, -f1 "$T/people" |
    "$B/anslink_tokens" "$T/d/answer.key" "$A" "$EXP" >"$T/tokens" || exit 1
SLICE=0
slice() {	# the next PER_RUN lines of people as requests of path $1
	local from=$((SLICE * PER_RUN + 1))
	SLICE=$((SLICE + 1))
	if [ "$1" = sms ]; then
		# Kannel's get-url: from=%p&to=%P&text=%a ("收到", UTF-8)
		sed -n "${from},$((from + PER_RUN - 1))p" "$T/people" |
		    awk -F, -v cb="$CB" '{ printf "GET /cb/%s/sms/mo?from=%s&to=12379&text=%%E6%%94%%B6%%E5%%88%%B0\n", cb, $2 }'
	else
		sed -n "${from},$((from + PER_RUN - 1))p" "$T/tokens" |
		    awk '{ printf "POST /a/%s note=\n", $1 }'
	fi
}
# Answers in the store (a read-only look beside gongd: WAL).
answered() {
	sqlite3 -readonly "$T/d/gong.db" \
	    "SELECT count(*) FROM answers WHERE alert_id = $A"
}
# NG_REQS requests to nginx, same connections: the reference.
nginx_rate() {
	awk -v n="$NG_REQS" 'BEGIN { for (i = 0; i < n; i++) print "GET /x?i=" i }' \
	    >"$T/ng.req"
	"$B/loadgen" "$NPORT" "$1" "$T/ng.req" | awk '{ print $12 }'
}
wrk_rate() {
	wrk -t"$(( $1 < 2 ? 1 : 2 ))" -c"$1" -d"${WRK_SECONDS}s" "http://127.0.0.1:$NPORT/" |
	    awk '/Requests\/sec/ { print $2 }'
}

echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $PER_RUN distinct people per run; store on $(df --output=fstype "$T" | tail -1))"
for path in sms link; do
	for c in $CONNS_LIST; do
		: >"$T/r.$path.$c"; : >"$T/q.$path.$c"
		for run in $(seq 1 "$RUNS"); do
			slice "$path" >"$T/req"
			before=$(answered)
			out=$("$B/loadgen" "$GPORT" "$c" "$T/req")
			after=$(answered)
			read -r _ n _ okn _ oth _ err _ secs _ _ _ p50 _ p99 _ pmax <<<"$out"
			got=$((after - before))
			rate=$(echo "$got / $secs" | bc -l)
			ng=$(nginx_rate "$c")
			printf '%s c=%-2d run %d: %d requests (%d 2xx, %d other, %d lost), %d answers recorded in %.2f s = %.0f answers/s (request p50 %.1f p99 %.1f max %.0f ms); nginx return 200 %.0f requests/s; ratio %.3f\n' \
			    "$path" "$c" "$run" "$n" "$okn" "$oth" "$err" "$got" \
			    "$secs" "$rate" "$p50" "$p99" "$pmax" "$ng" "$(echo "$rate / $ng" | bc -l)"
			echo "$rate" >>"$T/r.$path.$c"
			echo "$(echo "$rate / $ng" | bc -l)" >>"$T/q.$path.$c"
			echo "$ng" >>"$T/n.$c"
		done
	done
done
for c in $CONNS_LIST; do
	w=$(wrk_rate "$c")
	printf 'reference c=%d: loadgen on nginx %.0f requests/s (median), wrk on nginx %.0f requests/s\n' \
	    "$c" "$(median <"$T/n.$c")" "$w"
done
hwm=$(awk '/VmHWM/ { print $2 }' /proc/$GPID/status)
for path in sms link; do
	for c in $CONNS_LIST; do
		printf 'median %s path, %2d connections: %.0f answers/s (%.3f of nginx return 200)\n' \
		    "$path" "$c" "$(median <"$T/r.$path.$c")" \
		    "$(median <"$T/q.$path.$c")"
	done
done
printf 'gongd peak RSS %d MB; answers in the store %s, GET answers: %s people answered of %d\n' \
    $((hwm / 1024)) "$(answered)" "$(get "alerts/$A/answers" | jq -r .answered)" "$PEOPLE"
# How much of it is the disk's fsync (one durable commit per answer): the
# same once more with the store on tmpfs, one run each.
if [ "${TMPFS_PASS:-1}" = 1 ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df --output=fstype "$T" | tail -1)" != tmpfs ]; then
	kill "$GPID"; wait "$GPID" 2>/dev/null; GPID=""
	echo "-- the same with the store on tmpfs (no fsync cost), 1 run each:"
	TMPDIR=/dev/shm RUNS=1 TMPFS_PASS=0 bash "$SELF" | grep '^median'
fi
