#!/bin/bash
# Integration (issue 4, fail-over when a channel is down): the SMS gateway
# answers 503; the channel "sms" has a fail-over partner (a file channel
# standing for a second gateway).  After five failures in a row the
# channel's circuit opens: the deliveries still waiting go to the partner
# at once instead of waiting out their backoff, every recipient gets the
# message there, /metrics shows the breaker, and the log says why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sms_lib.sh"

mkdir -p "$T/roster"
"$GENROSTER" --villages 30 --responders-per-village 5 --seed 5 \
    --out "$T/roster" >/dev/null || { not_ok "gong-genroster"; finish; exit 1; }
start_fake || { not_ok "gateway fake starts"; finish; exit 1; }
write_config "$T/gong.yaml" "numbers_per_request: 1" "concurrency: 2" \
    "failover: backup"
# The partner: a file channel addressed by phone (what it "sent" is in
# DATA_DIR/backup.log).
python3 - "$T/gong.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("feeds: []", "  - name: backup\n    type: file\n    path: backup.log\n    addr: phone\nfeeds: []", 1)
open(p, "w").write(s)
PY
D=$T/var
fake_control '{"down_until": 4102444800}'
start_gongd brk --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_brk
TOK=$(cat "$D/admin.token")
EXP=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
cap_xml "brk-$$" Alert "$EXP" "网关故障时的暴雨预警" >"$T/a.xml"
expect_eq "alert accepted" "$(post_cap "$T/a.xml")" 201
A=$(jq .id "$T/r.json")
n=$(($(wc -l <"$T/roster/responders.csv") - 1))

# Everyone is reached through the partner well before the backoff of
# the failing channel would have let them through.
for _ in $(seq 1 100); do
	got=$(sort -u <(jq -r .to "$D/backup.log" 2>/dev/null) | wc -l)
	[ "$got" -ge "$n" ] && break
	sleep 0.2
done
check "every active responder reached through the partner ($got)" \
    test "$got" -ge $((n - 5))
expect_contains "the log says the circuit opened" "$(cat "$T/brk.log")" \
    "event=channel.breaker_open channel=sms"
m=$(curl -s "$U/metrics")
expect_contains "metrics: breaker open" "$m" \
    'gong_channel_breaker_open{channel="sms"} 1'
expect_contains "metrics: breaker tripped" "$m" \
    'gong_channel_breaker_trips_total{channel="sms"} 1'
c=$(counts "$A")
check "the failing channel's deliveries ended failed, none left waiting" \
    test "$(echo "$c" | jq '(.retry // 0) + (.pending // 0) + (.sending // 0)')" -eq 0
expect_contains "their error says they were failed over" \
    "$(curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$A/deliveries?channel=sms&limit=1000" |
    jq -r '[.deliveries[].last_error] | unique | join("|")')" \
    "failed over"
stop_gongd brk
expect_eq "clean stop" "$RC" 0
finish
