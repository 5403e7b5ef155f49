#!/bin/bash
# Integration: the texts sent come from the templates (engine/render.c).
# A small roster, the shipped templates plus a township's own SMS
# template (一乡镇一方案); --check-config and SIGHUP with a broken
# template (refused with file:line and column; the templates in use stay).
# valgrind: yes
. "$(dirname "$0")/lib.sh"

D=$T/data
mkdir -p "$T/r" "$D"
cat >"$T/r/regions.csv" <<'CSV'
code,name,lat,lon,parent
140400000000,长治市,36.195,113.117,
140425000000,平顺县,36.200,113.436,
140425100000,青羊镇,36.205,113.330,
140425100201,后店村,36.208,113.294,
140425101000,西沟乡,36.300,113.500,
140425101201,北沟村,36.301,113.501,
CSV
cat >"$T/r/responders.csv" <<'CSV'
id,name,region,role,phone,wecom,email,active,exercise
V1,郑庆海,140425100201,responsible,13800000001,,,yes,no
V2,李四,140425101201,warner,13800000002,,,yes,no
CSV
cat >"$T/r/devices.csv" <<'CSV'
id,region,kind,channel,address
LS-1,140425100201,loudspeaker,loudspeaker,zone/140425100201
CSV

cp -r "$REPO/templates/default" "$T/tpl"
mkdir -p "$T/tpl/regions/140425100000/sms/zh-CN"
cat >"$T/tpl/regions/140425100000/sms/zh-CN/default.tpl" <<'TPL'
{% if exercise %}【演练】{% endif -%}
【{{ alert.sender_name }}】青羊镇防汛方案：{{ region.name }}{{ responder.name }}，{{ alert.event }}{{ alert.colour | colour_zh }}预警，立即组织转移到镇中学。
TPL

"$GONGD" --print-default-config |
    sed -E "s#^data_dir: .*#data_dir: $D#;
	s#^listen: .*#listen: 127.0.0.1:0#;
	s#^templates: .*#templates: $T/tpl#;
	s#^  (regions|responders|devices): .*/([a-z]+\.csv)\"?#  \1: $T/r/\2#" |
    # This roster has no township duty officers for the demo's
    # escalation policy to notify (--check-config would refuse it).
    sed '/^escalation:/,$d' >"$T/gong.yaml"
check "gongd --check-config accepts the templates" \
    "$GONGD" --check-config "$T/gong.yaml"

# A broken template: --check-config names file, line and column.
cp -r "$T/tpl" "$T/bad"
printf '好\n{{ alert.event | trunc(3) }}\n' >"$T/bad/sms/zh-CN/default.tpl"
sed "s#^templates: .*#templates: $T/bad#" "$T/gong.yaml" >"$T/bad.yaml"
out=$("$GONGD" --check-config "$T/bad.yaml" 2>&1)
expect_eq "--check-config fails on a broken template" "$?" 1
expect_contains "the error names the template, line and column" "$out" \
    "$T/bad/sms/zh-CN/default.tpl:2: error: column 18: unknown filter 'trunc'"
expect_contains "and the config's templates key" "$out" \
    "bad.yaml:$(grep -n '^templates:' "$T/bad.yaml" | cut -d: -f1): error: templates: the templates in '$T/bad' have errors"

start_gongd main --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
ok "gongd starts with the templates"
U=$URL_main
TOK=$(cat "$D/admin.token")
post() {	# identifier -> status
	sed -E "s#<identifier>[^<]*#<identifier>$1#;
	    s#<expires>20[0-9][0-9]-#<expires>2036-#;
	    s#<value>1404(03|04|27)</value>#<value>140425101000</value>#;
	    s#<value>140425</value>#<value>140425100000</value>#" \
	    "$SHARED/cap-samples/valid/cn-changzhi__rainstorm-orange-alert.xml" \
	    >"$T/$1.xml"
	curl -s -o "$T/r.json" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/$1.xml" "$U/api/v1/cap"
}
# wait_sent N: until outbox.log has N lines (10 s)
wait_sent() {
	for _ in $(seq 1 100); do
		[ -f "$D/outbox.log" ] &&
		    [ "$(wc -l <"$D/outbox.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
text_to() {	# N address -> the Nth text sent to address
	python3 -c '
import json, sys
t = [j["text"] for j in map(json.loads, open(sys.argv[1]))
     if j["to"] == sys.argv[3]]
n = int(sys.argv[2])
print(t[n - 1] if len(t) >= n else "")' "$D/outbox.log" "$1" "$2"
}

expect_eq "an alert is accepted" "$(post rain-1)" 201
check "three deliveries sent" wait_sent 3
expect_eq "the township's template for its village" "$(text_to 1 \
    13800000001)" "【长治市气象台】青羊镇防汛方案：后店村郑庆海，暴雨橙色预警，立即组织转移到镇中学。"
expect_contains "the shipped SMS template elsewhere" "$(text_to 1 \
    13800000002)" "【长治市气象台】长治市气象台7月15日8时30分发布暴雨橙色预警：预计未来6小时内"
expect_contains "the loudspeaker script for the loudspeaker" \
    "$(text_to 1 zone/140425100201)" \
    "各位村民请注意，各位村民请注意：长治市气象台七月十五日八时三十分发布暴雨橙色预警。"

# SIGHUP with a broken template: refused, the templates in use stay.
printf '{%% if exercise %%}\n' \
    >"$T/tpl/regions/140425100000/sms/zh-CN/default.tpl.new"
mv "$T/tpl/regions/140425100000/sms/zh-CN/default.tpl" "$T/good.tpl"
mv "$T/tpl/regions/140425100000/sms/zh-CN/default.tpl.new" \
    "$T/tpl/regions/140425100000/sms/zh-CN/default.tpl"
kill -HUP "$PID_main"
for _ in $(seq 1 50); do
	grep -q config.rejected "$T/main.log" && break
	sleep 0.1
done
expect_contains "a broken template on SIGHUP is rejected" \
    "$(cat "$T/main.log")" "event=config.rejected"
expect_contains "the rejection names the template" "$(cat "$T/main.log")" \
    "regions/140425100000/sms/zh-CN/default.tpl:1:"
expect_eq "another alert is accepted" "$(post rain-2)" 201
check "three more deliveries sent" wait_sent 6
expect_eq "the old templates are still used" "$(text_to 2 13800000001)" \
    "【长治市气象台】青羊镇防汛方案：后店村郑庆海，暴雨橙色预警，立即组织转移到镇中学。"
check "no text fell back to the built-in wording" \
    bash -c "! grep -q render.fallback '$T/main.log'"

stop_gongd main
expect_eq "SIGTERM: clean exit (valgrind: no leaks or errors)" "$RC" 0
finish
