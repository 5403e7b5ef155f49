#!/bin/bash
# Escalation under load (issue 5, acceptance 7): with ~10,000 open
# escalations, the lag between a step's due time and its message.
#
# gongd (release build) on a generated roster of VILLAGES (2052)
# villages x 5 people — the active ones with a phone, about 10,000, must
# answer (routing rule answer: true over file channel "out") — and a
# policy with two steps: resend at 3 min (channel "out"), then at 5 min
# the alert through a second file channel "out2".  One red alert for the
# city; nobody answers.  gongd runs on the test clock
# (GONG_TEST_CLOCK_FILE: an offset in ms it adds to its clock); once the
# plan is delivered and the rows exist, the clock jumps to the moment the
# step is due for everyone (the last first message + 3 min), so all
# ~10,000 steps fall due at once: the worst case.  Then, per reminder:
#   sent = deliveries.sent_ms - due
# (due = escalations.base_ms + 180000, or the jump if later; gongd's own
# clock on both sides), p50 / p90 / max, and the wall time from the jump
# until every reminder of the step was sent (the file channel reports a
# message sent once written and synced).  Also "fired" = created_ms - due:
# created_ms is the clock of the escalation round that fired the row,
# read once when the round starts, so it says when the round began, not
# when the row was written.  The same for the 5 min step.
# Read with sqlite3 beside gongd (WAL, read-only).
#
# MODE=quiet (default: nobody answers), or MODE=answers: while the 3 min
# step fires, ANSWERING (2000) of the people answer by SMS (Kannel's MO
# callback, ops/bench/loadgen.c, CONNS 4 connections), starting at the
# jump; the lag is then over the reminders still sent.  MODE=both runs
# quiet then answers.  RUNS (3) fresh gongd each; medians.  The store is
# on the disk under TMPDIR.  Prints the figures; asserts nothing about
# them.  KEEP=1 keeps the temp dir.
set -u
cd "$(dirname "$0")/../.."
VILLAGES=${VILLAGES:-2052}
RUNS=${RUNS:-3}
MODE=${MODE:-both}
ANSWERING=${ANSWERING:-2000}
CONNS=${CONNS:-4}
B=build/rel/bench
[ -x "$B/loadgen" ] || make -s "$B/loadgen" || exit 1
for p in jq sqlite3 curl bc; do
	command -v $p >/dev/null ||
	    { echo "bench_escalation: $p missing"; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/gong-bench-esc.XXXXXX")
GPID=""
stop_all() {
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap stop_all EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
pct() {	# p: the p-th percentile (nearest rank) of stdin
	sort -g | awk -v p="$1" '{ a[NR] = $1 } END {
	    r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; print a[r] }'
}
wall_ms() { date +%s%3N; }
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

mkdir -p "$T/r"
./bin/gong-genroster --villages "$VILLAGES" --responders-per-village 5 \
    --seed 1 --out "$T/r" >/dev/null 2>&1 || exit 1
awk -F, 'NR > 1 && $3 !~ /000$/ && $8 == "yes" && $5 != "" { print $1 "," $5 }' \
    "$T/r/responders.csv" >"$T/people"
PEOPLE=$(wc -l <"$T/people")
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
  - { name: out2, type: file, path: outbox2.log, addr: phone }
  # The generated devices' channels (no routing rule uses them).
  - { name: loudspeaker, type: file, path: devices.log, addr: device }
  - { name: siren, type: file, path: devices.log, addr: device }
  - { name: radio, type: file, path: devices.log, addr: device }
  - { name: wecom, type: file, path: devices.log, addr: wecom }
  # Only to receive SMS replies (MODE=answers); nothing is sent by it.
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
      colours: [orange, red]
      steps:
        - { after: 3m, do: resend }
        - { after: 5m, do: channel, channel: out2 }
YAML
./bin/gongd --check-config "$T/gong.yaml" >"$T/check.out" 2>&1 ||
    { echo "bench_escalation: config refused:"; cat "$T/check.out"; exit 1; }
cat >"$T/a.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>BENCH_ESC_1</identifier><sender>bench</sender>
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

export GONG_TEST_CLOCK_FILE=$T/clock
sql() { sqlite3 -readonly "$T/d/gong.db" "$@"; }
start_gongd() {
	rm -rf "$T/d"
	mkdir -p "$T/d"
	echo 0 >"$T/clock"
	./bin/gongd --config "$T/gong.yaml" 2>>"$T/gongd.log" &
	GPID=$!
	for _ in $(seq 1 600); do [ -s "$T/d/gongd.url" ] && break; sleep 0.1; done
	[ -s "$T/d/gongd.url" ] ||
	    { echo "bench_escalation: gongd did not start"; tail "$T/gongd.log"; exit 1; }
	U=$(head -1 "$T/d/gongd.url")
	GPORT=${U##*:}
	TOK=$(cat "$T/d/admin.token")
	CB=$(cat "$T/d/callback.secret")
}
stop_gongd() { kill "$GPID"; wait "$GPID" 2>/dev/null; GPID=""; }
# The alert, planned, delivered and its rows written.
post_and_settle() {
	local n
	A=$(curl -s -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/a.xml" "$U/api/v1/cap" | jq -r .id)
	case "$A" in ''|null|*[!0-9]*) echo "bench_escalation: CAP refused"; exit 1 ;; esac
	for _ in $(seq 1 3000); do
		n=$(sql "SELECT (SELECT count(*) FROM escalations WHERE alert_id = $A)
		    || ' ' || (SELECT count(*) FROM deliveries WHERE alert_id = $A
		    AND kind = 'alert' AND sent_ms IS NOT NULL)" 2>/dev/null)
		[ "$n" = "$PEOPLE $PEOPLE" ] && return 0
		sleep 0.2
	done
	echo "bench_escalation: rows and sends '$n' of $PEOPLE after 10 min"
	exit 1
}
# step K AFTER_MS CHANNEL: jump gongd's clock to the step's due time for
# everyone, wait until every reminder was sent; prints
# "sent_count drain_s w50 w90 wmax s50 s90 smax written_s" (lags in ms;
# written_s: wall time from the jump until no open row was left before
# step K, i.e. the escalation thread had written every message, polled
# every 50 ms)
step() {
	local k=$1 after=$2 ch=$3 due t0 n t1 lg tw=""
	due=$(sql "SELECT max(base_ms) + $after FROM escalations WHERE alert_id = $A")
	t0=$(wall_ms)
	# gongd's clock = wall clock + offset (read again within 20 ms)
	echo $((due - t0)) >"$T/clock.new"
	mv "$T/clock.new" "$T/clock"
	J=$due
	[ "$MODE_NOW" = answers ] && [ "$k" = 1 ] &&
	    { "$B/loadgen" "$GPORT" "$CONNS" "$T/answers.req" >"$T/lg.out" & LG=$!; }
	# everyone who has not answered by then gets the step
	for _ in $(seq 1 6000); do
		n=$(sql "SELECT count(*) FROM deliveries WHERE alert_id = $A
		    AND kind = 'remind' AND channel = '$ch'
		    AND recipient LIKE 'e$k:%' AND sent_ms IS NOT NULL" 2>/dev/null)
		open=$(sql "SELECT count(*) FROM escalations WHERE alert_id = $A
		    AND state = 'open' AND step < $k" 2>/dev/null)
		[ "${open:-1}" = 0 ] && [ -z "$tw" ] && tw=$(wall_ms)
		[ "${open:-1}" = 0 ] &&
		    [ "$n" = "$(sql "SELECT count(*) FROM deliveries WHERE alert_id = $A
		    AND kind = 'remind' AND recipient LIKE 'e$k:%'")" ] && break
		sleep 0.05
	done
	t1=$(wall_ms)
	[ -n "${LG:-}" ] && { wait "$LG"; LG=""; }
	sql "SELECT d.created_ms - max(e.base_ms + $after, $J),
	    d.sent_ms - max(e.base_ms + $after, $J)
	    FROM deliveries d JOIN escalations e
	    ON e.alert_id = d.alert_id AND e.responder_id = d.responder_id
	    WHERE d.alert_id = $A AND d.kind = 'remind'
	    AND d.recipient LIKE 'e$k:%'" | tr '|' ' ' >"$T/lags"
	lg=$(for c in 1 2; do
		cut -d' ' -f$c "$T/lags" | pct 50
		cut -d' ' -f$c "$T/lags" | pct 90
		cut -d' ' -f$c "$T/lags" | sort -g | tail -1
	done | tr '\n' ' ')
	echo "$n $(echo "($t1 - $t0) / 1000" | bc -l) $lg $(echo "($tw - $t0) / 1000" | bc -l)"
}

run_mode() {
	MODE_NOW=$1
	: >"$T/m.$1"
	for run in $(seq 1 "$RUNS"); do
		start_gongd
		post_and_settle
		if [ "$1" = answers ]; then
			shuf -n "$ANSWERING" --random-source=<(yes) "$T/people" |
			    awk -F, -v cb="$CB" '{ printf "GET /cb/%s/sms/mo?from=%s&to=12379&text=%%E6%%94%%B6%%E5%%88%%B0\n", cb, $2 }' \
			    >"$T/answers.req"
		fi
		read -r n1 d1 w50 w90 wmax s50 s90 smax wr1 <<<"$(step 1 180000 out)"
		extra=""
		if [ "$1" = answers ]; then
			extra=$(printf '; %s answers by SMS meanwhile (%s answers/s, slowest request %s ms)' \
			    "$(sql "SELECT count(*) FROM answers WHERE alert_id = $A")" \
			    "$(awk '{ print $12 }' "$T/lg.out")" \
			    "$(awk '{ print $18 }' "$T/lg.out")")
		fi
		printf '%s run %d, 3 min resend: %d reminders, all written %.2f s and sent %.2f s after the due time; lag fired (round start) p50 %d p90 %d max %d ms, sent p50 %d p90 %d max %d ms%s\n' \
		    "$1" "$run" "$n1" "$wr1" "$d1" "$w50" "$w90" "$wmax" "$s50" "$s90" "$smax" "$extra"
		read -r n2 d2 x50 x90 xmax t50 t90 tmax wr2 <<<"$(step 2 300000 out2)"
		printf '%s run %d, 5 min channel out2: %d messages, all written %.2f s and sent %.2f s after the due time; lag fired (round start) p50 %d p90 %d max %d ms, sent p50 %d p90 %d max %d ms\n' \
		    "$1" "$run" "$n2" "$wr2" "$d2" "$x50" "$x90" "$xmax" "$t50" "$t90" "$tmax"
		echo "$n1 $d1 $s50 $s90 $smax $n2 $d2 $t50 $t90 $tmax $wr1 $wr2" >>"$T/m.$1"
		hwm=$(awk '/VmHWM/ { print $2 }' /proc/$GPID/status)
		stop_gongd
	done
	col() { awk -v c="$1" '{ print $c }' "$T/m.$MODE_NOW" | median; }
	printf 'median %s (%d runs, %d open escalations): 3 min step: %d sent, all written in %.2f s, all sent in %.2f s, lag to sent p50 %d p90 %d max %d ms; 5 min step: %d sent, all written in %.2f s, all sent in %.2f s, lag to sent p50 %d p90 %d max %d ms; gongd peak RSS %d MB\n' \
	    "$1" "$RUNS" "$PEOPLE" "$(col 1)" "$(col 11)" "$(col 2)" "$(col 3)" \
	    "$(col 4)" "$(col 5)" "$(col 6)" "$(col 12)" "$(col 7)" "$(col 8)" \
	    "$(col 9)" "$(col 10)" \
	    $((hwm / 1024))
}

echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $PEOPLE people must answer; store on $(df --output=fstype "$T" | tail -1))"
case "$MODE" in
quiet|answers) run_mode "$MODE" ;;
both) run_mode quiet; run_mode answers ;;
*) echo "bench_escalation: MODE quiet, answers or both"; exit 1 ;;
esac
