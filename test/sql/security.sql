-- The ledger is append-only, tables are written only through plum's functions, roles get what
-- they need and no more, plum.now is superuser-only, and verify() catches tampering.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 00:00:00+00';
SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 1000) AS boss \gset
SELECT plum.create_points(:boss, 500);
SELECT plum.give_points(:boss, 'alice@acme.test', 100) > 0 AS granted;
SELECT plum.redeem_points(:acme, 'alice@acme.test', 10) AS r1 \gset

-- the ledger is append-only, even for a superuser
SELECT pg_temp.try($$UPDATE plum_internal.journal SET amount = 0$$);
SELECT pg_temp.try($$DELETE FROM plum_internal.journal$$);
SELECT pg_temp.try($$TRUNCATE plum_internal.journal$$);
-- only the kinds of ledger rows (a C check), whatever the case or padding; every kind written is one
SELECT split_part(pg_temp.try($$INSERT INTO plum_internal.journal (company_id, at, kind, amount) VALUES ((SELECT min(company_id) FROM plum_internal.company), now(), 'mint', 1)$$), ' | ', 1) AS refused;
SELECT split_part(pg_temp.try($$INSERT INTO plum_internal.journal (company_id, at, kind, amount) VALUES ((SELECT min(company_id) FROM plum_internal.company), now(), 'Give', 1)$$), ' | ', 1) AS refused;
SELECT split_part(pg_temp.try($$INSERT INTO plum_internal.journal (company_id, at, kind, amount) VALUES ((SELECT min(company_id) FROM plum_internal.company), now(), 'give ', 1)$$), ' | ', 1) AS refused;
SELECT split_part(pg_temp.try($$INSERT INTO plum_internal.journal (company_id, at, kind, amount) VALUES ((SELECT min(company_id) FROM plum_internal.company), now(), '', 1)$$), ' | ', 1) AS refused;
SELECT k, plum_internal.ledger_kind_valid(k) FROM unnest(ARRAY['create', 'give', 'redeem', 'expire', 'restore',
	'code_issue', 'code_redeem', 'code_cancel', 'code_expire', 'code_refund', 'link_create', 'link_redeem',
	'link_cancel', 'reserve', 'unreserve', 'takeback', 'creat', 'takebacks']) AS k;
SELECT count(*) AS entries FROM plum_internal.journal;

-- plum.now: only a superuser may set it; bad values are refused
SELECT pg_temp.try($$SET plum.now = 'yesterday-ish'$$);
SELECT pg_temp.try($$SET plum.now = 'infinity'$$);
SELECT pg_temp.try($$SET plum.now = 'epoch'$$);
SELECT pg_temp.try($$SET plum.other = '1'$$);
SET plum.now = '2026-03-04 05:06:07.123456+02';
SELECT plum.now();
RESET plum.now;
SELECT plum.now() = now() AS transaction_clock;
SET plum.now = '2026-01-01 00:00:00+00';

-- roles
CREATE ROLE regress_plum_reader IN ROLE plum_reader;
CREATE ROLE regress_plum_app IN ROLE plum_app;
CREATE ROLE regress_plum_admin IN ROLE plum_admin;
CREATE ROLE regress_plum_nobody;

SET ROLE regress_plum_app;
SELECT plum.points_balance(:acme, 'alice@acme.test') AS app_reads_balance;
SELECT plum.redeem_points(:acme, 'alice@acme.test', 1) > 0 AS app_redeems;
SELECT count(*) AS app_reads_views FROM plum.wallets;
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@acme.test', 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 1)$$, :boss));
SELECT pg_temp.try($$SELECT plum.expire_points()$$);
SELECT pg_temp.try($$SELECT * FROM plum_internal.account$$);
SELECT pg_temp.try($$UPDATE plum_internal.admin SET pool = 1000000$$);
SELECT pg_temp.try($$INSERT INTO plum_internal.journal (company_id, at, kind, amount) VALUES (1, now(), 'give', 1)$$);
SELECT pg_temp.try($$SET plum.now = '2030-01-01 00:00:00+00'$$);
RESET ROLE;

-- a BI login sees a company's rows once granted it (an unbound one sees none)
SET ROLE regress_plum_reader;
SELECT count(*) AS unbound_reader_reads_ledger FROM plum.ledger;
RESET ROLE;
SELECT plum.grant_company('regress_plum_reader', :acme);
SET ROLE regress_plum_reader;
SELECT count(*) AS reader_reads_ledger FROM plum.ledger;
SELECT email, pool FROM plum.admins;
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@acme.test', 1)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.points_balance(%s, 'alice@acme.test')$$, :acme));
RESET ROLE;

SET ROLE regress_plum_admin;
SELECT plum.give_points(:boss, 'bob@acme.test', 5) > 0 AS admin_gives;
SELECT plum.redeem_points(:acme, 'bob@acme.test', 1) > 0 AS admin_redeems_too;
SELECT count(*) AS admin_verifies FROM plum.verify();
RESET ROLE;

SET ROLE regress_plum_nobody;
SELECT pg_temp.try($$SELECT count(*) FROM plum.wallets$$);
SELECT pg_temp.try(format($$SELECT plum.points_balance(%s, 'alice@acme.test')$$, :acme));
RESET ROLE;

-- every SECURITY DEFINER function pins its search_path
SELECT count(*) AS definer_without_search_path FROM pg_proc p
	WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND p.prosecdef
	AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');
-- every plum table, view and function has a comment
SELECT c.relname AS uncommented_relation FROM pg_class c
	WHERE c.relnamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.oid::regprocedure AS uncommented_function FROM pg_proc p
	WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT c.relname, a.attname AS uncommented_column FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
	WHERE c.relnamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
	AND col_description(c.oid, a.attnum) IS NULL AND c.relname <> 'currency' ORDER BY 1, 2;

-- verify() is clean, and it is not a test that cannot fail: tampering shows
SELECT * FROM plum.verify();
BEGIN;
UPDATE plum_internal.account SET lots = plum_internal.wallet_add(lots, 999999, '2026-01-01 00:00:00+00', '2027-01-01 00:00:00+00', 1, '2026-01-01 00:00:00+00')
	WHERE recipient = 'alice@acme.test';
SELECT * FROM plum.verify();
ROLLBACK;
BEGIN;
UPDATE plum_internal.admin SET created_total = created_total + 1, pool = pool + 1 WHERE admin_id = :boss;
SELECT * FROM plum.verify();
ROLLBACK;
BEGIN;
ALTER TABLE plum_internal.journal DISABLE TRIGGER journal_append_only;
UPDATE plum_internal.journal SET amount = amount + 0.5 WHERE entry_id = :r1;
SELECT * FROM plum.verify();
ROLLBACK;
SELECT * FROM plum.verify();

DROP ROLE regress_plum_reader, regress_plum_app, regress_plum_admin, regress_plum_nobody;
