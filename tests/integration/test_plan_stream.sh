#!/bin/bash
# Integration (issue 4, the outbox): a large plan is sent while it is
# written.  An alert for ~40,000 people: the gateway fake receives the
# first message before gongd has finished writing the plan (its
# "plan.written" log line), every recipient gets the message once, and
# the deliveries end sent.  Before the planner had a thread of its own,
# nothing left before the whole plan was written (0.8 s for 100,000
# people, about 10 s for a million).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sms_lib.sh"

mkdir -p "$T/roster"
"$GENROSTER" --villages 8000 --responders-per-village 5 --seed 11 \
    --out "$T/roster" >/dev/null || { not_ok "gong-genroster"; finish; exit 1; }
start_fake || { not_ok "gateway fake starts"; finish; exit 1; }
write_config "$T/gong.yaml" "numbers_per_request: 200" "concurrency: 4"
D=$T/var
start_gongd stream --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_stream
TOK=$(cat "$D/admin.token")
# The roster is imported after start: wait for all of it.
want_people=$(($(grep -c . "$T/roster/responders.csv") - 1))
for _ in $(seq 1 600); do
	c=$(curl -s -H "Authorization: Bearer $TOK" \
	    "$U/api/v1/regions/140400000000?depth=0" |
	    jq -r '.region.counts.responders // 0')
	[ "$c" -ge "$want_people" ] 2>/dev/null && break
	sleep 0.1
done
expect_eq "the roster is imported" "$c" "$want_people"

EXP=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
cap_xml "stream-$$" Alert "$EXP" "全市暴雨预警" >"$T/a.xml"
t_post=$(date +%s.%N)
expect_eq "the alert is accepted" "$(post_cap "$T/a.xml")" 201
A=$(jq .id "$T/r.json")

check "every delivery ends sent" wait_states "$A" "sent" 120
total=$(curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$A/deliveries?limit=0" | jq .total)
check "the plan has more than 35,000 deliveries ($total)" \
    test "$total" -gt 35000

# When the plan was written, by gongd's own log line.
line=$(grep -m1 "event=plan.written alert=$A " "$T/stream.log")
check "gongd logged the plan written" test -n "$line"
ts=$(echo "$line" | sed -E 's/^ts=([^ ]*) .*/\1/')
t_planned=$(date -d "$ts" +%s.%N)
t_first=$(jq -s 'map(.t) | min' "$T/accepted.jsonl")
echo "# CAP POST to the first message at the gateway: $(awk -v a="$t_first" \
    -v b="$t_post" 'BEGIN { printf "%.0f", (a - b) * 1000 }') ms; to" \
    "the plan written: $(awk -v a="$t_planned" -v b="$t_post" \
    'BEGIN { printf "%.0f", (a - b) * 1000 }') ms"
check "the first message reached the gateway before the plan was written" \
    awk -v f="$t_first" -v p="$t_planned" 'BEGIN { exit !(f < p) }'

# Every recipient once: the fake's accepted numbers are the outbox's.
deliveries "$A" | jq -r .address | sort >"$T/want"
jq -r .to "$T/accepted.jsonl" | sort >"$T/got"
expect_eq "every recipient reached once ($(grep -c . "$T/want"))" \
    "$(diff "$T/want" "$T/got" | grep -c '^[<>]')" 0

stop_gongd stream
expect_eq "clean stop" "$RC" 0
finish
