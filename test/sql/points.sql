-- Points: grants, FIFO redemption, exact expiry, reversal, idempotency, sweep, views, verify().
-- every feature test starts from an empty plum, so ids in messages are stable
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
-- lots(c, r): a wallet's live lots, with lot ids shown relative to the first grant of the test
CREATE FUNCTION pg_temp.lots(c bigint, r plum.recipient)
	RETURNS TABLE(lot bigint, issued_at timestamptz, expires_at timestamptz, amount numeric, remaining numeric)
	LANGUAGE sql AS $$
	SELECT l.lot_id - (SELECT min(entry_id) FROM plum_internal.journal WHERE kind = 'give') + 1, l.issued_at, l.expires_at, l.amount, l.remaining
	FROM plum.point_lots l WHERE l.company_id = c AND l.recipient = r ORDER BY l.issued_at, l.lot_id
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Yen Co', 'JPY', '30 days', max_grant => 10000) AS yen \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:acme, 'small@acme.test', 'admin', 100) AS small \gset
SELECT plum.add_admin(:yen, 'boss@yen.test', 'super_admin', 100000) AS yboss \gset
SELECT plum.create_points(:boss, 10000);
SELECT plum.create_points(:small, 100);
SELECT plum.create_points(:yboss, 50000);

-- grants: wallets are created on first grant, lots expire after the company's validity
SELECT plum.points_balance(:acme, 'alice@example.com') AS before_any_grant;
SELECT plum.give_points(:boss, 'Alice@Example.COM', 100) > 0 AS granted;
SET plum.now = '2026-02-01 09:00:00+00';
SELECT plum.give_points(:boss, ' alice@example.com', 50, 'february bonus') > 0 AS granted;
SET plum.now = '2026-03-01 09:00:00+00';
SELECT plum.give_points(:boss, 'alice@example.com', 25.25) > 0 AS granted;
SELECT plum.points_balance(:acme, 'ALICE@example.com') AS alice;
SELECT * FROM pg_temp.lots(:acme, 'alice@example.com');
SELECT company_id = :acme AS acme, recipient, balance, next_expiry, currency FROM plum.wallets;
SELECT pool FROM plum.admins WHERE admin_id = :boss;

-- grants at one instant merge into one lot
SELECT plum.give_points(:boss, '+1 (415) 555-0100', 10) > 0 AS granted;
SELECT plum.give_points(:boss, '+14155550100', 5) > 0 AS granted;
SELECT * FROM pg_temp.lots(:acme, '+14155550100');

-- bad grants change nothing
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 0)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', -1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 1.005)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 'NaN')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 'Infinity')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 50000.01)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', NULL)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, NULL, 1)$$, :boss));
SELECT pg_temp.try($$SELECT plum.give_points(NULL, 'alice@example.com', 1)$$);
SELECT pg_temp.try($$SELECT plum.give_points(777777, 'alice@example.com', 1)$$);
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@', 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 100.01)$$, :small));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'taro@yen.test', 1.5)$$, :yboss));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'taro@yen.test', 10001)$$, :yboss));
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice_unchanged;

-- FIFO: oldest lots first, ties by lot id
SET plum.now = '2026-04-01 09:00:00+00';
SELECT plum.redeem_points(:acme, 'alice@example.com', 120, 'order-1') AS r1 \gset
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice;
SELECT * FROM pg_temp.lots(:acme, 'alice@example.com');
SELECT kind, amount, recipient, reference, (SELECT sum(remaining) FROM plum_internal.wallet_lots(lots)) AS lots_taken
	FROM plum.ledger WHERE entry_id = :r1;

-- all or nothing: a short balance changes nothing
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 55.26)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'nobody@example.com', 1)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 0)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', -3)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 0.001)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 'NaN')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', '-Infinity')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 1e40)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', NULL)$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, NULL, 1)$$, :acme));
SELECT pg_temp.try($$SELECT plum.redeem_points(NULL, 'alice@example.com', 1)$$);
SELECT pg_temp.try($$SELECT plum.redeem_points(888888, 'alice@example.com', 1)$$);
SELECT pg_temp.try($$SELECT plum.points_balance(888888, 'alice@example.com')$$);
SELECT pg_temp.try($$SELECT plum.points_balance(NULL, 'alice@example.com')$$);
-- another company's wallet is another wallet
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 1)$$, :yen));
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice_unchanged;

-- reversal: back to the same lots, latest expiry first, never more than redeemed
SELECT plum.reverse_redemption(:r1, 30) AS restored;
SELECT * FROM pg_temp.lots(:acme, 'alice@example.com');
SELECT pg_temp.try(format($$SELECT plum.reverse_redemption(%s, 90.01)$$, :r1));
SELECT pg_temp.try(format($$SELECT plum.reverse_redemption(%s, 0)$$, :r1));
SELECT pg_temp.try(format($$SELECT plum.reverse_redemption(%s, 1.001)$$, :r1));
SELECT pg_temp.try($$SELECT plum.reverse_redemption(123456789)$$);
SELECT pg_temp.try($$SELECT plum.reverse_redemption(NULL)$$);
SELECT plum.reverse_redemption(:r1) AS restored_rest;
SELECT * FROM pg_temp.lots(:acme, 'alice@example.com');
SELECT pg_temp.try(format($$SELECT plum.reverse_redemption(%s)$$, :r1));
SELECT pg_temp.try(format($$SELECT plum.reverse_redemption(%s, 1)$$, :r1));

-- idempotency keys: a retry returns the first result and changes nothing; other arguments are refused
SELECT plum.redeem_points(:acme, 'alice@example.com', 10, 'order-2', 'key-1') AS r2 \gset
SELECT plum.redeem_points(:acme, 'alice@example.com', 10.00, 'order-2', 'key-1') = :r2 AS same_result;
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice_once;
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 11, 'order-2', 'key-1')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'bob@example.com', 10, 'order-2', 'key-1')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'alice@example.com', 10, NULL, 'key-1')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 10, 'order-2', '')$$, :acme));
SELECT plum.give_points(:boss, 'carol@example.com', 7, 'welcome', 'grant-carol') AS g1 \gset
SELECT plum.give_points(:boss, 'carol@example.com', 7, 'welcome', 'grant-carol') = :g1 AS same_lot;
SELECT plum.points_balance(:acme, 'carol@example.com') AS carol_once;
SELECT plum.reverse_redemption(:r2, 4, 'rev-1') AS restored;
SELECT plum.reverse_redemption(:r2, 4, 'rev-1') AS restored_again;
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice;
SELECT pg_temp.try(format($$SELECT plum.reverse_redemption(%s, 5, 'rev-1')$$, :r2));
-- keys are per company: the same key in another company is another key
SELECT plum.give_points(:yboss, 'alice@example.com', 100, NULL, 'key-1') > 0 AS other_company_key;

-- exact expiry: a lot stops counting at its expires_at, with or without a sweep
SET plum.now = '2027-01-01 08:59:59.999999+00';
SELECT plum.points_balance(:acme, 'alice@example.com') AS just_before_expiry;
SET plum.now = '2027-01-01 09:00:00+00';
SELECT plum.points_balance(:acme, 'alice@example.com') AS at_expiry;
SELECT balance, next_expiry FROM plum.wallets WHERE company_id = :acme AND recipient = 'alice@example.com';
SELECT * FROM pg_temp.lots(:acme, 'alice@example.com');
-- an expired lot is never consumed; the redemption drops it and records the breakage
SET plum.now = '2027-01-15 09:00:00+00';
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'alice@example.com', 75.26)$$, :acme));
SELECT plum.redeem_points(:acme, 'alice@example.com', 40) AS r3 \gset
SELECT kind, amount FROM plum.ledger WHERE company_id = :acme AND at = '2027-01-15 09:00:00+00' ORDER BY entry_id;
SELECT * FROM pg_temp.lots(:acme, 'alice@example.com');

-- the sweep: records breakage once, is idempotent
SET plum.now = '2027-02-01 09:00:00+00';
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice;
SELECT plum.expire_points() AS expired_now;
SELECT plum.expire_points() AS expired_again;
SELECT currency, recipient, amount FROM plum.ledger WHERE kind = 'expire' AND at = '2027-02-01 09:00:00+00' ORDER BY currency, recipient;

-- reversing into a lot that has expired since: the points come back as breakage
SET plum.now = '2027-03-05 09:00:00+00';
SELECT plum.reverse_redemption(:r3) AS restored;
SELECT kind, amount FROM plum.ledger WHERE at = '2027-03-05 09:00:00+00' ORDER BY entry_id;
SELECT plum.points_balance(:acme, 'alice@example.com') AS alice;

-- give_points_bulk: all or nothing, one lot per recipient per call
SET plum.now = '2027-04-01 09:00:00+00';
SELECT plum.give_points_bulk(:boss, '{d1@example.com,d2@example.com,D1@Example.com,+447700900123}', '{1,2,3,4.5}', 'bulk') AS grants;
SELECT recipient, balance FROM plum.wallets WHERE recipient IN ('d1@example.com', 'd2@example.com', '+447700900123') ORDER BY recipient;
SELECT count(*) AS d1_lots FROM plum.point_lots WHERE recipient = 'd1@example.com';
SELECT plum.give_points_bulk(:boss, '{}', '{}') AS no_grants;
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,b@example.com}', '{1}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,NULL}', '{1,2}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,b@example.com}', '{1,NULL}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,b@example.com}', '{1,2.001}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,b@example.com}', '{1,-2}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,b@example.com}', '{1,60000}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, '{a@example.com,b@example.com}', '{60,50}')$$, :small));
SELECT pg_temp.try(format($$SELECT plum.give_points_bulk(%s, NULL, '{1}')$$, :boss));
SELECT pg_temp.try($$SELECT plum.give_points_bulk(99999, '{a@example.com}', '{1}')$$);
SELECT count(*) AS no_wallet_for_a FROM plum_internal.account WHERE recipient = 'a@example.com';

-- the ledger and the books
SELECT kind, count(*), sum(amount) FROM plum.ledger WHERE company_id = :acme GROUP BY kind ORDER BY kind;
SELECT email, created, pool FROM plum.admins WHERE company_id = :acme ORDER BY admin_id;
SELECT * FROM plum.verify();
SELECT * FROM plum.verify(:acme);
-- no function moves points between recipients
SELECT count(*) AS transfer_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname IN ('plum', 'plum_internal') AND p.proname ~ 'transfer|move';
RESET plum.now;
