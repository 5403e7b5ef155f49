#!/bin/bash
# Integration (issue 6, issuing): duty officers issue, update and cancel a
# warning from its fields (gong issue / update / cancel, POST
# /api/v1/warnings[/{id}/update|cancel]) on the demo deployment with its
# file channel.  An Exercise orange rainstorm warning for 西沟村
# (140425100201) by the township officer of 青羊镇: the dry run (counts
# per level and channel, one text per kind, nothing stored) is the same
# from gong issue --dry-run and from POST /api/v1/warnings?dry_run=1 (what
# the console previews); issued for real the outbox gets it marked 演练;
# the update references the alert and reaches its recipients; the cancel
# references the chain and sends cancel notices.  Red needs a second
# officer (issuing.approval): kept pending, refused to the issuer and to
# an officer of another county, approved by the county officer; a
# rejection.  Another jurisdiction is 403; every bad field is 400 naming
# it; the audit trail has it all.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

D=$T/var
mkdir -p "$D"
"$GONGD" --print-default-config |
    sed -E "s#^listen: .*#listen: 127.0.0.1:0#;
	s#^data_dir: .*#data_dir: $D#;
	s#^  sender: \"\"#  sender: gong@changzhi.example#;
	s#^  approval: \[\]#  approval: [red]#" >"$T/gong.yaml"
check "the config with issuing.approval [red] is accepted" \
    "$GONGD" --check-config "$T/gong.yaml"
start_gongd issue --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
U=$URL_issue
TOK=$(cat "$D/admin.token")
export GONG_URL=$U
unset GONG_TOKEN
PW=$(sed -n 's/^gongd: first admin account created: user "admin", password "\([^"]*\)"$/\1/p' "$T/issue.log")

# --- accounts: officers of 青羊镇, 平顺县 (twice) and 潞州区 ----------------
curl -s -D "$T/login.h" -o "$T/out" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"admin\",\"password\":\"$PW\"}" \
    "$U/api/v1/login" >/dev/null
ACSRF=$(jq -r .csrf "$T/out")
ACOOKIE=$(sed -n 's/^Set-Cookie: gong_session=\([0-9a-f]*\);.*/\1/p' \
    "$T/login.h" | tr -d '\r')
cpost() {	# PATH JSON: status; body in $T/out
	curl -s -o "$T/out" -w '%{http_code}' -X POST \
	    -H "Cookie: gong_session=$ACOOKIE" -H "X-CSRF-Token: $ACSRF" \
	    -H 'Content-Type: application/json' --data-binary "$2" \
	    "$U/api/v1/$1"
}
mkofficer() {	# NAME JURISDICTION: prints an API token of the new officer
	cpost users "{\"name\":\"$1\",\"role\":\"officer\",\"jurisdiction\":\"$2\",\"password\":\"pw-$1-0123456789\"}" >/dev/null
	cpost tokens "{\"name\":\"t\",\"user\":\"$1\"}" >/dev/null
	jq -r .token "$T/out"
}
T_TOWN=$(mkofficer town 140425100000)
T_COUNTY=$(mkofficer county 140425)
T_OTHER=$(mkofficer other 140403)
check "three officers with tokens" sh -c \
    "echo '$T_TOWN $T_COUNTY $T_OTHER' | grep -Eq '^(gong_[0-9a-f]{64} ){2}gong_[0-9a-f]{64}$'"

# req METHOD PATH TOKEN [JSON]: status; body in $T/out
req() {
	local m=$1 p=$2 t=$3
	if [ $# -ge 4 ]; then
		curl -s -o "$T/out" -w '%{http_code}' -X "$m" \
		    -H "Authorization: Bearer $t" \
		    -H 'Content-Type: application/json' --data-binary "$4" \
		    "$U/api/v1/$p"
	else
		curl -s -o "$T/out" -w '%{http_code}' -X "$m" \
		    -H "Authorization: Bearer $t" "$U/api/v1/$p"
	fi
}
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
gong_as() {	# TOKEN ARGS...: gong with that token
	local t=$1; shift
	GONG_TOKEN=$t "$GONG" "$@"
}
outbox_count() {	# TEXT: lines of the outbox holding it
	local n
	n=$(grep -c -- "$1" "$D/outbox.log" 2>/dev/null)
	echo "${n:-0}"
}
wait_outbox() {	# TEXT N: until N lines hold TEXT (10 s)
	for _ in $(seq 1 100); do
		[ "$(outbox_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

VILLAGE=140425100201
FIELDS=(--event 暴雨 --colour orange --region $VILLAGE
    --headline 青羊镇发布暴雨橙色预警
    --description "预计未来6小时西沟村降雨量将达50毫米以上。"
    --instruction "停止户外作业，转移危险区域人员。"
    --sender-name 青羊镇人民政府 --expires +6h --exercise)
BODY='{"event":"暴雨","colour":"orange","regions":["140425100201"],"headline":"青羊镇发布暴雨橙色预警","description":"预计未来6小时西沟村降雨量将达50毫米以上。","instruction":"停止户外作业，转移危险区域人员。","sender_name":"青羊镇人民政府","expires":"+6h","status":"Exercise"}'

# --- the dry run ------------------------------------------------------------
out=$(gong_as "$T_TOWN" issue "${FIELDS[@]}" --dry-run)
expect_eq "gong issue --dry-run exits 0" "$?" 0
expect_contains "it says nothing was sent" "$out" \
    "DRY RUN: nothing was sent or stored."
expect_contains "an Exercise Alert, orange, to be active" "$out" \
    "Exercise Alert, colour orange, would be active"
expect_contains "counts by level" "$out" "by level:"
expect_contains "counts by channel" "$out" "by channel:"
expect_contains "the rendered SMS, marked 演练" "$out" "【演练】【青羊镇人民政府】"
# The same from the CLI (--json) and the API the console calls; the
# texts carry the minute sent, so both are asked within one minute.
same=0
for _ in 1 2; do
	gong_as "$T_TOWN" issue "${FIELDS[@]}" --dry-run --json >"$T/cli.json"
	req POST "warnings?dry_run=1" "$T_TOWN" "$BODY" >"$T/st"
	cp "$T/out" "$T/api.json"
	cmp -s <(jq -S 'del(.identifier,.sent,.cap)' "$T/cli.json") \
	    <(jq -S 'del(.identifier,.sent,.cap)' "$T/api.json") &&
	    { same=1; break; }
done
expect_eq "POST /api/v1/warnings?dry_run=1 is 200" "$(cat "$T/st")" 200
check "gong issue --dry-run and the API's dry run: the same counts and texts" \
    test "$same" = 1
dry_total=$(jq .deliveries "$T/api.json")
expect_eq "the dry run: one exercise participant of 西沟村, by level and channel" \
    "$(jq -c '[.deliveries,.by_level,.by_channel,.regions,.targets]' "$T/api.json")" \
    '[1,{"village":1},{"outbox-file":1},1,["140425100201"]]'
expect_eq "one text per kind, the SMS" \
    "$(jq -r '[.samples[].kind]|join(",")' "$T/api.json")" sms
expect_contains "the sample text is the warning" \
    "$(jq -r '.samples[0].text' "$T/api.json")" "暴雨橙色预警"
expect_eq "the dry run holds the CAP it would store" \
    "$(jq -r .cap "$T/api.json" | grep -o '<sender>[^<]*</sender>\|<status>[^<]*</status>\|<value>[^<]*</value>' | tr '\n' ' ')" \
    "<sender>gong@changzhi.example</sender> <status>Exercise</status> <value>0203</value> <value>140425100201</value> "
jq -r .cap "$T/api.json" >"$T/dry.xml"
check "that CAP is valid CAP 1.2 (gong cap check)" "$GONG" cap check "$T/dry.xml"
expect_eq "its areaDesc is the village's name" \
    "$(grep -o '<areaDesc>[^<]*</areaDesc>' "$T/dry.xml")" \
    "<areaDesc>$(get regions/$VILLAGE | jq -r .region.name)</areaDesc>"
expect_eq "nothing stored" "$(get 'alerts?limit=1' | jq .total)" 0
check "nothing in the outbox" test ! -s "$D/outbox.log"

# --- issued for real ----------------------------------------------------------
gong_as "$T_TOWN" issue "${FIELDS[@]}" --json >"$T/a.json"
expect_eq "gong issue exits 0" "$?" 0
A=$(jq .id "$T/a.json")
expect_eq "stored: an active, broadcast Exercise alert, orange" \
    "$(jq -r '[.msg_type,.state,.broadcast,.colour,.regions]|join(" ")' "$T/a.json")" \
    "Alert active true orange 1"
expect_eq "the identifier scheme <root>-<yyyymmddHHMMSS>-<random>" \
    "$(jq -r .identifier "$T/a.json" | grep -Ec '^140400000000-20[0-9]{12}-[0-9a-f]{8}$')" 1
get "alerts/$A" >"$T/a_full.json"
expect_eq "the alert's source is console:<user>, sent in +08:00" \
    "$(jq -r '.alert|[.source,(.sent|test("\\+08:00$"))]|join(" ")' "$T/a_full.json")" \
    "console:town/t true"
check "the outbox gets the warning, marked 演练" wait_outbox "【演练】【青羊镇人民政府】" 1
expect_eq "as many messages as the dry run said" \
    "$(outbox_count '青羊镇人民政府')" "$dry_total"

# --- update -----------------------------------------------------------------
gong_as "$T_TOWN" update "$A" --headline 青羊镇暴雨橙色预警更新 \
    --expires +8h --json >"$T/u.json"
expect_eq "gong update exits 0" "$?" 0
UP=$(jq .id "$T/u.json")
SENT_A=$(jq -r .alert.sent "$T/a_full.json")
expect_eq "the Update references the alert (sender,identifier,sent)" \
    "$(jq -r '.references|join(" ")' "$T/u.json")" \
    "gong@changzhi.example,$(jq -r .identifier "$T/a.json"),$SENT_A"
expect_eq "stored as its chain's Update; the alert superseded" \
    "$(jq -r '[.msg_type,.chain_id]|join(" ")' "$T/u.json") $(get "alerts/$A" | jq -r .alert.state)" \
    "Update $A superseded"
expect_eq "the fields not given are kept (event, instruction, Exercise)" \
    "$(get "alerts/$UP" | jq -r '.alert|[.event,.status,(.cap.info[0].instruction)]|join(" ")')" \
    "暴雨 Exercise 停止户外作业，转移危险区域人员。"
check "the recipients get the update" wait_outbox "更新" 1

# --- cancel -----------------------------------------------------------------
out=$(gong_as "$T_TOWN" cancel "$UP" --reason 降雨减弱)
expect_eq "gong cancel exits 0" "$?" 0
expect_contains "it prints the stored Cancel" "$out" "Cancel"
C=$(get "alerts/$A/chain" | jq '.alerts[-1].id')
expect_eq "the Cancel references the whole chain (Alert, Update)" \
    "$(get "alerts/$C" | jq -r '[.alert.references[].alert_id]|map(tostring)|join(" ")')" \
    "$A $UP"
expect_eq "the chain: Alert, Update, Cancel" \
    "$(get "alerts/$A/chain" | jq -r '[.alerts[].msg_type]|join(",")')" \
    "Alert,Update,Cancel"
check "the cancel notices go out" wait_outbox "解除" 1
out=$(gong_as "$T_TOWN" cancel "$A" 2>&1)
expect_eq "a second cancel is refused (exit 1)" "$?" 1
expect_contains "... as already cancelled" "$out" "already cancelled"
gong_as "$T_TOWN" update 999999 --headline x >/dev/null 2>&1
expect_eq "an unknown alert: exit 6" "$?" 6

# --- jurisdiction -----------------------------------------------------------
expect_eq "the township officer may not warn another county's village" \
    "$(req POST warnings "$T_TOWN" '{"event":"暴雨","colour":"blue","regions":["140403100201"],"headline":"h","expires":"+1h"}')" 403
expect_contains "... and is told which region" "$(jq -r .error.message "$T/out")" \
    "regions[0]:"
gong_as "$T_TOWN" issue --event 暴雨 --colour blue --region 140403100201 \
    --headline h --expires +1h >/dev/null 2>&1
expect_eq "gong issue: exit 5 (not allowed)" "$?" 5
expect_eq "another county's officer may not cancel 青羊镇's warning" \
    "$(req POST "warnings/$A/cancel" "$T_OTHER" '{}')" 403

# --- second-person approval (red) -------------------------------------------
RED=(--event 暴雨 --colour red --region $VILLAGE --headline 青羊镇暴雨红色预警
    --sender-name 青羊镇人民政府 --expires +3h --exercise)
out=$(gong_as "$T_TOWN" issue "${RED[@]}" --dry-run)
expect_contains "the dry run says red needs approval" "$out" \
    "needs a second officer's approval"
gong_as "$T_TOWN" issue "${RED[@]}" --json >"$T/p.json"
expect_eq "red is kept pending (exit 0)" "$?" 0
P=$(jq .pending_id "$T/p.json")
expect_eq "pending approval, not stored as an alert" \
    "$(jq -r .state "$T/p.json") $(get 'alerts?limit=100' | jq '[.alerts[]|select(.colour=="red")]|length')" \
    "pending_approval 0"
expect_eq "GET /api/v1/warnings/pending lists it for the county officer" \
    "$(req GET warnings/pending "$T_COUNTY"; jq -r '.pending[0]|[.id,.state,.colour,.created_by,.regions]|join(" ")' "$T/out")" \
    "200$P pending red town 140425100201"
expect_eq "... not for another county's officer" \
    "$(req GET warnings/pending "$T_OTHER"; jq '.pending|length' "$T/out")" "2000"
out=$(gong_as "$T_TOWN" approve "$P" 2>&1)
expect_eq "the issuer may not approve it (exit 5)" "$?" 5
expect_contains "... a second officer must" "$out" "a second officer must approve"
curl -s -D "$T/tlogin.h" -o "$T/out" -H 'Content-Type: application/json' \
    --data-binary '{"name":"town","password":"pw-town-0123456789"}' \
    "$U/api/v1/login" >/dev/null
TCSRF=$(jq -r .csrf "$T/out")
TCOOKIE=$(sed -n 's/^Set-Cookie: gong_session=\([0-9a-f]*\);.*/\1/p' \
    "$T/tlogin.h" | tr -d '\r')
expect_eq "... nor through a console session instead of the token" \
    "$(curl -s -o "$T/out" -w '%{http_code}' -X POST \
    -H "Cookie: gong_session=$TCOOKIE" -H "X-CSRF-Token: $TCSRF" \
    "$U/api/v1/warnings/pending/$P/approve")" 403
gong_as "$T_OTHER" approve "$P" >/dev/null 2>&1
expect_eq "an officer without authority over 西沟村 may not (exit 5)" "$?" 5
out=$(gong_as "$T_COUNTY" approve "$P")
expect_eq "the county officer approves it" "$?" 0
expect_contains "... and it is an alert being sent" "$out" "being sent"
check "the outbox gets the red warning" wait_outbox "红色" 1
expect_eq "the pending row says who approved it" \
    "$(req GET 'warnings/pending?state=all' "$TOK"; jq -r ".pending[]|select(.id==$P)|[.state,.decided_by,(.alert_id|type)]|join(\" \")" "$T/out")" \
    "200approved county number"
gong_as "$T_COUNTY" approve "$P" >/dev/null 2>&1
expect_eq "approving it again is refused (exit 1)" "$?" 1
gong_as "$T_TOWN" issue "${RED[@]}" --json >"$T/p2.json"
P2=$(jq .pending_id "$T/p2.json")
expect_eq "another is rejected by the county officer" \
    "$(gong_as "$T_COUNTY" reject "$P2" --reason 证据不足 --json | jq -r '[.state,.reason]|join(" ")')" \
    "rejected 证据不足"
expect_eq "gong pending: nothing left pending" \
    "$(gong_as "$T_COUNTY" pending)" "no warnings pending approval"

# --- bad input: 400 naming the field ------------------------------------------
bad() {	# JSON -> "status first-field"
	req POST warnings "$T_TOWN" "$1" >"$T/st"
	echo "$(cat "$T/st") $(jq -r '.errors[0].field' "$T/out")"
}
OK='"event":"暴雨","colour":"blue","regions":["140425100201"],"expires":"+1h"'
expect_eq "an empty headline" "$(bad "{$OK,\"headline\":\" \"}")" "400 headline"
expect_eq "an unknown region" \
    "$(bad '{"event":"暴雨","colour":"blue","regions":["140425100299"],"headline":"h","expires":"+1h"}')" \
    "400 regions[0]"
expect_eq "expires before onset" \
    "$(bad "{$OK,\"headline\":\"h\",\"onset\":\"+2h\"}")" "400 expires"
expect_eq "an unknown field" "$(bad "{$OK,\"headline\":\"h\",\"sender\":\"x\"}")" \
    "400 sender"
expect_eq "an over-long headline" \
    "$(bad "{$OK,\"headline\":\"$(printf '%0300d' 0)\"}")" "400 headline"
expect_eq "a control character" "$(bad "{$OK,\"headline\":\"a\\u001bb\"}")" \
    "400 headline"
expect_eq "not JSON" "$(bad '{"event":')" "400 body"
expect_eq "a bad colour and a bad polygon point" \
    "$(bad '{"event":"e","colour":"pink","polygon":[[1,2],[3,400],[5,6]],"headline":"h","expires":"+1h"}' ; jq -r '[.errors[].field]|join(",")' "$T/out")" \
    "400 colour
colour,polygon[1]"
expect_eq "not JSON as content type: 415" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T_TOWN" \
    -H 'Content-Type: text/plain' --data-binary '{}' "$U/api/v1/warnings")" 415
expect_eq "a body over the server's limit: 413" \
    "$(head -c 70000 /dev/zero | tr '\0' a | sed 's/^/{"headline":"/;s/$/"}/' |
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T_TOWN" \
    -H 'Content-Type: application/json' --data-binary @- "$U/api/v1/warnings")" 413
out=$(gong_as "$T_TOWN" issue --event 暴雨 --colour orange --region $VILLAGE \
    --headline "" --expires +1h 2>&1)
expect_eq "gong issue with a bad field exits 1" "$?" 1
expect_contains "... naming it" "$out" "headline: must not be empty"
gong_as "$T_TOWN" issue --bogus >/dev/null 2>&1
expect_eq "a bad option: exit 2" "$?" 2
expect_eq "no login: 401" "$(req POST warnings "" "{$OK,\"headline\":\"h\"}")" 401

# --- audit --------------------------------------------------------------------
get 'audit?limit=500' >"$T/audit.json"
expect_eq "the audit trail: issue, update, cancel by town, the pending red, its approval and rejection" \
    "$(jq -r '[.audit[]|select(.outcome=="ok" or .outcome=="pending_approval")|select(.action|test("^(issue|update|cancel|issue_pending|approve|reject)$"))|"\(.actor):\(.action)"]|reverse|join(" ")' "$T/audit.json")" \
    "token:town/t:issue token:town/t:update token:town/t:cancel token:town/t:issue_pending token:county/t:approve token:town/t:issue_pending token:county/t:reject"
expect_eq "the refusals are audited as denied" \
    "$(jq '[.audit[]|select(.outcome=="denied" and (.action|test("warning|approve|issue|cancel")))]|length>=4' "$T/audit.json")" \
    true

stop_gongd issue
expect_eq "gongd stops cleanly" "$RC" 0
finish
