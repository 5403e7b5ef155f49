#!/bin/bash
# Integration: CAP in through POST /api/v1/cap on the demo deployment.
# Every valid sample stored; the same message twice stored once;
# Alert -> Update -> Cancel shown as one chain of three; a Cancel that
# overtakes its Alert; a 12-digit geocode targets exactly its village; a
# polygon round three villages targets exactly those three; an unmatched
# area is flagged; hostile and bad requests get clear answers.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

S=$SHARED/cap-samples/valid
[ -d "$S" ] || { not_ok "cap samples at $S"; finish; exit 1; }
D=$T/var
# A feed allowed to warn 平顺县 only, with its token as a SHA-256.
FEED_TOKEN=feed-token-0123456789abcdef
H=$(printf %s "$FEED_TOKEN" | sha256sum | cut -d' ' -f1)
"$GONGD" --print-default-config >"$T/gong.yaml"
cat >>"$T/gong.yaml.feeds" <<YAML
feeds:
  - name: pingshun-qx
    token_hash: "sha256:$H"
    regions: ["140425"]
YAML
# Replace the default's empty feed list with ours.
sed -i 's/^feeds: \[\]$//' "$T/gong.yaml"
cat "$T/gong.yaml.feeds" >>"$T/gong.yaml"
start_gongd cap --config "$T/gong.yaml" --data-dir "$D" \
    --listen 127.0.0.1:0 || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_cap
TOK=$(cat "$D/admin.token")
post() {	# file [token] [query] -> body in $T/r.json, status echoed
	curl -s -o "$T/r.json" -w '%{http_code}' \
	    -H "Authorization: Bearer ${2:-$TOK}" \
	    -H 'Content-Type: application/cap+xml' \
	    --data-binary @"$1" "$U/api/v1/cap${3:-}"
}
get() { curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/$1"; }
# The samples' warnings expired long ago; fresh copies expire in 2030.
fresh() { sed -E 's#<expires>20[0-9][0-9]-#<expires>2030-#' "$S/$1" >"$T/$1"; }

# Every valid sample is stored (lenient: real feeds deviate).
# (The OASIS examples of CAP 1.0, 1.1 and 1.2 are the same messages:
# same sender, identifier and sent, so they are duplicates.)
created=0 dup=0 bad=""
for f in "$S"/*.xml; do
	code=$(post "$f" "$TOK" "?lenient=1")
	case $code in
	201) created=$((created + 1)) ;;
	200) dup=$((dup + 1)) ;;
	*) bad="$bad $(basename "$f"):$code" ;;
	esac
done
expect_eq "every valid sample stored${bad:+ (not:$bad)}" "$bad" ""
echo "# $created stored, $dup duplicates"
expect_eq "each distinct message stored once" \
    "$(get "alerts?limit=1" | jq .total)" "$created"
check "the OASIS versions of one message are duplicates" test "$dup" -ge 8

# The chain, with expiries moved into the future, posted in order.
for f in cn-changzhi__rainstorm-orange-alert.xml \
    cn-changzhi__rainstorm-red-update.xml cn-changzhi__rainstorm-cancel.xml \
    cn-changzhi__village-flash-flood-12digit.xml; do
	fresh "$f"
	sed -i -E 's#(<identifier>[^<]*)</identifier>#\1-fresh</identifier>#; s#(,[0-9]+_[0-9]+_1)(,)#\1-fresh\2#g' "$T/$f"
done
expect_eq "orange alert: 201" "$(post "$T/cn-changzhi__rainstorm-orange-alert.xml")" 201
a1=$(jq .id "$T/r.json")
expect_eq "orange alert is active and broadcast" \
    "$(jq -r '.state + " " + (.broadcast|tostring) + " " + .colour' "$T/r.json")" \
    "active true orange"
expect_eq "orange alert targets its four counties" "$(jq .regions "$T/r.json")" 4
expect_eq "same message again: 200" \
    "$(post "$T/cn-changzhi__rainstorm-orange-alert.xml")" 200
expect_eq "the duplicate names the stored alert" \
    "$(jq -r '"\(.duplicate) \(.id)"' "$T/r.json")" "true $a1"
expect_eq "red update: 201" "$(post "$T/cn-changzhi__rainstorm-red-update.xml")" 201
a2=$(jq .id "$T/r.json")
expect_eq "update is red" "$(jq -r .colour "$T/r.json")" red
expect_eq "cancel: 201" "$(post "$T/cn-changzhi__rainstorm-cancel.xml")" 201
a3=$(jq .id "$T/r.json")
chain=$(get "alerts/$a3/chain")
expect_eq "one chain of three, in order" \
    "$(echo "$chain" | jq -c '[.alerts[] | .msg_type]')" \
    '["Alert","Update","Cancel"]'
expect_eq "the chain is the same from its first message" \
    "$(get "alerts/$a1/chain" | jq -c '[.alerts[].id]')" "[$a1,$a2,$a3]"
expect_eq "alert superseded by the update, update cancelled" \
    "$(echo "$chain" | jq -c '[.alerts[] | .state]')" \
    '["superseded","cancelled","active"]'
expect_eq "superseded_by links forward" \
    "$(echo "$chain" | jq -c '[.alerts[] | .superseded_by]')" \
    "[$a2,$a3,null]"
refs=$(get "alerts/$a3" | jq -c '[.alert.references[].alert_id]')
expect_eq "the cancel's references resolve to both" "$refs" "[$a1,$a2]"
code=$(curl -s -o "$T/orig.xml" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    "$U/api/v1/alerts/$a1/cap")
expect_eq "original CAP: 200" "$code" 200
check "original CAP byte for byte" \
    cmp -s "$T/orig.xml" "$T/cn-changzhi__rainstorm-orange-alert.xml"
expect_eq "parsed model served" \
    "$(get "alerts/$a1" | jq -r '.alert.cap.info[0].eventCode[0].value')" 0203

# Cancel before its Alert (a feed outage reordered them): the Cancel is
# kept with an unknown reference; the late Alert is stored as cancelled
# and never broadcast.
for f in cn-changzhi__rainstorm-orange-alert.xml cn-changzhi__rainstorm-cancel.xml; do
	sed 's/-fresh/-late/g' "$T/$f" >"$T/late-$f"
done
# The late cancel references only the alert.
sed -i -E 's#<references>([^ ]*) [^<]*</references>#<references>\1</references>#' \
    "$T/late-cn-changzhi__rainstorm-cancel.xml"
expect_eq "cancel first: 201" \
    "$(post "$T/late-cn-changzhi__rainstorm-cancel.xml")" 201
c=$(jq .id "$T/r.json")
expect_eq "cancel reports its unknown reference" \
    "$(jq .unknown_references "$T/r.json")" 1
expect_eq "the reference is kept, unresolved" \
    "$(get "alerts/$c" | jq -c '[.alert.references[].alert_id]')" "[null]"
expect_eq "late alert: 201" \
    "$(post "$T/late-cn-changzhi__rainstorm-orange-alert.xml")" 201
l=$(jq .id "$T/r.json")
expect_eq "late alert is stored cancelled, not broadcast" \
    "$(jq -r '"\(.state) \(.broadcast)"' "$T/r.json")" "cancelled false"
expect_eq "and joins the cancel's chain" \
    "$(get "alerts/$c/chain" | jq -c '[.alerts[].id]')" "[$l,$c]"
expect_eq "the cancel's reference now resolves" \
    "$(get "alerts/$c" | jq -c '[.alert.references[].alert_id]')" "[$l]"

# Area -> regions.
expect_eq "12-digit geocodes: 201" \
    "$(post "$T/cn-changzhi__village-flash-flood-12digit.xml")" 201
v=$(jq .id "$T/r.json")
expect_eq "12-digit geocodes target exactly those villages" \
    "$(get "alerts/$v" | jq -c '[.alert.target_regions[] | .code + ":" + .level]')" \
    '["140425100201:village","140425100202:village"]'
cat >"$T/one-village.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>140425000000_20261126080000_9</identifier>
  <sender>140425000000</sender>
  <sent>2026-11-26T08:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Geo</category>
    <event>山洪</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Likely</certainty>
    <expires>2030-01-01T00:00:00+08:00</expires>
    <headline>后店村山洪红色预警</headline>
    <area>
      <areaDesc>后店村</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>140425100201</value></geocode>
    </area>
  </info>
</alert>
XML
post "$T/one-village.xml" >/dev/null
o=$(jq .id "$T/r.json")
expect_eq "one 12-digit geocode targets exactly that village" \
    "$(get "alerts/$o" | jq -c '[.alert.target_regions[].code]')" \
    '["140425100201"]'

# Three villages of one township, and a polygon round exactly them.
tw=140425102000
get "regions/$tw?depth=1" >"$T/tw.json"
get "regions/140425000000?depth=2" >"$T/county.json"
poly=$(python3 - "$T/tw.json" "$T/county.json" <<'PY'
import json, sys, itertools
tw = json.load(open(sys.argv[1]))
county = json.load(open(sys.argv[2]))
pts = [(v["code"], v["lat"], v["lon"]) for v in tw["children"] if v["lat"] is not None]
allv = [(v["code"], v["lat"], v["lon"]) for t in county["children"]
        for v in t.get("children", []) if v["lat"] is not None]
def inside(poly, la, lo):
    n, j, c = len(poly), len(poly) - 1, False
    for i in range(n):
        yi, xi = poly[i]; yj, xj = poly[j]
        if (yi > la) != (yj > la) and lo < (xj - xi) * (la - yi) / (yj - yi) + xi:
            c = not c
        j = i
    return c
for a, b, c in itertools.combinations(pts[:12], 3):
    cy = (a[1] + b[1] + c[1]) / 3; cx = (a[2] + b[2] + c[2]) / 3
    tri = [(cy + (p[1] - cy) * 1.2, cx + (p[2] - cx) * 1.2) for p in (a, b, c)]
    hit = sorted(v[0] for v in allv if inside(tri, v[1], v[2]))
    if hit == sorted([a[0], b[0], c[0]]):
        ring = tri + [tri[0]]
        print(" ".join("%.6f,%.6f" % p for p in ring), ",".join(hit))
        break
PY
)
ring=${poly% *}
want=${poly##* }
check "found three villages to draw round" test -n "$poly"
sed -e 's#<identifier>[^<]*#<identifier>poly-three-1#' \
    -e "s#<geocode>.*</geocode>#<polygon>$ring</polygon>#" \
    "$T/one-village.xml" >"$T/poly.xml"
post "$T/poly.xml" >/dev/null
p=$(jq .id "$T/r.json")
expect_eq "the polygon targets exactly those three villages" \
    "$(get "alerts/$p" | jq -r '[.alert.target_regions[] | .code] | join(",")')" \
    "$want"
expect_eq "... by polygon" \
    "$(get "alerts/$p" | jq -r '[.alert.target_regions[].how] | unique | join(",")')" \
    polygon

# An area that matches nothing is stored and flagged.
sed -e 's#<identifier>[^<]*#<identifier>nowhere-1#' \
    -e 's#<geocode>.*</geocode>#<polygon>10,100 10,101 11,101 10,100</polygon>#' \
    "$T/one-village.xml" >"$T/nowhere.xml"
expect_eq "unmatched area: still 201" "$(post "$T/nowhere.xml")" 201
expect_eq "unmatched area flagged, not broadcast" \
    "$(jq -r '"\(.area_unmatched) \(.broadcast) \(.regions)"' "$T/r.json")" \
    "true false 0"
expect_contains "unmatched area listed for the officers" \
    "$(get "alerts?limit=5" | jq -c '[.alerts[] | select(.area_unmatched)] | .[0].identifier')" \
    nowhere-1

# The feed's token: its own regions only.
sed 's#poly-three-1#feed-ok-1#' "$T/poly.xml" >"$T/feed-ok.xml"
expect_eq "feed token within its regions: 201" \
    "$(post "$T/feed-ok.xml" "$FEED_TOKEN")" 201
expect_eq "stored under the feed's name" "$(get "alerts/$(jq .id "$T/r.json")" |
    jq -r .alert.source)" pingshun-qx
sed -e 's#<identifier>[^<]*#<identifier>feed-out-1#' \
    -e 's#140425100201#140403000000#' "$T/one-village.xml" >"$T/feed-out.xml"
expect_eq "feed token outside its regions: 403" \
    "$(post "$T/feed-out.xml" "$FEED_TOKEN")" 403
expect_contains "403 names the region" "$(jq -r .error.message "$T/r.json")" \
    140403000000
expect_eq "wrong token: 401" "$(post "$T/feed-out.xml" nope)" 401

# Bad and hostile requests.
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: text/plain' --data-binary @"$T/poly.xml" "$U/api/v1/cap")
expect_eq "wrong content type: 415" "$code" 415
printf 'not xml at all' >"$T/junk.xml"
expect_eq "not XML: 422" "$(post "$T/junk.xml")" 422
expect_eq "422 lists the errors" "$(jq '.errors | length > 0' "$T/r.json")" true
sed 's#<sent>[^<]*</sent>#<sent>yesterday</sent>#' "$T/one-village.xml" >"$T/badsent.xml"
expect_eq "invalid CAP: 422" "$(post "$T/badsent.xml")" 422
expect_contains "the error names the element" \
    "$(jq -r '.errors[] | .path + " " + (.line|tostring)' "$T/r.json")" \
    "/alert/sent 5"
cat >"$T/lol.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>
XML
t0=$(date +%s%N)
expect_eq "billion laughs: 422" "$(post "$T/lol.xml")" 422
t1=$(date +%s%N)
check "... answered in under a second" test $(((t1 - t0) / 1000000)) -lt 1000
expect_contains "... saying why" "$(jq -r '.errors[].message' "$T/r.json")" DOCTYPE
head -c 3000000 /dev/zero | tr '\0' ' ' >"$T/big.xml"
expect_eq "over the CAP size limit: 413" "$(post "$T/big.xml")" 413
expect_eq "nothing of the rejected ones stored" \
    "$(get "alerts?limit=1000" | jq '[.alerts[] | select(.identifier == "feed-out-1")] | length')" 0

# The alerts in force were fanned out through the demo's file channels;
# /metrics shows it per channel.
for _ in $(seq 1 100); do
	m=$(curl -s "$U/metrics")
	case "$m" in *'gong_channel_sent_total{channel="outbox-file",type="file"} 0'*) sleep 0.3 ;; *) break ;; esac
done
expect_contains "metrics: messages sent per channel" "$m" \
    'gong_channel_sent_total{channel="outbox-file",type="file"}'
printf '%s\n' "$m" >"$T/metrics.txt"
sent=$(awk '/^gong_channel_sent_total\{channel="outbox-file"/ { print $2 }' \
    "$T/metrics.txt")
check "metrics: outbox-file has sent messages ($sent)" test "${sent:-0}" -gt 0
expect_contains "metrics: send latency histogram" "$m" \
    'gong_channel_send_latency_seconds_bucket{channel="outbox-file",le="+Inf"}'
expect_contains "metrics: breaker state" "$m" \
    'gong_channel_breaker_open{channel="outbox-file"} 0'
expect_contains "metrics: queue depth" "$m" \
    'gong_channel_queue_depth{channel="loudspeaker"}'

stop_gongd cap
expect_eq "clean stop (valgrind: no leaks or errors)" "$RC" 0
finish
