#!/bin/bash
# Integration: issue 5 (叫应), answers by SMS reply through a real Kannel
# (bearerbox + smsbox + fakesmsc, ops/peers/kannel/start.sh) on 127.0.0.1.
# A red alert for 后店村 reaches 郑庆海's phone at the fake SMSC; the fake
# SMSC sends 收到 back from that phone; GET /api/v1/alerts/{id}/answers
# shows the answer against that person and that alert (path sms, not
# late), and the same reply again is recorded once.  Then a second alert
# for the village: a bare "1" from 胡斌慧 (two active alerts) records
# nothing and puts an SMS at the fake SMSC asking which, listing the
# codes, the same code its alert's SMS carried (routing rule with
# answer: true); "1 <code>" answers the alert that code names.  The
# answer link /a/{token} in 何光志's e-mail: GET shows the page (no
# JavaScript, a form that POSTs) and records nothing; POST records an
# answer by path link with the note; an altered or foreign token is
# refused with 403.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

KDIR=$T/kannel
stop_kannel() {
	[ -f "$KDIR/pids" ] && "$REPO/ops/peers/kannel/stop.sh" "$KDIR"
}
trap 'stop_kannel; cleanup' EXIT

for b in /usr/sbin/bearerbox /usr/sbin/smsbox /usr/lib/kannel/test/fakesmsc; do
	[ -x "$b" ] || { not_ok "Kannel installed ($b missing)"; finish; exit 1; }
done
command -v python3 >/dev/null || { not_ok "python3"; finish; exit 1; }

GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
mkdir -p "$T/var"
CBSECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$CBSECRET" >"$T/var/callback.secret"
chmod 600 "$T/var/callback.secret"
if ! KANNEL_OWNER_PID=$$ "$REPO/ops/peers/kannel/start.sh" "$KDIR" \
    "http://127.0.0.1:$GPORT/cb/$CBSECRET/sms" >"$T/kannel-start.log" 2>&1; then
	not_ok "Kannel starts"
	sed 's/^/#   /' "$T/kannel-start.log"
	finish
	exit 1
fi
ok "Kannel starts (bearerbox, smsbox, fakesmsc)"
kenv() { sed -n "s/^$1=//p" "$KDIR/env"; }
K_URL=$(kenv SENDSMS_URL)
K_USER=$(kenv USER)
K_PASS=$(kenv PASS)
K_LOG=$(kenv FAKESMSC_LOG)
K_FIFO=$(kenv MO_FIFO)

D=$T/var
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
  - name: sms
    type: kannel
    url: "$K_URL"
    username: "$K_USER"
    password: "$K_PASS"
    from: "12379"
    dlr: true
  - { name: sms-copy, type: file, path: sms-copy.log, addr: phone }
  - { name: mail, type: file, path: mail.log, addr: email }
routing:
  people:
    - levels: [village]
      roles: [duty_officer, leader, responsible, warner, grid_worker, info_officer, deputy]
      colours: [blue, yellow, orange, red]
      channels: [sms, sms-copy, mail]
      answer: true
YAML
if "$GONGD" --check-config "$T/gong.yaml" >"$T/check.out" 2>&1; then
	ok "the configuration is valid"
else
	not_ok "the configuration is valid"
	sed 's/^/#   /' "$T/check.out"
fi
start_gongd k --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_k
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# post_alert IDENT HEADLINE: a red alert for 后店村; prints its id.
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

# smsc_texts PHONE: the texts the fake SMSC got for PHONE (UCS-2 decoded,
# single-part messages only: enough for these short texts), one a line.
smsc_texts() {
	python3 - "$K_LOG" "$1" <<'PY'
import re, sys, urllib.parse
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    m = re.search(r'Got message \d+: <(.*)>\s*$', line)
    if not m:
        continue
    f = m.group(1).split(' ')
    if f[1] != sys.argv[2] or f[2] != 'ucs-2':
        continue
    b = urllib.parse.unquote_to_bytes(f[3].replace('+', '%20'))
    print(b.decode('utf-16-be', 'replace'))
PY
}
smsc_count() {	# PHONE: messages (or parts) the fake SMSC got for it
	grep -c "Got message [0-9]*: <12379 $1 " "$K_LOG"
}
wait_count() {	# PHONE N
	for _ in $(seq 1 200); do
		[ "$(smsc_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_ask() {	# PHONE: until a question (待确认) reached it
	for _ in $(seq 1 200); do
		smsc_texts "$1" | grep -q 待确认 && return 0
		sleep 0.1
	done
	return 1
}
mo() { printf '%s 12379 text %s\n' "$1" "$2" >"$K_FIFO"; }
answers() { get "alerts/$1/answers"; }
wait_answered() {	# ALERT N
	for _ in $(seq 1 100); do
		[ "$(answers "$1" | jq .answered)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

P1=10045045320		# 郑庆海, 140425100201-1
P3=10045141862		# 胡斌慧, 140425100201-3
A=$(post_alert answers-a 后店村暴雨红色预警)
check "alert A stored ($A)" test "$A" -gt 0
check "郑庆海 gets the alert at the fake SMSC" wait_count $P1 1
expect_eq "no answer yet" "$(answers "$A" | jq -c '[.answered,.answers]')" \
    '[0,[]]'
expect_eq "targeted: the village's active responders" \
    "$(answers "$A" | jq .targeted)" \
    "$(grep -c '^140425100201-[0-9]*,.*,yes,[a-z]*$' \
    "$DEMO/responders.csv")"

mo $P1 收到
check "the reply is recorded" wait_answered "$A" 1
expect_eq "against 郑庆海 and alert A, by sms, not late" \
    "$(answers "$A" | jq -c '.answers[] | [.responder_id, .name, .path,
    .late, .note]')" '["140425100201-1","郑庆海","sms",false,null]'
mo $P1 收到
for _ in $(seq 1 100); do
	[ "$(grep -c 'outcome=duplicate' "$T/k.log")" -ge 1 ] && break
	sleep 0.1
done
expect_eq "the same reply again is recorded once" \
    "$(answers "$A" | jq '.answers | length')" 1

B=$(post_alert answers-b 后店村山洪红色预警)
check "alert B stored ($B)" test "$B" -gt "$A"
for _ in $(seq 1 100); do
	[ "$(get "alerts/$B/deliveries?limit=1000" | jq '[.deliveries[] |
	    select(.address == "'$P3'" and .state == "delivered")] |
	    length')" = 1 ] && break
	sleep 0.1
done
N3=$(smsc_count $P3)
check "胡斌慧 gets both alerts ($N3 messages or parts)" test "$N3" -ge 2
mo $P3 1
check "a bare 1 with two alerts active: an SMS back asking which" \
    wait_ask $P3
ASK=$(smsc_texts $P3 | grep 待确认)
expect_contains "the question lists alert B's code and headline" "$ASK" \
    "后店村山洪红色预警"
expect_contains "and alert A's" "$ASK" "后店村暴雨红色预警"
CODE_B=$(printf '%s' "$ASK" | grep -o '[0-9]\{4\} 后店村山洪' | cut -c1-4)
check "a 4-digit code for B ($CODE_B)" test ${#CODE_B} = 4
expect_eq "nothing recorded for 胡斌慧" \
    "$(answers "$A" | jq '.answered'),$(answers "$B" | jq '.answered')" \
    "1,0"
expect_eq "the question is a delivery of kind ask on sms" \
    "$(get "alerts/$B/deliveries?limit=1000" | jq -c '[.deliveries[] |
    select(.kind == "ask") | [.address, .channel]]')" \
    "[[\"$P3\",\"sms\"]]"
# The alert's own SMS carried that code (answer: true in the routing
# rule): sms-copy has what gongd rendered for the phone.
for _ in $(seq 1 100); do
	[ "$(grep -c . "$D/sms-copy.log" 2>/dev/null)" -ge 2 ] && break
	sleep 0.1
done
expect_contains "alert B's SMS to 胡斌慧 asks for that code" \
    "$(jq -r --arg p $P3 'select(.to == $p) | .text' "$D/sms-copy.log")" \
    "请回复${CODE_B}确认收到"
mo $P3 "1 $CODE_B 已通知"
check "1 <code> answers alert B" wait_answered "$B" 1
expect_eq "by 胡斌慧, with the note" \
    "$(answers "$B" | jq -c '.answers[] | [.responder_id, .late, .note]')" \
    '["140425100201-3",false,"已通知"]'
expect_eq "alert A still has only 郑庆海" \
    "$(answers "$A" | jq -c '[.answers[].responder_id]')" \
    '["140425100201-1"]'
expect_eq "an unknown alert: 404" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" "$U/api/v1/alerts/999999/answers")" 404
expect_eq "no token: 401" "$(curl -s -o /dev/null -w '%{http_code}' \
    "$U/api/v1/alerts/$A/answers")" 401

# The link in the e-mail to 何光志 (140425100201-5) for alert A.
for _ in $(seq 1 100); do
	[ -s "$D/mail.log" ] && break
	sleep 0.1
done
LINK=$(jq -r --argjson a "$A" 'select(.to == "u45238404@example.cn") |
    .text' "$D/mail.log" | grep -o 'http://[^ ]*/a/[A-Za-z0-9_.-]*' | head -1)
expect_contains "the e-mail carries the answer link" "$LINK" "$U/a/"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' "$LINK")
expect_eq "GET the link page: 200" "$code" 200
expect_contains "a form that POSTs, with the 收到 button" \
    "$(cat "$T/page.html")" '<form method="post">'
expect_contains "the button" "$(cat "$T/page.html")" \
    '<button type="submit">收到</button>'
expect_contains "the person named" "$(cat "$T/page.html")" 何光志
expect_eq "no script on the page" "$(grep -ci '<script' "$T/page.html")" 0
curl -s -o /dev/null "$LINK"
curl -s -o /dev/null -I "$LINK"
expect_eq "opening the page (three times) recorded nothing" \
    "$(answers "$A" | jq -c '[.answers[].responder_id]')" \
    '["140425100201-1"]'
code=$(curl -s -o "$T/thanks.html" -w '%{http_code}' \
    --data-urlencode 'note=已通知全村 <b>' "$LINK")
expect_eq "POST (the button): 200" "$code" 200
expect_contains "a thank-you page" "$(cat "$T/thanks.html")" 已收到您的确认
expect_eq "the answer recorded: 何光志, by link, with the note" \
    "$(answers "$A" | jq -c '.answers[] | select(.path == "link") |
    [.responder_id, .name, .late, .note]')" \
    '["140425100201-5","何光志",false,"已通知全村 <b>"]'
curl -s -o /dev/null --data-urlencode 'note=已通知全村 <b>' "$LINK"
expect_eq "pressed twice: one answer" \
    "$(answers "$A" | jq '[.answers[] | select(.path == "link")] |
    length')" 1
# Forged: the MAC of A's link with the payload of another alert; and
# a character of the MAC changed.
TOKA=${LINK##*/a/}
FORGED=$(python3 - "$TOKA" "$B" <<'PY'
import base64, sys
t, b = sys.argv[1], sys.argv[2]
p, m = t.split('.')
raw = base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)).decode()
a, e, r = raw.split('.', 2)
q = base64.urlsafe_b64encode(('%s.%s.%s' % (b, e, r)).encode()).decode()
print(q.rstrip('=') + '.' + m)
PY
)
expect_eq "a token turned to another alert: 403" "$(curl -s -o /dev/null \
    -w '%{http_code}' -X POST "$U/a/$FORGED")" 403
M=${TOKA##*.}
FLIP=${TOKA%.*}.$([ "${M:0:1}" = A ] && echo B || echo A)${M:1}
expect_eq "a changed MAC: 403" "$(curl -s -o /dev/null -w '%{http_code}' \
    -X POST "$U/a/$FLIP")" 403
expect_eq "garbage: 403" "$(curl -s -o /dev/null -w '%{http_code}' \
    "$U/a/xyz")" 403
expect_eq "nothing recorded by the refused ones" \
    "$(answers "$B" | jq '.answers | length')" 1
# Expired: a token made under the same key with a past expiry.
KEY=$(cat "$D/answer.key")
EXPIRED=$(python3 - "$KEY" "$A" <<'PY'
import base64, hashlib, hmac, sys
key, a = sys.argv[1].encode(), sys.argv[2]
p = ('%s.%d.%s' % (a, 1000000000, '140425100201-5')).encode()
m = hmac.new(key, b'gong-answer-link-v1\n' + p, hashlib.sha256).digest()[:16]
e = lambda b: base64.urlsafe_b64encode(b).decode().rstrip('=')
print(e(p) + '.' + e(m))
PY
)
code=$(curl -s -o "$T/expired.html" -w '%{http_code}' "$U/a/$EXPIRED")
expect_eq "an expired link: 410" "$code" 410
expect_contains "said so" "$(cat "$T/expired.html")" 链接已过期

stop_gongd k
expect_eq "gongd stops cleanly" "$RC" 0
stop_kannel
check "Kannel stopped" test ! -e "$KDIR/pids"
finish
