#!/bin/bash
# The Kannel path (issue 4, acceptance 7): SMS per second reaching the
# fake SMSC through gong, next to Kannel driven directly by a load tool,
# in the same run, on the same private Kannel (bearerbox + smsbox +
# fakesmsc, ops/peers/kannel/start.sh) on 127.0.0.1.
#
#   direct: ops/bench/loadgen sends N sendsms GETs (one number each, the
#           same short UCS-2 text gong sends, no receipts) over CONNS
#           keep-alive connections;
#   gong:   one alert for N generated people through a kannel channel
#           (concurrency CONNS, one number a request, no receipts), the
#           SMS template cut to one short line so that both send the
#           same text, and no devices (the bench is about SMS).
#
# The rate is messages Kannel handed to the fake SMSC over the time from
# the first request (loadgen's start, gong's CAP POST) to the last one,
# so Kannel's own queueing counts for both.  "Handed": bearerbox's count
# of SMS sent on its SMSC link (status.txt), polled every 20 ms.  Not the
# fake SMSC's log: fakesmsc reads its socket only when its one-second
# wait for keyboard input ends, so its log grows in bursts once a second
# and a run of about a second would be measured to whole seconds.  After
# each run the bench still waits until the fake SMSC has logged every
# message, and says if any is missing.
#
# RUNS (3) runs of each, alternating; medians; the ratio gong / direct is
# the figure to quote (target >= 0.9).  N (5000), CONNS (8), PER (1:
# numbers per sendsms request, both sides; gong's max_recipients),
# GONG_ONLY (set: skip the direct runs; a warm-up run of Kannel is made
# all the same), GONGD (./bin/gongd: another build, to compare).  Each
# run also prints when the first message reached the SMSC link after
# loadgen's start and after gong's POST, the rate from that first
# arrival to the last (both sides: the throughput without the start,
# whose share grows as N shrinks; seen by a poll every 20 ms), and the
# CPU time per message of Kannel's three processes (in each mode) and of
# gongd.  Prints the figures; asserts nothing.
set -u
cd "$(dirname "$0")/../.."
N=${N:-5000}
CONNS=${CONNS:-8}
PER=${PER:-1}		# numbers per sendsms request, both sides
RUNS=${RUNS:-3}
GONGD=${GONGD:-./bin/gongd}
[ -x build/rel/bench/loadgen ] || make -s build/rel/bench/loadgen || exit 1
for b in /usr/sbin/bearerbox /usr/sbin/smsbox /usr/lib/kannel/test/fakesmsc; do
	[ -x "$b" ] || { echo "bench_kannel: $b missing"; exit 1; }
done
T=$(mktemp -d /tmp/gong-bench-kannel.XXXXXX)
GPID=""
stop_all() {
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
	[ -f "$T/kannel/pids" ] && ./ops/peers/kannel/stop.sh "$T/kannel"
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap stop_all EXIT
now_ms() { date +%s%3N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

KANNEL_OWNER_PID=$$ ./ops/peers/kannel/start.sh "$T/kannel" \
    >"$T/kannel-start.log" 2>&1 || { cat "$T/kannel-start.log"; exit 1; }
kenv() { sed -n "s/^$1=//p" "$T/kannel/env"; }
K_URL=$(kenv SENDSMS_URL)
K_USER=$(kenv USER)
K_PASS=$(kenv PASS)
K_LOG=$(kenv FAKESMSC_LOG)
K_ADMIN=$(kenv ADMIN_URL)
K_APASS=$(kenv ADMIN_PASS)
K_PORT=$(echo "$K_URL" | sed -E 's#^http://127\.0\.0\.1:([0-9]+)/.*#\1#')
K_APORT=${K_ADMIN##*:}
# Messages on the fake SMSC's log; messages bearerbox sent on its SMSC
# link (status.txt's "SMS: received R (q queued), sent S").  Polled every
# 20 ms while a run goes on: read by bash itself (/dev/tcp), not by a
# curl and a sed started each time, which took CPU from both sides.
logged() { grep -c 'Got message' "$K_LOG"; }
arrived() {
	local line re='^SMS: received [0-9]+ \([0-9]+ queued\), sent ([0-9]+)'

	exec 3<>"/dev/tcp/127.0.0.1/$K_APORT" 2>/dev/null || return 0
	printf 'GET /status.txt?password=%s HTTP/1.0\r\n\r\n' "$K_APASS" >&3
	while IFS= read -r -t 2 line <&3; do
		if [[ $line =~ $re ]]; then
			echo "${BASH_REMATCH[1]}"
			break
		fi
	done
	exec 3<&-
}
# wait_arrivals BASE: until BASE + N messages were handed to the fake
# SMSC (or 120 s); prints the times of the last and of the first seen,
# and how many had arrived when the first was seen.
wait_arrivals() {
	local want=$(( $1 + N )) last=-1 n t=0 FIRST=0 NF=0
	for _ in $(seq 1 6000); do
		n=$(arrived)
		[ -n "$n" ] || n=$last
		if [ "$n" != "$last" ]; then last=$n; t=$(now_ms); fi
		[ "$FIRST" = 0 ] && [ "$n" -gt "$1" ] && FIRST=$t &&
		    NF=$(( n - $1 ))
		[ "$n" -ge "$want" ] && break
		# Quiet for 3 s after some arrived: that was all.
		[ "$n" -gt "$1" ] && [ $(( $(now_ms) - t )) -gt 3000 ] && break
		sleep 0.02
	done
	echo "$t $FIRST $NF"
}
# steady N_FIRST FIRST LAST GOT: messages per second from the first
# arrival seen to the last (what arrived by the first sighting left out).
steady() {
	awk -v n=$(( $4 - $1 )) -v ms=$(( $3 - $2 )) \
	    'BEGIN { printf "%.0f", (ms > 0 ? n / (ms / 1000) : 0) }'
}
# wait_logged BASE COUNT: until the fake SMSC logged BASE + COUNT (10 s
# at most); prints how many it logged.
wait_logged() {
	local n
	for _ in $(seq 1 100); do
		n=$(logged)
		[ "$n" -ge $(( $1 + $2 )) ] && break
		sleep 0.1
	done
	echo $(( n - $1 ))
}

# CPU time (ms, user + system) of Kannel's three processes, and of one pid
kcpu() {
	local t=0 p
	for p in $(sed -n 's/^\(BEARERBOX\|SMSBOX\|FAKESMSC\)_PID=//p' "$T/kannel/pids"); do
		t=$(( t + $(pcpu "$p") ))
	done
	echo "$t"
}
pcpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' \
	    "/proc/$1/stat" 2>/dev/null || echo 0
}

TEXT="【气象台】暴雨橙色预警，请立即转移。"
ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$TEXT")
python3 - "$N" "$K_USER" "$K_PASS" "$ENC" "$PER" >"$T/direct.req" <<'PY'
import sys
n, user, pw, enc = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
per = int(sys.argv[5])
for i in range(0, n, per):
    to = "+".join("100%08d" % j for j in range(i, min(n, i + per)))
    print("GET /cgi-bin/sendsms?username=%s&password=%s&from=12379"
          "&to=%s&text=%s&charset=UTF-8&coding=2" % (user, pw, to, enc))
PY

# gong: a roster of N people (villages of 5), a kannel channel, the SMS
# template cut to the same one line.
VILLAGES=$(( (N + 4) / 5 ))
mkdir -p "$T/r"
./bin/gong-genroster --villages "$VILLAGES" --responders-per-village 5 \
    --seed 1 --out "$T/r" >/dev/null 2>&1 || exit 1
head -n 1 "$T/r/devices.csv" >"$T/r/devices.csv.1" &&
    mv "$T/r/devices.csv.1" "$T/r/devices.csv"
cp -r templates/default "$T/tpl"
for l in zh-CN en; do
	printf '%s\n' "$TEXT" >"$T/tpl/sms/$l/default.tpl"
done
"$GONGD" --print-default-config | sed -E \
    "s#^listen: .*#listen: 127.0.0.1:0#;
    s#^log_level: .*#log_level: warn#;
    s#^templates: .*#templates: $T/tpl#;
    s#^  (regions|responders|devices): .*/([a-z]+\.csv)\"?#  \1: $T/r/\2#;
    s#channels: \[outbox-file\]#channels: [sms]#;
    s#ancestor_roles: \[duty_officer\]#ancestor_roles: []#;
    s#answer: true#answer: false#;
    s#^channels:\$#channels:\n  - name: sms\n    type: kannel\n    url: \"$K_URL\"\n    username: \"$K_USER\"\n    password: \"$K_PASS\"\n    from: \"12379\"\n    dlr: false\n    max_recipients: $PER\n    concurrency: $CONNS#" \
    | sed '/^escalation:/,$d' >"$T/gong.yaml"
# Only the village people: the rule for every level and role, villages.
sed -i -E 's#^    - levels: \[city, county, township, village\]#    - levels: [village]#' "$T/gong.yaml"

echo "bench_kannel: $N messages a run, $CONNS connections, $RUNS runs;" \
    "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# A fresh Kannel's first burst is about half as fast as the next ones
# (measured: ~4,500 msg/s, then 8,000-9,000): one unmeasured run first.
base=$(arrived)
lbase=$(logged)
./build/rel/bench/loadgen "$K_PORT" "$CONNS" "$T/direct.req" >/dev/null
wait_arrivals "$base" >/dev/null
wait_logged "$lbase" "$N" >/dev/null
DR=() GR=() DS=() GS=()
for r in $(seq 1 "$RUNS"); do
	# direct
	d=0 kd=0 dl=0 ds=0 dfirst=0
	if [ -z "${GONG_ONLY:-}" ]; then
		base=$(arrived)
		lbase=$(logged)
		k0=$(kcpu)
		t0=$(now_ms)
		./build/rel/bench/loadgen "$K_PORT" "$CONNS" "$T/direct.req" \
		    >"$T/lg.out" &
		read -r t1 fd nfd <<<"$(wait_arrivals "$base")"
		wait $!
		kd=$(( $(kcpu) - k0 ))
		got=$(( $(arrived) - base ))
		dl=$(wait_logged "$lbase" "$got")
		d=$(awk -v n="$got" -v ms=$((t1 - t0)) \
		    'BEGIN { printf "%.0f", n / (ms / 1000) }')
		DR+=("$d")
		ds=$(steady "$nfd" "$fd" "$t1" "$got")
		DS+=("$ds")
		dfirst=$(( fd - t0 ))
	fi
	# gong (a fresh data dir each run)
	rm -rf "$T/d"; mkdir -p "$T/d"
	sed -i -E "s#^data_dir: .*#data_dir: $T/d#" "$T/gong.yaml"
	"$GONGD" --config "$T/gong.yaml" 2>>"$T/gongd.log" &
	GPID=$!
	for _ in $(seq 1 600); do [ -s "$T/d/gongd.url" ] && break; sleep 0.1; done
	[ -s "$T/d/gongd.url" ] || { echo "gongd did not start"; tail "$T/gongd.log"; exit 1; }
	U=$(cat "$T/d/gongd.url")
	TOK=$(cat "$T/d/admin.token")
	# The roster import runs after start: wait for it.
	for _ in $(seq 1 600); do
		c=$(curl -s -H "Authorization: Bearer $TOK" \
		    "$U/api/v1/regions/140400000000?depth=0" | jq -r '.region.counts.responders // 0')
		[ "$c" -ge "$N" ] 2>/dev/null && break
		sleep 0.1
	done
	cat >"$T/a.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>BENCH_K_${r}_$(date +%s%N)</identifier><sender>bench</sender>
<sent>2026-07-15T11:30:00+08:00</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-CN</language><category>Met</category><event>暴雨</event>
<urgency>Immediate</urgency><severity>Severe</severity>
<certainty>Observed</certainty><expires>2099-07-16T11:30:00+08:00</expires>
<senderName>气象台</senderName><headline>暴雨橙色预警</headline>
<area><areaDesc>bench</areaDesc><geocode><valueName>GB/T 2260</valueName>
<value>140400000000</value></geocode></area></info></alert>
XML
	base=$(arrived)
	lbase=$(logged)
	k0=$(kcpu)
	c0=$(pcpu "$GPID")
	t0=$(now_ms)
	curl -s -o /dev/null -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' --data-binary @"$T/a.xml" \
	    "$U/api/v1/cap"
	read -r t1 f1 nf1 <<<"$(wait_arrivals "$base")"
	kg=$(( $(kcpu) - k0 ))
	cg=$(( $(pcpu "$GPID") - c0 ))
	got=$(( $(arrived) - base ))
	gl=$(wait_logged "$lbase" "$got")
	g=$(awk -v n="$got" -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ms / 1000) }')
	GR+=("$g")
	gs=$(steady "$nf1" "$f1" "$t1" "$got")
	GS+=("$gs")
	kill "$GPID"; wait "$GPID" 2>/dev/null; GPID=""
	echo "run $r: Kannel direct $d msg/s ($(cut -d' ' -f1-2 "$T/lg.out" 2>/dev/null);" \
	    "first arrival after ${dfirst:-0} ms, then ${ds:-0} msg/s);" \
	    "through gong $got messages, $g msg/s (POST to last arrival;" \
	    "first arrival after $(( f1 - t0 )) ms, then $gs msg/s);" \
	    "the fake SMSC logged $dl direct, $gl through gong;" \
	    "CPU per message: Kannel $(( kd * 1000 / N )) us direct," \
	    "$(( kg * 1000 / (got > 0 ? got : 1) )) us through gong; gongd $(( cg * 1000 / (got > 0 ? got : 1) )) us"
done
gm=$(printf '%s\n' "${GR[@]}" | median)
gsm=$(printf '%s\n' "${GS[@]}" | median)
if [ -n "${GONG_ONLY:-}" ]; then
	echo "median: through gong $gm msg/s ($gsm msg/s from its first arrival)"
	exit 0
fi
dm=$(printf '%s\n' "${DR[@]}" | median)
dsm=$(printf '%s\n' "${DS[@]}" | median)
echo "median: Kannel direct $dm msg/s, through gong $gm msg/s, ratio" \
    "$(awk -v g="$gm" -v d="$dm" 'BEGIN { printf "%.2f", g / d }') (target >= 0.9);" \
    "from the first arrival to the last: direct $dsm msg/s, through gong $gsm," \
    "ratio $(awk -v g="$gsm" -v d="$dsm" 'BEGIN { printf "%.2f", (d > 0 ? g / d : 0) }')"
