-- The tamper-evident ledger: every ledger row's hash chains it to the previous row of its holder
-- (admin pool, wallet, code, link), whose row keeps the head. Every kind of movement chains; the
-- C hash is the documented formula (rewritten here in SQL); ledger_digest() is stable and moves
-- when the history grows; a history rewritten or a mint forged by a superuser with the triggers
-- off (session_replication_role = replica) is found by verify(), its first broken row named.
-- Codes, tokens and hashes are random or derived from them: never printed (booleans, counts,
-- positions and lengths only).
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

-- the position that leads every hash (8 bytes, big-endian)
CREATE FUNCTION pg_temp.pos(h bytea) RETURNS bigint
	LANGUAGE sql IMMUTABLE RETURN ('x' || encode(substring(h FOR 8), 'hex'))::bit(64)::bigint;
-- the holder class of a ledger row, as plum_internal.holder_of() names it
CREATE FUNCTION pg_temp.holder(j plum_internal.journal) RETURNS text
	LANGUAGE sql IMMUTABLE RETURN plum_internal.holder_of(j.kind, j.admin_id, j.recipient, j.code, j.token);

SELECT plum.create_company('Acme', 'USD', points_validity => '30 days') AS acme \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:acme, 'ann@acme.test', 'admin', 100000) AS ann \gset
SELECT plum.create_points(:boss, 5000);
SELECT plum.create_points(:ann, 1000);
SELECT plum.create_campaign(:boss, 'Vouchers', 'codes', '2026-03-01 00:00:00+00') AS codes \gset
SELECT plum.create_campaign(:boss, 'Thanks', 'links') AS links \gset
SELECT plum.add_item(:acme, 'gift_card', 'Amazon', 'Amazon 25', 'shopping', price => 25) AS amazon \gset

-- points: grants (one keyed), a bulk grant (new and existing wallets, one recipient twice), redemptions
SELECT plum.give_points(:boss, 'alice@acme.test', 100) > 0 AS given;
SELECT plum.give_points(:boss, 'alice@acme.test', 50, 'welcome', 'key-1') > 0 AS given;
SELECT plum.give_points(:boss, 'bob@acme.test', 30) > 0 AS given;
SELECT plum.give_points_bulk(:ann, ARRAY['alice@acme.test', 'carol@acme.test', 'Carol@Acme.test', 'dave@acme.test']::plum.recipient[],
	ARRAY[5, 6, 7, 8]) AS grants;
SELECT plum.redeem_points(:acme, 'alice@acme.test', 120) AS r1 \gset
SELECT plum.redeem_points(:acme, 'carol@acme.test', 4, 'order-9', 'key-2') AS r2 \gset
SELECT plum.reverse_redemption(:r1, 20) AS restored;

-- codes: issued (on the pool's chain), two distributed, one redeemed twice, one cancelled
CREATE TEMP TABLE k AS SELECT row_number() OVER () AS n, c FROM plum.issue_codes(:boss, :codes, 50, 3) AS c;
SELECT plum.mark_codes_distributed(ARRAY(SELECT c FROM k WHERE n <> 2 ORDER BY n));
SELECT count(*) AS applied FROM plum.redeem_codes(ARRAY(SELECT c FROM k WHERE n = 1), 20);
SELECT count(*) AS applied FROM plum.redeem_codes(ARRAY(SELECT c FROM k WHERE n = 1), 5);
SELECT plum.cancel_codes(:boss, ARRAY(SELECT c FROM k WHERE n = 2)) AS cancelled;

-- links: two created, one redeemed, one cancelled
SELECT plum.create_link(:boss, :links, 25, 'alice@acme.test') AS tok1 \gset
SELECT plum.create_link(:boss, :links, 10) AS tok2 \gset
SELECT plum.redeem_link(:'tok1', :amazon) > 0 AS redeemed;
SELECT plum.cancel_link(:boss, :'tok2');

-- scheduled grants: reserved from the pool, one cancelled (unreserved), the others released
SELECT plum.distribute(:boss, 'email', 'erin@acme.test', 'You got {{amount}}', points => 5,
	send_at => '2026-01-10 00:00+00') AS s1 \gset
SELECT plum.distribute(:boss, 'email', 'frank@acme.test', 'You got {{amount}}', points => 6,
	send_at => '2026-01-10 00:00+00') AS s2 \gset
SELECT cardinality(plum.distribute_bulk(:ann, 'email', ARRAY['gina@acme.test', 'hank@acme.test'], 'You got {{amount}}',
	points => ARRAY[7, 8], send_at => '2026-01-10 00:00+00')) AS scheduled;
SELECT plum.cancel_delivery(:s2);
SET plum.now = '2026-01-10 00:00:00+00';
SELECT plum.release_deliveries() AS released;

-- expiry: points (the sweep, a bulk grant to a wallet holding expired lots, a reversal into
-- expired lots) and codes
SET plum.now = '2026-02-20 00:00:00+00';
SELECT plum.give_points_bulk(:ann, ARRAY['bob@acme.test']::plum.recipient[], ARRAY[1]) AS grants;
SELECT plum.reverse_redemption(:r2) AS restored;
SELECT plum.expire_points() AS expired;
SET plum.now = '2026-03-02 00:00:00+00';
SELECT plum.expire_codes() AS codes_expired;

-- every kind of movement is there, every row hashed (40 bytes: position and SHA-256)
SELECT kind, count(*) AS n, bool_and(length(hash) = 40) AS hashed
FROM plum_internal.journal GROUP BY kind ORDER BY kind;

-- every holder's chain runs 1, 2, ..., n without a gap, and its head is its last row's hash
WITH c AS (
	SELECT split_part(pg_temp.holder(j), ' ', 1) AS class, pg_temp.holder(j) AS holder,
		array_agg(pg_temp.pos(j.hash) ORDER BY pg_temp.pos(j.hash)) AS positions,
		(array_agg(j.hash ORDER BY pg_temp.pos(j.hash) DESC))[1] AS last
	FROM plum_internal.journal j GROUP BY 1, 2)
SELECT c.class, count(*) AS chains, sum(cardinality(c.positions)) AS entries, max(cardinality(c.positions)) AS longest,
	bool_and(c.positions = ARRAY(SELECT generate_series(1, cardinality(c.positions))::bigint)) AS gapless,
	bool_and(c.last = h.chain_head) AS heads
FROM c JOIN plum_internal.ledger_holders(:acme) h ON h.holder = c.holder
GROUP BY c.class ORDER BY c.class;
-- and every holder with a chain head has a chain
SELECT count(*) AS heads_without_chain FROM plum_internal.ledger_holders(NULL) h
WHERE h.chain_head IS NOT NULL AND NOT EXISTS (SELECT FROM plum_internal.journal j WHERE j.hash = h.chain_head);

SELECT * FROM plum.verify();

-- The documented formula, rewritten in SQL (plum_internal.entry_hash's comment, src/chain.c):
-- hash = position (8 bytes, big-endian) || SHA-256(encode(prev) || encode(field) ...), with
-- encode(NULL) = 0x00, encode(b) = 0x01 || length (4 bytes, big-endian) || b.
CREATE FUNCTION pg_temp.enc(b bytea) RETURNS bytea
	LANGUAGE sql IMMUTABLE RETURN CASE WHEN b IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(length(b)) || b END;
CREATE FUNCTION pg_temp.enc_text(t text) RETURNS bytea
	LANGUAGE sql IMMUTABLE RETURN pg_temp.enc(convert_to(t, 'UTF8'));
CREATE FUNCTION pg_temp.formula(prev bytea, j plum_internal.journal) RETURNS bytea
	LANGUAGE sql IMMUTABLE RETURN
	int8send(coalesce(pg_temp.pos(prev), 0) + 1) || sha256(
		pg_temp.enc(prev) || pg_temp.enc(int8send(j.entry_id)) || pg_temp.enc(int8send(j.company_id))
		|| pg_temp.enc(int8send((extract(epoch FROM j.at) * 1000000)::bigint)) || pg_temp.enc_text(j.kind)
		|| pg_temp.enc_text(trim_scale(j.amount)::text) || pg_temp.enc(int8send(j.admin_id))
		|| pg_temp.enc_text(j.recipient::text) || pg_temp.enc(int8send(j.lot_id)) || pg_temp.enc(int8send(j.redemption_id))
		|| pg_temp.enc_text(j.reference) || pg_temp.enc_text(j.note) || pg_temp.enc_text(j.idempotency_key)
		|| pg_temp.enc_text(j.lots::text) || pg_temp.enc(int8send(j.campaign_id)) || pg_temp.enc(int8send(j.item_id))
		|| pg_temp.enc_text(j.code::text) || pg_temp.enc_text(j.token) || pg_temp.enc_text(trim_scale(j.balance_after)::text));
-- every row of every chain: the formula on the previous row's hash gives the stored hash
SELECT count(*) AS entries,
	count(*) FILTER (WHERE pg_temp.formula(x.prev, x.j) = (x.j).hash) AS formula_agrees,
	count(*) FILTER (WHERE plum_internal.entry_hash(x.prev, x.j) = (x.j).hash) AS c_agrees
FROM (SELECT j, lag(j.hash) OVER (PARTITION BY pg_temp.holder(j) ORDER BY j.hash) AS prev
	FROM plum_internal.journal j) AS x;
-- a field that is NULL and one that is empty hash differently; so do 10 and 10.5
SELECT plum_internal.entry_hash(NULL, 1, 1, '2026-01-01', 'give', 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
	<> plum_internal.entry_hash(NULL, 1, 1, '2026-01-01', 'give', 10, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS null_not_empty,
	plum_internal.entry_hash(NULL, 1, 1, '2026-01-01', 'give', 10.00, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
	= plum_internal.entry_hash(NULL, 1, 1, '2026-01-01', 'give', 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS scale_free,
	plum_internal.entry_hash(NULL, 1, 1, '2026-01-01', 'give', 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
	<> plum_internal.entry_hash(NULL, 1, 1, '2026-01-01', 'give', 10.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS amount_counts;

-- ledger_digest: stable, the documented hash of ledger_heads(), and moved by any new movement
SELECT plum.ledger_digest(:acme) AS d1 \gset
SELECT :'d1' ~ '^plum-ledger-v1:[0-9]+:[0-9a-f]{64}$' AS shaped,
	split_part(:'d1', ':', 2)::int = (SELECT count(*) FROM plum.ledger_heads(:acme)) AS counts_heads,
	:'d1' = plum.ledger_digest(:acme) AS stable,
	split_part(:'d1', ':', 3) = (SELECT encode(sha256(string_agg(convert_to(h.holder, 'UTF8') || '\x00'::bytea || h.chain_head, ''::bytea
		ORDER BY h.holder COLLATE "C")), 'hex') FROM plum.ledger_heads(:acme) h) AS documented;
CREATE TEMP TABLE kept AS SELECT * FROM plum.ledger_heads(:acme);
SELECT plum.give_points(:boss, 'alice@acme.test', 1) > 0 AS given;
SELECT plum.ledger_digest(:acme) <> :'d1' AS moved,
	plum.ledger_digest(:acme) = plum.ledger_digest(:acme) AS stable;
-- the history has only grown: every head kept is still the hash of an entry of its holder
SELECT count(*) AS kept_heads, count(*) FILTER (WHERE EXISTS (
		SELECT FROM plum_internal.journal j WHERE j.hash = kept.chain_head AND pg_temp.holder(j) = kept.holder)) AS still_there
FROM kept;
SELECT plum.ledger_digest(:acme + 1) AS no_company;

-- A superuser with the triggers off (session_replication_role = replica) rewrites history:
-- alice's first grant becomes larger. verify() names that entry as the chain's first broken one.
SELECT j.entry_id AS past FROM plum_internal.journal j WHERE j.kind = 'give' AND j.recipient = 'alice@acme.test'
	ORDER BY j.entry_id LIMIT 1 \gset
SET session_replication_role = replica;
UPDATE plum_internal.journal SET amount = amount + 100 WHERE entry_id = :past;
SELECT check_name, detail FROM plum.verify() WHERE check_name = 'ledger chain';
UPDATE plum_internal.journal SET amount = amount - 100 WHERE entry_id = :past;
SELECT * FROM plum.verify();
-- a change of a field the other checks do not replay (the note) is found too
UPDATE plum_internal.journal SET note = 'rewritten' WHERE entry_id = :past;
SELECT * FROM plum.verify();
UPDATE plum_internal.journal SET note = NULL WHERE entry_id = :past;
-- a row deleted from the middle of a chain: the row after it is the first broken
SELECT j.entry_id AS second FROM plum_internal.journal j WHERE j.kind = 'give' AND j.recipient = 'alice@acme.test'
	ORDER BY j.entry_id OFFSET 1 LIMIT 1 \gset
CREATE TEMP TABLE gone AS SELECT * FROM plum_internal.journal WHERE entry_id = :second;
DELETE FROM plum_internal.journal WHERE entry_id = :second;
SELECT check_name, detail FROM plum.verify() WHERE check_name = 'ledger chain';
INSERT INTO plum_internal.journal SELECT * FROM gone;
SELECT * FROM plum.verify();

-- A forged mint: a 'create' row for boss, with the pool and created total raised to match so the
-- pool checks agree. With any hash, the chain is broken at that row ...
UPDATE plum_internal.admin SET created_total = created_total + 1000, pool = pool + 1000 WHERE admin_id = :boss;
INSERT INTO plum_internal.journal (company_id, at, kind, amount, admin_id, hash)
	VALUES (:acme, '2026-03-02 00:00:00+00', 'create', 1000, :boss, '\xdeadbeef') RETURNING entry_id AS forged \gset
SELECT * FROM plum.verify();
DELETE FROM plum_internal.journal WHERE entry_id = :forged;
-- ... and with the hash the formula gives on the pool's head, the head has not moved: found too
INSERT INTO plum_internal.journal (company_id, at, kind, amount, admin_id, hash)
	SELECT :acme, '2026-03-02 00:00:00+00', 'create', 1000, :boss,
		plum_internal.entry_hash(a.chain_head, currval('plum_internal.journal_entry_id_seq') + 1, :acme, '2026-03-02 00:00:00+00',
			'create', 1000, :boss, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
	FROM plum_internal.admin a WHERE a.admin_id = :boss
	RETURNING entry_id AS forged, entry_id = currval('plum_internal.journal_entry_id_seq') AS id_as_hashed \gset
SELECT :'id_as_hashed'::boolean AS id_as_hashed;
SELECT * FROM plum.verify();
-- undone: verify() is clean again
DELETE FROM plum_internal.journal WHERE entry_id = :forged;
UPDATE plum_internal.admin SET created_total = created_total - 1000, pool = pool - 1000 WHERE admin_id = :boss;
-- a head rewritten alone is found
UPDATE plum_internal.account SET chain_head = NULL WHERE recipient = 'bob@acme.test';
SELECT check_name, detail FROM plum.verify() WHERE check_name = 'ledger chain';
UPDATE plum_internal.account a SET chain_head = (SELECT j.hash FROM plum_internal.journal j
	WHERE j.recipient = 'bob@acme.test' AND j.kind IN ('give', 'redeem', 'expire', 'restore') ORDER BY j.hash DESC LIMIT 1)
	WHERE recipient = 'bob@acme.test';
RESET session_replication_role;
SELECT * FROM plum.verify();

-- privileges: the chain's internals are nobody's; the digest is an auditor's, the heads an admin's
SELECT has_function_privilege('plum_reader', 'plum.ledger_digest(bigint)', 'EXECUTE') AS reader_digest,
	has_function_privilege('plum_reader', 'plum.ledger_heads(bigint)', 'EXECUTE') AS reader_heads,
	has_function_privilege('plum_admin', 'plum.ledger_heads(bigint)', 'EXECUTE') AS admin_heads,
	has_function_privilege('plum_app', 'plum_internal.verify_chains(bigint)', 'EXECUTE') AS app_verify_chains;
