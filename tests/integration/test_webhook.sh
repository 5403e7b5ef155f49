#!/bin/bash
# Integration: issue 4, acceptance 3 - messaging-app robots.  gongd runs
# on the demo regions with a small roster of its own: group chats of
# 青羊镇 and one of its villages (and one of another township) on a
# signed DingTalk channel "dingtalk" (url with {key}: the device address
# is the robot's key), and responders with Telegram ids on a Telegram
# channel "tg".  The robot fakes (robot_fakes.py) check DingTalk's
# signature and Telegram's payload; they answer "too fast" to the first
# three requests.  A red alert for 青羊镇 must put exactly one message
# at each expected group and chat (nobody else), with a 收到 button whose
# callback_data names the delivery, every delivery ending sent.  Then a
# press of the button (a Telegram update with the secret token) reaches
# gongd as a reply and the fake gets answerCallbackQuery; an update
# without the secret token is refused.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

for b in python3 jq curl; do
	command -v "$b" >/dev/null 2>&1 || { not_ok "$b installed"; finish;
	    exit 1; }
done

SECRET=dt-SEC-0123
TOKEN=424242:AAtest_token-x
HOOK=hook-secret_1
FLOG=$T/accepted.jsonl
FCTL=$T/control.json
python3 "$REPO/tests/integration/robot_fakes.py" --log "$FLOG" \
    --requests "$T/requests.jsonl" --control "$FCTL" --secret "$SECRET" \
    --keys qy-town,qy-houdian,other-town --bot-token "$TOKEN" \
    >"$T/fake.out" 2>"$T/fake.err" &
PIDS+=("$!")
for _ in $(seq 1 100); do
	[ -s "$T/fake.out" ] && break
	sleep 0.05
done
FPORT=$(sed -n 's/^PORT //p' "$T/fake.out")
check "the robot fakes start" test -n "$FPORT"
F=http://127.0.0.1:$FPORT

DEMO=$REPO/config/demo
cat >"$T/responders.csv" <<CSV
id,name,region,role,phone,telegram,active,exercise
CITY-D,暴永红,140400000000,duty_officer,13800000001,100000001,yes,no
CTY-D,段浩,140425000000,duty_officer,13800000002,100000002,yes,no
QY-D,王青,140425100000,duty_officer,13800000011,100000011,yes,no
HD-R,李后,140425100201,responsible,13800000012,100000012,yes,no
XL-W,赵小,140425100202,warner,13800000013,100000013,yes,no
NB-W,钱牛,140425100204,warner,13800000014,100000014,no,no
OT-R,孙他,140425101000,responsible,13800000015,100000015,yes,no
CSV
cat >"$T/devices.csv" <<CSV
id,region,kind,channel,address
GC-QY,140425100000,group_chat,dingtalk,qy-town
GC-HD,140425100201,group_chat,dingtalk,qy-houdian
GC-OT,140425101000,group_chat,dingtalk,other-town
CSV

D=$T/var
mkdir -p "$D"
printf '%s\n' "$SECRET" >"$D/dingtalk.secret"
printf '%s\n' "$TOKEN" >"$D/tg.token"
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: ./var
listen: 127.0.0.1:0
log_level: info
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$T/responders.csv"
  devices: "$T/devices.csv"
channels:
  - name: dingtalk
    type: webhook
    flavor: dingtalk
    url: "$F/dingtalk/robot/send?access_token={key}"
    secret_file: dingtalk.secret
    rate: 600/min
    too_fast_delay: 300ms
  - name: tg
    type: webhook
    flavor: telegram
    url: "$F"
    token_file: tg.token
    webhook_secret: $HOOK
    rate: 600/min
routing:
  ancestor_roles: [duty_officer]
  ancestor_channels: [tg]
  people:
    - roles: [duty_officer, responsible, warner]
      channels: [tg]
  devices:
    - kinds: [group_chat]
      colours: [yellow, orange, red]
YAML

# A config error names its line.
sed 's/flavor: dingtalk/flavor: dingding/' "$T/gong.yaml" >"$T/bad.yaml"
out=$("$GONGD" --check-config "$T/bad.yaml" --data-dir "$D" 2>&1)
expect_contains "--check-config names a bad flavour at its line" "$out" \
    "bad.yaml:15: error: channels[0].flavor: 'dingding' is not one of"
check "the configuration is valid" "$GONGD" --check-config "$T/gong.yaml" \
    --data-dir "$D"

start_gongd w --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_w
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# The first three requests are answered "too fast".
echo '{"too_fast": 3, "retry_after": 1}' >"$FCTL"
HEADLINE=平顺县气象台发布青羊镇暴雨红色预警信号
cat >"$T/red.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>14042541600000_20260715113000_webhook</identifier>
  <sender>14042541600000</sender>
  <sent>2026-07-15T11:30:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <responseType>Evacuate</responseType>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>$HEADLINE</headline>
    <instruction>立即转移山洪危险区群众。</instruction>
    <area>
      <areaDesc>青羊镇</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100</value></geocode>
    </area>
  </info>
</alert>
XML
code=$(curl -s -o "$T/r.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" -H 'Content-Type: application/cap+xml' \
    --data-binary @"$T/red.xml" "$U/api/v1/cap")
expect_eq "red alert for 青羊镇: 201" "$code" 201
A=$(jq .id "$T/r.json")

# Until all 7 deliveries are sent (too-fast retries included); 30 s.
for _ in $(seq 1 300); do
	get "alerts/$A/deliveries?limit=100" >"$T/d.json"
	s=$(jq -r '[.deliveries[].state] | unique | join(" ")' "$T/d.json")
	n=$(jq '.total' "$T/d.json")
	[ "$s" = sent ] && [ "$n" = 7 ] && break
	sleep 0.1
done
expect_eq "7 deliveries, all sent" "$n $s" "7 sent"
expect_eq "the groups of 青羊镇 and 后店村 on dingtalk" \
    "$(jq -r '[.deliveries[] | select(.channel == "dingtalk") |
    .address] | sort | join(" ")' "$T/d.json")" "qy-houdian qy-town"
expect_eq "the Telegram chats of the subtree and the officers above" \
    "$(jq -r '[.deliveries[] | select(.channel == "tg") | .address] |
    sort | join(" ")' "$T/d.json")" \
    "100000001 100000002 100000011 100000012 100000013"
check "the too-fast answers cost attempts (retried)" \
    test "$(jq '[.deliveries[].attempts] | add' "$T/d.json")" -ge 10

# What the fakes accepted: exactly these, once each.
expect_eq "DingTalk (signature checked): one message per group" \
    "$(jq -r 'select(.flavor == "dingtalk") | .key' "$FLOG" | sort |
    tr '\n' ' ')" "qy-houdian qy-town "
expect_eq "Telegram: one message per chat" \
    "$(jq -r 'select(.flavor == "telegram" and .kind == null) | .to' \
    "$FLOG" | sort | tr '\n' ' ')" \
    "100000001 100000002 100000011 100000012 100000013 "
expect_eq "each button carries its delivery id" \
    "$(jq -r 'select(.flavor == "telegram") |
    "\(.to) \(.callback_data)"' "$FLOG" | sort)" \
    "$(jq -r '.deliveries[] | select(.channel == "tg") |
    "\(.address) ack:\(.id)"' "$T/d.json" | sort)"
check "the texts are gongd's (the alert's words)" test "$(jq -r \
    'select(.text | test("暴雨") and test("青羊镇")) | .flavor' "$FLOG" |
    wc -l)" = 7
check "the fake answered too fast three times" test \
    "$(jq -r 'select(.code == 130101 or .code == 429) | .code' \
    "$T/requests.jsonl" | wc -l)" = 3

# The button pressed by 王青 (chat 100000011).
DID=$(jq -r '.deliveries[] | select(.address == "100000011") | .id' \
    "$T/d.json")
UPD=$(jq -nc --arg d "ack:$DID" '{update_id: 9, callback_query: {
    id: "cbq-1", from: {id: 100000011}, data: $d,
    message: {message_id: 1, chat: {id: 100000011}}}}')
CBS=$(cat "$D/callback.secret")
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Telegram-Bot-Api-Secret-Token: $HOOK" --data "$UPD" \
    "$U/cb/tg/update")
expect_eq "an update to a URL without gongd's callback secret: 404" "$code" 404
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Telegram-Bot-Api-Secret-Token: $HOOK" --data "$UPD" \
    "$U/cb/wrong$CBS/tg/update")
expect_eq "an update with a wrong callback secret: 404" "$code" 404
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "$UPD" "$U/cb/$CBS/tg/update")
expect_eq "an update without the secret token: 403" "$code" 403
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Telegram-Bot-Api-Secret-Token: $HOOK" --data "$UPD" \
    "$U/cb/$CBS/tg/update")
expect_eq "the button press: 200" "$code" 200
for _ in $(seq 1 50); do
	grep -q '"cbq-1"' "$FLOG" && break
	sleep 0.1
done
expect_eq "the button is answered (answerCallbackQuery)" \
    "$(jq -r 'select(.kind == "answer") | .callback_query_id' "$FLOG")" \
    cbq-1
expect_contains "gongd took it as a reply from the chat" \
    "$(cat "$T/w.log")" "from=100000011"
TOKA=$(cat "$D/admin.token")
ans=$(curl -s -H "Authorization: Bearer $TOKA" "$U/api/v1/alerts/$A/answers")
expect_eq "the press is an answer of 王青 to the alert, by app" \
    "$(echo "$ans" | jq -r '[.answers[] | .name + " " + .path] | join(",")')" \
    "王青 app"
# The same button pressed again is one answer; a press of that button
# from another chat records nothing.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Telegram-Bot-Api-Secret-Token: $HOOK" --data "$UPD" \
    "$U/cb/$CBS/tg/update")
OTHER=$(jq -nc --arg d "ack:$DID" '{update_id: 10, callback_query: {
    id: "cbq-2", from: {id: 999}, data: $d,
    message: {message_id: 2, chat: {id: 999}}}}')
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Telegram-Bot-Api-Secret-Token: $HOOK" --data "$OTHER" \
    "$U/cb/$CBS/tg/update")
expect_eq "a press from another chat is taken (200)" "$code" 200
for _ in $(seq 1 30); do
	grep -q "outcome=wrong_chat" "$T/w.log" && break
	sleep 0.1
done
expect_contains "... but not as an answer" "$(cat "$T/w.log")" \
    "from=999 outcome=wrong_chat"
expect_eq "still one answer" "$(curl -s -H "Authorization: Bearer $TOKA" \
    "$U/api/v1/alerts/$A/answers" | jq '.answers | length')" 1

stop_gongd w
expect_eq "gongd stops cleanly" "$RC" 0
finish
