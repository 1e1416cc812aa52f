#!/usr/bin/env bash
# test/reliability/upgrade.sh [TREE] — plum's upgrade test, the way a user upgrades.
#
# In a throwaway private copy of the system's PostgreSQL 15 installation (never the system's own
# extension directory), on a cluster of its own:
#
#   1. builds plum 0.1.0 from git (commit 9d3e383 of the repo this script lives in) and installs it
#      into the copy; CREATE EXTENSION plum VERSION '0.1.0' and data through 0.1.0's API
#      (upgrade_load.sql);
#   2. snapshots every table of the extension (by table name: tables may change schema), sequence
#      values, balances, codes, pools, the views (the ledger among them) and verify();
#   3. installs TREE (default: the repo this script lives in, work tree as it is) over it, restarts,
#      ALTER EXTENSION plum UPDATE: extversion must become TREE's default_version;
#   4. compares: the same rows (the columns both versions have), verify() clean; then the new
#      library works on the old data (grants, redemptions, a reversal and a key replay of 0.1.0
#      calls, old codes and links, the sweep);
#   5. catalog comparison: catalog.sql on the upgraded database and on a fresh CREATE EXTENSION plum
#      must print the same text; the diff otherwise.
#
# Runs as root (PostgreSQL itself as user postgres) or as an ordinary user; needs PostgreSQL 15 with
# its server-dev files, git, make, gcc and libqrencode-dev.  Takes a free port (PLUM_UPGRADE_PORTS:
# the ports to try, default 54330-54399).  PLUM_UPGRADE_KEEP=1 keeps the temporary directory.
# Prints PASS/FAIL/SKIP lines and ends with "upgrade: N passed, N failed"; exits non-zero if
# anything failed.  test/reliability/run calls it in its upgrade step.
# shellcheck disable=SC2015 # 'a && b || give_up': give_up leaves
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TREE=$(cd "${1:-${PLUM_UPGRADE_TREE:-$REPO}}" && pwd) || { echo "usage: $0 [TREE]" >&2; exit 2; }
FROM_COMMIT=9d3e383		# plum 0.1.0, as released
FROM_VERSION=0.1.0
PGVERSION=15
SYSTEM_PG=/usr/lib/postgresql/$PGVERSION
ASOF='2025-05-10 00:00:00+00'	# plum's clock for both snapshots
LATER='2025-06-01 10:00:00+00'	# and for what the new library does afterwards
DB=plum_upgrade
FRESH=plum_upgrade_fresh

export PGTZ=UTC PGOPTIONS='-c client_min_messages=warning'
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGSERVICEFILE PGPASSFILE PGPASSWORD
START=$SECONDS

# pass, fail, skip, note, step, check, equal: the suite's shared helpers
# shellcheck source=test/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
# finish: the last line, and the exit status
finish() {
	echo "upgrade: $npass passed, $nfail failed ($((SECONDS - START))s)"
	[ "$nfail" = 0 ]
	exit
}
# show FILE: the first error of a log and what follows, else its tail
show() {
	if grep -q 'ERROR\|error:' "$1"; then
		grep -m 1 -A 12 'ERROR\|error:' "$1" | sed 's/^/    /'
	else
		tail -n 15 "$1" | sed 's/^/    /'
	fi
}
# give_up NAME LOG: a step everything after it needs failed
give_up() {
	fail "$1"
	[ -z "${2:-}" ] || show "$2"
	finish
}

# ---------------------------------------------------------------------------
# The private PostgreSQL and its cluster
# ---------------------------------------------------------------------------

WORK=$(mktemp -d -t plum-upgrade.XXXXXX) || exit 1
chmod 755 "$WORK"
PRIV=$WORK/pg
BIN=$PRIV/usr/lib/postgresql/$PGVERSION/bin
PG_CONFIG=$BIN/pg_config
DATA=$WORK/data
SOCK=$WORK/sock
LOG=$WORK/log		# written by postgres: the server's log
PORT=
PSQL=("$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$SOCK" -U postgres)

# as_pg COMMAND...: a server command as user postgres (PostgreSQL refuses root)
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	local status=$?
	if [ -f "$DATA/postmaster.pid" ]; then
		as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ "${PLUM_UPGRADE_KEEP:-}" = 1 ]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_in_use PORT: a server's socket file or a TCP listener on it
port_in_use() {
	local d
	for d in /var/run/postgresql /tmp; do
		[ ! -e "$d/.s.PGSQL.$1" ] || return 0
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# server_start: start the cluster, wait until it answers
server_start() {
	as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG/server.log" -w -t 120 start >>"$WORK/pg_ctl.log" 2>&1
}

step "a private copy of PostgreSQL $PGVERSION and a cluster"
[ -x "$SYSTEM_PG/bin/pg_config" ] && [ -d "/usr/include/postgresql/$PGVERSION/server" ] ||
	give_up "PostgreSQL $PGVERSION with its server-dev files is installed ($SYSTEM_PG/bin/pg_config, /usr/include/postgresql/$PGVERSION/server)"
mkdir -p "$PRIV/usr/lib/postgresql" "$PRIV/usr/share/postgresql" "$PRIV/usr/include"
cp -a "$SYSTEM_PG" "$PRIV/usr/lib/postgresql/" &&
	cp -a "/usr/share/postgresql/$PGVERSION" "$PRIV/usr/share/postgresql/" &&
	cp -a /usr/include/postgresql "$PRIV/usr/include/" ||
	give_up "copy PostgreSQL $PGVERSION into $PRIV"
# whatever plum the system has is not part of this test
rm -rf "$PRIV/usr/share/postgresql/$PGVERSION/extension/"plum[.-]* "$PRIV/usr/lib/postgresql/$PGVERSION/lib/plum.so" \
	"$PRIV/usr/lib/postgresql/$PGVERSION/lib/bitcode/plum"*
chmod -R a+rX "$PRIV"
[ "$("$PG_CONFIG" --sharedir)" = "$PRIV/usr/share/postgresql/$PGVERSION" ] ||
	give_up "the copy's pg_config reports the copy's paths (sharedir $("$PG_CONFIG" --sharedir))"
for p in ${PLUM_UPGRADE_PORTS:-$(seq 54330 54399)}; do
	if ! port_in_use "$p"; then PORT=$p; break; fi
done
[ -n "$PORT" ] || give_up "a free port among ${PLUM_UPGRADE_PORTS:-54330-54399}"
PSQL+=(-p "$PORT")
mkdir -p "$DATA" "$SOCK" "$LOG"
[ "$(id -u)" != 0 ] || chown postgres "$DATA" "$SOCK" "$LOG"
as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres --no-sync >"$WORK/initdb.log" 2>&1 || give_up "initdb" "$WORK/initdb.log"
cat >>"$DATA/postgresql.conf" <<CONF
port = $PORT
unix_socket_directories = '$SOCK'
listen_addresses = ''
fsync = off
max_prepared_transactions = 10
CONF
server_start || give_up "start the cluster" "$LOG/server.log"
note "PostgreSQL $("${PSQL[@]}" -d postgres -c 'SHOW server_version') from $PRIV, port $PORT, socket $SOCK"

# ---------------------------------------------------------------------------
# 1. plum 0.1.0 with data
# ---------------------------------------------------------------------------

# build SRC: build and install the plum tree SRC into the private copy
build() {
	local src=$1 log
	log=$WORK/build-$(basename "$1").log
	make -C "$src" -s PG_CONFIG="$PG_CONFIG" clean >"$log" 2>&1 &&
		make -C "$src" -s -j2 PG_CONFIG="$PG_CONFIG" >>"$log" 2>&1 &&
		make -C "$src" -s PG_CONFIG="$PG_CONFIG" install >>"$log" 2>&1
}

step "plum $FROM_VERSION (commit $FROM_COMMIT) from git"
GIT=(git -c safe.directory='*' -C "$REPO")
if ! "${GIT[@]}" rev-parse --git-dir >/dev/null 2>&1; then
	give_up "plum $FROM_VERSION is commit $FROM_COMMIT of the repo, but $REPO is not a git repository: run this test from a git clone"
elif ! "${GIT[@]}" cat-file -e "$FROM_COMMIT^{commit}" 2>/dev/null; then
	give_up "plum $FROM_VERSION is commit $FROM_COMMIT, which this clone of the repo lacks$(
		[ "$("${GIT[@]}" rev-parse --is-shallow-repository 2>/dev/null)" = true ] && echo " (a shallow clone: git fetch --unshallow, or clone with fetch-depth 0)")"
fi
mkdir -p "$WORK/v$FROM_VERSION"
"${GIT[@]}" archive "$FROM_COMMIT" | tar -x -C "$WORK/v$FROM_VERSION" || give_up "git archive $FROM_COMMIT"
t0=$SECONDS
build "$WORK/v$FROM_VERSION" || give_up "build and install plum $FROM_VERSION" "$WORK/build-v$FROM_VERSION.log"
pass "plum $FROM_VERSION built from commit $FROM_COMMIT and installed into the private copy ($((SECONDS - t0))s)"

step "plum $FROM_VERSION: CREATE EXTENSION and data through its API"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null || give_up "create database $DB"
"${PSQL[@]}" -d "$DB" -c "CREATE EXTENSION plum VERSION '$FROM_VERSION'" -f "$HERE/upgrade_load.sql" >"$WORK/load.log" 2>&1 ||
	give_up "CREATE EXTENSION plum VERSION '$FROM_VERSION' and load data (upgrade_load.sql)" "$WORK/load.log"
pass "plum $FROM_VERSION: data loaded ($("${PSQL[@]}" -d "$DB" -c "SET plum.now = '$ASOF'" \
	-c "SELECT format('%s ledger rows, %s wallets, %s codes, %s links, %s deliveries', (SELECT count(*) FROM plum.ledger),
		(SELECT count(*) FROM plum.wallets), (SELECT count(*) FROM plum.codes), (SELECT count(*) FROM plum.links),
		(SELECT count(*) FROM plum.deliveries))"))"

# ---------------------------------------------------------------------------
# 2. Snapshots
# ---------------------------------------------------------------------------

# ext_rels DB: "kind name qualified-name columns" of the extension's tables, sequences and views
ext_rels() {
	"${PSQL[@]}" -d "$1" -F $'\t' -c "SET search_path = pg_catalog" -c "
		SELECT c.relkind, c.relname, c.oid::regclass, string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum)
		FROM pg_depend d
		JOIN pg_class c ON c.oid = d.objid
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
			AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'plum')
			AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
		GROUP BY 1, 2, 3 ORDER BY 2, 3"
}

# at DB SQL...: psql with plum's clock at ASOF
at() {
	local db=$1
	shift
	local args=() s
	for s in "$@"; do args+=(-c "$s"); done
	"${PSQL[@]}" -d "$db" -c "SET plum.now = '$ASOF'" "${args[@]}"
}

declare -A KIND QUAL COLS
# snapshot DIR [LIST-OF-BEFORE]: one file per relation (its rows, sorted) and per figure.
# After the update, relations are found by name, and only the columns they had before are read.
snapshot() {
	local dir=$1 before=${2:-} kind name qual cols c want have missing
	mkdir -p "$dir"
	ext_rels "$DB" >"$dir/rels" || return 1
	KIND=() QUAL=() COLS=()
	while IFS=$'\t' read -r kind name qual cols; do
		if [ -n "${QUAL[$name]:-}" ]; then
			echo "two relations of the extension named $name: ${QUAL[$name]} and $qual" >>"$dir/problems"
		fi
		KIND[$name]=$kind QUAL[$name]=$qual COLS[$name]=$cols
	done <"$dir/rels"
	: >>"$dir/problems"
	: >"$dir/columns"
	if [ -n "$before" ]; then
		# the names and columns of before; columns gone are problems, columns added are noted
		while IFS=$'\t' read -r kind name qual cols; do
			if [ -z "${QUAL[$name]:-}" ]; then
				echo "$name ($qual before): no relation of that name in the extension now" >>"$dir/problems"
				continue
			fi
			[ "$qual" = "${QUAL[$name]}" ] || echo "moved: $qual -> ${QUAL[$name]}" >>"$dir/moves"
			have=",${COLS[$name]},"
			want='' missing=''
			IFS=, read -r -a c <<<"$cols"
			for col in "${c[@]}"; do
				if [[ "$have" == *",$col,"* ]]; then want+=",$col"; else missing+=" $col"; fi
			done
			[ -z "$missing" ] || echo "$name: columns gone:$missing" >>"$dir/problems"
			for col in ${COLS[$name]//,/ }; do
				[[ ",$cols," == *",$col,"* ]] || echo "$name: new column $col" >>"$dir/columns"
			done
			COLS[$name]=${want#,}
		done <"$before"
	fi
	for name in "${!QUAL[@]}"; do
		[ -n "${COLS[$name]}" ] || continue
		if [ "${KIND[$name]}" = S ]; then
			at "$DB" "SELECT last_value, is_called FROM ${QUAL[$name]}" >"$dir/seq.$name" 2>&1
		else
			at "$DB" "COPY (SELECT ${COLS[$name]} FROM ${QUAL[$name]}) TO STDOUT" 2>&1 | LC_ALL=C sort >"$dir/${KIND[$name]}.$name"
		fi
	done
	# figures through the API, at plum's clock ASOF
	at "$DB" "SELECT a.company_id, a.recipient, plum.points_balance(a.company_id, a.recipient) FROM ${QUAL[account]:-plum.account} a ORDER BY 1, 2" \
		>"$dir/balances" 2>&1
	at "$DB" "SELECT c.code, plum.code_balance(c.code) FROM ${QUAL[issued_code]:-plum.issued_code} c ORDER BY 1" >"$dir/code_balances" 2>&1
	at "$DB" "SELECT admin_id, pool FROM plum.admins ORDER BY 1" >"$dir/pools" 2>&1
	at "$DB" "SELECT * FROM plum.verify() ORDER BY 1, 2, 3" >"$dir/verify" 2>&1
}

# same WHAT FILES...: PASS if each file is the same before and after, else FAIL with a diff
same() {
	local what=$1 f bad=
	shift
	for f in "$@"; do
		if ! diff -q "$WORK/before/$f" "$WORK/after/$f" >/dev/null 2>&1; then
			bad+=" $f"
		fi
	done
	if [ -z "$bad" ]; then
		pass "$what"
		return 0
	fi
	fail "$what: differs in$bad"
	for f in $bad; do
		diff -u --label "$f under $FROM_VERSION" --label "$f under $TO_VERSION" "$WORK/before/$f" "$WORK/after/$f" 2>&1 |
			head -n 20 | sed 's/^/    /'
	done
	return 1
}

step "snapshot under plum $FROM_VERSION"
snapshot "$WORK/before" || give_up "snapshot the data under $FROM_VERSION"
if [ -s "$WORK/before/problems" ]; then
	sed 's/^/    /' "$WORK/before/problems"
	give_up "snapshot under $FROM_VERSION: relation names are unique"
fi
check "plum $FROM_VERSION: verify() returns no rows before the update" test ! -s "$WORK/before/verify"
note "$(grep -c . "$WORK/before/rels") relations of the extension: $(awk -F'\t' '$1 == "r"' "$WORK/before/rels" | wc -l) tables," \
	"$(cat "$WORK"/before/r.* | wc -l) rows"

# ---------------------------------------------------------------------------
# 3. The new build, ALTER EXTENSION plum UPDATE
# ---------------------------------------------------------------------------

step "install $TREE over it, restart, ALTER EXTENSION plum UPDATE"
TO_VERSION=$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$TREE/plum.control")
[ -n "$TO_VERSION" ] || give_up "read default_version from $TREE/plum.control"
mkdir -p "$WORK/current"
# the work tree as it is (uncommitted files too), without .git and build products
tar -C "$TREE" --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -x -C "$WORK/current" ||
	give_up "copy $TREE"
t0=$SECONDS
build "$WORK/current" || give_up "build and install plum $TO_VERSION from $TREE" "$WORK/build-current.log"
pass "plum $TO_VERSION built from $TREE and installed over $FROM_VERSION ($((SECONDS - t0))s)"
# the tree keeps the released install script of FROM_VERSION, as commit FROM_COMMIT builds it
if [ -f "$WORK/current/plum--$FROM_VERSION.sql" ]; then
	check "$TREE's plum--$FROM_VERSION.sql is the script commit $FROM_COMMIT builds" \
		cmp -s "$WORK/v$FROM_VERSION/plum--$FROM_VERSION.sql" "$WORK/current/plum--$FROM_VERSION.sql"
else
	note "$TREE has no plum--$FROM_VERSION.sql (CREATE EXTENSION plum VERSION '$FROM_VERSION' is not possible with it)"
fi
[ "$TO_VERSION" = "$FROM_VERSION" ] || note "update path: $("${PSQL[@]}" -d "$DB" -c "SELECT coalesce(path, 'none')
	FROM pg_extension_update_paths('plum') WHERE source = '$FROM_VERSION' AND target = '$TO_VERSION'")"
as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >>"$WORK/pg_ctl.log" 2>&1 && server_start ||
	give_up "restart the cluster with the new library" "$LOG/server.log"
if [ "$TO_VERSION" = "$FROM_VERSION" ]; then
	skip "ALTER EXTENSION plum UPDATE: $TREE is plum $FROM_VERSION itself (default_version), there is nothing to update to"
fi
"${PSQL[@]}" -d "$DB" -c 'ALTER EXTENSION plum UPDATE' >"$WORK/update.log" 2>&1 ||
	give_up "ALTER EXTENSION plum UPDATE from $FROM_VERSION to $TO_VERSION" "$WORK/update.log"
equal "ALTER EXTENSION plum UPDATE: extversion is $TREE's default_version" "$TO_VERSION" \
	"$("${PSQL[@]}" -d "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'plum'")"

# ---------------------------------------------------------------------------
# 4. The same data, and the new library works on it
# ---------------------------------------------------------------------------

step "compare under plum $TO_VERSION"
snapshot "$WORK/after" "$WORK/before/rels"
[ ! -s "$WORK/after/moves" ] || note "$(tr '\n' ';' <"$WORK/after/moves" | sed 's/;$//; s/;/; /g')"
[ ! -s "$WORK/after/columns" ] || note "$(tr '\n' ';' <"$WORK/after/columns" | sed 's/;$//; s/;/; /g')"
if [ -s "$WORK/after/problems" ]; then
	fail "every relation of $FROM_VERSION is still in the extension, with its columns"
	sed 's/^/    /' "$WORK/after/problems"
else
	pass "every relation of $FROM_VERSION is still in the extension, with its columns ($(grep -c . "$WORK/before/rels"))"
fi
tables=() seqs=() views=()
for f in "$WORK"/before/r.* "$WORK"/before/seq.* "$WORK"/before/v.*; do
	f=${f##*/}
	case $f in
	r.\*|seq.\*|v.\*|v.ledger) ;;
	r.*) tables+=("$f") ;;
	seq.*) seqs+=("$f") ;;
	v.*) views+=("$f") ;;
	esac
done
same "every table's rows unchanged (${#tables[@]} tables, $(cat "$WORK"/before/r.* | wc -l) rows, by name)" "${tables[@]}"
same "every sequence's value unchanged (${#seqs[@]})" "${seqs[@]}"
same "every wallet's points_balance unchanged ($(wc -l <"$WORK/before/balances"))" balances
same "every code's code_balance unchanged ($(wc -l <"$WORK/before/code_balances"))" code_balances
same "every admin's pool unchanged ($(wc -l <"$WORK/before/pools"))" pools
same "plum.ledger: the same rows ($(wc -l <"$WORK/before/v.ledger") rows; columns of $FROM_VERSION)" v.ledger
same "the other views show the same rows (${#views[@]}: ${views[*]#v.}; columns of $FROM_VERSION)" "${views[@]}"
check "verify() returns no rows after the update" test ! -s "$WORK/after/verify" -a -e "$WORK/after/verify"
[ ! -s "$WORK/after/verify" ] || head -n 10 "$WORK/after/verify" | sed 's/^/    /'

step "the new library on the old data"
# later Q: one value, at plum's clock LATER
later() {
	"${PSQL[@]}" -d "$DB" -c "SET plum.now = '$LATER'" -c "$1" 2>&1 | tail -n 1
}
declare -A REF
while IFS=$'\t' read -r name val; do REF[$name]=$val; done < <("${PSQL[@]}" -F $'\t' -d "$DB" -c 'SELECT name, val FROM upg.ref')
usd=${REF[usd]:-0} uboss=${REF[uboss]:-0}
bal() { later "SELECT plum.points_balance($usd, 'alice@example.com')"; }
b0=$(bal)
lot=$(later "SELECT plum.give_points($uboss, 'alice@example.com', 31, 'after the update', 'g-after-1')")
equal "give_points: a new lot ($lot), the balance grows by 31 (was $b0)" "$(later "SELECT $b0 + 31")" "$(bal)"
b1=$(bal)
red=$(later "SELECT plum.redeem_points($usd, 'alice@example.com', 20, 'order-after', 'r-after-1')")
equal "redeem_points: redemption $red takes 20" "$(later "SELECT $b1 - 20")" "$(bal)"
b2=$(bal)
equal "reverse_redemption of $FROM_VERSION's redemption ${REF[r_alice_1]:-?}: 10 more back" 10.00 \
	"$(later "SELECT plum.reverse_redemption(${REF[r_alice_1]:-0}, 10)")"
b3=$(bal)
equal "the reversal went back to the $FROM_VERSION redemption's January lots, expired since: breakage, the balance stays" "$b2" "$b3"
equal "idempotent replay of $FROM_VERSION's redeem_points key r-alice-1 returns the first result" "${REF[r_alice_1]:-?}" \
	"$(later "SELECT plum.redeem_points($usd, 'alice@example.com', 120, 'order-a1', 'r-alice-1')")"
equal "idempotent replay of $FROM_VERSION's reversal key rev-alice-1 returns the first result" "${REF[rev_alice_1]:-?}" \
	"$(later "SELECT plum.reverse_redemption(${REF[r_alice_1]:-0}, 30, 'rev-alice-1')")"
equal "idempotent replay of $FROM_VERSION's give_points key g-alice-1 returns the first lot" "${REF[g_alice_1]:-?}" \
	"$(later "SELECT plum.give_points($uboss, 'Alice@Example.COM', 100, 'welcome', 'g-alice-1')")"
equal "the replays changed no balance ($b3)" "$b3" "$(bal)"
old=$(later "SELECT code FROM upg.code WHERE n = 2")
new=$(later "SELECT string_agg(c.code::text, ',') FROM plum.issue_codes($uboss, ${REF[spring]:-0}, 10, 2) AS c(code)")
equal "issue_codes: 2 new codes" 2 "$(awk -F, '{ print NF }' <<<"$new")"
equal "redeem_codes of an old code ($old, 5 left) then a new one: 5 + 3" "5.00 3.00" \
	"$(later "SELECT string_agg(applied::text, ' ' ORDER BY ord) FROM plum.redeem_codes(ARRAY['$old', '${new%%,*}']::plum.code[], 8,
		item_id => ${REF[burger]:-0}, reference => 'order-after-c') WITH ORDINALITY AS r(code, applied, remaining, ord)")"
equal "code_balance of the old code is 0 now" 0.00 "$(later "SELECT plum.code_balance('$old')")"
bill=$(later "SELECT plum.redeem_link('${REF[link3]:-none}', ${REF[burger]:-0}, 'order-after-l')")
check "redeem_link of $FROM_VERSION's open link: billing row $bill" test -n "$bill" -a "$bill" -gt 0 2>/dev/null
expired=$(later "SELECT plum.expire_points()")
check "expire_points() sweeps the lots expired since: $expired" test "$(later "SELECT '$expired'::numeric > 0")" = t
v=$(later "SELECT count(*) FROM plum.verify()")
equal "verify() returns no rows after the new library's calls" 0 "$v"
[ "$v" = 0 ] || later "SELECT * FROM plum.verify()" | head -n 10 | sed 's/^/    /'

# ---------------------------------------------------------------------------
# 5. Catalog: upgraded = fresh
# ---------------------------------------------------------------------------

step "catalog: the upgraded database against a fresh CREATE EXTENSION plum"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $FRESH" >/dev/null &&
	"${PSQL[@]}" -d "$FRESH" -c 'CREATE EXTENSION plum' >"$WORK/fresh.log" 2>&1 ||
	give_up "CREATE EXTENSION plum ($TO_VERSION) in a fresh database" "$WORK/fresh.log"
"${PSQL[@]}" -d "$DB" -f "$HERE/catalog.sql" >"$WORK/catalog.upgraded" 2>&1 &&
	"${PSQL[@]}" -d "$FRESH" -f "$HERE/catalog.sql" >"$WORK/catalog.fresh" 2>&1 ||
	give_up "catalog.sql" "$WORK/catalog.upgraded"
if diff -u --label "fresh CREATE EXTENSION plum ($TO_VERSION)" --label "updated from $FROM_VERSION" \
	"$WORK/catalog.fresh" "$WORK/catalog.upgraded" >"$WORK/catalog.diff"; then
	pass "catalog: the updated database's plum objects are those of a fresh install ($(wc -l <"$WORK/catalog.fresh") lines of catalog.sql)"
else
	fail "catalog: the updated database's plum objects differ from a fresh install ($(grep -c '^[-+][^-+]' "$WORK/catalog.diff") lines differ)"
	head -n 80 "$WORK/catalog.diff" | sed 's/^/    /'
fi

finish
