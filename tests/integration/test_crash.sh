#!/bin/bash
# Integration (issue 4, acceptance 4): a fan-out to ~20,000 recipients
# through the sms_http driver and the local gateway fake, with gongd
# killed with SIGKILL at random moments at least 5 times and restarted
# on the same data directory each time.  Afterwards every recipient has
# the message at least once (the fake's log of accepted messages), and
# the duplicates are counted and reported (target under 0.5 %; asserted
# only under a generous 5 %).  The lease of "sending" deliveries is 5 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sms_lib.sh"

KILLS=${CRASH_KILLS:-5}
mkdir -p "$T/roster"
"$GENROSTER" --villages 4000 --responders-per-village 5 --seed 7 \
    --out "$T/roster" >/dev/null ||
    { not_ok "gong-genroster"; finish; exit 1; }
PHONES=$(tail -n +2 "$T/roster/responders.csv" | cut -d, -f5 | sort -u |
    grep -c .)
start_fake || { not_ok "gateway fake starts"; finish; exit 1; }
# A gateway of modest speed: 15 ms per request of 5 numbers, two
# connections (about 600 messages a second), so that the fan-out lasts
# long enough to be killed in the middle several times.  What a kill
# duplicates is what the gateway had in hand and gongd had not yet
# recorded: up to 2 x concurrency x numbers_per_request (20) per kill.
fake_control '{"delay": 0.015}'
write_config "$T/gong.yaml" "numbers_per_request: 5" "concurrency: 2"
D=$T/var
start_gongd crash --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_crash
n=$("$GONG" --data-dir "$D" --json status | jq .counts.responders)
expect_eq "the generated roster is loaded" "$n" "$PHONES"

EXP=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
cap_xml "crash-$$-1" Alert "$EXP" "全市暴雨红色预警" >"$T/alert.xml"
expect_eq "alert accepted" "$(post_cap "$T/alert.xml")" 201
A=$(jq .id "$T/r.json")

# Kill at random moments: 0.5 to 3 s after each (re)start, while the
# outbox still has work.
killed=0
for k in $(seq 1 "$KILLS"); do
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + r / 32767 * 2.5 }')"
	c=$(counts "$A")
	kill -KILL "$PID_crash" 2>/dev/null && killed=$((killed + 1))
	wait "$PID_crash" 2>/dev/null
	got=$(grep -c . "$T/accepted.jsonl" 2>/dev/null || echo 0)
	echo "# kill $k: gateway had $got messages; outbox was $c"
	start_gongd crash --config "$T/gong.yaml" --data-dir "$D" \
	    --listen 127.0.0.1:0 || { not_ok "gongd restarts ($k)"; break; }
	U=$URL_crash
done
expect_eq "gongd killed with SIGKILL $KILLS times mid-fan-out" \
    "$killed" "$KILLS"
t0=$(date +%s)
check "every delivery ends sent or delivered" \
    wait_states "$A" "sent delivered" 120
echo "# outbox: $(counts "$A") ($(($(date +%s) - t0)) s after the last restart)"

# The recipients: every delivery of the plan (active responders).
deliveries "$A" | jq -r .address | sort >"$T/want_all"
sort -u "$T/want_all" >"$T/want"
total=$(grep -c . "$T/want_all")
ACTIVE=$(tail -n +2 "$T/roster/responders.csv" | awk -F, '$8 == "yes"' |
    grep -c .)
check "one delivery per active responder ($total for $ACTIVE)" \
    test "$total" -ge "$ACTIVE" -a "$(grep -c . "$T/want")" -eq "$total"
# What the gateway took: each number, how often.
jq -r '.to' "$T/accepted.jsonl" | sort | uniq -c |
    awk '{print $2, $1}' >"$T/per_number"
missing=$(cut -d' ' -f1 "$T/per_number" | comm -13 - "$T/want" | wc -l)
expect_eq "every recipient received the message at least once" \
    "$missing" 0
extra=$(cut -d' ' -f1 "$T/per_number" | comm -23 - "$T/want" | wc -l)
expect_eq "nobody outside the plan got it" "$extra" 0
msgs=$(grep -c . "$T/accepted.jsonl")
dups=$((msgs - $(grep -c . "$T/per_number")))
rate=$(awk -v d="$dups" -v n="$total" 'BEGIN { printf "%.3f", 100 * d / n }')
echo "# duplicates: $dups of $total recipients = $rate % (target < 0.5 %)," \
    "$killed kills (each may repeat what was in the gateway's hands or" \
    "answered but not yet recorded: 2 x 2 requests of 5)"
echo "# gateway requests: $(grep -c . "$T/requests.jsonl"), messages: $msgs"
check "duplicates under 5 % ($rate %)" \
    awk -v r="$rate" 'BEGIN { exit !(r < 5) }'
# Each message carried its delivery id as client id, and the ids of the
# duplicates are the same deliveries sent again (not new deliveries).
ids=$(jq -r '.id' "$T/accepted.jsonl" | sort -u | grep -c .)
expect_eq "client ids: one per recipient" "$ids" "$total"
stop_gongd crash
expect_eq "clean stop" "$RC" 0
finish
