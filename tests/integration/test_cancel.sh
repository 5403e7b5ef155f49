#!/bin/bash
# Integration (issue 4, acceptance 6): a Cancel posted in the middle of a
# fan-out through a slow SMS gateway (200 ms a request of 10 numbers, two
# connections).  The deliveries not yet handed to the gateway become
# cancelled; everyone the alert reached (also those whose request was
# under way when the Cancel came) gets the cancel notice, exactly once,
# and nobody else: the sets are compared in the gateway fake's log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sms_lib.sh"

mkdir -p "$T/roster"
"$GENROSTER" --villages 400 --responders-per-village 5 --seed 5 \
    --out "$T/roster" >/dev/null || { not_ok "gong-genroster"; finish; exit 1; }
start_fake || { not_ok "gateway fake starts"; finish; exit 1; }
fake_control '{"delay": 0.2}'
write_config "$T/gong.yaml" "numbers_per_request: 10" "concurrency: 2"
D=$T/var
start_gongd cancel --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_cancel

EXP=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
SENT1=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
SENT=$SENT1 cap_xml "cancel-$$-1" Alert "$EXP" "全市暴雨红色预警" >"$T/alert.xml"
expect_eq "alert accepted" "$(post_cap "$T/alert.xml")" 201
A=$(jq .id "$T/r.json")

# Mid-way: once the gateway has a few hundred of the ~2,000 messages.
for _ in $(seq 1 200); do
	[ "$(grep -c . "$T/accepted.jsonl" 2>/dev/null || echo 0)" -ge 300 ] &&
	    break
	sleep 0.1
done
sleep 1
cap_xml "cancel-$$-2" Cancel "$EXP" "解除全市暴雨红色预警" \
    "14040041600000,cancel-$$-1,$SENT1" >"$T/cancel.xml"
before=$(grep -c . "$T/accepted.jsonl")
t_cancel=$(date +%s.%N)
expect_eq "cancel accepted" "$(post_cap "$T/cancel.xml")" 201
C=$(jq .id "$T/r.json")
echo "# the gateway had $before messages of the alert when the Cancel came"

check "the alert's deliveries end sent or cancelled" \
    wait_states "$A" "sent cancelled" 60
check "the cancel notices all go out" wait_states "$C" "sent" 60
ca=$(counts "$A")
echo "# alert: $ca; cancel: $(counts "$C")"
ncancelled=$(echo "$ca" | jq '.cancelled // 0')
nsent=$(echo "$ca" | jq '.sent // 0')
check "deliveries still pending became cancelled ($ncancelled)" \
    test "$ncancelled" -gt 1000
check "some were reached first ($nsent)" test "$nsent" -ge 300

# The sets, from the gateway's log.
grep -v '解除' "$T/accepted.jsonl" | jq -r .to | sort -u >"$T/got_alert"
grep '解除' "$T/accepted.jsonl" | jq -r .to | sort >"$T/got_cancel_all"
sort -u "$T/got_cancel_all" >"$T/got_cancel"
expect_eq "the gateway took the alert for as many as the store says" \
    "$(grep -c . "$T/got_alert")" "$nsent"
expect_eq "the cancel notice went exactly to those who got the alert" \
    "$(comm -3 "$T/got_alert" "$T/got_cancel" | grep -c .)" 0
expect_eq "each of them got it once" \
    "$(grep -c . "$T/got_cancel_all")" "$(grep -c . "$T/got_cancel")"
deliveries "$A" | jq -r 'select(.state == "sent") | .address' | sort \
    >"$T/sent_alert"
deliveries "$C" | jq -r .address | sort >"$T/cancel_to"
expect_eq "in the store too: cancel deliveries = sent alert deliveries" \
    "$(comm -3 "$T/sent_alert" "$T/cancel_to" | grep -c .)" 0
late=$(grep -v '解除' "$T/accepted.jsonl" |
    jq -s --argjson t "$t_cancel" '[.[] | select(.t > $t)] | length')
follow=$(grep -c 'event=delivery.follow_up ' "$T/cancel.log")
echo "# alert messages taken after the Cancel came: $late (already in" \
    "the channel's hands); notices added after the Cancel was planned: $follow"
check "at most what the channel held was sent after the Cancel ($late)" \
    test "$late" -le 250
stop_gongd cancel
expect_eq "clean stop" "$RC" 0
finish
