#!/usr/bin/env bash
# test/sender.sh — the README's example sender (demo/sender.sh) drains the outbox: run inside a
# cluster where plum is installed (e.g. from test/run's --inside part, or pg_virtualenv).
# Exit status 0 when every check holds; prints "sender: ok" or what differed.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
db=plum_sender_test out=$(mktemp)
trap 'rm -f "$out"; dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "sender: FAILED: $*"; exit 1; }
createdb "$db"
q <<'SQL' >/dev/null
CREATE EXTENSION plum;
SELECT plum.create_company('Acme', 'USD');
SELECT plum.add_admin(1, 'boss@acme.test', 'super_admin', 1000);
SELECT plum.create_points(1, 500);
SELECT plum.distribute(1, 'email', 'alice@example.com', E'Hi {{name}},\nyou got {{amount}}.', points => 25, vars => '{"name": "Alice"}');
SELECT plum.distribute_bulk(1, 'email', ARRAY['b@x.test', 'c@x.test', 'd@x.test'], 'Hello {{amount}}', points => ARRAY[1, 2, 3]);
SELECT plum.distribute(1, 'sms', '+14155550100', 'sms {{amount}}', points => 4);
SQL
# one round of 3, then rounds until the queue is empty and no notification comes; a distribution
# committed meanwhile wakes the sender (NOTIFY) and is sent too
r1=$("$REPO/demo/sender.sh" -d "$db" --once --batch 3 --out "$out" --name s1)
[ "$r1" = "round 1: claimed 3, sent 3, failed 0" ] || fail "first round: $r1"
( sleep 1; q -c "SELECT plum.distribute(1, 'email', 'late@x.test', 'Late {{amount}}', points => 5)" >/dev/null ) &
"$REPO/demo/sender.sh" -d "$db" --loops 5 --wait 3 --batch 3 --out "$out" --name s2 >/dev/null
wait
states=$(q -c "SELECT string_agg(channel || ':' || state, ' ' ORDER BY delivery_id) FROM plum_internal.delivery")
[ "$states" = "email:sent email:sent email:sent email:sent sms:queued email:sent" ] || fail "states: $states"
grep -qx 'you got 25.00 USD.' "$out" || fail "the multi-line message is not in $out"
[ "$(grep -c '^--- delivery ' "$out")" = 5 ] || fail "$(grep -c '^--- delivery ' "$out") messages in the file, not 5"
grep -q 'to late@x.test' "$out" || fail "the late distribution was not sent"
# a file it cannot write: reported failed, retried later
q -c "SELECT plum.distribute(1, 'email', 'e@x.test', 'E {{amount}}', points => 1)" >/dev/null
"$REPO/demo/sender.sh" -d "$db" --once --out /nonexistent/dir/file --name s3 >/dev/null
f=$(q -c "SELECT state || ' ' || attempts || ' ' || last_error FROM plum.delivery_failures")
[ "$f" = "queued 1 cannot append to /nonexistent/dir/file" ] || fail "failure: $f"
[ "$(q -c 'SELECT count(*) FROM plum.verify()')" = 0 ] || fail "verify() is not empty"
echo "sender: ok"
