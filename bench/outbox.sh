#!/usr/bin/env bash
# bench/outbox.sh — the outbox benchmark (issue 4): queue N deliveries, drain them with C
# claiming senders, against a bare FOR UPDATE SKIP LOCKED queue of the same size drained the same
# way.  Prints deliveries per second for both and the ratio (goal >= 0.7).
#
#   bench/outbox.sh [--no-install] [--deliveries N] [--clients C] [--batch B]
#
# Defaults: 100000 deliveries, 4 senders, batches of 100.  Runs on a throwaway cluster
# (pg_virtualenv) with fsync and synchronous_commit on, autovacuum off (both queues are vacuumed
# and a checkpoint taken before each drain, so neither pays for the other's dead rows).  Each sender round (pgbench transaction)
# claims a batch and reports it: plum runs bench/scripts/outbox_claim.sql (plum.claim_deliveries,
# plum.report_deliveries), the floor runs bench/scripts/outbox_bare.sql; each queue is drained in
# two halves (bare, plum, plum, bare), and the script checks what each half left.
# Extra pg_virtualenv options (e.g. "-p plum" to load a DESTDIR build) come from $OUTBOX_VIRTUALENV.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
N=100000 CLIENTS=4 BATCH=100 INSTALL=1 INSIDE=0
while [ $# -gt 0 ]; do
	case "$1" in
		--no-install) INSTALL=0 ;;
		--deliveries) N=$2; shift ;;
		--clients) CLIENTS=$2; shift ;;
		--batch) BATCH=$2; shift ;;
		--inside) INSIDE=1 ;;
		*) echo "usage: bench/outbox.sh [--no-install] [--deliveries N] [--clients C] [--batch B]" >&2; exit 2 ;;
	esac
	shift
done
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ "$INSIDE" = 0 ]; then
	if [ "$INSTALL" = 1 ]; then
		log "building and installing plum from $root"
		make -C "$root" -s PG_CONFIG="$PG_CONFIG" >/dev/null
		make -C "$root" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
	fi
	cd "$root"
	# shellcheck disable=SC2086
	exec pg_virtualenv -t -v 15 ${OUTBOX_VIRTUALENV:-} \
		-o fsync=on -o synchronous_commit=on -o full_page_writes=on \
		-o shared_buffers=1GB -o max_wal_size=8GB -o checkpoint_timeout=30min -o autovacuum=off \
		"$0" --inside --deliveries "$N" --clients "$CLIENTS" --batch "$BATCH"
fi

export PGOPTIONS="-c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
log "fsync=$(q -c 'SHOW fsync'), synchronous_commit=$(q -c 'SHOW synchronous_commit')"
q -c 'CREATE EXTENSION plum'
log "queueing $N deliveries in each outbox"
queue=$(q -v n="$N" -f "$here/scripts/outbox_load.sql" | sed -n 's/^plum_queue_per_s //p')
log "plum.distribute_bulk queued $queue deliveries/s"

# Each queue is drained in two halves, in the order bare, plum, plum, bare, so that neither gains
# from its place in the run; a figure is the whole queue over the time of its two halves.
# Rounds per client in the first half: exactly its share of full batches (every claim finds a full
# batch then); in the second, one more round that finds the queue empty.
half=$(( N / 2 / (CLIENTS * BATCH) ))
first=$(( half * CLIENTS * BATCH ))
second_rounds=$(( (N - first + CLIENTS * BATCH - 1) / (CLIENTS * BATCH) + 1 ))
[ "$half" -gt 0 ] || { log "too few deliveries for $CLIENTS senders with batches of $BATCH"; exit 2; }
drain() {	# drain SCRIPT ROUNDS LEFT-QUERY EXPECTED-LEFT: seconds taken
	local script=$1 rounds=$2 left=$3 expect=$4 t0 t1 rest
	# the same start every time: no autovacuum of dead rows in the middle of a drain
	q -c 'VACUUM ANALYZE plum_internal.delivery' -c 'VACUUM ANALYZE bare_queue' -c 'CHECKPOINT'
	t0=$(date +%s.%N)
	pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -t "$rounds" -D batch="$BATCH" \
		-f "$here/scripts/$script" >>"${TMPDIR:-/tmp}/outbox_pgbench.log" 2>&1
	t1=$(date +%s.%N)
	rest=$(q -c "$left")
	[ "$rest" = "$expect" ] || { log "$script left $rest deliveries, expected $expect"; exit 1; }
	echo "$t1 - $t0" | bc -l
}
plum_left="SELECT count(*) FROM plum_internal.delivery WHERE state <> 'sent'"
bare_left="SELECT count(*) FROM bare_queue WHERE state <> 'sent'"
log "draining: $CLIENTS senders, batches of $BATCH; halves of $first and $((N - first)) deliveries"
b1=$(drain outbox_bare.sql "$half" "$bare_left" $((N - first)))
p1=$(drain outbox_claim.sql "$half" "$plum_left" $((N - first)))
p2=$(drain outbox_claim.sql "$second_rounds" "$plum_left" 0)
b2=$(drain outbox_bare.sql "$second_rounds" "$bare_left" 0)
log "bare: ${b1}s + ${b2}s; plum: ${p1}s + ${p2}s"
plum=$(echo "$N / ($p1 + $p2)" | bc -l | xargs printf '%.0f')
bare=$(echo "$N / ($b1 + $b2)" | bc -l | xargs printf '%.0f')
ratio=$(echo "$plum / $bare" | bc -l | xargs printf '%.2f')
verify=$(q -c 'SELECT count(*) FROM plum.verify()')
printf '| outbox (%s deliveries, %s senders, batch %s) | deliveries/s | goal |\n|---|---|---|\n' "$N" "$CLIENTS" "$BATCH"
printf '| plum claim_deliveries + report_deliveries | %s | |\n' "$plum"
printf '| bare FOR UPDATE SKIP LOCKED queue | %s | |\n' "$bare"
printf '| ratio | %s | >= 0.70 |\n' "$ratio"
printf '| plum.distribute_bulk queueing | %s | |\n' "$queue"
printf '| verify() rows after the drain | %s | 0 |\n' "$verify"
