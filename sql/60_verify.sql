-- verify_points(): replay the points ledger against wallets and redemptions (plum.verify() in 80_verify.sql unions every area).

CREATE FUNCTION plum.verify_points(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id, c.scale FROM plum.company c
		WHERE verify_points.company_id IS NULL OR c.company_id = verify_points.company_id),
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
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'give'), 0) AS given,
			coalesce((SELECT sum(plum.wallet_total(a.lots)) FROM plum.account a WHERE a.company_id = co.company_id), 0) AS held,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'redeem'), 0) AS redeemed,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'expire'), 0) AS expired,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'restore'), 0) AS restored
		FROM co)
	SELECT wal.company_id, 'wallet', format('%s: wallet holds %s, ledger says %s', wal.recipient, wal.stored, wal.held)
		FROM wal WHERE wal.stored <> wal.held
	UNION ALL
	SELECT red.company_id, 'redemption lots', format('redemption %s: amount %s, lots taken %s', red.entry_id, red.amount, red.taken)
		FROM red WHERE red.amount <> red.taken
	UNION ALL
	SELECT red.company_id, 'over-reversed', format('redemption %s: redeemed %s, restored %s', red.entry_id, red.amount, red.restored)
		FROM red WHERE red.restored > red.amount
	UNION ALL
	SELECT t.company_id, 'given = live + redeemed + expired - restored',
			format('given %s; held %s, redeemed %s, expired %s, restored %s', t.given, t.held, t.redeemed, t.expired, t.restored)
		FROM totals t WHERE t.given <> t.held + t.redeemed + t.expired - t.restored
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify_points(bigint) IS
	'The points part of plum.verify(): wallets against the ledger, redemptions against their lots, given = live + redeemed + expired - restored.';
