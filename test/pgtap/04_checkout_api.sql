-- pgTAP: the vouchers and checkout SQL surface of SPEC ("Vouchers and checkout", 0.2).
BEGIN;
SELECT plan(67);

SELECT has_function('plum', 'create_voucher', ARRAY['bigint', 'text', 'text', 'numeric', 'timestamp with time zone',
	'timestamp with time zone', 'numeric', 'numeric', 'text[]', 'text[]', 'text[]', 'tstzrange[]', 'integer', 'integer']);
SELECT function_returns('plum', 'create_voucher', ARRAY['bigint', 'text', 'text', 'numeric', 'timestamp with time zone',
	'timestamp with time zone', 'numeric', 'numeric', 'text[]', 'text[]', 'text[]', 'tstzrange[]', 'integer', 'integer'], 'bigint');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.create_voucher(bigint, text, text, numeric, timestamptz, timestamptz, numeric, numeric, text[], text[], text[], tstzrange[], integer, integer)'::regprocedure),
	ARRAY['admin_id', 'code', 'kind', 'value', 'starts_at', 'expires_at', 'min_purchase', 'max_discount', 'exclude_categories',
		'vendors', 'locations', 'blackouts', 'uses_per_customer', 'total_uses'], 'create_voucher argument names');
SELECT is((SELECT pronargdefaults FROM pg_proc WHERE oid = 'plum.create_voucher(bigint, text, text, numeric, timestamptz, timestamptz, numeric, numeric, text[], text[], text[], tstzrange[], integer, integer)'::regprocedure),
	10::smallint, 'create_voucher: the ten restrictions default to NULL');

SELECT has_function('plum', 'validate_voucher', ARRAY['bigint', 'text', 'jsonb', 'plum.recipient']);
SELECT function_returns('plum', 'validate_voucher', ARRAY['bigint', 'text', 'jsonb', 'plum.recipient'], 'setof record');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.validate_voucher(bigint, text, jsonb, plum.recipient)'::regprocedure),
	ARRAY['company_id', 'code', 'cart', 'recipient', 'rule', 'ok', 'detail'], 'validate_voucher argument and column names');
SELECT is((SELECT pg_get_function_result(oid) FROM pg_proc WHERE oid = 'plum.validate_voucher(bigint, text, jsonb, plum.recipient)'::regprocedure),
	'TABLE(rule text, ok boolean, detail text)', 'validate_voucher result columns');

SELECT has_function('plum', 'checkout', ARRAY['bigint', 'text', 'jsonb', 'plum.recipient', 'text', 'plum.code[]', 'numeric', 'text']);
SELECT function_returns('plum', 'checkout', ARRAY['bigint', 'text', 'jsonb', 'plum.recipient', 'text', 'plum.code[]', 'numeric', 'text'], 'setof record');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text)'::regprocedure),
	ARRAY['company_id', 'order_ref', 'cart', 'recipient', 'voucher', 'codes', 'points', 'idempotency_key', 'instrument', 'ref', 'amount'],
	'checkout argument and column names');
SELECT is((SELECT pg_get_function_result(oid) FROM pg_proc WHERE oid = 'plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text)'::regprocedure),
	'TABLE(instrument text, ref text, amount numeric)', 'checkout result columns');

SELECT has_function('plum', 'refund', ARRAY['bigint', 'text', 'numeric', 'text']);
SELECT function_returns('plum', 'refund', ARRAY['bigint', 'text', 'numeric', 'text'], 'setof record');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.refund(bigint, text, numeric, text)'::regprocedure),
	ARRAY['company_id', 'order_ref', 'amount', 'idempotency_key', 'instrument', 'ref', 'amount'], 'refund argument and column names');
SELECT is((SELECT pg_get_function_result(oid) FROM pg_proc WHERE oid = 'plum.refund(bigint, text, numeric, text)'::regprocedure),
	'TABLE(instrument text, ref text, amount numeric)', 'refund result columns');

SELECT has_view('plum', 'orders', 'view plum.orders');
SELECT has_column('plum', 'orders', c, 'orders.' || c)
	FROM unnest(ARRAY['company_id', 'order_ref', 'recipient', 'total', 'discount', 'codes', 'points', 'due', 'refunded', 'state', 'at']) c;
SELECT col_type_is('plum', 'orders', 'total', 'numeric', 'orders.total is numeric');
SELECT col_type_is('plum', 'orders', 'state', 'text', 'orders.state is text');

-- grants
SELECT ok(has_function_privilege('plum_app', 'plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text)', 'EXECUTE'), 'plum_app may checkout');
SELECT ok(has_function_privilege('plum_app', 'plum.refund(bigint, text, numeric, text)', 'EXECUTE'), 'plum_app may refund');
SELECT ok(has_function_privilege('plum_app', 'plum.validate_voucher(bigint, text, jsonb, plum.recipient)', 'EXECUTE'), 'plum_app may validate vouchers');
SELECT ok(has_function_privilege('plum_admin', 'plum.create_voucher(bigint, text, text, numeric, timestamptz, timestamptz, numeric, numeric, text[], text[], text[], tstzrange[], integer, integer)', 'EXECUTE'), 'plum_admin may create vouchers');
SELECT ok(NOT has_function_privilege('plum_reader', 'plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text)', 'EXECUTE'), 'plum_reader may not checkout');
SELECT ok(has_table_privilege('plum_reader', 'plum.orders', 'SELECT'), 'plum_reader reads plum.orders');

-- a small world: a shop, a voucher, codes, points
SET LOCAL plum.now = '2026-01-01 00:00:00+00';
SELECT plum.create_company('TAP shop', 'USD') AS c \gset
SELECT plum.create_company('TAP other', 'USD') AS c2 \gset
SELECT plum.add_admin(:c, 'tap@plum.test', 'super_admin', 10000) AS a \gset
SELECT plum.add_admin(:c2, 'tap2@plum.test', 'super_admin', 10000) AS a2 \gset
SELECT plum.create_points(:a, 1000);
SELECT plum.create_points(:a2, 1000);
SELECT plum.give_points(:a, 'tap@customer.test', 20);
SELECT plum.create_campaign(:a, 'codes', 'codes', '2026-06-01 00:00:00+00') AS cc \gset
SELECT plum.create_campaign(:a2, 'codes', 'codes') AS cc2 \gset
SELECT min(c::text) AS code1, max(c::text) AS code2 FROM plum.issue_codes(:a, :cc, 10, 2) AS c \gset
SELECT min(c::text) AS other_code FROM plum.issue_codes(:a2, :cc2, 10, 1) AS c \gset
SELECT ok(plum.create_voucher(:a, 'tap-5', 'amount', 5, min_purchase => 20, total_uses => 2) > 0, 'create_voucher returns an id');
SELECT throws_ok(format($$SELECT plum.create_voucher(%s, 'TAP-5', 'percent', 5)$$, :a), '23505', NULL, '23505 duplicate voucher code (case-insensitive)');
SELECT throws_ok(format($$SELECT plum.create_voucher(%s, 'x!', 'percent', 5)$$, :a), '22023', NULL, '22023 malformed voucher code');
SELECT throws_ok(format($$SELECT plum.create_voucher(%s, 'PCT', 'percent', 101)$$, :a), 'PU008', NULL, 'PU008 percent over 100');
SELECT is((SELECT code FROM plum.vouchers WHERE company_id = :c), 'TAP-5', 'codes are stored upper-case');
SELECT is((SELECT array_agg(rule ORDER BY n) FROM plum.validate_voucher(:c, 'tap-5', '{"lines": [{"amount": 30}]}') WITH ORDINALITY AS v(rule, ok, detail, n)),
	ARRAY['exists', 'started', 'not_expired', 'not_blackout', 'min_purchase', 'categories', 'vendor', 'location', 'uses_per_customer', 'total_uses', 'discount'],
	'validate_voucher: every rule, in SPEC''s order');
SELECT is((SELECT bool_and(ok) FROM plum.validate_voucher(:c, 'tap-5', '{"lines": [{"amount": 30}]}')), true, 'every rule ok');
SELECT is((SELECT array_agg(rule) FROM plum.validate_voucher(:c, 'tap-5', '{"lines": [{"amount": 19.99}]}') WHERE NOT ok), ARRAY['min_purchase'],
	'min_purchase fails below the minimum');
SELECT results_eq(format($$SELECT rule, ok FROM plum.validate_voucher(%s, 'nope', '{"lines": [{"amount": 1}]}')$$, :c),
	$$VALUES ('exists', false)$$, 'an unknown code: the single row exists = false');

SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '[]')$$, :c), '22023', NULL, '22023 cart not an object');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": []}')$$, :c), '22023', NULL, '22023 cart without lines');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": [{"amount": -1}]}')$$, :c), '22023', NULL, '22023 amount <= 0');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": [{"amount": 1.001}]}')$$, :c), '22023', NULL, '22023 too many decimals');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": [{"amount": 1}]}', points => 1)$$, :c), '22004', NULL, '22004 points without a recipient');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": [{"amount": 10}]}', 'tap@customer.test', 'tap-5')$$, :c), 'PU010', NULL, 'PU010 voucher does not apply');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": [{"amount": 50}]}', 'tap@customer.test', points => 50)$$, :c), 'PU001', NULL, 'PU001 wallet short');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o', '{"lines": [{"amount": 5}]}', codes => ARRAY[%L]::plum.code[])$$, :c, :'other_code'), 'PU009', NULL, 'PU009 another company''s code');
SELECT throws_ok($$SELECT * FROM plum.checkout(999999, 'o', '{"lines": [{"amount": 5}]}')$$, 'PU005', NULL, 'PU005 unknown company');

SELECT results_eq(
	format($$SELECT instrument, amount FROM plum.checkout(%s, 'tap-order', '{"lines": [{"amount": 40}]}', 'tap@customer.test', 'TAP-5', ARRAY[%L, %L]::plum.code[], 10, 'tap-key')$$,
		:c, :'code1', :'code2'),
	$$VALUES ('voucher', 5.00), ('code', 10.00), ('code', 10.00), ('points', 10.00), ('due', 5.00)$$,
	'checkout: voucher, codes in order, points, due');
SELECT results_eq(
	format($$SELECT instrument, amount FROM plum.checkout(%s, 'tap-order', '{"lines": [{"amount": 40}]}', 'tap@customer.test', 'TAP-5', ARRAY[%L, %L]::plum.code[], 10, 'tap-key')$$,
		:c, :'code1', :'code2'),
	$$VALUES ('voucher', 5.00), ('code', 10.00), ('code', 10.00), ('points', 10.00), ('due', 5.00)$$,
	'an idempotent replay returns the first rows');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'tap-order', '{"lines": [{"amount": 41}]}', idempotency_key => 'tap-key')$$, :c), 'PU006', NULL, 'PU006 same key, other arguments');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'tap-order', '{"lines": [{"amount": 40}]}')$$, :c), 'PU003', NULL, 'PU003 second checkout of an order');
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o2', '{"lines": [{"amount": 5}]}', codes => ARRAY[%L]::plum.code[])$$, :c, :'code1'), 'PU003', NULL, 'PU003 used-up code');
SELECT is((SELECT state FROM plum.orders WHERE order_ref = 'tap-order'), 'paid', 'the order is paid');

SELECT throws_ok(format($$SELECT * FROM plum.refund(%s, 'no-such-order')$$, :c), 'PU005', NULL, 'PU005 unknown order');
SELECT throws_ok(format($$SELECT * FROM plum.refund(%s, 'tap-order', 35.01)$$, :c), 'PU008', NULL, 'PU008 refund beyond what was paid');
SELECT results_eq(format($$SELECT instrument, amount FROM plum.refund(%s, 'tap-order', 12)$$, :c),
	$$VALUES ('due', 5.00), ('points', 7.00)$$, 'refund: due first, then points');
SELECT results_eq(format($$SELECT instrument, amount FROM plum.refund(%s, 'tap-order')$$, :c),
	$$VALUES ('points', 3.00), ('code', 10.00), ('code', 10.00)$$, 'refund the rest: points, then codes last applied first');
SELECT is((SELECT state FROM plum.orders WHERE order_ref = 'tap-order'), 'refunded', 'the order is refunded');
SET LOCAL plum.now = '2026-06-01 00:00:00+00';
SELECT throws_ok(format($$SELECT * FROM plum.checkout(%s, 'o3', '{"lines": [{"amount": 5}]}', codes => ARRAY[%L]::plum.code[])$$, :c, :'code1'), 'PU002', NULL, 'PU002 expired code');
SELECT is_empty(format('SELECT * FROM plum.verify(%s)', :c), 'verify() is clean');

SELECT * FROM finish();
ROLLBACK;
