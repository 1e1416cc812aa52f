-- verify(): replay the ledger against pools and wallets.

CREATE FUNCTION plum.verify(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id, c.scale FROM plum.company c
		WHERE verify.company_id IS NULL OR c.company_id = verify.company_id),
	-- per admin: created and given according to the ledger
	adm AS (
		SELECT a.company_id, a.admin_id, a.created_total, a.pool,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.admin_id = a.admin_id AND j.kind = 'create'), 0) AS l_created,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.admin_id = a.admin_id AND j.kind = 'give'), 0) AS l_given
		FROM plum.admin a JOIN co USING (company_id)),
	-- per wallet: what the ledger says it holds (given - redeemed - expired + restored)
	flows AS (
		SELECT j.company_id, j.recipient,
			sum(CASE j.kind WHEN 'give' THEN j.amount WHEN 'restore' THEN j.amount
				WHEN 'redeem' THEN -j.amount WHEN 'expire' THEN -j.amount END) AS held
		FROM plum.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('give', 'redeem', 'expire', 'restore')
		GROUP BY j.company_id, j.recipient),
	wal AS (
		SELECT coalesce(a.company_id, f.company_id) AS company_id, coalesce(a.recipient, f.recipient) AS recipient,
			coalesce(plum.wallet_total(a.lots), 0) AS stored, coalesce(f.held, 0) AS held
		FROM (SELECT a.* FROM plum.account a JOIN co USING (company_id)) a
		FULL JOIN flows f ON f.company_id = a.company_id AND f.recipient = a.recipient),
	red AS (
		SELECT r.company_id, r.entry_id, r.amount,
			coalesce(plum.wallet_total(r.lots), -1) AS taken,
			coalesce((SELECT sum(x.amount) FROM plum.journal x WHERE x.redemption_id = r.entry_id AND x.kind = 'restore'), 0) AS restored
		FROM plum.journal r JOIN co USING (company_id) WHERE r.kind = 'redeem'),
	totals AS (
		SELECT co.company_id, co.scale,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'create'), 0) AS created,
			coalesce((SELECT sum(a.pool) FROM plum.admin a WHERE a.company_id = co.company_id), 0) AS pools,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'give'), 0) AS given,
			coalesce((SELECT sum(plum.wallet_total(a.lots)) FROM plum.account a WHERE a.company_id = co.company_id), 0) AS held,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'redeem'), 0) AS redeemed,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'expire'), 0) AS expired,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'restore'), 0) AS restored
		FROM co)
	SELECT adm.company_id, 'admin created', format('admin %s: created %s, ledger says %s', adm.admin_id, adm.created_total, adm.l_created)
		FROM adm WHERE adm.created_total <> adm.l_created
	UNION ALL
	SELECT adm.company_id, 'admin pool', format('admin %s: pool %s, ledger says %s (created %s - given %s)',
			adm.admin_id, adm.pool, adm.l_created - adm.l_given, adm.l_created, adm.l_given)
		FROM adm WHERE adm.pool <> adm.l_created - adm.l_given
	UNION ALL
	SELECT wal.company_id, 'wallet', format('%s: wallet holds %s, ledger says %s', wal.recipient, wal.stored, wal.held)
		FROM wal WHERE wal.stored <> wal.held
	UNION ALL
	SELECT red.company_id, 'redemption lots', format('redemption %s: amount %s, lots taken %s', red.entry_id, red.amount, red.taken)
		FROM red WHERE red.amount <> red.taken
	UNION ALL
	SELECT red.company_id, 'over-reversed', format('redemption %s: redeemed %s, restored %s', red.entry_id, red.amount, red.restored)
		FROM red WHERE red.restored > red.amount
	UNION ALL
	SELECT t.company_id, 'created = pool + given', format('created %s, pools %s, given %s', t.created, t.pools, t.given)
		FROM totals t WHERE t.created <> t.pools + t.given
	UNION ALL
	SELECT t.company_id, 'given = live + redeemed + expired - restored',
			format('given %s; held %s, redeemed %s, expired %s, restored %s', t.given, t.held, t.redeemed, t.expired, t.restored)
		FROM totals t WHERE t.given <> t.held + t.redeemed + t.expired - t.restored
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify(bigint) IS
	'Replay the ledger against admin pools, wallets and redemptions for one company (or all); returns one row per inconsistency, no rows when consistent.';
