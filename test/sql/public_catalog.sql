-- The public catalog (0.2.0): schema plum shows the API (SPEC's functions, the views, the types),
-- schema plum_internal the plumbing, out of reach of the plum roles; lookups by recipient or code
-- in any view are correct and indexable whatever the search_path; companies, currencies, the
-- ledger's signed delta; driver-friendly casts and column names.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

-- schema plum: views and types only, no table, sequence or index
SELECT c.relkind, count(*) FROM pg_class c WHERE c.relnamespace = 'plum'::regnamespace GROUP BY 1 ORDER BY 1;
SELECT t.typname, t.typtype FROM pg_type t
	WHERE t.typnamespace = 'plum'::regnamespace AND t.typname NOT LIKE '\_%' AND t.typrelid NOT IN (SELECT oid FROM pg_class WHERE relkind = 'v')
	ORDER BY 1;
-- its functions: the API, nothing else (helpers, type support and triggers live in plum_internal)
SELECT p.proname, count(*) AS overloads FROM pg_proc p WHERE p.pronamespace = 'plum'::regnamespace GROUP BY 1 ORDER BY 1;
SELECT count(*) AS plum_triggers_or_type_support FROM pg_proc p
	WHERE p.pronamespace = 'plum'::regnamespace AND (p.prorettype IN ('trigger'::regtype, 'cstring'::regtype, 'internal'::regtype)
		OR 'internal'::regtype = ANY (p.proargtypes) OR 'cstring'::regtype = ANY (p.proargtypes));
-- plum_internal: tables, their sequences and indexes, a view (admin_pool), and functions; no privilege for PUBLIC or the plum roles
SELECT c.relkind, count(*) FROM pg_class c WHERE c.relnamespace = 'plum_internal'::regnamespace GROUP BY 1 ORDER BY 1;
SELECT r.rolname, has_schema_privilege(r.rolname, 'plum_internal', 'USAGE') AS internal_usage,
	has_schema_privilege(r.rolname, 'plum', 'USAGE') AS plum_usage,
	(SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'plum_internal'::regnamespace AND c.relkind IN ('r', 'S')
		AND (has_table_privilege(r.rolname, c.oid, 'SELECT') OR has_table_privilege(r.rolname, c.oid, 'INSERT')
			OR has_table_privilege(r.rolname, c.oid, 'UPDATE'))) AS internal_tables_reachable
	FROM pg_roles r WHERE r.rolname IN ('plum_reader', 'plum_app', 'plum_admin') ORDER BY 1;
CREATE ROLE plum_test_reader LOGIN IN ROLE plum_reader;
SET ROLE plum_test_reader;
SELECT pg_temp.try('SELECT count(*) FROM plum_internal.journal');
SELECT pg_temp.try('SELECT plum_internal.raise(''PU001'', ''x'')');
SELECT pg_temp.try('SELECT count(*) FROM plum.ledger');
SELECT pg_temp.try('SELECT count(*) FROM plum.companies');
SELECT pg_temp.try('SELECT count(*) FROM plum.currencies');
RESET ROLE;
DROP ROLE plum_test_reader;
-- plum.delivery (what claim_deliveries returns) has the outbox table's columns, in its order
SELECT t.cols = i.cols AS delivery_type_matches_table FROM
	(SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) AS cols
		FROM pg_attribute a JOIN pg_type ty ON ty.typrelid = a.attrelid WHERE ty.oid = 'plum.delivery'::regtype AND a.attnum > 0) t,
	(SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) AS cols
		FROM pg_attribute a WHERE a.attrelid = 'plum_internal.delivery'::regclass AND a.attnum > 0 AND NOT a.attisdropped) i;

-- a small history
SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Yen Co', 'JPY', points_validity => '6 months', max_grant => 10000) AS yen \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.create_points(:boss, 5000);
SELECT plum.give_points(:boss, 'Alice@Example.com', 120.50);
SELECT plum.give_points(:boss, '+44 20 7946 0958', 30);
SELECT plum.redeem_points(:acme, 'alice@example.com', 20.25, 'order-1') AS r1 \gset
SELECT plum.create_campaign(:boss, 'Codes', 'codes') AS codes_campaign \gset
-- issue_codes returns its codes in a column named code
SELECT count(code) AS issued FROM plum.issue_codes(:boss, :codes_campaign, 50, 3);
SELECT code AS c1 FROM plum.codes ORDER BY code LIMIT 1 \gset
SELECT applied, remaining FROM plum.redeem_codes(ARRAY[:'c1'], 10);
SELECT plum.create_campaign(:boss, 'Links', 'links') AS links_campaign \gset
SELECT plum.create_link(:boss, :links_campaign, 25, 'Bob@Example.com') IS NOT NULL AS link_made;

-- plum.companies and plum.currencies
SELECT company_id, name, currency, settings, created, decimals, points_validity, code_denominations, max_grant
	FROM plum.companies ORDER BY 1;
SELECT * FROM plum.currencies WHERE currency IN ('USD', 'JPY', 'KWD') ORDER BY 1;

-- plum.ledger's holder and signed delta: the liability is a plain sum
SELECT kind, holder, amount, delta FROM plum.ledger ORDER BY entry_id;
SELECT holder, sum(delta) AS outstanding FROM plum.ledger WHERE company_id = :acme GROUP BY holder ORDER BY 1;
SELECT (SELECT sum(delta) FROM plum.ledger WHERE holder = 'wallet') = (SELECT sum(balance) FROM plum.wallets) AS wallets_match,
	(SELECT sum(delta) FROM plum.ledger WHERE holder = 'codes') = (SELECT sum(balance) FROM plum.codes) AS codes_match,
	(SELECT sum(delta) FROM plum.ledger WHERE holder = 'link') = (SELECT sum(value) FROM plum.links WHERE state = 'active') AS links_match;

-- the wallet as jsonb (explicit cast), and the varchar casts drivers send
SELECT jsonb_typeof(lots::jsonb) AS kind, lots::jsonb -> 'lots' -> 0 ->> 'amount' AS first_lot_taken
	FROM plum.ledger WHERE kind = 'redeem';
SELECT plum.code_balance(:'c1'::varchar) AS balance_from_varchar;
SELECT plum.points_balance(:acme, 'ALICE@example.com'::varchar) AS balance_from_varchar;

-- lookups by recipient and code in the views: any spelling finds the row, with or without plum on the
-- search path, with a literal or a text/varchar parameter, and an index can serve them
-- the scans of a query's plan (index and table names only: no literal, so no random code, shows)
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_line text;
	v_plan text[] := '{}';
BEGIN
	FOR v_line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		-- any kind of index scan (plain, bitmap, index-only: the planner's choice on tiny tables) is "index"
		v_plan := v_plan || ARRAY(SELECT CASE WHEN m[1] LIKE 'Seq%' THEN 'seq ' ELSE 'index ' END || m[2]
			FROM regexp_matches(v_line, '((?:Bitmap )?Index(?: Only)? Scan (?:using|on)|Seq Scan on) (\w+)', 'g') AS m);
	END LOOP;
	RETURN array_to_string(v_plan, '; ');
END
$$;
SET enable_seqscan = off;
SET search_path = public;
SELECT recipient, balance FROM plum.wallets WHERE recipient = 'Alice@Example.COM';
SELECT recipient, remaining FROM plum.point_lots WHERE recipient = ' alice@example.com';
SELECT recipient FROM plum.wallets WHERE recipient = '+44 20 7946 0958';
SELECT kind, recipient FROM plum.ledger WHERE recipient = 'ALICE@example.com' ORDER BY entry_id;
SELECT recipient FROM plum.links WHERE recipient = 'bob@EXAMPLE.com';
SELECT balance FROM plum.codes WHERE code = lower(replace(:'c1', '-', ' '));
SELECT kind, balance_after FROM plum.ledger WHERE code = lower(:'c1');
SELECT pg_temp.plan($$SELECT * FROM plum.wallets WHERE recipient = 'Alice@Example.COM'$$) AS wallets_plan;
SELECT pg_temp.plan($$SELECT * FROM plum.ledger WHERE recipient = 'Alice@Example.COM'$$) AS ledger_plan;
SELECT pg_temp.plan($$SELECT * FROM plum.links WHERE recipient = 'Bob@Example.COM'$$) AS links_plan;
SELECT pg_temp.plan($$SELECT * FROM plum.deliveries WHERE recipient = 'Bob@Example.COM'$$) AS deliveries_plan;
SELECT pg_temp.plan(format('SELECT * FROM plum.codes WHERE code = %L', lower(:'c1'))) AS codes_plan;
SELECT pg_temp.plan(format('SELECT * FROM plum.ledger WHERE code = %L', lower(:'c1'))) AS ledger_code_plan;
PREPARE by_text(text) AS SELECT recipient, balance FROM plum.wallets WHERE recipient = $1;
EXECUTE by_text('ALICE@example.com');
PREPARE by_varchar(varchar) AS SELECT recipient, balance FROM plum.wallets WHERE recipient = $1;
EXECUTE by_varchar('ALICE@example.com');
PREPARE code_by_text(text) AS SELECT balance FROM plum.codes WHERE code = $1;
EXECUTE code_by_text(lower(:'c1'));
SELECT pg_temp.plan('EXECUTE by_text(''ALICE@example.com'')') AS by_text_plan,
	pg_temp.plan('EXECUTE by_varchar(''ALICE@example.com'')') AS by_varchar_plan,
	pg_temp.plan(format('EXECUTE code_by_text(%L)', lower(:'c1'))) AS code_by_text_plan;
SELECT pg_temp.try($$SELECT * FROM plum.wallets WHERE recipient = 'not a recipient'$$);
SET search_path = public, plum;
SELECT recipient, balance FROM plum.wallets WHERE recipient = 'Alice@Example.COM';
SELECT pg_temp.plan($$SELECT * FROM plum.wallets WHERE recipient = 'Alice@Example.COM'$$) AS wallets_plan;
EXECUTE by_text('ALICE@example.com');
PREPARE by_text2(text) AS SELECT recipient, balance FROM plum.wallets WHERE recipient = $1;
EXECUTE by_text2('ALICE@example.com');
SET search_path = plum, public;
SELECT recipient, balance FROM plum.wallets WHERE recipient = 'Alice@Example.COM';
SELECT balance FROM plum.codes WHERE code = lower(:'c1');
RESET search_path;
RESET enable_seqscan;
-- text operations still work on recipients (implicit cast to text)
SELECT recipient LIKE '%@example.com' AS like_works, upper(recipient) FROM plum.wallets WHERE recipient = 'alice@example.com';
-- points_balance reads the tables in C (not SECURITY DEFINER): an application login with no table
-- privilege gets the balance, 0 for no wallet, PU005 for an unknown company
CREATE ROLE plum_test_app LOGIN IN ROLE plum_app;
SET ROLE plum_test_app;
SELECT plum.points_balance(:acme, 'ALICE@example.com') AS alice, plum.points_balance(:acme, 'nobody@example.com') AS nobody,
	plum.points_balance(:yen, 'alice@example.com') AS yen_nobody;
SELECT pg_temp.try('SELECT plum.points_balance(999, ''alice@example.com'')');
SELECT pg_temp.try('SELECT plum.points_balance(NULL, ''alice@example.com'')');
RESET ROLE;
DROP ROLE plum_test_app;
SELECT count(*) = 0 AS consistent FROM plum.verify();
