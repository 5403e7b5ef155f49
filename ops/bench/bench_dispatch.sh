#!/bin/bash
# Dispatch rate (issue 4, acceptance 7): gongd sending single-number SMS
# through the sms_http driver to a local keep-alive HTTP sink (Debian's
# nginx-light on 127.0.0.1, `return 200`), next to wrk's request rate on
# the same sink with the same number of connections, in the same run;
# then the same with batches of 1000 numbers per request (recipients/s);
# then the time from a CAP POST to the first request at the sink (p50,
# p99 over LAT alerts of one village each).  Each fan-out run also says
# when its first request reached the sink after the POST: the first SMS
# of a whole-deployment alert, sent while the rest is planned.  (Both
# include starting curl for the POST, a few ms.)  And when the plan was
# written (gongd's plan.written log line: LOG_LEVEL is info, one line an
# alert) with the requests the sink had by then: while it is written,
# the planner's two threads and the dispatcher share the cores.
#
# gongd's rate is taken at the sink: requests logged by nginx ($msec,
# buffered) between the first and the last request of one alert's
# fan-out; and from the CAP POST to the last request (planning
# included: a plan is sent while it is written, so the first figure
# includes most of the planning too).  wrk POSTs a body of the same size.  Everything shares the
# machine's cores (nginx one worker, wrk two threads, gongd).
#
# Next to wrk, in the same run: libcurl alone (ops/bench/curl_sink.c: the
# same body, the same connections, one multi handle per thread, no
# outbox), with one thread and with two: the ceiling of a dispatcher
# built on libcurl's multi interface on this machine.  With two threads
# the bench also says how many cores libcurl and nginx used: when that
# is the whole machine, whatever a dispatcher does besides libcurl (the
# outbox's writes, which ops/bench/bench_plan.sh times alone, rendering)
# comes out of that rate.
#
# The roster has no devices: the bench is about the SMS gateway, and the
# sirens' and loudspeakers' deliveries (to the demo's file channel) would
# take gongd's CPU for messages the sink never sees.
#
# VILLAGES (default 4000: ~20,000 recipients), CONNS (16), RUNS (3),
# LAT (20), WRK_SECONDS (5), GONGD (./bin/gongd), MODES ("1 1000":
# numbers per request, the runs to make).  The demo config's
# 叫应 rule is turned off:
# this measures sending (answer codes make every text differ, which
# defeats batching; answers have their own bench).  Needs nginx and wrk
# (ops/install-deps.sh --bench).
set -u
cd "$(dirname "$0")/../.."
VILLAGES=${VILLAGES:-4000}
CONNS=${CONNS:-16}
RUNS=${RUNS:-3}
LAT=${LAT:-20}
WRK_SECONDS=${WRK_SECONDS:-5}
GONGD=${GONGD:-./bin/gongd}	# another build, to compare
CURL_SINK=${CURL_SINK:-build/rel/bench/curl_sink}
[ -x "$CURL_SINK" ] || make -s "$CURL_SINK" || exit 1
for p in nginx wrk; do
	command -v $p >/dev/null || PATH=$PATH:/usr/sbin
	command -v $p >/dev/null ||
	    { echo "bench_dispatch: $p missing (ops/install-deps.sh --bench)"; exit 1; }
done
T=$(mktemp -d /tmp/gong-bench-disp.XXXXXX)
NGINX_UP="" GPID=""
stop_all() {
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
	[ -n "$NGINX_UP" ] && [ -s "$T/nginx.pid" ] &&
	    kill -QUIT "$(cat "$T/nginx.pid")" 2>/dev/null
	sleep 0.3
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap stop_all EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
pct() {	# p: the p-th percentile (nearest rank) of stdin
	sort -g | awk -v p="$1" '{ a[NR] = $1 } END {
	    r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; print a[r] }'
}
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# -- the sink
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
	log_format t '\$msec';
	server {
		listen 127.0.0.1:$PORT;
		location / {
			return 200 '{"code":"OK"}';
		}
		location /sms {
			access_log $T/sms.log t buffer=256k flush=100ms;
			return 200 '{"code":"OK"}';
		}
	}
}
NGINX
nginx -e "$T/nginx.err" -p "$T/ng" -c "$T/nginx.conf" ||
    { cat "$T/nginx.err"; exit 1; }
NGINX_UP=1
lines() { [ -f "$T/sms.log" ] && wc -l <"$T/sms.log" || echo 0; }

# -- the roster and gongd
mkdir -p "$T/r" "$T/d"
./bin/gong-genroster --villages "$VILLAGES" --responders-per-village 5 \
    --seed 1 --out "$T/r" >/dev/null 2>&1 || exit 1
head -n 1 "$T/r/devices.csv" >"$T/r/devices.csv.1" &&
    mv "$T/r/devices.csv.1" "$T/r/devices.csv"
gongd_conf() {	# numbers_per_request
	"$GONGD" --print-default-config | sed -E \
	    "s#^data_dir: .*#data_dir: $T/d#;
	    s#^listen: .*#listen: 127.0.0.1:0#;
	    s#^log_level: .*#log_level: ${LOG_LEVEL:-info}#;
	    s#^  (regions|responders|devices): .*/([a-z]+\.csv)\"?#  \1: $T/r/\2#;
	    s#channels: \[outbox-file\]#channels: [sms]#;
	    s#ancestor_channels: \[outbox-file\]#ancestor_channels: [sms]#;
	    s#answer: true#answer: false#;
	    s#^channels:\$#channels:\n  - name: sms\n    type: sms_http\n    url: http://127.0.0.1:$PORT/sms\n    body: '{\"mobile\":\"{{numbers}}\",\"content\":\"{{text}}\",\"ids\":\"{{ids}}\"}'\n    numbers_per_request: $1\n    concurrency: $CONNS#"
}
start_gongd() {
	# A fresh data dir: the roster is imported at start.
	rm -rf "$T/d"
	mkdir -p "$T/d"
	gongd_conf "$1" >"$T/gong.yaml"
	${GONGD_WRAP:-} "$GONGD" --config "$T/gong.yaml" 2>>"$T/gongd.log" &
	GPID=$!
	echo "# gongd pid $GPID" >&2
	for _ in $(seq 1 600); do [ -s "$T/d/gongd.url" ] && break; sleep 0.1; done
	[ -s "$T/d/gongd.url" ] || { echo "gongd did not start"; tail "$T/gongd.log"; exit 1; }
	U=$(cat "$T/d/gongd.url")
	TOK=$(cat "$T/d/admin.token")
}
stop_gongd() { kill "$GPID"; wait "$GPID" 2>/dev/null; GPID=""; }

post() {	# area code -> the POST's time on stdout

	cat >"$T/a.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>BENCH_$(date +%s%N)</identifier><sender>bench</sender>
<sent>2026-07-15T11:30:00+08:00</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-CN</language><category>Met</category><event>暴雨</event>
<urgency>Immediate</urgency><severity>Severe</severity>
<certainty>Observed</certainty><expires>2099-07-16T11:30:00+08:00</expires>
<senderName>气象台</senderName><headline>暴雨橙色预警</headline>
<description>预计未来6小时内将出现50毫米以上降水。</description>
<instruction>注意防范山洪、滑坡、泥石流。</instruction>
<area><areaDesc>bench</areaDesc><geocode><valueName>GB/T 2260</valueName>
<value>$1</value></geocode></area></info></alert>
XML
	now
	curl -s -o "$T/post.json" -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/a.xml" "$U/api/v1/cap"
	grep -q '"id"' "$T/post.json" || { cat "$T/post.json" >&2; exit 1; }
}
# wait_quiet: until the sink's log stops growing for 1 s (and flushed)
wait_quiet() {
	local last=-1 n
	for _ in $(seq 1 1200); do
		sleep 0.5
		n=$(lines)
		[ "$n" = "$last" ] && [ "$n" -gt "${1:-0}" ] && sleep 0.5 &&
		    [ "$(lines)" = "$n" ] && return 0
		last=$n
	done
	echo "bench_dispatch: the sink stopped hearing from gongd" >&2
	return 1
}
# fanout: one alert for the root; prints "requests seconds"
# cpu_ms: gongd's CPU time so far (user + system), in ms
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' \
	    "/proc/$GPID/stat"
}
# alert_id: the id of the alert the last post stored
alert_id() { sed 's/.*"id":\([0-9]*\).*/\1/' "$T/post.json"; }
# planned_at ID: when gongd logged the alert's plan.written (epoch s), or
# nothing (the log level is info: one line an alert, none a delivery)
planned_at() {
	local ts
	ts=$(grep "event=plan.written alert=$1 " "$T/gongd.log" | tail -n 1 |
	    sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	[ -n "$ts" ] && date -d "$ts" +%s.%N
}
# prints "requests seconds total_seconds cpu_ms first_ms plan_ms
# requests_by_then": plan_ms, the plan written after the POST (-1: not
# logged), and how many requests had reached the sink by then
fanout() {
	local before t0 c0 pa
	before=$(lines)
	c0=$(cpu_ms)
	t0=$(post 140400000000)
	wait_quiet "$before" || exit 1
	pa=$(planned_at "$(alert_id)")
	tail -n +"$((before + 1))" "$T/sms.log" |
	    awk -v t0="$t0" -v c="$(echo "$(cpu_ms) - $c0" | bc -l)" \
		-v pa="${pa:--1}" \
		'NR == 1 { f = $1 } { l = $1; n++; if (pa > 0 && $1 <= pa) b++ }
		END { printf "%d %.3f %.3f %.0f %.1f %.0f %d\n", n, l - f,
		    l - t0, c, (f - t0) * 1000, (pa > 0 ? (pa - t0) * 1000 : -1),
		    b }'
}
root=$(sed -n 2p "$T/r/regions.csv" | cut -d, -f1)
[ "$root" = 140400000000 ] || { echo "unexpected root $root"; exit 1; }
# wrk: POST of a body like gongd's
body=$(printf '{"mobile":"10000000001","content":"%s","ids":"123456"}' \
    "$(printf '【气象台】暴雨橙色预警。预计未来6小时内将出现50毫米以上降水。注意防范山洪、滑坡、泥石流。%.0s' 1)")
printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' \
    "$body" >"$T/post.lua"
wrk_rate() {
	wrk -t2 -c"$CONNS" -d"${WRK_SECONDS}s" -s "$T/post.lua" \
	    "http://127.0.0.1:$PORT/" | awk '/Requests\/sec/ { print $2 }'
}
# CPU ticks of nginx's worker so far.
ngx_ticks() {
	local w
	w=$(pgrep -P "$(cat "$T/nginx.pid")" | head -n 1)
	awk '{ print $14 + $15 }' "/proc/$w/stat" 2>/dev/null || echo 0
}
# curl_rate THREADS: libcurl alone, CURL_REQUESTS (100000) requests;
# prints its rate, the cores it used (its CPU time over the run's wall
# time) and the cores nginx used meanwhile.
curl_rate() {
	local n0 out
	n0=$(ngx_ticks)
	out=$("$CURL_SINK" "http://127.0.0.1:$PORT/" "$1" "$CONNS" \
	    "${CURL_REQUESTS:-100000}" "$body") || return
	echo "$out" | awk -v nt="$(( $(ngx_ticks) - n0 ))" \
	    -v hz="$(getconf CLK_TCK)" \
	    '{ printf "%s %.2f %.2f\n", $8, $10 / $6, nt / hz / $6 }'
}

echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $CONNS connections)"
for mode in ${MODES:-1 1000}; do
	start_gongd "$mode"
	: >"$T/rg"; : >"$T/rw"; : >"$T/ratio"; : >"$T/re"
	: >"$T/c1"; : >"$T/c2"; : >"$T/cores"
	for run in $(seq 1 "$RUNS"); do
		w=$(wrk_rate)
		if [ "$mode" = 1 ]; then
			read -r c1 _ _ <<<"$(curl_rate 1)"
			read -r c2 cc2 nc2 <<<"$(curl_rate 2)"
			[ -n "$c1" ] && [ -n "$c2" ] ||
			    { echo "bench_dispatch: curl_sink failed"; exit 1; }
		fi
		read -r n secs total cpu first plan by <<<"$(fanout)"
		# What the sink had while the plan was still being written
		# (the planner and the dispatcher share the cores then).
		if [ "$plan" -ge 0 ]; then
			pl=$(printf '; plan written %s ms after the POST, %s of the %s requests sent by then' "$plan" "$by" "$n")
		else
			pl="; the plan's end not in gongd's log"
		fi
		if [ "$mode" = 1 ]; then
			rate=$(echo "$n / $secs" | bc -l)
			printf 'run %d: wrk %.0f requests/s; libcurl alone %.0f/s with one thread (%.2f of wrk), %.0f/s with two (%.2f; libcurl used %.2f cores, nginx %.2f); gongd %d deliveries (1 per request) in %.2f s at the sink = %.0f/s (%.2f of wrk); CAP POST to first request %.0f ms, to last %.2f s (%.0f/s); gongd CPU %.0f us/delivery%s\n' \
			    "$run" "$w" "$c1" "$(echo "$c1 / $w" | bc -l)" "$c2" "$(echo "$c2 / $w" | bc -l)" "$cc2" "$nc2" "$n" "$secs" "$rate" "$(echo "$rate / $w" | bc -l)" "$first" "$total" "$(echo "$n / $total" | bc -l)" "$(echo "$cpu * 1000 / $n" | bc -l)" "$pl"
			echo "$(echo "$n / $total" | bc -l)" >>"$T/re"
			echo "$(echo "$rate / $w" | bc -l)" >>"$T/ratio"
			echo "$(echo "$c1 / $w" | bc -l)" >>"$T/c1"
			echo "$(echo "$c2 / $w" | bc -l)" >>"$T/c2"
			echo "$cc2 + $nc2" | bc -l >>"$T/cores"
		else
			got=$(curl -s -H "Authorization: Bearer $TOK" \
			    "$U/api/v1/alerts/$(alert_id)/deliveries?limit=0&channel=sms" | jq .total)
			rate=$(echo "$got / $secs" | bc -l)
			printf 'run %d: gongd %d recipients in %d requests of up to 1000 numbers in %.2f s at the sink = %.0f recipients/s; CAP POST to first request %.0f ms, to last %.2f s (%.0f/s); gongd CPU %.1f us/recipient%s\n' \
			    "$run" "$got" "$n" "$secs" "$rate" "$first" "$total" "$(echo "$got / $total" | bc -l)" "$(echo "$cpu * 1000 / $got" | bc -l)" "$pl"
			echo "$(echo "$got / $total" | bc -l)" >>"$T/re"
		fi
		echo "$rate" >>"$T/rg"
		echo "$w" >>"$T/rw"
	done
	if [ "$mode" = 1 ]; then
		printf 'median: single-number dispatch %.0f deliveries/s, wrk %.0f requests/s, ratio %.2f (target >= 0.5); from the CAP POST %.0f/s; libcurl alone %.2f of wrk with one thread, %.2f with two (libcurl and nginx then used %.2f of the %d cores)\n' \
		    "$(median <"$T/rg")" "$(median <"$T/rw")" "$(median <"$T/ratio")" "$(median <"$T/re")" "$(median <"$T/c1")" "$(median <"$T/c2")" "$(median <"$T/cores")" "$(nproc)"
	else
		printf 'median: batched dispatch %.0f recipients/s (target >= 100000); from the CAP POST %.0f/s\n' \
		    "$(median <"$T/rg")" "$(median <"$T/re")"
		# CAP POST -> first request at the sink, one village each.
		: >"$T/lat"
		sed -n '2,$p' "$T/r/regions.csv" | cut -d, -f1 | grep -v '000$' |
		    head -n "$LAT" >"$T/villages"
		while read -r v; do
			before=$(lines)
			t0=$(post "$v")
			wait_quiet "$before" || exit 1
			first=$(sed -n "$((before + 1))p" "$T/sms.log")
			echo "($first - $t0) * 1000" | bc -l >>"$T/lat"
		done <"$T/villages"
		printf 'CAP POST to the first gateway request over %d alerts: p50 %.1f ms, p99 %.1f ms\n' \
		    "$(wc -l <"$T/lat")" "$(pct 50 <"$T/lat")" "$(pct 99 <"$T/lat")"
	fi
	stop_gongd
done
