#!/bin/bash
# Integration: responders' own channel preferences (roster column prefer,
# routing rule key preferences).  gongd with two file channels, sms (addr
# phone) and wx (addr wecom), a voice-http channel (call: a phone channel
# that answers to the "voice" preference, not "phone"; its gateway is not
# there, the call stays planned), and a small roster where some people
# prefer WeCom; one rule per role: the villages' warners narrow over sms
# and wx, the villages' responsible persons first over sms, call and wx,
# the township's duty officers ignore over sms and wx.  A red
# alert for the township is POSTed: exactly the expected (person,
# channel) deliveries are written (GET /api/v1/alerts/{id}/deliveries),
# the file channels get exactly those messages, and POST /api/v1/plan's
# dry run announced the same counts.  The roster's preferences show in
# GET /api/v1/regions/{code}/responders and gong responders; a bad word
# refuses the import with its file, line and column.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

D=$T/var
mkdir -p "$D"
cat >"$T/regions.csv" <<'CSV'
code,name,lat,lon,parent
140400000000,长治市,,,
140425000000,平顺县,,,
140425100000,青羊镇,,,
140425100201,后店村,,,
CSV
# Who gets what (channel by channel) is in WANT below.
cat >"$T/responders.csv" <<'CSV'
id,name,region,role,phone,wecom,偏好渠道
T-D1,镇值班,140425100000,duty_officer,10000000001,wx_td1,企业微信
V-W1,预警员一,140425100201,warner,10000000011,wx_w1,企业微信
V-W2,预警员二,140425100201,warner,10000000012,wx_w2,
V-W3,预警员三,140425100201,warner,10000000013,,wecom
V-W4,预警员四,140425100201,warner,10000000014,wx_w4,"短信、企业微信"
V-R1,责任人一,140425100201,responsible,10000000021,wx_r1,"wecom|sms"
V-R2,责任人二,140425100201,responsible,10000000022,wx_r2,"语音,短信"
V-R3,责任人三,140425100201,responsible,10000000023,,"wecom; sms"
CSV
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: $D
listen: 127.0.0.1:0
log_level: info
rosters:
  regions: "$T/regions.csv"
  responders: "$T/responders.csv"
channels:
  - { name: sms, type: file, path: sms.log, addr: phone }
  - { name: wx, type: file, path: wx.log, addr: wecom }
  - name: call
    type: voice-http
    url: "http://127.0.0.1:9/"
    secret_id: test-id
    secret_key: test-key
    app_id: "1400006666"
    template_id: "4356"
routing:
  people:
    - levels: [village]
      roles: [warner]
      channels: [sms, wx]
      preferences: narrow
    - levels: [village]
      roles: [responsible]
      channels: [sms, call, wx]
      preferences: first
    - levels: [township]
      roles: [duty_officer]
      channels: [sms, wx]
YAML
"$GONGD" --check-config "$T/gong.yaml" >"$T/check.out" 2>&1
expect_eq "--check-config accepts it (a warning is not an error)" "$?" 0
expect_eq "and warns of 'preferences: first' on a rule with red" \
    "$(grep -c "gong.yaml:30: warning: routing.people\[1\].preferences: 'preferences: first' reaches a person through one channel even for red alerts" "$T/check.out")" 1
start_gongd p --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
U=$URL_p
TOK=$(cat "$D/admin.token")
export GONG_URL=$U GONG_TOKEN=$TOK
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
req() {	# path file -> body in $T/r.json, status echoed
	curl -s -o "$T/r.json" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$2" "$U/api/v1/$1"
}

# The roster as gongd has it.
get "regions/140425100201/responders" >"$T/resp.json"
expect_eq "the responders list shows each person's preferences" \
    "$(jq -r '.responders[] | "\(.id)=\(.prefer | join(","))"' "$T/resp.json" | tr '\n' ' ')" \
    "V-R1=wecom,phone V-R2=voice,phone V-R3=wecom,phone V-W1=wecom V-W2= V-W3=wecom V-W4=phone,wecom "
out=$("$GONG" responders 140425100000)
expect_contains "gong responders shows them (PREFER)" "$out" "PREFER"
expect_contains "gong responders: T-D1 prefers wecom" \
    "$(printf '%s\n' "$out" | grep '^T-D1')" "wecom"

# A red rainstorm warning for 青羊镇.
cat >"$T/red.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>pref-red-1</identifier>
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
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>青羊镇暴雨红色预警</headline>
    <description>青羊镇降水量已达100毫米以上。</description>
    <instruction>立即转移。</instruction>
    <area>
      <areaDesc>青羊镇</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100000</value></geocode>
    </area>
  </info>
</alert>
XML

# The dry run first: nothing is written.
expect_eq "POST /api/v1/plan: 200" "$(req plan "$T/red.xml")" 200
cp "$T/r.json" "$T/dry.json"
expect_eq "the dry run: 11 deliveries, 5 by sms, 5 by wx, 1 call, 8 people" \
    "$(jq -c '[.deliveries, .by_channel.sms, .by_channel.wx, .by_channel.call, .people]' "$T/dry.json")" \
    "[11,5,5,1,8]"
expect_eq "the dry run: V-W3 has no WeCom id (1 missing wx address)" \
    "$(jq -c '[.no_address_total, .no_address.wx]' "$T/dry.json")" "[1,1]"

# Then for real.
expect_eq "POST /api/v1/cap: 201" "$(req cap "$T/red.xml")" 201
id=$(jq .id "$T/r.json")
for _ in $(seq 1 100); do
	grep -q "plan.written.*alert=$id " "$T/p.log" && break
	sleep 0.1
done
WANT="call r:V-R2 10000000022
sms r:T-D1 10000000001
sms r:V-R3 10000000023
sms r:V-W2 10000000012
sms r:V-W3 10000000013
sms r:V-W4 10000000014
wx r:T-D1 wx_td1
wx r:V-R1 wx_r1
wx r:V-W1 wx_w1
wx r:V-W2 wx_w2
wx r:V-W4 wx_w4"
get "alerts/$id/deliveries?limit=1000" >"$T/real.json"
expect_eq "exactly these (channel, person, address) deliveries" \
    "$(jq -r '.deliveries[] | "\(.channel) \(.recipient) \(.address)"' "$T/real.json" | sort)" \
    "$WANT"
expect_eq "the dry run's total is what was written" \
    "$(jq .total "$T/real.json")" "$(jq .deliveries "$T/dry.json")"
expect_eq "the dry run's counts by channel are what was written" \
    "$(jq -S -c '.by_channel' "$T/dry.json")" \
    "$(jq -S -c '[.deliveries[].channel] | group_by(.) | map({(.[0]): length}) | add' "$T/real.json")"
expect_eq "the dry run's counts by role are what was written" \
    "$(jq -S -c '.by_role' "$T/dry.json")" \
    "$(jq -S -c '[.deliveries[].role] | group_by(.) | map({(.[0]): length}) | add' "$T/real.json")"
expect_eq "plan.written: 8 people, 11 deliveries, 1 without address" \
    "$(sed -n "s/.*plan.written.*alert=$id .* people=\([0-9]*\).* deliveries=\([0-9]*\) no_address=\([0-9]*\).*/\1 \2 \3/p" "$T/p.log")" \
    "8 11 1"

# The file channels send exactly those messages.
for _ in $(seq 1 100); do
	[ "$(cat "$D/sms.log" "$D/wx.log" 2>/dev/null | grep -c .)" -ge 10 ] &&
	    break
	sleep 0.1
done
sleep 0.3
expect_eq "sms.log: the five SMS recipients, once each" \
    "$(jq -r .to "$D/sms.log" | sort | tr '\n' ' ')" \
    "10000000001 10000000012 10000000013 10000000014 10000000023 "
expect_eq "wx.log: the five WeCom recipients, once each" \
    "$(jq -r .to "$D/wx.log" | sort | tr '\n' ' ')" \
    "wx_r1 wx_td1 wx_w1 wx_w2 wx_w4 "

# A bad preference refuses the whole file, with file, line and column.
printf 'id,name,region,role,phone,prefer\nX1,甲,140425100201,warner,10000000031,sms\nX2,乙,140425100201,warner,10000000032,"wecom、传真"\n' \
    >"$T/bad.csv"
"$GONG" import responders "$T/bad.csv" >"$T/imp.out" 2>&1
expect_eq "gong import of a bad preference exits 1" "$?" 1
expect_contains "it names the file, line and column" "$(cat "$T/imp.out")" \
    "bad.csv:3: prefer: unknown channel preference '传真'"
expect_eq "nothing of it was imported" \
    "$(get "regions/140425100201/responders" | jq '[.responders[].id | select(startswith("X"))] | length')" 0

stop_gongd p
expect_eq "gongd exits 0" "$RC" 0
finish
