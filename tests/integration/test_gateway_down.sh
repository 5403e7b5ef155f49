#!/bin/bash
# Integration (issue 4, acceptance 5): the SMS gateway is down (the fake
# answers 503) for about 10 s, then recovers.  Nothing is lost: every
# recipient of a long-lived alert gets it after the outage, receipts make
# the deliveries delivered, the attempts (503s at the fake, attempts and
# next_at in GET /api/v1/alerts/{id}/deliveries) show exponential backoff.
# An alert that expires during the outage: nothing of it is sent at all
# (nothing after its expiry), its deliveries end dead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sms_lib.sh"

mkdir -p "$T/roster"
"$GENROSTER" --villages 30 --responders-per-village 5 --seed 3 \
    --out "$T/roster" >/dev/null || { not_ok "gong-genroster"; finish; exit 1; }
start_fake || { not_ok "gateway fake starts"; finish; exit 1; }
CALLBACK=1 write_config "$T/gong.yaml" "numbers_per_request: 20" \
    "concurrency: 2"
D=$T/var
start_gongd down --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_down
TOK=$(cat "$D/admin.token")

# Down from now for 10 s.
t0=$(date +%s.%N)
UP_AT=$(awk -v t="$t0" 'BEGIN { printf "%.3f", t + 10 }')
fake_control "{\"down_until\": $UP_AT}"
EXP_A=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
EXP_B_S=$(( $(date +%s) + 6 ))
EXP_B=$(date -u -d "@$EXP_B_S" +%Y-%m-%dT%H:%M:%S+00:00)
cap_xml "down-$$-a" Alert "$EXP_A" "长期有效的暴雨预警" >"$T/a.xml"
cap_xml "down-$$-b" Alert "$EXP_B" "六秒后失效的暴雨预警" >"$T/b.xml"
expect_eq "alert A (expires in a day) accepted" "$(post_cap "$T/a.xml")" 201
A=$(jq .id "$T/r.json")
expect_eq "alert B (expires in 6 s) accepted" "$(post_cap "$T/b.xml")" 201
B=$(jq .id "$T/r.json")

# During the outage: deliveries wait in "retry" with a next attempt in
# the future and the gateway's answer as their last error.
sleep 4
now_ms=$(( $(date +%s%N) / 1000000 ))
curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$A/deliveries?state=retry&limit=10000" >"$T/retry.json"
nretry=$(jq .total "$T/retry.json")
check "during the outage A's deliveries wait in retry ($nretry)" \
    test "$nretry" -gt 0
expect_eq "their next attempt is in the future" \
    "$(jq --argjson n "$now_ms" '[.deliveries[] | select(.next_at <= $n)]
    | length' "$T/retry.json")" 0
expect_contains "their last error is the gateway's 503" \
    "$(jq -r '.deliveries[0].last_error' "$T/retry.json")" "HTTP 503"

check "A: every delivery ends delivered (receipts) after the outage" \
    wait_states "$A" "delivered" 60
check "B: every delivery ends dead" wait_states "$B" "dead" 30
echo "# A: $(counts "$A"), B: $(counts "$B")"

# Nothing lost: every address of A is in the fake's log.
deliveries "$A" >"$T/a.jsonl"
jq -r .address "$T/a.jsonl" | sort -u >"$T/a_want"
grep '长期有效的暴雨预警' "$T/accepted.jsonl" | jq -r .to | sort -u >"$T/a_got"
expect_eq "A reached every recipient ($(grep -c . "$T/a_want"))" \
    "$(comm -3 "$T/a_want" "$T/a_got" | grep -c .)" 0
expect_eq "nothing accepted while the gateway was down" \
    "$(jq -s --argjson up "$UP_AT" '[.[] | select(.t < $up)] | length' \
    "$T/accepted.jsonl")" 0

# Backoff: the attempts of one delivery of A, as the gateway saw them.
id=$(jq -r '.id' "$T/a.jsonl" | head -1)
jq -r --arg id "$id" 'select(.ids | index($id)) | "\(.t) \(.status)"' \
    "$T/requests.jsonl" >"$T/attempts"
sed 's/^/# attempt of delivery '"$id"': /' "$T/attempts"
n503=$(grep -c ' 503$' "$T/attempts")
check "at least 3 attempts refused with 503 ($n503)" test "$n503" -ge 3
expect_eq "then one accepted" "$(tail -1 "$T/attempts" | cut -d' ' -f2)" 200
gaps=$(awk 'NR > 1 { printf "%.2f ", $1 - p } { p = $1 }' "$T/attempts")
echo "# gaps between attempts (s): $gaps"
check "the gaps grow (exponential backoff with jitter: $gaps)" \
    awk -v g="$gaps" 'BEGIN { n = split(g, v, " ");
	if (v[1] < 1.4) exit 1;
	for (i = 2; i <= n; i++) if (v[i] <= v[i - 1]) exit 1; exit 0 }'
expect_eq "the store counts those attempts" \
    "$(jq -r --arg id "$id" 'select((.id|tostring) == $id) | .attempts' \
    "$T/a.jsonl")" "$(grep -c . "$T/attempts")"
expect_eq "every delivery of A was attempted at least 3 times" \
    "$(jq -s 'all(.attempts >= 3)' "$T/a.jsonl")" true

# B expired during the outage: nothing of it reached the gateway, and no
# request for its deliveries came after its expiry.
expect_eq "B: no message accepted" \
    "$(grep -c '六秒后失效的暴雨预警' "$T/accepted.jsonl")" 0
deliveries "$B" >"$T/b.jsonl"
jq -r '.id | tostring' "$T/b.jsonl" | sort >"$T/b_ids"
late=$(jq -r --argjson e "$EXP_B_S" 'select(.t > $e + 0.5) | .ids[]' \
    "$T/requests.jsonl" | sort -u | comm -12 - "$T/b_ids" | grep -c .)
expect_eq "B: no request after its expiry" "$late" 0
expect_contains "B: why it died" \
    "$(jq -r .last_error "$T/b.jsonl" | sort -u | head -3)" "expire"
stop_gongd down
expect_eq "clean stop" "$RC" 0
finish
