-- Codes: bearer gift codes in fixed denominations with partial balances (SPEC, "Codes").
-- Issuance draws from the issuing admin's pool; redemption drains several codes in the order
-- given; undistributed codes can be cancelled back to the pool at any time; expired distributed
-- codes are swept as breakage.

CREATE TABLE plum_internal.issued_code (
	code		plum.code NOT NULL,
	company_id	bigint NOT NULL,
	campaign_id	bigint NOT NULL,
	admin_id	bigint NOT NULL,
	issued_at	timestamptz NOT NULL,
	expires_at	timestamptz,
	distributed_at timestamptz,
	cancelled_at timestamptz,
	expired_at	timestamptz,
	denomination numeric NOT NULL,
	balance		numeric NOT NULL,
	chain_head	bytea,
	CONSTRAINT issued_code_pkey PRIMARY KEY (code)
) WITH (fillfactor = 80);
SELECT pg_catalog.pg_extension_config_dump('plum_internal.issued_code', '');
-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- The row's rules, one C function (src/checks.c; 0.1.0 had them as three CHECKs, rebuilt by every
-- statement that drained a code): a denomination > 0, a balance from 0 to the denomination, no
-- balance left once cancelled.
CREATE FUNCTION plum_internal.code_row_valid(denomination numeric, balance numeric, cancelled_at timestamptz)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_row_valid'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
ALTER TABLE plum_internal.issued_code ADD CONSTRAINT issued_code_rules
	CHECK (plum_internal.code_row_valid(denomination, balance, cancelled_at));
-- @end

-- @api
COMMENT ON TABLE plum_internal.issued_code IS 'Every code issued, with its balance (updated in place). Written only by plum''s code functions (no foreign keys, so that issuing 1,000,000 codes stays one plain INSERT); read plum.codes.';
COMMENT ON FUNCTION plum_internal.code_row_valid(numeric, numeric, timestamptz) IS
	'Internal: the CHECK of plum_internal.issued_code (issued_code_rules): a denomination > 0, a balance from 0 to the denomination, no balance left once cancelled. NULL arguments pass, as in a CHECK.';
COMMENT ON COLUMN plum_internal.issued_code.code IS 'The code (60 random bits).';
COMMENT ON COLUMN plum_internal.issued_code.company_id IS 'The company of the campaign the code was issued for.';
COMMENT ON COLUMN plum_internal.issued_code.campaign_id IS 'The campaign (mode codes) the code was issued for.';
COMMENT ON COLUMN plum_internal.issued_code.admin_id IS 'The admin who issued the code, from whose pool its value came and to whose pool a cancellation returns it.';
COMMENT ON COLUMN plum_internal.issued_code.issued_at IS 'When the code was issued (plum clock).';
COMMENT ON COLUMN plum_internal.issued_code.expires_at IS 'When the code stops being redeemable: the campaign''s expiry at issue (NULL: never).';
COMMENT ON COLUMN plum_internal.issued_code.distributed_at IS 'When the code was first marked distributed or used (NULL: undistributed, so still cancellable).';
COMMENT ON COLUMN plum_internal.issued_code.cancelled_at IS 'When the code was cancelled and its value returned to the issuer''s pool.';
COMMENT ON COLUMN plum_internal.issued_code.expired_at IS 'When plum.expire_codes() recorded the remaining balance of this expired code as breakage.';
COMMENT ON COLUMN plum_internal.issued_code.denomination IS 'The value the code was issued for (one of the company''s code denominations).';
COMMENT ON COLUMN plum_internal.issued_code.balance IS 'What is left to spend (0 once used up, cancelled or swept after expiry).';
COMMENT ON COLUMN plum_internal.issued_code.chain_head IS 'The head of the code''s chain: the hash of its last code_redeem, code_cancel or code_expire ledger row (NULL before the first).';

-- Insert drawn codes, skipping those taken already (or drawn twice); returns the codes inserted.
-- issue_codes() falls back on this after a collision (about 1 in 10^12 per code).
CREATE FUNCTION plum_internal.insert_codes(company_id bigint, campaign_id bigint, admin_id bigint, denomination numeric,
		issued_at timestamptz, expires_at timestamptz, codes plum.code[])
	RETURNS plum.code[]
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_free plum.code[];
BEGIN
	WITH ins AS (
		INSERT INTO plum_internal.issued_code AS ic (code, company_id, campaign_id, admin_id, issued_at, expires_at, denomination, balance)
			SELECT c, insert_codes.company_id, insert_codes.campaign_id, insert_codes.admin_id, insert_codes.issued_at,
				insert_codes.expires_at, insert_codes.denomination, insert_codes.denomination
			FROM unnest(codes) AS c
		ON CONFLICT ON CONSTRAINT issued_code_pkey DO NOTHING
		RETURNING ic.code)
	SELECT array_agg(ins.code) INTO v_free FROM ins;
	RETURN coalesce(v_free, '{}');
END
$$;
COMMENT ON FUNCTION plum_internal.insert_codes(bigint, bigint, bigint, numeric, timestamptz, timestamptz, plum.code[]) IS
	'Internal: insert drawn codes of one issue, skipping any already taken or drawn twice; returns the codes inserted.';

-- RETURNS TABLE(code ...): still SETOF plum.code, with its column named "code" for drivers
CREATE FUNCTION plum.issue_codes(admin_id bigint, campaign_id bigint, denomination numeric, count integer)
	RETURNS TABLE(code plum.code)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 1000
	AS $$
DECLARE
	v_campaign plum_internal.campaign;
	v_scale smallint;
	v_denoms numeric[];
	v_now timestamptz := plum.now();
	v_total numeric;
	v_pool numeric;
	v_codes plum.code[];
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(campaign_id, 'campaign_id');
	PERFORM plum_internal.not_null(denomination, 'denomination');
	PERFORM plum_internal.not_null(count, 'count');
	v_campaign := plum_internal.check_campaign(issue_codes.admin_id, issue_codes.campaign_id, 'codes');
	SELECT c.scale, c.code_denominations INTO STRICT v_scale, v_denoms
		FROM plum_internal.company c WHERE c.company_id = v_campaign.company_id;
	denomination := plum_internal.valid_amount(denomination, v_scale, 'denomination');
	IF NOT denomination = ANY (v_denoms) THEN
		PERFORM plum_internal.raise('PU008', 'not an allowed code denomination',
			format('Company %s issues codes of %s; %s is not one of them.', v_campaign.company_id,
				(SELECT string_agg(round(d, v_scale)::text, ', ' ORDER BY d) FROM unnest(v_denoms) AS d), denomination),
			'Use one of the company''s code denominations.');
	END IF;
	IF count < 1 OR count > 1000000 THEN
		PERFORM plum_internal.raise('PU008', 'invalid number of codes',
			format('Asked for %s codes; one call issues 1 to 1000000.', count));
	END IF;
	v_total := denomination * count;
	-- the batch's ledger row chains on the issuing admin's pool in debit_pool's UPDATE
	v_pool := plum_internal.debit_pool(issue_codes.admin_id, v_total, v_scale, format(' for %s codes of %s', count, denomination),
		jsonb_build_object('entry_id', nextval('plum_internal.journal_entry_id_seq'), 'company_id', v_campaign.company_id,
			'at', v_now, 'kind', 'code_issue', 'amount', v_total, 'admin_id', issue_codes.admin_id,
			'campaign_id', issue_codes.campaign_id, 'note', format('%s codes of %s', count, denomination)));
	v_codes := ARRAY(SELECT plum_internal.code_random(count));
	BEGIN
		-- the fast path: one plain INSERT (no speculative insertion per row)
		INSERT INTO plum_internal.issued_code (code, company_id, campaign_id, admin_id, issued_at, expires_at, denomination, balance)
			SELECT c, v_campaign.company_id, issue_codes.campaign_id, issue_codes.admin_id, v_now, v_campaign.expires_at,
				denomination, denomination
			FROM unnest(v_codes) AS c;
	EXCEPTION WHEN unique_violation THEN
		-- a drawn code is taken (or drawn twice): keep the free ones, draw the shortfall again until all are issued
		v_codes := plum_internal.insert_codes(v_campaign.company_id, issue_codes.campaign_id, issue_codes.admin_id, denomination,
			v_now, v_campaign.expires_at, v_codes);
		WHILE cardinality(v_codes) < count LOOP
			v_codes := v_codes || plum_internal.insert_codes(v_campaign.company_id, issue_codes.campaign_id, issue_codes.admin_id,
				denomination, v_now, v_campaign.expires_at, ARRAY(SELECT plum_internal.code_random(count - cardinality(v_codes))));
		END LOOP;
	END;
	RETURN QUERY SELECT unnest(v_codes);
END
$$;
COMMENT ON FUNCTION plum.issue_codes(bigint, bigint, numeric, integer) IS
	'Issue count (1 to 1,000,000) new codes of one of the company''s denominations for a codes campaign, drawing count x denomination from the admin''s pool (PU001 when short). Returns the codes, in a column named code.';

CREATE FUNCTION plum.code_balance(code plum.code) RETURNS numeric
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_balance numeric;
	v_company bigint;
BEGIN
	PERFORM plum_internal.not_null(code, 'code');
	SELECT round(ic.balance, c.scale), ic.company_id INTO v_balance, v_company
		FROM plum_internal.issued_code ic JOIN plum_internal.company c USING (company_id) WHERE ic.code = code_balance.code;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown code', format('There is no code %s.', code));
	END IF;
	PERFORM plum_internal.check_company(v_company);
	RETURN v_balance;
END
$$;
COMMENT ON FUNCTION plum.code_balance(plum.code) IS
	'The balance left on a code, in the company''s currency decimals (also of an expired or cancelled code: plum.codes shows its state).';

-- Lock the given codes in code order (the one canonical order, so calls never deadlock) and
-- return them in the order given.  Refuses a NULL or empty list (22004, 22023), a NULL code
-- (22004), a code given twice (22023) and an unknown code (PU005).
CREATE FUNCTION plum_internal.lock_codes(codes plum.code[], marking boolean DEFAULT false)
	RETURNS plum_internal.issued_code[]
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_rows plum_internal.issued_code[];
	v_n integer := cardinality(codes);
	v_bad record;
BEGIN
	IF codes IS NULL THEN
		PERFORM plum_internal.not_null(codes, 'codes');
	END IF;
	IF v_n = 0 THEN
		IF marking THEN
			RETURN '{}';
		END IF;
		PERFORM plum_internal.raise('22023', 'no codes given', NULL, 'Give at least one code.');
	END IF;
	IF array_position(codes, NULL) IS NOT NULL THEN
		PERFORM plum_internal.raise('22004', format('code #%s must not be null', array_position(codes, NULL)));
	END IF;
	-- back in the order given (each code at its first place): one join, linear in the list
	SELECT array_agg(s.x ORDER BY g.i) INTO v_rows
		FROM (SELECT x FROM plum_internal.issued_code x WHERE x.code = ANY (codes) ORDER BY x.code FOR UPDATE) AS s
		JOIN (SELECT u.c, min(u.i) AS i FROM unnest(codes) WITH ORDINALITY AS u(c, i) GROUP BY u.c) AS g ON g.c = (s.x).code;
	IF marking THEN
		v_n := (SELECT count(DISTINCT u.c) FROM unnest(codes) AS u(c));
	END IF;
	IF coalesce(cardinality(v_rows), 0) < v_n THEN
		SELECT u.c, min(u.i) AS first, (array_agg(u.i ORDER BY u.i))[2] AS second INTO v_bad
			FROM unnest(codes) WITH ORDINALITY AS u(c, i) GROUP BY u.c HAVING count(*) > 1 AND NOT marking ORDER BY 2 LIMIT 1;
		IF FOUND THEN
			PERFORM plum_internal.raise('22023', 'duplicate code',
				format('Code %s is given twice (#%s and #%s).', v_bad.c, v_bad.first, v_bad.second),
				'Give each code once.');
		END IF;
		SELECT u.c, u.i INTO v_bad FROM unnest(codes) WITH ORDINALITY AS u(c, i)
			WHERE NOT EXISTS (SELECT 1 FROM plum_internal.issued_code x WHERE x.code = u.c) ORDER BY u.i LIMIT 1;
		PERFORM plum_internal.raise('PU005', 'unknown code', format('Code #%s (%s) does not exist.', v_bad.i, v_bad.c),
			'Check the code for typing mistakes.');
	END IF;
	RETURN v_rows;
END
$$;
COMMENT ON FUNCTION plum_internal.lock_codes(plum.code[], boolean) IS
	'Internal: lock codes FOR UPDATE in code order and return their rows in the order given; refuses NULLs (22004), an empty list or a code given twice (22023; both allowed when marking), unknown codes (PU005).';

-- The codes hot path, in C (src/codes.c): one statement locks the codes in code order (never a
-- deadlock) and reads them, the checks run in the order given, one statement writes the drained
-- codes and their ledger rows.
CREATE FUNCTION plum.redeem_codes(codes plum.code[], amount numeric, item_id bigint DEFAULT NULL,
		reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS TABLE(code plum.code, applied numeric, remaining numeric)
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 2
	AS 'MODULE_PATHNAME', 'plum_redeem_codes';
COMMENT ON FUNCTION plum.redeem_codes(plum.code[], numeric, bigint, text, text) IS
	'Redeem an amount from several codes of one company, in the order given, each drained before the next and only as far as needed; all or nothing (PU001 when they hold too little together). Returns each code used with the amount applied and its balance left. Idempotent with a key.';

CREATE FUNCTION plum.mark_codes_distributed(codes plum.code[]) RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_rows plum_internal.issued_code[];
	v_now timestamptz := plum.now();
	v_n integer;
	i integer;
BEGIN
	IF codes IS NULL THEN
		PERFORM plum_internal.not_null(codes, 'codes');
	END IF;
	-- a code listed twice is marked once
	v_rows := plum_internal.lock_codes(codes, marking => true);
	PERFORM plum_internal.check_company(r.company_id) FROM unnest(v_rows) AS r;
	FOR i IN 1 .. cardinality(v_rows) LOOP
		IF v_rows[i].cancelled_at IS NOT NULL THEN
			PERFORM plum_internal.raise('PU003', 'code cancelled',
				format('Code %s was cancelled at %s.', v_rows[i].code, v_rows[i].cancelled_at));
		END IF;
		IF v_rows[i].distributed_at IS NULL AND v_rows[i].expires_at <= v_now THEN
			PERFORM plum_internal.raise('PU002', 'code expired',
				format('Code %s expired at %s before it was distributed.', v_rows[i].code, v_rows[i].expires_at),
				'Cancel it with plum.cancel_codes() to return its value to the pool.');
		END IF;
	END LOOP;
	UPDATE plum_internal.issued_code ic SET distributed_at = v_now
		WHERE ic.code = ANY (codes) AND ic.distributed_at IS NULL;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.mark_codes_distributed(plum.code[]) IS
	'Mark codes as distributed (handed out): they can no longer be cancelled. Returns how many were not marked yet. Refuses unknown (PU005), cancelled (PU003) and undistributed expired codes (PU002).';

CREATE FUNCTION plum.cancel_codes(admin_id bigint, codes plum.code[]) RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum_internal.admin;
	v_rows plum_internal.issued_code[];
	v_row plum_internal.issued_code;
	v_scale smallint;
	v_now timestamptz := plum.now();
	v_total numeric := 0;
	v_issuer record;
	i integer;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(codes, 'codes');
	v_admin := plum_internal.admin_row(cancel_codes.admin_id);
	-- lock order (sql/81_outbox.sql): the issuers' admin rows, by admin_id, before the codes
	PERFORM 1 FROM plum_internal.admin a
		WHERE a.admin_id IN (SELECT x.admin_id FROM plum_internal.issued_code x WHERE x.code = ANY (codes))
		ORDER BY a.admin_id FOR NO KEY UPDATE;
	v_rows := plum_internal.lock_codes(codes);
	FOR i IN 1 .. cardinality(v_rows) LOOP
		v_row := v_rows[i];
		IF v_row.company_id <> v_admin.company_id THEN
			PERFORM plum_internal.raise('PU009', 'code belongs to another company',
				format('Code #%s (%s) is company %s''s; admin %s is company %s''s.', i, v_row.code, v_row.company_id,
					cancel_codes.admin_id, v_admin.company_id));
		END IF;
		IF v_row.admin_id <> cancel_codes.admin_id AND v_admin.role <> 'super_admin' THEN
			PERFORM plum_internal.raise('PU009', 'only the issuing admin or a super admin may cancel a code',
				format('Code #%s (%s) was issued by admin %s; admin %s is an %s.', i, v_row.code, v_row.admin_id,
					cancel_codes.admin_id, v_admin.role),
				'Ask the issuing admin or a super admin of the company.');
		END IF;
		IF v_row.cancelled_at IS NOT NULL THEN
			PERFORM plum_internal.raise('PU003', 'code already cancelled',
				format('Code #%s (%s) was cancelled at %s.', i, v_row.code, v_row.cancelled_at));
		END IF;
		IF v_row.distributed_at IS NOT NULL OR v_row.balance <> v_row.denomination THEN
			PERFORM plum_internal.raise('PU009', 'code already distributed',
				format('Code #%s (%s) was distributed at %s; only undistributed codes can be cancelled.', i, v_row.code,
					v_row.distributed_at));
		END IF;
		v_total := v_total + v_row.denomination;
	END LOOP;
	SELECT c.scale INTO STRICT v_scale FROM plum_internal.company c WHERE c.company_id = v_admin.company_id;
	WITH e AS (
		SELECT r.code, r.denomination, r.admin_id, r.campaign_id, r.ordinality,
			CASE WHEN r.admin_id <> cancel_codes.admin_id THEN format('cancelled by admin %s', cancel_codes.admin_id) END AS note,
			nextval('plum_internal.journal_entry_id_seq') AS e
		FROM unnest(v_rows) WITH ORDINALITY AS r),
	u AS (
		UPDATE plum_internal.issued_code ic SET balance = 0, cancelled_at = v_now,
			chain_head = plum_internal.entry_hash(ic.chain_head, e.e, v_admin.company_id, v_now, 'code_cancel', e.denomination,
				e.admin_id, NULL, NULL, NULL, NULL, e.note, NULL, NULL, e.campaign_id, NULL, e.code, NULL, 0)
		FROM e WHERE ic.code = e.code
		RETURNING e.*, ic.chain_head)
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, campaign_id, code, balance_after, note, hash)
		SELECT u.e, v_admin.company_id, v_now, 'code_cancel', u.denomination, u.admin_id, u.campaign_id, u.code, 0, u.note,
			u.chain_head
		FROM u ORDER BY u.e;
	-- the value goes back to each code's issuer; pools locked in admin order
	FOR v_issuer IN
		SELECT r.admin_id, sum(r.denomination) AS value FROM unnest(v_rows) AS r GROUP BY r.admin_id ORDER BY r.admin_id
	LOOP
		UPDATE plum_internal.admin a SET pool = a.pool + v_issuer.value WHERE a.admin_id = v_issuer.admin_id;
	END LOOP;
	RETURN round(v_total, v_scale);
END
$$;
COMMENT ON FUNCTION plum.cancel_codes(bigint, plum.code[]) IS
	'Cancel undistributed, unused codes (also after their expiry: undistributed codes never expire for the admin); their whole value goes back to the issuing admin''s pool. By the issuer or a super admin of the company. Returns the value returned.';

CREATE FUNCTION plum.expire_codes() RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_total numeric;
	v_companies bigint[] := plum_internal.caller_companies();
BEGIN
	-- undistributed codes are left alone (still cancellable); codes locked by a redemption are skipped
	WITH due AS (
		SELECT ic.code, ic.balance FROM plum_internal.issued_code ic
		WHERE ic.expires_at <= v_now AND ic.distributed_at IS NOT NULL AND ic.balance > 0 AND ic.cancelled_at IS NULL
			AND (v_companies IS NULL OR ic.company_id = ANY (v_companies))
		ORDER BY ic.code
		FOR UPDATE SKIP LOCKED),
	e AS (SELECT due.*, nextval('plum_internal.journal_entry_id_seq') AS e FROM due),
	upd AS (
		UPDATE plum_internal.issued_code ic SET balance = 0, expired_at = v_now,
			chain_head = plum_internal.entry_hash(ic.chain_head, e.e, ic.company_id, v_now, 'code_expire', e.balance, NULL, NULL,
				NULL, NULL, NULL, NULL, NULL, NULL, ic.campaign_id, NULL, ic.code, NULL, 0)
		FROM e
		WHERE ic.code = e.code
		RETURNING e.e, ic.code, ic.company_id, ic.campaign_id, e.balance AS gone, ic.chain_head),
	j AS (
		INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, campaign_id, code, balance_after, hash)
		SELECT upd.e, upd.company_id, v_now, 'code_expire', upd.gone, upd.campaign_id, upd.code, 0, upd.chain_head FROM upd
		RETURNING amount)
	SELECT coalesce(sum(j.amount), 0) INTO v_total FROM j;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION plum.expire_codes() IS
	'The codes expiry sweep (an addition to the SPEC): records the remaining balance of distributed codes past their expiry as breakage (code_expire) and sets it to 0. Undistributed codes stay cancellable. Idempotent, safe beside redemptions (skips codes they hold). Returns the amount expired now. Run it from pg_cron. A role confined to companies sweeps only theirs.';

-- Two branches: plum_admin members read the codes as they are (so WHERE code = ... uses the
-- index), other roles read NULL and code_masked; each role's rows pass its company filter.
CREATE VIEW plum.codes WITH (security_barrier) AS
	SELECT ic.code, ic.company_id, ic.campaign_id,
		round(ic.denomination, c.scale) AS denomination,
		round(ic.balance, c.scale) AS balance,
		CASE WHEN ic.cancelled_at IS NOT NULL THEN 'cancelled'
			WHEN ic.expired_at IS NOT NULL OR (ic.balance > 0 AND ic.expires_at <= plum.now()) THEN 'expired'
			WHEN ic.balance = 0 THEN 'redeemed'
			WHEN ic.distributed_at IS NULL THEN 'issued'
			ELSE 'distributed' END AS state,
		ic.expires_at, ic.admin_id, ic.issued_at, ic.distributed_at, ic.cancelled_at,
		c.base_currency AS currency,
		plum_internal.mask_code(ic.code::text) AS code_masked
	FROM plum_internal.issued_code ic JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR ic.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[])) AND (SELECT plum_internal.caller_sees_secrets())
	UNION ALL
	SELECT NULL::plum.code AS code, ic.company_id, ic.campaign_id,
		round(ic.denomination, c.scale) AS denomination,
		round(ic.balance, c.scale) AS balance,
		CASE WHEN ic.cancelled_at IS NOT NULL THEN 'cancelled'
			WHEN ic.expired_at IS NOT NULL OR (ic.balance > 0 AND ic.expires_at <= plum.now()) THEN 'expired'
			WHEN ic.balance = 0 THEN 'redeemed'
			WHEN ic.distributed_at IS NULL THEN 'issued'
			ELSE 'distributed' END AS state,
		ic.expires_at, ic.admin_id, ic.issued_at, ic.distributed_at, ic.cancelled_at,
		c.base_currency AS currency,
		plum_internal.mask_code(ic.code::text) AS code_masked
	FROM plum_internal.issued_code ic JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR ic.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[])) AND NOT (SELECT plum_internal.caller_sees_secrets());
COMMENT ON VIEW plum.codes IS 'Gift codes with their balance and state as of plum''s clock. A role confined to companies sees only theirs; the codes themselves (bearer secrets) only plum_admin members see in full.';
COMMENT ON COLUMN plum.codes.code IS 'The code, for plum_admin members and superusers; NULL for other roles (a code is a bearer secret), who read code_masked.';
COMMENT ON COLUMN plum.codes.company_id IS 'Company id.';
COMMENT ON COLUMN plum.codes.campaign_id IS 'The campaign it was issued for.';
COMMENT ON COLUMN plum.codes.denomination IS 'The value it was issued for.';
COMMENT ON COLUMN plum.codes.balance IS 'What is left to spend.';
COMMENT ON COLUMN plum.codes.state IS 'issued (not yet distributed), distributed, redeemed (balance 0), cancelled, or expired (past its expiry with a balance, or swept).';
COMMENT ON COLUMN plum.codes.expires_at IS 'When it stops being redeemable (NULL: never).';
COMMENT ON COLUMN plum.codes.admin_id IS 'The admin who issued it.';
COMMENT ON COLUMN plum.codes.issued_at IS 'When it was issued.';
COMMENT ON COLUMN plum.codes.distributed_at IS 'When it was first marked distributed or used (NULL: undistributed).';
COMMENT ON COLUMN plum.codes.cancelled_at IS 'When it was cancelled (NULL: not cancelled).';
COMMENT ON COLUMN plum.codes.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.codes.code_masked IS 'The code masked for everyone: its last group of four and its check symbol, the rest as * (****-****-2BCD-S).';

-- verify_codes(): replay the codes ledger against code balances (plum.verify() unions every area).
CREATE FUNCTION plum_internal.verify_codes(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id FROM plum_internal.company c
		WHERE verify_codes.company_id IS NULL OR c.company_id = verify_codes.company_id),
	flows AS (
		SELECT j.company_id, j.code,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_redeem'), 0) AS redeemed,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_expire'), 0) AS expired,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_cancel'), 0) AS cancelled,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_refund'), 0) AS refunded
		FROM plum_internal.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('code_redeem', 'code_expire', 'code_cancel', 'code_refund')
		GROUP BY j.company_id, j.code),
	per AS (
		SELECT coalesce(ic.company_id, f.company_id) AS company_id, coalesce(ic.code, f.code) AS code,
			ic.denomination, ic.balance,
			coalesce(f.redeemed, 0) AS redeemed, coalesce(f.expired, 0) AS expired, coalesce(f.cancelled, 0) AS cancelled,
			coalesce(f.refunded, 0) AS refunded
		FROM (SELECT x.* FROM plum_internal.issued_code x JOIN co USING (company_id)) AS ic
		FULL JOIN flows f ON f.code = ic.code AND f.company_id = ic.company_id),
	issued AS (
		SELECT co.company_id,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'code_issue'), 0) AS ledger,
			coalesce((SELECT sum(x.denomination) FROM plum_internal.issued_code x WHERE x.company_id = co.company_id), 0) AS codes
		FROM co)
	SELECT per.company_id, 'code balance',
			format('code %s: balance %s, ledger says %s (denomination %s - redeemed %s - expired %s - cancelled %s + refunded %s)',
				per.code, per.balance, per.denomination - per.redeemed - per.expired - per.cancelled + per.refunded,
				per.denomination, per.redeemed, per.expired, per.cancelled, per.refunded)
		FROM per WHERE per.denomination IS NOT NULL
			AND per.balance <> per.denomination - per.redeemed - per.expired - per.cancelled + per.refunded
	UNION ALL
	SELECT per.company_id, 'code unknown', format('code %s: the ledger has movements of a code that was not issued', per.code)
		FROM per WHERE per.denomination IS NULL
	UNION ALL
	SELECT issued.company_id, 'codes issued',
			format('codes issued: ledger says %s, the codes'' denominations add up to %s', issued.ledger, issued.codes)
		FROM issued WHERE issued.ledger <> issued.codes
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum_internal.verify_codes(bigint) IS
	'The codes part of plum.verify(): every code''s balance = denomination - redeemed - expired - cancelled + refunded (code_refund, by plum.refund()) per the ledger, and code_issue entries = the denominations issued, per company.';

REVOKE EXECUTE ON FUNCTION
	plum_internal.insert_codes(bigint, bigint, bigint, numeric, timestamptz, timestamptz, plum.code[]),
	plum.issue_codes(bigint, bigint, numeric, integer),
	plum.code_balance(plum.code),
	plum_internal.lock_codes(plum.code[], boolean),
	plum.redeem_codes(plum.code[], numeric, bigint, text, text),
	plum.mark_codes_distributed(plum.code[]),
	plum.cancel_codes(bigint, plum.code[]),
	plum.expire_codes(),
	plum_internal.verify_codes(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.issue_codes(bigint, bigint, numeric, integer),
	plum.mark_codes_distributed(plum.code[]),
	plum.cancel_codes(bigint, plum.code[]),
	plum.expire_codes()
	TO plum_admin;
GRANT EXECUTE ON FUNCTION
	plum.code_balance(plum.code),
	plum.redeem_codes(plum.code[], numeric, bigint, text, text)
	TO plum_app;
GRANT SELECT ON plum.codes TO plum_reader;
