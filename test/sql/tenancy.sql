-- Companies, currencies, admins, thresholds and pools.
-- every feature test starts from an empty plum, so ids in messages are stable
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
SET plum.now = '2026-01-01 09:00:00+00';

-- try(sql): run a statement, report 'ok' or its SQLSTATE, message and detail (nothing it did survives an error)
\i test/include/try.sql

-- currencies: minor units come from ISO 4217
SELECT code, minor_unit FROM plum_internal.currency WHERE code IN ('USD', 'JPY', 'KWD', 'EUR', 'CLF') ORDER BY code;
SELECT count(*) > 150 AS many_currencies FROM plum_internal.currency;

SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Nippon', 'jpy', '6 months', '{1000,5000,10000}', 100000) AS nippon \gset
SELECT plum.create_company('Kuwait Co', ' KWD ', '2 years', '{5, 10, 0.5}', 1000.125) AS kuwait \gset
SELECT company_id = :acme AS is_acme, name, base_currency, scale, points_validity, code_denominations, max_grant
	FROM plum_internal.company ORDER BY company_id;

-- bad companies
SELECT pg_temp.try($$SELECT plum.create_company('X', 'XYZ')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'US')$$);
SELECT pg_temp.try($$SELECT plum.create_company(NULL, 'USD')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', NULL)$$);
SELECT pg_temp.try($$SELECT plum.create_company('  ', 'USD')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '0 days')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '-1 year')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', 'infinity')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'JPY', '1 year', '{10.5}')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', '{}')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', '{5,NULL}')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', '{5,5}')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', '{5,-5}')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', '{5,NaN}')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', max_grant => 0)$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', max_grant => 'Infinity')$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', max_grant => 10.001)$$);
SELECT count(*) AS companies_after_refusals FROM plum_internal.company;

-- admins
SELECT plum.add_admin(:acme, 'Boss@Acme.test', 'super_admin', 10000) AS boss \gset
SELECT plum.add_admin(:acme, 'ann@acme.test', 'admin', 500.50) AS ann \gset
SELECT plum.add_admin(:acme, 'bob@acme.test') AS bob \gset
SELECT plum.add_admin(:nippon, 'kenji@nippon.test', 'super_admin', 1000000) AS kenji \gset
SELECT admin_id = :boss AS is_boss, company_id = :acme AS in_acme, email, role, threshold, created, pool, headroom, currency
	FROM plum.admins ORDER BY admin_id;
SELECT pg_temp.try($$SELECT plum.add_admin(999999, 'x@acme.test')$$);
SELECT pg_temp.try($$SELECT plum.add_admin(NULL, 'x@acme.test')$$);
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, NULL)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, '+14155550100')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'not an email')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'x@acme.test', 'owner')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'x@acme.test', 'admin', -1)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'x@acme.test', 'admin', 1.001)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'x@acme.test', 'admin', 'NaN')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'BOSS@acme.test')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.add_admin(%s, 'x@nippon.test', 'admin', 0.5)$$, :nippon));

-- create_points within thresholds; the pool never expires
SELECT plum.create_points(:ann, 300) AS ann_pool;
SELECT plum.create_points(:ann, 200.50) AS ann_pool;
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 0.01)$$, :ann));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 1)$$, :bob));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 0)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, -5)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 1.234)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 'NaN')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, '-Infinity')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 1e30)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, NULL)$$, :boss));
SELECT pg_temp.try($$SELECT plum.create_points(NULL, 5)$$);
SELECT pg_temp.try($$SELECT plum.create_points(424242, 5)$$);
SELECT pg_temp.try(format($$SELECT plum.create_points(%s, 1.5)$$, :kenji));
SELECT plum.create_points(:kenji, 1500) AS kenji_pool;
SELECT email, threshold, created, pool, headroom FROM plum.admins ORDER BY admin_id;

-- thresholds: only a super admin of the same company changes them, never below what was created
SELECT pg_temp.try(format($$SELECT plum.set_threshold(%s, %s, 1000)$$, :ann, :bob));
SELECT pg_temp.try(format($$SELECT plum.set_threshold(%s, %s, 1000)$$, :kenji, :bob));
SELECT pg_temp.try(format($$SELECT plum.set_threshold(%s, %s, 100)$$, :boss, :ann));
SELECT pg_temp.try(format($$SELECT plum.set_threshold(%s, %s, -1)$$, :boss, :bob));
SELECT pg_temp.try(format($$SELECT plum.set_threshold(%s, 999999, 5)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.set_threshold(999999, %s, 5)$$, :bob));
SELECT pg_temp.try(format($$SELECT plum.set_threshold(%s, %s, NULL)$$, :boss, :bob));
SELECT plum.set_threshold(:boss, :bob, 250);
SELECT plum.set_threshold(:boss, :boss, 20000);
SELECT plum.create_points(:bob, 250) AS bob_pool;
SELECT email, threshold, created, pool, headroom FROM plum.admins WHERE company_id = :acme ORDER BY admin_id;

-- the trigger holds for direct writes too, even by the table owner
SELECT pg_temp.try(format($$UPDATE plum_internal.admin SET created_total = created_total + 1, pool = pool + 1 WHERE admin_id = %s$$, :bob));
SELECT pg_temp.try(format($$UPDATE plum_internal.admin SET pool = -1 WHERE admin_id = %s$$, :bob));
SELECT pg_temp.try(format($$UPDATE plum_internal.admin SET pool = pool + 1 WHERE admin_id = %s$$, :bob));
SELECT pg_temp.try(format($$INSERT INTO plum_internal.admin (company_id, email, role, threshold, created_total, pool, created) VALUES (%s, 'z@acme.test', 'admin', 10, 20, 20, now())$$, :acme));

SELECT * FROM plum.verify();
SELECT kind, count(*), sum(amount) FROM plum.ledger GROUP BY kind ORDER BY kind;

-- internal helpers refuse bad arguments with documented SQLSTATEs, never an internal error
SELECT pg_temp.try($$SELECT plum_internal.check_amount(1, NULL)$$);
SELECT pg_temp.try($$SELECT plum_internal.check_amount(1, 5)$$);
SELECT pg_temp.try($$SELECT plum_internal.valid_amount(1, (-1)::smallint)$$);
SELECT pg_temp.try($$SELECT plum.create_company('X', 'USD', '1 year', '{{5},{10}}')$$);
