#!/bin/bash
# Integration: issue 6, acceptance 2 — the web console in headless
# Chromium (console_drive.py over cdp_drive.py's Browser: the DevTools
# protocol over a pipe, page JavaScript on, its own user data dir in the
# test's temporary directory, stopped at the end of every run).
#
# gongd on the demo roster with a routing rule that wants an answer from
# the village's responsible persons, warners and grid workers; a township
# officer of 青羊镇 (140425100000) made through the API.  In the browser,
# each step checking what the page shows:
#   the login page; log in as the officer; the alerts page;
#   the issue form: an Exercise warning for 杨郭营村 (140425100213, a
#   village of 青羊镇; its 3 exercise participants are who it reaches),
#   the dry run (3 people, the rendered text), confirm;
#   the alert's page: the tree down to 杨郭营村 at 0 %; the test answers
#   for two of them through their answer links: 66.7 %; the officer
#   records the third (reached by phone) with the dialog: 100 %, nobody
#   left in the unanswered list, the answer shown as recorded by the
#   officer; the scroll position and a tree node closed by the user
#   survive the polling;
#   update through the form (filled in from the alert; dry run, confirm):
#   the Update's page, its CAP with the new instruction; cancel through
#   the form (dry run, confirm): the chain Alert → Update → Cancel;
#   the audit view lists the login, the issue, the answer on behalf, the
#   update and the cancel by the officer; English; a phone-sized page.
# No uncaught page exception and no console error (a Content-Security-
# Policy violation would be one) during the walk.  Screenshots of each
# step are kept in build/reports/console/ (GONG_SCREENSHOTS to change).
#
# Then second-person approval (issuing.approval: [red]): the officer's
# red Exercise warning for 兴寨村 waits ("awaiting approval", no approve
# button for its own author); the county officer of 平顺县 logs in,
# approves it in the alerts page, and it is issued.  Last, an operator
# with the admin token (typed into the login page's token field, kept in
# the tab only) records an answer there, naming who recorded it; and a
# viewer of 青羊镇 reads the same pages without any button to act.
. "$(dirname "$0")/lib.sh"

CHROME_PIDFILE=$T/chromium.pid
stop_chromium() {
	local p
	[ -s "$CHROME_PIDFILE" ] || return 0
	p=$(cat "$CHROME_PIDFILE")
	kill -KILL -- "-$p" 2>/dev/null
	rm -f "$CHROME_PIDFILE"
}
trap 'stop_chromium; cleanup' EXIT

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
    grep -q 'install ok installed'; }
for p in chromium fonts-noto-cjk; do
	installed $p || { not_ok "package $p installed (ops/install-deps.sh)"
	    finish; exit 1; }
done
for b in jq python3 curl; do
	command -v $b >/dev/null || { not_ok "$b installed"; finish; exit 1; }
done
ok "chromium, fonts-noto-cjk, python3, jq and curl are installed"

SHOTS=${GONG_SCREENSHOTS:-$REPO/build/reports/console}
mkdir -p "$SHOTS" "$T/chromium"
rm -f "$SHOTS"/*.png

GPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
D=$T/var
mkdir -p "$D"
DEMO=$REPO/config/demo
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: ./var
listen: 127.0.0.1:$GPORT
log_level: info
http:
  console: "$REPO/console"
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$DEMO/responders.csv"
channels:
  - { name: sms, type: file, path: sms.log, addr: phone }
routing:
  people:
    - levels: [village]
      roles: [responsible, warner, grid_worker]
      colours: [blue, yellow, orange, red]
      channels: [sms]
      answer: true
issuing:
  approval: [red]
YAML
start_gongd c --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_c
TOK=$(cat "$D/admin.token")
admin() {	# METHOD PATH [JSON]
	if [ $# -ge 3 ]; then
		curl -s -X "$1" -H "Authorization: Bearer $TOK" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "$U$2"
	else
		curl -s -X "$1" -H "Authorization: Bearer $TOK" "$U$2"
	fi
}

OFFICER=qy-officer
PASSWORD=qingyang-duty-2026
VILLAGE=140425100213
HEADLINE=杨郭营村暴雨橙色预警（演练）
OFFICER2=ps-officer
VILLAGE2=140425100222
RED=兴寨村暴雨红色预警（演练）
expect_eq "the township officer of 青羊镇 is created" \
    "$(admin POST /api/v1/users "{\"name\":\"$OFFICER\",\"role\":\"officer\",
    \"jurisdiction\":\"140425100000\",\"password\":\"$PASSWORD\"}" |
    jq -c '[.name, .role, .jurisdiction]')" \
    "[\"$OFFICER\",\"officer\",\"140425100000\"]"
expect_eq "and the county officer of 平顺县" \
    "$(admin POST /api/v1/users "{\"name\":\"$OFFICER2\",\"role\":\"officer\",
    \"jurisdiction\":\"140425000000\",\"password\":\"$PASSWORD\"}" |
    jq -r .jurisdiction)" 140425000000

expect_eq "and a viewer of 青羊镇" \
    "$(admin POST /api/v1/users "{\"name\":\"qy-viewer\",\"role\":\"viewer\",
    \"jurisdiction\":\"140425100000\",\"password\":\"$PASSWORD\"}" |
    jq -r .role)" viewer

# The answers the test sends: answer links of two of the three.
KEY=$(cat "$D/answer.key")
cat >"$T/answer.sh" <<SH
#!/bin/bash
# answer.sh RESPONDER...: the newest alert's answer link for each, posted.
set -e
A=\$(curl -s -H "Authorization: Bearer $TOK" \\
    "$U/api/v1/alerts?limit=1&status=Exercise" | jq '.alerts[0].id')
for who in "\$@"; do
	tok=\$(python3 - "$KEY" "\$A" "\$who" <<'PY'
import base64, hashlib, hmac, sys
key, a, who = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
p = ('%s.%d.%s' % (a, 4102444800, who)).encode()
m = hmac.new(key, b'gong-answer-link-v1\n' + p, hashlib.sha256).digest()[:16]
e = lambda b: base64.urlsafe_b64encode(b).decode().rstrip('=')
print(e(p) + '.' + e(m))
PY
)
	code=\$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/a/\$tok")
	[ "\$code" = 200 ] || { echo "answer \$who: HTTP \$code"; exit 1; }
done
SH
chmod +x "$T/answer.sh"

shot() { echo "{\"name\": \"screenshot $1\", \"screenshot\": \"$SHOTS/$1.png\"}"; }
V="[data-code=\\\"$VILLAGE\\\"]"

{
echo '['
cat <<JSON
{"name": "open the console", "goto": "$U/"},
{"name": "the login page", "wait_text": "#view", "text": "值班员登录"},
$(shot 01-login),
{"name": "type the name", "type": "#login-name", "text": "$OFFICER"},
{"name": "type the password", "type": "#login-password", "text": "$PASSWORD"},
{"name": "click 登录", "click": "#login-submit"},
{"name": "logged in: the officer's name at the top", "wait_text": "#who", "text": "$OFFICER"},
{"name": "the alerts page", "wait_text": "#view", "text": "生效中"},
$(shot 02-alerts),
JSON
cat <<JSON
{"name": "click 发布", "click": "#nav a[href='#/issue']"},
{"name": "the issue form", "wait_text": "#issue-form", "text": "发布预警"},
{"name": "event", "type": "#f-event", "text": "暴雨"},
{"name": "colour orange", "select": "#f-colour", "value": "orange"},
{"name": "headline", "type": "#f-headline", "text": "$HEADLINE"},
{"name": "description", "type": "#f-description", "text": "演练：杨郭营村降水量已达50毫米以上。"},
{"name": "instruction", "type": "#f-instruction", "text": "演练：请责任人确认收到。"},
{"name": "the village", "type": "#f-regions", "text": "$VILLAGE"},
{"name": "the village's name shown", "wait_text": "#region-names", "text": "杨郭营村"},
{"name": "Exercise", "click": "#f-status-exercise"},
{"name": "issued by", "type": "#f-sender_name", "text": "青羊镇人民政府"},
{"name": "click 预览", "click": "#btn-preview"},
{"name": "the dry run: 3 people", "wait_text": "#preview-total", "text": "3 人"},
{"name": "the dry run: the rendered SMS text", "wait_text": "#preview-texts", "text": "杨郭营村"},
{"name": "the dry run: by role", "wait_text": "#preview-by_role", "text": "预警员"},
{"name": "confirm is enabled", "eval": "document.getElementById('btn-confirm').disabled"},
{"name": "the preview's counts and texts", "eval": "(() => { const o = {}; for (const k of ['by_level', 'by_channel', 'by_role']) { o[k] = {}; for (const r of document.querySelectorAll('#preview-' + k + ' tr')) o[k][r.dataset.key] = Number(r.dataset.n); } o.texts = [...document.querySelectorAll('#preview-texts pre')].map((e) => e.textContent); return JSON.stringify(o); })()"},
$(shot 03-dry-run),
{"name": "click 确认发布", "click": "#btn-confirm"},
JSON
cat <<JSON
{"name": "the alert's page", "wait_text": "#alert-headline", "text": "$HEADLINE"},
{"name": "Exercise shown", "wait_text": "#alert-head", "text": "演练"},
{"name": "the tree down to the village", "wait_text": "#tree", "text": "青羊镇"},
{"name": "杨郭营村 at 0 %", "wait_text": "$V", "text": "0%"},
{"name": "杨郭营村: 3 targeted", "wait_text": "$V", "text": "应叫应 3"},
{"name": "3 not yet answered", "wait_text": "#unanswered-count", "text": "(3)"},
{"name": "the unanswered list names them", "wait_text": "#unanswered", "text": "雷小鹏"},
$(shot 04-issued-0pct),
{"name": "the test sends two answers (links)", "sh": "$T/answer.sh 140425100213-2 140425100213-5"},
{"name": "杨郭营村 at 66.7 %", "wait_text": "$V", "text": "66.7%"},
{"name": "one left", "wait_text": "#unanswered-count", "text": "(1)"},
{"name": "the answers list shows the links", "wait_text": "#answers", "text": "侯丽"},
$(shot 05-two-answered),
{"name": "scroll down", "eval": "window.scrollTo(0, 300), window.scrollY"},
{"name": "close 平顺县's node", "eval": "(() => { const d = document.querySelector('[data-code=\"140425000000\"]').closest('details'); d.open = false; return d.open; })()"},
{"name": "wait for two polls", "sleep": 7},
{"name": "the place kept: scroll, closed node", "eval": "[window.scrollY, document.querySelector('[data-code=\"140425000000\"]').closest('details').open]"},
{"name": "reopen it", "eval": "(() => { const d = document.querySelector('[data-code=\"140425000000\"]').closest('details'); d.open = true; return d.open; })()"},
{"name": "click 记录叫应 for 雷小鹏", "click": "button.record[data-responder='140425100213-7']"},
{"name": "the dialog names him", "wait_text": "#record-dialog", "text": "雷小鹏"},
{"name": "the reason is filled in", "eval": "document.getElementById('record-reason').value.startsWith('电话联系到')"},
{"name": "a note", "type": "#record-note", "text": "已电话通知"},
$(shot 06-record-answer),
{"name": "click 确认记录", "click": "#record-confirm"},
{"name": "杨郭营村 at 100 %", "wait_text": "$V", "text": "100%"},
{"name": "nobody left", "wait_text": "#unanswered", "text": "全部已叫应"},
{"name": "the answer recorded by the officer", "wait_text": "#answers", "text": "$OFFICER"},
{"name": "path: 代为记录", "wait_text": "#answers", "text": "代为记录"},
$(shot 07-answered-100pct),
{"name": "click 更新", "click": "#btn-update"},
{"name": "the update form", "wait_text": "#issue-form", "text": "更新预警"},
{"name": "filled in from the alert", "wait_text": "#region-names", "text": "杨郭营村"},
{"name": "its headline", "eval": "document.getElementById('f-headline').value"},
{"name": "a new instruction", "type": "#f-instruction", "text": "演练：请网格员再次确认。"},
{"name": "update: click 预览", "click": "#btn-preview"},
{"name": "the update's dry run", "wait_text": "#preview-total", "text": "3 人"},
$(shot 07b-update-dry-run),
{"name": "update: click 确认发布", "click": "#btn-confirm"},
{"name": "the Update's page", "wait_text": "#alert-head", "text": "Update"},
{"name": "the chain: Alert then Update", "wait_text": "#chain", "text": "已更新"},
{"name": "the new instruction in the CAP", "click": "#cap summary"},
{"name": "the CAP says it", "wait_text": "#cap-xml", "text": "请网格员再次确认"},
$(shot 07c-updated),
JSON
cat <<JSON
{"name": "click 解除", "click": "#btn-cancel"},
{"name": "the cancel form", "wait_text": "#issue-form", "text": "解除预警"},
{"name": "a reason", "type": "#f-reason", "text": "演练结束"},
{"name": "click 预览", "click": "#btn-preview"},
{"name": "the cancel's dry run", "wait_text": "#preview-card", "text": "试运行结果"},
$(shot 08-cancel-dry-run),
{"name": "click 确认解除", "click": "#btn-confirm"},
JSON
cat <<JSON
{"name": "the chain: Alert, Update, Cancel", "wait_text": "#chain", "text": "Alert"},
{"name": "the chain has the Update", "wait_text": "#chain", "text": "Update"},
{"name": "the chain has the Cancel", "wait_text": "#chain", "text": "Cancel"},
{"name": "the alert is cancelled", "wait_text": "#chain", "text": "已解除"},
$(shot 09-cancelled),
{"name": "click 审计", "click": "#nav a[href='#/audit']"},
{"name": "the audit view: the login", "wait_text": "#audit-list", "text": "login"},
{"name": "the audit view: the answer on behalf", "wait_text": "#audit-list", "text": "140425100213-7"},
{"name": "the whole audit list", "text": "#audit-list"},
$(shot 10-audit),
{"name": "English", "click": "#lang"},
{"name": "the audit view in English", "wait_text": "#view", "text": "Audit trail"},
$(shot 11-audit-en),
{"name": "the alerts in English", "hash": "#/alerts"},
{"name": "English headings", "wait_text": "#view", "text": "Exercises"},
{"name": "back to Chinese", "click": "#lang"},
{"name": "Chinese again", "wait_text": "#view", "text": "演练"},
{"name": "a phone", "viewport": [412, 915]},
{"name": "channel health", "hash": "#/health"},
{"name": "the sms channel up", "wait_text": "#channels", "text": "正常"},
$(shot 12-phone-health),
{"name": "the alerts on a phone", "hash": "#/alerts"},
{"name": "the alert listed", "wait_text": "#view", "text": "$HEADLINE"},
{"name": "no horizontal scrolling of the page", "eval": "document.documentElement.scrollWidth <= window.innerWidth + 1"},
$(shot 13-phone-alerts),
{"name": "a laptop again", "viewport": [1280, 900]},
{"name": "a red warning: the form", "hash": "#/issue"},
{"name": "the form is empty again", "wait_text": "#issue-form", "text": "发布预警"},
{"name": "red: event", "type": "#f-event", "text": "暴雨"},
{"name": "red: colour", "select": "#f-colour", "value": "red"},
{"name": "red: headline", "type": "#f-headline", "text": "$RED"},
{"name": "red: 兴寨村", "type": "#f-regions", "text": "$VILLAGE2"},
{"name": "red: Exercise", "click": "#f-status-exercise"},
{"name": "red: click 预览", "click": "#btn-preview"},
{"name": "red: the dry run says it needs approval", "wait_text": "#preview-card", "text": "需要另一名值班员审批"},
{"name": "red: click 确认发布", "click": "#btn-confirm"},
{"name": "red: waiting for approval", "wait_text": "#issue-msg", "text": "等待第二名值班员审批"},
$(shot 14-red-pending),
{"name": "the alerts page: awaiting approval", "hash": "#/alerts"},
{"name": "the red warning awaits approval", "wait_text": "#pending", "text": "$RED"},
{"name": "its author may not approve it", "wait_text": "#pending", "text": "需另一名值班员审批"},
{"name": "log out", "click": "#logout"},
{"name": "back at the login page", "wait_text": "#view", "text": "值班员登录"},
{"name": "the county officer's name", "type": "#login-name", "text": "$OFFICER2"},
{"name": "the county officer's password", "type": "#login-password", "text": "$PASSWORD"},
{"name": "the county officer logs in", "click": "#login-submit"},
{"name": "logged in as the county officer", "wait_text": "#who", "text": "$OFFICER2"},
{"name": "the red warning awaits the county officer", "wait_text": "#pending", "text": "$RED"},
$(shot 15-approve),
{"name": "click 批准", "click": "#pending button.approve"},
{"name": "approved and issued", "wait_text": "#pending-msg", "text": "已批准并发布"},
{"name": "the red warning is among the exercises", "wait_text": "#alerts-exercise", "text": "$RED"},
$(shot 16-approved),
{"name": "log out at last", "click": "#logout"},
{"name": "the login page at last", "wait_text": "#view", "text": "值班员登录"},
{"name": "a link to a page while logged out", "hash": "#/health"},
{"name": "asks to log in first", "wait_text": "#view", "text": "值班员登录"},
{"name": "an operator: open 使用 API 令牌登录", "click": "#token-form summary"},
{"name": "type the admin token", "type": "#login-token", "text": "$TOK"},
{"name": "use it", "click": "#token-form button"},
{"name": "logged in with the token", "wait_text": "#who", "text": "admin.token"},
{"name": "then the page the link asked for", "wait_text": "#channels", "text": "sms"},
{"name": "the alerts", "hash": "#/alerts"},
{"name": "the approved red warning", "wait_text": "#alerts-exercise", "text": "$RED"},
{"name": "open it", "click": "#alerts-exercise .alert-link"},
{"name": "its page", "wait_text": "#alert-headline", "text": "$RED"},
{"name": "兴寨村's people not yet answered", "wait_text": "#unanswered", "text": "段燕辉"},
{"name": "record 段燕辉's answer", "click": "button.record[data-responder='140425100222-1']"},
{"name": "the dialog asks who records it (a token says nobody)", "eval": "document.getElementById('record-by').offsetParent !== null"},
{"name": "the recorder's name", "type": "#record-by", "text": "值班长王"},
{"name": "record", "click": "#record-confirm"},
{"name": "recorded by 值班长王", "wait_text": "#answers", "text": "值班长王"},
{"name": "兴寨村 at 33.3 %", "wait_text": "[data-code=\"$VILLAGE2\"]", "text": "33.3%"},
$(shot 17-token-record),
{"name": "the operator logs out", "click": "#logout"},
{"name": "the login page, the token forgotten", "wait_text": "#view", "text": "值班员登录"},
{"name": "nothing kept in this tab", "eval": "sessionStorage.getItem('gong.token')"},
{"name": "a viewer's name", "type": "#login-name", "text": "qy-viewer"},
{"name": "a viewer's password", "type": "#login-password", "text": "$PASSWORD"},
{"name": "the viewer logs in", "click": "#login-submit"},
{"name": "logged in as a viewer", "wait_text": "#who", "text": "只读"},
{"name": "the viewer sees the alerts", "wait_text": "#alerts-exercise", "text": "$RED"},
{"name": "but no issue button", "eval": "document.querySelector('#view a.button') === null"},
{"name": "the viewer opens the red warning", "click": "#alerts-exercise .alert-link"},
{"name": "its tree", "wait_text": "#tree", "text": "兴寨村"},
{"name": "its unanswered list", "wait_text": "#unanswered", "text": "贺强文"},
{"name": "no record, update or cancel buttons", "eval": "document.querySelectorAll('button.record, #btn-update, #btn-cancel').length"},
{"name": "the issue page refuses a viewer", "hash": "#/issue"},
{"name": "read only", "wait_text": "#view", "text": "只读账号不能发布"},
$(shot 18-viewer)
]
JSON
} >"$T/steps.json"

/usr/bin/python3 "$REPO/tests/integration/console_drive.py" \
    --tmp "$T/chromium" --pidfile "$CHROME_PIDFILE" --timeout 300 \
    --fail-shot "$SHOTS/failed.png" "$T/steps.json" >"$T/walk.out" \
    2>"$T/walk.err"
rc=$?
if [ -s "$CHROME_PIDFILE" ] && kill -0 "$(cat "$CHROME_PIDFILE")" 2>/dev/null
then
	not_ok "Chromium stopped after the walk"
fi
NSTEPS=$(jq length "$T/steps.json")
while IFS= read -r line; do
	if [ "$(jq -r '.final // false' <<<"$line")" = true ]; then
		expect_eq "no uncaught exception in the page" \
		    "$(jq -c .exceptions <<<"$line")" '[]'
		expect_eq "no console error (e.g. a CSP violation)" \
		    "$(jq -c .violations <<<"$line")" '[]'
		continue
	fi
	name=$(jq -r .name <<<"$line")
	if [ "$(jq -r .ok <<<"$line")" = true ]; then
		ok "browser: $name"
	else
		not_ok "browser: $name"
		jq -r .error <<<"$line" | head -30 | sed 's/^/#   /'
	fi
done <"$T/walk.out"
expect_eq "the walk ran every step (driver exit $rc)" \
    "$(grep -c '"i":' "$T/walk.out")" "$NSTEPS"
[ -s "$T/walk.err" ] && sed 's/^/#   driver: /' "$T/walk.err"
val() { jq -c "select(.name == \"$1\") | .value" "$T/walk.out"; }
expect_eq "confirm was enabled after the dry run" \
    "$(val 'confirm is enabled')" false
# Acceptance 5: the console's preview shows what gong issue --dry-run
# says for the same form (counts, and texts with their times of day
# masked: the two dry runs may fall in different minutes).
mask() { sed -E 's/[0-9]+月[0-9]+日[0-9]+时[0-9]+分/T/g'; }
PREV=$(jq -r 'select(.name == "the preview'"'"'s counts and texts") |
    .value' "$T/walk.out" | jq -S . | mask)
# (as the officer, with the same sender name)
OTOK=$(curl -s -H 'Content-Type: application/json' --data \
    "{\"name\":\"$OFFICER\",\"password\":\"$PASSWORD\",\"token_name\":\"cli\"}" \
    "$U/api/v1/login" | jq -r .token)
CLI=$("$GONG" --url "$U" --token "$OTOK" issue --event 暴雨 \
    --colour orange --headline "$HEADLINE" --region "$VILLAGE" \
    --description 演练：杨郭营村降水量已达50毫米以上。 \
    --instruction 演练：请责任人确认收到。 --expires +6h --exercise \
    --sender-name 青羊镇人民政府 \
    --dry-run --json | jq -S '{by_level, by_channel, by_role,
    texts: [.samples[].text]}' | mask)
check "the CLI's dry run has counts" test -n "$(jq -r .by_role <<<"$CLI")"
expect_eq "the preview equals gong issue --dry-run (counts, texts)" \
    "$PREV" "$CLI"
expect_eq "the polling kept the scroll position and the closed node" \
    "$(val 'the place kept: scroll, closed node')" '[300,false]'
expect_eq "the dialog's reason starts with 电话联系到" \
    "$(val 'the reason is filled in')" true
expect_eq "a token session shows the recorder's name field" \
    "$(val 'the dialog asks who records it (a token says nobody)')" true
expect_eq "the token is gone from the tab after logging out" \
    "$(val 'nothing kept in this tab')" null
expect_eq "a viewer gets no issue button" "$(val 'but no issue button')" true
expect_eq "nor record, update or cancel buttons" \
    "$(val 'no record, update or cancel buttons')" 0
expect_eq "the phone page does not scroll sideways" \
    "$(val 'no horizontal scrolling of the page')" true
AUD=$(jq -r 'select(.name == "the whole audit list") | .value' \
    "$T/walk.out")
TAB=$'\t'
for want in "login${TAB}user:$OFFICER${TAB}ok" \
    "answer${TAB}alert:1 responder:140425100213-7${TAB}ok"; do
	expect_contains "the audit view: $OFFICER $want" "$AUD" \
	    "$OFFICER${TAB}$want"
done
for want in "warning_dry_run" "issue${TAB}alert:1${TAB}ok" \
    "update${TAB}alert:2${TAB}ok" "cancel${TAB}alert:3${TAB}ok"; do
	expect_contains "the audit view: $OFFICER $want" "$AUD" \
	    "$OFFICER${TAB}$want"
done

# The same from the API: what the browser did is in the store.
A=1
expect_eq "the village's answers: 3 of 3, one by the officer" \
    "$(admin GET "/api/v1/alerts/$A/answers" | jq -c '[.answered,
    ([.answers[] | select(.path == "officer") | .recorded_by])]')" \
    "[3,[\"$OFFICER\"]]"
expect_eq "the alert is superseded by its Update, and that cancelled" \
    "$(admin GET "/api/v1/alerts/$A/chain" | jq -c '[.alerts[] |
    [.msg_type, .state]]')" \
    '[["Alert","superseded"],["Update","cancelled"],["Cancel","active"]]'
expect_eq "the update form was filled in with the headline" \
    "$(val 'its headline')" "\"$HEADLINE\""
expect_eq "the red warning: pending, approved by the county officer" \
    "$(admin GET '/api/v1/warnings/pending?state=all' | jq -c '[.pending[] |
    [.state, .created_by, .decided_by, .headline]]')" \
    "[[\"approved\",\"$OFFICER\",\"$OFFICER2\",\"$RED\"]]"
AUD2=$(admin GET '/api/v1/audit?action=approve' | jq -c '[.audit[] |
    [.actor, .outcome]]')
expect_eq "the approval in the audit trail" "$AUD2" \
    "[[\"$OFFICER2\",\"ok\"]]"
check "screenshots kept in $SHOTS" test -s "$SHOTS/07-answered-100pct.png"
check "no Chromium left, its user data dirs removed" \
    test -z "$(ls -A "$T/chromium")"
stop_gongd c
expect_eq "gongd stops cleanly" "$RC" 0
finish
