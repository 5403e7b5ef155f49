#!/bin/bash
# Integration: a channel's rate_limit (channels/channel.h rule 10) — a
# token bucket the dispatcher applies before it hands a message over.  A
# red alert for a township of 3 villages, 10 people each, goes out through
# two file channels: "sms" limited to 10 messages a second, "sms-parts"
# limited to 15 SMS parts a second, its messages 3 parts each (5 a
# second).  Sampled while they go out, neither ever got ahead of its
# bucket (burst + rate x time since the alert was posted), and in the end
# every message went out exactly once.
# valgrind: no (the bound is in time; valgrind only makes it looser)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { not_ok "jq"; finish; exit 1; }

D=$T/data
mkdir -p "$T/r" "$D"
{
	echo "code,name,lat,lon,parent"
	echo "140400000000,长治市,36.195,113.117,"
	echo "140425000000,平顺县,36.200,113.436,"
	echo "140425100000,青羊镇,36.205,113.330,"
	for v in 201 202 203; do
		echo "140425100$v,村$v,36.2,113.3,"
	done
} >"$T/r/regions.csv"
{
	echo "id,name,region,role,phone,wecom,email,active,exercise"
	for v in 201 202 203; do
		for i in 0 1 2 3 4 5 6 7 8 9; do
			echo "V$v-$i,人$v$i,140425100$v,warner,1380$v$i$i$i$i,,,yes,no"
		done
	done
} >"$T/r/responders.csv"
echo "id,region,kind,channel,address" >"$T/r/devices.csv"

cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
data_dir: $D
listen: 127.0.0.1:0
rosters:
  regions: $T/r/regions.csv
  responders: $T/r/responders.csv
  devices: $T/r/devices.csv
channels:
  - { name: sms, type: file, path: sms.log, addr: phone, rate_limit: 10/s }
  - name: sms-parts
    type: file
    path: parts.log
    addr: phone
    rate_limit: 15/s
    rate_count: segments
routing:
  people:
    - levels: [village]
      channels: [sms, sms-parts]
YAML
check "the configuration is valid" "$GONGD" --check-config "$T/gong.yaml"

# A bad rate is refused with the line.
sed 's#rate_limit: 10/s#rate_limit: fast#' "$T/gong.yaml" >"$T/bad.yaml"
out=$("$GONGD" --check-config "$T/bad.yaml" 2>&1)
expect_contains "a bad rate_limit is refused, with its line" "$out" \
    "bad.yaml:10: error: channels[0].rate_limit: rate_limit must be N/min, N/s, N/h or N/<duration>"

start_gongd main --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
U=$URL_main
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# 3 SMS parts (UCS-2: 67 characters a part): a long description.
DESC=$(printf '青羊镇各村降水量已达一百毫米以上，山洪和地质灾害风险极高，%.0s' 1 2 3 4 5 6)
cat >"$T/a.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>rate-1</identifier>
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
    <senderName>平顺县气象台</senderName>
    <headline>青羊镇暴雨红色预警</headline>
    <description>$DESC</description>
    <instruction>立即转移。</instruction>
    <area>
      <areaDesc>青羊镇</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100000</value></geocode>
    </area>
  </info>
</alert>
XML
T0=$(date +%s%3N)
A=$(curl -s -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: application/cap+xml' \
    --data-binary @"$T/a.xml" "$U/api/v1/cap" | jq .id)
check "the alert is stored ($A)" test "$A" -gt 0

sent() {	# CHANNEL: deliveries handed over (sent or delivered)
	echo $(( $(get "alerts/$A/deliveries?channel=$1&state=sent&limit=0" |
	    jq .total) + $(get "alerts/$A/deliveries?channel=$1&state=delivered&limit=0" |
	    jq .total) ))
}
over=""
for _ in $(seq 1 80); do
	s1=$(sent sms)
	s2=$(sent sms-parts)
	ms=$(( $(date +%s%3N) - T0 ))
	# sms: 10 at once, then 10 a second.
	max1=$(( 10 + 10 * ms / 1000 ))
	# sms-parts: 15 parts at once, then 15 a second, one message of
	# debt; 3 parts a message.
	max2=$(( (15 + 15 * ms / 1000 + 3) / 3 ))
	[ "$s1" -le "$max1" ] || over="$over sms:$s1>$max1@${ms}ms"
	[ "$s2" -le "$max2" ] || over="$over sms-parts:$s2>$max2@${ms}ms"
	[ "$s1" -ge 30 ] && [ "$s2" -ge 30 ] && break
	sleep 0.25
done
expect_eq "neither channel got ahead of its rate" "$over" ""
expect_eq "in the end all 30 went out on each" "$(sent sms),$(sent sms-parts)" \
    "30,30"
check "and it took the rate's time: at least 2 s for 30 at 10/s" \
    test "$(( $(date +%s%3N) - T0 ))" -ge 2000
expect_eq "each person once per channel" \
    "$(jq -r .to "$D/sms.log" | sort | uniq -d | wc -l),$(jq -r .to "$D/parts.log" | sort | uniq -d | wc -l)" \
    "0,0"
check "a message of sms-parts is 3 parts" \
    test "$(jq -r 'select(.channel == "sms-parts") | .text | length' "$D/parts.log" | head -1)" -gt 134

stop_gongd main
expect_eq "gongd stops cleanly" "$RC" 0
finish
