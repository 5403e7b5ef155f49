#!/bin/bash
# Integration: gongd on its embedded default (what `make run` starts):
# the demo rosters of 长治市 load, /healthz answers, and
# `gong regions 140400000000 --depth 1` lists the county-level divisions
# with their counts.  (On a free port and a temporary data dir, so that it
# does not disturb a gongd a developer is running on 8080.)
. "$(dirname "$0")/lib.sh"

D=$T/var
start_gongd demo --data-dir "$D" --listen 127.0.0.1:0 ||
    { not_ok "gongd starts on the embedded default"; finish; exit 1; }
ok "gongd starts on the embedded default"
U=$URL_demo
expect_eq "healthz 200" "$(curl -s -o /dev/null -w '%{http_code}' \
    "$U/healthz")" 200
check "no roster errors in the log" \
    bash -c "! grep -q 'level=error' '$T/demo.log'"

out=$("$GONG" --data-dir "$D" regions 140400000000 --depth 1)
echo "$out" | sed 's/^/# /'
for c in "140403000000 潞州区" "140404000000 上党区" "140405000000 屯留区" \
    "140406000000 潞城区" "140423000000 襄垣县" "140425000000 平顺县" \
    "140426000000 黎城县" "140427000000 壶关县" "140428000000 长子县" \
    "140429000000 武乡县" "140430000000 沁县" "140431000000 沁源县" \
    "140471000000 高新技术产业园区"; do
	expect_contains "depth 1 lists $c" "$out" "  $c (county) regions="
done
expect_eq "exactly 13 county-level divisions" \
    "$(printf '%s\n' "$out" | grep -c '^  1404')" 13
json=$("$GONG" --data-dir "$D" --json status)
villages=$(curl -s -H "Authorization: Bearer $(cat "$D/admin.token")" \
    "$U/api/v1/regions/140400000000?depth=0" | jq .region.counts.regions)
check "thousands of regions" test "$villages" -gt 2000
check "tens of thousands of responders" \
    test "$(echo "$json" | jq .counts.responders)" -gt 10000
check "devices loaded" test "$(echo "$json" | jq .counts.devices)" -gt 1000
# The village of the CAP samples exists, with a loudspeaker.
TOK=$(cat "$D/admin.token")
v=$(curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/regions/140425100201")
expect_eq "140425100201 is a village of 平顺县" \
    "$(echo "$v" | jq -r '.region.level_name + " " + .parents[1].name')" \
    "village 平顺县"
d=$(curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/regions/140425100201/devices" | jq -r '[.devices[].kind] | join(",")')
expect_contains "the village has a loudspeaker" "$d" loudspeaker
# Each level has duty officers.
for code in 140400000000 140425000000 140425100000; do
	n=$(curl -s -H "Authorization: Bearer $TOK" \
	    "$U/api/v1/regions/$code/responders" |
	    jq '[.responders[] | select(.role == "duty_officer")] | length')
	check "duty officers at $code" test "$n" -ge 1
done
stop_gongd demo
expect_eq "clean stop" "$RC" 0

# A restart re-imports the same rosters: every row an update, no error.
mv "$T/demo.log" "$T/demo1.log"
start_gongd demo --data-dir "$D" --listen 127.0.0.1:0 ||
    not_ok "gongd starts again on the same data dir"
check "the restart re-imported the rosters without an error" \
    bash -c "! grep -q 'level=error' '$T/demo.log'"
expect_contains "regions updated, none inserted" "$(cat "$T/demo.log")" \
    "kind=regions file=$(cd "$REPO" && pwd)/config/demo/regions.csv inserted=0 updated="
stop_gongd demo
expect_eq "clean stop after the restart" "$RC" 0
finish
