#!/bin/bash
# Integration: CAP that arrives without a human (issue 3, acceptance 5).
# A local HTTP server (feed_server.py: ETag, 304, request log, failures
# on demand) serves an Atom index of 100 valid CAP messages, one invalid
# entry, one whose link is 404, and three that fail until mended (500, a
# cut-off body, an answer slower than poll_timeout).  gongd polls it
# every second: every good entry is stored once, each CAP is fetched
# once, the next poll gets a 304, the broken entries stop nothing, the
# failing ones are fetched again with back-off and stored once mended,
# and neither a restart nor a reload fetches a CAP again.  Then the drop folder: files renamed in
# end up in done/ or in rejected/ with a .err naming the error's line.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "# python3 missing"; finish; exit 1; }

D=$T/data
W=$T/www
DROP=$T/drop
mkdir -p "$W/cap"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
EXP=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
RUN=$(date -u +%s)

# cap SUFFIX SENT: a Chinese rainstorm warning for a demo village.
cap() {
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>14040041600000_FEEDTEST_${RUN}_$1</identifier>
  <sender>14040041600000</sender>
  <sent>$2</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <responseType>Prepare</responseType>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <effective>$NOW</effective>
    <expires>$EXP</expires>
    <senderName>长治市气象台</senderName>
    <headline>长治市气象台发布暴雨橙色预警信号（第$1号）</headline>
    <description>预计未来6小时内平顺县将出现50毫米以上降水。</description>
    <area>
      <areaDesc>平顺县青羊镇后店村</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100201</value></geocode>
    </area>
  </info>
</alert>
XML
}

{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<feed xmlns="http://www.w3.org/2005/Atom">'
	echo '<title>长治市气象台 CAP</title><id>urn:gong:test:feed</id>'
	echo "<updated>$NOW</updated>"
	for i in $(seq 1 100); do
		cap "$i" "$NOW" >"$W/cap/w$i.xml"
		echo "<entry><id>urn:gong:test:$i</id><title>$i</title>"
		echo "<updated>$NOW</updated>"
		echo "<link rel=\"alternate\" type=\"application/cap+xml\""
		echo "  href=\"cap/w$i.xml\"/>"
		echo '</entry>'
		if [ "$i" = 50 ]; then
			cap broken yesterday >"$W/cap/broken.xml"
			echo '<entry><id>urn:gong:test:broken</id>'
			echo '<link href="cap/broken.xml"/></entry>'
			echo '<entry><id>urn:gong:test:missing</id>'
			echo '<link href="/cap/missing.xml"/></entry>'
			for k in flaky part slow; do
				cap "$k" "$NOW" >"$W/cap/$k.xml"
				echo "<entry><id>urn:gong:test:$k</id>"
				echo "<link href=\"cap/$k.xml\"/></entry>"
			done
		fi
	done
	echo '</feed>'
} >"$W/index.atom"

REQ=$T/requests.log
CTL=$T/control
printf '500 /cap/flaky.xml\npartial /cap/part.xml\nslow /cap/slow.xml 4\n' \
    >"$CTL"
: >"$REQ"
python3 "$REPO/tests/integration/feed_server.py" --root "$W" --log "$REQ" \
    --port-file "$T/port" --control "$CTL" &
PIDS+=("$!")
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port" 2>/dev/null)
[ -n "$PORT" ] || { not_ok "feed server starts"; finish; exit 1; }
ok "feed server listens on 127.0.0.1:$PORT"

cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
data_dir: $D
listen: 127.0.0.1:0
log_level: info
rosters:
  regions: $REPO/config/demo/regions.csv
feeds:
  - name: cma-test
    poll_url: http://127.0.0.1:$PORT/index.atom
    poll_interval: 1s
    poll_timeout: 2s
    drop_dir: $DROP
  - name: dead
    poll_url: http://127.0.0.1:1/index.atom
    poll_interval: 1s
YAML

check "gongd --check-config accepts the feed config" \
    "$GONGD" --check-config "$T/gong.yaml"
start_gongd main --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
ok "gongd starts with a polled feed and a drop folder"
U=$URL_main
TOK=$(cat "$D/admin.token")
api() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
total() { api "alerts?limit=1" | jq -r .total; }
# wait_for SECONDS command...: until the command succeeds
wait_for() {
	local n=$(($1 * 10)); shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
gets() { grep -c "^GET $1 " "$REQ"; }

total_is() { [ "$(total)" = "$1" ]; }
check "the 100 good entries are stored (within 60 s)" \
    wait_for 60 total_is 100
api "alerts?limit=1000" >"$T/alerts.json"
expect_eq "100 distinct identifiers" \
    "$(jq '[.alerts[].identifier] | unique | length' "$T/alerts.json")" 100
P=14040041600000_FEEDTEST_${RUN}_
expect_eq "all of them from this run's template" \
    "$(jq --arg p "$P" '[.alerts[].identifier | select(startswith($p))] |
    length' "$T/alerts.json")" 100
# Entries after the broken one (51..100) are stored: it stopped nothing.
expect_eq "entries after the broken ones are stored" \
    "$(jq --arg a "${P}51" --arg b "${P}100" '[.alerts[].identifier |
    select(. == $a or . == $b)] | length' "$T/alerts.json")" 2

# Let a few more polls happen.
sleep 3
bad=0
for i in $(seq 1 100); do
	c=$(gets "/cap/w$i.xml")
	[ "$c" = 1 ] && continue
	bad=$((bad + 1))
	echo "# /cap/w$i.xml fetched $c times"
done
expect_eq "each good CAP fetched exactly once" "$bad" 0
expect_eq "the invalid entry fetched once (remembered as done)" \
    "$(gets /cap/broken.xml)" 1
check "the index was polled again and answered 304" \
    grep -q '^GET /index.atom 304$' "$REQ"
expect_eq "the first index fetch was a 200" \
    "$(grep '^GET /index.atom ' "$REQ" | head -1)" "GET /index.atom 200"
check "the 404 entry is tried again (with back-off)" \
    test "$(gets /cap/missing.xml)" -ge 2
check "the 500 entry is tried again (with back-off)" \
    test "$(grep -c '^GET /cap/flaky.xml 500$' "$REQ")" -ge 2
check "the cut-off entry is tried again" \
    test "$(grep -c '^GET /cap/part.xml partial$' "$REQ")" -ge 2
expect_contains "the slow entry times out, logged as such" \
    "$(grep 'feed.poll.entry_failed' "$T/main.log" | grep 'test:slow')" \
    'timed out after 2000 ms' 
expect_contains "the invalid entry is logged with its error line" \
    "$(grep 'feed.poll.entry_error' "$T/main.log")" \
    'line 5: error: /alert/sent: \"yesterday\": not a dateTime'
expect_contains "the rejection names the entry" \
    "$(grep 'feed.poll.entry_rejected' "$T/main.log")" \
    'id="urn:gong:test:broken"'

# A feed whose server refuses connections backs off: 2 s, 4 s, ...
expect_contains "a dead feed backs off (first failure: 2 s)" \
    "$(grep 'event=feed.poll.failed feed=dead' "$T/main.log")" \
    'failures=1 retry_in_ms=2000'
expect_contains "a dead feed backs off (second failure: 4 s)" \
    "$(grep 'event=feed.poll.failed feed=dead' "$T/main.log")" \
    'failures=2 retry_in_ms=4000'

# Mend them: each is stored on a later retry, once.
: >"$CTL"
check "the mended entries are stored (within 40 s)" wait_for 40 total_is 103
for k in flaky part slow; do
	expect_eq "the mended $k entry fetched with 200 once" \
	    "$(grep -c "^GET /cap/$k.xml 200\$" "$REQ")" 1
done
ST=$D/feeds/cma-test.state
check "state file written" test -s "$ST"
expect_eq "state file remembers 104 entries (100, invalid, 3 mended)" \
    "$(grep -c '^id ' "$ST")" 104
check "the 404 entry is not remembered as done" \
    bash -c "! grep -q '^id urn:gong:test:missing$' '$ST'"

# A restart reads the state: no CAP is fetched again.
stop_gongd main
expect_eq "gongd stops cleanly" "$RC" 0
before=$(grep -c '^GET /cap/w' "$REQ")
start_gongd main --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd restarts"; finish; exit 1; }
U=$URL_main
n0=$(grep -c '^GET /index.atom' "$REQ")
index_polled_twice() {
	[ "$(grep -c '^GET /index.atom' "$REQ")" -ge $((n0 + 2)) ]
}
check "the index is polled after the restart" wait_for 20 index_polled_twice
expect_eq "no good CAP fetched again after the restart" \
    "$(grep -c '^GET /cap/w' "$REQ")" "$before"
expect_eq "still 103 alerts" "$(total)" 103
expect_contains "the state was loaded" "$(cat "$T/main.log")" \
    "event=feed.state.loaded feed=cma-test entries=104"

# SIGHUP: the feed thread is restarted on the new config; nothing is
# fetched again.
kill -HUP "$PID_main"
reloaded() { grep -q 'event=config.reloaded' "$T/main.log"; }
check "SIGHUP reloads the config" wait_for 20 reloaded
expect_eq "the feed thread was stopped and started again" \
    "$(grep -c 'event=feed.start feed=cma-test' "$T/main.log")" 2
sleep 2
expect_eq "no good CAP fetched again after the reload" \
    "$(grep -c '^GET /cap/w' "$REQ")" "$before"

# The drop folder: files appear by rename.
check "drop folder and its done/ and rejected/ exist" \
    test -d "$DROP/done" -a -d "$DROP/rejected"
cap drop1 "$NOW" >"$DROP/.a.xml.part"
mv "$DROP/.a.xml.part" "$DROP/a.xml"
cap drop2 yesterday >"$DROP/b.tmp"
mv "$DROP/b.tmp" "$DROP/b.xml"
cp "$W/cap/w7.xml" "$DROP/c.xml.tmp"
mv "$DROP/c.xml.tmp" "$DROP/c.xml"
cap drop3 "$NOW" >"$DROP/later.xml.tmp"
check "a valid file ends up in done/" wait_for 10 test -f "$DROP/done/a.xml"
check "an invalid file ends up in rejected/" \
    wait_for 10 test -f "$DROP/rejected/b.xml"
check "a duplicate ends up in done/" wait_for 10 test -f "$DROP/done/c.xml"
check "the .err is beside the rejected file" \
    test -f "$DROP/rejected/b.xml.err"
expect_eq ".err first line is the verdict" \
    "$(head -1 "$DROP/rejected/b.xml.err" | cut -d: -f1-3)" \
    "b.xml: rejected: invalid CAP"
expect_contains ".err names the line of the error" \
    "$(cat "$DROP/rejected/b.xml.err")" \
    'b.xml:5: error: /alert/sent: "yesterday": not a dateTime'
check "a .tmp file is left alone" test -f "$DROP/later.xml.tmp"
expect_eq "the dropped valid file is stored (the duplicate is not)" \
    "$(total)" 104
expect_contains "the drop is logged" "$(cat "$T/main.log")" \
    'event=feed.drop.stored feed=cma-test file="c.xml"'
expect_eq "the feed's issues are in the audit trail, one per stored alert" \
    "$(api 'audit?actor=feed:cma-test&limit=1000' | jq '[.audit[] |
    select(.action == "issue" and .outcome == "ok")] | length')" 104
expect_eq "... naming the alert and the way it came" \
    "$(api 'audit?actor=feed:cma-test&limit=1000' | jq -r '[.audit[] |
    .from] | unique | join(",")')" "drop,poll"

stop_gongd main
expect_eq "gongd stops cleanly again" "$RC" 0
finish
