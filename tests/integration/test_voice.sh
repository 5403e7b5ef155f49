#!/bin/bash
# Integration: issue 5 (叫应) by telephone, through the voice-http channel
# and the local Tencent Cloud VMS fake (voice_gateway_fake.py, which
# checks the TC3-HMAC-SHA256 signature and the SendTtsVoice fields).  A
# routing rule with answer: true sends a red alert for 后店村 by voice to
# the village's responsible persons (郑庆海, 何光志): the fake gets one
# call each, the rendered voice script as the template's parameter and the
# delivery id as SessionContext.  郑庆海 presses 1: GET
# /api/v1/alerts/{id}/answers shows his answer, path voice; 何光志 presses
# 2: nothing recorded; 郑庆海's call ends answered (VMS's status
# callback): delivered.  gongd is restarted; 何光志 then presses 1: the
# driver has forgotten the CallId, the engine finds the delivery by it,
# his answer is recorded, path voice.  A second alert: 何光志's call ends
# "not answered": that delivery is failed with the reason.  A hostile
# callback is refused (400) and changes nothing.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { not_ok "python3"; finish; exit 1; }
command -v jq >/dev/null || { not_ok "jq"; finish; exit 1; }

GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
D=$T/var
mkdir -p "$D"
CBSECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$CBSECRET" >"$D/callback.secret"
printf 'AKIDgongvoice\n' >"$D/vms.id"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/vms.key"
echo >>"$D/vms.key"
chmod 600 "$D/callback.secret" "$D/vms.id" "$D/vms.key"

python3 "$REPO/tests/integration/voice_gateway_fake.py" \
    --port-file "$T/vms.port" --log "$T/calls.jsonl" \
    --requests "$T/requests.jsonl" \
    --callback "http://127.0.0.1:$GPORT/cb/$CBSECRET/voice" \
    --secret-id AKIDgongvoice --secret-key-file "$D/vms.key" \
    --app-id 1400006666 --template-id 4356 >"$T/vms.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	[ -s "$T/vms.port" ] && break
	sleep 0.1
done
VPORT=$(cat "$T/vms.port" 2>/dev/null)
check "the VMS fake starts ($VPORT)" test -n "$VPORT"
[ -n "$VPORT" ] || { finish; exit 1; }
V=http://127.0.0.1:$VPORT

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
  - name: voice
    type: voice-http
    url: "$V/"
    secret_id_file: vms.id
    secret_key_file: vms.key
    app_id: "1400006666"
    template_id: "4356"
    play_times: 2
routing:
  people:
    - levels: [village]
      roles: [responsible]
      colours: [blue, yellow, orange, red]
      channels: [voice]
      answer: true
YAML
if "$GONGD" --check-config "$T/gong.yaml" >"$T/check.out" 2>&1; then
	ok "the configuration is valid"
else
	not_ok "the configuration is valid"
	sed 's/^/#   /' "$T/check.out"
fi
start_gongd v --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_v
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# post_alert IDENT EVENT HEADLINE: a red alert for 后店村; prints its id.
post_alert() {
	cat >"$T/$1.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>$1</identifier>
  <sender>14042541600000</sender>
  <sent>2026-07-15T11:30:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>$2</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>CMA_SIGNAL</valueName><value>0204</value></eventCode>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>$3</headline>
    <description>后店村降水量已达100毫米以上。</description>
    <instruction>立即转移。</instruction>
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
A=$(post_alert voice-a 暴雨 后店村暴雨红色预警)
check "the alert is stored ($A)" test "$A" -gt 0

P1=10045045320		# 郑庆海, responsible
P5=10045238404		# 何光志, responsible
ncalls() { grep -c . "$T/calls.jsonl" 2>/dev/null || echo 0; }
for _ in $(seq 1 300); do
	[ "$(ncalls)" -ge 2 ] && break
	sleep 0.1
done
expect_eq "the fake gets one call for each responsible person" \
    "$(jq -r .to "$T/calls.jsonl" | sort | tr '\n' ' ')" "$P1 $P5 "
call() { jq -c --arg p "$1" "select(.to == \$p) | $2" "$T/calls.jsonl"; }
expect_eq "called as +86 numbers, template 4356, app 1400006666, 2 plays" \
    "$(call $P1 '[.called, .template, .app, .play_times, (.params |
    length)]')" "[\"+86$P1\",\"4356\",\"1400006666\",2,1]"
S1=$(call $P1 .text)
expect_contains "郑庆海's call speaks to him" "$S1" "郑庆海您好"
expect_contains "the voice script: the alert" "$S1" \
    "平顺县气象台七月十五日十一时三十分发布暴雨红色预警"
expect_contains "the voice script: numbers read out" "$S1" \
    "后店村降水量已达一百毫米以上"
expect_contains "the voice script: how to answer" "$S1" "确认收到请按"
expect_contains "何光志's call speaks to him" "$(call $P5 .text)" \
    "何光志您好"
expect_eq "every request passed the fake's signature check" \
    "$(jq -r .code "$T/requests.jsonl" | sort -u)" OK

deliv() {	# PHONE FIELD (of alert ${AL:-$A})
	get "alerts/${AL:-$A}/deliveries?limit=100" | jq -r --arg p "$1" \
	    ".deliveries[] | select(.address == \$p and .channel == \"voice\")
	    | $2"
}
for _ in $(seq 1 100); do
	[ "$(deliv $P1 .state)" = sent ] && [ "$(deliv $P5 .state)" = sent ] &&
	    break
	sleep 0.1
done
expect_eq "both deliveries sent" "$(deliv $P1 .state),$(deliv $P5 .state)" \
    "sent,sent"
expect_eq "the delivery id is the call's SessionContext" \
    "$(call $P1 .session)" "\"$(deliv $P1 .id)\""
expect_eq "the CallId is the delivery's gateway id" \
    "$(call $P1 .callid)" "\"$(deliv $P1 .gateway_id)\""

answers() { get "alerts/$A/answers"; }
press() {	# PHONE KEY: the callback's HTTP status
	curl -s -d "{\"to\":\"$1\",\"key\":\"$2\"}" "$V/_fake/press" |
	    jq .status
}
expect_eq "no answer yet" "$(answers | jq -c '[.answered, .targeted]')" \
    "[0,2]"
expect_eq "郑庆海 presses 1: gongd takes the callback" "$(press $P1 1)" 200
for _ in $(seq 1 100); do
	[ "$(answers | jq .answered)" = 1 ] && break
	sleep 0.1
done
expect_eq "his answer is recorded, path voice, not late" \
    "$(answers | jq -c '.answers[] | [.responder_id, .name, .path,
    .late]')" '["140425100201-1","郑庆海","voice",false]'
expect_eq "何光志 presses 2: taken" "$(press $P5 2)" 200
expect_eq "pressing 1 again: taken" "$(press $P1 1)" 200
sleep 0.3
expect_eq "still one answer (2 is not an answer, 1 twice is once)" \
    "$(answers | jq -c '[.answered, [.answers[].responder_id]]')" \
    '[1,["140425100201-1"]]'

status() {	# PHONE RESULT
	curl -s -d "{\"to\":\"$1\",\"result\":\"$2\"}" "$V/_fake/status" |
	    jq .status
}
expect_eq "郑庆海's call: answered (VMS status 0)" "$(status $P1 0)" 200
for _ in $(seq 1 100); do
	[ "$(deliv $P1 .state)" = delivered ] && break
	sleep 0.1
done
expect_eq "郑庆海's delivery delivered" "$(deliv $P1 .state)" delivered

# gongd restarted while 何光志's call goes on: the driver no longer knows
# the CallId (it passes the key press on with the CallId alone) and the
# engine finds the delivery by its gateway id.
stop_gongd v
expect_eq "gongd stops cleanly" "$RC" 0
start_gongd v2 --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd restarts"; finish; exit 1; }
U=$URL_v2
expect_eq "after a restart, 何光志 presses 1: taken" "$(press $P5 1)" 200
for _ in $(seq 1 100); do
	[ "$(answers | jq .answered)" = 2 ] && break
	sleep 0.1
done
expect_eq "his answer is recorded by the CallId alone, path voice" \
    "$(answers | jq -c '[.answered, [.answers[] |
    select(.responder_id == "140425100201-5") | .path]]')" '[2,["voice"]]'

# Alert B: 何光志 does not pick up.
B=$(post_alert voice-b 山洪 后店村山洪红色预警)
check "alert B is stored ($B)" test "$B" -gt "$A"
for _ in $(seq 1 300); do
	[ "$(ncalls)" -ge 4 ] && break
	sleep 0.1
done
expect_eq "two more calls" "$(ncalls)" 4
for _ in $(seq 1 100); do
	[ "$(AL=$B deliv $P5 .state)" = sent ] && break
	sleep 0.1
done
expect_eq "何光志's call for B: not answered (VMS status 1)" \
    "$(status $P5 1)" 200
for _ in $(seq 1 100); do
	[ "$(AL=$B deliv $P5 .state)" = failed ] && break
	sleep 0.1
done
expect_eq "his delivery of B failed, with the reason" \
    "$(AL=$B deliv $P5 '[.state, .last_error] | @json')" \
    '["failed","not answered (未接听)"]'
expect_eq "alert A's delivery to him is untouched" "$(deliv $P5 .state)" sent

code=$(curl -s -o "$T/bad.out" -w '%{http_code}' \
    -d '{"voicekey_callback":{"callid":["x"],"keypress":"1"}}' \
    "$U/cb/$CBSECRET/voice")
expect_eq "a hostile callback: 400" "$code" 400
expect_contains "saying why" "$(cat "$T/bad.out")" "no callid"
code=$(curl -s -o /dev/null -w '%{http_code}' \
    -d '{"voicekey_callback":{"callid":"x","keypress":"1","mobile":"'$P5'"}}' \
    "$U/cb/wrongsecret/voice")
expect_eq "a wrong callback secret: 404" "$code" 404
expect_eq "nothing more recorded" \
    "$(answers | jq .answered),$(get "alerts/$B/answers" | jq .answered)" \
    "2,0"

stop_gongd v2
expect_eq "gongd stops cleanly again" "$RC" 0
finish
