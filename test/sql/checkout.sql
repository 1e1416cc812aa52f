-- Vouchers and checkout: create_voucher, validate_voucher (every restriction), checkout (voucher,
-- codes, points, due; all or nothing), refund (reverse order, partial), idempotency, plum.orders,
-- verify().  Codes are random: the test never prints one; each issued code gets a number n in
-- pg_temp.k, results show it as #n and error details show <code>.
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
CREATE FUNCTION pg_temp.issue(a bigint, camp bigint, d numeric, cnt integer) RETURNS text LANGUAGE sql AS $$
	WITH i AS (SELECT c, row_number() OVER () AS r FROM plum.issue_codes(a, camp, d, cnt) AS c),
	ins AS (INSERT INTO pg_temp.k SELECT (SELECT coalesce(max(n), 0) FROM pg_temp.k) + i.r, i.c FROM i RETURNING n)
	SELECT format('codes %s to %s', min(n), max(n)) FROM ins
$$;
CREATE FUNCTION pg_temp.ks(VARIADIC ns integer[]) RETURNS plum.code[] LANGUAGE sql AS $$
	SELECT array_agg(k.c ORDER BY u.i) FROM unnest(ns) WITH ORDINALITY AS u(n, i) JOIN pg_temp.k USING (n)
$$;
-- a code as #n in checkout's and refund's rows
CREATE FUNCTION pg_temp.shown(instrument text, ref text) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN instrument = 'code' THEN (SELECT '#' || k.n FROM pg_temp.k WHERE k.c = ref::plum.code) ELSE ref END
$$;
CREATE FUNCTION pg_temp.co(company bigint, ref text, cart jsonb, who plum.recipient DEFAULT NULL, voucher text DEFAULT NULL,
		ns integer[] DEFAULT NULL, points numeric DEFAULT NULL, key text DEFAULT NULL)
	RETURNS TABLE(instrument text, ref text, amount numeric) LANGUAGE sql AS $$
	SELECT c.instrument, pg_temp.shown(c.instrument, c.ref), c.amount
	FROM plum.checkout(company, ref, cart, who, voucher, CASE WHEN ns IS NOT NULL THEN coalesce(pg_temp.ks(VARIADIC ns), '{}') END,
		points, key) AS c
$$;
CREATE FUNCTION pg_temp.rf(company bigint, ref text, amount numeric DEFAULT NULL, key text DEFAULT NULL)
	RETURNS TABLE(instrument text, ref text, amount numeric) LANGUAGE sql AS $$
	SELECT r.instrument, pg_temp.shown(r.instrument, r.ref), r.amount FROM plum.refund(company, ref, amount, key) AS r
$$;
-- what checkout and refund can change, to show that a refused call changed nothing
CREATE FUNCTION pg_temp.snapshot() RETURNS text LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(format('%s:%s:%s', o.order_ref, o.refunded, o.state), ',' ORDER BY o.order_id) FROM plum.orders o),
		(SELECT string_agg(format('%s:%s', v.code, v.uses), ',' ORDER BY v.voucher_id) FROM plum.vouchers v),
		(SELECT string_agg(c.balance::text, ',' ORDER BY c.code) FROM plum.codes c),
		(SELECT string_agg(w.balance::text, ',' ORDER BY w.recipient::text) FROM plum.wallets w),
		(SELECT count(*)::text FROM plum.ledger)))
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-03-01 12:00:00+00';

SELECT plum.create_company('Shop', 'USD') AS shop \gset
SELECT plum.create_company('Yen Co', 'JPY', code_denominations => '{500,1000}') AS yen \gset
SELECT plum.add_admin(:shop, 'boss@shop.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:yen, 'boss@yen.test', 'super_admin', 100000) AS yboss \gset
SELECT plum.create_points(:boss, 20000);
SELECT plum.create_points(:yboss, 50000);
SELECT plum.give_points(:boss, 'alice@shop.test', 100);
SELECT plum.give_points(:boss, 'bob@shop.test', 30);
SELECT plum.create_campaign(:boss, 'Gift', 'codes') AS gift \gset
SELECT plum.create_campaign(:boss, 'Short', 'codes', '2026-03-05 00:00:00+00') AS short \gset
SELECT plum.create_campaign(:yboss, 'Yen gift', 'codes') AS ygift \gset
SELECT pg_temp.issue(:boss, :gift, 50, 6);    -- 1..6
SELECT pg_temp.issue(:boss, :short, 10, 2);   -- 7, 8
SELECT pg_temp.issue(:yboss, :ygift, 500, 1); -- 9
SELECT plum.mark_codes_distributed(pg_temp.ks(1, 2, 3, 4, 5, 6, 7, 8));

\set cart '{"lines": [{"sku": "A1", "category": "food", "amount": 60}, {"sku": "B2", "category": "Alcohol", "amount": 40}], "vendor": "Acme", "location": "Paris"}'

-- create_voucher: codes case-insensitive, stored upper-case, unique in the company
SELECT plum.create_voucher(:boss, 'spring-10', 'percent', 10) AS v_spring \gset
SELECT code, kind, value, uses FROM plum.vouchers WHERE voucher_id = :v_spring;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'SPRING-10', 'amount', 5)$$, :boss)) AS duplicate;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'Spring-10', 'amount', 5)$$, :yboss)) AS same_code_other_company;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AB', 'amount', 5)$$, :boss)) AS too_short;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, repeat('A', 33), 'amount', 5)$$, :boss)) AS too_long;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'NO SPACE', 'amount', 5)$$, :boss)) AS bad_char;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'ÉTÉ', 'amount', 5)$$, :boss)) AS not_ascii;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, NULL, 'amount', 5)$$, :boss)) AS null_code;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'KIND', 'bogof', 5)$$, :boss)) AS bad_kind;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'PCT', 'percent', 0)$$, :boss)) AS percent_zero;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'PCT', 'percent', 100.5)$$, :boss)) AS percent_over_100;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'PCT', 'percent', 'NaN')$$, :boss)) AS percent_nan;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5.001)$$, :boss)) AS amount_decimals;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', -5)$$, :boss)) AS amount_negative;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5, '2026-04-01', '2026-03-01')$$, :boss)) AS dates_reversed;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5, min_purchase => 0)$$, :boss)) AS min_purchase_zero;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5, vendors => '{}')$$, :boss)) AS no_vendor;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5, locations => '{Paris, NULL}')$$, :boss)) AS null_location;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5, blackouts => ARRAY['empty'::tstzrange])$$, :boss)) AS empty_blackout;
SELECT pg_temp.try(format($$SELECT plum.create_voucher(%s, 'AMT', 'amount', 5, uses_per_customer => 0)$$, :boss)) AS zero_uses;
SELECT pg_temp.try($$SELECT plum.create_voucher(999, 'AMT', 'amount', 5)$$) AS unknown_admin;
SELECT count(*) AS vouchers FROM plum.vouchers;

-- validate_voucher: every restriction, one row each, in SPEC's order
SELECT plum.create_voucher(:boss, 'big', 'amount', 30, starts_at => '2026-02-01', expires_at => '2026-12-31',
	min_purchase => 50, max_discount => 25, exclude_categories => '{alcohol, Tobacco}', vendors => '{acme, Globex}',
	locations => '{paris}', blackouts => ARRAY[tstzrange('2026-03-10', '2026-03-11'), tstzrange('2026-12-24', '2026-12-26')],
	uses_per_customer => 1, total_uses => 3) AS v_big \gset
SELECT * FROM plum.validate_voucher(:shop, 'BIG', :'cart', 'alice@shop.test');
-- all fail at once (and uses_per_customer without a recipient)
SET plum.now = '2026-03-10 08:00:00+00';
SELECT * FROM plum.validate_voucher(:shop, 'big', '{"lines": [{"sku": "B2", "category": "ALCOHOL", "amount": 40}], "vendor": "Initech"}');
SET plum.now = '2026-01-15 00:00:00+00';
SELECT rule, ok, detail FROM plum.validate_voucher(:shop, 'big', :'cart', 'alice@shop.test') WHERE NOT ok;
SET plum.now = '2027-01-01 00:00:00+00';
SELECT rule, ok, detail FROM plum.validate_voucher(:shop, 'big', :'cart', 'alice@shop.test') WHERE NOT ok;
SET plum.now = '2026-03-01 12:00:00+00';
-- an unknown code (also one that cannot be a code, and another company's): the single row exists = false
SELECT * FROM plum.validate_voucher(:shop, 'NOPE', :'cart');
SELECT * FROM plum.validate_voucher(:shop, 'x', :'cart');
SELECT * FROM plum.validate_voucher(:yen, 'spring-10', '{"lines": [{"amount": 1000}]}');
-- the discount: percent rounded down, amount at most the eligible amount, then the cap
SELECT plum.create_voucher(:boss, 'THIRD', 'percent', 33.3333) AS v_third \gset
SELECT detail FROM plum.validate_voucher(:shop, 'third', '{"lines": [{"amount": 10.01}]}') WHERE rule = 'discount';
SELECT plum.create_voucher(:boss, 'FIVER', 'amount', 5) AS v_fiver \gset
SELECT detail FROM plum.validate_voucher(:shop, 'fiver', '{"lines": [{"amount": 3.50}]}') WHERE rule = 'discount';
SELECT detail FROM plum.validate_voucher(:shop, 'big', :'cart', 'carol@shop.test') WHERE rule IN ('min_purchase', 'discount');
SELECT detail FROM plum.validate_voucher(:shop, 'big', '{"lines": [{"category": "food", "amount": 100}], "vendor": " ACME ", "location": "PARIS"}', 'carol@shop.test')
	WHERE rule IN ('vendor', 'location', 'discount');
SELECT pg_temp.try(format($$SELECT * FROM plum.validate_voucher(%s, 'BIG', NULL)$$, :shop)) AS null_cart;
SELECT pg_temp.try($$SELECT * FROM plum.validate_voucher(999, 'BIG', '{"lines": [{"amount": 1}]}')$$) AS unknown_company;
SELECT pg_temp.try($$SELECT * FROM plum.validate_voucher(999, 'BIG', '{"lines": []}')$$) AS bad_cart_before_lookup;

-- malformed carts: 22023 naming the line, nothing changed
SELECT pg_temp.snapshot() AS before \gset
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'bad', %L)$$, :shop, c)) AS malformed
	FROM unnest(ARRAY['[]', '"cart"', '{}', '{"lines": null}', '{"lines": {"amount": 1}}', '{"lines": []}',
		'{"lines": [5]}', '{"lines": [{"sku": "A"}]}', '{"lines": [{"amount": "12.50"}]}', '{"lines": [{"amount": 0}]}',
		'{"lines": [{"amount": 10}, {"amount": -1}]}', '{"lines": [{"amount": 1.005}]}', '{"lines": [{"amount": 1, "sku": 7}]}',
		'{"lines": [{"amount": 1, "category": ["food"]}]}', '{"lines": [{"amount": 1}], "vendor": 3}',
		'{"lines": [{"amount": 1}], "location": {}}', '{"lines": [{"amount": 1e20}]}']) AS c;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'bad', NULL)$$, :shop)) AS null_cart;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'bad2', '{"lines": [{"amount": 5.5}]}')$$, :yen)) AS yen_decimals;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, NULL, '{"lines": [{"amount": 5}]}')$$, :shop)) AS null_order_ref;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, '', '{"lines": [{"amount": 5}]}')$$, :shop)) AS empty_order_ref;
SELECT pg_temp.try($$SELECT * FROM plum.checkout(999, 'o', '{"lines": [{"amount": 5}]}')$$) AS unknown_company;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'p', '{"lines": [{"amount": 5}]}', points => 5)$$, :shop)) AS points_without_recipient;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'p', '{"lines": [{"amount": 5}]}', 'alice@shop.test', points => 0)$$, :shop)) AS points_zero;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'p', '{"lines": [{"amount": 5}]}', 'alice@shop.test', points => 1.001)$$, :shop)) AS points_decimals;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'p', '{"lines": [{"amount": 5}]}', codes => ARRAY[NULL]::plum.code[])$$, :shop)) AS null_code;
SELECT pg_temp.snapshot() = :'before' AS nothing_changed;

-- a checkout with everything: voucher, two codes in the order given, points, due
SELECT * FROM pg_temp.co(:shop, 'order-1', '{"lines": [{"sku": "A1", "category": "food", "amount": 160}, {"sku": "B2", "category": "alcohol", "amount": 40}], "vendor": "acme", "location": "paris"}',
	'alice@shop.test', 'big', ARRAY[2, 1], 30);
SELECT order_ref, recipient, total, discount, codes, points, due, refunded, state, voucher FROM plum.orders;
SELECT n, balance, state FROM plum.codes JOIN pg_temp.k ON k.c = codes.code WHERE n IN (1, 2) ORDER BY n;
SELECT plum.points_balance(:shop, 'alice@shop.test') AS alice;
SELECT kind, amount, reference FROM plum.ledger WHERE reference = 'order-1' ORDER BY entry_id;
-- the codes cover what is left after the voucher: the second code is drained only as far as needed, points untouched
SELECT * FROM pg_temp.co(:shop, 'order-2', '{"lines": [{"amount": 70}]}', 'alice@shop.test', 'spring-10', ARRAY[3, 4, 5], 10);
SELECT n, balance FROM plum.codes JOIN pg_temp.k ON k.c = codes.code WHERE n IN (3, 4, 5) ORDER BY n;
-- a code given but not needed is checked and left alone; no voucher, points only partly needed
SELECT * FROM pg_temp.co(:shop, 'order-3', '{"lines": [{"amount": 12.5}]}', 'bob@shop.test', NULL, NULL, 20);
SELECT * FROM pg_temp.co(:shop, 'order-4', '{"lines": [{"amount": 5}]}', NULL, 'fiver', ARRAY[6]);
SELECT n, balance FROM plum.codes JOIN pg_temp.k ON k.c = codes.code WHERE n = 6;
-- due only
SELECT * FROM pg_temp.co(:shop, 'order-5', '{"lines": [{"amount": 9.99}]}');

-- refusals: each a SQLSTATE, nothing changed
SELECT pg_temp.snapshot() AS before \gset
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'order-1', '{"lines": [{"amount": 5}]}')$$, :shop)) AS second_checkout;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', %L, 'alice@shop.test', 'BIG')$$, :shop, :'cart')) AS voucher_used_by_customer;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', %L, NULL, 'BIG')$$, :shop, :'cart')) AS voucher_needs_recipient;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"category": "alcohol", "amount": 80}], "vendor": "nobody"}', 'dan@shop.test', 'BIG')$$, :shop)) AS voucher_fails_many;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 5}]}', NULL, 'NOPE')$$, :shop)) AS voucher_unknown;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 500}]}', NULL, 'big')$$, :yen)) AS voucher_of_other_company;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 5}]}', codes => %L)$$, :shop, pg_temp.ks(9))) AS code_of_other_company;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 500}]}', codes => %L)$$, :shop, pg_temp.ks(1, 2))) AS code_used_up;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 5}]}', codes => %L)$$, :shop, pg_temp.ks(6, 6))) AS code_twice;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 500}]}', 'alice@shop.test', points => 500)$$, :shop)) AS points_short;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 50}]}', 'nobody@shop.test', points => 1)$$, :shop)) AS no_wallet;
-- a failure after the voucher and codes were applied undoes them too
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 500}]}', 'carol@shop.test', 'spring-10', %L, 100)$$, :shop, pg_temp.ks(6))) AS all_or_nothing;
SET plum.now = '2026-03-06 00:00:00+00';
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'x1', '{"lines": [{"amount": 5}]}', codes => %L)$$, :shop, pg_temp.ks(6, 7))) AS code_expired;
SET plum.now = '2026-03-01 12:00:00+00';
SELECT pg_temp.snapshot() = :'before' AS nothing_changed;

-- idempotent replay: same key and arguments return the first rows; other arguments PU006
SELECT * FROM pg_temp.co(:shop, 'order-6', '{"lines": [{"amount": 20}]}', 'bob@shop.test', NULL, NULL, 5, 'key-6');
SELECT pg_temp.snapshot() AS before \gset
SELECT * FROM pg_temp.co(:shop, 'order-6', '{"lines": [{"amount": 20}]}', 'BOB@shop.test', NULL, NULL, 5, 'key-6');
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'order-6', '{"lines": [{"amount": 21}]}', 'bob@shop.test', points => 5, idempotency_key => 'key-6')$$, :shop)) AS other_arguments;
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'order-6', '{"lines": [{"amount": 20}]}', 'bob@shop.test', points => 5, idempotency_key => 'key-other')$$, :shop)) AS other_key;
SELECT pg_temp.snapshot() = :'before' AS nothing_changed;

-- refunds: reverse order of payment (due, points to their lots, codes last applied first), partial amounts
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'no-such-order')$$, :shop)) AS unknown_order;
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'order-1', 0)$$, :shop)) AS zero;
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'order-1', 1.001)$$, :shop)) AS decimals;
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'order-1', 1000)$$, :shop)) AS too_much;
SELECT pg_temp.try($$SELECT * FROM plum.refund(999, 'order-1')$$) AS unknown_company;
SELECT point_lots.amount, remaining, expires_at FROM plum.point_lots WHERE recipient = 'alice@shop.test';
SELECT * FROM pg_temp.rf(:shop, 'order-1', 10);
SELECT * FROM pg_temp.rf(:shop, 'order-1', 40, 'refund-key');
SELECT * FROM pg_temp.rf(:shop, 'order-1', 40, 'refund-key');
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'order-1', 41, 'refund-key')$$, :shop)) AS refund_key_other_amount;
SELECT order_ref, total, discount, codes, points, due, refunded, state FROM plum.orders WHERE order_ref = 'order-1';
SELECT point_lots.amount, remaining FROM plum.point_lots WHERE recipient = 'alice@shop.test';
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'order-1', 125.01)$$, :shop)) AS beyond_what_is_left;
SELECT uses FROM plum.vouchers WHERE code = 'BIG';
SELECT * FROM pg_temp.rf(:shop, 'order-1');
SELECT order_ref, refunded, state, refunded_at IS NOT NULL AS refunded_at FROM plum.orders WHERE order_ref = 'order-1';
SELECT n, balance, state FROM plum.codes JOIN pg_temp.k ON k.c = codes.code WHERE n IN (1, 2) ORDER BY n;
SELECT pg_temp.try(format($$SELECT * FROM plum.refund(%s, 'order-1')$$, :shop)) AS already_refunded;
-- the voucher's use was released: alice may use it again
SELECT uses FROM plum.vouchers WHERE code = 'BIG';
SELECT ok FROM plum.validate_voucher(:shop, 'BIG', :'cart', 'alice@shop.test') WHERE rule = 'uses_per_customer';
SELECT kind, amount, delta, balance_after FROM plum.ledger WHERE reference = 'order-1' OR redemption_id IN
	(SELECT redemption_id FROM plum_internal.order_payment p JOIN plum_internal.shop_order o USING (order_id) WHERE o.order_ref = 'order-1')
	ORDER BY entry_id;
-- a partial refund of an order paid by codes only goes to the last code first
SELECT * FROM pg_temp.rf(:shop, 'order-2', 30);
SELECT order_ref, refunded, state FROM plum.orders WHERE order_ref = 'order-2';
SELECT uses FROM plum.vouchers WHERE voucher_id = :v_spring;
-- a code refunded after its expiry gets the value back as already expired (breakage)
SELECT * FROM pg_temp.co(:shop, 'order-7', '{"lines": [{"amount": 4}]}', NULL, NULL, ARRAY[7]);
SET plum.now = '2026-03-06 00:00:00+00';
SELECT * FROM pg_temp.rf(:shop, 'order-7');
SELECT n, balance, state FROM plum.codes JOIN pg_temp.k ON k.c = codes.code WHERE n = 7;
SELECT kind, amount, balance_after FROM plum.ledger WHERE reference = 'order-7' ORDER BY entry_id;
SET plum.now = '2026-03-01 12:00:00+00';
-- an order wholly paid by the voucher: nothing to give back, the whole refund releases the voucher
SELECT plum.create_voucher(:boss, 'ALL-FREE', 'percent', 100, total_uses => 1) AS v_free \gset
SELECT * FROM pg_temp.co(:shop, 'order-8', '{"lines": [{"amount": 15}]}', NULL, 'all-free');
SELECT pg_temp.try(format($$SELECT * FROM plum.checkout(%s, 'order-9', '{"lines": [{"amount": 15}]}', NULL, 'all-free')$$, :shop)) AS total_uses_reached;
SELECT * FROM pg_temp.rf(:shop, 'order-8');
SELECT order_ref, refunded, state FROM plum.orders WHERE order_ref = 'order-8';
SELECT * FROM pg_temp.co(:shop, 'order-9', '{"lines": [{"amount": 15}]}', NULL, 'all-free');

-- points from a wallet holding an expired lot: the checkout records the expiry too, both rows
-- chained on the wallet (verify() below checks the chains)
SET plum.now = '2025-01-01 00:00:00+00';
SELECT plum.give_points(:boss, 'carol@shop.test', 7);
SET plum.now = '2025-06-01 00:00:00+00';
SELECT plum.give_points(:boss, 'carol@shop.test', 20);
SET plum.now = '2026-03-01 12:00:00+00';
SELECT * FROM pg_temp.co(:shop, 'order-10', '{"lines": [{"amount": 12.5}]}', 'carol@shop.test', NULL, NULL, 10);
SELECT kind, amount, reference FROM plum.ledger WHERE recipient = 'carol@shop.test' ORDER BY entry_id;
SELECT plum.points_balance(:shop, 'carol@shop.test');

-- another company: its own currency's decimals, its own vouchers
SELECT * FROM pg_temp.co(:yen, 'yen-1', '{"lines": [{"amount": 1500}]}', NULL, 'spring-10', ARRAY[9]);

SELECT company_id = :shop AS shop, order_ref, total, discount, codes, points, due, refunded, state, voucher FROM plum.orders ORDER BY order_id;
SELECT * FROM plum.verify();

-- verify() finds orders that do not add up and voucher uses that are off
UPDATE plum_internal.voucher SET uses = uses + 1 WHERE voucher_id = :v_spring;
UPDATE plum_internal.order_payment SET amount = amount + 1 WHERE instrument = 'due' AND order_id = (SELECT order_id FROM plum.orders WHERE order_ref = 'order-5');
SELECT check_name, detail FROM plum.verify();
