# tests/integration/sms_lib.sh - for the fan-out tests through the
# sms_http driver and the local gateway fake (sourced after lib.sh).
#
# start_fake            starts sms_gateway_fake.py on a free port: FAKE_URL,
#                       FAKE_PID; its logs $T/accepted.jsonl (one line per
#                       message taken) and $T/requests.jsonl (one per
#                       request), its control file $T/control.json
# fake_control JSON     rewrites the control file ('{}': all normal)
# write_config FILE EXTRA_CHANNEL_LINES...
#                       a gongd config: generated roster in $T/roster, one
#                       sms_http channel "sms" to the fake, every role of
#                       every level routed through it, a 5 s lease; with
#                       CALLBACK=1 the requests name gongd's receipt URL
#                       and the fake posts receipts there
# cap_xml ID MSGTYPE EXPIRES_ISO HEADLINE [REFERENCES]   (sent: $SENT or now)
#                       a CAP 1.2 alert for the whole city (geocode 140400)
# post_cap FILE         POST as admin: body in $T/r.json, status echoed
# counts ALERT          {"state": n, …} of the alert's deliveries
# wait_states ALERT "sent delivered" SECONDS
#                       until every delivery is in one of the states

FAKE=$REPO/tests/integration/sms_gateway_fake.py

start_fake() {
	rm -f "$T/accepted.jsonl" "$T/requests.jsonl"
	echo '{}' >"$T/control.json"
	python3 "$FAKE" --port 0 --log "$T/accepted.jsonl" \
	    --requests "$T/requests.jsonl" --control "$T/control.json" \
	    >"$T/fake.out" 2>"$T/fake.err" &
	FAKE_PID=$!
	PIDS+=("$FAKE_PID")
	local i
	for i in $(seq 1 100); do
		if grep -q '^PORT ' "$T/fake.out" 2>/dev/null; then
			FAKE_URL="http://127.0.0.1:$(awk '/^PORT/ {print $2}' \
			    "$T/fake.out")/sms/send"
			return 0
		fi
		sleep 0.1
	done
	echo "# the gateway fake did not start"; sed 's/^/#   /' "$T/fake.err"
	return 1
}

fake_control() {
	printf '%s\n' "$1" >"$T/control.json.tmp"
	mv "$T/control.json.tmp" "$T/control.json"
}

write_config() {
	local f=$1 CB=""; shift
	[ -n "${CALLBACK:-}" ] && CB=',"callback":"{{callback}}"'
	{
		cat <<YAML
deployment:
  root: "140400000000"
rosters:
  regions: $T/roster/regions.csv
  responders: $T/roster/responders.csv
channels:
  - name: sms
    type: sms_http
    url: $FAKE_URL
    format: json
    body: '{"mobile":"{{numbers}}","content":"{{text}}","ids":"{{ids}}"$CB}'
    success_field: code
    success_value: OK
    gateway_id_field: msgid
    retry_values: [TOO_FAST]
    fail_values: [BAD_NUMBER]
YAML
		local l
		for l in "$@"; do
			printf '    %s\n' "$l"
		done
		cat <<YAML
feeds: []
routing:
  ancestor_roles: [duty_officer]
  ancestor_channels: [sms]
  people:
    - channels: [sms]
dispatch:
  lease: 5s
  max_attempts: 10
YAML
	} >"$f"
}

cap_xml() {
	local id=$1 type=$2 expires=$3 headline=$4 refs=${5:-}
	local sent
	sent=${SENT:-$(date -u +%Y-%m-%dT%H:%M:%S+00:00)}
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>$id</identifier>
  <sender>14040041600000</sender>
  <sent>$sent</sent>
  <status>Actual</status>
  <msgType>$type</msgType>
  <scope>Public</scope>
${refs:+  <references>$refs</references>
}  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>$expires</expires>
    <senderName>长治市气象台</senderName>
    <headline>$headline</headline>
    <description>$headline。</description>
    <instruction>转移危险区域群众。</instruction>
    <area>
      <areaDesc>全市</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140400</value></geocode>
    </area>
  </info>
</alert>
XML
}

post_cap() {
	curl -s -o "$T/r.json" -w '%{http_code}' \
	    -H "Authorization: Bearer $(cat "$D/admin.token")" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$1" "$U/api/v1/cap"
}

counts() {
	curl -s -H "Authorization: Bearer $(cat "$D/admin.token")" \
	    "$U/api/v1/alerts/$1/deliveries?limit=0" |
	    jq -c '.counts.by_state // {}'
}

# wait_states ALERT "STATE…" SECONDS: 0 once every delivery of ALERT is
# in one of the states (and there is at least one).
wait_states() {
	local a=$1 states=$2 secs=$3 i c want
	want=$(printf '%s\n' $states | jq -R . | jq -sc .)
	for i in $(seq 1 $((secs * 2))); do
		c=$(counts "$a" 2>/dev/null)
		if [ -n "$c" ] && [ "$c" != "{}" ] && echo "$c" |
		    jq -e --argjson w "$want" \
		    '[to_entries[] | select(.key as $k | $w | index($k) | not)]
		    | length == 0' >/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	echo "# still: $c"
	return 1
}

# The whole delivery list of an alert (pages of 10000) as JSON lines.
deliveries() {
	local a=$1 off=0 page n
	while :; do
		page=$(curl -s -H "Authorization: Bearer $(cat "$D/admin.token")" \
		    "$U/api/v1/alerts/$a/deliveries?limit=10000&offset=$off")
		n=$(echo "$page" | jq '.deliveries | length' 2>/dev/null)
		case $n in ''|*[!0-9]*) echo "# no delivery list" >&2; return 1 ;; esac
		echo "$page" | jq -c '.deliveries[]'
		[ "$n" -lt 10000 ] && break
		off=$((off + 10000))
	done
}
