#!/bin/bash
# Integration: issue 4, acceptance 2 - the sirens of the targeted
# villages receive their command through a real Mosquitto broker
# (ops/peers/mosquitto/start.sh on 127.0.0.1, users and ACLs); a siren
# whose controller is offline (its last will, retained) shows as failed,
# and the delivery fails over to the partner channel.
#
# gongd runs on the demo rosters with the demo's sirens re-pointed at an
# `mqtt` channel "sirens" (failover: "speakers", a file channel standing
# for the village loudspeakers).  Fake controllers (controller.sh) listen
# for the four sirens of 青羊镇's villages; the one of 140425100210 is
# killed first, so that the broker publishes its will "offline".  A red
# alert for 青羊镇 must put exactly one command, with the right JSON, at
# each live controller, and every one of them must become delivered (the
# controller's status echoes the delivery id); the offline siren's
# delivery must be failed with "controller offline" long before
# ack_timeout, and a delivery for the same siren must appear on
# "speakers" and be delivered there.  Also: --check-config refuses a
# failover to an unknown channel or to one that addresses people.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

MDIR=$T/mosquitto
PEER=$REPO/ops/peers/mosquitto
stop_broker() {
	[ -f "$MDIR/pids" ] && "$PEER/stop.sh" "$MDIR"
}
trap 'stop_broker; cleanup' EXIT

for b in /usr/sbin/mosquitto mosquitto_sub mosquitto_pub mosquitto_passwd jq; do
	command -v "$b" >/dev/null 2>&1 || { not_ok "$b installed"; finish;
	    exit 1; }
done
if ! MOSQUITTO_OWNER_PID=$$ "$PEER/start.sh" "$MDIR" \
    >"$T/mosquitto-start.log" 2>&1; then
	not_ok "Mosquitto starts"
	sed 's/^/#   /' "$T/mosquitto-start.log"
	finish
	exit 1
fi
ok "Mosquitto starts"
menv() { sed -n "s/^$1=//p" "$MDIR/env"; }
M_PORT=$(menv PORT)
M_USER=$(menv GONG_USER)
M_PASS=$(menv GONG_PASS)

# The demo's sirens, re-pointed at the mqtt channel.
DEMO=$REPO/config/demo
awk -F, -v OFS=, 'NR == 1 { print; next }
    $3 == "siren" { $4 = "sirens"; print }' "$DEMO/devices.csv" \
    >"$T/devices.csv"
check "the demo has sirens" test "$(wc -l <"$T/devices.csv")" -gt 10

D=$T/var
mkdir -p "$D"
printf '%s\n' "$M_PASS" >"$D/mqtt.pass"
write_config() {	# file failover-line
	cat >"$1" <<YAML
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
  devices: "$T/devices.csv"
channels:
  - { name: outbox-file, type: file, path: outbox.log }
  - name: sirens
    type: mqtt
    host: 127.0.0.1
    port: $M_PORT
    username: $M_USER
    password_file: mqtt.pass
    topic_prefix: gong/cmd/
    status_topic: gong/status/
    qos: 1
    ack_timeout: 20s
$2
  - { name: speakers, type: file, path: speakers.log, addr: device }
routing:
  ancestor_roles: [duty_officer]
  ancestor_channels: [outbox-file]
  people:
    - roles: [duty_officer]
      channels: [outbox-file]
  devices:
    - kinds: [siren]
      colours: [orange, red]
YAML
}

# Refused fail-over partners, with the line of the key.
write_config "$T/bad1.yaml" "    failover: nope"
out=$("$GONGD" --check-config "$T/bad1.yaml" --data-dir "$D" 2>&1)
check "--check-config refuses a failover to an unknown channel" \
    test $? -ne 0
expect_contains "... naming it at its line" "$out" \
    "bad1.yaml:24: error: channels[1].failover: failover channel 'nope' is not configured"
write_config "$T/bad2.yaml" "    failover: outbox-file"
out=$("$GONGD" --check-config "$T/bad2.yaml" --data-dir "$D" 2>&1)
expect_contains "--check-config refuses a partner that addresses people" \
    "$out" "failover channel 'outbox-file' addresses phone, 'sirens' addresses device"

write_config "$T/gong.yaml" "    failover: speakers"
check "the configuration is valid" "$GONGD" --check-config "$T/gong.yaml" \
    --data-dir "$D"

# The fake controllers of 青羊镇's sirens; the one of 140425100210 dies
# (SIGKILL: the broker publishes its will "offline", retained).
SIRENS="140425100203 140425100206 140425100208 140425100210"
OFFLINE=140425100210
for v in $SIRENS; do
	"$PEER/controller.sh" "$MDIR" "s$v" "siren/$v" ack ||
	    { not_ok "controller $v starts"; finish; exit 1; }
done
"$PEER/controller.sh" --crash "$MDIR" "s$OFFLINE" ||
    { not_ok "controller $OFFLINE goes offline"; finish; exit 1; }
expect_eq "the offline siren's status is its will" \
    "$(mosquitto_sub -h 127.0.0.1 -p "$M_PORT" -u "$M_USER" -P "$M_PASS" \
    -t "gong/status/siren/$OFFLINE" -C 1 -W 2 2>/dev/null)" offline

start_gongd m --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_m
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

expect_eq "青羊镇's villages have these sirens" \
    "$(get "regions/140425100/devices?subtree=1&limit=1000" |
    jq -r '[.devices[] | select(.kind == "siren") |
    "\(.channel):\(.address)"] | sort | join(" ")')" \
    "$(for v in $SIRENS; do printf 'sirens:siren/%s ' "$v"; done |
    sed 's/ $//')"

HEADLINE=平顺县气象台发布青羊镇暴雨红色预警信号
# What the loudspeaker template makes of it (its middle part).
SCRIPT=$'暴雨红色预警。\n\n立即转移山洪危险区群众。'
cat >"$T/red.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>14042541600000_20260715113000_mqtt</identifier>
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
t0=$(date +%s%N)
code=$(curl -s -o "$T/r.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" -H 'Content-Type: application/cap+xml' \
    --data-binary @"$T/red.xml" "$U/api/v1/cap")
expect_eq "red alert for 青羊镇: 201" "$code" 201
A=$(jq .id "$T/r.json")

# Until the sirens are settled (3 delivered, 1 failed) and the fail-over
# delivery is delivered; at most 15 s (ack_timeout is 20 s).
settled=0
for _ in $(seq 1 150); do
	get "alerts/$A/deliveries?limit=1000" >"$T/d.json"
	s=$(jq -r '[.deliveries[] | select(.channel == "sirens") | .state] |
	    sort | join(" ")' "$T/d.json")
	f=$(jq -r '[.deliveries[] | select(.channel == "speakers") |
	    .state] | join(" ")' "$T/d.json")
	if [ "$s" = "delivered delivered delivered failed" ] &&
	    [ "$f" = delivered ]; then
		settled=1
		break
	fi
	sleep 0.1
done
t1=$(date +%s%N)
expect_eq "sirens: three delivered, one failed; its fail-over delivered" \
    "$s / $f" "delivered delivered delivered failed / delivered"
check "settled within 15 s, long before ack_timeout (20 s)" \
    test "$settled" = 1 -a $(((t1 - t0) / 1000000)) -lt 15000
echo "# settled in $(((t1 - t0) / 1000000)) ms"

expect_eq "the offline siren's delivery failed: controller offline" \
    "$(jq -r '.deliveries[] | select(.channel == "sirens" and
    .state == "failed") | "\(.address) \(.device_id) \(.last_error)"' \
    "$T/d.json")" "siren/$OFFLINE SR-$OFFLINE controller offline"
expect_eq "/metrics lists it as an offline device of the sirens (for the console)" \
    "$(curl -s "$U/metrics" | grep '^gong_device_offline{')" \
    "gong_device_offline{channel=\"sirens\",address=\"siren/$OFFLINE\"} 1"
expect_eq "the fail-over went to speakers, same siren and address" \
    "$(jq -r '.deliveries[] | select(.channel == "speakers") |
    "\(.recipient) \(.address) \(.region)"' "$T/d.json")" \
    "d:SR-$OFFLINE siren/$OFFLINE $OFFLINE"
expect_eq "nothing else for the sirens or speakers" \
    "$(jq '[.deliveries[] | select(.channel == "sirens" or
    .channel == "speakers")] | length' "$T/d.json")" 5

# Each live controller got exactly one command, with the right JSON.
for v in $SIRENS; do
	[ "$v" = "$OFFLINE" ] && continue
	id=$(jq -r --arg a "siren/$v" '.deliveries[] | select(.channel ==
	    "sirens" and .address == $a) | .id' "$T/d.json")
	log=$MDIR/ctl-s$v.log
	expect_eq "siren $v: one command" "$(wc -l <"$log")" 1
	expect_eq "siren $v: delivery, zone, alert, colour, repeat" \
	    "$(jq -r '"\(.delivery) \(.zone) \(.alert) \(.colour) \(.repeat) \(.cancel)"' "$log")" \
	    "$id siren/$v $A red 3 false"
	expect_contains "siren $v: the text is the loudspeaker script" \
	    "$(jq -r .text "$log")" "$SCRIPT"
done
expect_eq "the offline controller received nothing" \
    "$(wc -l <"$MDIR/ctl-s$OFFLINE.log")" 0
expect_eq "speakers.log: the fail-over command for the offline siren" \
    "$(jq -r '"\(.channel) \(.to) \(.payload.colour) \(.payload.alert)"' \
    "$D/speakers.log")" "speakers siren/$OFFLINE red $A"
expect_contains "gongd logged the fail-over" "$(cat "$T/m.log")" \
    "from=sirens to=speakers"

stop_gongd m
expect_eq "gongd stops cleanly" "$RC" 0
finish
