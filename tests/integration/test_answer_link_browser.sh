#!/bin/bash
# Integration: issue 5 (叫应), acceptance 4 — the answer link /a/{token}
# works without JavaScript, in a real browser: headless Chromium (driven
# over the DevTools protocol by cdp_drive.py, its own user data dir in the
# test's temporary directory, stopped at the end of every run) with page
# JavaScript disabled, and with curl.
#
# gongd with a routing rule that wants an answer (answer: true) and a file
# channel for e-mail; a red alert for 后店村 (140425100201).  The link in
# 何光志's e-mail: opened in the browser it shows the alert's headline and
# the 收到 button, and the answers list stays empty (a GET records
# nothing); a real mouse click on the button (after typing a note) posts
# the form and shows the confirmation page, and GET answers then has
# exactly one answer, path link, with the note.  A token with one byte
# changed shows the refusal page with 403, an expired one 410.  A probe
# page in the same tab before and after shows that page scripts did not
# run (and, in a browser with JavaScript on, that the probe would notice).
. "$(dirname "$0")/lib.sh"

CHROME_PIDFILE=$T/chromium.pid
stop_chromium() {	# the driver's Chromium (its process group), if left
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
[ -x /usr/bin/python3 ] || { not_ok "/usr/bin/python3"; finish; exit 1; }
command -v jq >/dev/null || { not_ok "jq"; finish; exit 1; }
ok "chromium, fonts-noto-cjk, python3 and jq are installed"

mkdir -p "$T/chromium"
# drive ARGS...: one run of the driver; its JSON on stdout.  Checks that
# its Chromium is gone afterwards.
drive() {
	local rc p
	/usr/bin/python3 "$REPO/tests/integration/cdp_drive.py" \
	    --tmp "$T/chromium" --pidfile "$CHROME_PIDFILE" --timeout 40 \
	    "$@" 2>"$T/drive.err"
	rc=$?
	if [ -s "$CHROME_PIDFILE" ]; then
		p=$(cat "$CHROME_PIDFILE")
		if kill -0 "$p" 2>/dev/null; then
			echo "# Chromium $p still running after the driver" >&2
			rc=1
		fi
		rm -f "$CHROME_PIDFILE"
	fi
	[ "$rc" = 0 ] || sed 's/^/#   driver: /' "$T/drive.err" >&2
	return $rc
}

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
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$DEMO/responders.csv"
  devices: "$DEMO/devices.csv"
channels:
  - { name: mail, type: file, path: mail.log, addr: email }
routing:
  people:
    - levels: [village]
      roles: [duty_officer, leader, responsible, warner, grid_worker, info_officer, deputy]
      colours: [blue, yellow, orange, red]
      channels: [mail]
      answer: true
YAML
start_gongd b --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_b
TOK=$(cat "$D/admin.token")
answers() { curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$A/answers"; }

HEADLINE=后店村暴雨红色预警
cat >"$T/alert.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>link-browser-1</identifier>
  <sender>14042541600000</sender>
  <sent>2026-07-15T11:30:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>2099-07-16T11:30:00+08:00</expires>
    <senderName>平顺县气象台</senderName>
    <headline>$HEADLINE</headline>
    <description>后店村降水量已达100毫米以上。</description>
    <area>
      <areaDesc>后店村</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100201</value></geocode>
    </area>
  </info>
</alert>
XML
A=$(curl -s -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: application/cap+xml' \
    --data-binary @"$T/alert.xml" "$U/api/v1/cap" | jq .id)
check "the alert is stored ($A)" test "$A" -gt 0
for _ in $(seq 1 100); do
	grep -q u45238404@example.cn "$D/mail.log" 2>/dev/null && break
	sleep 0.1
done
LINK=$(jq -r 'select(.to == "u45238404@example.cn") | .text' \
    "$D/mail.log" 2>/dev/null | grep -o 'http://[^ ]*/a/[A-Za-z0-9_.-]*' |
    head -1)
expect_contains "何光志's e-mail carries the answer link" "$LINK" "$U/a/"

# --- the probe: does the browser run page scripts? -----------------------
if J=$(drive --js probe); then
	expect_eq "with JavaScript on, the probe's script runs" \
	    "$(jq -c '.probe | [.js_ran, .noscript_shown]' <<<"$J")" \
	    '[true,false]'
else
	not_ok "the driver runs Chromium (JavaScript on)"
fi
if J=$(drive probe); then
	expect_eq "with JavaScript off, it does not (and <noscript> shows)" \
	    "$(jq -c '.probe | [.title, .js_ran, .noscript_shown]' <<<"$J")" \
	    '["probe",false,true]'
else
	not_ok "the driver runs Chromium (JavaScript off)"
fi

# --- open the link: the page, and nothing recorded -------------------------
if J=$(drive page "$LINK"); then
	ok "Chromium opens the link"
else
	not_ok "Chromium opens the link"; J='{}'
fi
expect_eq "scripts stayed off (probe before and after)" \
    "$(jq -c '[.probe_before.js_ran, .probe_after.js_ran]' <<<"$J")" \
    '[false,false]'
expect_eq "the page: 200, 叫应确认, the alert's headline as its heading" \
    "$(jq -c '.page | [.status, .title, .h1]' <<<"$J")" \
    "[200,\"叫应确认\",[\"$HEADLINE\"]]"
expect_eq "one button, 收到, in a form that POSTs; no script" \
    "$(jq -c '.page | [.buttons, .forms, .scripts]' <<<"$J")" \
    '[["收到"],[{"method":"post","action":null}],0]'
expect_contains "the page names the person" "$(jq -r .page.text <<<"$J")" \
    "何光志，请确认您已收到此预警"
expect_eq "opening the page recorded nothing" \
    "$(answers | jq -c '[.answered, .answers]')" '[0,[]]'

# --- the button ---------------------------------------------------------------
if J=$(drive --screenshot "$T/after.png" click "$LINK" --note "已通知全村"); then
	ok "a mouse click on the button"
else
	not_ok "a mouse click on the button"; J='{}'
fi
expect_eq "scripts stayed off" \
    "$(jq -c '[.probe_before.js_ran, .probe_after.js_ran]' <<<"$J")" \
    '[false,false]'
expect_eq "the click POSTed the form with the note typed" \
    "$(jq -c '.after | [.method, .post_data]' <<<"$J")" \
    '["POST","note=%E5%B7%B2%E9%80%9A%E7%9F%A5%E5%85%A8%E6%9D%91"]'
expect_eq "the confirmation page: 200, 已收到您的确认, no button" \
    "$(jq -c '.after | [.status, .h1, .buttons]' <<<"$J")" \
    '[200,["已收到您的确认"],[]]'
expect_contains "it thanks" "$(jq -r .after.text <<<"$J")" "已记录您的确认。谢谢！"
check "a screenshot of it" test -s "$T/after.png"
[ -n "${GONG_KEEP_SCREENSHOT:-}" ] && cp "$T/after.png" "$GONG_KEEP_SCREENSHOT"
expect_eq "exactly one answer: 何光志, path link, the note, not late" \
    "$(answers | jq -c '[.answers[] | [.responder_id, .path, .note,
    .late]]')" '[["140425100201-5","link","已通知全村",false]]'

# --- refused tokens -----------------------------------------------------------
TOKA=${LINK##*/a/}
M=${TOKA##*.}
FORGED=$U/a/${TOKA%.*}.$([ "${M:0:1}" = A ] && echo B || echo A)${M:1}
KEY=$(cat "$D/answer.key")
EXPIRED=$U/a/$(python3 - "$KEY" "$A" <<'PY'
import base64, hashlib, hmac, sys
key, a = sys.argv[1].encode(), sys.argv[2]
p = ('%s.%d.%s' % (a, 1000000000, '140425100201-5')).encode()
m = hmac.new(key, b'gong-answer-link-v1\n' + p, hashlib.sha256).digest()[:16]
e = lambda b: base64.urlsafe_b64encode(b).decode().rstrip('=')
print(e(p) + '.' + e(m))
PY
)
if J=$(drive page "$FORGED"); then
	expect_eq "one byte changed: the refusal page, 403, no button" \
	    "$(jq -c '.page | [.status, .h1, .buttons]' <<<"$J")" \
	    '[403,["链接无效"],[]]'
else
	not_ok "Chromium opens the forged link"
fi
if J=$(drive page "$EXPIRED"); then
	expect_eq "expired: the refusal page, 410, no button" \
	    "$(jq -c '.page | [.status, .h1, .buttons]' <<<"$J")" \
	    '[410,["链接已过期"],[]]'
else
	not_ok "Chromium opens the expired link"
fi

# --- the same with curl ---------------------------------------------------------
code=$(curl -s -o "$T/page.html" -w '%{http_code}' "$LINK")
expect_eq "curl: the page 200" "$code" 200
expect_contains "curl: the form and the button" "$(cat "$T/page.html")" \
    '<form method="post">'
expect_eq "curl: no script" "$(grep -ci '<script' "$T/page.html")" 0
expect_eq "curl: forged 403, expired 410" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$FORGED") $(curl -s \
    -o /dev/null -w '%{http_code}' "$EXPIRED")" "403 410"
expect_eq "curl: a POST with a forged token records nothing" \
    "$(curl -s -o /dev/null -w '%{http_code}' --data note=x "$FORGED")" 403
expect_eq "still exactly one answer" "$(answers | jq '.answers | length')" 1

check "no Chromium left, its user data dirs removed" \
    test -z "$(ls -A "$T/chromium")"
stop_gongd b
expect_eq "gongd stops cleanly" "$RC" 0
finish
