-- pgTAP: the points SQL surface of SPEC (names, argument order, return types, view columns, SQLSTATEs).
BEGIN;
SELECT plan(73);

-- functions, exactly as SPEC names them
SELECT has_function('plum', 'create_company', ARRAY['text', 'text', 'interval', 'numeric[]', 'numeric', 'interval']);
SELECT function_returns('plum', 'create_company', ARRAY['text', 'text', 'interval', 'numeric[]', 'numeric', 'interval'], 'bigint');
SELECT has_function('plum', 'add_admin', ARRAY['bigint', 'plum.recipient', 'text', 'numeric']);
SELECT function_returns('plum', 'add_admin', ARRAY['bigint', 'plum.recipient', 'text', 'numeric'], 'bigint');
SELECT has_function('plum', 'set_threshold', ARRAY['bigint', 'bigint', 'numeric']);
SELECT function_returns('plum', 'set_threshold', ARRAY['bigint', 'bigint', 'numeric'], 'void');
SELECT has_function('plum', 'create_points', ARRAY['bigint', 'numeric']);
SELECT function_returns('plum', 'create_points', ARRAY['bigint', 'numeric'], 'numeric');
SELECT has_function('plum', 'give_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text', 'bigint']);
SELECT function_returns('plum', 'give_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text', 'bigint'], 'bigint');
SELECT has_function('plum', 'give_points_bulk', ARRAY['bigint', 'plum.recipient[]', 'numeric[]', 'text', 'bigint']);
SELECT function_returns('plum', 'give_points_bulk', ARRAY['bigint', 'plum.recipient[]', 'numeric[]', 'text', 'bigint'], 'integer');
SELECT has_function('plum', 'redeem_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text']);
SELECT function_returns('plum', 'redeem_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text'], 'bigint');
SELECT has_function('plum', 'points_balance', ARRAY['bigint', 'plum.recipient']);
SELECT function_returns('plum', 'points_balance', ARRAY['bigint', 'plum.recipient'], 'numeric');
SELECT has_function('plum', 'reverse_redemption', ARRAY['bigint', 'numeric', 'text']);
SELECT function_returns('plum', 'reverse_redemption', ARRAY['bigint', 'numeric', 'text'], 'numeric');
SELECT has_function('plum', 'expire_points', ARRAY[]::text[]);
SELECT function_returns('plum', 'expire_points', ARRAY[]::text[], 'numeric');
SELECT has_function('plum', 'verify', ARRAY['bigint']);
SELECT is_definer('plum', 'redeem_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text']);
SELECT is_definer('plum', 'give_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text', 'bigint']);

-- argument names, so calls with named arguments work as SPEC writes them
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.redeem_points(bigint, plum.recipient, numeric, text, text)'::regprocedure),
	ARRAY['company_id', 'recipient', 'amount', 'reference', 'idempotency_key'], 'redeem_points argument names');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.give_points(bigint, plum.recipient, numeric, text, text, bigint)'::regprocedure),
	ARRAY['admin_id', 'recipient', 'amount', 'note', 'idempotency_key', 'campaign_id'], 'give_points argument names (campaign_id: 0.2.0)');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.create_company(text, text, interval, numeric[], numeric, interval)'::regprocedure),
	ARRAY['name', 'base_currency', 'points_validity', 'code_denominations', 'max_grant', 'tier_window'], 'create_company argument names');

-- types
SELECT has_type('plum', 'recipient', 'type plum.recipient');
SELECT has_type('plum', 'wallet', 'type plum.wallet');
SELECT has_type('plum', 'code', 'type plum.code');

-- views and their SPEC columns
SELECT has_view('plum', 'admins', 'view plum.admins');
SELECT columns_are('plum', 'admins', ARRAY['admin_id', 'company_id', 'email', 'role', 'threshold', 'created', 'pool', 'headroom', 'currency', 'created_at']);
SELECT has_view('plum', 'wallets', 'view plum.wallets');
SELECT has_column('plum', 'wallets', 'company_id', 'wallets.company_id');
SELECT has_column('plum', 'wallets', 'recipient', 'wallets.recipient');
SELECT has_column('plum', 'wallets', 'balance', 'wallets.balance');
SELECT has_column('plum', 'wallets', 'next_expiry', 'wallets.next_expiry');
SELECT has_view('plum', 'point_lots', 'view plum.point_lots');
SELECT columns_are('plum', 'point_lots', ARRAY['company_id', 'recipient', 'lot_id', 'issued_at', 'expires_at', 'amount', 'remaining', 'available_at']);
SELECT has_view('plum', 'ledger', 'view plum.ledger');
SELECT has_column('plum', 'ledger', 'entry_id', 'ledger.entry_id');
SELECT has_column('plum', 'ledger', 'company_id', 'ledger.company_id');
SELECT has_column('plum', 'ledger', 'at', 'ledger.at');
SELECT has_column('plum', 'ledger', 'kind', 'ledger.kind');
SELECT has_column('plum', 'ledger', 'amount', 'ledger.amount');
SELECT has_column('plum', 'ledger', 'admin_id', 'ledger.admin_id');
SELECT has_column('plum', 'ledger', 'recipient', 'ledger.recipient');

-- roles
SELECT has_role('plum_admin');
SELECT has_role('plum_app');
SELECT has_role('plum_reader');
SELECT is_member_of('plum_app', 'plum_admin');
SELECT is_member_of('plum_reader', 'plum_app');
SELECT function_privs_are('plum', 'redeem_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text'], 'plum_reader', ARRAY[]::text[]);
SELECT function_privs_are('plum', 'redeem_points', ARRAY['bigint', 'plum.recipient', 'numeric', 'text', 'text'], 'plum_app', ARRAY['EXECUTE']);
SELECT table_privs_are('plum_internal', 'journal', 'plum_app', ARRAY[]::text[]);

-- SQLSTATEs of SPEC, with a company to play with
SET LOCAL plum.now = '2026-01-01 00:00:00+00';
SELECT plum.create_company('TAP', 'USD') AS c \gset
SELECT plum.add_admin(:c, 'tap@plum.test', 'super_admin', 100) AS a \gset
SELECT plum.add_admin(:c, 'minor@plum.test', 'admin', 100) AS m \gset
SELECT plum.create_points(:a, 50);
SELECT lives_ok(format($$SELECT plum.give_points(%s, 'r@plum.test', 20)$$, :a), 'give_points');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, 'r@plum.test', 20.01)$$, :c), 'PU001', 'insufficient points', 'PU001 short balance');
SELECT throws_ok(format($$SELECT plum.give_points(%s, 'r@plum.test', 31)$$, :a), 'PU001', 'insufficient pool', 'PU001 short pool');
SELECT throws_ok(format($$SELECT plum.create_points(%s, 51)$$, :a), 'PU004', 'admin threshold exceeded', 'PU004 threshold');
SELECT throws_ok($$SELECT plum.redeem_points(987654, 'r@plum.test', 1)$$, 'PU005', 'unknown company', 'PU005 company');
SELECT throws_ok($$SELECT plum.reverse_redemption(987654)$$, 'PU005', 'unknown redemption', 'PU005 redemption');
SELECT lives_ok(format($$SELECT plum.redeem_points(%s, 'r@plum.test', 1, NULL, 'tap-key')$$, :c), 'keyed redemption');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, 'r@plum.test', 2, NULL, 'tap-key')$$, :c), 'PU006', 'idempotency key reused with other arguments', 'PU006');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, 'r@plum.test', 0)$$, :c), 'PU008', 'amount must be greater than zero', 'PU008 zero');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, 'r@plum.test', 'NaN')$$, :c), 'PU008', 'invalid amount', 'PU008 NaN');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, 'r@plum.test', 1.001)$$, :c), 'PU008', 'amount has too many decimal places', 'PU008 decimals');
SELECT throws_ok(format($$SELECT plum.give_points(%s, 'r@plum.test', 50000.01)$$, :a), 'PU008', 'amount exceeds the largest grant', 'PU008 largest grant');
SELECT throws_ok(format($$SELECT plum.set_threshold(%s, %s, 1)$$, :m, :a), 'PU009', 'only a super admin may change thresholds', 'PU009 threshold');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, NULL, 1)$$, :c), '22004', 'recipient must not be null', '22004 NULL');
SELECT throws_ok(format($$SELECT plum.redeem_points(%s, 'not a recipient', 1)$$, :c), '22P02', NULL, '22P02 malformed recipient');
SELECT throws_ok($$SELECT 'ABCD-EFGH-JKMN-Z'::plum.code$$, '22P02', NULL, '22P02 mistyped code');
SELECT throws_ok($$UPDATE plum_internal.journal SET amount = 0$$, 'PU009', 'the ledger is append-only', 'append-only ledger');
SELECT is(plum.points_balance(:c, 'R@plum.test'), 19.00, 'balance after one redemption');
SELECT is_empty('SELECT * FROM plum.verify()', 'verify() is clean');

SELECT * FROM finish();
ROLLBACK;
