#!/usr/bin/env bash
# test/security/confinement.sh — confinement checked from the catalog (issue 9).
#
# Against the server named by the usual PG* variables (a superuser connection, plum installed),
# like test/reliability/run; test/run runs it inside its throwaway cluster.  In its own database
# (plum_sec_confinement) it makes two companies A and B with an object of every kind, then, as
# each of two roles confined to A (a plum_admin member granted company A; one bound to A's super
# admin), calls EVERY function of schema plum that plum_app or plum_admin may execute, with B's
# ids in every argument (built from the parameter's name and type, so a function added later is
# covered without touching this file), and reads every view of schema plum.  A call passes when it
# is refused with PU009 (42501 for grant_*/revoke_*) or succeeds without changing B (a checksum
# of B's rows before and after) and without returning any of B's rows or secrets; a view passes
# when it shows none of B's rows.  Every call runs in a subtransaction that is rolled back.
# Prints PASS/FAIL lines and ends with "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/checks.sh
. "$HERE/../checks.sh"
export PGTZ=UTC
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
DB=plum_sec_confinement
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB")

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || { fail "create database $DB"; finish; }

"${PSQL[@]}" <<'SQL' || { fail "set up companies A and B"; finish; }
CREATE EXTENSION plum;
SET plum.now = '2026-01-01 00:00:00+00';
DO $$
BEGIN
	DROP ROLE IF EXISTS plum_sec_company_a, plum_sec_admin_a;
	CREATE ROLE plum_sec_company_a IN ROLE plum_admin;  -- confined by a company grant
	CREATE ROLE plum_sec_admin_a IN ROLE plum_admin;    -- bound to A's super admin
END $$;
CREATE TABLE public.ids (name text PRIMARY KEY, value text NOT NULL);
GRANT SELECT ON public.ids TO PUBLIC;
DO $$
DECLARE
	a bigint := plum.create_company('A', 'USD');
	b bigint := plum.create_company('B', 'USD');
	a_boss bigint := plum.add_admin(a, 'boss@a.test', 'super_admin', 100000);
	b_boss bigint := plum.add_admin(b, 'boss@b.test', 'super_admin', 100000);
	b_codes bigint;
	b_links bigint;
	b_points bigint;
	b_item bigint;
	b_code plum.code;
	b_code2 plum.code;
	b_link text;
	b_red bigint;
	b_delivery bigint;
	b_scheduled bigint;
	b_rule bigint;
BEGIN
	PERFORM plum.create_points(a_boss, 1000), plum.create_points(b_boss, 5000);
	PERFORM plum.give_points(a_boss, 'alice@a.test', 100);
	PERFORM plum.give_points(b_boss, 'bob@b.test', 100);
	b_red := plum.redeem_points(b, 'bob@b.test', 10);
	b_codes := plum.create_campaign(b_boss, 'B codes', 'codes');
	b_links := plum.create_campaign(b_boss, 'B links', 'links');
	b_points := plum.create_campaign(b_boss, 'B points', 'points');
	b_item := plum.add_item(b, 'gift_card', 'Bolt', 'Card', 'cards', 10);
	SELECT c INTO b_code FROM plum.issue_codes(b_boss, b_codes, 10, 1) AS c;
	SELECT c INTO b_code2 FROM plum.issue_codes(b_boss, b_codes, 10, 1) AS c;
	b_link := plum.create_link(b_boss, b_links, 10, 'bob@b.test');
	b_delivery := plum.distribute(b_boss, 'email', 'bob@b.test', 'Code {{code}}', codes => ARRAY[b_code]);
	b_scheduled := plum.distribute(b_boss, 'email', 'bob@b.test', 'You got {{amount}}', points => 5,
		send_at => '2026-02-01 00:00:00+00');
	b_rule := plum.add_earning_rule(b_boss, 'B rule', 'purchase', points => 1);
	-- an order of B's with a voucher of B's (plum.orders, plum.vouchers)
	PERFORM plum.create_voucher(b_boss, 'B-SEC', 'amount', 1);
	PERFORM plum.checkout(b, 'b-order', '{"lines": [{"sku": "A1", "category": "food", "amount": 10}]}', voucher => 'B-SEC');
	PERFORM plum.record_event(b, 'bob@b.test', 'purchase', 'sec', 10);
	PERFORM plum.grant_company('plum_sec_company_a', a);
	PERFORM plum.grant_admin('plum_sec_admin_a', a_boss);
	INSERT INTO public.ids VALUES ('a', a), ('b', b), ('a_boss', a_boss), ('b_boss', b_boss), ('b_codes', b_codes),
		('b_links', b_links), ('b_points', b_points), ('b_item', b_item), ('b_code', b_code::text),
		('b_code2', b_code2::text), ('b_link', b_link), ('b_redemption', b_red), ('b_delivery', b_delivery),
		('b_scheduled', b_scheduled), ('b_rule', b_rule);
END $$;

-- B's rows, as one checksum
CREATE FUNCTION public.b_checksum() RETURNS text LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(j::text, ',' ORDER BY entry_id) FROM plum_internal.journal j WHERE company_id = b.v),
		(SELECT string_agg(c::text, ',' ORDER BY company_id) FROM plum_internal.company c WHERE company_id = b.v),
		(SELECT string_agg(a::text, ',' ORDER BY admin_id) FROM plum_internal.admin a WHERE company_id = b.v),
		(SELECT string_agg(w::text, ',' ORDER BY recipient) FROM plum_internal.account w WHERE company_id = b.v),
		(SELECT string_agg(c::text, ',' ORDER BY code) FROM plum_internal.issued_code c WHERE company_id = b.v),
		(SELECT string_agg(l::text, ',' ORDER BY token) FROM plum_internal.link l WHERE company_id = b.v),
		(SELECT string_agg(k::text, ',' ORDER BY campaign_id) FROM plum_internal.campaign k WHERE company_id = b.v),
		(SELECT string_agg(i::text, ',' ORDER BY item_id) FROM plum_internal.item i WHERE company_id = b.v),
		(SELECT string_agg(r::text, ',' ORDER BY rule_id) FROM plum_internal.curation r
			JOIN plum_internal.campaign k USING (campaign_id) WHERE k.company_id = b.v),
		(SELECT string_agg(d::text, ',' ORDER BY delivery_id) FROM plum_internal.delivery d WHERE company_id = b.v),
		(SELECT string_agg(e::text, ',' ORDER BY event_id) FROM plum_internal.event e WHERE company_id = b.v),
		(SELECT string_agg(r::text, ',' ORDER BY rule_id) FROM plum_internal.earning_rule r WHERE company_id = b.v)))
	FROM (SELECT value::bigint AS v FROM public.ids WHERE name = 'b') AS b $$;

-- An argument of B's for a parameter, by its name and type (NULL: leave the parameter out)
-- (fn: the function's name, for the few parameter names whose valid values differ between functions)
CREATE FUNCTION public.b_argument(name text, type regtype, has_default boolean, fn text DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v text;
	id text;
BEGIN
	-- a rule must pay something, a purchase needs an amount: these defaults are filled in
	IF (fn = 'add_earning_rule' AND name = 'points') OR (fn = 'record_event' AND name = 'amount') THEN
		RETURN format('%I => 10::numeric', name);
	END IF;
	SELECT i.value INTO id FROM public.ids i WHERE i.name = CASE b_argument.name
		WHEN 'company_id' THEN 'b' WHEN 'admin_id' THEN 'b_boss' WHEN 'by_admin' THEN 'b_boss'
		WHEN 'campaign_id' THEN CASE WHEN fn IN ('give_points', 'give_points_bulk', 'distribute') THEN 'b_points' ELSE 'b_codes' END WHEN 'item_id' THEN 'b_item' WHEN 'redemption_id' THEN 'b_redemption'
		WHEN 'delivery_id' THEN 'b_delivery' WHEN 'delivery_ids' THEN 'b_delivery'
		WHEN 'code' THEN CASE WHEN fn = 'create_voucher' THEN NULL ELSE 'b_code' END WHEN 'codes' THEN 'b_code' WHEN 'token' THEN 'b_link' WHEN 'link' THEN 'b_link'
		WHEN 'links' THEN 'b_link' WHEN 'rule_id' THEN 'b_rule' ELSE NULL END;
	IF id IS NOT NULL THEN
		v := CASE WHEN type::text LIKE '%[]' THEN format('ARRAY[%L]::%s', id, type) ELSE format('%L::%s', id, type) END;
	ELSIF has_default THEN
		RETURN NULL;
	ELSE
		v := CASE
			WHEN name IN ('recipient', 'email', 'referrer', 'referee') THEN quote_literal('bob@b.test')
			WHEN name = 'event' THEN quote_literal('purchase')
			WHEN name = 'event_ref' THEN quote_literal('sec')
			WHEN type = 'timestamptz'::regtype THEN quote_literal('2026-01-01 00:00+00')
			WHEN name = 'recipients' THEN 'ARRAY[''bob@b.test'']'
			WHEN name IN ('destination') THEN quote_literal('bob@b.test')
			WHEN name IN ('destinations') THEN 'ARRAY[''bob@b.test'']'
			WHEN name = 'member' THEN quote_literal('plum_sec_company_a')
			WHEN name = 'kind' AND fn = 'create_voucher' THEN quote_literal('amount')
			-- a voucher code is [A-Za-z0-9-]; a gift code's check symbol may be one of *~$=U
			WHEN name = 'code' AND fn = 'create_voucher' THEN quote_literal('SEC-VOUCHER')
			WHEN name = 'kind' THEN quote_literal('gift_card')
			WHEN name = 'cart' THEN quote_literal('{"lines": [{"sku": "A1", "category": "food", "amount": 10}]}')
			WHEN name = 'order_ref' THEN quote_literal('sec-order')
			WHEN name = 'mode' THEN quote_literal('codes')
			WHEN name = 'channel' THEN quote_literal('email')
			WHEN name = 'template' THEN quote_literal('Hello {{amount}}')
			WHEN name = 'sender' THEN quote_literal('sec-sender')
			WHEN name = 'outcome' THEN quote_literal('sent')
			WHEN name = 'base_currency' THEN quote_literal('USD')
			WHEN name = 'data' THEN quote_literal('x')
			WHEN name = 'view' THEN quote_literal('ledger')
			WHEN name = 'fn' THEN quote_literal('plum.verify(bigint)')
			WHEN name = 'clock' THEN 'NULL'
			WHEN name IN ('include', 'active') THEN 'true'
			WHEN type = 'interval'::regtype THEN quote_literal('30 minutes')
			WHEN type IN ('integer'::regtype, 'bigint'::regtype) THEN '1'
			WHEN type = 'numeric'::regtype THEN '10'
			WHEN type = 'numeric[]'::regtype THEN 'ARRAY[10]'
			WHEN type = 'text'::regtype THEN quote_literal('sec')
			WHEN type = 'jsonb'::regtype THEN quote_literal('{}')
			ELSE 'NULL' END;
		v := format('%s::%s', v, type);
	END IF;
	RETURN format('%I => %s', name, v);
END $$;

-- Call every function of schema plum that plum_app or plum_admin may run, as role, with B's ids
CREATE FUNCTION public.call_all(role text) RETURNS TABLE(ok boolean, what text) LANGUAGE plpgsql AS $$
DECLARE
	f record;
	v_call text;
	v_before text := public.b_checksum();
	v_state text;
	v_msg text;
	v_secrets text[];
BEGIN
	SELECT array_agg(value) INTO v_secrets FROM public.ids WHERE name IN ('b_code', 'b_code2', 'b_link');
	v_secrets := v_secrets || 'bob@b.test'::text;
	FOR f IN
		SELECT p.oid::regprocedure AS sig, p.proname, p.proretset,
			(SELECT string_agg(a, ', ' ORDER BY n) FROM (
				SELECT public.b_argument(p.proargnames[n], p.proargtypes[n - 1]::regtype, n > p.pronargs - p.pronargdefaults, p.proname) AS a, n
				FROM generate_series(1, p.pronargs) AS n) AS x WHERE a IS NOT NULL) AS args
		FROM pg_proc p
		WHERE p.pronamespace = 'plum'::regnamespace AND p.prokind = 'f'
			AND (has_function_privilege('plum_app', p.oid, 'EXECUTE') OR has_function_privilege('plum_admin', p.oid, 'EXECUTE'))
			AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
		ORDER BY p.proname, p.oid::regprocedure::text
	LOOP
		v_call := format('SELECT r::text FROM %s(%s) AS r', f.proname, coalesce(f.args, ''));
		BEGIN
			EXECUTE format('SET LOCAL ROLE %I', role);
			EXECUTE format('SELECT string_agg(t, '' '') FROM (%s) AS q(t)', 'SELECT r::text FROM plum.' || substr(v_call, length('SELECT r::text FROM ') + 1)) INTO v_msg;
			RESET ROLE;
			IF public.b_checksum() <> v_before THEN
				v_state := 'CHANGED';
			ELSIF EXISTS (SELECT 1 FROM unnest(v_secrets) AS s WHERE position(s IN coalesce(v_msg, '')) > 0) THEN
				v_state := 'LEAKED';
			ELSE
				v_state := 'OK';
			END IF;
			RAISE EXCEPTION USING ERRCODE = 'PX000', MESSAGE = v_state, DETAIL = left(coalesce(v_msg, ''), 200);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT;
			IF SQLSTATE = 'PX000' THEN
				ok := v_msg = 'OK';
				what := format('%s as %s: %s', f.sig, role,
					CASE v_msg WHEN 'OK' THEN 'ran, B unchanged, nothing of B returned'
						WHEN 'CHANGED' THEN 'ran and CHANGED company B' ELSE 'ran and RETURNED B''s data' END);
			ELSE
				ok := SQLSTATE = 'PU009' OR (SQLSTATE = '42501' AND f.proname ~ '^(grant|revoke)_');
				what := format('%s as %s: %s %s', f.sig, role, SQLSTATE, v_msg);
			END IF;
			RETURN NEXT;
		END;
	END LOOP;
END $$;

-- Read every view of schema plum as role: none of B's rows or secrets
CREATE FUNCTION public.read_all(role text) RETURNS TABLE(ok boolean, what text) LANGUAGE plpgsql AS $$
DECLARE
	v record;
	v_b bigint := (SELECT value::bigint FROM public.ids WHERE name = 'b');
	v_n bigint;
	v_secrets text[];
BEGIN
	SELECT array_agg(value) INTO v_secrets FROM public.ids WHERE name IN ('b_code', 'b_code2', 'b_link');
	FOR v IN SELECT c.oid::regclass AS view,
			EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'company_id') AS has_company
		FROM pg_class c WHERE c.relnamespace = 'plum'::regnamespace AND c.relkind = 'v' ORDER BY 1::text
	LOOP
		BEGIN
			EXECUTE format('SET LOCAL ROLE %I', role);
			EXECUTE format('SELECT count(*) FROM %s AS x WHERE %s EXISTS (SELECT 1 FROM unnest($2) AS s WHERE position(s IN x::text) > 0)',
				v.view, CASE WHEN v.has_company THEN 'x.company_id = $1 OR' ELSE '' END) INTO v_n USING v_b, v_secrets;
			RESET ROLE;
			ok := v_n = 0;
			what := format('view %s as %s: %s of B''s rows or secrets', v.view, role, v_n);
		EXCEPTION WHEN OTHERS THEN
			ok := false;
			what := format('view %s as %s: %s %s', v.view, role, SQLSTATE, SQLERRM);
		END;
		RESET ROLE;
		RETURN NEXT;
	END LOOP;
END $$;
SQL

out=$("${PSQL[@]}" -F ' ' <<'SQL'
SET plum.now = '2026-01-01 00:00:00+00';
SELECT CASE WHEN ok THEN 'PASS: ' ELSE 'FAIL: ' END || what FROM public.call_all('plum_sec_company_a');
SELECT CASE WHEN ok THEN 'PASS: ' ELSE 'FAIL: ' END || what FROM public.call_all('plum_sec_admin_a');
SELECT CASE WHEN ok THEN 'PASS: ' ELSE 'FAIL: ' END || what FROM public.read_all('plum_sec_company_a');
SELECT CASE WHEN ok THEN 'PASS: ' ELSE 'FAIL: ' END || what FROM public.read_all('plum_sec_admin_a');
SQL
) || fail "the calls ran to the end"
while IFS= read -r line; do
	case "$line" in
	PASS:*) pass "${line#PASS: }" ;;
	FAIL:*) fail "${line#FAIL: }" ;;
	esac
done <<<"$out"
ncalls=$(grep -c ' as plum_sec_company_a: ' <<<"$out" || true)
[ "$ncalls" -ge 30 ] && pass "$ncalls calls and views checked for one role" || fail "only $ncalls calls and views checked"

"${PSQL[@]}" -c "SELECT count(*) FROM plum.verify()" | grep -qx 0 && pass "verify() clean after it all" || fail "verify() not clean"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS plum_sec_company_a, plum_sec_admin_a" >/dev/null
finish
