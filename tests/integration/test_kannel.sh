#!/bin/bash
# Integration: issue 4, acceptance 1 - a red alert through gongd reaches
# every right phone at Kannel's fake SMSC.  A real Kannel (bearerbox +
# smsbox + fakesmsc, ops/peers/kannel/start.sh) on 127.0.0.1; gongd on the
# demo rosters with a `kannel` channel for every person and file channels
# for the demo devices.  A red CAP alert for 青羊镇 (140425100) must put
# exactly one SMS at the fake SMSC for every active responder of the
# township and its villages and for the duty officers of 平顺县 and 长治市,
# and for nobody else; the Chinese text decoded from UCS-2 must be what
# gongd rendered, its parts reassembled from their UDH one concatenated
# message; Kannel's receipts must move every SMS delivery to delivered; a
# handset's reply 收到 must reach gongd (logged); the loudspeakers and
# sirens of the villages get their command with the device payload.
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

# gongd's port must be known before Kannel starts (the sms-service's
# get-url points at gongd's /cb/<secret>/sms/mo); Kannel's own ports are chosen by
# start.sh.
GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
# Callbacks go to /cb/<secret>/<channel>/…; the secret is the data dir's
# callback.secret, which gongd makes at first start unless it is there:
# put one there first, as an operator configuring Kannel would read it.
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
# DIR/env is shell syntax, but USER would clobber ours: read by name.
kenv() { sed -n "s/^$1=//p" "$KDIR/env"; }
K_URL=$(kenv SENDSMS_URL)
K_USER=$(kenv USER)
K_PASS=$(kenv PASS)
K_LOG=$(kenv FAKESMSC_LOG)
K_FIFO=$(kenv MO_FIFO)

# The configuration: the demo rosters; every role of every level, and
# the duty officers above, by SMS through Kannel; loudspeakers and sirens
# for orange and red through the file channels the demo devices name.
# sms-copy, a file channel addressed by phone, gets what gongd renders
# for each phone (the SMS template of that person's region): the text
# the fake SMSC must show.
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
  - { name: loudspeaker, type: file, path: outbox.log, addr: device }
  - { name: siren, type: file, path: outbox.log, addr: device }
  - { name: radio, type: file, path: outbox.log, addr: device }
  - { name: wecom, type: file, path: outbox.log, addr: device }
routing:
  ancestor_roles: [duty_officer]
  ancestor_channels: [sms, sms-copy]
  people:
    - levels: [city, county, township, village]
      roles: [duty_officer, leader, responsible, warner, grid_worker, info_officer, deputy]
      colours: [blue, yellow, orange, red]
      channels: [sms, sms-copy]
  devices:
    - kinds: [loudspeaker, siren]
      colours: [orange, red]
YAML
check "the configuration is valid" "$GONGD" --check-config "$T/gong.yaml" \
    >"$T/check.out"
start_gongd k --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_k
expect_eq "gongd listens where Kannel's get-url points" "$U" \
    "http://127.0.0.1:$GPORT"
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# Who must be reached, from the roster through the API: the township's
# subtree (active responders), the duty officers of 平顺县 and 长治市.
get "regions/140425100/responders?subtree=1&limit=10000" >"$T/sub.json"
get "regions/140425/responders?limit=10000" >"$T/county.json"
get "regions/140400/responders?limit=10000" >"$T/city.json"
get "regions/140425100/devices?subtree=1&limit=10000" >"$T/dev.json"
{
	jq -r '.responders[] | select(.active) | .phone' "$T/sub.json"
	jq -r '.responders[] | select(.active and .role == "duty_officer") |
	    .phone' "$T/county.json" "$T/city.json"
} | sort >"$T/want.phones"
nwant=$(wc -l <"$T/want.phones")
check "the roster gives 150+ phones to reach ($nwant)" test "$nwant" -gt 150
expect_eq "no phone twice in the roster" "$(sort -u "$T/want.phones" |
    wc -l)" "$nwant"
expect_eq "the subtree has an inactive responder (must not be reached)" \
    "$(jq '[.responders[] | select(.active | not)] | length' \
    "$T/sub.json")" 1
jq -r '.responders[] | select(.active | not) | .phone' "$T/sub.json" \
    >"$T/inactive.phones"
jq -r '.devices[] | select(.kind == "loudspeaker" or .kind == "siren") |
    "\(.channel) \(.address)"' "$T/dev.json" | sort >"$T/want.devices"
expect_eq "26 loudspeakers and sirens in the villages" \
    "$(wc -l <"$T/want.devices")" 26

# The red alert: an instruction long enough for several SMS parts.
HEADLINE=平顺县气象台发布青羊镇暴雨红色预警信号
INSTR="1.立即组织山洪危险区、地质灾害隐患点、低洼易涝区域群众转移到安全地带；"
INSTR+="2.停止集会、停课、停业（除特殊行业外），关闭旅游景区；"
INSTR+="3.村（社区）预警员立即鸣锣、广播，逐户通知到人，不漏一户一人；"
INSTR+="4.做好山洪、滑坡、泥石流等灾害的防御和抢险工作。"
cat >"$T/red.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>14042541600000_20260715113000_kannel</identifier>
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
    <eventCode><valueName>CMA_SIGNAL</valueName><value>0204</value></eventCode>
    <effective>2026-07-15T11:30:00+08:00</effective>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>$HEADLINE</headline>
    <description>过去3小时青羊镇降水量已达100毫米以上，降雨仍将持续。</description>
    <instruction>$INSTR</instruction>
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
expect_eq "red alert: 201" "$code" 201
A=$(jq .id "$T/r.json")
expect_eq "the alert is red and active" \
    "$(jq -r '.colour + " " + .state' "$T/r.json")" "red active"

# decode_smsc LOG: one line per message the fake SMSC received, as
# "RECEIVER PARTS STATUS TEXT" (UCS-2 decoded; concatenated parts
# reassembled by their UDH reference; STATUS "ok", or what is wrong: a
# part missing or twice, or not as many parts as the text needs, 70
# characters alone or 67 per part; TEXT as a JSON string).
decode_smsc() {
	python3 - "$1" <<'PY'
import json, re, sys, urllib.parse

def dec(s):
    return urllib.parse.unquote_to_bytes(s.replace('+', '%20'))

msgs, concat = [], {}
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    m = re.search(r'Got message \d+: <(.*)>\s*$', line)
    if not m:
        continue
    f = m.group(1).split(' ')
    sender, to, kind = f[0], f[1], f[2]
    if sender != '12379':
        msgs.append((to, 1, 'sender ' + sender, ''))
        continue
    if kind == 'udh':
        udh, data = dec(f[3]), dec(f[5])
        if len(udh) != 6 or udh[:3] != b'\x05\x00\x03':
            msgs.append((to, 1, 'bad UDH', ''))
            continue
        k = (to, udh[3])
        concat.setdefault(k, {'total': udh[4], 'parts': {}, 'dup': 0})
        c = concat[k]
        if udh[5] in c['parts'] or c['total'] != udh[4]:
            c['dup'] += 1
        c['parts'][udh[5]] = data.decode('utf-16-be', 'replace')
    elif kind == 'ucs-2':
        msgs.append((to, 1, 'ok', dec(f[3]).decode('utf-16-be', 'replace')))
    else:
        msgs.append((to, 1, 'coding ' + kind, ''))
for (to, ref), c in concat.items():
    want = list(range(1, c['total'] + 1))
    st = 'ok' if sorted(c['parts']) == want and not c['dup'] else \
        'parts %s of %d' % (sorted(c['parts']), c['total'])
    msgs.append((to, len(c['parts']), st,
                 ''.join(c['parts'][i] for i in sorted(c['parts']))))
for to, n, st, text in sorted(msgs):
    units = len(text.encode('utf-16-be')) // 2
    need = 1 if units <= 70 else (units + 66) // 67
    if st == 'ok' and n != need:
        st = '%d parts for %d characters' % (n, units)
    print(to, n, st.replace(' ', '_'), json.dumps(text, ensure_ascii=False))
PY
}

# Wait until the fake SMSC has one message per phone (or 30 s).
for _ in $(seq 1 300); do
	decode_smsc "$K_LOG" >"$T/smsc.txt"
	[ "$(wc -l <"$T/smsc.txt")" -ge "$nwant" ] && break
	sleep 0.1
done
sleep 1		# anything more would be a duplicate: let it come
decode_smsc "$K_LOG" >"$T/smsc.txt"
cut -d' ' -f1 "$T/smsc.txt" | sort >"$T/got.phones"
expect_eq "one SMS for each of the $nwant phones at the fake SMSC" \
    "$(wc -l <"$T/smsc.txt")" "$nwant"
missing=$(comm -23 "$T/want.phones" "$T/got.phones" | tr '\n' ' ')
extra=$(comm -13 "$T/want.phones" "$T/got.phones" | tr '\n' ' ')
expect_eq "every responder and officer reached" "$missing" ""
expect_eq "nobody else reached" "$extra" ""
expect_eq "no phone got two messages" \
    "$(uniq -d "$T/got.phones" | tr '\n' ' ')" ""
expect_eq "the inactive responder got nothing" \
    "$(grep -cxFf "$T/inactive.phones" "$T/got.phones")" 0
miss=""
for o in 10044803965 10044852236 10020260520 10020308791; do
	grep -qx "$o" "$T/got.phones" || miss="$miss $o"
done
expect_eq "the duty officers of 平顺县 and 长治市 are among them" "$miss" ""
expect_eq "平顺县's leader (not a duty officer) is not" \
    "$(grep -cx 10044900507 "$T/got.phones")" 0

# The text: what gongd rendered for each phone (sms-copy), decoded from
# UCS-2 and reassembled from its parts, for everyone; long enough for
# several parts, each message whole.
jq -r 'select(.channel == "sms-copy") | "\(.to) \(.text | @json)"' \
    "$D/sms-copy.log" | sort >"$T/rendered.txt"
expect_eq "gongd rendered one SMS text per phone" \
    "$(cut -d' ' -f1 "$T/rendered.txt" | sort -u | wc -l)" "$nwant"
cut -d' ' -f1,4- "$T/smsc.txt" >"$T/smsc-text.txt"
if cmp -s "$T/smsc-text.txt" "$T/rendered.txt"; then
	ok "the Chinese text at the SMSC is gongd's, for every phone"
else
	not_ok "the Chinese text at the SMSC is gongd's, for every phone"
	diff "$T/rendered.txt" "$T/smsc-text.txt" | head -6 | sed 's/^/#   /'
fi
expect_eq "every message arrived whole, as one concatenated message" \
    "$(cut -d' ' -f3 "$T/smsc.txt" | sort | uniq -c | sed 's/^ *//')" \
    "$nwant ok"
check "the texts needed several parts (here $(cut -d' ' -f2 \
    "$T/smsc.txt" | sort -u | paste -sd,))" \
    test "$(cut -d' ' -f2 "$T/smsc.txt" | sort -n | head -1)" -ge 3
check "bearerbox split them with a concatenation header (UDH)" \
    grep -q 'udh %05%00%03' "$K_LOG"
# Whatever the template, the sender leads and the instruction is whole.
first=$(head -1 "$T/smsc.txt" | cut -d' ' -f4- | jq -r .)
expect_contains "the SMS begins with the sender in 【】" \
    "${first:0:8}" "【平顺县气象台】"
expect_contains "the SMS carries the whole instruction" "$first" "$INSTR"

# The outbox: one sms delivery per phone, and the devices.
get "alerts/$A/deliveries?channel=sms&limit=10000" >"$T/del-sms.json"
jq -r '.deliveries[].address' "$T/del-sms.json" | sort >"$T/del.phones"
if cmp -s "$T/del.phones" "$T/want.phones"; then
	ok "the sms deliveries are the phones reached"
else
	not_ok "the sms deliveries are the phones reached"
	diff "$T/want.phones" "$T/del.phones" | head -6 | sed 's/^/#   /'
	jq -c '[.deliveries[] | {state, address, kind}] | group_by(.state) |
	    map({(.[0].state): length}) | add' "$T/del-sms.json" |
	    sed 's/^/#   states: /'
fi

# Receipts: Kannel's fake SMSC sends type 8, then 1 (delivered).
for _ in $(seq 1 300); do
	get "alerts/$A/deliveries?channel=sms&limit=10000" >"$T/del-sms.json"
	[ "$(jq '[.deliveries[] | select(.state == "delivered")] | length' \
	    "$T/del-sms.json")" = "$nwant" ] && break
	sleep 0.1
done
expect_eq "receipts: every sms delivery is delivered" \
    "$(jq -c '.counts.by_channel.sms' "$T/del-sms.json")" \
    "{\"delivered\":$nwant}"
expect_eq "each after one attempt" \
    "$(jq -c '[.deliveries[].attempts] | unique' "$T/del-sms.json")" "[1]"
expect_eq "no error recorded" \
    "$(jq -c '[.deliveries[].last_error] | unique' "$T/del-sms.json")" \
    "[null]"

# The devices: the villages' loudspeakers and sirens, through the file
# channels, with the device payload.
for _ in $(seq 1 100); do
	[ "$(grep -c . "$D/outbox.log" 2>/dev/null)" -ge 26 ] && break
	sleep 0.1
done
jq -r '"\(.channel) \(.to)"' "$D/outbox.log" | sort >"$T/got.devices"
check "every loudspeaker and siren of the villages got one command" \
    cmp -s "$T/got.devices" "$T/want.devices"
expect_eq "the payloads carry the alert, red, the text and 3 repeats" \
    "$(jq -c --argjson a "$A" '.payload | [.alert == $a, .colour,
    .event, .exercise, .cancel, .repeat]' "$D/outbox.log" | sort -u)" \
    '[true,"red","暴雨",false,false,3]'
expect_eq "the payload's text is the text sent to the device" \
    "$(jq -c 'select(.payload.text != .text or .text == "") | .to' \
    "$D/outbox.log")" ""
expect_eq "the group chat (wecom) did not fire for this rule" \
    "$(grep -c '"channel":"wecom"' "$D/outbox.log")" 0
expect_eq "the device deliveries are delivered" \
    "$(get "alerts/$A/deliveries?limit=10000" | jq -c '.counts.by_channel |
    [.loudspeaker, .siren]')" '[{"delivered":22},{"delivered":4}]'

# A reply: 郑庆海 (后店村, responsible) answers 收到 from the handset.
PH=$(jq -r '.responders[] | select(.id == "140425100201-1") | .phone' \
    "$T/sub.json")
expect_eq "the replying responder's phone" "$PH" 10045045320
printf '%s 12379 text 收到\n' "$PH" >"$K_FIFO"
for _ in $(seq 1 100); do
	grep -q "event=reply.received from=$PH " "$T/k.log" && break
	sleep 0.1
done
expect_contains "gongd logged the reply" "$(grep reply.received "$T/k.log")" \
    "event=reply.received from=$PH text=\"收到\""

stop_gongd k
expect_eq "gongd stops cleanly" "$RC" 0
stop_kannel
check "Kannel stopped" test ! -e "$KDIR/pids"
finish
