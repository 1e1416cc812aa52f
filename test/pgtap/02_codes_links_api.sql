-- pgTAP: the campaigns, catalog, codes and links SQL surface of SPEC.
BEGIN;
SELECT plan(59);

SELECT has_function('plum', 'create_campaign', ARRAY['bigint', 'text', 'text', 'timestamp with time zone']);
SELECT function_returns('plum', 'create_campaign', ARRAY['bigint', 'text', 'text', 'timestamp with time zone'], 'bigint');
SELECT has_function('plum', 'add_item', ARRAY['bigint', 'text', 'text', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text']);
SELECT function_returns('plum', 'add_item', ARRAY['bigint', 'text', 'text', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text'], 'bigint');
SELECT has_function('plum', 'curate', ARRAY['bigint', 'boolean', 'bigint', 'text', 'text']);
SELECT function_returns('plum', 'curate', ARRAY['bigint', 'boolean', 'bigint', 'text', 'text'], 'void');
SELECT has_function('plum', 'campaign_catalog', ARRAY['bigint']);
SELECT function_returns('plum', 'campaign_catalog', ARRAY['bigint'], 'setof plum.catalog_item');
SELECT has_function('plum', 'issue_codes', ARRAY['bigint', 'bigint', 'numeric', 'integer']);
SELECT function_returns('plum', 'issue_codes', ARRAY['bigint', 'bigint', 'numeric', 'integer'], 'setof plum.code');
SELECT has_function('plum', 'code_balance', ARRAY['plum.code']);
SELECT function_returns('plum', 'code_balance', ARRAY['plum.code'], 'numeric');
SELECT has_function('plum', 'mark_codes_distributed', ARRAY['plum.code[]']);
SELECT function_returns('plum', 'mark_codes_distributed', ARRAY['plum.code[]'], 'integer');
SELECT has_function('plum', 'redeem_codes', ARRAY['plum.code[]', 'numeric', 'bigint', 'text', 'text']);
SELECT has_function('plum', 'cancel_codes', ARRAY['bigint', 'plum.code[]']);
SELECT function_returns('plum', 'cancel_codes', ARRAY['bigint', 'plum.code[]'], 'numeric');
SELECT has_function('plum', 'create_link', ARRAY['bigint', 'bigint', 'numeric', 'plum.recipient']);
SELECT function_returns('plum', 'create_link', ARRAY['bigint', 'bigint', 'numeric', 'plum.recipient'], 'text');
SELECT has_function('plum', 'redeem_link', ARRAY['text', 'bigint', 'text']);
SELECT function_returns('plum', 'redeem_link', ARRAY['text', 'bigint', 'text'], 'bigint');
SELECT has_function('plum', 'cancel_link', ARRAY['bigint', 'text']);
SELECT function_returns('plum', 'cancel_link', ARRAY['bigint', 'text'], 'void');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.redeem_codes(plum.code[], numeric, bigint, text, text)'::regprocedure),
	ARRAY['codes', 'amount', 'item_id', 'reference', 'idempotency_key', 'code', 'applied', 'remaining'], 'redeem_codes argument and column names');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text)'::regprocedure),
	ARRAY['company_id', 'kind', 'brand', 'name', 'category', 'price', 'min_value', 'max_value', 'vendor'], 'add_item argument names');

SELECT has_view('plum', 'codes', 'view plum.codes');
SELECT has_column('plum', 'codes', c, 'codes.' || c) FROM unnest(ARRAY['code', 'company_id', 'campaign_id', 'denomination', 'balance', 'state', 'expires_at']) c;
SELECT has_view('plum', 'links', 'view plum.links');
SELECT has_column('plum', 'links', c, 'links.' || c) FROM unnest(ARRAY['token', 'company_id', 'campaign_id', 'value', 'recipient', 'state', 'redeemed_at']) c;
SELECT has_view('plum', 'billing', 'view plum.billing');
SELECT has_column('plum', 'billing', c, 'billing.' || c) FROM unnest(ARRAY['company_id', 'at', 'kind', 'amount', 'reference']) c;

-- a small world: USD company, a codes campaign, a links campaign, two items
SET LOCAL plum.now = '2026-01-01 00:00:00+00';
SELECT plum.create_company('TAP', 'USD') AS c \gset
SELECT plum.add_admin(:c, 'tap@plum.test', 'super_admin', 10000) AS a \gset
SELECT plum.create_points(:a, 1000);
SELECT plum.create_campaign(:a, 'codes', 'codes', '2026-06-01 00:00:00+00') AS cc \gset
SELECT plum.create_campaign(:a, 'links', 'links') AS lc \gset
SELECT plum.add_item(:c, 'gift_card', 'B', 'Card 25', 'food', 25) AS item \gset
SELECT min(c::text) AS code1 FROM plum.issue_codes(:a, :cc, 50, 2) AS c \gset
SELECT plum.create_link(:a, :lc, 25) AS token \gset
SELECT throws_ok(format($$SELECT plum.issue_codes(%s, %s, 7, 1)$$, :a, :cc), 'PU008', NULL, 'PU008 not a denomination');
SELECT throws_ok(format($$SELECT plum.issue_codes(%s, %s, 50, 1)$$, :a, :lc), 'PU009', NULL, 'PU009 wrong campaign mode');
SELECT throws_ok(format($$SELECT * FROM plum.redeem_codes(ARRAY[%L]::plum.code[], 50.01)$$, :'code1'), 'PU001', NULL, 'PU001 codes short');
SELECT throws_ok(format($$SELECT * FROM plum.redeem_codes(ARRAY[%L, %L]::plum.code[], 1)$$, :'code1', :'code1'), '22023', NULL, 'duplicate codes refused');
SELECT throws_ok($$SELECT plum.code_balance('7K3M-Q9XA-2BCD-S')$$, 'PU005', NULL, 'PU005 unknown code');
SELECT is((SELECT remaining FROM plum.redeem_codes(ARRAY[:'code1']::plum.code[], 20)), 30.00, 'partial redemption leaves 30.00');
SELECT ok(plum.redeem_link(:'token', :item) > 0, 'redeem_link returns a billing id');
SELECT throws_ok(format($$SELECT plum.redeem_link(%L, %s)$$, :'token', :item), 'PU003', NULL, 'PU003 second redemption');
SELECT throws_ok(format($$SELECT plum.redeem_link('no-such-token', %s)$$, :item), 'PU005', NULL, 'PU005 unknown link');
SELECT is((SELECT count(*) FROM plum.billing WHERE company_id = :c), 1::bigint, 'one billing row');
SET LOCAL plum.now = '2026-06-01 00:00:00+00';
SELECT throws_ok(format($$SELECT * FROM plum.redeem_codes(ARRAY[%L]::plum.code[], 1)$$, :'code1'), 'PU002', NULL, 'PU002 expired code');
SELECT is_empty('SELECT * FROM plum.verify()', 'verify() is clean');

SELECT * FROM finish();
ROLLBACK;
