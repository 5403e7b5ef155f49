#!/bin/bash
# Integration: issue 4, e-mail.  gongd runs the demo roster with an smtp
# channel "mail" at the local SMTP fake (smtp_fake.py on 127.0.0.1, AUTH
# required, no TLS: starttls off is allowed to loopback only, which
# --check-config shows by refusing the same block aimed elsewhere).  A
# routing rule sends village responsible persons' alerts by e-mail; a red
# alert for 后店村 reaches 何光志 (140425100201-5, u45238404@example.cn),
# the one of them with an address: the fake gets one message, from
# 平顺县气象台 <warn@example.cn>, its Subject the e-mail template's subject
# section (RFC 2047, decoded here by Python's email package), its body
# the rendered e-mail template, its Message-ID the delivery id; the
# delivery ends sent.  A second alert meets a 550 for him: the delivery
# fails with the server's words.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

for b in python3 jq curl; do
	command -v "$b" >/dev/null 2>&1 || { not_ok "$b installed"; finish;
	    exit 1; }
done

D=$T/var
mkdir -p "$D"
printf 's3cret-mail\n' >"$D/smtp.pass"
chmod 600 "$D/smtp.pass"
MLOG=$T/mail.jsonl
MCTL=$T/control.json
python3 "$REPO/tests/integration/smtp_fake.py" --port-file "$T/smtp.port" \
    --log "$MLOG" --requests "$T/refused.jsonl" --control "$MCTL" \
    --auth "warn@example.cn:s3cret-mail" >"$T/smtp.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	[ -s "$T/smtp.port" ] && break
	sleep 0.1
done
SPORT=$(cat "$T/smtp.port" 2>/dev/null)
check "the SMTP fake starts ($SPORT)" test -n "$SPORT"
[ -n "$SPORT" ] || { finish; exit 1; }

DEMO=$REPO/config/demo
config() {	# URL
	cat <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: ./var
listen: 127.0.0.1:0
log_level: info
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$DEMO/responders.csv"
  devices: "$DEMO/devices.csv"
channels:
  - name: mail
    type: smtp
    url: $1
    from: 平顺县气象台 <warn@example.cn>
    username: warn@example.cn
    password_file: smtp.pass
    starttls: off
    timeout: 10s
routing:
  people:
    - levels: [village]
      roles: [responsible]
      colours: [blue, yellow, orange, red]
      channels: [mail]
YAML
}
config "smtp://127.0.0.1:$SPORT" >"$T/gong.yaml"
config "smtp://mail.example.cn:587" >"$T/bad.yaml"
out=$("$GONGD" --check-config "$T/bad.yaml" --data-dir "$D" 2>&1)
expect_contains "--check-config refuses a password in clear text off \
loopback, at its line" "$out" "bad.yaml:19: error: channels[0].starttls: \
'off' could send the password in clear text"
if "$GONGD" --check-config "$T/gong.yaml" --data-dir "$D" \
    >"$T/check.out" 2>&1; then
	ok "the configuration is valid"
else
	not_ok "the configuration is valid"
	sed 's/^/#   /' "$T/check.out"
fi

start_gongd m --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_m
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# post_alert IDENT HEADLINE: a red 暴雨 alert for 后店村; prints its id.
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
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>CMA_SIGNAL</valueName><value>0204</value></eventCode>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>$2</headline>
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

ADDR=u45238404@example.cn	# 何光志 (140425100201-5)
deliv() {	# ALERT FIELD: 何光志's e-mail delivery
	get "alerts/$1/deliveries?limit=100" | jq -r --arg a "$ADDR" \
	    ".deliveries[] | select(.address == \$a and .channel == \"mail\")
	    | $2"
}

A=$(post_alert smtp-a 后店村暴雨红色预警)
check "the alert is stored ($A)" test "$A" -gt 0
for _ in $(seq 1 300); do
	[ "$(deliv "$A" .state)" = sent ] && break
	sleep 0.1
done
expect_eq "何光志's e-mail delivery is sent" "$(deliv "$A" .state)" sent
expect_eq "only 何光志 (the responsible person with an address) gets mail" \
    "$(get "alerts/$A/deliveries?limit=100" | jq -r '[.deliveries[] |
    select(.channel == "mail") | .address] | join(" ")')" "$ADDR"
expect_eq "the fake accepted one message" "$(grep -c . "$MLOG")" 1
expect_eq "the envelope: warn@example.cn to $ADDR, authenticated" \
    "$(jq -c '[.mail_from, .rcpt_to, .auth]' "$MLOG")" \
    "[\"warn@example.cn\",[\"$ADDR\"],\"warn@example.cn\"]"
DID=$(deliv "$A" .id)

# The message, as a mail reader sees it (Python's email package).
jq -j .data "$MLOG" >"$T/msg.eml"
python3 - "$T/msg.eml" >"$T/msg.json" <<'PY'
import email, email.policy, json, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
lines = raw.split(b"\r\n")
print(json.dumps({
    "from": str(m["From"]), "to": str(m["To"]),
    "subject": str(m["Subject"]),
    "message_id": str(m["Message-ID"]), "ctype": m.get_content_type(),
    "charset": m.get_content_charset(),
    "cte": str(m["Content-Transfer-Encoding"]),
    "body": m.get_content(), "longest": max(len(l) for l in lines),
    "defects": len(m.defects)}, ensure_ascii=False))
PY
mj() { jq -r "$1" "$T/msg.json"; }
expect_eq "From: 平顺县气象台 <warn@example.cn>" "$(mj .from)" \
    "平顺县气象台 <warn@example.cn>"
expect_eq "To: $ADDR" "$(mj .to)" "$ADDR"
expect_eq "Subject: the template's subject section" "$(mj .subject)" \
    "【平顺县气象台】暴雨红色预警"
check "... sent as RFC 2047 UTF-8 words" grep -q '^Subject: =?UTF-8?B?' \
    "$T/msg.eml"
expect_eq "Message-ID: the delivery id" "$(mj .message_id)" \
    "<gong-$DID@example.cn>"
expect_eq "text/plain; charset=utf-8, base64, no defects, lines <= 76" \
    "$(mj '[.ctype, .charset, .cte, .defects, (.longest <= 76)] |
    join(" ")')" "text/plain utf-8 base64 0 true"
BODY=$(mj .body)
expect_contains "the body greets 何光志" "$BODY" "何光志"
expect_contains "the body: the rendered e-mail template" "$BODY" \
    "平顺县气象台于2026年7月15日11时30分发布暴雨红色预警。"
expect_contains "the body: the headline" "$BODY" "后店村暴雨红色预警"
expect_contains "the body: the description" "$BODY" \
    "后店村降水量已达100毫米以上。"
expect_contains "the body: the instruction" "$BODY" "防御指南：立即转移。"

# A second alert: the server has no such user now.
echo "{\"rcpt\": {\"$ADDR\": [550, \"5.1.1 <$ADDR>: Recipient address \
rejected: User unknown\"]}}" >"$MCTL"
B=$(post_alert smtp-b 后店村暴雨红色预警（更新）)
check "the second alert is stored ($B)" test "$B" -gt "$A"
for _ in $(seq 1 300); do
	[ "$(deliv "$B" .state)" = failed ] && break
	sleep 0.1
done
expect_eq "550: the delivery fails" "$(deliv "$B" .state)" failed
expect_contains "... with the server's words" "$(deliv "$B" .last_error)" \
    "550 5.1.1 <$ADDR>: Recipient address rejected: User unknown"
expect_eq "the fake accepted nothing more" "$(grep -c . "$MLOG")" 1

stop_gongd m
expect_eq "gongd stops cleanly" "$RC" 0
finish
