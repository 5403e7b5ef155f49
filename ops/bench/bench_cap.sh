#!/bin/bash
# CAP throughput (issue 3, acceptance 7): libxml2's own parse rate of the
# sample files (a) next to cap_parse (b, parse + validate) and the full
# ingest (c, parse + validate + meaning + SQLite store, one durable
# transaction per message), (d) the same in commits of 32 messages
# (engine/ingest.h ingest_batch_begin) on one thread, and (e) as (d) with
# the parse on a second thread (engine/ingest_pipe.h: the drop folder's
# path) -- two threads against (a)'s one, as its line says; in one
# process and one run; medians of RUNS (5) runs of SECONDS (3) each.  The
# figures to quote are (e)/(a) and the single-thread (d)/(a), target
# >= 0.3; (c)/(a) is the HTTP path's (one fsync per message).
#
# The store is on the disk under TMPDIR (default /tmp), as a deployment's
# data dir would be.  A second, shorter run with the store on tmpfs
# (/dev/shm) shows how much of (c) is the disk's fsync.
# GONG_SHARED (default ../shared) locates cap-samples/.
set -u
cd "$(dirname "$0")/../.."
BENCH=${CAP_BENCH:-build/rel/bench/cap_bench}
[ -x "$BENCH" ] || make -s "$BENCH" || exit 1
SAMPLES=${GONG_SHARED:-../shared}/cap-samples/valid
"$BENCH" "$SAMPLES" config/demo/regions.csv || exit 1
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	echo "-- the same with the store on tmpfs (no fsync cost), 3 runs:"
	TMPDIR=/dev/shm RUNS=3 "$BENCH" "$SAMPLES" config/demo/regions.csv |
	    grep -E '^(run|median)' || exit 1
fi
