#!/bin/bash
# Integration: the dry run of a CAP message (POST /api/v1/plan, gong plan)
# on the demo deployment.  A red alert for 青羊镇 is planned dry: nothing
# is stored (no alert, no delivery), and then sent for real: the counts
# the dry run announced (total, by channel, by level, by role, devices by
# kind, people without an e-mail address) equal what the fan-out wrote
# (GET /api/v1/alerts/{id}/deliveries and gongd's plan.written log).
# An Update is planned to those the alert reached; bad input is refused.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

S=$SHARED/cap-samples/valid
[ -d "$S" ] || { not_ok "cap samples at $S"; finish; exit 1; }
D=$T/var
mkdir -p "$D"
# The default (demo) config, plus an e-mail channel for the villages'
# responsible persons (most have no e-mail address: counted).
"$GONGD" --print-default-config |
    sed -E "s#^listen: .*#listen: 127.0.0.1:0#;
	s#^data_dir: .*#data_dir: $D#;
	s#^channels:\$#channels:\n  - { name: mail, type: file, path: mail.log, addr: email }#" \
    >"$T/gong.yaml"
cat >>"$T/gong.yaml.rule" <<'YAML'
    - levels: [village]
      roles: [responsible]
      colours: [red]
      channels: [mail]
YAML
sed -i "/^  devices:\$/e cat $T/gong.yaml.rule" "$T/gong.yaml"
check "the config with an e-mail rule is accepted" \
    "$GONGD" --check-config "$T/gong.yaml"
start_gongd plan --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
U=$URL_plan
TOK=$(cat "$D/admin.token")
export GONG_URL=$U GONG_TOKEN=$TOK

# A red rainstorm warning for 青羊镇 (140425100000), in force until 2036.
sed -E 's#<severity>Severe#<severity>Extreme#;
    s#<eventCode>.*</eventCode>##;
    s#<expires>20[0-9][0-9]-#<expires>2036-#;
    s#<value>1404(03|04|27)</value>#<value>140425100000</value>#;
    s#<value>140425</value>#<value>140425100000</value>#' \
    "$S/cn-changzhi__rainstorm-orange-alert.xml" >"$T/red.xml"
req() {	# path file [token] -> body in $T/r.json, status echoed
	curl -s -o "$T/r.json" -w '%{http_code}' \
	    -H "Authorization: Bearer ${3:-$TOK}" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$2" "$U/api/v1/$1"
}
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

expect_eq "POST /api/v1/plan: 200" "$(req plan "$T/red.xml")" 200
cp "$T/r.json" "$T/dry.json"
expect_eq "a dry run of a red active alert for one township" \
    "$(jq -r '"\(.dry_run) \(.state) \(.colour) \(.regions) \(.targets[0]) \(.stored_id)"' "$T/dry.json")" \
    "true active red 1 140425100000 null"
dry_total=$(jq .deliveries "$T/dry.json")
check "it plans deliveries ($dry_total)" test "$dry_total" -gt 100
expect_eq "by_channel adds up to the total" \
    "$(jq '[.by_channel[]] | add' "$T/dry.json")" "$dry_total"
expect_eq "by_level adds up to the total" \
    "$(jq '[.by_level[]] | add' "$T/dry.json")" "$dry_total"
expect_eq "by_role adds up to the total" \
    "$(jq '[.by_role[]] | add' "$T/dry.json")" "$dry_total"
expect_eq "levels: the officers above, the township and its villages" \
    "$(jq -r '.by_level | keys | join(",")' "$T/dry.json")" \
    "city,county,township,village"
expect_eq "devices: loudspeakers and sirens (red), the group chat" \
    "$(jq -r '.devices_by_kind | keys | join(",")' "$T/dry.json")" \
    "group_chat,loudspeaker,siren"
expect_eq "one sample per kind of text" \
    "$(jq -r '[.samples[].kind] | sort | join(",")' "$T/dry.json")" \
    "app,email,loudspeaker,sms"
expect_contains "the SMS sample is the rendered red warning" \
    "$(jq -r '.samples[] | select(.kind=="sms") | .text' "$T/dry.json")" "暴雨"
expect_eq "nothing stored: no alert" "$(get "alerts?limit=1" | jq .total)" 0
check "nothing written to the outbox files" \
    test ! -s "$D/outbox.log" -a ! -s "$D/mail.log"

# gong plan: the same plan, readable and as JSON.
out=$("$GONG" plan "$T/red.xml")
expect_eq "gong plan exits 0" "$?" 0
expect_contains "gong plan says it is a dry run" "$out" \
    "DRY RUN: nothing was sent or stored."
expect_contains "gong plan prints the total" "$out" \
    "deliveries $dry_total,"
expect_contains "gong plan prints the counts by channel" "$out" \
    "  mail         $(jq '.by_channel.mail' "$T/dry.json")"
"$GONG" plan --json "$T/red.xml" >"$T/cli.json"
expect_eq "gong plan --json is the API's answer" \
    "$(jq -S 'del(.samples)' "$T/cli.json")" \
    "$(jq -S 'del(.samples)' "$T/dry.json")"

# Send it for real: the fan-out writes what the dry run announced.
expect_eq "POST /api/v1/cap: 201" "$(req cap "$T/red.xml")" 201
id=$(jq .id "$T/r.json")
for _ in $(seq 1 100); do
	grep -q "plan.written.*alert=$id " "$T/plan.log" && break
	sleep 0.1
done
get "alerts/$id/deliveries?limit=10000" >"$T/real.json"
expect_eq "the fan-out wrote as many deliveries as the dry run said" \
    "$(jq .total "$T/real.json")" "$dry_total"
expect_eq "the same counts by channel" \
    "$(jq -S -c '.by_channel' "$T/dry.json")" \
    "$(jq -S -c '[.deliveries[].channel] | group_by(.) | map({(.[0]): length}) | add' "$T/real.json")"
expect_eq "the same counts by role" \
    "$(jq -S -c '.by_role' "$T/dry.json")" \
    "$(jq -S -c '[.deliveries[].role // "-"] | group_by(.) | map({(.[0]): length}) | add' "$T/real.json")"
lvl='def lvl: if .[9:12] != "000" then "village" elif .[6:9] != "000" then "township" elif .[4:6] != "00" then "county" elif .[2:4] != "00" then "city" else "province" end;'
expect_eq "the same counts by level" \
    "$(jq -S -c '.by_level' "$T/dry.json")" \
    "$(jq -S -c "$lvl"' [.deliveries[].region | lvl] | group_by(.) | map({(.[0]): length}) | add' "$T/real.json")"
expect_eq "the same devices by kind" \
    "$(jq -S -c '.devices_by_kind' "$T/dry.json")" \
    "$(jq -S -c '[.deliveries[] | select(.kind != null and .device_id != null) | .role] | group_by(.) | map({(.[0]): length}) | add' "$T/real.json")"
expect_eq "the same people without an address" \
    "$(jq .no_address_total "$T/dry.json")" \
    "$(sed -n "s/.*plan.written.*alert=$id .*no_address=\([0-9]*\).*/\1/p" "$T/plan.log")"
expect_eq "the same people" "$(jq .people "$T/dry.json")" \
    "$(sed -n "s/.*plan.written.*alert=$id .* people=\([0-9]*\).*/\1/p" "$T/plan.log")"

# Planned again once stored: the dry run names it, stores nothing more.
expect_eq "dry run of the stored message: 200" "$(req plan "$T/red.xml")" 200
expect_eq "it names the stored alert" "$(jq .stored_id "$T/r.json")" "$id"
expect_eq "still one alert" "$(get "alerts?limit=1" | jq .total)" 1

# An Update: everyone the alert reached hears of it, plus the subtree.
sed -E "s#<msgType>Alert#<msgType>Update#;
    s#(<identifier>[^<]*)#\\1-u#;
    s#<sent>2026-07-15T08:30#<sent>2026-07-15T09:30#;
    s#</scope>#</scope><references>$(sed -n 's#.*<sender>\(.*\)</sender>.*#\1#p' "$T/red.xml"),$(sed -n 's#.*<identifier>\(.*\)</identifier>.*#\1#p' "$T/red.xml"),$(sed -n 's#.*<sent>\(.*\)</sent>.*#\1#p' "$T/red.xml")</references>#" \
    "$T/red.xml" >"$T/update.xml"
expect_eq "dry run of an Update: 200" "$(req plan "$T/update.xml")" 200
expect_eq "the Update reaches the same rows (each once)" \
    "$(jq -r '"\(.msg_type) \(.deliveries)"' "$T/r.json")" "Update $dry_total"
expect_eq "still one alert after the Update's dry run" \
    "$(get "alerts?limit=1" | jq .total)" 1

# Refusals.
printf '<alert>not CAP' >"$T/bad.xml"
expect_eq "invalid CAP: 422" "$(req plan "$T/bad.xml")" 422
expect_eq "with the parser's error" "$(jq -r .error.code "$T/r.json")" \
    invalid_cap
"$GONG" plan "$T/bad.xml" >/dev/null 2>&1
expect_eq "gong plan of invalid CAP exits 1" "$?" 1
expect_eq "no token: 401" "$(req plan "$T/red.xml" wrong-token)" 401
expect_eq "GET: 405" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" "$U/api/v1/plan")" 405
expect_eq "still one alert at the end" "$(get "alerts?limit=1" | jq .total)" 1

stop_gongd plan
expect_eq "gongd stops cleanly" "$RC" 0
finish
