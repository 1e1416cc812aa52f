-- Links: tokens, create (nothing billed, no pool touched), redeem whole for one catalog item
-- (billed then), cancel, curation, exact expiry, views, verify() and privileges.
-- Tokens are random: they are never printed (only their shape, counts and comparisons).
-- every feature test starts from an empty plum, so ids in messages are stable
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
-- what creating links must never change: pools, billing, points movements (created counts open and redeemed links: issue 9)
CREATE FUNCTION pg_temp.untouched() RETURNS TABLE(pools numeric, created numeric, billed bigint, value_movements bigint)
	LANGUAGE sql AS $$
	SELECT (SELECT sum(pool) FROM plum.admins), (SELECT sum(created) FROM plum.admins),
		(SELECT count(*) FROM plum.billing),
		(SELECT count(*) FROM plum_internal.journal WHERE kind NOT IN ('create', 'link_create'))
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Yen Co', 'JPY') AS yen \gset
SELECT plum.create_company('Rival', 'USD') AS rival \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 1000) AS boss \gset
SELECT plum.add_admin(:acme, 'clerk@acme.test', 'admin', 100) AS clerk \gset
SELECT plum.add_admin(:yen, 'boss@yen.test', 'super_admin', 10000) AS yboss \gset
SELECT plum.add_admin(:rival, 'boss@rival.test', 'super_admin', 1000) AS rboss \gset
SELECT plum.create_points(:boss, 100);
SELECT plum.create_campaign(:boss, 'Thank you', 'links', '2026-06-01 00:00:00+00') AS camp \gset
SELECT plum.create_campaign(:boss, 'Evergreen', 'links') AS open \gset
SELECT plum.create_campaign(:boss, 'Curated', 'links') AS cur \gset
SELECT plum.create_campaign(:boss, 'Vouchers', 'codes') AS codes \gset
SELECT plum.create_campaign(:yboss, 'Arigato', 'links') AS ycamp \gset
SELECT plum.create_campaign(:rboss, 'Rival links', 'links') AS rcamp \gset
SELECT plum.add_item(:acme, 'gift_card', 'Amazon', 'Amazon 25', 'shopping', price => 25) AS amazon \gset
SELECT plum.add_item(:acme, 'merchandise', 'Nike', 'Nike cap', 'sports', price => 30) AS nike \gset
SELECT plum.add_item(:acme, 'gift_card', 'Uber Eats', 'Uber Eats card', 'food', min_value => 5, max_value => 20) AS uber \gset
SELECT plum.add_item(:acme, 'charity', 'Red Cross', 'Donation', 'charity', min_value => 10, max_value => 100) AS charity \gset
SELECT plum.add_item(:acme, 'gift_card', 'Amazon', 'Amazon any', 'shopping', min_value => 1, max_value => 500) AS amazon_any \gset
SELECT plum.add_item(:acme, 'gift_card', 'Retired', 'Old card', 'shopping', price => 25) AS retired \gset
SELECT plum.set_item_active(:retired, false);
SELECT plum.add_item(:yen, 'gift_card', 'Rakuten', 'Rakuten 3000', 'shopping', price => 3000) AS rakuten \gset
SELECT plum.add_item(:rival, 'gift_card', 'Amazon', 'Amazon 25', 'shopping', price => 25) AS rival_amazon \gset

-- tokens: 32 characters of base64url from the CSPRNG, all distinct, every symbol in use
SELECT length(t) AS length, t ~ '^[A-Za-z0-9_-]{32}$' AS base64url
	FROM plum_internal.link_token() AS t;
SELECT count(*) AS tokens, count(DISTINCT t) AS distinct_tokens, bool_and(t ~ '^[A-Za-z0-9_-]{32}$') AS all_base64url,
		count(DISTINCT substr(t, 32, 1)) > 1 AS last_symbol_varies
	FROM (SELECT plum_internal.link_token() AS t FROM generate_series(1, 2000)) AS g;
SELECT count(DISTINCT s) AS symbols_used
	FROM (SELECT plum_internal.link_token() AS t FROM generate_series(1, 200)) AS g,
		LATERAL regexp_split_to_table(t, '') AS s;

-- creating links bills nothing and takes nothing from any pool
SELECT * FROM pg_temp.untouched();
SELECT plum.create_link(:boss, :camp, 25, 'Alice@Example.COM') AS tok_alice \gset
SELECT plum.create_link(:boss, :camp, 12.5) AS tok_anon \gset
SELECT plum.create_link(:clerk, :camp, 30) AS tok_nike \gset
SELECT plum.create_link(:boss, :open, 5) AS tok_min \gset
SELECT plum.create_link(:boss, :open, 20) AS tok_max \gset
SELECT plum.create_link(:boss, :open, 20.01) AS tok_over \gset
SELECT plum.create_link(:boss, :open, 25, '+1 (415) 555-0100') AS tok_cancel \gset
SELECT plum.create_link(:boss, :camp, 25) AS tok_late \gset
SELECT plum.create_link(:boss, :camp, 25) AS tok_expired \gset
SELECT plum.create_link(:yboss, :ycamp, 3000) AS tok_yen \gset
SELECT plum.create_link(:rboss, :rcamp, 25) AS tok_rival \gset
SELECT length(:'tok_alice') AS length, :'tok_alice' ~ '^[A-Za-z0-9_-]{32}$' AS base64url,
	:'tok_alice' <> :'tok_anon' AS distinct_tokens;
SELECT * FROM pg_temp.untouched();
SELECT pool, created FROM plum.admins WHERE admin_id = :boss;
-- one link_create row per link: value, creator, campaign, token, recipient
SELECT kind, amount, admin_id = :boss AS by_boss, campaign_id = :camp AS camp, recipient, reference, item_id
	FROM plum_internal.journal WHERE token = :'tok_alice';
SELECT kind, count(*), sum(amount) FROM plum_internal.journal WHERE kind LIKE 'link%' GROUP BY kind;
SELECT admin_id = :clerk AS by_clerk FROM plum_internal.journal WHERE token = :'tok_nike';
SELECT count(*) AS links, count(*) FILTER (WHERE recipient IS NULL) AS unaddressed FROM plum_internal.link;

-- bad creations change nothing
SELECT pg_temp.try(format($$SELECT plum.create_link(NULL, %s, 25)$$, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, NULL, 25)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, NULL)$$, :boss, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 0)$$, :boss, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, -5)$$, :boss, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 1.005)$$, :boss, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 'NaN')$$, :boss, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 'Infinity')$$, :boss, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 1.5)$$, :yboss, :ycamp));
SELECT pg_temp.try(format($$SELECT plum.create_link(777777, %s, 25)$$, :camp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, 777777, 25)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 25)$$, :boss, :rcamp));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 25)$$, :boss, :codes));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 25, 'alice@')$$, :boss, :camp));
SELECT count(*) AS links_unchanged FROM plum_internal.link;

-- redemption refusals: nothing changes
SELECT pg_temp.try(format($$SELECT plum.redeem_link(NULL, %s)$$, :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, NULL)$$, :'tok_alice'));
SELECT pg_temp.try(format($$SELECT plum.redeem_link('no-such-link-token-aaaaaaaaaaaaa', %s)$$, :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link('not even base64 %%?/', %s)$$, :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link('', %s)$$, :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, upper(:'tok_alice'), :amazon))
	WHERE upper(:'tok_alice') <> :'tok_alice';
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, ' ' || :'tok_alice', :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, 777777)$$, :'tok_alice'));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_alice', :rival_amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_alice', :retired));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_alice', :rakuten));
-- no partial use and no top-up: the item's value must be exactly the link's
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_alice', :nike));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_alice', :uber));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_nike', :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_over', :uber));
SELECT state, redeemed_at, item_id FROM plum.links WHERE token = :'tok_alice';
SELECT * FROM pg_temp.untouched();

-- a fixed-price item at exactly the link's value: billed in the same transaction
SET plum.now = '2026-02-01 10:00:00+00';
BEGIN;
SELECT plum.redeem_link(:'tok_alice', :amazon, 'order-1') AS b_alice \gset
SELECT count(*) AS billed_inside_the_transaction FROM plum.billing WHERE billing_id = :b_alice;
COMMIT;
SELECT company_id = :acme AS acme, at, kind, amount, reference, token = :'tok_alice' AS token,
		campaign_id = :camp AS camp, item_id = :amazon AS amazon, currency
	FROM plum.billing WHERE billing_id = :b_alice;
SELECT kind, amount, recipient, reference, item_id = :amazon AS amazon, campaign_id = :camp AS camp, admin_id
	FROM plum_internal.journal WHERE entry_id = :b_alice;
SELECT value, recipient, state, redeemed_at, item_id = :amazon AS amazon, reference, billing_id = :b_alice AS billing
	FROM plum.links WHERE token = :'tok_alice';
-- once only, whatever the item; a rolled-back redemption leaves the link active
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_alice', :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s, 'order-2')$$, :'tok_alice', :amazon_any));
BEGIN;
SELECT plum.redeem_link(:'tok_nike', :nike) > 0 AS redeemed;
ROLLBACK;
SELECT state, redeemed_at FROM plum.links WHERE token = :'tok_nike';
SELECT plum.redeem_link(:'tok_nike', :nike, 'order-3') AS b_nike \gset
SELECT :b_nike = max(entry_id) AS billing_is_the_last_entry, :b_nike > :b_alice AS after_alice FROM plum_internal.journal;

-- a flexible item whose range holds the link's value, bounds included
SELECT plum.redeem_link(:'tok_anon', :uber) > :b_alice AS redeemed;
SELECT plum.redeem_link(:'tok_min', :uber) > :b_alice AS redeemed;
SELECT plum.redeem_link(:'tok_max', :uber, 'max') > :b_alice AS redeemed;
SELECT plum.redeem_link(:'tok_over', :charity, 'over') > :b_alice AS redeemed;
SELECT plum.redeem_link(:'tok_yen', :rakuten, 'jp-1') > :b_alice AS redeemed;
SELECT value, state, item_id, reference FROM plum.links WHERE state = 'redeemed' ORDER BY billing_id;

-- cancellation: an admin of the link's company withdraws an active link
SELECT pg_temp.try(format($$SELECT plum.cancel_link(NULL, %L)$$, :'tok_cancel'));
SELECT pg_temp.try(format($$SELECT plum.cancel_link(%s, NULL)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.cancel_link(777777, %L)$$, :'tok_cancel'));
SELECT pg_temp.try(format($$SELECT plum.cancel_link(%s, 'no-such-link')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.cancel_link(%s, %L)$$, :rboss, :'tok_cancel'));
SELECT pg_temp.try(format($$SELECT plum.cancel_link(%s, %L)$$, :yboss, :'tok_cancel'));
SELECT pg_temp.try(format($$SELECT plum.cancel_link(%s, %L)$$, :boss, :'tok_alice'));
SELECT state FROM plum.links WHERE token = :'tok_cancel';
SET plum.now = '2026-02-02 08:00:00+00';
SELECT plum.cancel_link(:clerk, :'tok_cancel');
SELECT value, recipient, state, cancelled_at, redeemed_at, billing_id FROM plum.links WHERE token = :'tok_cancel';
SELECT kind, amount, admin_id = :clerk AS by_clerk, recipient, campaign_id = :open AS open
	FROM plum_internal.journal WHERE token = :'tok_cancel' ORDER BY entry_id;
SELECT pg_temp.try(format($$SELECT plum.cancel_link(%s, %L)$$, :boss, :'tok_cancel'));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_cancel', :amazon));
SELECT * FROM pg_temp.untouched();

-- curation: include rules restrict the catalog, exclude rules remove from it
SELECT plum.create_link(:boss, :cur, 25) AS c1 \gset
SELECT plum.create_link(:boss, :cur, 25) AS c2 \gset
SELECT plum.create_link(:boss, :cur, 30) AS c3 \gset
SELECT plum.create_link(:boss, :cur, 15) AS c4 \gset
SELECT plum.curate(:cur, true, brand => 'AMAZON');
SELECT plum.curate(:cur, true, category => 'food');
SELECT plum.curate(:cur, false, item_id => :amazon_any);
SELECT item_id = :amazon AS amazon, item_id = :uber AS uber FROM plum.campaign_catalog(:cur);
-- redeem_link's catalog check (C) agrees with plum_internal.in_catalog() on every item: a link
-- of 1.00 is created for each and redeemed in a subtransaction that is rolled back (the catalog
-- is checked before the value: an item the catalog holds is redeemed or refused for its value)
CREATE FUNCTION pg_temp.link_verdict(campaign bigint, admin bigint, item bigint) RETURNS text
	LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		PERFORM plum.redeem_link(plum.create_link(admin, campaign, 1), item);
		RAISE EXCEPTION 'redeemed';
	EXCEPTION WHEN OTHERS THEN
		RETURN CASE WHEN SQLERRM IN ('redeemed', 'item does not match the link''s value') THEN 'in'
			WHEN SQLERRM = 'item not in the campaign''s catalog' THEN 'out'
			ELSE SQLSTATE || ': ' || SQLERRM END;
	END;
END
$$;
SELECT i.item_id, i.company_id, i.active, i.brand, i.category, v.verdict,
		v.verdict = CASE WHEN plum_internal.in_catalog(:cur, i.item_id) THEN 'in' ELSE 'out' END AS agrees
	FROM plum_internal.item i, LATERAL (SELECT pg_temp.link_verdict(:cur, :boss, i.item_id) AS verdict) v
	ORDER BY i.item_id;
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'c3', :nike));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'c2', :amazon_any));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'c4', :charity));
SELECT plum.redeem_link(:'c1', :amazon) > 0 AS included_brand;
SELECT plum.redeem_link(:'c4', :uber) > 0 AS included_category;
SELECT plum.curate(:cur, false, brand => 'amazon');
SELECT i.item_id, i.company_id, i.active, i.brand, i.category, v.verdict,
		v.verdict = CASE WHEN plum_internal.in_catalog(:cur, i.item_id) THEN 'in' ELSE 'out' END AS agrees
	FROM plum_internal.item i, LATERAL (SELECT pg_temp.link_verdict(:cur, :boss, i.item_id) AS verdict) v
	ORDER BY i.item_id;
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'c2', :amazon));
SELECT plum.cancel_link(:boss, :'c3');

-- expiry is exact to the instant: the campaign expires at 2026-06-01 00:00 UTC
SET plum.now = '2026-05-31 23:59:59.999999+00';
SELECT state FROM plum.links WHERE token = :'tok_late';
SELECT plum.redeem_link(:'tok_late', :amazon, 'just in time') > 0 AS redeemed;
SET plum.now = '2026-06-01 00:00:00+00';
SELECT state FROM plum.links WHERE token IN (:'tok_expired', :'tok_late', :'tok_alice') ORDER BY redeemed_at NULLS FIRST;
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_expired', :amazon));
SELECT pg_temp.try(format($$SELECT plum.redeem_link(%L, %s)$$, :'tok_late', :amazon));
SELECT pg_temp.try(format($$SELECT plum.create_link(%s, %s, 25)$$, :boss, :camp));
-- an expired, never-redeemed link can still be withdrawn
SELECT plum.cancel_link(:boss, :'tok_expired');
SELECT state, cancelled_at FROM plum.links WHERE token = :'tok_expired';

-- the views: every link, what each company is billed
SELECT company_id, campaign_id, value, recipient, state, redeemed_at, created, cancelled_at, expires_at,
		item_id, reference, billing_id IS NOT NULL AS billed, admin_id, currency
	FROM plum.links ORDER BY created, company_id, campaign_id, value, state, redeemed_at, recipient;
SELECT company_id, at, kind, amount, reference, campaign_id, item_id, currency
	FROM plum.billing ORDER BY billing_id;
SELECT company_id, sum(amount) AS billed, count(*) AS redemptions FROM plum.billing GROUP BY company_id ORDER BY 1;
SELECT b.billing_id = l.billing_id AS same_id, b.amount = l.value AS same_amount
	FROM plum.billing b JOIN plum.links l USING (token) WHERE l.token = :'tok_max';
-- creating, redeeming and cancelling links never touched a pool
SELECT admin_id, pool, created FROM plum.admins ORDER BY admin_id;

-- verify(): consistent; then tamper as superuser inside a transaction and see it reported
SELECT * FROM plum.verify();
SELECT * FROM plum.verify(:acme);
SELECT * FROM plum_internal.verify_links();
BEGIN;
UPDATE plum_internal.link SET state = 'cancelled', cancelled_at = plum.now() WHERE token = :'tok_rival';
UPDATE plum_internal.link SET value = 26 WHERE token = :'c2';
INSERT INTO plum_internal.journal (company_id, at, kind, amount, token, item_id)
	VALUES (:acme, plum.now(), 'link_redeem', 99, :'tok_max', :uber);
SELECT company_id, check_name, replace(replace(replace(detail, :'tok_rival', '<rival>'), :'c2', '<c2>'), :'tok_max', '<max>') AS detail
	FROM plum.verify();
ROLLBACK;
SELECT * FROM plum.verify();

-- privileges: applications redeem, admins create and cancel, readers see the views
SELECT has_function_privilege('plum_app', 'plum.redeem_link(text, bigint, text)', 'EXECUTE') AS app_redeems,
	has_function_privilege('plum_app', 'plum.create_link(bigint, bigint, numeric, plum.recipient)', 'EXECUTE') AS app_creates,
	has_function_privilege('plum_app', 'plum.cancel_link(bigint, text)', 'EXECUTE') AS app_cancels,
	has_function_privilege('plum_admin', 'plum.create_link(bigint, bigint, numeric, plum.recipient)', 'EXECUTE') AS admin_creates,
	has_function_privilege('plum_admin', 'plum.cancel_link(bigint, text)', 'EXECUTE') AS admin_cancels,
	has_function_privilege('plum_reader', 'plum.redeem_link(text, bigint, text)', 'EXECUTE') AS reader_redeems,
	has_function_privilege('plum_admin', 'plum_internal.link_token()', 'EXECUTE') AS admin_draws_tokens,
	has_table_privilege('plum_reader', 'plum.links', 'SELECT') AS reader_links,
	has_table_privilege('plum_reader', 'plum.billing', 'SELECT') AS reader_billing,
	has_table_privilege('plum_admin', 'plum_internal.link', 'SELECT') AS admin_reads_table;
-- every function, table, view and column of this area is documented
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	WHERE c.oid IN ('plum_internal.link'::regclass, 'plum.links'::regclass, 'plum.billing'::regclass)
		AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL;
SELECT p.oid::regprocedure FROM pg_proc p
	WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND (p.proname LIKE '%link%')
		AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT count(*) AS link_functions FROM pg_proc p WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND p.proname LIKE '%link%';
