#!/bin/bash
# Plan + persist (issue 4, acceptance 7): one red alert for the whole
# deployment (the root region) planned with the default config's routing
# (every responder by the file channel, officers above, loudspeakers and
# sirens): the time plan_alert takes to select the recipients and write
# every delivery (chunks of 2000 a transaction), and the planning
# process's peak resident memory (ru_maxrss), for rosters of about 10k, 100k and 1M
# recipients (gong-genroster: VILLAGES x 5 responders, plus officers and
# devices).  Each size: the store is built once, then copied fresh for
# each of RUNS (default 3) plan runs; medians printed.  Target: 1M
# recipients in under 8 s and 512 MB.  Each plan run also says how much
# of its time was spent inside its write transactions.
#
# Then, for each size, RUNS runs of the outbox alone (plan_bench outbox):
# the three writes every delivery of a sent SMS costs (the plan's insert,
# the claim that marks it sending, the "sent" record; claims of 256 and
# one "sent" statement a claim, as for batched requests), each timed
# with nothing else running.  All three hold SQLite's one write lock, so
# no arrangement of threads overlaps them: deliveries / (their sum) is
# the most any fan-out can send a second through this outbox on this
# machine, before reading the roster, rendering or any HTTP.  Printed
# next to the batched dispatch target (100,000 recipients/s) that it
# bounds.
#
# SIZES: "villages ..." (default "1600 16000 160000"); TMPDIR: where the
# stores go (on the disk by default, as a deployment's data dir).
set -u
cd "$(dirname "$0")/../.."
BENCH=${PLAN_BENCH:-build/rel/bench/plan_bench}
[ -x "$BENCH" ] || make -s "$BENCH" || exit 1
RUNS=${RUNS:-3}
SIZES=${SIZES:-1600 16000 160000}
T=$(mktemp -d "${TMPDIR:-/tmp}/gong-bench-plan.XXXXXX")
trap 'rm -rf "$T"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# run.db: a fresh copy of the store built for this size.
fresh_copy() {
	rm -f "$T/run.db" "$T/run.db-wal" "$T/run.db-shm"
	cp "$T/base.db" "$T/run.db"
	sync
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

./bin/gongd --print-default-config >"$T/gong.yaml"
echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start)"
for v in $SIZES; do
	mkdir -p "$T/r$v"
	./bin/gong-genroster --villages "$v" --responders-per-village 5 \
	    --seed 1 --out "$T/r$v" >/dev/null 2>&1 || exit 1
	out=$("$BENCH" setup "$T/gong.yaml" "$T/r$v" "$T/base.db") || exit 1
	id=$(echo "$out" | field alert)
	printf '%s villages: %s responders, %s devices; import %.1f s\n' "$v" \
	    $(($(wc -l <"$T/r$v/responders.csv") - 1)) \
	    $(($(wc -l <"$T/r$v/devices.csv") - 1)) "$(echo "$out" | field import_s)"
	: >"$T/t"; : >"$T/m"
	for run in $(seq 1 "$RUNS"); do
		fresh_copy
		out=$("$BENCH" plan "$T/gong.yaml" "$T/run.db" "$id") || exit 1
		n=$(echo "$out" | field deliveries)
		printf '  run %d: %s deliveries planned and written in %s s (%s s of it inside write transactions), peak RSS %s MB (%s MB before planning)\n' \
		    "$run" "$n" "$(echo "$out" | field plan_s)" \
		    "$(echo "$out" | field write_s)" \
		    "$(echo "$out" | field maxrss_mb)" \
		    "$(echo "$out" | field base_rss_mb)"
		echo "$out" | field plan_s >>"$T/t"
		echo "$out" | field maxrss_mb >>"$T/m"
	done
	t=$(median <"$T/t")
	printf 'median: %s recipients: plan + persist %s s (%.0f deliveries/s), peak RSS %s MB\n' \
	    "$n" "$t" "$(echo "$n / $t" | bc -l)" "$(median <"$T/m")"
	: >"$T/ow"; : >"$T/oc"; : >"$T/os"; : >"$T/ot"
	for run in $(seq 1 "$RUNS"); do
		fresh_copy
		out=$("$BENCH" outbox "$T/gong.yaml" "$T/run.db" "$id") || exit 1
		w=$(echo "$out" | field write_s)
		c=$(echo "$out" | field claim_s)
		s=$(echo "$out" | field sent_s)
		printf '  outbox run %d: %s deliveries: writing %s s, claiming %s s, recording sent %s s\n' \
		    "$run" "$(echo "$out" | field deliveries)" "$w" "$c" "$s"
		us() { echo "$1 * 1000000 / $n" | bc -l; }
		us "$w" >>"$T/ow"; us "$c" >>"$T/oc"; us "$s" >>"$T/os"
		echo "$w + $c + $s" | bc -l >>"$T/ot"
	done
	printf 'median: outbox alone, %s deliveries: write %.1f us, claim %.1f us, sent %.1f us a delivery (one thread, nothing else running): at most %.0f deliveries/s through its one writer (the batched dispatch target is 100,000 recipients/s)\n' \
	    "$n" "$(median <"$T/ow")" "$(median <"$T/oc")" "$(median <"$T/os")" \
	    "$(echo "$n / $(median <"$T/ot")" | bc -l)"
	rm -rf "$T/r$v" "$T/base.db" "$T/base.db-wal" "$T/base.db-shm" "$T/run.db"*
done
