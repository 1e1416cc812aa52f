-- give_points_bulk (C since 0.2.0): a call mixing new wallets, an existing wallet holding expired
-- lots, a recipient given twice; the ledger order (wallet by wallet in recipient order, an
-- existing wallet's expire row before its grants), the pool, edge cases of the arguments, and
-- distribute_bulk matching each delivery to its grant.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';
SELECT plum.create_company('Acme', 'USD', '30 days') AS acme \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.create_points(:boss, 10000);
SELECT plum.give_points(:boss, 'old@acme.test', 7) > 0 AS granted;
SELECT plum.give_points(:boss, 'kept@acme.test', 1) > 0 AS granted;

-- 40 days later old@'s lot has expired: it is recorded (expire) before the call's grants to old@
SET plum.now = '2026-02-10 09:00:00+00';
SELECT max(entry_id) AS before FROM plum_internal.journal \gset
SELECT plum.give_points_bulk(:boss, '{zoe@acme.test,old@acme.test,amy@acme.test,Zoe@Acme.test,old@acme.test}',
	'{1,2,3,4,5.5}', 'mixed') AS grants;
SELECT entry_id - :before AS n, kind, recipient, amount, lot_id - :before AS lot, note
FROM plum_internal.journal WHERE entry_id > :before ORDER BY entry_id;
SELECT recipient, balance FROM plum.wallets WHERE company_id = :acme ORDER BY recipient;
SELECT recipient, lot_id - :before AS lot, amount, remaining FROM plum.point_lots WHERE company_id = :acme ORDER BY recipient, lot_id;
SELECT pool FROM plum.admins WHERE admin_id = :boss;
SELECT * FROM plum.verify();

-- edge cases: nothing granted and nothing changed
SELECT plum.give_points_bulk(:boss, '{}', '{}') AS no_grants;
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{{a@acme.test},{b@acme.test}}', '{{1},{2}}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@acme.test,b@acme.test}', '{1,NaN}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@acme.test,b@acme.test}', '{1,Infinity}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@acme.test,b@acme.test}', '{1,0}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@acme.test,b@acme.test}', '{1,1e18}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@acme.test,b@acme.test}', '{6000,5000}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@acme.test}', '{1}', NULL, 999)$$, :boss));
SELECT count(*) AS no_new_rows FROM plum_internal.journal WHERE entry_id > :before + 8;
SELECT pool FROM plum.admins WHERE admin_id = :boss;

-- distribute_bulk: each delivery's grant is its own (existing and new wallets, one recipient twice)
SELECT plum.distribute_bulk(:boss, 'email', ARRAY['zoe@acme.test', 'new@acme.test', 'amy@acme.test', 'zoe@acme.test'], 'Hi {{amount}}',
	points => ARRAY[11, 12, 13, 14]) AS ids \gset
SELECT d.destination, d.amount, j.recipient, j.amount AS granted, j.kind
FROM plum_internal.delivery d JOIN plum_internal.journal j ON j.entry_id = d.lot_id
WHERE d.delivery_id = ANY (:'ids'::bigint[]) ORDER BY d.delivery_id;
SELECT * FROM plum.verify();

-- a row trigger added to the ledger: the bulk grant, which appends without the executor, refuses to
-- run rather than skip it (0A000), and changes nothing
CREATE FUNCTION pg_temp.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER regress_audit AFTER INSERT ON plum_internal.journal FOR EACH ROW EXECUTE FUNCTION pg_temp.audit();
SELECT pg_temp.try(format('SELECT plum.give_points_bulk(%s, ARRAY[''trig@acme.test'']::plum.recipient[], ARRAY[1])', :boss));
DROP TRIGGER regress_audit ON plum_internal.journal;
SELECT count(*) AS wallets_of_trig FROM plum.wallets WHERE recipient = 'trig@acme.test';
SELECT * FROM plum.verify();
