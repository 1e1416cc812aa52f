-- verify(): replay the whole ledger against admin pools and every area's balances; each area
-- has its own verify_<area>() part next to its tables; the pools part is here (it reads the
-- admins of sql/30_tenancy.sql and the ledger of sql/35_ledger.sql).

-- @api
-- Admin pools: what each admin created, and what its pool holds, against the ledger.
-- pool = created - points given - codes issued + codes cancelled (value back to the issuer's pool)
--        - (reserve - unreserve) (value held for scheduled points grants, sql/80_distribute.sql)
CREATE FUNCTION plum_internal.verify_pools(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH adm AS (
		SELECT a.company_id, a.admin_id, a.created_total, a.pool,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'create'), 0) AS created,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'give'), 0) AS given,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_issue'), 0) AS issued,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_cancel'), 0) AS cancelled,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'reserve'), 0) - coalesce(sum(j.amount) FILTER (WHERE j.kind = 'unreserve'), 0) AS reserved
		FROM plum_internal.admin a LEFT JOIN plum_internal.journal j ON j.admin_id = a.admin_id
			AND j.kind IN ('create', 'give', 'code_issue', 'code_cancel', 'reserve', 'unreserve')
		WHERE verify_pools.company_id IS NULL OR a.company_id = verify_pools.company_id
		GROUP BY a.company_id, a.admin_id, a.created_total, a.pool)
	SELECT adm.company_id, 'admin created', format('admin %s: created %s, ledger says %s', adm.admin_id, adm.created_total, adm.created)
		FROM adm WHERE adm.created_total <> adm.created
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
	'The pools part of plum.verify(): created and pool of every admin against the ledger (created = pool + given + codes issued - codes cancelled + reserved for scheduled grants).';

CREATE FUNCTION plum.verify(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT v.* FROM (
		SELECT * FROM plum_internal.verify_pools(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_points(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_codes(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_links(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_deliveries(verify.company_id)
		UNION ALL
		SELECT * FROM plum_internal.verify_orders(verify.company_id)
	) AS v
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify(bigint) IS
	'Replay the ledger against admin pools, wallets, redemptions, codes, links and orders for one company (or all); one row per inconsistency, no rows when consistent.';

REVOKE EXECUTE ON FUNCTION plum.verify(bigint), plum_internal.verify_pools(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.verify(bigint) TO plum_admin;
