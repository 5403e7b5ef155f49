#!/bin/bash
# Integration: issue 5 (叫应) escalation with real peers — Kannel (bearerbox,
# smsbox, fakesmsc) for SMS and the local Tencent Cloud VMS fake for voice
# calls — and gongd's clock driven by the test (GONG_TEST_CLOCK_FILE).
#
# A red alert for 后店村 reaches its two responsible persons by SMS.
# 郑庆海 answers 收到 from his phone: recorded, and nothing more is sent to
# him.  何光志 never answers: the policy's steps reach him at their times
# (resend at 3 min, voice call at 5, the township's duty officers get the
# list of who is silent at 8, unreachable at 30), in order and once each —
# gongd is killed with -9 and restarted between the steps, and nothing is
# lost or sent twice.  Then acceptance 5: an orange alert for 前店村 with a
# quorum of one; once 暴丹宇 answered, 黄勇 is not reminded.
# valgrind: no (kills gongd with -9 on purpose)
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

python3 "$REPO/tests/integration/voice_gateway_fake.py" \
    --port-file "$T/vms.port" --log "$T/calls.jsonl" \
    --callback "http://127.0.0.1:$GPORT/cb/$CBSECRET/voice" \
    --secret-id AKIDgongvoice --secret-key-file "$D/vms.key" \
    --app-id 1400006666 --template-id 4356 --clock-file "$T/clock" \
    >"$T/vms.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
	[ -s "$T/vms.port" ] && break
	sleep 0.1
done
VPORT=$(cat "$T/vms.port" 2>/dev/null)
check "the VMS fake starts ($VPORT)" test -n "$VPORT"
[ -n "$VPORT" ] || { finish; exit 1; }

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
  - name: voice
    type: voice-http
    url: "http://127.0.0.1:$VPORT/"
    secret_id_file: vms.id
    secret_key_file: vms.key
    app_id: "1400006666"
    template_id: "4356"
routing:
  people:
    - levels: [village]
      roles: [responsible]
      colours: [orange, red]
      channels: [sms]
      answer: true
escalation:
  policies:
    - levels: [village]
      colours: [red]
      steps:
        - { after: 3m, do: resend }
        - { after: 5m, do: channel, channel: voice }
        - { after: 8m, do: notify_parent }
        - { after: 30m, do: unreachable }
    - levels: [village]
      colours: [orange]
      quorum: 1
      steps:
        - { after: 3m, do: resend }
YAML
if "$GONGD" --check-config "$T/gong.yaml" >"$T/check.out" 2>&1; then
	ok "the configuration is valid"
else
	not_ok "the configuration is valid"
	sed 's/^/#   /' "$T/check.out"
fi

# The test's clock: gongd runs ahead by the milliseconds in this file.
CLOCK=$T/clock
echo 0 >"$CLOCK"
export GONG_TEST_CLOCK_FILE=$CLOCK
RUNS=0
start() {
	RUNS=$((RUNS + 1))
	start_gongd "g$RUNS" --config "$T/gong.yaml" --data-dir "$D" \
	    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
	eval "U=\$URL_g$RUNS"
	eval "GPID=\$PID_g$RUNS"
	TOK=$(cat "$D/admin.token")
}
kill9() {
	kill -KILL "$GPID"
	wait "$GPID" 2>/dev/null
}
start
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# gongd's clock when the last alert was planned (it only moves forward).
planned() { PLANNED_MS=$(( $(date +%s%3N) + $(cat "$CLOCK") )); }
# set_clock SECONDS puts gongd's clock SECONDS after that plan.
set_clock() {
	local now
	now=$(date +%s%3N)
	echo $(( PLANNED_MS + $1 * 1000 - now )) >"$CLOCK"
	sleep 0.1	# gongd reads the file again within 20 ms
}

post_alert() {	# IDENT COLOUR-SEVERITY VILLAGE HEADLINE
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
    <severity>$2</severity>
    <certainty>Observed</certainty>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>$4</headline>
    <description>降水量已达100毫米以上。</description>
    <instruction>立即转移。</instruction>
    <area>
      <areaDesc>$4</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>$3</value></geocode>
    </area>
  </info>
</alert>
XML
	curl -s -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/$1.xml" "$U/api/v1/cap" | jq .id
}

# smsc_msgs PHONE: the messages the fake SMSC got for PHONE, one a line,
# concatenated parts joined (UCS-2).
smsc_msgs() {
	python3 - "$K_LOG" "$1" <<'PY'
import re, sys, urllib.parse
parts = {}
order = []
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    m = re.search(r'Got message \d+: <(.*)>\s*$', line)
    if not m:
        continue
    f = m.group(1).split(' ')
    if f[1] != sys.argv[2]:
        continue
    dec = lambda s: urllib.parse.unquote_to_bytes(s.replace('+', '%20'))
    if f[2] == 'ucs-2':
        order.append(('one', dec(f[3])))
        continue
    if f[2] == 'udh' and len(f) >= 5:
        udh = dec(f[3])
        data = dec(f[5]) if f[4] == 'data' else dec(f[4])
        # UDH: length, then IEI 00 (8-bit ref) or 08 (16-bit ref)
        i, ref, total, seq = 1, None, 1, 1
        while i < len(udh):
            iei, ln = udh[i], udh[i + 1]
            v = udh[i + 2:i + 2 + ln]
            if iei == 0:
                ref, total, seq = v[0], v[1], v[2]
            elif iei == 8:
                ref, total, seq = v[0] * 256 + v[1], v[2], v[3]
            i += 2 + ln
        if ref not in parts:
            parts[ref] = {}
            order.append(('multi', ref))
        parts[ref][seq] = data
for kind, v in order:
    if kind == 'one':
        b = v
    else:
        b = b''.join(parts[v][k] for k in sorted(parts[v]))
    print(b.decode('utf-16-be', 'replace').replace('\n', ' '))
PY
}
nmsgs() { smsc_msgs "$1" | grep -c .; }
wait_msgs() {	# PHONE N
	for _ in $(seq 1 200); do
		[ "$(nmsgs "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
ncalls() { grep -c . "$T/calls.jsonl" 2>/dev/null; }
mo() { printf '%s 12379 text %s\n' "$1" "$2" >"$K_FIFO"; }
answers() { get "alerts/$1/answers"; }

P1=10045045320		# 郑庆海, 140425100201-1, responsible
P5=10045238404		# 何光志, 140425100201-5, responsible
O1=10044948778		# 林旭云, 青羊镇 duty officer
O2=10044997049		# 林珍, 青羊镇 duty officer

A=$(post_alert esc-red Extreme 140425100201 后店村暴雨红色预警)
planned
check "the red alert is stored ($A)" test "$A" -gt 0
check "郑庆海 gets the alert by SMS" wait_msgs $P1 1
check "何光志 gets the alert by SMS" wait_msgs $P5 1
expect_contains "with an answer code" "$(smsc_msgs $P5)" 确认收到

# Acceptance 1: 郑庆海 answers from his phone.
mo $P1 收到
for _ in $(seq 1 100); do
	[ "$(answers "$A" | jq .answered)" = 1 ] && break
	sleep 0.1
done
expect_eq "郑庆海's 收到 is his answer to this alert" \
    "$(answers "$A" | jq -c '[.answers[] | [.responder_id, .path]]')" \
    '[["140425100201-1","sms"]]'

# Before 3 minutes: nothing.
set_clock 170
sleep 1
expect_eq "at 2 min 50 s nobody is reminded" "$(nmsgs $P5),$(nmsgs $P1)" \
    "1,1"
set_clock 181
check "at 3 min 何光志 gets the reminder" wait_msgs $P5 2
expect_contains "marked as a reminder, with his code" \
    "$(smsc_msgs $P5 | sed -n 2p)" "【再次提醒】"
expect_contains "and the same answer code" "$(smsc_msgs $P5 | sed -n 2p)" \
    "$(smsc_msgs $P5 | sed -n 1p | grep -o '请回复[0-9]*')"

# Killed between the steps: nothing is lost, nothing repeats.
kill9
start
sleep 1.5
expect_eq "after kill -9 and restart: no second reminder" "$(nmsgs $P5)" 2
expect_eq "no call before 5 min" "$(ncalls || echo 0)" "0"

set_clock 290
sleep 1
expect_eq "at 4 min 50 s: still no call" "$(ncalls || echo 0)" "0"
set_clock 301
for _ in $(seq 1 200); do
	[ "$(ncalls)" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
expect_eq "at 5 min the voice gateway calls 何光志, only him" \
    "$(jq -r .to "$T/calls.jsonl" | tr '\n' ' ')" "$P5 "
expect_contains "the call says he has not confirmed yet" \
    "$(jq -r .text "$T/calls.jsonl")" "您还没有确认收到"

kill9
start
sleep 1.5
expect_eq "after another restart: still one call" "$(ncalls)" 1
expect_eq "no list before 8 min" "$(nmsgs $O1),$(nmsgs $O2)" "0,0"
set_clock 470
sleep 1
expect_eq "at 7 min 50 s: no list yet" "$(nmsgs $O1),$(nmsgs $O2)" "0,0"
set_clock 481
check "at 8 min 青羊镇's duty officer 林旭云 gets the list" wait_msgs $O1 1
check "and 林珍" wait_msgs $O2 1
L=$(smsc_msgs $O1)
expect_contains "the list names 何光志 with his role and phone" "$L" \
    "何光志（责任人，$P5）"
case "$L" in *郑庆海*) not_ok "郑庆海 (answered) is not on the list" ;;
*) ok "郑庆海 (answered) is not on the list" ;; esac
expect_contains "and says what to do" "$L" "请立即电话或上门通知"

kill9
start
set_clock 1790
sleep 1.5
expect_eq "once each: 何光志 2 SMS, 1 call; officers 1 SMS each; 郑庆海 1" \
    "$(nmsgs $P5),$(ncalls),$(nmsgs $O1),$(nmsgs $O2),$(nmsgs $P1)" \
    "2,1,1,1,1"
set_clock 1801
for _ in $(seq 1 100); do
	[ "$(get "alerts/$A/report" | jq -r '.totals.unreachable // 0')" = 1 ] &&
	    break
	sleep 0.1
done
expect_eq "at 30 min 何光志 is marked unreachable" \
    "$(get "alerts/$A/report" | jq -r '.totals.unreachable // empty')" 1
expect_eq "the log shows each step once, in order" \
    "$(cat "$T"/g*.log | grep -o 'event=escalation.step alert='"$A"' [^ ]* step=[0-9]* action=[a-z_]*' |
    sed 's/.*step=//' | tr '\n' ' ')" \
    "1 action=resend 2 action=channel 3 action=notify_parent 4 action=unreachable "

# Acceptance 5: quorum.  前店村's responsible persons: 暴丹宇, 黄勇.
Q1=10045383217		# 暴丹宇, 140425100202-1
Q5=10045576301		# 黄勇, 140425100202-5
B=$(post_alert esc-orange Severe 140425100202 前店村暴雨橙色预警)
planned
check "the orange alert is stored ($B)" test "$B" -gt "$A"
check "暴丹宇 gets it" wait_msgs $Q1 1
check "黄勇 gets it" wait_msgs $Q5 1
mo $Q1 收到
for _ in $(seq 1 100); do
	[ "$(answers "$B" | jq .answered)" = 1 ] && break
	sleep 0.1
done
expect_eq "暴丹宇 answered" "$(answers "$B" | jq -c '[.answers[].responder_id]')" \
    '["140425100202-1"]'
set_clock 200
sleep 2
expect_eq "the village's quorum (1) is reached: 黄勇 is not reminded" \
    "$(nmsgs $Q5),$(nmsgs $Q1)" "1,1"
check "the log says the quorum stopped the village" \
    grep -q "event=escalation.quorum alert=$B region=140425100202" "$T/g$RUNS.log"

M=$(curl -s "$U/metrics")
expect_contains "metrics: nobody is left waiting for a step" "$M" \
    "gong_escalation_open 0"
expect_contains "metrics: the quorum counted" "$M" \
    'gong_escalation_total{event="quorum"} 1'

stop_gongd "g$RUNS"
expect_eq "gongd stops cleanly" "$RC" 0
finish
