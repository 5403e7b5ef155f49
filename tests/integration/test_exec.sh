#!/bin/bash
# Integration: issue 4 - the exec channel.  gongd runs on the demo
# regions, responders and devices; devices.csv sends loudspeakers through
# the channel named "loudspeaker", which here is an exec channel running
# a stand-in for a vendor's command-line tool (speaker.py, written below:
# it records the JSON it got on standard input, its arguments and its
# environment, answers "busy" (exit 75) the first time, then prints
# {"delivered": true, "id": ...}).  A routing rule fires loudspeakers on
# orange and red.  A red alert for 后店村 (140425100201) must run the
# program for that village's loudspeaker only, once more after the busy
# answer (retried by the engine), with the message's fields intact, and
# the delivery must end delivered with the program's id as gateway id.
# An alert whose run fails (exit 3) ends failed with stderr's words.
# gongd stopped while a program runs stops it (and its child) and runs
# the message again after a restart.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

for b in python3 jq curl; do
	command -v "$b" >/dev/null 2>&1 || { not_ok "$b installed"; finish;
	    exit 1; }
done

DEMO=$REPO/config/demo
D=$T/var
OUT=$T/out
mkdir -p "$D" "$OUT"
PROG=$T/speaker.py
cat >"$PROG" <<'PY'
#!/usr/bin/python3
# A loudspeaker controller's command-line tool, as far as gongd can tell.
import json, os, subprocess, sys, time
raw = sys.stdin.buffer.read()
out = os.environ["OUT"]
msg = json.loads(raw)
with open(os.path.join(out, "tries.log"), "a") as f:
    f.write("%d\n" % msg["delivery_id"])
if "故障" in msg["text"]:
    sys.stderr.write("串口 /dev/ttyUSB0 无应答\n")
    sys.exit(3)
slow = os.path.join(out, "slow-once")
if "停电" in msg["text"] and not os.path.exists(slow):
    open(slow, "w").close()
    child = subprocess.Popen(["sleep", "60"])
    with open(os.path.join(out, "slow.pid"), "w") as f:
        f.write("%d %d\n" % (os.getpid(), child.pid))
    time.sleep(60)
busy = os.path.join(out, "busy-once")
if not os.path.exists(busy):
    open(busy, "w").close()
    sys.stderr.write("line busy\n")
    sys.exit(75)
fds = []
for n in os.listdir("/proc/self/fd"):
    try:
        if "/proc/" not in os.readlink("/proc/self/fd/" + n):
            fds.append(int(n))
    except OSError:
        pass
rec = {"argv": sys.argv[1:], "cwd": os.getcwd(), "fds": sorted(fds),
       "env": sorted(os.environ), "channel": os.environ["GONG_CHANNEL"],
       "env_delivery": os.environ["GONG_DELIVERY_ID"],
       "raw_lines": raw.decode("utf-8").count("\n"), "msg": msg}
with open(os.path.join(out, "got.jsonl"), "a") as f:
    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(json.dumps({"delivered": True, "id": "spk-%d" % msg["delivery_id"]}))
PY
chmod 755 "$PROG"

# The demo's loudspeakers of 平顺县's villages (channel "loudspeaker").
grep -E '^id,|^LS-1404251' "$DEMO/devices.csv" >"$T/devices.csv"

cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
  language: zh-CN
data_dir: ./var
listen: 127.0.0.1:0
log_level: info
rosters:
  regions: "$DEMO/regions.csv"
  responders: "$DEMO/responders.csv"
  devices: "$T/devices.csv"
channels:
  - name: loudspeaker
    type: exec
    command: ["$PROG", "--port", "/dev/ttyUSB0", "--volume", "9"]
    timeout: 20s
    concurrency: 1
    env:
      OUT: "$OUT"
    workdir: "$OUT"
routing:
  devices:
    - kinds: [loudspeaker]
      colours: [orange, red]
YAML

# A config error names its line.
sed "s|\"$PROG\"|speaker.py|" "$T/gong.yaml" >"$T/bad.yaml"
out=$("$GONGD" --check-config "$T/bad.yaml" --data-dir "$D" 2>&1)
expect_contains "--check-config: a relative command, at its line" "$out" \
    "bad.yaml:15: error: channels[0].command[0]: "
expect_contains "... saying why" "$out" \
    "command[0] must be an absolute path, not 'speaker.py'"
if "$GONGD" --check-config "$T/gong.yaml" --data-dir "$D" \
    >"$T/check.out" 2>&1; then
	ok "the configuration is valid"
else
	not_ok "the configuration is valid"
	sed 's/^/#   /' "$T/check.out"
fi

start_gongd x --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_x
TOK=$(cat "$D/admin.token")
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }

# post IDENT DESCRIPTION: a red alert for 后店村; prints its id.
post() {
	cat >"$T/$1.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>$1</identifier>
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
    <headline>平顺县气象台发布后店村暴雨红色预警信号</headline>
    <description>$2</description>
    <instruction>立即转移山洪危险区群众。</instruction>
    <area>
      <areaDesc>后店村</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100201</value></geocode>
    </area>
  </info>
</alert>
XML
	curl -s -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$T/$1.xml" "$U/api/v1/cap" | jq -r .id
}

# wait_state ALERT STATE: until every delivery of ALERT is STATE (30 s).
wait_state() {
	local s
	for _ in $(seq 1 300); do
		get "alerts/$1/deliveries?limit=100" >"$T/d.json"
		s=$(jq -r '[.deliveries[].state] | unique | join(" ")' \
		    "$T/d.json")
		[ "$s" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

A=$(post 14042541600000_20260715113000_exec "后店村降水量已达100毫米以上。")
check "red alert for 后店村 accepted" test -n "$A" -a "$A" != null
check "its delivery ends delivered (after the busy answer)" \
    wait_state "$A" delivered
expect_eq "one delivery: 后店村's loudspeaker, through the exec channel" \
    "$(jq -r '[.deliveries[] | "\(.channel) \(.address)"] | join(",")' \
    "$T/d.json")" "loudspeaker zone/140425100201"
DID=$(jq -r '.deliveries[0].id' "$T/d.json")
expect_eq "two attempts (exit 75, then 0)" \
    "$(jq -r '.deliveries[0].attempts' "$T/d.json")" 2
expect_eq "the program's id is the gateway id" \
    "$(jq -r '.deliveries[0].gateway_id' "$T/d.json")" "spk-$DID"
expect_eq "the program ran twice for it, for nothing else" \
    "$(tr '\n' ' ' <"$OUT/tries.log")" "$DID $DID "
G=$OUT/got.jsonl
expect_eq "it took the message once" "$(wc -l <"$G")" 1
expect_eq "its arguments as configured, no shell" \
    "$(jq -c .argv "$G")" '["--port","/dev/ttyUSB0","--volume","9"]'
expect_eq "in its workdir" "$(jq -r .cwd "$G")" "$OUT"
expect_eq "with 0, 1 and 2 open, nothing of gongd's" \
    "$(jq -c .fds "$G")" "[0,1,2]"
expect_eq "with a minimal environment" "$(jq -c .env "$G")" \
    '["GONG_CHANNEL","GONG_DELIVERY_ID","LANG","OUT","PATH"]'
expect_eq "GONG_CHANNEL and GONG_DELIVERY_ID" \
    "$(jq -r '"\(.channel) \(.env_delivery)"' "$G")" "loudspeaker $DID"
expect_eq "one line of JSON on stdin" "$(jq -r .raw_lines "$G")" 1
expect_eq "its fields" "$(jq -c '.msg | keys' "$G")" \
    "$(printf '["%s","%s","%s","%s","%s","%s","%s","%s","%s"]' ack_code \
    ack_url deadline delivery_id payload priority subject text to)"
expect_eq "delivery id and address" \
    "$(jq -r '"\(.msg.delivery_id) \(.msg.to)"' "$G")" \
    "$DID zone/140425100201"
expect_contains "the loudspeaker script, Chinese intact" \
    "$(jq -r .msg.text "$G")" "各位村民请注意"
expect_contains "... with the alert's words" "$(jq -r .msg.text "$G")" \
    "立即转移山洪危险区群众"
expect_eq "the device payload as an object (alert, colour, repeat)" \
    "$(jq -r '.msg.payload | "\(.alert) \(.colour) \(.event) \(.repeat)"' \
    "$G")" "$A red 暴雨 3"
expect_eq "the payload's text is the message's" \
    "$(jq -r '.msg.payload.text == .msg.text' "$G")" true
expect_eq "the deadline: the alert's expiry, RFC 3339" \
    "$(jq -r .msg.deadline "$G")" "2099-07-16T03:30:00Z"
check "a priority" test "$(jq -r '.msg.priority | type' "$G")" = number

# A run that fails (exit 3): the delivery fails with stderr's words.
B=$(post 14042541600000_20260715120000_exec "后店村喇叭故障测试。")
check "its delivery ends failed" wait_state "$B" failed
expect_contains "the exit code and stderr in the delivery's error" \
    "$(jq -r '.deliveries[0].last_error' "$T/d.json")" \
    "speaker.py exit 3: 串口 /dev/ttyUSB0 无应答"

# gongd stops while a run is under way (a program and its child): both
# are stopped, gongd exits cleanly, and after a restart the delivery is
# run again and delivered.
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" \
    2>/dev/null)" = Z ]; }
C=$(post 14042541600000_20260715130000_exec "后店村停电，喇叭用备用电源。")
for _ in $(seq 1 300); do
	[ -s "$OUT/slow.pid" ] && break
	sleep 0.1
done
read -r P1 P2 <"$OUT/slow.pid"
check "the program and its child run" test -n "$P1" -a -n "$P2"
t0=$(date +%s)
stop_gongd x
expect_eq "gongd stops cleanly" "$RC" 0
check "... within 5 s" test $(($(date +%s) - t0)) -le 5
check "the program is gone" gone "$P1"
check "its child too" gone "$P2"
check "no program left running" test -z \
    "$(pgrep -f "$PROG" || true)"

start_gongd y --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts again"; finish; exit 1; }
U=$URL_y
check "after the restart the delivery ends delivered" \
    wait_state "$C" delivered
CID=$(jq -r '.deliveries[0].id' "$T/d.json")
expect_eq "run twice for it: stopped, then again" \
    "$(grep -c "^$CID\$" "$OUT/tries.log")" 2
stop_gongd y
expect_eq "gongd stops cleanly again" "$RC" 0
finish
