#!/usr/bin/env bash
# test/dump_restore.sh — pg_dump / pg_restore keep every plum row, and the
# restored database still works (sequences included).
#
# Runs against the server named by the usual PG* variables, as a superuser
# (it sets plum.now).  Creates and drops the databases plum_dump_src and
# plum_dump_dst.  Prints one PASS or FAIL line per check; exits non-zero if
# any check failed.  test/run runs it inside its throwaway cluster.
set -uo pipefail

SRC=plum_dump_src
DST=plum_dump_dst
ASOF='2025-06-01 00:00:00+00'	# the instant both snapshots are taken at
export PGTZ=UTC

# Use PostgreSQL 15's own client programs when present (Debian's wrappers
# could pick a newer version's pg_dump).
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/pg_dump" ] || PGBIN=$(dirname "$(command -v pg_dump)")

PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d -t plum-dump.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=test/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# snapshot DB OUTDIR: what must survive the round trip, one file per query
snapshot() {
	local db=$1 out=$2
	mkdir -p "$out"
	q() {
		"${PSQL[@]}" -d "$db" -A -F '|' -P footer=off \
			-c "SET plum.now = '$ASOF'" -c "$2" >"$out/$1" 2>&1
	}
	q wallets 'SELECT company_id, recipient, balance, next_expiry FROM plum.wallets ORDER BY 1, 2' &&
	q point_lots 'SELECT company_id, recipient, lot_id, issued_at, expires_at, amount, remaining FROM plum.point_lots ORDER BY 1, 2, 3' &&
	q admins 'SELECT admin_id, company_id, email, role, threshold, created, pool FROM plum.admins ORDER BY 1' &&
	q ledger 'SELECT kind, count(*), sum(amount) FROM plum.ledger GROUP BY kind ORDER BY kind' &&
	q ledger_ids 'SELECT count(*), count(DISTINCT entry_id), min(entry_id), max(entry_id) FROM plum.ledger' &&
	q ledger_rows 'SELECT entry_id, company_id, at, kind, amount, admin_id, recipient FROM plum.ledger ORDER BY entry_id' &&
	q verify 'SELECT * FROM plum.verify() ORDER BY 1, 2, 3'
}

# show_error FILE: the first error in a psql log and what follows, else its tail
show_error() {
	if grep -q 'ERROR' "$1"; then
		sed -n '/ERROR/,$p' "$1" | head -n 20 | sed 's/^/    /'
	else
		tail -n 20 "$1" | sed 's/^/    /'
	fi
}

# verify_empty DB FILE: the snapshot's verify() returned no rows
# shellcheck disable=SC2317 # called through check
verify_empty() {
	# the file holds the header line only
	[ "$(wc -l <"$2")" -le 1 ] || { echo "verify() in $1:"; cat "$2"; return 1; }
}

echo "dump/restore: server $("${PSQL[@]}" -d postgres -A -t -c 'SHOW server_version'), client $PGBIN"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
if ! "$PGBIN/dropdb" --if-exists "$DST" || ! "$PGBIN/dropdb" --if-exists "$SRC" ||
	! "$PGBIN/createdb" "$SRC"; then
	fail "create database $SRC"
	finish "dump/restore"
fi

# --- a small data set, through plum's SQL API only --------------------------
if "${PSQL[@]}" -d "$SRC" >"$WORK/load.log" 2>&1 <<'SQL'; then
CREATE EXTENSION plum;
SET plum.now = '2024-03-01 09:00:00+00';
SELECT plum.create_company('Acme', 'USD') AS c \gset
SELECT plum.add_admin(:c, 'boss@acme.test', 'super_admin', 100000) AS a \gset
SELECT plum.create_points(:a, 5000);
SELECT plum.give_points(:a, 'alice@acme.test', 100);
SELECT plum.give_points(:a, 'carol@acme.test', 40, 'welcome');

SET plum.now = '2024-09-15 12:00:00+00';
SELECT plum.give_points(:a, ' Alice@Acme.TEST', 60.50, 'spot award');
SELECT plum.give_points(:a, '+1 (415) 555-0100', 250);
SELECT plum.give_points_bulk(:a, ARRAY['bob@acme.test', 'dave@acme.test', '+14155550100']::plum.recipient[],
                             ARRAY[10, 20.25, 30]::numeric[], 'team bonus');

SET plum.now = '2025-01-10 08:30:00+00';
SELECT plum.give_points(:a, 'bob@acme.test', 75, NULL, 'grant-bob-1');

-- alice's and carol's first lots expired at 2025-03-01 09:00
SET plum.now = '2025-03-02 10:00:00+00';
SELECT plum.expire_points();

SET plum.now = '2025-03-05 15:00:00+00';
SELECT plum.redeem_points(:c, 'alice@acme.test', 45.25, 'order-1') AS r1 \gset
SELECT plum.redeem_points(:c, '+14155550100', 200, 'order-2') AS r2 \gset
SELECT plum.redeem_points(:c, 'bob@acme.test', 80, 'order-3');

SET plum.now = '2025-03-06 11:00:00+00';
SELECT plum.reverse_redemption(:r2, 50);
SELECT plum.reverse_redemption(:r1, 5.25, 'rev-1');
SQL
	pass "load the data set through plum's SQL API"
else
	fail "load the data set through plum's SQL API"
	show_error "$WORK/load.log"
	finish "dump/restore"
fi

if snapshot "$SRC" "$WORK/before"; then
	pass "snapshot $SRC (wallets, point_lots, admins, ledger, verify)"
else
	fail "snapshot $SRC"
	cat "$WORK"/before/* >"$WORK/before.log"
	show_error "$WORK/before.log"
	finish "dump/restore"
fi
check "verify() returns no rows in $SRC" verify_empty "$SRC" "$WORK/before/verify"
if [ "$(sed -n 2p "$WORK/before/ledger_ids" | cut -d'|' -f1)" -gt 0 ] 2>/dev/null; then
	pass "the ledger of $SRC has entries"
else
	fail "the ledger of $SRC has entries"
fi

# --- round trip ---------------------------------------------------------------
check "pg_dump -Fc $SRC" "$PGBIN/pg_dump" -Fc -f "$WORK/plum.dump" "$SRC" || finish "dump/restore"
check "createdb $DST" "$PGBIN/createdb" "$DST" || finish "dump/restore"
check "pg_restore into $DST" "$PGBIN/pg_restore" --exit-on-error -d "$DST" "$WORK/plum.dump" || finish "dump/restore"

if snapshot "$DST" "$WORK/after"; then
	pass "snapshot $DST"
else
	fail "snapshot $DST"
	cat "$WORK"/after/* >"$WORK/after.log"
	show_error "$WORK/after.log"
	finish "dump/restore"
fi
for f in wallets point_lots admins ledger ledger_ids ledger_rows verify; do
	if diff -u "$WORK/before/$f" "$WORK/after/$f" >"$WORK/$f.diff"; then
		pass "$f identical after restore ($(($(wc -l <"$WORK/before/$f") - 1)) rows)"
	else
		fail "$f differs after restore"
		head -n 40 "$WORK/$f.diff" | sed 's/^/    /'
	fi
done
check "verify() returns no rows in $DST" verify_empty "$DST" "$WORK/after/verify"

# --- the restored database still works ------------------------------------
# New lots and ledger entries must get fresh ids: a sequence left behind by
# the dump would reuse them.
if "${PSQL[@]}" -d "$DST" -A -t -F '|' >"$WORK/further.log" 2>&1 <<SQL; then
SET plum.now = '$ASOF';
SELECT company_id AS c, admin_id AS a FROM plum.admins WHERE email = 'boss@acme.test' \gset
SELECT max(lot_id) AS max_lot FROM plum.point_lots \gset
SELECT max(entry_id) AS max_entry, count(*) AS n_entries FROM plum.ledger \gset
SELECT plum.points_balance(:c, 'alice@acme.test') AS alice_before \gset

SELECT plum.give_points(:a, 'erin@acme.test', 33) AS lot \gset
SELECT plum.give_points(:a, 'alice@acme.test', 12.50) AS lot2 \gset
SELECT plum.redeem_points(:c, 'erin@acme.test', 13, 'order-after-restore') AS r \gset
SELECT plum.redeem_points(:c, 'alice@acme.test', 20, 'order-after-restore-2') AS r2 \gset

SELECT 'CHECK', name, ok FROM (VALUES
  ('new lot ids are above the restored maximum', :lot > :max_lot AND :lot2 > :max_lot),
  ('the new lots are in plum.point_lots',
   (SELECT count(*) = 2 FROM plum.point_lots WHERE lot_id IN (:lot, :lot2))),
  ('new ledger entries have fresh entry ids',
   (SELECT count(*) = count(DISTINCT entry_id) AND max(entry_id) > :max_entry
           AND count(*) >= :n_entries + 4 FROM plum.ledger)),
  ('erin''s balance is 33 - 13 = 20', plum.points_balance(:c, 'erin@acme.test') = 20),
  ('alice''s balance moved by +12.50 - 20', plum.points_balance(:c, 'alice@acme.test') = :alice_before - 7.50)
) AS v(name, ok);
SQL
	pass "give_points and redeem_points succeed in $DST"
	while IFS='|' read -r tag name ok; do
		[ "$tag" = CHECK ] || continue
		if [ "$ok" = t ]; then pass "after restore: $name"; else fail "after restore: $name"; fi
	done <"$WORK/further.log"
	grep -q '^CHECK|' "$WORK/further.log" || fail "after restore: the checks did not run"
else
	fail "give_points and redeem_points succeed in $DST"
	show_error "$WORK/further.log"
fi

# an idempotency key recorded before the dump still answers with the first result
if out=$("${PSQL[@]}" -d "$DST" -A -t 2>&1 <<SQL
SET plum.now = '$ASOF';
SELECT admin_id AS a FROM plum.admins WHERE email = 'boss@acme.test' \gset
SELECT count(*) AS n FROM plum.ledger \gset
SELECT plum.give_points(:a, 'bob@acme.test', 75, NULL, 'grant-bob-1') AS lot \gset
SELECT (SELECT count(*) FROM plum.ledger) = :n AS unchanged,
       (SELECT count(*) FROM plum.point_lots WHERE lot_id = :lot AND issued_at = '2025-01-10 08:30:00+00') = 1 AS same_lot;
SQL
) && [ "$(echo "$out" | tail -n 1)" = "t|t" ]; then
	pass "an idempotency key from before the dump replays the first result in $DST"
else
	fail "an idempotency key from before the dump replays the first result in $DST"
	echo "$out" | sed 's/^/    /' | tail -n 20
fi

snapshot "$DST" "$WORK/final" >/dev/null 2>&1
check "verify() still returns no rows in $DST" verify_empty "$DST" "$WORK/final/verify"

"$PGBIN/dropdb" --if-exists "$DST"
"$PGBIN/dropdb" --if-exists "$SRC"
finish "dump/restore"
