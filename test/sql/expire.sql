-- The expiry sweep (plum.expire_points(), src/expire.c): what it writes for each wallet due, to the
-- instant; wallets with live, expired and pending lots; a confined role sweeps only its companies;
-- idempotent; the ledger rows chain on the wallets and verify() stays clean.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 00:00:00+00';
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_sweep_a;
RESET client_min_messages;
CREATE ROLE regress_sweep_a IN ROLE plum_admin;

SELECT plum.create_company('A', 'USD', points_validity => '1 year') AS a \gset
SELECT plum.create_company('B', 'JPY', points_validity => '1 year') AS b \gset
SELECT plum.add_admin(:a, 'boss@a.test', 'super_admin', 100000) AS a_boss \gset
SELECT plum.add_admin(:b, 'boss@b.test', 'super_admin', 100000) AS b_boss \gset
SELECT plum.create_points(:a_boss, 5000), plum.create_points(:b_boss, 5000);
SELECT plum.add_earning_rule(:a, 'review', 'review', points => 40, pending => '30 days') > 0 AS rule;
-- 2026-01-01: alice (A) 100.25, carol (A) 10, bob (B) 300
SELECT plum.give_points(:a_boss, 'alice@a.test', 100.25) > 0, plum.give_points(:a_boss, 'carol@a.test', 10) > 0,
	plum.give_points(:b_boss, 'bob@b.test', 300) > 0;
-- 2026-06-01: alice and bob get a second lot; 2026-12-15: carol earns 40, pending for 30 days
SET plum.now = '2026-06-01 00:00:00+00';
SELECT plum.give_points(:a_boss, 'alice@a.test', 20) > 0, plum.give_points(:b_boss, 'bob@b.test', 7) > 0;
SET plum.now = '2026-12-15 00:00:00+00';
SELECT awarded, available_at FROM plum.record_event(:a, 'carol@a.test', 'review', 'review-1');
-- dave (A): a lot granted one microsecond later, which expires one microsecond after the others
SET plum.now = '2026-01-01 00:00:00.000001+00';
SELECT plum.give_points(:a_boss, 'dave@a.test', 5) > 0;

-- one microsecond before the first expiry: nothing is due
SET plum.now = '2026-12-31 23:59:59.999999+00';
SELECT plum.expire_points() AS expired_before;

-- exactly at 2027-01-01 00:00: the lots of 2026-01-01 expire at this instant, dave's not yet
SET plum.now = '2027-01-01 00:00:00+00';
SELECT count(*) AS due FROM plum_internal.account WHERE next_expiry <= plum.now();
-- a role confined to company A sweeps A's wallets only: alice's 100.25 and carol's 10 (not her
-- pending 40)
SELECT plum.grant_company('regress_sweep_a', :a);
SET ROLE regress_sweep_a;
SELECT plum.expire_points() AS expired_by_a;
SELECT plum.expire_points() AS again_by_a;
RESET ROLE;
SELECT company_id = :a AS a, recipient, amount FROM plum.ledger WHERE kind = 'expire' ORDER BY recipient;
-- bob's wallet (company B) is still due; an unconfined sweep takes it: 300 yen
SELECT recipient, next_expiry FROM plum_internal.account WHERE company_id = :b;
SELECT plum.expire_points() AS expired_b;
SELECT plum.expire_points() AS expired_again;

-- what the sweep left: alice's second lot, carol's pending lot, bob's second lot, dave's lot
SELECT recipient, balance, pending, next_expiry FROM plum.wallets ORDER BY recipient;
SELECT recipient, amount, remaining, issued_at, expires_at, available_at FROM plum.point_lots ORDER BY recipient, issued_at;
SELECT a.recipient, a.next_expiry = plum_internal.wallet_next_expiry(a.lots, '-infinity') AS generated_column_exact,
	plum_internal.wallet_total(a.lots) AS stored
FROM plum_internal.account a ORDER BY a.recipient;
-- the expire rows: the lots expired, their total, chained on the wallet (its head is the row's hash)
SELECT j.recipient, j.amount, j.at, plum_internal.wallet_total(j.lots) = j.amount AS lots_match,
	(SELECT count(*) FROM plum_internal.wallet_lots(j.lots)) AS lots, j.hash = a.chain_head AS head
FROM plum_internal.journal j JOIN plum_internal.account a USING (company_id, recipient)
WHERE j.kind = 'expire' ORDER BY j.recipient;
SELECT * FROM plum.verify();

-- one microsecond later dave's lot expires; a second sweep at the same instant finds nothing
SET plum.now = '2027-01-01 00:00:00.000001+00';
SELECT plum.expire_points() AS expired_dave;
SELECT plum.expire_points() AS expired_dave_again;
-- on 2027-06-01 alice's and bob's second lots expire (20.00 dollars and 7 yen: the total adds
-- the amounts as they are); carol's earned lot, available on 2027-01-14, a year later
SET plum.now = '2027-06-01 00:00:00+00';
SELECT plum.expire_points() AS expired_june;
SET plum.now = '2028-01-14 00:00:00+00';
SELECT plum.expire_points() AS expired_carol;
SELECT recipient, balance, pending, next_expiry FROM plum.wallets ORDER BY recipient;
SELECT recipient, count(*) AS expire_rows, sum(amount) AS expired FROM plum.ledger WHERE kind = 'expire' GROUP BY recipient ORDER BY recipient;
SELECT company_id = :a AS a, month, points_expired FROM plum.breakage_monthly ORDER BY 1 DESC, 2;
SELECT * FROM plum.verify();

-- inside a transaction that wrote the wallet before, the sweep sweeps the version written:
-- erin's 3 of 2027-08-01 expire, the 4 given in the transaction stay
SET plum.now = '2027-08-01 00:00:00+00';
SELECT plum.give_points(:a_boss, 'erin@a.test', 3) > 0;
BEGIN;
SET LOCAL plum.now = '2027-09-01 00:00:00+00';
SELECT plum.give_points(:a_boss, 'erin@a.test', 4) > 0;
SET LOCAL plum.now = '2028-08-01 00:00:00+00';
SELECT plum.expire_points() AS expired_in_transaction;
SELECT balance, next_expiry FROM plum.wallets WHERE recipient = 'erin@a.test';
COMMIT;
SELECT kind, amount FROM plum.ledger WHERE recipient = 'erin@a.test' ORDER BY entry_id;
SELECT * FROM plum.verify();

-- a row trigger added to the wallets' table: the sweep, which writes without the executor, refuses
-- to run rather than skip it (0A000), and changes nothing
SET plum.now = '2029-01-01 00:00:00+00';
SELECT plum.give_points(:a_boss, 'erin@a.test', 2) > 0;
SET plum.now = '2031-01-01 00:00:00+00';
CREATE FUNCTION pg_temp.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER regress_audit BEFORE UPDATE ON plum_internal.account FOR EACH ROW EXECUTE FUNCTION pg_temp.audit();
SELECT pg_temp.try('SELECT plum.expire_points()');
DROP TRIGGER regress_audit ON plum_internal.account;
SELECT plum.expire_points() AS expired_without_the_trigger;

DROP OWNED BY regress_sweep_a;
DROP ROLE regress_sweep_a;
