-- Rules written both in C and in SQL agree over their edge cases.
--   * in_catalog() and item_accepts() (sql/70_catalog.sql) are repeated in redeem_link's one read
--     (src/links.c, kept there so the hot path stays one statement): every campaign x item x value
--     below is refused by redeem_link exactly as the two SQL functions say.
--   * link_not_active(): redeem_link (C) calls it, cancel_link (SQL) too: same errors.
--   * lock_codes() (SQL) and redeem_codes' own locking read (src/codes.c) refuse the same lists
--     with the same errors.
--   * the kinds of ledger rows: the C list behind the journal's CHECK (src/chain.c ledger_kinds[])
--     and the SQL that classes rows by kind (holder_of(), verify_chains, plum.ledger) name the same.
-- every feature test starts from an empty plum, so ids in messages are stable
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
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(v_detail, ''), '');
END
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Rival', 'USD') AS rival \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:rival, 'boss@rival.test', 'super_admin', 1000) AS rboss \gset
SELECT plum.create_points(:boss, 1000);

-- items: a fixed price, a range, an inactive one, one of another company
SELECT plum.add_item(:acme, 'gift_card', 'Amazon', 'Amazon 25', 'Shopping', price => 25) AS amazon \gset
SELECT plum.add_item(:acme, 'gift_card', 'Uber Eats', 'Uber Eats card', 'food', min_value => 5, max_value => 20) AS uber \gset
SELECT plum.add_item(:acme, 'merchandise', 'NIKE', 'Nike cap', 'sports', price => 20) AS nike \gset
SELECT plum.add_item(:acme, 'gift_card', 'Retired', 'Old card', 'shopping', price => 25) AS retired \gset
SELECT plum.set_item_active(:retired, false);
SELECT plum.add_item(:rival, 'gift_card', 'Amazon', 'Amazon 25', 'shopping', price => 25) AS rival_amazon \gset

-- campaigns: no rules, include by item / brand / category (any case), exclude, include and exclude
CREATE TEMP TABLE camp (name text PRIMARY KEY, id bigint);
INSERT INTO camp SELECT 'open', plum.create_campaign(:boss, 'Open', 'links');
INSERT INTO camp SELECT 'include item', plum.create_campaign(:boss, 'Item', 'links');
INSERT INTO camp SELECT 'include brand', plum.create_campaign(:boss, 'Brand', 'links');
INSERT INTO camp SELECT 'include category', plum.create_campaign(:boss, 'Category', 'links');
INSERT INTO camp SELECT 'exclude brand', plum.create_campaign(:boss, 'No Nike', 'links');
INSERT INTO camp SELECT 'include and exclude', plum.create_campaign(:boss, 'Shopping but Amazon', 'links');
SELECT plum.curate(id, true, item_id => :uber) FROM camp WHERE name = 'include item';
SELECT plum.curate(id, true, brand => 'amazon') FROM camp WHERE name = 'include brand';
SELECT plum.curate(id, true, category => 'FOOD') FROM camp WHERE name = 'include category';
SELECT plum.curate(id, false, brand => 'Nike') FROM camp WHERE name = 'exclude brand';
SELECT plum.curate(id, true, category => 'shopping') FROM camp WHERE name = 'include and exclude';
SELECT plum.curate(id, false, item_id => :amazon) FROM camp WHERE name = 'include and exclude';

CREATE TEMP TABLE item (name text PRIMARY KEY, id bigint);
INSERT INTO item VALUES ('amazon', :amazon), ('uber', :uber), ('nike', :nike), ('retired', :retired),
	('rival amazon', :rival_amazon), ('unknown', 999999);

-- one fresh link per campaign x item x value (the range's bounds, just outside them, the price)
CREATE TEMP TABLE c AS
	SELECT camp.name AS campaign, camp.id AS campaign_id, item.name AS item, item.id AS item_id, v.value,
		plum.create_link(:boss, camp.id, v.value) AS token
	FROM camp, item, (VALUES (4.99), (5), (20), (20.01), (25)) AS v(value);
ALTER TABLE c ADD COLUMN in_catalog boolean, ADD COLUMN accepts boolean, ADD COLUMN outcome text;
UPDATE c SET in_catalog = plum_internal.in_catalog(campaign_id, item_id), accepts = plum_internal.item_accepts(item_id, value);
UPDATE c SET outcome = pg_temp.try(format('SELECT plum.redeem_link(%L, %s)', token, item_id));

-- what redeem_link says, by what the SQL rules say: every row must agree
SELECT in_catalog, accepts, split_part(outcome, ' | ', 1) AS redeem_link, count(*) AS cases
	FROM c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) AS disagreements
	FROM c
	WHERE split_part(outcome, ' | ', 1) IS DISTINCT FROM
		CASE WHEN item = 'unknown' THEN 'PU005: unknown item'
			WHEN NOT in_catalog THEN 'PU007: item not in the campaign''s catalog'
			WHEN NOT accepts THEN 'PU007: item does not match the link''s value'
			ELSE 'ok' END;
-- each campaign's catalog, as the SQL rule has it
SELECT campaign, string_agg(DISTINCT item, ', ' ORDER BY item) AS in_catalog
	FROM c WHERE in_catalog GROUP BY campaign ORDER BY campaign;

-- link_not_active(): the same errors from redeem_link (C) and cancel_link (SQL)
SELECT token AS redeemed FROM c WHERE outcome = 'ok' LIMIT 1 \gset
SELECT plum.create_link(:boss, id, 25) AS cancelled FROM camp WHERE name = 'open' \gset
SELECT plum.cancel_link(:boss, :'cancelled');
SELECT pg_temp.try(format('SELECT plum.redeem_link(%L, %s)', :'redeemed', :amazon)) AS redeem_link,
	pg_temp.try(format('SELECT plum.cancel_link(%s, %L)', :boss, :'redeemed')) AS cancel_link;
SELECT pg_temp.try(format('SELECT plum.redeem_link(%L, %s)', :'cancelled', :amazon)) AS redeem_link,
	pg_temp.try(format('SELECT plum.cancel_link(%s, %L)', :boss, :'cancelled')) AS cancel_link;
SELECT pg_temp.try(format('SELECT plum.redeem_link(%L, %s)', :'redeemed', :amazon)) =
	pg_temp.try(format('SELECT plum.cancel_link(%s, %L)', :boss, :'redeemed')) AS same_redeemed,
	pg_temp.try(format('SELECT plum.redeem_link(%L, %s)', :'cancelled', :amazon)) =
	pg_temp.try(format('SELECT plum.cancel_link(%s, %L)', :boss, :'cancelled')) AS same_cancelled;

-- lock_codes() and redeem_codes(): the same refusals of the same lists, in the same order
SELECT plum.create_campaign(:boss, 'Vouchers', 'codes') AS vouchers \gset
CREATE TEMP TABLE k AS SELECT row_number() OVER () AS n, c FROM plum.issue_codes(:boss, :vouchers, 10, 3) AS c;
SELECT (SELECT c FROM k WHERE n = 1) AS a, (SELECT c FROM k WHERE n = 2) AS b, plum_internal.code_random() AS unknown \gset
CREATE TEMP TABLE lists (label text, codes text);
INSERT INTO lists VALUES
	('null list', 'NULL'),
	('empty list', '''{}''::plum.code[]'),
	('a null code', format('ARRAY[%L, NULL]::plum.code[]', :'a')),
	('a code twice', format('ARRAY[%L, %L, %L]::plum.code[]', :'a', :'b', :'a')),
	('unknown code', format('ARRAY[%L, %L]::plum.code[]', :'a', :'unknown')),
	('unknown before a twice', format('ARRAY[%L, %L, %L]::plum.code[]', :'unknown', :'b', :'b')),
	('two dimensions', format('ARRAY[[%L], [%L]]::plum.code[]', :'a', :'b'));
SELECT label, split_part(l, ' | ', 1) AS lock_codes, l = r AS same_error
	FROM lists,
		LATERAL pg_temp.try(format('SELECT plum_internal.lock_codes(%s)', codes)) AS l,
		LATERAL pg_temp.try(format('SELECT plum.redeem_codes(%s, 1)', codes)) AS r
	ORDER BY label;

-- The ledger's kinds: the C list that checks journal.kind (src/chain.c ledger_kinds[], behind
-- plum_internal.ledger_kind_valid) against the SQL that classes rows by kind: whose hash chain a
-- row is in (plum_internal.holder_of() and verify_chains' own classes) and whose value it moves
-- (plum.ledger's holder and delta).  A kind added in one place only shows here.
\getenv abs_srcdir PG_ABS_SRCDIR
\set chain_c :abs_srcdir '/../src/chain.c'
\set chain_src `cat :'chain_c'`
CREATE TEMP TABLE c_kind AS
	SELECT m[1] AS kind
	FROM regexp_matches(substring(:'chain_src' FROM 'ledger_kinds\[\] = \{([^}]*)\}'), '"([^"]*)"', 'g') AS m;
-- the C list as read, and ledger_kind_valid() accepts each of them
SELECT count(*) AS c_kinds, bool_and(plum_internal.ledger_kind_valid(kind)) AS all_accepted FROM c_kind;
-- each SQL place: the kinds its kind IN (...) lists name that the C list lacks (none), and the C
-- kinds it names nowhere (neither listed nor matched by a LIKE pattern: its ELSE branch)
CREATE TEMP TABLE sql_def AS
	SELECT 'holder_of' AS place, pg_get_functiondef('plum_internal.holder_of(text, bigint, plum.recipient, plum.code, text)'::regprocedure) AS def
	UNION ALL SELECT 'verify_chains', pg_get_functiondef('plum_internal.verify_chains(bigint)'::regprocedure)
	UNION ALL SELECT 'plum.ledger', pg_get_viewdef('plum.ledger'::regclass);
CREATE TEMP TABLE sql_kind AS
	SELECT DISTINCT d.place, k[1] AS kind
	FROM sql_def d, regexp_matches(d.def, 'kind = ANY \(ARRAY\[([^]]*)\]', 'g') AS l, regexp_matches(l[1], '''([^'']*)''', 'g') AS k;
CREATE TEMP TABLE sql_pattern AS
	SELECT DISTINCT d.place, p[1] AS pattern FROM sql_def d, regexp_matches(d.def, 'kind ~~ ''([^'']*)''', 'g') AS p;
SELECT d.place,
	(SELECT string_agg(s.kind, ', ' ORDER BY s.kind) FROM sql_kind s WHERE s.place = d.place AND s.kind NOT IN (SELECT kind FROM c_kind)) AS not_in_c,
	(SELECT string_agg(c.kind, ', ' ORDER BY c.kind) FROM c_kind c
		WHERE NOT EXISTS (SELECT FROM sql_kind s WHERE s.place = d.place AND s.kind = c.kind)
			AND NOT EXISTS (SELECT FROM sql_pattern p WHERE p.place = d.place AND c.kind LIKE p.pattern)) AS only_by_else
	FROM (SELECT DISTINCT place FROM sql_def) d ORDER BY d.place;
-- one row of every C kind in a company of its own, each chained to its holder as holder_of() names
-- it: plum.ledger classes each row, and verify_chains finds every chain whole (only its fake
-- holders unknown: one per class), which it does only if its classes are holder_of()'s
BEGIN;
SELECT plum.create_company('Kinds', 'USD') AS kinds \gset
INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, code, token, hash)
	SELECT e.entry_id, e.company_id, e.at, e.kind, 1, e.admin_id, e.recipient, e.code, e.token,
		plum_internal.entry_chain(NULL, e.entry_id, e.company_id, e.at, e.kind, 1, e.admin_id, e.recipient, NULL, NULL,
			NULL, NULL, NULL, NULL, NULL, NULL, e.code, e.token, NULL)
			OVER (PARTITION BY plum_internal.holder_of(e.kind, e.admin_id, e.recipient, e.code, e.token) ORDER BY e.entry_id)
	FROM (SELECT nextval('plum_internal.journal_entry_id_seq') AS entry_id, x.*
		FROM (SELECT c.kind, :kinds::bigint AS company_id, plum.now() AS at, 999999::bigint AS admin_id,
				'kinds@rules.test'::plum.recipient AS recipient, (SELECT plum_internal.code_random()) AS code, 'kinds-token' AS token
			FROM c_kind c ORDER BY c.kind) AS x) AS e;
SELECT l.kind, split_part(plum_internal.holder_of(j.kind, j.admin_id, j.recipient, j.code, j.token), ' ', 1) AS chain,
		l.holder AS ledger_holder, sign(l.delta) AS delta_sign
	FROM plum.ledger l JOIN plum_internal.journal j USING (entry_id) WHERE l.company_id = :kinds ORDER BY l.kind;
SELECT split_part(v.detail, ' ', 1) AS chain, v.detail LIKE '%: no such holder' AS only_unknown_holder
	FROM plum_internal.verify_chains(:kinds) v ORDER BY 1, 2;
ROLLBACK;
