#!/bin/bash
# Integration: issue 6, accounts and authority.  gongd on the demo
# roster (root 长治市 140400000000) with its test clock.
#
# First admin: created at the first start with a random password printed
# once on stderr (auth.first_admin logged, the password in no file of the
# data dir), not again at a restart.
#
# Acceptance 1, the authorisation matrix: users admin (root), officer of
# 平顺县 140425, officer of 青羊镇 140425100000 and viewer of 140425, each
# with an API token, × own jurisdiction (后店村 140425100201) / other
# (潞州区's 彭家口村 140403100201) / parent (长治市 for the county's
# people, 平顺县 for the township's) × issue (POST /api/v1/cap), cancel (a
# Cancel of an alert there), answer on behalf (a person of that region
# who was sent an alert), import, read (GET /api/v1/alerts/{id}) gives
# the expected 2xx or 403; without credentials 401; every refusal and
# every change is in GET /api/v1/audit with its actor and outcome.
# Reading follows the alerts list's rule: an alert is readable when one
# of its regions lies within the jurisdiction or above it (the city-wide
# warning is shown to the county); acting needs every region within.
#
# Acceptance 3, CSRF: a cookie-authenticated POST without the session's
# X-CSRF-Token, or with it from another Origin, is 403; the cookie is
# HttpOnly, SameSite=Strict, Path=/, Secure behind https.
#
# Acceptance 4: 50 wrong passwords for one user: 401 until the fifth,
# then 429 with Retry-After while the delay runs; all 50 audited; the
# right password is refused (429) during the delay and works once the
# test clock is past it.
#
# Also: users and tokens (shown once, revoked -> 401), logout, sessions
# ending after 30 minutes idle, officers' audit view limited to their
# jurisdiction, hostile bodies (unknown field, wrong type, control
# characters, over 4 KiB, not JSON, wrong media type); a feed's token
# bound to 平顺县 (its refusals and issues audited as feed:NAME); the
# gong commands login, users, tokens, audit, passwd, logout.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { not_ok "jq"; finish; exit 1; }
GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
D=$T/var
mkdir -p "$D"
DEMO=$REPO/config/demo
CLOCK=$T/clock
echo 0 >"$CLOCK"
export GONG_TEST_CLOCK_FILE=$CLOCK
export HOME=$T/home
mkdir -p "$HOME"
FEED_TOKEN=feed-token-0123456789abcdef
FH=$(printf %s "$FEED_TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: ./var
listen: 127.0.0.1:$GPORT
log_level: info
http:
  max_body: 1MiB
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$DEMO/responders.csv"
feeds:
  - name: pingshun-qx
    token_hash: "sha256:$FH"
    regions: ["140425"]
channels:
  - { name: sms, type: file, path: sms.log, addr: phone }
routing:
  people:
    - levels: [village]
      roles: [responsible]
      colours: [red]
      channels: [sms]
      answer: true
    - levels: [city, county]
      roles: [duty_officer]
      colours: [yellow]
      channels: [sms]
      answer: true
YAML
start_gongd a --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_a
TOK=$(cat "$D/admin.token")

# --- the first admin ---------------------------------------------------
PW=$(sed -n 's/^gongd: first admin account created: user "admin", password "\([^"]*\)"$/\1/p' "$T/a.log")
check "the first admin's password is printed once on stderr" \
    test "$(grep -c 'first admin account created' "$T/a.log")" = 1
check "it is 20+ characters" test "${#PW}" -ge 20
check "auth.first_admin is logged" grep -q 'event=auth.first_admin' "$T/a.log"
check "the log line does not hold the password" \
    sh -c "! grep 'event=auth.first_admin' '$T/a.log' | grep -qF '$PW'"
check "no file of the data dir holds the password" \
    sh -c "! grep -rqF '$PW' '$D'"

# --- helpers --------------------------------------------------------------
# req METHOD PATH TOKEN [curl args...]: prints the status; the body in
# $T/out.
req() {
	local m=$1 p=$2 t=$3; shift 3
	local auth=()
	[ -n "$t" ] && auth=(-H "Authorization: Bearer $t")
	curl -s -o "$T/out" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" \
	    "$U/api/v1/$p"
}
jpost() {	# PATH TOKEN JSON
	req POST "$1" "$2" -H 'Content-Type: application/json' \
	    --data-binary "$3"
}
# cap IDENT TYPE REGION SEVERITY [REFERENCES]: writes $T/IDENT.xml
cap() {
	local refs=""
	[ -n "${5:-}" ] && refs="<references>$5</references>"
	cat >"$T/$1.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>$1</identifier>
  <sender>14042541600000</sender>
  <sent>2026-07-15T11:3$([ "$2" = Cancel ] && echo 5 || echo 0):00+08:00</sent>
  <status>Actual</status>
  <msgType>$2</msgType>
  <scope>Public</scope>
  $refs
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>$4</severity>
    <certainty>Observed</certainty>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>暴雨预警</headline>
    <description>测试。</description>
    <area>
      <areaDesc>$3</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>$3</value></geocode>
    </area>
  </info>
</alert>
XML
}
post_cap() {	# IDENT TOKEN [curl args]: status
	local i=$1 t=$2; shift 2
	req POST cap "$t" -H 'Content-Type: application/cap+xml' "$@" \
	    --data-binary @"$T/$i.xml"
}
# admin_alert IDENT REGION SEVERITY: an alert stored by the admin token;
# prints its id
admin_alert() {
	cap "$1" Alert "$2" "$3"
	post_cap "$1" "$TOK" >/dev/null
	jq -r .id "$T/out"
}
ref_of() { echo "14042541600000,$1,2026-07-15T11:30:00+08:00"; }

# --- users and tokens -------------------------------------------------------
curl -s -D "$T/login.h" -o "$T/out" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"admin\",\"password\":\"$PW\"}" \
    "$U/api/v1/login"
check "the first admin logs in" test "$(jq -r .role "$T/out")" = admin
ACSRF=$(jq -r .csrf "$T/out")
ACOOKIE=$(sed -n 's/^Set-Cookie: gong_session=\([0-9a-f]*\);.*/\1/p' \
    "$T/login.h" | tr -d '\r')
SETC=$(grep -i '^Set-Cookie:' "$T/login.h" | tr -d '\r')
expect_contains "the session cookie is HttpOnly" "$SETC" "; HttpOnly"
expect_contains "the session cookie is SameSite=Strict" "$SETC" \
    "; SameSite=Strict"
expect_contains "the session cookie has Path=/" "$SETC" "; Path=/"
case "$SETC" in *Secure*) not_ok "no Secure over plain http" ;;
*) ok "no Secure over plain http" ;; esac
# cpost PATH JSON [curl args]: POST as the admin's session
cpost() {
	local p=$1 b=$2; shift 2
	curl -s -o "$T/out" -w '%{http_code}' -X POST \
	    -H "Cookie: gong_session=$ACOOKIE" \
	    -H 'Content-Type: application/json' "$@" --data-binary "$b" \
	    "$U/api/v1/$p"
}
mkuser() {	# NAME ROLE JURISDICTION
	cpost users "{\"name\":\"$1\",\"role\":\"$2\",\"jurisdiction\":\"$3\",\"password\":\"pw-$1-0123456789\"}" \
	    -H "X-CSRF-Token: $ACSRF"
}
expect_eq "admin (session + CSRF) adds the county officer" \
    "$(mkuser county officer 140425)" 201
expect_eq "its jurisdiction is normalised" "$(jq -r .jurisdiction "$T/out")" \
    140425000000
expect_eq "... the township officer" \
    "$(mkuser town officer 140425100000)" 201
expect_eq "... the viewer" "$(mkuser viewer viewer 140425)" 201
expect_eq "a second user of the same name is 409" \
    "$(mkuser viewer viewer 140425)" 409
mktoken() {	# USER: prints the token
	cpost tokens "{\"name\":\"t\",\"user\":\"$1\"}" \
	    -H "X-CSRF-Token: $ACSRF" >/dev/null
	jq -r .token "$T/out"
}
T_ADMIN=$(mktoken admin)
T_COUNTY=$(mktoken county)
T_TOWN=$(mktoken town)
T_VIEWER=$(mktoken viewer)
check "tokens are shown once at creation (gong_ + 64 hex)" \
    sh -c "echo '$T_ADMIN $T_COUNTY $T_TOWN $T_VIEWER' |
    grep -Eq '^(gong_[0-9a-f]{64} ){3}gong_[0-9a-f]{64}$'"
check "no token is stored in clear" \
    sh -c "! grep -rqF '$T_COUNTY' '$D'"
expect_eq "GET /api/v1/me with a token" \
    "$(req GET me "$T_TOWN"; jq -r '[.kind,.name,.role,.jurisdiction]|join(" ")' "$T/out")" \
    "200token town/t officer 140425100000"
expect_eq "the token list does not show the token" \
    "$(req GET tokens "$T_COUNTY"; jq -c '[.tokens[]|keys]' "$T/out")" \
    "200[[\"created\",\"id\",\"last_used\",\"name\",\"revoked\",\"user\"]]"

# --- the matrix -------------------------------------------------------------
OWN=140425100201; OTHER=140403100201; CITY=140400000000; COUNTY=140425000000
# Alerts to read and answer: red to the villages (their responsible
# people), yellow to the city and the county (their duty officers).
A_OWN=$(admin_alert rd-own $OWN Extreme)
A_OTHER=$(admin_alert rd-other $OTHER Extreme)
A_CITY=$(admin_alert rd-city $CITY Moderate)
A_COUNTY=$(admin_alert rd-county $COUNTY Moderate)
check "the admin token stores the alerts to read" \
    test "$A_OWN" -gt 0 -a "$A_OTHER" -gt 0 -a "$A_CITY" -gt 0 \
    -a "$A_COUNTY" -gt 0
sent_to() {	# ALERT RESPONDER
	req GET "alerts/$1/deliveries?limit=1000" "$TOK" >/dev/null
	[ "$(jq --arg r "$2" '[.deliveries[]|select(.responder_id==$r)]|length' \
	    "$T/out")" -ge 1 ]
}
wait_sent() {
	for _ in $(seq 1 150); do sent_to "$1" "$2" && return 0; sleep 0.1; done
	return 1
}
check "郑庆海 (后店村) was sent the own alert" wait_sent "$A_OWN" 140425100201-1
check "常晓瑞 (彭家口村) was sent the other alert" wait_sent "$A_OTHER" 140403100201-1
check "长治市's duty officer was sent the city alert" wait_sent "$A_CITY" 140400000000-D1
check "平顺县's duty officer was sent the county alert" wait_sent "$A_COUNTY" 140425000000-D1

printf 'code,name,lat,lon,parent\n140425100299,测试村,36.2,113.3,140425100000\n' \
    >"$T/import.csv"
N_CELL=0
# cell PRINCIPAL TOKEN ACTION WHERE REGION ALERT PERSON: prints the status
cell() {
	local p=$1 t=$2 act=$3 where=$4 reg=$5 al=$6 person=$7 id
	N_CELL=$((N_CELL + 1))
	id="m$N_CELL-$p-$act-$where"
	case $act in
	issue)
		cap "$id" Alert "$reg" Minor
		post_cap "$id" "$t" ;;
	cancel)
		admin_alert "$id-a" "$reg" Minor >/dev/null
		cap "$id" Cancel "$reg" Minor "$(ref_of "$id-a")"
		post_cap "$id" "$t" ;;
	answer)
		jpost "alerts/$al/answers" "$t" \
		    "{\"responder_id\":\"$person\",\"reason\":\"reached by phone\",\"by\":\"$p\"}" ;;
	import)
		req POST "import/regions?dry_run=1" "$t" \
		    -H 'Content-Type: text/csv' --data-binary @"$T/import.csv" ;;
	read)
		req GET "alerts/$al" "$t" ;;
	esac
}
# the expected answer: allow (2xx) or 403
verdict() { case $1 in 2??) echo allow ;; 403) echo 403 ;; *) echo "$1" ;; esac; }
run_row() {	# PRINCIPAL TOKEN PARENT-REGION PARENT-ALERT PARENT-PERSON EXPECT...
	local p=$1 t=$2 preg=$3 pal=$4 pper=$5; shift 5
	local act where reg al per want got
	for act in issue cancel answer import read; do
		for where in own other parent; do
			case $where in
			own) reg=$OWN al=$A_OWN per=140425100201-1 ;;
			other) reg=$OTHER al=$A_OTHER per=140403100201-1 ;;
			parent) reg=$preg al=$pal per=$pper ;;
			esac
			want=$1; shift
			[ "$act" = import ] && [ "$where" != own ] && continue
			got=$(verdict "$(cell "$p" "$t" "$act" "$where" "$reg" "$al" "$per")")
			expect_eq "$p $act $where: $want" "$got" "$want"
			[ "$got" = "$want" ] || sed 's/^/#   /' "$T/out"
		done
	done
}
#               issue: own other parent  cancel: o o p      answer: o o p     import  read: o o p
run_row admin "$T_ADMIN" $CITY "$A_CITY" 140400000000-D1 \
    allow allow allow  allow allow allow  allow allow allow  allow - -  allow allow allow
run_row county "$T_COUNTY" $CITY "$A_CITY" 140400000000-D1 \
    allow 403 403      allow 403 403      allow 403 403      403 - -    allow 403 allow
run_row town "$T_TOWN" $COUNTY "$A_COUNTY" 140425000000-D1 \
    allow 403 403      allow 403 403      allow 403 403      403 - -    allow 403 allow
run_row viewer "$T_VIEWER" $CITY "$A_CITY" 140400000000-D1 \
    403 403 403        403 403 403        403 403 403        403 - -    allow 403 allow
# Without credentials: 401 for every action, with WWW-Authenticate.
for act in issue cancel answer import read; do
	expect_eq "nobody $act: 401" \
	    "$(cell nobody "" "$act" own $OWN "$A_OWN" 140425100201-1)" 401
done
curl -s -D "$T/h" -o /dev/null "$U/api/v1/alerts"
check "401 carries WWW-Authenticate" grep -qi '^WWW-Authenticate: Bearer' "$T/h"
expect_eq "a wrong bearer token is 401" "$(req GET alerts gong_0000)" 401
expect_eq "the county officer's alert list holds only 平顺县's and above" \
    "$(req GET 'alerts?limit=1000' "$T_COUNTY"; jq -r --argjson o "$A_OTHER" \
    '[.alerts[]|select(.id==$o)]|length' "$T/out")" "2000"
expect_eq "... and asking for 潞州区 is 403" \
    "$(req GET 'alerts?region=140403' "$T_COUNTY")" 403
for sub in deliveries answers report unanswered chain cap; do
	expect_eq "the viewer reads 后店村's alert's $sub" \
	    "$(req GET "alerts/$A_OWN/$sub" "$T_VIEWER")" 200
	expect_eq "... not 彭家口村's" \
	    "$(req GET "alerts/$A_OTHER/$sub" "$T_VIEWER")" 403
done
expect_eq "an unknown alert is still 404 for an officer" \
    "$(req GET "alerts/999999" "$T_COUNTY")" 404
expect_eq "the viewer reads 后店村's region page" \
    "$(req GET "regions/$OWN" "$T_VIEWER")" 200
expect_eq "... but not 潞州区's responders" \
    "$(req GET "regions/140403/responders" "$T_VIEWER")" 403
expect_eq "an officer may not back up the store" \
    "$(req GET backup "$T_COUNTY")" 403
expect_eq "an officer may not list users" "$(req GET users "$T_COUNTY")" 403
expect_eq "403 names what is missing" \
    "$(jq -r .error.message "$T/out")" \
    "users needs role admin (county/t has role officer)"

# The audit trail: every cell that changed something or was refused.
audit() {	# QUERY: the rows as "actor action outcome", sorted, counted
	req GET "audit?limit=1000&$1" "$TOK" >/dev/null
	jq -r '.audit[]|"\(.actor) \(.action) \(.outcome)"' "$T/out" |
	    sort | uniq -c | sed 's/^ *//'
}
expect_eq "the county officer's rows in the audit trail" \
    "$(audit actor=token:county/t)" "2 token:county/t answer denied
1 token:county/t answer ok
1 token:county/t cancel ok
4 token:county/t cap denied
1 token:county/t import denied
1 token:county/t issue ok
1 token:county/t read:alert denied
1 token:county/t read:alerts denied
1 token:county/t read:backup denied
1 token:county/t read:users denied"
expect_eq "the township officer's" "$(audit actor=token:town/t)" \
    "2 token:town/t answer denied
1 token:town/t answer ok
1 token:town/t cancel ok
4 token:town/t cap denied
1 token:town/t import denied
1 token:town/t issue ok
1 token:town/t read:alert denied"
expect_eq "the viewer's" "$(audit actor=token:viewer/t)" \
    "3 token:viewer/t answer denied
6 token:viewer/t cap denied
1 token:viewer/t import denied
1 token:viewer/t read:alert denied
1 token:viewer/t read:alert_answers denied
1 token:viewer/t read:alert_cap denied
1 token:viewer/t read:alert_chain denied
1 token:viewer/t read:alert_deliveries denied
1 token:viewer/t read:alert_report denied
1 token:viewer/t read:alert_unanswered denied
1 token:viewer/t read:region_responders denied"
expect_eq "the admin's" "$(audit actor=token:admin/t)" \
    "3 token:admin/t answer ok
3 token:admin/t cancel ok
1 token:admin/t import ok
3 token:admin/t issue ok"
expect_eq "the rosters of the config are imported as system" \
    "$(audit actor=system)" "2 system import ok"
expect_eq "the unauthenticated requests'" "$(audit actor=anonymous)" \
    "1 anonymous answer unauthenticated
2 anonymous cap unauthenticated
1 anonymous import unauthenticated
1 anonymous read:alert unauthenticated
2 anonymous read:alerts unauthenticated"
req GET "audit?actor=token:county/t&action=issue" "$TOK" >/dev/null
expect_eq "a CAP row: target, jurisdiction, address, after" \
    "$(jq -c '.audit[0]|[.target,.jurisdiction,.from,.after.msg_type,.after.regions]' "$T/out")" \
    "[\"alert:$(jq -r '.audit[0].after.id' "$T/out")\",\"140425100201\",\"127.0.0.1\",\"Alert\",[\"140425100201\"]]"
req GET "audit?actor=token:county/t&action=answer" "$TOK" >/dev/null
expect_eq "an answer row: who was answered for, by whom" \
    "$(jq -r '[.audit[]|select(.outcome=="ok")][0]|"\(.target) \(.after.recorded_by) \(.after.path)"' "$T/out")" \
    "alert:$A_OWN responder:140425100201-1 county/t officer"
# Officers see their jurisdiction's rows only.
req GET "audit?limit=1000" "$T_TOWN" >/dev/null
expect_eq "the township officer's audit view holds only 青羊镇's rows" \
    "$(jq -r '[.audit[]|select(.jurisdiction|tostring|startswith("140425100")|not)]|length' "$T/out")" 0
expect_eq "... the admin's issue in 后店村 among them" \
    "$(jq -r '[.audit[]|select(.actor=="token:admin/t" and .action=="issue" and .jurisdiction=="140425100201")]|length' "$T/out")" 1
expect_eq "a viewer may not read the audit trail" \
    "$(req GET audit "$T_VIEWER")" 403
expect_contains "audit rows cannot be changed (SQLite trigger)" \
    "$(sqlite3 -cmd '.timeout 5000' "$D/gong.db" \
    "UPDATE audit SET outcome='ok' WHERE id = 1" 2>&1)" \
    "audit rows are append-only"
expect_contains "... nor deleted" \
    "$(sqlite3 -cmd '.timeout 5000' "$D/gong.db" "DELETE FROM audit" 2>&1)" \
    "audit rows are append-only"

# A feed keeps its own token and regions; its actions are audited too.
cap feed-own Alert $OWN Minor
expect_eq "the feed warns within its regions" "$(post_cap feed-own "$FEED_TOKEN")" 201
cap feed-other Alert $OTHER Minor
expect_eq "... and not outside them" "$(post_cap feed-other "$FEED_TOKEN")" 403
# The dry run of a plan shows who would be reached: an officer's only
# within the jurisdiction, as for issuing.
plan() {	# FILE TOKEN -> status
	req POST plan "$2" -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/$1.xml"
}
expect_eq "the county officer's dry run within 平顺县" \
    "$(plan feed-own "$T_COUNTY")" 200
expect_eq "... and not for 彭家口村 outside it" \
    "$(plan feed-other "$T_COUNTY")" 403
expect_contains "... which it says" "$(cat "$T/out")" \
    "region 140403100201 is outside the regions"
expect_eq "the admin's dry run anywhere" "$(plan feed-other "$TOK")" 200
expect_eq "the feed's rows in the audit trail" "$(audit actor=feed:pingshun-qx)" \
    "1 feed:pingshun-qx cap denied
1 feed:pingshun-qx issue ok"

# --- acceptance 3: CSRF ---------------------------------------------------
curl -s -D "$T/login.h" -o "$T/out" -H 'Content-Type: application/json' \
    --data-binary '{"name":"county","password":"pw-county-0123456789"}' \
    "$U/api/v1/login"
CCSRF=$(jq -r .csrf "$T/out")
CCOOKIE=$(sed -n 's/^Set-Cookie: gong_session=\([0-9a-f]*\);.*/\1/p' \
    "$T/login.h" | tr -d '\r')
expect_eq "the county officer logs in" "$(jq -r '.user+" "+.jurisdiction' "$T/out")" \
    "county 140425000000"
ccap() {	# IDENT [curl args]: POST the CAP with the officer's cookie
	local i=$1; shift
	curl -s -o "$T/out" -w '%{http_code}' -X POST \
	    -H "Cookie: gong_session=$CCOOKIE" \
	    -H 'Content-Type: application/cap+xml' "$@" \
	    --data-binary @"$T/$i.xml" "$U/api/v1/cap"
}
cap csrf-1 Alert $OWN Minor
expect_eq "cookie POST without X-CSRF-Token: 403" "$(ccap csrf-1)" 403
expect_eq "... naming the CSRF token" "$(jq -r .error.message "$T/out")" \
    "the CSRF token is missing or wrong: send the session's csrf in X-CSRF-Token (or the form field csrf)"
expect_eq "cookie POST with a wrong token: 403" \
    "$(ccap csrf-1 -H "X-CSRF-Token: ${CCSRF%?}$([ "${CCSRF: -1}" = 0 ] && echo 1 || echo 0)")" 403
expect_eq "cookie POST from another Origin (token right): 403" \
    "$(ccap csrf-1 -H "X-CSRF-Token: $CCSRF" -H 'Origin: http://evil.example')" 403
expect_eq "... or another Referer: 403" \
    "$(ccap csrf-1 -H "X-CSRF-Token: $CCSRF" -H 'Referer: http://evil.example/form')" 403
expect_eq "a cross-site form post with csrf as a field but no cookie ... 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' \
    --data "csrf=$CCSRF" "$U/api/v1/logout")" 401
expect_eq "cookie POST with the token from our own origin: stored" \
    "$(ccap csrf-1 -H "X-CSRF-Token: $CCSRF" -H "Origin: $U")" 201
expect_eq "cookie GET needs no token" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Cookie: gong_session=$CCOOKIE" "$U/api/v1/me")" 200
expect_eq "the refusals are audited" \
    "$(audit actor=county | grep -E ' (cap|issue) ')" "2 county cap denied:cross_origin
2 county cap denied:csrf
1 county issue ok"
curl -s -D "$T/h" -o /dev/null -H 'X-Forwarded-Proto: https' \
    -H 'Content-Type: application/json' \
    --data-binary '{"name":"viewer","password":"pw-viewer-0123456789"}' \
    "$U/api/v1/login"
check "behind https the cookie is Secure" \
    grep -qi '^Set-Cookie: gong_session=.*; Secure' "$T/h"
expect_eq "a login posted from another origin is 403" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' \
    -H 'Content-Type: application/json' \
    --data-binary '{"name":"viewer","password":"pw-viewer-0123456789"}' \
    "$U/api/v1/login")" 403

# --- hostile bodies -------------------------------------------------------
lpost() { curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: ${2:-application/json}" \
    --data-binary "$1" "$U/api/v1/login"; }
expect_eq "login: unknown field 400" "$(lpost '{"name":"a","password":"b","x":1}')" 400
expect_eq "login: wrong type 400" "$(lpost '{"name":1,"password":"b"}')" 400
expect_eq "login: control characters 400" "$(lpost '{"name":"a\u0001","password":"b"}')" 400
expect_eq "login: not JSON 400" "$(lpost '{"name":')" 400
expect_eq "login: duplicate key 400" "$(lpost '{"name":"a","name":"b","password":"c"}')" 400
expect_eq "login: a form 415" "$(lpost 'name=a&password=b' application/x-www-form-urlencoded)" 415
head -c 5000 /dev/zero | tr '\0' a >"$T/big"
expect_eq "login: over 4 KiB 413" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$T/big" "$U/api/v1/login")" 413
head -c 1100000 /dev/zero | tr '\0' a >"$T/huge"
expect_eq "an import over http.max_body (chunked): 413" \
    "$(req POST "import/regions?dry_run=1" "$T_ADMIN" \
    -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/huge")" 413
expect_eq "... audited" "$(audit actor=token:admin/t | grep 'import rejected')" \
    "1 token:admin/t import rejected:413"
expect_eq "users: a bad role 400" \
    "$(jpost users "$TOK" '{"name":"x1","role":"root","jurisdiction":"140425"}')" 400
expect_eq "users: a jurisdiction outside the root 400" \
    "$(jpost users "$TOK" '{"name":"x1","role":"viewer","jurisdiction":"110000"}')" 400
expect_eq "users: a short password 400" \
    "$(jpost users "$TOK" '{"name":"x1","role":"viewer","jurisdiction":"140425","password":"short"}')" 400
expect_eq "users: a bad name 400" \
    "$(jpost users "$TOK" '{"name":"../x","role":"viewer","jurisdiction":"140425"}')" 400
expect_eq "users: no password given: one is made and shown once" \
    "$(jpost users "$TOK" '{"name":"x2","role":"viewer","jurisdiction":"140425"}'; \
    jq -r '.password|length >= 20' "$T/out")" "201true"
expect_eq "PATCH users/{name}: disabled must be a boolean" \
    "$(req PATCH users/x2 "$TOK" -H 'Content-Type: application/json' \
    --data-binary '{"disabled":"yes"}')" 400
expect_eq "the method of /users/{name} is PATCH" "$(req GET users/x2 "$TOK")" 405

# --- user changes, token revocation, logout, idle sessions ---------------
expect_eq "admin disables the viewer" \
    "$(req PATCH users/viewer "$TOK" -H 'Content-Type: application/json' \
    --data-binary '{"disabled":true}')" 200
expect_eq "a disabled user's token is refused" "$(req GET me "$T_VIEWER")" 401
req GET "audit?action=user.update" "$TOK" >/dev/null
expect_eq "the change is audited with before and after" \
    "$(jq -c '.audit[0]|[.target,.before.disabled,.after.disabled]' "$T/out")" \
    '["user:viewer",false,true]'
expect_eq "the last admin cannot be demoted" \
    "$(req PATCH users/admin "$TOK" -H 'Content-Type: application/json' \
    --data-binary '{"role":"viewer"}')" 409
TID=$(req GET tokens "$T_TOWN" >/dev/null; jq -r '.tokens[0].id' "$T/out")
expect_eq "the township officer revokes their token" \
    "$(req DELETE "tokens/$TID" "$T_TOWN")" 200
expect_eq "a revoked token is 401" "$(req GET me "$T_TOWN")" 401
expect_eq "the county officer cannot revoke the admin's token" \
    "$(req DELETE "tokens/1" "$T_COUNTY")" 404
expect_eq "logout with the cookie and its CSRF token" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "Cookie: gong_session=$CCOOKIE" -H "X-CSRF-Token: $CCSRF" \
    "$U/api/v1/logout")" 200
expect_eq "the session is gone" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Cookie: gong_session=$CCOOKIE" "$U/api/v1/me")" 401
expect_eq "the admin's session is alive" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Cookie: gong_session=$ACOOKIE" "$U/api/v1/me")" 200
echo $((31 * 60 * 1000)) >"$CLOCK"
sleep 0.1
expect_eq "... and ends after 30 minutes idle" \
    "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Cookie: gong_session=$ACOOKIE" "$U/api/v1/me")" 401

# --- acceptance 4: 50 wrong passwords --------------------------------------
wrong() {
	curl -s -D "$T/h" -o "$T/out" -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    --data-binary "{\"name\":\"town\",\"password\":\"$1\"}" \
	    "$U/api/v1/login"
}
n401=0; n429=0; nra=0; first=""
for i in $(seq 1 50); do
	s=$(wrong "guess-$i-xxxxxxxx")
	first="$first$s "
	case $s in
	401) n401=$((n401 + 1)) ;;
	429) n429=$((n429 + 1))
		grep -qi '^Retry-After: [1-9]' "$T/h" && nra=$((nra + 1)) ;;
	esac
done
expect_eq "the first five wrong passwords are 401" "${first:0:20}" \
    "401 401 401 401 401 "
check "then they are slowed down: 429 ($n429 of 50, $n401 401s)" \
    test "$n429" -ge 30 -a $((n401 + n429)) = 50
expect_eq "every 429 says Retry-After" "$nra" "$n429"
expect_eq "the right password is refused during the delay" \
    "$(wrong pw-town-0123456789)" 429
RA=$(sed -n 's/^Retry-After: \([0-9]*\).*/\1/ip' "$T/h" | tr -d '\r')
check "Retry-After is at most 15 minutes ($RA s)" test "$RA" -ge 1 -a "$RA" -le 900
req GET "audit?actor=town&action=login&limit=1000" "$TOK" >/dev/null
expect_eq "all 51 attempts are audited (failed or throttled)" \
    "$(jq -r '[.audit[]|select(.outcome=="failed" or .outcome=="throttled")]|length' "$T/out")" 51
expect_eq "... with the client's address" \
    "$(jq -r '[.audit[]|.from]|unique|join(",")' "$T/out")" 127.0.0.1
echo $(( (31 * 60 + 901) * 1000 )) >"$CLOCK"
sleep 0.1
expect_eq "after the delay the right password works" \
    "$(wrong pw-town-0123456789)" 200
expect_eq "... and the login is audited" \
    "$(req GET "audit?actor=town&action=login&limit=1" "$TOK" >/dev/null; \
    jq -r '.audit[0].outcome' "$T/out")" ok
grep -q 'event=auth.throttled' "$T/a.log" && ok "auth.throttled logged" ||
    not_ok "auth.throttled logged"

# --- the CLI ------------------------------------------------------------------
G() { "$GONG" --url "$U" --data-dir "$D" "$@"; }
printf 'pw-county-0123456789\n' >"$T/pwfile"
out=$(G login --user county --password-file "$T/pwfile" 2>&1)
expect_eq "gong login exits 0" "$?" 0
expect_contains "... and says where the token is" "$out" \
    "logged in as county (officer, jurisdiction 140425000000)"
expect_eq "the token file is mode 0600" \
    "$(stat -c %a "$HOME/.config/gong/token")" 600
check "it holds an API token" grep -Eq '^gong_[0-9a-f]{64}$' \
    "$HOME/.config/gong/token"
expect_eq "gong uses it before DATA_DIR/admin.token" \
    "$(G --json tokens list | jq -r '[.tokens[].user]|unique|join(",")')" county
G users list >/dev/null 2>&1
expect_eq "an officer's gong users list: exit 5 (403)" "$?" 5
out=$(G audit --actor county --action login 2>&1)
expect_contains "gong audit shows the officer's logins" "$out" "county"
expect_eq "gong audit --json" \
    "$(G audit --json --actor county --action login --limit 1 | jq -r '.audit[0].outcome')" ok
out=$(G --token "$TOK" users add cli1 --role viewer --jurisdiction 140425 2>&1)
expect_contains "gong users add prints a made password once" "$out" \
    "password (shown once): "
out=$(G --token "$TOK" users set cli1 --role officer --jurisdiction 140425100000 2>&1)
expect_contains "gong users set" "$out" "officer  140425100000"
out=$(G --token "$TOK" users disable cli1 2>&1)
expect_contains "gong users disable" "$out" "disabled"
out=$(G --token "$TOK" tokens create robot --user county 2>&1)
expect_contains "gong tokens create shows the token once" "$out" \
    "token robot (id "
RID=$(G --json tokens list | jq -r '.tokens[]|select(.name=="robot")|.id')
expect_eq "gong tokens revoke" "$(G tokens revoke "$RID" >/dev/null; echo $?)" 0
printf 'not-the-password-0\n' >"$T/wrongpw"
printf 'pw-county-new-0123456789\n' >"$T/newpw"
G passwd --current-password-file "$T/wrongpw" --password-file "$T/newpw" \
    >/dev/null 2>&1
expect_eq "gong passwd with a wrong current password: exit 5 (403)" "$?" 5
out=$(G passwd --current-password-file "$T/pwfile" --password-file "$T/newpw" 2>&1)
expect_eq "gong passwd changes one's own password" "$out" \
    "password of county changed"
expect_eq "the new password logs in" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary '{"name":"county","password":"pw-county-new-0123456789"}' \
    "$U/api/v1/login")" 200
expect_eq "an officer may not change their own role" \
    "$(req PATCH users/county "$T_COUNTY" -H 'Content-Type: application/json' \
    --data-binary '{"role":"admin"}')" 403
expect_eq "... nor another user's password" \
    "$(req PATCH users/town "$T_COUNTY" -H 'Content-Type: application/json' \
    --data-binary '{"password":"whatever-0123456789","current_password":"x"}')" 403
out=$(G logout 2>&1)
expect_contains "gong logout revokes the kept token" "$out" "logged out"
check "... and removes the file" test ! -e "$HOME/.config/gong/token"
expect_eq "then gong reads DATA_DIR/admin.token again" \
    "$(G --json tokens list --all >/dev/null; echo $?)" 0

# --- a flood of anonymous refusals -----------------------------------------
# Audited one row each up to 20 an address and minute, then counted: the
# address's next row says how many were left out.
anon() {
	req GET "audit?actor=anonymous&limit=1000" "$TOK" >/dev/null
	jq '.audit | length' "$T/out"
}
n0=$(anon)
for _ in $(seq 1 45); do
	curl -s -o /dev/null "$U/api/v1/alerts"
done
expect_eq "45 anonymous refusals in a minute: 20 audit rows" \
    "$(anon)" "$((n0 + 20))"
echo $(( (31 * 60 + 901 + 61) * 1000 )) >"$CLOCK"
sleep 0.1	# gongd reads the clock file every 20 ms
expect_eq "a minute later, anonymous again: 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/v1/alerts")" 401
req GET "audit?actor=anonymous&limit=1000" "$TOK" >/dev/null
expect_eq "... audited, with the 25 left out" \
    "$(jq -c '[.audit[] | select(.after.left_out != null) | .after.left_out]' \
    "$T/out")" "[25]"

# --- a restart makes no second admin ----------------------------------------
stop_gongd a
expect_eq "gongd stops cleanly" "$RC" 0
start_gongd b --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd restarts"; finish; exit 1; }
check "no first admin at a restart" \
    sh -c "! grep -q 'first admin' '$T/b.log'"
U=$URL_b
expect_eq "the admin token still works after the restart" \
    "$(req GET me "$TOK"; jq -r .kind "$T/out")" "200admin_token"
stop_gongd b
finish
