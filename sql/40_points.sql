-- Points: accounts (one wallet row per recipient), the append-only ledger, idempotency keys,
-- and the points functions.

CREATE TABLE plum_internal.account (
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	recipient	plum.recipient NOT NULL,
	lots		plum.wallet COMPRESSION lz4 NOT NULL,
	next_expiry	timestamptz GENERATED ALWAYS AS (plum_internal.wallet_next_expiry(lots, '-infinity'::timestamptz)) STORED,
	chain_head	bytea,
	PRIMARY KEY (company_id, recipient)
) WITH (fillfactor = 80);
CREATE INDEX account_next_expiry ON plum_internal.account (next_expiry);
-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- any view's WHERE recipient = ... (without the company) finds the wallet through an index
CREATE INDEX account_recipient ON plum_internal.account (recipient);
-- @end

SELECT pg_catalog.pg_extension_config_dump('plum_internal.account', '');

-- @api
COMMENT ON TABLE plum_internal.account IS 'One row per recipient with points: the wallet of its lots. Written only by plum''s functions; read plum.wallets and plum.point_lots.';
COMMENT ON COLUMN plum_internal.account.company_id IS 'The company whose points these are.';
COMMENT ON COLUMN plum_internal.account.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum_internal.account.lots IS 'The wallet: the lots not yet consumed, in FIFO order (may hold lots expired since the last write until the sweep). Large wallets are TOASTed with lz4, several times cheaper to rewrite than pglz.';
COMMENT ON COLUMN plum_internal.account.next_expiry IS 'Earliest expiry among the stored lots: when the sweep next has work for this wallet.';
COMMENT ON COLUMN plum_internal.account.chain_head IS 'The head of the wallet''s chain: the hash of its last give, redeem, expire or restore ledger row.';

-- When a grant made at at expires: in UTC, so the session's TimeZone never changes it.
CREATE FUNCTION plum_internal.expiry_of(at timestamptz, validity interval) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN ((at AT TIME ZONE 'UTC') + validity) AT TIME ZONE 'UTC';
COMMENT ON FUNCTION plum_internal.expiry_of(timestamptz, interval) IS
	'Internal: the expiry of a grant issued at a given instant, computed in UTC.';

-- Lock a recipient's account (if any) and record the expiry of lots expired by at.
CREATE FUNCTION plum_internal.settle_account(company_id bigint, recipient plum.recipient, at timestamptz)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_lots plum.wallet;
	v_next timestamptz;
	v_gone plum.wallet;
	v_entry bigint;
	v_hash bytea;
BEGIN
	SELECT a.lots, a.next_expiry INTO v_lots, v_next FROM plum_internal.account a
		WHERE a.company_id = settle_account.company_id AND a.recipient = settle_account.recipient
		FOR UPDATE;
	IF FOUND AND v_next <= at THEN
		v_gone := plum_internal.wallet_expired(v_lots, at);
		v_entry := nextval('plum_internal.journal_entry_id_seq');
		UPDATE plum_internal.account a SET lots = plum_internal.wallet_live(v_lots, at),
			chain_head = plum_internal.entry_hash(a.chain_head, v_entry, settle_account.company_id, settle_account.at, 'expire',
				plum_internal.wallet_total(v_gone), NULL, settle_account.recipient, NULL, NULL, NULL, NULL, NULL, v_gone,
				NULL, NULL, NULL, NULL, NULL)
			WHERE a.company_id = settle_account.company_id AND a.recipient = settle_account.recipient
			RETURNING a.chain_head INTO v_hash;
		INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, recipient, lots, hash)
			VALUES (v_entry, settle_account.company_id, settle_account.at, 'expire', plum_internal.wallet_total(v_gone),
				settle_account.recipient, v_gone, v_hash);
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.settle_account(bigint, plum.recipient, timestamptz) IS
	'Internal: lock a recipient''s wallet and record (as breakage) the lots that have expired by the given instant.';

CREATE FUNCTION plum.give_points(admin_id bigint, recipient plum.recipient, amount numeric,
		note text DEFAULT NULL, idempotency_key text DEFAULT NULL, campaign_id bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_scale smallint;
	v_validity interval;
	v_max numeric;
	v_now timestamptz := plum.now();
	v_entry bigint;
	v_prior bigint;
	v_pool numeric;
	v_hash bytea;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(recipient, 'recipient');
	SELECT c.company_id, c.scale, c.points_validity, c.max_grant INTO v_company, v_scale, v_validity, v_max
		FROM plum_internal.admin_company(give_points.admin_id) c;
	amount := plum_internal.valid_amount(amount, v_scale);
	PERFORM plum_internal.check_grant(v_company, v_scale, v_max, amount);
	IF give_points.campaign_id IS NOT NULL THEN
		PERFORM plum_internal.check_campaign(give_points.admin_id, give_points.campaign_id, 'points');
	END IF;
	v_entry := nextval('plum_internal.journal_entry_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum_internal.claim_key(v_company, idempotency_key, 'give_points',
			format('%s, %s, %s, %s', give_points.admin_id, recipient, amount, coalesce(quote_literal(note), 'NULL'))
				|| CASE WHEN give_points.campaign_id IS NULL THEN '' ELSE format(', campaign %s', give_points.campaign_id) END, v_entry);
		IF v_prior IS NOT NULL THEN
			RETURN v_prior;
		END IF;
	END IF;
	v_pool := plum_internal.debit_pool(give_points.admin_id, amount, v_scale);
	PERFORM plum_internal.settle_account(v_company, recipient, v_now);
	INSERT INTO plum_internal.account AS a (company_id, recipient, lots, chain_head)
		VALUES (v_company, recipient,
			plum_internal.wallet_add(plum_internal.wallet_empty(v_scale), v_entry, v_now, plum_internal.expiry_of(v_now, v_validity), amount, v_now),
			plum_internal.entry_hash(NULL, v_entry, v_company, v_now, 'give', amount, give_points.admin_id, give_points.recipient,
				v_entry, NULL, NULL, give_points.note, give_points.idempotency_key, NULL, give_points.campaign_id, NULL, NULL, NULL, NULL))
		ON CONFLICT ON CONSTRAINT account_pkey DO UPDATE
		SET lots = plum_internal.wallet_add(plum_internal.wallet_live(a.lots, v_now), v_entry, v_now, plum_internal.expiry_of(v_now, v_validity), amount, v_now),
			chain_head = plum_internal.entry_hash(a.chain_head, v_entry, v_company, v_now, 'give', amount, give_points.admin_id,
				give_points.recipient, v_entry, NULL, NULL, give_points.note, give_points.idempotency_key, NULL, give_points.campaign_id, NULL, NULL, NULL, NULL)
		RETURNING a.chain_head INTO v_hash;
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, note, idempotency_key, hash, campaign_id)
		VALUES (v_entry, v_company, v_now, 'give', amount, give_points.admin_id, recipient, v_entry, note, idempotency_key, v_hash, give_points.campaign_id);
	RETURN v_entry;
END
$$;
COMMENT ON FUNCTION plum.give_points(bigint, plum.recipient, numeric, text, text, bigint) IS
	'Give points from the admin''s pool to a recipient: a new lot that expires after the company''s points validity. Returns the lot id. Idempotent with a key. campaign_id (since 0.2.0): a points campaign of the admin''s company the grant counts for in plum.campaign_stats (unknown: PU005; another company''s, a codes or links campaign: PU009; expired: PU002).';

-- In C (src/bulk.c): the arguments checked once (in this order: admin, arrays, a NULL recipient,
-- an invalid amount, the largest grant, the campaign, then the pool), the wallets locked or created
-- in recipient order (the one canonical order, so two bulk grants with overlapping recipients never
-- deadlock; a wallet created meanwhile by another call is locked and chained on its head), the
-- existing wallets' expired lots recorded before their grants, one ledger row per grant, chained per
-- wallet in entry-id order, one lot per recipient per call (grants of one call share their expiry, so
-- they merge). New wallets and the ledger rows are written without the executor (src/bulkinsert.c);
-- the foreign key of the new wallets is checked once, by locking the company row as its check would.
CREATE FUNCTION plum.give_points_bulk(admin_id bigint, recipients plum.recipient[], amounts numeric[], note text DEFAULT NULL,
		campaign_id bigint DEFAULT NULL)
	RETURNS integer
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_give_points_bulk';
COMMENT ON FUNCTION plum.give_points_bulk(bigint, plum.recipient[], numeric[], text, bigint) IS
	'Give many grants at once from the admin''s pool (recipients[i] gets amounts[i]); all or nothing. Returns the number of grants made. campaign_id (since 0.2.0): a points campaign of the admin''s company every grant counts for (as in plum.give_points()).';

CREATE FUNCTION plum.redeem_points(company_id bigint, recipient plum.recipient, amount numeric,
		reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_redeem_points';
COMMENT ON FUNCTION plum.redeem_points(bigint, plum.recipient, numeric, text, text) IS
	'Redeem points from a recipient''s wallet, oldest lots first, never expired ones; all or nothing (PU001 when short). Returns the redemption id. Idempotent with a key.';

-- Not SECURITY DEFINER: the C function reads the wallet through the account table's primary key
-- directly (no SQL, so no search_path and no table privilege are involved).
CREATE FUNCTION plum.points_balance(company_id bigint, recipient plum.recipient) RETURNS numeric
	LANGUAGE C STABLE
	AS 'MODULE_PATHNAME', 'plum_points_balance';
COMMENT ON FUNCTION plum.points_balance(bigint, plum.recipient) IS
	'A recipient''s live points balance at plum''s clock (0 without a wallet); expired lots never count.';

CREATE FUNCTION plum.reverse_redemption(redemption_id bigint, amount numeric DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_red plum_internal.journal;
	v_scale smallint;
	v_now timestamptz := plum.now();
	v_entry bigint;
	v_prior bigint;
	v_done numeric;
	v_left numeric;
	v_lots plum.wallet;
	v_res record;
	v_gone plum.wallet;
	v_head bytea;
	v_hash bytea;
	v_expiry bigint;
	v_last bytea;
BEGIN
	PERFORM plum_internal.not_null(redemption_id, 'redemption_id');
	SELECT * INTO v_red FROM plum_internal.journal j WHERE j.entry_id = reverse_redemption.redemption_id AND j.kind = 'redeem';
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown redemption', format('There is no points redemption %s.', redemption_id));
	END IF;
	PERFORM plum_internal.check_company(v_red.company_id);
	SELECT c.scale INTO v_scale FROM plum_internal.company c WHERE c.company_id = v_red.company_id;
	IF amount IS NOT NULL THEN
		amount := plum_internal.valid_amount(amount, v_scale);
	END IF;
	v_entry := nextval('plum_internal.journal_entry_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum_internal.claim_key(v_red.company_id, idempotency_key, 'reverse_redemption',
			format('%s, %s', redemption_id, coalesce(amount::text, 'NULL')), v_entry);
		IF v_prior IS NOT NULL THEN
			RETURN (SELECT round(j.amount, v_scale) FROM plum_internal.journal j WHERE j.entry_id = v_prior);
		END IF;
	END IF;
	-- the wallet's row lock serialises reversals (and redemptions) of this recipient
	PERFORM plum_internal.settle_account(v_red.company_id, v_red.recipient, v_now);
	SELECT a.lots, a.chain_head INTO STRICT v_lots, v_head FROM plum_internal.account a
		WHERE a.company_id = v_red.company_id AND a.recipient = v_red.recipient;
	SELECT coalesce(sum(j.amount), 0) INTO v_done FROM plum_internal.journal j
		WHERE j.redemption_id = reverse_redemption.redemption_id AND j.kind = 'restore';
	v_left := v_red.amount - v_done;
	IF amount IS NULL THEN
		amount := v_left;
	END IF;
	IF v_left <= 0 OR amount > v_left THEN
		PERFORM plum_internal.raise('PU008', 'amount exceeds what is left to reverse',
			format('Redemption %s took %s; %s was reversed already, %s is left; requested %s.', redemption_id,
				round(v_red.amount, v_scale), round(v_done, v_scale), round(v_left, v_scale), round(amount, v_scale)));
	END IF;
	SELECT * INTO v_res FROM plum_internal.wallet_restore(v_lots, v_red.lots, v_done, amount, v_now);
	v_gone := v_res.expired;
	-- the wallet is locked (settle_account): its head moves past the restore and, if any, the expiry of restored points
	v_hash := plum_internal.entry_hash(v_head, v_entry, v_red.company_id, v_now, 'restore', amount, NULL,
		v_red.recipient, NULL, redemption_id, NULL, NULL, idempotency_key, v_res.restored, NULL, NULL, NULL, NULL, NULL);
	v_last := v_hash;
	IF plum_internal.wallet_total(v_gone) > 0 THEN
		v_expiry := nextval('plum_internal.journal_entry_id_seq');
		v_last := plum_internal.entry_hash(v_hash, v_expiry, v_red.company_id, v_now, 'expire', plum_internal.wallet_total(v_gone),
			NULL, v_red.recipient, NULL, redemption_id, NULL, NULL, NULL, v_gone, NULL, NULL, NULL, NULL, NULL);
	END IF;
	UPDATE plum_internal.account a SET lots = v_res.wallet, chain_head = v_last
		WHERE a.company_id = v_red.company_id AND a.recipient = v_red.recipient;
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, recipient, redemption_id, idempotency_key, lots, hash)
		VALUES (v_entry, v_red.company_id, v_now, 'restore', amount, v_red.recipient, redemption_id, idempotency_key, v_res.restored, v_hash);
	IF v_expiry IS NOT NULL THEN
		-- points restored to lots that have expired since come back as already expired (breakage)
		INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, recipient, redemption_id, lots, hash)
			VALUES (v_expiry, v_red.company_id, v_now, 'expire', plum_internal.wallet_total(v_gone), v_red.recipient, redemption_id,
				v_gone, v_last);
	END IF;
	RETURN round(amount, v_scale);
END
$$;
COMMENT ON FUNCTION plum.reverse_redemption(bigint, numeric, text) IS
	'Reverse all (amount NULL) or part of a points redemption: the points go back to the lots they came from, latest expiry first, keeping their expiry (already-expired lots get them back as breakage). Never more than was redeemed (PU008). Returns the amount restored.';

-- The sweep in C (src/expire.c): it walks account_next_expiry, locks each wallet due as FOR UPDATE
-- SKIP LOCKED does (wallets locked by a redemption are skipped: that redemption drops and records
-- their expired lots), and writes the wallet and its 'expire' ledger row, chained, without a plan
-- or an SQL function call per row; the ledger rows go in batches, as COPY writes rows.
CREATE FUNCTION plum.expire_points() RETURNS numeric
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_expire_points';
COMMENT ON FUNCTION plum.expire_points() IS
	'The expiry sweep: records lots expired by plum''s clock as breakage in the ledger and drops them from wallets. Idempotent, safe beside redemptions (skips wallets they hold). Returns the amount expired now. Run it from pg_cron. A role confined to companies sweeps only theirs.';

CREATE VIEW plum.wallets WITH (security_barrier) AS
	SELECT a.company_id, a.recipient,
		plum_internal.wallet_balance(a.lots, plum.now()) AS balance,
		plum_internal.wallet_next_expiry(a.lots, plum.now()) AS next_expiry,
		c.base_currency AS currency,
		plum.recipient_kind(a.recipient) AS recipient_kind,
		plum_internal.wallet_pending(a.lots, plum.now()) AS pending
	FROM plum_internal.account a JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.wallets IS 'Points wallets: live balance and next expiry as of plum''s clock (expired lots never count, swept or not). A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.wallets.company_id IS 'Company id.';
COMMENT ON COLUMN plum.wallets.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum.wallets.balance IS 'Live balance now.';
COMMENT ON COLUMN plum.wallets.next_expiry IS 'When the next live lot expires (NULL when none).';
COMMENT ON COLUMN plum.wallets.currency IS 'The company''s base currency (1 point = 1 unit).';
COMMENT ON COLUMN plum.wallets.recipient_kind IS 'email or phone.';
COMMENT ON COLUMN plum.wallets.pending IS 'Pending points: earned but not available yet (a rule''s return window); they count in no balance until their lot''s available_at.';

CREATE VIEW plum.point_lots WITH (security_barrier) AS
	SELECT a.company_id, a.recipient, l.lot_id, l.issued_at, l.expires_at, l.amount, l.remaining, l.available_at
	FROM plum_internal.account a, LATERAL plum_internal.wallet_lots(a.lots) AS l
	WHERE l.expires_at > plum.now() AND ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.point_lots IS 'Live and pending points lots (not expired at plum''s clock), in FIFO order within each wallet. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.point_lots.company_id IS 'Company id.';
COMMENT ON COLUMN plum.point_lots.recipient IS 'The recipient.';
COMMENT ON COLUMN plum.point_lots.lot_id IS 'Lot id (the ledger entry of the grant; lots with one expiry instant are merged under the smallest id).';
COMMENT ON COLUMN plum.point_lots.issued_at IS 'When the lot was issued.';
COMMENT ON COLUMN plum.point_lots.expires_at IS 'When the lot stops counting.';
COMMENT ON COLUMN plum.point_lots.amount IS 'The lot''s original amount.';
COMMENT ON COLUMN plum.point_lots.remaining IS 'What is left of it.';
COMMENT ON COLUMN plum.point_lots.available_at IS 'When the lot starts counting (= issued_at unless pending: a rule''s return window); before it the lot is pending.';
-- verify_points(): replay the points ledger against wallets and redemptions (plum.verify() in 90_verify.sql unions every area).

CREATE FUNCTION plum_internal.verify_points(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id, c.scale FROM plum_internal.company c
		WHERE verify_points.company_id IS NULL OR c.company_id = verify_points.company_id),
	-- per wallet: what the ledger says it holds (given - redeemed - expired + restored)
	flows AS (
		SELECT j.company_id, j.recipient,
			sum(CASE j.kind WHEN 'give' THEN j.amount WHEN 'restore' THEN j.amount
				WHEN 'redeem' THEN -j.amount WHEN 'expire' THEN -j.amount WHEN 'takeback' THEN -j.amount END) AS held
		FROM plum_internal.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('give', 'redeem', 'expire', 'restore', 'takeback')
		GROUP BY j.company_id, j.recipient),
	wal AS (
		SELECT coalesce(a.company_id, f.company_id) AS company_id, coalesce(a.recipient, f.recipient) AS recipient,
			coalesce(plum_internal.wallet_total(a.lots), 0) AS stored, coalesce(f.held, 0) AS held
		FROM (SELECT a.* FROM plum_internal.account a JOIN co USING (company_id)) a
		FULL JOIN flows f ON f.company_id = a.company_id AND f.recipient = a.recipient),
	red AS (
		SELECT r.company_id, r.entry_id, r.amount,
			coalesce(plum_internal.wallet_total(r.lots), -1) AS taken,
			coalesce((SELECT sum(x.amount) FROM plum_internal.journal x WHERE x.redemption_id = r.entry_id AND x.kind = 'restore'), 0) AS restored
		FROM plum_internal.journal r JOIN co USING (company_id) WHERE r.kind = 'redeem'),
	totals AS (
		SELECT co.company_id, co.scale,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'give'), 0) AS given,
			coalesce((SELECT sum(plum_internal.wallet_total(a.lots)) FROM plum_internal.account a WHERE a.company_id = co.company_id), 0) AS held,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'redeem'), 0) AS redeemed,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'expire'), 0) AS expired,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'restore'), 0) AS restored,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'takeback'), 0) AS taken_back
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
			format('given %s; held %s, redeemed %s, expired %s, restored %s%s', t.given, t.held, t.redeemed, t.expired, t.restored,
				CASE WHEN t.taken_back <> 0 THEN format(', taken back %s', t.taken_back) ELSE '' END)
		FROM totals t WHERE t.given <> t.held + t.redeemed + t.expired - t.restored + t.taken_back
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum_internal.verify_points(bigint) IS
	'The points part of plum.verify(): wallets against the ledger, redemptions against their lots, given = live + redeemed + expired - restored + taken back (earned points taken back by reverse_event).';

REVOKE EXECUTE ON FUNCTION
	plum.give_points(bigint, plum.recipient, numeric, text, text, bigint),
	plum.give_points_bulk(bigint, plum.recipient[], numeric[], text, bigint),
	plum.redeem_points(bigint, plum.recipient, numeric, text, text),
	plum.points_balance(bigint, plum.recipient),
	plum.reverse_redemption(bigint, numeric, text),
	plum.expire_points(),
	plum_internal.verify_points(bigint),
	plum_internal.settle_account(bigint, plum.recipient, timestamptz),
	plum_internal.expiry_of(timestamptz, interval)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.redeem_points(bigint, plum.recipient, numeric, text, text),
	plum.points_balance(bigint, plum.recipient),
	plum.reverse_redemption(bigint, numeric, text)
	TO plum_app;
GRANT EXECUTE ON FUNCTION
	plum.give_points(bigint, plum.recipient, numeric, text, text, bigint),
	plum.give_points_bulk(bigint, plum.recipient[], numeric[], text, bigint),
	plum.expire_points()
	TO plum_admin;
GRANT SELECT ON plum.wallets, plum.point_lots TO plum_reader;
