-- Codes: issuance, balances, multi-code redemption, distribution, cancellation, expiry, views, verify().
-- Codes are random: the test never prints one.  Each issued code gets a number n (its place in
-- the order issued) in pg_temp.k, and error details show <code> in its place.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_detail text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(v_detail, ''), ''),
		'[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=]', '<code>', 'g');
END
$$;
CREATE TABLE pg_temp.k (n integer PRIMARY KEY, c plum.code NOT NULL UNIQUE);
-- issue(admin, campaign, denomination, count): issue codes and number them after those issued so far
CREATE FUNCTION pg_temp.issue(a bigint, camp bigint, d numeric, cnt integer) RETURNS text LANGUAGE sql AS $$
	WITH i AS (SELECT c, row_number() OVER () AS r FROM plum.issue_codes(a, camp, d, cnt) AS c),
	ins AS (INSERT INTO pg_temp.k SELECT (SELECT coalesce(max(n), 0) FROM pg_temp.k) + i.r, i.c FROM i RETURNING n)
	SELECT format('codes %s to %s', min(n), max(n)) FROM ins
$$;
-- ks(n, ...): the codes numbered n, in the order given
CREATE FUNCTION pg_temp.ks(VARIADIC ns integer[]) RETURNS plum.code[] LANGUAGE sql AS $$
	SELECT array_agg(k.c ORDER BY u.i) FROM unnest(ns) WITH ORDINALITY AS u(n, i) JOIN pg_temp.k USING (n)
$$;
-- redeem(ns, amount, ...): plum.redeem_codes with each code shown as its number
CREATE FUNCTION pg_temp.redeem(ns integer[], amount numeric, item bigint DEFAULT NULL, ref text DEFAULT NULL, key text DEFAULT NULL)
	RETURNS TABLE(n integer, applied numeric, remaining numeric) LANGUAGE sql AS $$
	SELECT k.n, r.applied, r.remaining
	FROM plum.redeem_codes(pg_temp.ks(VARIADIC ns), amount, item, ref, key) WITH ORDINALITY AS r(code, applied, remaining, i)
	JOIN pg_temp.k ON k.c = r.code ORDER BY r.i
$$;
-- state(ns): number, balance and state of codes
CREATE FUNCTION pg_temp.state(VARIADIC ns integer[]) RETURNS TABLE(n integer, balance numeric, state text, distributed boolean)
	LANGUAGE sql AS $$
	SELECT k.n, v.balance, v.state, v.distributed_at IS NOT NULL FROM unnest(ns) AS u(n) JOIN pg_temp.k USING (n)
	JOIN plum.codes v ON v.code = k.c ORDER BY k.n
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Yen Co', 'JPY', code_denominations => '{500,1000}') AS yen \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:acme, 'small@acme.test', 'admin', 100) AS small \gset
SELECT plum.add_admin(:acme, 'other@acme.test', 'admin', 1000) AS other \gset
SELECT plum.add_admin(:yen, 'boss@yen.test', 'super_admin', 100000) AS yboss \gset
SELECT plum.create_points(:boss, 10000);
SELECT plum.create_points(:small, 100);
SELECT plum.create_points(:other, 1000);
SELECT plum.create_points(:yboss, 50000);
SELECT plum.create_campaign(:boss, 'Spring', 'codes', '2026-06-01 00:00:00+00') AS spring \gset
SELECT plum.create_campaign(:boss, 'Forever', 'codes') AS forever \gset
SELECT plum.create_campaign(:boss, 'Short', 'codes', '2026-02-01 00:00:00+00') AS short \gset
SELECT plum.create_campaign(:boss, 'Points', 'points') AS pts \gset
SELECT plum.create_campaign(:yboss, 'Yen codes', 'codes') AS ycamp \gset
SELECT plum.add_item(:acme, 'gift_card', 'Books', 'Book card', 'reading', 25) AS book \gset
SELECT plum.add_item(:acme, 'gift_card', 'Pizza', 'Pizza card', 'food', min_value => 5, max_value => 100) AS pizza \gset
SELECT plum.add_item(:yen, 'gift_card', 'Sushi', 'Sushi card', 'food', 1000) AS sushi \gset
SELECT plum.curate(:forever, false, brand => 'Pizza');

-- issuance: count codes drawn from the admin's pool, one ledger entry per call
SELECT pg_temp.issue(:boss, :spring, 10, 6);
SELECT count(*) AS issued, count(DISTINCT c) AS distinct_codes FROM pg_temp.k;
SELECT state, count(*), sum(balance) AS value, min(denomination) AS denomination, min(expires_at) AS expires_at,
	bool_and(admin_id = :boss) AS by_boss, bool_and(campaign_id = :spring) AS spring, min(currency) AS currency
	FROM plum.codes GROUP BY state;
SELECT pool FROM plum.admins WHERE admin_id = :boss;
SELECT kind, amount, admin_id = :boss AS by_boss, campaign_id = :spring AS spring, note FROM plum_internal.journal WHERE kind = 'code_issue';
SELECT plum.code_balance((pg_temp.ks(1))[1]) AS code_1;
SELECT plum.code_balance(lower((pg_temp.ks(2))[1]::text)::plum.code) AS code_2_lower_case;
SELECT pg_temp.issue(:boss, :forever, 50, 4);
SELECT pg_temp.issue(:boss, :short, 5, 4);
SELECT pg_temp.issue(:other, :spring, 100, 3);
SELECT pg_temp.issue(:yboss, :ycamp, 1000, 2);
SELECT pg_temp.issue(:boss, :spring, 10, 5);
SELECT n, denomination, expires_at FROM pg_temp.k JOIN plum.codes ON code = c ORDER BY n;
SELECT admin_id, pool FROM plum.admins ORDER BY admin_id;

-- bad issues change nothing
SELECT pg_temp.try(format($$SELECT plum.issue_codes(NULL, %s, 10, 1)$$, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, NULL, 10, 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, NULL, 1)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, NULL)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(777777, %s, 10, 1)$$, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, 777777, 10, 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, 1)$$, :yboss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, 1)$$, :boss, :pts));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 7, 1)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10.001, 1)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, -10, 1)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 'NaN', 1)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 500.5, 1)$$, :yboss, :ycamp));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, 0)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, -3)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, 1000001)$$, :boss, :spring));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, 11)$$, :small, :spring));
SELECT count(*) AS codes, (SELECT pool FROM plum.admins WHERE admin_id = :small) AS small_pool,
	(SELECT count(*) FROM plum_internal.journal WHERE kind = 'code_issue') AS issue_entries FROM plum_internal.issued_code;
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 10, 10)$$, :small, :spring));
SELECT pool FROM plum.admins WHERE admin_id = :small;

-- a drawn code that is taken, or drawn twice, is skipped (issue_codes then draws the shortfall again)
BEGIN;
SELECT cardinality(plum_internal.insert_codes(:acme, :spring, :boss, 10, plum.now(), NULL,
	pg_temp.ks(1) || '7K3M-Q9XA-2BCD-S'::plum.code || '7K3M-Q9XA-2BCD-S'::plum.code || '0000-0000-0001-1'::plum.code)) AS inserted;
SELECT plum.code_balance('7K3M-Q9XA-2BCD-S') AS new_code, plum.code_balance((pg_temp.ks(1))[1]) AS code_1_untouched;
ROLLBACK;

-- balances
SELECT pg_temp.try($$SELECT plum.code_balance(NULL)$$);
SELECT pg_temp.try($$SELECT plum.code_balance('7K3M-Q9XA-2BCD-S')$$);
SELECT pg_temp.try($$SELECT plum.code_balance('7K3M-Q9XA-2BCD-T')$$);

-- partial redemptions of one code: the rest stays for later, a used code counts as distributed
SELECT * FROM pg_temp.redeem('{1}', 3, ref => 'order-1');
SELECT * FROM pg_temp.state(1);
SELECT * FROM pg_temp.redeem('{1}', 6.5);
SELECT * FROM pg_temp.redeem('{1}', 0.5);
SELECT * FROM pg_temp.state(1);
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(1)));
SELECT k.n, j.amount, j.balance_after, j.reference, j.campaign_id = :spring AS spring, j.item_id, j.admin_id
	FROM plum_internal.journal j JOIN pg_temp.k ON k.c = j.code WHERE j.kind = 'code_redeem' ORDER BY j.entry_id;

-- several codes: applied in the order given, each drained before the next, only as far as needed
SELECT * FROM pg_temp.redeem('{3,2}', 15, ref => 'order-2');
SELECT * FROM pg_temp.state(2, 3);
SELECT * FROM pg_temp.redeem('{4,5,6}', 4);
SELECT * FROM pg_temp.state(4, 5, 6);
SELECT * FROM pg_temp.redeem('{6,2,4}', 11);
SELECT * FROM pg_temp.state(2, 4, 6);
SELECT * FROM pg_temp.redeem('{2,4,5}', 20.00);
SELECT * FROM pg_temp.state(2, 4, 5);
SELECT count(*) AS redeem_entries FROM plum_internal.journal WHERE kind = 'code_redeem';

-- refusals change nothing
SELECT pg_temp.try($$SELECT plum.redeem_codes(NULL, 1)$$);
SELECT pg_temp.try($$SELECT plum.redeem_codes('{}', 1)$$);
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(ARRAY[%L, NULL]::plum.code[], 1)$$, (pg_temp.ks(7))[1]));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(7, 8, 7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L::plum.code[] || '7K3M-Q9XA-2BCD-S'::plum.code, 1)$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(7, 18)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(7, 1)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, NULL)$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 0)$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, -1)$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1.001)$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 'NaN')$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 'Infinity')$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1.5)$$, pg_temp.ks(18)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 50.01)$$, pg_temp.ks(7)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 100.01)$$, pg_temp.ks(7, 8)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1, 777777)$$, pg_temp.ks(7)));
SELECT * FROM pg_temp.state(7, 8, 18);
SELECT count(*) AS redeem_entries FROM plum_internal.journal WHERE kind = 'code_redeem';

-- items: the item must be in each code's campaign catalog
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1, %s)$$, pg_temp.ks(7), :sushi));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1, %s)$$, pg_temp.ks(7, 8), :pizza));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1, %s)$$, pg_temp.ks(15, 7), :pizza));
SELECT * FROM pg_temp.redeem('{15}', 5, :pizza);
SELECT * FROM pg_temp.redeem('{7,8}', 25, :book, 'order-3');
SELECT k.n, j.amount, j.item_id = :book AS book, j.reference FROM plum_internal.journal j JOIN pg_temp.k ON k.c = j.code
	WHERE j.kind = 'code_redeem' AND j.item_id IS NOT NULL ORDER BY j.entry_id;

-- idempotency: a retry returns the first call's rows and changes nothing; other arguments: PU006
SELECT * FROM pg_temp.redeem('{9,10}', 60, ref => 'order-4', key => 'key-1');
SELECT * FROM pg_temp.redeem('{9,10}', 60, ref => 'order-4', key => 'key-1');
SELECT * FROM pg_temp.state(9, 10);
SELECT * FROM pg_temp.redeem('{9,10}', 60.00, ref => 'order-4', key => 'key-1');
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 61, NULL, 'order-4', 'key-1')$$, pg_temp.ks(9, 10)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 60, NULL, 'order-4', 'key-1')$$, pg_temp.ks(10, 9)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 60, NULL, 'order-5', 'key-1')$$, pg_temp.ks(9, 10)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1, NULL, NULL, '')$$, pg_temp.ks(10)));
SELECT count(*) AS key_1_entries FROM plum_internal.journal WHERE idempotency_key = 'key-1';
SELECT * FROM pg_temp.redeem('{10}', 1, key => 'key-2');
SELECT * FROM pg_temp.state(9, 10);
-- the key is per company
SELECT * FROM pg_temp.redeem('{18}', 100, key => 'key-1');

-- distribution
SELECT pg_temp.try($$SELECT plum.mark_codes_distributed(NULL)$$);
SELECT pg_temp.try(format($$SELECT plum.mark_codes_distributed(ARRAY[%L, NULL]::plum.code[])$$, (pg_temp.ks(20))[1]));
SELECT pg_temp.try(format($$SELECT plum.mark_codes_distributed(%L::plum.code[] || '7K3M-Q9XA-2BCD-S'::plum.code)$$, pg_temp.ks(20, 20)));
SELECT plum.mark_codes_distributed('{}') AS none;
SELECT plum.mark_codes_distributed(pg_temp.ks(20, 21, 20)) AS marked;
SELECT plum.mark_codes_distributed(pg_temp.ks(20, 21)) AS marked_again;
SELECT plum.mark_codes_distributed(pg_temp.ks(2, 21, 22)) AS marked;
SELECT * FROM pg_temp.state(2, 20, 21, 22, 23);

-- cancellation: undistributed, unused codes only; by the issuer or a super admin; value back to the issuer
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(NULL, %L)$$, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, NULL)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, '{}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, ARRAY[NULL]::plum.code[])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(777777, %L)$$, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :boss, pg_temp.ks(23, 23)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L::plum.code[] || '7K3M-Q9XA-2BCD-S'::plum.code)$$, :boss, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :yboss, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :other, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :boss, pg_temp.ks(23, 20)));
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :boss, pg_temp.ks(23, 1)));
SELECT admin_id, pool FROM plum.admins WHERE company_id = :acme ORDER BY admin_id;
SELECT plum.cancel_codes(:other, pg_temp.ks(16)) AS returned_by_issuer;
SELECT plum.cancel_codes(:boss, pg_temp.ks(23, 17)) AS returned_by_super_admin;
SELECT admin_id, pool FROM plum.admins WHERE company_id = :acme ORDER BY admin_id;
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :boss, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(23)));
SELECT pg_temp.try(format($$SELECT plum.mark_codes_distributed(%L)$$, pg_temp.ks(23)));
SELECT * FROM pg_temp.state(16, 17, 23);
SELECT k.n, j.amount, j.admin_id, j.campaign_id = :spring AS spring, j.balance_after, j.note
	FROM plum_internal.journal j JOIN pg_temp.k ON k.c = j.code WHERE j.kind = 'code_cancel' ORDER BY j.entry_id;
SELECT plum.code_balance((pg_temp.ks(23))[1]) AS cancelled_balance;

-- expiry is exact to the instant
SET plum.now = '2026-01-31 23:59:59.999999+00';
SELECT * FROM pg_temp.redeem('{11}', 1);
SELECT plum.mark_codes_distributed(pg_temp.ks(12)) AS marked;
SET plum.now = '2026-02-01 00:00:00+00';
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(11)));
SELECT pg_temp.try(format($$SELECT plum.redeem_codes(%L, 1)$$, pg_temp.ks(20, 14)));
SELECT pg_temp.try(format($$SELECT plum.issue_codes(%s, %s, 5, 1)$$, :boss, :short));
SELECT pg_temp.try(format($$SELECT plum.mark_codes_distributed(%L)$$, pg_temp.ks(13)));
SELECT plum.code_balance((pg_temp.ks(11))[1]) AS expired_balance;
SELECT * FROM pg_temp.state(11, 12, 13, 14);
-- an undistributed code never expires for the admin: it can still be cancelled
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :boss, pg_temp.ks(13, 12)));
SELECT plum.cancel_codes(:boss, pg_temp.ks(13, 14)) AS returned_after_expiry;
-- the sweep records the distributed codes' remaining balance as breakage, once
SELECT plum.expire_codes() AS expired;
SELECT plum.expire_codes() AS expired_again;
SELECT * FROM pg_temp.state(11, 12, 13, 14);
SELECT k.n, j.amount, j.balance_after, j.campaign_id = :short AS short FROM plum_internal.journal j JOIN pg_temp.k ON k.c = j.code
	WHERE j.kind = 'code_expire' ORDER BY k.n;
SET plum.now = '2026-06-01 00:00:00+00';
SELECT state, count(*) FROM plum.codes GROUP BY state ORDER BY state;
SELECT plum.expire_codes() AS expired;
SELECT * FROM pg_temp.state(1, 2, 15, 20, 21, 22, 24);
SELECT state, count(*), sum(balance) AS balance FROM plum.codes GROUP BY state ORDER BY state;
SELECT pg_temp.try(format($$SELECT plum.cancel_codes(%s, %L)$$, :boss, pg_temp.ks(21)));
SELECT * FROM pg_temp.redeem('{10,7}', 39.50);
SELECT * FROM pg_temp.state(7, 10);

-- the view and every column are documented; roles
SELECT obj_description('plum.codes'::regclass, 'pg_class') IS NOT NULL AS view_documented,
	count(*) FILTER (WHERE col_description('plum.codes'::regclass, attnum) IS NULL) AS undocumented_columns,
	string_agg(attname, ', ' ORDER BY attnum) AS columns
	FROM pg_attribute WHERE attrelid = 'plum.codes'::regclass AND attnum > 0;
SELECT count(*) FILTER (WHERE col_description('plum_internal.issued_code'::regclass, attnum) IS NULL) AS undocumented_table_columns
	FROM pg_attribute WHERE attrelid = 'plum_internal.issued_code'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT p.oid::regprocedure AS function, obj_description(p.oid, 'pg_proc') IS NOT NULL AS documented, p.prosecdef AS security_definer,
	has_function_privilege('plum_admin', p.oid, 'EXECUTE') AS plum_admin,
	has_function_privilege('plum_app', p.oid, 'EXECUTE') AS plum_app,
	has_function_privilege('plum_reader', p.oid, 'EXECUTE') AS plum_reader
	FROM pg_proc p WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace)
	AND p.proname IN ('issue_codes', 'insert_codes', 'code_balance', 'lock_codes', 'redeem_codes', 'mark_codes_distributed',
		'cancel_codes', 'expire_codes', 'verify_codes')
	ORDER BY p.proname;
SELECT has_table_privilege('plum_reader', 'plum.codes', 'SELECT') AS reader_sees_codes,
	has_table_privilege('plum_app', 'plum_internal.issued_code', 'SELECT') AS app_reads_table;

-- verify(): consistent, and a tampered balance is reported
SELECT * FROM plum.verify();
SELECT * FROM plum_internal.verify_codes(:acme);
BEGIN;
UPDATE plum_internal.issued_code SET balance = balance - 1 WHERE code = (pg_temp.ks(7))[1];
SELECT company_id = :acme AS acme, check_name, regexp_replace(detail, '[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=]', '<code>') AS detail
	FROM plum.verify();
ROLLBACK;
BEGIN;
DELETE FROM plum_internal.issued_code WHERE code = (pg_temp.ks(19))[1];
SELECT company_id = :yen AS yen, check_name, detail FROM plum.verify();
ROLLBACK;
SELECT count(*) AS problems FROM plum.verify();
