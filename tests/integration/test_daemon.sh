#!/bin/bash
# Integration: gongd on a free loopback port with a temporary data dir.
# Rosters imported through the CLI (a GBK file among them, a bad file
# rejected whole), the tree walked through the API and the CLI, a backup
# taken while requests are served and restored, SIGHUP with a broken
# config (the old one stays), SIGTERM.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

D=$T/data
mkdir -p "$T/r"
"$GENROSTER" --villages 60 --responders-per-village 3 --seed 11 \
    --out "$T/r" >/dev/null || { not_ok "generate rosters"; finish; exit 1; }

cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
data_dir: $D
listen: 127.0.0.1:0
log_level: info
http:
  max_body: 1MiB
channels:
  - { name: loudspeaker, type: file, path: outbox.log }
  - { name: siren, type: file, path: outbox.log }
  - { name: radio, type: file, path: outbox.log }
  - { name: wecom, type: file, path: outbox.log }
YAML

check "gongd --check-config accepts the config" \
    "$GONGD" --check-config "$T/gong.yaml"
start_gongd main --config "$T/gong.yaml" --data-dir "$D" ||
    { not_ok "gongd starts"; finish; exit 1; }
ok "gongd starts and publishes its URL"
U=$URL_main
G() { "$GONG" --data-dir "$D" "$@"; }

"$GONGD" --config "$T/gong.yaml" --data-dir "$D" >"$T/second.log" 2>&1
expect_eq "a second gongd on the same data dir is refused" "$?" 1
expect_contains "the refusal says why" "$(cat "$T/second.log")" \
    "in use by another gongd (pid $PID_main)"
check "the first gongd's URL file is left alone" test -s "$D/gongd.url"

code=$(curl -s -o "$T/h.json" -w '%{http_code}' "$U/healthz")
expect_eq "healthz answers 200" "$code" 200
expect_contains "healthz says ok" "$(cat "$T/h.json")" '"status":"ok"'
check "admin token is mode 0600" \
    test "$(stat -c %a "$D/admin.token")" = 600

out=$(G import regions "$T/r/regions.csv" 2>&1)
expect_contains "regions import through the CLI" "$out" "inserted"
out=$(G import responders "$T/r/responders.csv" 2>&1)
expect_contains "responders import through the CLI" "$out" "inserted"
out=$(G import devices "$T/r/devices.csv" 2>&1)
expect_contains "devices import through the CLI" "$out" "inserted"

nreg=$(($(wc -l <"$T/r/regions.csv") - 1))
nresp=$(($(wc -l <"$T/r/responders.csv") - 1))
json=$(G --json status)
expect_contains "status counts regions" "$json" "\"regions\": $nreg"
expect_contains "status counts responders" "$json" "\"responders\": $nresp"

# The tree through the CLI: the city and its counties with counts.
out=$(G regions 140400000000 --depth 1)
expect_contains "gong regions shows the root" "$out" "140400000000"
county=$(awk -F, 'NR > 1 && $1 ~ /000000$/ && $1 !~ /00000000$/ {
    print $1; exit }' "$T/r/regions.csv")
expect_contains "gong regions lists a county with counts" "$out" \
    "  $county"
expect_contains "gong regions prints subtree counts" "$out" \
    "responders="
# A village through the API: parents from the root down.
village=$(awk -F, 'NR > 1 && $1 !~ /000$/ { print $1; exit }' \
    "$T/r/regions.csv")
TOK=$(cat "$D/admin.token")
curl -s -H "Authorization: Bearer $TOK" "$U/api/v1/regions/$village" \
    >"$T/v.json"
expect_eq "village level" "$(jq -r .region.level_name "$T/v.json")" village
expect_eq "village has city, county and township above it" \
    "$(jq -r '[.parents[].level_name] | join(",")' "$T/v.json")" \
    "city,county,township"
expect_eq "parents start at the root" \
    "$(jq -r '.parents[0].code' "$T/v.json")" 140400000000
n=$(curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/regions/$village/responders" | jq '.responders | length')
expect_eq "village responders listed" "$n" 3

# Authentication and errors as JSON.
code=$(curl -s -o "$T/e.json" -w '%{http_code}' \
    "$U/api/v1/regions/140400000000")
expect_eq "no token: 401" "$code" 401
expect_eq "401 body is a JSON error" "$(jq -r .error.code "$T/e.json")" \
    unauthorized
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x$TOK" \
    "$U/api/v1/regions/140400000000")
expect_eq "wrong token: 401" "$code" 401
code=$(curl -s -o "$T/e.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" "$U/api/v1/regions/140499000000")
expect_eq "unknown region: 404" "$code" 404
code=$(curl -s -o "$T/e.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" "$U/api/v1/regions/14x4")
expect_eq "malformed code: 400" "$code" 400
expect_contains "400 names the problem" "$(jq -r .error.message \
    "$T/e.json")" "non-digit"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOK" "$U/api/v1/regions/140400000000")
expect_eq "wrong method: 405" "$code" 405
head -c 2000000 /dev/zero | tr '\0' a >"$T/big.csv"
code=$(curl -s -o "$T/e.json" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    --data-binary @"$T/big.csv" "$U/api/v1/import/responders")
expect_eq "body over the limit: 413" "$code" 413
code=$(curl -s -o "$T/e.json" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.csv" \
    "$U/api/v1/import/responders")
expect_eq "chunked body over the limit: 413" "$code" 413

# A GBK-encoded responders file, as Excel exports it.
printf '编号,姓名,所属区划,角色,手机\r\ng1,欧阳春花,%s,预警员,13912345678\r\ng2,"司马,光",%s,网格员,+86 139-1234-5679\r\n' \
    "$village" "$village" | iconv -f UTF-8 -t GBK >"$T/gbk.csv"
out=$(G import responders "$T/gbk.csv" 2>&1)
expect_contains "GBK file imports" "$out" "inserted"
curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/regions/$village/responders" >"$T/g.json"
expect_eq "GBK name converted" \
    "$(jq -r '.responders[] | select(.id=="g1") | .name' "$T/g.json")" \
    欧阳春花
expect_eq "GBK role alias mapped" \
    "$(jq -r '.responders[] | select(.id=="g2") | .role' "$T/g.json")" \
    grid_worker
expect_eq "quoted comma kept, phone normalised" \
    "$(jq -r '.responders[] | select(.id=="g2") | .name + " " + .phone' \
    "$T/g.json")" "司马,光 13912345679"

# Three bad rows: the file is rejected whole, the store unchanged.
before=$(G --json status | jq -c .counts)
printf 'id,name,region,role,phone\nb1,甲,%s,responsible,13800000001\nb2,乙,1404251,responsible,13800000002\nb3,丙,%s,chief,13800000003\nb4,丁,%s,warner,2345\n' \
    "$village" "$village" "$village" >"$T/bad.csv"
out=$(G import responders "$T/bad.csv" 2>&1)
rc=$?
expect_eq "bad file: exit status 1" "$rc" 1
expect_eq "bad file: three error lines" \
    "$(printf '%s\n' "$out" | grep -c '^bad.csv:[0-9]*: ')" 3
expect_contains "bad row 3 named: malformed code" "$out" "bad.csv:3: region"
expect_contains "bad row 4 named: unknown role" "$out" "bad.csv:4: role"
expect_contains "bad row 5 named: invalid phone" "$out" "bad.csv:5: phone"
expect_eq "bad file: store unchanged" \
    "$(G --json status | jq -c .counts)" "$before"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    "$U/api/v1/regions/140400000000/responders?subtree=1&limit=5")
expect_eq "b1 of the rejected file not imported" \
    "$(curl -s -H "Authorization: Bearer $TOK" \
    "$U/api/v1/regions/$village/responders" | jq '[.responders[] |
    select(.id=="b1")] | length')" 0

# Backup while requests are being served, then restore.
(
	for _ in $(seq 1 200); do
		curl -s -o /dev/null -H "Authorization: Bearer $TOK" \
		    "$U/api/v1/regions/140400000000?depth=2" || exit 1
	done
) &
load=$!
G import responders "$T/r/responders.csv" >/dev/null 2>&1 &
imp=$!
check "gong backup while serving" G backup "$T/backup.db"
wait $load; wait $imp
want=$(G --json status | jq -c '.counts | [.regions,.responders,.devices]')
got=$(sqlite3 "$T/backup.db" 'SELECT json_array((SELECT count(*) FROM
    regions), (SELECT count(*) FROM responders), (SELECT count(*) FROM
    devices))')
expect_eq "backup has the same counts" "$got" "$want"
expect_eq "backup passes integrity_check" \
    "$(sqlite3 "$T/backup.db" 'PRAGMA integrity_check')" ok
out=$(G backup "$T/backup.db" 2>&1)
rc=$?
expect_eq "backup refuses to overwrite without --force" "$rc" 7

# SIGHUP with a broken config: refused, the old config stays.
cp "$T/gong.yaml" "$T/gong.yaml.good"
printf 'http:\n  max_body: lots\nbogus_key: 1\n' >>"$T/gong.yaml"
kill -HUP "$PID_main"
for _ in $(seq 1 50); do
	grep -q config.rejected "$T/main.log" && break
	sleep 0.1
done
expect_contains "broken config on SIGHUP is rejected" \
    "$(cat "$T/main.log")" "event=config.rejected"
expect_contains "the rejection names file and line" \
    "$(cat "$T/main.log")" "gong.yaml:"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")
expect_eq "still serving after a rejected reload" "$code" 200
cp "$T/gong.yaml.good" "$T/gong.yaml"
kill -HUP "$PID_main"
for _ in $(seq 1 50); do
	grep -q config.reloaded "$T/main.log" && break
	sleep 0.1
done
expect_contains "a good config reloads" "$(cat "$T/main.log")" \
    "event=config.reloaded"

m=$(curl -s "$U/metrics")
expect_contains "metrics: build info" "$m" "gong_build_info{version="
expect_contains "metrics: responders gauge" "$m" "gong_responders "
expect_contains "metrics: requests by route and status" "$m" \
    'gong_http_requests_total{route="region",status="401"}'

stop_gongd main
expect_eq "SIGTERM: clean exit (valgrind: no leaks or errors)" "$RC" 0
check "URL file removed at stop" test ! -e "$D/gongd.url"

# Restore: the backup in place of gong.db in a fresh data dir.
R=$T/restored
mkdir -p "$R"
cp "$T/backup.db" "$R/gong.db"
cp "$D/admin.token" "$R/admin.token"
chmod 600 "$R/admin.token"
sed "s#^data_dir: .*#data_dir: $R#" "$T/gong.yaml" >"$T/restore.yaml"
start_gongd restored --config "$T/restore.yaml" --data-dir "$R" ||
    not_ok "gongd starts on the restored store"
expect_eq "restored store has the same counts" \
    "$("$GONG" --data-dir "$R" --json status |
    jq -c '.counts | [.regions,.responders,.devices]')" "$want"
stop_gongd restored
expect_eq "restored gongd stops cleanly" "$RC" 0
finish
