-- Scale-out on one shard (SPEC, "Scale-out"): plum.configure_shard's refusals, then the ids, codes
-- and link tokens of a configured shard carry it.  Codes and tokens are random: the test prints
-- only facts about them.  The extension is re-created at the end (a single server again).
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

-- refusals: not a superuser, bad numbers
SET ROLE plum_admin;
SELECT pg_temp.try('SELECT plum.configure_shard(1, 2)') AS not_superuser;
RESET ROLE;
SELECT pg_temp.try(format('SELECT plum.configure_shard(%L, %L)', s, n)) AS refused
FROM (VALUES (NULL, 2), (0, NULL), (0, 3), (0, 0), (0, 32), (2, 2), (-1, 4), (16, 16)) AS t(s, n);

-- a single server: nothing configured, ids count by one, codes have 13 symbols
SELECT count(*) AS configured FROM plum_internal.shard_config;

-- configure shard 3 of 4, twice (the same call again changes nothing), then another number: refused
SELECT plum.configure_shard(3, 4);
SELECT plum.configure_shard(3, 4);
SELECT pg_temp.try('SELECT plum.configure_shard(1, 4)') AS reconfigure;
SELECT shard, shards FROM plum_internal.shard_config;

-- every id carries the shard (id % 16 = 3)
SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Beta', 'EUR') AS beta \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.create_points(:boss, 10000);
SELECT plum.create_campaign(:boss, 'Codes', 'codes') AS codes \gset
SELECT plum.create_campaign(:boss, 'Links', 'links') AS links \gset
SELECT plum.add_item(:acme, 'gift_card', 'Brand', 'Card', 'books', 10) AS item \gset
SELECT plum.give_points(:boss, 'a@acme.test', 100, 'welcome') AS gift \gset
SELECT plum.redeem_points(:acme, 'a@acme.test', 30) AS redemption \gset
SELECT plum.create_voucher(:boss, 'SPRING-10', 'percent', 10) AS voucher \gset
SELECT plum.distribute(:boss, 'on_screen', 'session-1', 'You got {{amount}}', points => 5, recipient => 'b@acme.test') AS delivery \gset
SELECT * FROM plum.checkout(:acme, 'order-1', '{"lines": [{"amount": 50}]}', 'a@acme.test', 'SPRING-10', NULL, 10);
SELECT name, id, id % 16 AS shard FROM (VALUES ('company', :acme), ('company', :beta), ('admin', :boss),
	('campaign', :codes), ('campaign', :links), ('item', :item), ('gift', :gift), ('redemption', :redemption),
	('voucher', :voucher), ('delivery', :delivery),
	('order', (SELECT order_id FROM plum.orders WHERE order_ref = 'order-1'))) AS t(name, id);
SELECT count(*) AS ledger_rows, count(*) FILTER (WHERE entry_id % 16 = 3) AS on_shard_3 FROM plum.ledger;
SELECT count(*) AS lots, count(*) FILTER (WHERE lot_id % 16 = 3) AS on_shard_3 FROM plum.point_lots;
SELECT count(*) AS sequences, count(*) FILTER (WHERE increment_by = 16 AND coalesce(last_value, 3) % 16 = 3) AS on_shard_3
	FROM pg_sequences WHERE schemaname = 'plum_internal';

-- codes carry the shard in their 4 high bits: one symbol longer, grouped by four, check symbol last
CREATE TEMP TABLE c AS SELECT code FROM plum.issue_codes(:boss, :codes, 10, 200);
SELECT count(*) AS codes, count(*) FILTER (WHERE plum_internal.code_shard(code) = 3) AS shard_3,
	count(*) FILTER (WHERE code::text ~ '^3[0-9A-Z]{3}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]-[0-9A-Z*~$=U]$') AS shaped,
	count(*) FILTER (WHERE code::text::plum.code = code AND lower(replace(code::text, '-', ''))::plum.code = code) AS round_trip,
	count(DISTINCT code) AS distinct_codes
FROM c;
-- ... and redeem like any other code; a typo in one is caught
SELECT applied, remaining FROM plum.redeem_codes(ARRAY(SELECT code FROM c ORDER BY code LIMIT 1), 4);
SELECT left(pg_temp.try(format('SELECT %L::plum.code', overlay(code::text placing CASE WHEN substr(code::text, 6, 1) = 'A' THEN 'B' ELSE 'A' END from 6 for 1))), 5) AS typo
FROM c ORDER BY code LIMIT 1;

-- link tokens carry the shard in their first symbol (its base64url value's low 4 bits)
SELECT plum.create_link(:boss, :links, 10) AS token \gset
SELECT (strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', left(:'token', 1)) - 1) % 16 AS token_shard,
	length(:'token') AS token_length;
SELECT plum.redeem_link(:'token', :item) % 16 AS link_redemption_shard;
SELECT count(*) AS problems FROM plum.verify();

-- what the proxy calls: a plum function's rows as jsonb, a refusal as data (as plum_app too)
SELECT * FROM plum.shard_config();
SELECT * FROM plum.shard_call(3, 'plum.points_balance(bigint,plum.recipient)', ARRAY[:'acme', 'a@acme.test'], NULL);
SET ROLE plum_app;
SELECT * FROM plum.shard_call(3, 'plum.redeem_points(bigint,plum.recipient,numeric,text,text)', ARRAY[:'acme', 'a@acme.test', '1000', NULL, NULL], NULL);
SELECT * FROM plum.shard_call(7, 'plum.points_balance(bigint,plum.recipient)', ARRAY[:'acme', 'a@acme.test'], NULL);
SELECT * FROM plum.shard_call(1, 'plum.points_balance(bigint,plum.recipient)', ARRAY[:'acme', 'a@acme.test'], NULL);
SELECT * FROM plum.shard_call(3, 'plum.configure_shard(integer,integer)', ARRAY['1', '4'], NULL);
SELECT * FROM plum.shard_call(3, 'pg_catalog.now()', '{}', NULL);
SELECT v.j->>'name' AS name FROM plum.shard_view(3, 'companies', NULL) AS v(j) ORDER BY 1;
SELECT pg_temp.try('SELECT plum.shard_view(3, ''journal'', NULL)') AS not_a_view;
RESET ROLE;
SELECT count(*) > 40 AS functions, count(*) FILTER (WHERE c->>'kind' = 'view') > 10 AS views
	FROM plum.shard_catalog() c WHERE c->>'kind' <> 'type';

-- grants through the proxy reach every shard: another shard's company or admin is granted as is
-- (the role is then confined here, to nothing here); this shard's unknown ids are refused
CREATE ROLE plum_shard_test_role IN ROLE plum_app;
SELECT pg_temp.try('SELECT plum.grant_company(''plum_shard_test_role'', 17)') AS other_shard_company,
	pg_temp.try('SELECT plum.grant_admin(''plum_shard_test_role'', 33)') AS other_shard_admin,
	pg_temp.try('SELECT plum.grant_company(''plum_shard_test_role'', 99)') AS unknown_here;
SET ROLE plum_shard_test_role;
SELECT pg_temp.try(format('SELECT plum.points_balance(%s, ''a@acme.test'')', :acme)) AS confined;
SELECT count(*) AS wallets_seen FROM plum.wallets;
RESET ROLE;
SELECT plum.revoke_company('plum_shard_test_role', 17), plum.revoke_admin('plum_shard_test_role', 33);
DROP ROLE plum_shard_test_role;

-- shard 0 counts from 16; its codes keep 13 symbols
DROP TABLE c;
DROP EXTENSION plum;
CREATE EXTENSION plum;
SELECT plum.configure_shard(0, 2);
SELECT plum.create_company('Zero', 'USD') AS zero \gset
SELECT plum.add_admin(:zero, 'boss@zero.test', 'super_admin', 100000) AS zboss \gset
SELECT plum.create_points(:zboss, 1000);
SELECT plum.create_campaign(:zboss, 'Codes', 'codes') AS zcodes \gset
SELECT :zero AS company, :zboss AS admin, :zcodes AS campaign;
SELECT count(*) AS codes, count(*) FILTER (WHERE code::text ~ '^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]$') AS thirteen_symbols
FROM plum.issue_codes(:zboss, :zcodes, 10, 50);
-- configure_shard comes before any data
DROP EXTENSION plum;
CREATE EXTENSION plum;
SELECT plum.create_company('Early', 'USD') IS NOT NULL AS created;
SELECT pg_temp.try('SELECT plum.configure_shard(1, 2)') AS after_data;

-- a single server again
DROP EXTENSION plum;
CREATE EXTENSION plum;
