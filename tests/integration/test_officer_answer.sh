#!/bin/bash
# Integration: issue 5 (叫应), a duty officer records an answer on a
# responder's behalf (reached by phone), POST /api/v1/alerts/{id}/answers
# and `gong answer`.  gongd with a routing rule that wants an answer
# (answer: true) and file channels; a red alert for the demo village
# 后店村 (140425100201).  The officer records 郑庆海's answer with curl
# (201, path officer, by and reason kept, an audit.answer log line with
# the caller's address) and 胡斌慧's with `gong answer` (exit 0); the
# same again is 200 "duplicate" (and exit 0 for gong); GET answers shows
# both with recorded_by and reason.  Refused: a person of another
# village (not sent the alert) and an unknown id are 422, an unknown
# alert 404, a missing field, a wrong type, an unknown field, broken or
# duplicate-key JSON and a NUL are 400 naming the problem, a body over
# 4 KiB 413, form data 415, no token 401.  After a Cancel the answer is
# kept but late.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { not_ok "jq"; finish; exit 1; }
GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
D=$T/var
mkdir -p "$D"
DEMO=$REPO/config/demo
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
    - levels: [village]
      roles: [duty_officer, leader, responsible, warner, grid_worker, info_officer, deputy]
      colours: [blue, yellow, orange, red]
      channels: [sms]
      answer: true
YAML
start_gongd o --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_o
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
answers() { get "alerts/$1/answers"; }
# post ALERT BODY [curl args...]: prints "STATUS BODY"
post() {
	local a=$1 b=$2; shift 2
	curl -s -o "$T/post.out" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/json' "$@" \
	    --data-binary "$b" "$U/api/v1/alerts/$a/answers"
	printf ' %s' "$(cat "$T/post.out")"
}
status_of() { printf '%s' "${1%% *}"; }
body_of() { printf '%s' "${1#* }"; }

# cap IDENT TYPE [REFERENCES]: a red alert (or its Cancel) for 后店村;
# prints its id.
cap() {
	local refs=""
	[ -n "${3:-}" ] && refs="<references>$3</references>"
	cat >"$T/$1.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>$1</identifier>
  <sender>14042541600000</sender>
  <sent>2026-07-15T11:3$([ "$2" = Cancel ] && echo 5 || echo 0):00+08:00</sent>
  <status>Actual</status>
  <msgType>$2</msgType>
  <scope>Public</scope>
  $refs
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>后店村暴雨红色预警</headline>
    <description>后店村降水量已达100毫米以上。</description>
    <area>
      <areaDesc>后店村</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100201</value></geocode>
    </area>
  </info>
</alert>
XML
	curl -s -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/$1.xml" "$U/api/v1/cap" | jq .id
}
sent_to() {	# ALERT RESPONDER: a delivery of the alert to them exists
	[ "$(get "alerts/$1/deliveries?limit=1000" | jq --arg r "$2" \
	    '[.deliveries[] | select(.responder_id == $r)] | length')" -ge 1 ]
}
wait_sent() {
	for _ in $(seq 1 100); do
		sent_to "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}

R1=140425100201-1	# 郑庆海
R3=140425100201-3	# 胡斌慧
A=$(cap officer-a Alert)
check "alert A stored ($A)" test "$A" -gt 0
check "郑庆海 was sent alert A" wait_sent "$A" $R1
check "胡斌慧 was sent alert A" wait_sent "$A" $R3

# --- curl --------------------------------------------------------------
BODY='{"responder_id":"'$R1'","reason":"reached by phone 09:12","note":"已通知全村","by":"王值班"}'
r=$(post "$A" "$BODY")
expect_eq "POST an officer's answer: 201" "$(status_of "$r")" 201
expect_eq "the answer as stored" "$(body_of "$r" | jq -c '[.alert_id,
    .responder_id, .name, .path, .late, .note, .recorded_by, .reason,
    .duplicate]')" \
    "[$A,\"$R1\",\"郑庆海\",\"officer\",false,\"已通知全村\",\"王值班\",\"reached by phone 09:12\",false]"
ID1=$(body_of "$r" | jq .id)
r=$(post "$A" "$BODY")
expect_eq "the same again: 200" "$(status_of "$r")" 200
expect_eq "duplicate: true, the same row" \
    "$(body_of "$r" | jq -c '[.duplicate, .id]')" "[true,$ID1]"
# The same fields in another order and spacing are the same answer.
r=$(post "$A" '{ "by":"王值班", "note":"已通知全村",
    "reason":"reached by phone 09:12", "responder_id":"'$R1'" }')
expect_eq "reordered keys: still a duplicate" \
    "$(status_of "$r") $(body_of "$r" | jq -c .duplicate)" "200 true"
check "an audit.answer line: who, what, from where" grep -q \
    "event=audit.answer alert=$A responder=\"$R1\" path=officer by=\"王值班\" reason=\"reached by phone 09:12\" from=127.0.0.1 outcome=recorded late=0" \
    "$T/o.log"
expect_eq "the duplicate is in the audit log too" \
    "$(grep -c "event=audit.answer alert=$A .* outcome=duplicate" "$T/o.log")" 2

# --- gong answer --------------------------------------------------------
G() { "$GONG" --url "$U" --token "$TOK" "$@"; }
out=$(G answer "$A" $R3 --reason "电话联系 09:20" --by 李值班 2>&1)
expect_eq "gong answer: exit 0" "$?" 0
expect_eq "gong answer says so" "$out" \
    "recorded: 胡斌慧 ($R3) answered alert $A, recorded by 李值班: 电话联系 09:20"
out=$(G answer "$A" $R3 --reason "电话联系 09:20" --by 李值班 2>&1)
expect_eq "gong answer again: exit 0" "$?" 0
expect_contains "already recorded" "$out" "already recorded: 胡斌慧"
out=$(G answer "$A" $R3 --reason "电话联系 09:20" --by 李值班 --json)
expect_eq "gong answer --json: gongd's document" \
    "$(printf '%s' "$out" | jq -c '[.path, .duplicate, .recorded_by]')" \
    '["officer",true,"李值班"]'
G answer "$A" 140425100202-1 --reason x --by 李值班 >"$T/g.out" 2>"$T/g.err"
expect_eq "gong answer for someone not sent the alert: exit 1" "$?" 1
expect_contains "with gongd's reason" "$(cat "$T/g.err")" \
    "gong: error: responder 140425100202-1 (暴丹宇) was not sent alert $A"
G answer 999999 $R3 --reason x --by 李值班 >/dev/null 2>"$T/g.err"
expect_eq "gong answer for an unknown alert: exit 1" "$?" 1
expect_contains "not found" "$(cat "$T/g.err")" "alert 999999 not found"
G answer "$A" $R3 --reason x >/dev/null 2>"$T/g.err"
expect_eq "gong answer without --by: exit 2" "$?" 2
expect_contains "names --by" "$(cat "$T/g.err")" "--by is required"

expect_eq "GET answers: both, path officer, with by and reason" \
    "$(answers "$A" | jq -c '[.answers[] | [.responder_id, .path,
    .recorded_by, .reason]]')" \
    "[[\"$R1\",\"officer\",\"王值班\",\"reached by phone 09:12\"],[\"$R3\",\"officer\",\"李值班\",\"电话联系 09:20\"]]"
expect_eq "answered: 2 people" "$(answers "$A" | jq .answered)" 2

# --- refused --------------------------------------------------------------
r=$(post "$A" '{"responder_id":"140425100202-1","reason":"x","by":"王"}')
expect_eq "a person of another village: 422" "$(status_of "$r")" 422
expect_eq "not_sent, with a clear message" \
    "$(body_of "$r" | jq -c '[.error.code, .error.message]')" \
    "[\"not_sent\",\"responder 140425100202-1 (暴丹宇) was not sent alert $A: no delivery of it to them\"]"
r=$(post "$A" '{"responder_id":"nobody-1","reason":"x","by":"王"}')
expect_eq "an unknown responder: 422 unknown_responder" \
    "$(status_of "$r") $(body_of "$r" | jq -r .error.message)" \
    '422 there is no responder "nobody-1"'
r=$(post 999999 "$BODY")
expect_eq "an unknown alert: 404" \
    "$(status_of "$r") $(body_of "$r" | jq -r .error.message)" \
    "404 alert 999999 not found"
# bad BODY WANT: 400 with that message
bad() {
	local r
	r=$(post "$A" "$1")
	expect_eq "400: $2" \
	    "$(status_of "$r") $(body_of "$r" | jq -r .error.message)" \
	    "400 $2"
}
bad '{"responder_id":"'$R1'","by":"王"}' "reason is required"
bad '{"responder_id":"'$R1'","reason":"x"}' "by is required"
bad '{"reason":"x","by":"王"}' "responder_id is required"
bad '{"responder_id":7,"reason":"x","by":"王"}' "responder_id must be a string"
bad '{"responder_id":"'$R1'","reason":"  ","by":"王"}' "reason must not be empty"
bad '{"responder_id":"'$R1'","reason":"x","by":"王","note":["a"]}' \
    "note must be a string"
bad '{"responder_id":"'$R1'","reason":"x","by":"王","who":"me"}' \
    'unknown field "who" (want responder_id, reason, note, by)'
bad '{"responder_id":" '$R1'","reason":"x","by":"王"}' \
    "responder_id has control characters or surrounding blanks"
bad '{"responder_id":"'$R1'","reason":"'$(printf 'x%.0s' $(seq 1 300))'","by":"王"}' \
    "reason is longer than 255 bytes"
bad '[1,2]' "the body must be a JSON object"
r=$(post "$A" '{"responder_id":"'$R1'","reason":"x", "by":')
expect_eq "broken JSON: 400 bad_json with where" \
    "$(status_of "$r") $(body_of "$r" | jq -r '.error.code')" "400 bad_json"
expect_contains "the parser's message" "$(body_of "$r" | jq -r .error.message)" \
    "the body is not JSON:"
r=$(post "$A" '{"responder_id":"'$R1'","reason":"x","reason":"y","by":"王"}')
expect_contains "a duplicate key: 400" "$(status_of "$r") $(body_of "$r" |
    jq -r .error.message)" "400 the body is not JSON: duplicate object key"
r=$(post "$A" '{"responder_id":"'$R1'","reason":"x\u0000y","by":"王"}')
expect_eq "a NUL in a string: 400" "$(status_of "$r")" 400
r=$(post "$A" $'\xff\xfe{}')
expect_eq "not UTF-8: 400" "$(status_of "$r")" 400
head -c 5000 /dev/zero | tr '\0' ' ' >"$T/big.json"
r=$(post "$A" @"$T/big.json")
expect_eq "a body over 4 KiB: 413" \
    "$(status_of "$r") $(body_of "$r" | jq -r .error.code)" \
    "413 body_too_large"
r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    --data 'responder_id=x' "$U/api/v1/alerts/$A/answers")
expect_eq "form data: 415" "$r" 415
r=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$BODY" "$U/api/v1/alerts/$A/answers")
expect_eq "no token: 401" "$r" 401
r=$(post abc "$BODY")
expect_eq "a bad id: 400" "$(status_of "$r")" 400
expect_eq "nothing recorded by the refused ones" \
    "$(answers "$A" | jq '.answers | length')" 2

# --- late ------------------------------------------------------------------
C=$(cap officer-c Cancel "14042541600000,officer-a,2026-07-15T11:30:00+08:00")
check "the Cancel stored ($C)" test "$C" -gt "$A"
for _ in $(seq 1 100); do
	[ "$(get "alerts/$A" | jq -r .alert.state)" != active ] && break
	sleep 0.1
done
expect_eq "alert A is no longer active" \
    "$(get "alerts/$A" | jq -r .alert.state)" cancelled
R7=140425100201-7
r=$(post "$A" '{"responder_id":"'$R7'","reason":"走访确认","by":"王值班"}')
expect_eq "after the Cancel: 201, kept but late" \
    "$(status_of "$r") $(body_of "$r" | jq -c '[.late, .path]')" \
    '201 [true,"officer"]'
expect_eq "late in the list too" "$(answers "$A" | jq -c --arg r $R7 \
    '[.answers[] | select(.responder_id == $r) | .late]')" '[true]'

stop_gongd o
expect_eq "gongd stops cleanly" "$RC" 0
finish
