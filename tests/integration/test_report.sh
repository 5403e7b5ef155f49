#!/bin/bash
# Integration: issue 5 acceptance 6, the 叫应 report.  gongd on the demo
# roster (config/demo) with routing rules that want an answer (answer:
# true) from the township duty officers and the villages' responsible
# persons, and an escalation policy that marks whoever is still silent
# after 5 minutes unreachable; the clock driven by GONG_TEST_CLOCK_FILE.
# A red alert for 青羊镇 (22 villages) and 彭家口村; once the escalation
# rows are written (the report's targeted > 0), answers through the link
# path (POST /a/{token}, tokens made with DATA_DIR/answer.key) at known
# clock offsets: 5 village people at +10 s, 5 more and a township
# officer at +40 s, 5 at +100 s, 3 at +160 s, 2 at +250 s.  Then:
# per-level and per-region targeted / reached / answered / 叫应率 exactly
# (targeted counted from the roster), p50 and p90 exactly as the
# nearest rank of the times in the store (escalations.base_ms to
# answers.received_ms, read with sqlite3) and in the offset group the
# rank falls in; unreachable after +400 s; the unanswered list and its
# CSV; the report's CSV; /metrics; gong report / gong unanswered.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

for b in jq python3 sqlite3 curl; do
	command -v $b >/dev/null || { not_ok "$b installed"; finish; exit 1; }
done

GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
D=$T/var
mkdir -p "$D"
DEMO=$REPO/config/demo
CLOCK=$T/clock
echo 0 >"$CLOCK"
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: ./var
listen: 127.0.0.1:$GPORT
log_level: info
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$DEMO/responders.csv"
  devices: "$DEMO/devices.csv"
channels:
  - { name: sms, type: file, path: sms.log, addr: phone }
routing:
  people:
    - levels: [township]
      roles: [duty_officer]
      channels: [sms]
      answer: true
    - levels: [village]
      roles: [responsible]
      channels: [sms]
      answer: true
escalation:
  policies:
    - levels: [township, village]
      steps:
        - { after: 5m, do: unreachable }
YAML
if "$GONGD" --check-config "$T/gong.yaml" >"$T/check.out" 2>&1; then
	ok "the configuration is valid"
else
	not_ok "the configuration is valid"
	sed 's/^/#   /' "$T/check.out"
fi
GONG_TEST_CLOCK_FILE=$CLOCK start_gongd r --config "$T/gong.yaml" \
    --data-dir "$D" --listen "127.0.0.1:$GPORT" ||
    { not_ok "gongd starts"; finish; exit 1; }
U=$URL_r
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
code_of() { curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
# The clock: offset ms ahead of the real time (read every 20 ms).
set_clock() { echo "$1" >"$CLOCK.tmp" && mv "$CLOCK.tmp" "$CLOCK"; \
    sleep 0.2; }

cat >"$T/alert.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>report-1</identifier>
  <sender>14042541600000</sender>
  <sent>2026-07-15T11:30:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>CMA_SIGNAL</valueName><value>0204</value></eventCode>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>长治市气象台</senderName>
    <headline>青羊镇、彭家口村暴雨红色预警</headline>
    <description>降水量已达100毫米以上。</description>
    <instruction>立即转移。</instruction>
    <area>
      <areaDesc>青羊镇、彭家口村</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100000</value></geocode>
      <geocode><valueName>GB/T 2260</valueName><value>140403100201</value></geocode>
    </area>
  </info>
</alert>
XML
A=$(curl -s -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: application/cap+xml' \
    --data-binary @"$T/alert.xml" "$U/api/v1/cap" | jq .id)
check "alert stored ($A)" test "$A" -gt 0

# Who must answer, from the roster: active township duty officers of
# 青羊镇 and active responsible persons of its villages and 彭家口村.
python3 - "$DEMO/responders.csv" >"$T/who" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding='utf-8')):
    c = r['region']
    if r['active'] != 'yes':
        continue
    if c == '140425100000' and r['role'] == 'duty_officer':
        print('township', r['id'])
    elif (c.startswith('140425100') and c[9:] != '000' or
          c == '140403100201') and r['role'] == 'responsible':
        print('village', r['id'])
PY
NT=$(grep -c '^township ' "$T/who")
NV=$(grep -c '^village ' "$T/who")
check "the roster has people to answer ($NT township, $NV village)" \
    test "$NT" -ge 2 -a "$NV" -ge 25

# The escalation rows come once the plan is complete.
for _ in $(seq 1 600); do
	[ "$(get "alerts/$A/report" | jq '.totals.targeted')" -gt 0 ] \
	    2>/dev/null && break
	sleep 0.1
done
R=$(get "alerts/$A/report")
expect_eq "targeted: every person the answer rules reached" \
    "$(jq -c '[.totals.targeted, (.levels[] | select(.level == "township")
    | .counts.targeted), (.levels[] | select(.level == "village") |
    .counts.targeted)]' <<<"$R")" "[$((NT + NV)),$NT,$NV]"
# reached: the file channel's receipts (delivered) for everyone
for _ in $(seq 1 300); do
	[ "$(get "alerts/$A/report" | jq '.totals.reached')" = $((NT + NV)) ] &&
	    break
	sleep 0.1
done
R=$(get "alerts/$A/report")
expect_eq "reached: all of them, nobody answered yet" \
    "$(jq -c '.totals | [.reached, .answered, .rate_pct, .p50_s]' <<<"$R")" \
    "[$((NT + NV)),0,\"0.00%\",null]"

# answer OFFSET_S ID...: at the clock offset, each ID presses the link's
# 收到 button (a token made under the deployment's key).
KEY=$(cat "$D/answer.key")
answer() {
	local off=$1 id tok code
	shift
	set_clock $((off * 1000))
	for id in "$@"; do
		tok=$(python3 - "$KEY" "$A" "$id" <<'PY'
import base64, hashlib, hmac, sys
key, a, who = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
p = ('%s.%d.%s' % (a, 4102444800, who)).encode()
m = hmac.new(key, b'gong-answer-link-v1\n' + p, hashlib.sha256).digest()[:16]
e = lambda b: base64.urlsafe_b64encode(b).decode().rstrip('=')
print(e(p) + '.' + e(m))
PY
)
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
		    "$U/a/$tok")
		[ "$code" = 200 ] || echo "# answer $id: HTTP $code"
	done
}
mapfile -t V < <(sed -n 's/^village //p' "$T/who" | sort)
mapfile -t TW < <(sed -n 's/^township //p' "$T/who" | sort)
answer 10 "${V[@]:0:5}"
answer 40 "${V[@]:5:5}" "${TW[0]}"
answer 100 "${V[@]:10:5}"
answer 160 "${V[@]:15:3}"
answer 250 "${V[@]:18:2}"
R=$(get "alerts/$A/report")
echo "$R" >"$T/report.json"

# The times as stored, and their nearest-rank percentiles.
DB=$(ls "$D"/*.db | head -1)
sqlite3 -readonly -separator ' ' "$DB" "SELECT e.responder_id,
    min(a.received_ms) - e.base_ms FROM escalations e JOIN answers a ON
    a.alert_id = e.alert_id AND a.responder_id = e.responder_id WHERE
    e.alert_id = $A GROUP BY e.responder_id" >"$T/times"
# pct LEVEL P: nearest-rank P of the level's times (all: every level)
pct() {
	python3 - "$T/times" "$T/who" "$1" "$2" <<'PY'
import math, sys
lv = dict(reversed(l.split()) for l in open(sys.argv[2]))
t = sorted(int(l.split()[1]) for l in open(sys.argv[1])
           if sys.argv[3] == 'all' or lv[l.split()[0]] == sys.argv[3])
print(t[max(1, math.ceil(int(sys.argv[4]) * len(t) / 100)) - 1] if t
      else 'null')
PY
}
expect_eq "21 answers in the store" "$(grep -c . "$T/times")" 21
expect_eq "totals: answered, unanswered, 叫应率" \
    "$(jq -c '.totals | [.answered, .unanswered, .late]' <<<"$R")" \
    "[21,$((NT + NV - 21)),0]"
RATE=$(python3 -c "import sys
a, t = 21, $((NT + NV))
q = (a * 20000 + t) // (2 * t)
print('%d.%04d %d.%02d%%' % (q // 10000, q % 10000, q // 100, q % 100))")
expect_eq "totals: 叫应率 as a fraction and a percentage" \
    "$(jq -r '.totals | "\(.rate) \(.rate_pct)"' <<<"$R")" "$RATE"
expect_eq "township: 1 of $NT answered, at +40 s" \
    "$(jq -c '.levels[] | select(.level == "township") | .counts |
    [.targeted, .answered, .p50_ms, .p90_ms]' <<<"$R")" \
    "[$NT,1,$(pct township 50),$(pct township 90)]"
VRATE=$(python3 -c "q = (20 * 20000 + $NV) // (2 * $NV)
print('%d.%02d%%' % (q // 100, q % 100))")
expect_eq "village: 20 of $NV answered, $VRATE, p50 and p90 as stored" \
    "$(jq -c '.levels[] | select(.level == "village") | .counts |
    [.targeted, .answered, .rate_pct, .p50_ms, .p90_ms]' <<<"$R")" \
    "[$NV,20,\"$VRATE\",$(pct village 50),$(pct village 90)]"
expect_eq "totals: p50 and p90 as stored" \
    "$(jq -c '.totals | [.p50_ms, .p90_ms]' <<<"$R")" \
    "[$(pct all 50),$(pct all 90)]"
# Ranks: village p50 is the 10th of 20 (the +40 s group), p90 the 18th
# (+160 s); of all 21, p50 the 11th (+40 s), p90 the 19th (+160 s).
within() {	# MS LO_S: LO <= MS/1000 < LO + 30
	[ "$1" -ge $(($2 * 1000)) ] && [ "$1" -lt $((($2 + 30) * 1000)) ]
}
check "village p50 in the +40 s group ($(pct village 50) ms)" \
    within "$(pct village 50)" 40
check "village p90 in the +160 s group ($(pct village 90) ms)" \
    within "$(pct village 90)" 160
both() { within "$(pct all 50)" 40 && within "$(pct all 90)" 160; }
check "of all: p50 in the +40 s group, p90 in the +160 s group" both
# Compared as numbers: jq prints 46.720 as 46.72.
expect_eq "p50_s is p50_ms in seconds with ms" \
    "$(jq --argjson ms "$(pct all 50)" '.totals.p50_s == $ms / 1000' \
    <<<"$R")" true
expect_eq "city and county: nobody must answer there" \
    "$(jq -c '[.levels[] | select(.level == "city" or .level ==
    "county") | .counts | [.targeted, .rate]]' <<<"$R")" '[[0,null],[0,null]]'

# Regions: the tree from the city down, each village once.
expect_eq "the tree starts at the city, depth 0" \
    "$(jq -c '.regions[0] | [.code, .name, .depth, .parent]' <<<"$R")" \
    '["140400000000","长治市",0,null]'
expect_eq "the city's subtree is the totals" \
    "$(jq -c '.regions[0].subtree == .totals' <<<"$R")" true
expect_eq "青羊镇: own = its officers, subtree = officers + villages" \
    "$(jq -c '.regions[] | select(.code == "140425100000") |
    [.depth, .own.targeted, .own.answered, .subtree.targeted]' <<<"$R")" \
    "[2,$NT,1,$((NT + $(grep -c '^village 140425' "$T/who")))]"
expect_eq "彭家口村 under 潞州区 under the city" \
    "$(jq -c '[.regions[] | select(.code == "140403000000" or .code ==
    "140403100000" or .code == "140403100201") | .depth]' <<<"$R")" \
    '[1,2,3]'
# Each village's own counts from the answers the test gave.
python3 - "$T/who" "$T/times" <<'PY' >"$T/villages.want"
import collections, sys
who = [l.split() for l in open(sys.argv[1])]
ans = set(l.split()[0] for l in open(sys.argv[2]))
t = collections.Counter(); a = collections.Counter()
for lv, i in who:
    if lv == 'village':
        r = i.split('-')[0]
        t[r] += 1
        a[r] += i in ans
for r in sorted(t):
    print(r, t[r], a[r])
PY
jq -r '.regions[] | select(.level == "village") |
    "\(.code) \(.own.targeted) \(.own.answered)"' <<<"$R" \
    >"$T/villages.got"
expect_eq "every village: targeted and answered as injected" \
    "$(cat "$T/villages.got")" "$(cat "$T/villages.want")"

# Unreachable: the policy's step at +5 min marks whoever is silent.
set_clock 400000
for _ in $(seq 1 300); do
	[ "$(get "alerts/$A/report" | jq '.totals.unreachable')" = \
	    $((NT + NV - 21)) ] && break
	sleep 0.1
done
R=$(get "alerts/$A/report")
expect_eq "after +5 min the silent ones are unreachable, answered ones not" \
    "$(jq -c '.totals | [.unreachable, .answered]' <<<"$R")" \
    "[$((NT + NV - 21)),21]"

# The unanswered list: who, phone, last attempt.
UN=$(get "alerts/$A/unanswered")
expect_eq "unanswered: the others" "$(jq -c '[.total,
    (.unanswered | length)]' <<<"$UN")" "[$((NT + NV - 21)),$((NT + NV - 21))]"
expect_eq "the township officer who did not answer is listed, with phone" \
    "$(jq -c --arg id "${TW[1]}" '.unanswered[] | select(.responder_id ==
    $id) | [.role, (.phone | length > 0), .region.code,
    .escalation.state, .last_attempt.channel, .last_attempt.state]' \
    <<<"$UN")" \
    '["duty_officer",true,"140425100000","unreachable","sms","delivered"]'
expect_eq "no one who answered is listed" \
    "$(jq -c --arg a "${V[0]}" --arg b "${TW[0]}" '[.unanswered[] |
    select(.responder_id == $a or .responder_id == $b)]' <<<"$UN")" '[]'
expect_eq "limit and offset" "$(get "alerts/$A/unanswered?limit=2&offset=1" |
    jq -c '[.total, (.unanswered | length), .unanswered[0].responder_id]')" \
    "[$((NT + NV - 21)),2,$(jq -c '.unanswered[1].responder_id' <<<"$UN")]"

# CSV: a BOM, CRLF, the download's name.
curl -s -D "$T/h" -o "$T/un.csv" -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$A/unanswered?format=csv"
expect_contains "unanswered CSV: an attachment" "$(tr -d '\r' <"$T/h")" \
    "Content-Disposition: attachment; filename=\"gong-alert-$A-unanswered.csv\""
expect_eq "unanswered CSV: BOM, header, one row each" \
    "$(head -c 3 "$T/un.csv" | od -An -tx1 | tr -d ' ')|$(grep -c $'\r$' \
    "$T/un.csv")" "efbbbf|$((NT + NV - 21 + 1))"
curl -s -D "$T/h" -o "$T/rep.csv" -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$A/report?format=csv"
expect_contains "report CSV: text/csv" "$(tr -d '\r' <"$T/h")" \
    "Content-Type: text/csv; charset=utf-8"
expect_eq "report CSV: one row a region of the JSON" \
    "$(($(grep -c . "$T/rep.csv") - 1))" "$(jq '.regions | length' <<<"$R")"
expect_contains "report CSV: the city's row, subtree counts" \
    "$(cat "$T/rep.csv")" \
    "$A,140400000000,长治市,city,,0,0,0,0,0,0,0,,,,,$((NT + NV)),$((NT + NV)),21,"

expect_eq "unknown alert: 404" "$(code_of alerts/999999/report)" 404
expect_eq "bad id: 400" "$(code_of alerts/x1/unanswered)" 400
expect_eq "bad format: 400" "$(code_of "alerts/$A/report?format=xml")" 400
expect_eq "no token: 401" "$(curl -s -o /dev/null -w '%{http_code}' \
    "$U/api/v1/alerts/$A/report")" 401

M=$(curl -s "$U/metrics")
expect_contains "metrics: targeted" "$M" \
    "gong_answer_targeted{alert=\"$A\"} $((NT + NV))"
expect_contains "metrics: answered" "$M" \
    "gong_answer_answered{alert=\"$A\"} 21"
expect_contains "metrics: answers by path" "$M" \
    'gong_answers_total{path="link"} 21'

OUT=$("$GONG" --url "$U" --token "$TOK" report "$A")
expect_eq "gong report: exit 0" "$?" 0
expect_contains "gong report: the 叫应率" "$OUT" \
    "叫应率 $(jq -r .totals.rate_pct <<<"$R") (21 of $((NT + NV)) answered)"
expect_contains "gong report: the village level" "$OUT" "village (村)"
expect_contains "gong report: 青羊镇's row" "$OUT" "青羊镇 140425100000"
"$GONG" --url "$U" --token "$TOK" report 999999 >/dev/null 2>&1
expect_eq "gong report of an unknown alert: exit 6" "$?" 6
OUT=$("$GONG" --url "$U" --token "$TOK" unanswered "$A")
expect_contains "gong unanswered: count" "$OUT" \
    "Alert $A: $((NT + NV - 21)) not answered"
expect_eq "gong unanswered --csv: the API's CSV" \
    "$("$GONG" --url "$U" --token "$TOK" unanswered --csv "$A" | md5sum)" \
    "$(md5sum <"$T/un.csv")"

stop_gongd r
expect_eq "gongd stops cleanly" "$RC" 0
finish
