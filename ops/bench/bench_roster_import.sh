#!/bin/bash
# Roster import at scale: 100,000 villages x 5 responders generated,
# then imported into a running gongd through `gong import` (HTTP body,
# CSV parse + validation + one SQLite transaction).  Prints, per run,
# the wall time of each import and gongd's peak resident memory
# (VmHWM), then the medians.  RUNS (default 3), VILLAGES, PER.
set -u
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
VILLAGES=${VILLAGES:-100000}
PER=${PER:-5}
T=$(mktemp -d /tmp/gong-bench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT

mkdir -p "$T/r"
./bin/gong-genroster --villages "$VILLAGES" --responders-per-village "$PER" \
    --seed 1 --out "$T/r" >/dev/null
printf 'generated: %s regions, %s responders, %s devices (%s MB of CSV)\n' \
    $(($(wc -l <"$T/r/regions.csv") - 1)) \
    $(($(wc -l <"$T/r/responders.csv") - 1)) \
    $(($(wc -l <"$T/r/devices.csv") - 1)) \
    $(du -cm "$T"/r/*.csv | tail -1 | cut -f1)

now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for run in $(seq 1 "$RUNS"); do
	D=$T/d$run
	mkdir -p "$D"
	cat >"$T/b.yaml" <<YAML
data_dir: $D
listen: 127.0.0.1:0
log_level: warn
http:
  max_body: 256MiB
  connection_timeout: 120s
channels:
  - { name: loudspeaker, type: file, path: outbox.log }
  - { name: siren, type: file, path: outbox.log }
  - { name: radio, type: file, path: outbox.log }
  - { name: wecom, type: file, path: outbox.log }
YAML
	./bin/gongd --config "$T/b.yaml" 2>"$T/gongd.log" &
	PID=$!
	for _ in $(seq 1 100); do [ -s "$D/gongd.url" ] && break; sleep 0.1; done
	G() { ./bin/gong --data-dir "$D" --timeout 600 "$@" >/dev/null; }
	t0=$(now); G import regions "$T/r/regions.csv" || exit 1
	t1=$(now); G import responders "$T/r/responders.csv" || exit 1
	t2=$(now); G import devices "$T/r/devices.csv" || exit 1
	t3=$(now)
	hwm=$(awk '/VmHWM/ { print $2 }' /proc/$PID/status)
	# A second import of the same responders: every row an update.
	t4=$(now); G import responders "$T/r/responders.csv" || exit 1
	t5=$(now)
	kill $PID; wait $PID 2>/dev/null; PID=""
	printf 'run %d: regions %.2fs  responders %.2fs  devices %.2fs  total %.2fs  re-import responders %.2fs  gongd peak RSS %d MB\n' \
	    "$run" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
	    "$(echo "$t3 - $t2" | bc)" "$(echo "$t3 - $t0" | bc)" \
	    "$(echo "$t5 - $t4" | bc)" $((hwm / 1024))
	echo "$(echo "$t2 - $t1" | bc)" >>"$T/resp"
	echo "$(echo "$t3 - $t0" | bc)" >>"$T/total"
	echo $((hwm / 1024)) >>"$T/rss"
done
printf 'median over %d runs (%d cores): responders import %.2fs, all three %.2fs, gongd peak RSS %d MB\n' \
    "$RUNS" "$(nproc)" "$(median <"$T/resp")" "$(median <"$T/total")" \
    "$(median <"$T/rss")"
