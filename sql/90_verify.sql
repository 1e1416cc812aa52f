-- verify(): replay the whole ledger against admin pools and every area's balances; each area
-- has its own verify_<area>() part next to its tables; the pools part is here (it reads the
-- admins of sql/30_tenancy.sql and the ledger of sql/35_ledger.sql).

-- @api
-- Admin pools: what each admin created, and what its pool holds, against the ledger.
-- created = creates + the value of every counted link still open or redeemed (sql/70_links.sql)
-- pool = created - points given - codes issued + codes cancelled (value back to the issuer's pool)
--        - (reserve - unreserve) (value held for scheduled points grants, sql/80_distribute.sql)
CREATE FUNCTION plum_internal.verify_pools(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH adm AS (
		SELECT a.company_id, a.admin_id, a.created_total,
			-- the whole pool once per admin (grouping by admin_pool's pool would add up the stripes per ledger row)
			(SELECT p.pool FROM plum_internal.admin_pool p WHERE p.admin_id = a.admin_id) AS pool,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'create'), 0) AS created,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'give'), 0) AS given,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_issue'), 0) AS issued,
			coalesce(sum(j.amount) FILTER (WHERE j.kind IN ('code_cancel', 'takeback')), 0) AS cancelled,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'reserve'), 0) - coalesce(sum(j.amount) FILTER (WHERE j.kind = 'unreserve'), 0) AS reserved
		FROM plum_internal.admin a LEFT JOIN plum_internal.journal j ON j.admin_id = a.admin_id
			AND j.kind IN ('create', 'give', 'code_issue', 'code_cancel', 'reserve', 'unreserve', 'takeback')
		WHERE verify_pools.company_id IS NULL OR a.company_id = verify_pools.company_id
		GROUP BY a.company_id, a.admin_id, a.created_total),
	lk AS (
		SELECT l.admin_id, sum(l.value) AS linked FROM plum_internal.link l
		WHERE l.counted AND l.state <> 'cancelled' GROUP BY l.admin_id)
	SELECT adm.company_id, 'admin created',
			format('admin %s: created %s, ledger says %s%s', adm.admin_id, adm.created_total, adm.created + coalesce(lk.linked, 0),
				CASE WHEN lk.linked IS NOT NULL THEN format(' (created %s + open or redeemed links %s)', adm.created, lk.linked) ELSE '' END)
		FROM adm LEFT JOIN lk USING (admin_id) WHERE adm.created_total <> adm.created + coalesce(lk.linked, 0)
	UNION ALL
	SELECT adm.company_id, 'admin pool',
			format('admin %s: pool %s, ledger says %s (created %s - given %s - codes issued %s + codes cancelled %s%s)',
				adm.admin_id, adm.pool, adm.created - adm.given - adm.issued + adm.cancelled - adm.reserved,
				adm.created, adm.given, adm.issued, adm.cancelled,
				CASE WHEN adm.reserved <> 0 THEN format(' - reserved for scheduled grants %s', adm.reserved) ELSE '' END)
		FROM adm WHERE adm.pool <> adm.created - adm.given - adm.issued + adm.cancelled - adm.reserved
	UNION ALL
	SELECT adm.company_id, 'threshold', format('admin %s: created %s over its threshold', adm.admin_id, adm.created_total)
		FROM adm JOIN plum_internal.admin a USING (admin_id) WHERE adm.created_total > a.threshold;
	END;
COMMENT ON FUNCTION plum_internal.verify_pools(bigint) IS
	'The pools part of plum.verify(): created and pool of every admin against the ledger (created = creates + open or redeemed links; pool = creates - given - codes issued + codes cancelled + earned points taken back - reserved for scheduled grants).';

-- The ledger's hash chains.  Every row names its holder; a holder's rows, in chain order (the
-- position that leads every hash), must each hash to entry_hash(the previous row's hash, the row),
-- and the last one must be the holder's chain_head.  One pass: a window (lag) over the ledger
-- sorted by holder and position, one C hash per row; each row is checked against its
-- predecessor's stored hash, so the checks hold together by induction.
CREATE FUNCTION plum_internal.ledger_holders(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, holder text, chain_head bytea)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT a.company_id, 'admin ' || a.admin_id, a.chain_head FROM plum_internal.admin a
		WHERE ledger_holders.company_id IS NULL OR a.company_id = ledger_holders.company_id
	UNION ALL
	SELECT w.company_id, 'wallet ' || w.recipient::text, w.chain_head FROM plum_internal.account w
		WHERE ledger_holders.company_id IS NULL OR w.company_id = ledger_holders.company_id
	UNION ALL
	SELECT ic.company_id, 'code ' || ic.code::text, ic.chain_head FROM plum_internal.issued_code ic
		WHERE ledger_holders.company_id IS NULL OR ic.company_id = ledger_holders.company_id
	UNION ALL
	SELECT l.company_id, 'link ' || l.token, l.chain_head FROM plum_internal.link l
		WHERE ledger_holders.company_id IS NULL OR l.company_id = ledger_holders.company_id;
	END;
COMMENT ON FUNCTION plum_internal.ledger_holders(bigint) IS
	'Internal: every holder of a hash chain (admin pool, wallet, code, link) of a company (or all), named as plum_internal.holder_of() names it, with its chain head.';

CREATE FUNCTION plum_internal.holder_of(kind text, admin_id bigint, recipient plum.recipient, code plum.code, token text)
	RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, plum, pg_temp
	RETURN CASE WHEN kind IN ('create', 'reserve', 'unreserve', 'code_issue') THEN 'admin ' || admin_id
		WHEN kind IN ('give', 'redeem', 'expire', 'restore', 'takeback') THEN 'wallet ' || recipient::text
		WHEN kind LIKE 'code\_%' THEN 'code ' || code::text
		ELSE 'link ' || token END;
COMMENT ON FUNCTION plum_internal.holder_of(text, bigint, plum.recipient, plum.code, text) IS
	'Internal: the holder whose chain a ledger row belongs to: admin <id> (create, reserve, unreserve, code_issue: the pool), wallet <recipient> (give, redeem, expire, restore, takeback), code <code> (code_redeem, code_cancel, code_expire, code_refund), link <token>.';

CREATE FUNCTION plum_internal.verify_chains(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	-- one sort and one window pass over the ledger: each row against its predecessor (lag) in its
	-- holder's chain, and whether it is the chain's last row (lead); the holder is kept as typed
	-- columns (c: 0 admin pool, 1 wallet, 2 code, 3 link, as plum_internal.holder_of() classes rows);
	-- only the broken rows and each chain's last row are kept, and named as text
	WITH r AS MATERIALIZED (SELECT * FROM (
		SELECT j.company_id, j.entry_id, j.hash, j.kind, j.admin_id, j.recipient, j.code, j.token,
			plum_internal.entry_hash(lag(j.hash) OVER w, j.entry_id, j.company_id, j.at, j.kind, j.amount, j.admin_id,
				j.recipient, j.lot_id, j.redemption_id, j.reference, j.note, j.idempotency_key, j.lots, j.campaign_id,
				j.item_id, j.code, j.token, j.balance_after) IS DISTINCT FROM j.hash AS broken,
			lead(j.entry_id) OVER w IS NULL AS last
		FROM (SELECT x.*, CASE WHEN x.kind IN ('create', 'reserve', 'unreserve', 'code_issue') THEN 0
					WHEN x.kind IN ('give', 'redeem', 'expire', 'restore', 'takeback') THEN 1
					WHEN x.kind LIKE 'code\_%' THEN 2 ELSE 3 END AS c
				FROM plum_internal.journal x
				WHERE verify_chains.company_id IS NULL OR x.company_id = verify_chains.company_id) AS j
		WINDOW w AS (PARTITION BY j.company_id, j.c, CASE WHEN j.c = 0 THEN j.admin_id END, CASE WHEN j.c = 1 THEN j.recipient END,
			CASE WHEN j.c = 2 THEN j.code END, CASE WHEN j.c = 3 THEN j.token END COLLATE "C"
			ORDER BY j.hash)) AS x
		WHERE x.broken OR x.last),
	first_broken AS (
		SELECT DISTINCT ON (x.company_id, x.holder) x.company_id, x.holder, x.entry_id
		FROM (SELECT r.*, plum_internal.holder_of(r.kind, r.admin_id, r.recipient, r.code, r.token) AS holder
			FROM r WHERE r.broken) AS x
		ORDER BY x.company_id, x.holder, x.hash),
	last AS (
		SELECT r.company_id, plum_internal.holder_of(r.kind, r.admin_id, r.recipient, r.code, r.token) AS holder, r.entry_id, r.hash
		FROM r WHERE r.last)
	SELECT fb.company_id, 'ledger chain',
			format('%s: entry %s: its hash disagrees with its fields and the previous entry''s hash (first broken entry of the chain)',
				fb.holder, fb.entry_id)
		FROM first_broken fb
	UNION ALL
	SELECT coalesce(h.company_id, last.company_id), 'ledger chain',
		CASE WHEN h.holder IS NULL THEN format('%s: entry %s: no such holder', last.holder, last.entry_id)
			WHEN last.holder IS NULL THEN format('%s: its chain head is set but the ledger has no entry for it', h.holder)
			ELSE format('%s: its chain head disagrees with its last entry %s', h.holder, last.entry_id) END
		FROM plum_internal.ledger_holders(verify_chains.company_id) h
			FULL JOIN last ON last.company_id = h.company_id AND last.holder = h.holder
		WHERE (h.holder IS NULL OR last.holder IS NULL OR h.chain_head IS DISTINCT FROM last.hash)
			AND (h.holder IS NULL OR h.chain_head IS NOT NULL OR last.holder IS NOT NULL)
			AND NOT EXISTS (SELECT FROM first_broken fb
				WHERE fb.company_id = coalesce(h.company_id, last.company_id) AND fb.holder = coalesce(h.holder, last.holder));
	END;
COMMENT ON FUNCTION plum_internal.verify_chains(bigint) IS
	'The chains part of plum.verify(): for every holder (admin pool, wallet, code, link), its first ledger entry whose hash is not entry_hash(the previous entry''s hash, the entry); else a chain head that is not its last entry''s hash (or an entry with no holder, a head with no entry).';

CREATE FUNCTION plum.ledger_digest(company_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT 'plum-ledger-v1:' || count(*) || ':' || pg_catalog.encode(pg_catalog.sha256(coalesce(
			pg_catalog.string_agg(pg_catalog.convert_to(h.holder, 'UTF8') || '\x00'::bytea || h.chain_head, ''::bytea
				ORDER BY h.holder COLLATE "C"), ''::bytea)), 'hex')
	FROM plum_internal.ledger_holders(plum_internal.permitted_company(plum_internal.not_null(ledger_digest.company_id, 'company_id'))) h
	WHERE h.chain_head IS NOT NULL;
	END;
COMMENT ON FUNCTION plum.ledger_digest(bigint) IS
	'A digest of the company''s whole ledger, for auditors to keep outside the database: ''plum-ledger-v1:<holders>:<hex>'' where hex = SHA-256 of, '
	'for every holder with a chain (admin <id>, wallet <recipient>, code <code>, link <token>) in byte order of its name, '
	'its name in UTF-8, a 0x00 byte and its chain head (the 40-byte hash of its last ledger entry, which chains on every entry before it). '
	'Equal digests: the same heads, so (with plum.verify() clean) the same history. To prove later that the history has only grown, '
	'keep the digest and plum.ledger_heads() of the same moment outside: the digest authenticates the list; later every listed head must '
	'still be the hash of an entry of its holder and plum.verify() clean, which proves that every entry up to each listed head is still there unchanged '
	'(SHA-256 chains). It cannot prove that entries added since are legitimate, nor anything about history rewritten before the digest was taken, '
	'nor who wrote a row: a superuser can rewrite and re-hash chains, which only a digest kept outside reveals.';

CREATE FUNCTION plum.ledger_heads(company_id bigint) RETURNS TABLE(holder text, chain_head bytea)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT h.holder, h.chain_head FROM plum_internal.ledger_holders(plum_internal.permitted_company(plum_internal.not_null(ledger_heads.company_id, 'company_id'))) h
	WHERE h.chain_head IS NOT NULL ORDER BY h.holder COLLATE "C";
	END;
COMMENT ON FUNCTION plum.ledger_heads(bigint) IS
	'Every chain head of the company, in the order plum.ledger_digest() hashes them: keep it with the digest to prove later that the history has only grown.';

CREATE FUNCTION plum.verify(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT v.* FROM (
		SELECT * FROM plum_internal.verify_pools(plum_internal.permitted_company(verify.company_id))
		UNION ALL
		SELECT * FROM plum_internal.verify_points(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_codes(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_links(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_deliveries(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_chains(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_orders(verify.company_id)
	) AS v
	WHERE plum_internal.company_visible(v.company_id)
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify(bigint) IS
	'Replay the ledger against admin pools, wallets, redemptions, codes, links, orders and the ledger''s hash chains for one company (or all); one row per inconsistency, no rows when consistent. A role confined to companies checks only theirs (PU009 for another company).';

REVOKE EXECUTE ON FUNCTION plum.verify(bigint), plum_internal.verify_pools(bigint),
	plum_internal.ledger_holders(bigint), plum_internal.holder_of(text, bigint, plum.recipient, plum.code, text),
	plum_internal.verify_chains(bigint), plum.ledger_digest(bigint), plum.ledger_heads(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.verify(bigint), plum.ledger_heads(bigint) TO plum_admin;
-- auditors read: a digest discloses nothing of the rows (plum_reader, confined to its companies);
-- the heads name codes and link tokens in full, so they are plum_admin's only
GRANT EXECUTE ON FUNCTION plum.ledger_digest(bigint) TO plum_reader;
