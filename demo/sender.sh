#!/usr/bin/env bash
# demo/sender.sh — an example sender for plum's outbox (README, "Distribution").
#
#   demo/sender.sh [--channel CHANNEL] [--out FILE] [--batch N] [--lease INTERVAL]
#                  [--name SENDER] [--once | --loops N] [--wait SECONDS] [-d DBNAME]
#
# LISTENs on plum_<channel>, claims a batch of deliveries (plum.claim_deliveries: FOR UPDATE SKIP
# LOCKED, under a lease), "sends" each one by appending it to FILE, and reports them
# (plum.report_deliveries: sent, or failed with the error when the append fails).  When the queue
# is empty it waits up to --wait seconds for a notification before the next round.  Bounded: one
# round with --once, else at most --loops rounds (default 10); it stops early after a round that
# found nothing and heard nothing.  Connects like psql (PGHOST, PGPORT, PGUSER, PGDATABASE or -d);
# the role needs plum_app.  Prints one line per round: "round N: claimed C, sent S, failed F".
#
# A real sender does the same with an SMTP, SMS or WhatsApp gateway in place of the file, and
# reports "delivered" or "bounced" when the gateway's receipts arrive.
set -euo pipefail

channel=email out=outbox.txt batch=50 lease='5 minutes' name="$(hostname)-$$" loops=10 wait=2 db=()
while [ $# -gt 0 ]; do
	case "$1" in
		--channel) channel=$2; shift ;;
		--out) out=$2; shift ;;
		--batch) batch=$2; shift ;;
		--lease) lease=$2; shift ;;
		--name) name=$2; shift ;;
		--once) loops=1 wait=0 ;;
		--loops) loops=$2; shift ;;
		--wait) wait=$2; shift ;;
		-d|--dbname) db=(-d "$2"); shift ;;
		-h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
		*) echo "demo/sender.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ "$loops" =~ ^[1-9][0-9]*$ ]] || { echo "demo/sender.sh: --loops must be a positive number" >&2; exit 2; }

psql_() { psql -X -q -v ON_ERROR_STOP=1 "${db[@]}" "$@"; }

# The listener: a psql of its own that LISTENs and polls every 0.2 s (psql prints a notification
# after the next command it runs); wait_notify SECONDS returns 0 when one arrived in time.
coproc LISTENER { psql -X -q -At "${db[@]}" 2>&1; }
trap 'kill "$LISTENER_PID" 2>/dev/null || true' EXIT
echo "LISTEN plum_$channel;" >&"${LISTENER[1]}"
wait_notify() {
	local deadline=$((SECONDS + $1)) line heard=1
	while :; do
		echo "SELECT 'tick';" >&"${LISTENER[1]}"
		while IFS= read -r -t 5 line <&"${LISTENER[0]}"; do
			[[ "$line" == *"Asynchronous notification"* ]] && heard=0
			[ "$line" = tick ] && break
		done
		[ "$heard" = 0 ] && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		echo "SELECT pg_sleep(0.2);" >&"${LISTENER[1]}"
	done
}

for ((round = 1; round <= loops; round++)); do
	# claim: one row per delivery, fields separated by US, rows by RS (messages may hold newlines)
	claimed=0 sent=() failed=() errors=()
	while IFS=$'\x1f' read -r -d $'\x1e' id destination message; do
		id=${id#$'\n'}
		[ -n "$id" ] || continue	# psql's final newline
		message=${message%$'\n'}
		claimed=$((claimed + 1))
		if { printf -- '--- delivery %s via %s to %s\n%s\n' "$id" "$channel" "$destination" "$message"; } 2>/dev/null >>"$out"; then
			sent+=("$id")
		else
			failed+=("$id") errors+=("cannot append to $out")
		fi
	done < <(psql_ -At -F $'\x1f' -R $'\x1e' \
		-v channel="$channel" -v name="$name" -v batch="$batch" -v lease="$lease" <<'SQL'
SELECT delivery_id, destination, message
FROM plum.claim_deliveries(:'channel', :'name', :'batch'::integer, :'lease'::interval);
SQL
	printf '\x1e')	# a final RS so the last row is read whole
	if [ ${#sent[@]} -gt 0 ]; then
		psql_ -At -v ids="{$(IFS=,; echo "${sent[*]}")}" -v name="$name" >/dev/null <<'SQL'
SELECT plum.report_deliveries(:'ids'::bigint[], :'name', 'sent');
SQL
	fi
	for i in "${!failed[@]}"; do
		psql_ -At -v id="${failed[$i]}" -v name="$name" -v error="${errors[$i]}" >/dev/null <<'SQL'
SELECT plum.report_delivery(:'id'::bigint, :'name', 'failed', :'error');
SQL
	done
	echo "round $round: claimed $claimed, sent ${#sent[@]}, failed ${#failed[@]}"
	# an empty queue: wait for a notification (a commit of distribute() or a release), else stop
	if [ "$claimed" = 0 ] && [ "$round" -lt "$loops" ]; then
		wait_notify "$wait" || break
	fi
done
