-- Points: accounts (one wallet row per recipient), the append-only ledger, idempotency keys,
-- and the points functions.

CREATE TABLE plum.account (
	company_id	bigint NOT NULL REFERENCES plum.company,
	recipient	plum.recipient NOT NULL,
	lots		plum.wallet COMPRESSION lz4 NOT NULL,
	next_expiry	timestamptz GENERATED ALWAYS AS (plum.wallet_next_expiry(lots, '-infinity'::timestamptz)) STORED,
	PRIMARY KEY (company_id, recipient)
) WITH (fillfactor = 80);
CREATE INDEX account_next_expiry ON plum.account (next_expiry);
COMMENT ON TABLE plum.account IS 'One row per recipient with points: the wallet of its lots. Written only by plum''s functions; read plum.wallets and plum.point_lots.';
COMMENT ON COLUMN plum.account.company_id IS 'The company whose points these are.';
COMMENT ON COLUMN plum.account.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum.account.lots IS 'The wallet: the lots not yet consumed, in FIFO order (may hold lots expired since the last write until the sweep). Large wallets are TOASTed with lz4, several times cheaper to rewrite than pglz.';
COMMENT ON COLUMN plum.account.next_expiry IS 'Earliest expiry among the stored lots: when the sweep next has work for this wallet.';

CREATE TABLE plum.journal (
	entry_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	at			timestamptz NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('create', 'give', 'redeem', 'expire', 'restore',
						'code_issue', 'code_redeem', 'code_cancel', 'code_expire',
						'link_create', 'link_redeem', 'link_cancel', 'reserve', 'unreserve')),
	amount		numeric NOT NULL CHECK (amount >= 0),
	admin_id	bigint,
	recipient	plum.recipient,
	lot_id		bigint,
	redemption_id bigint,
	reference	text,
	note		text,
	idempotency_key text,
	lots		plum.wallet COMPRESSION lz4,
	campaign_id	bigint,
	item_id		bigint,
	code		plum.code,
	token		text,
	balance_after numeric
);
CREATE INDEX journal_redemption ON plum.journal (redemption_id) WHERE redemption_id IS NOT NULL;
COMMENT ON TABLE plum.journal IS 'The append-only ledger: one row per movement of value. UPDATE, DELETE and TRUNCATE are refused. Read it through plum.ledger.';
COMMENT ON COLUMN plum.journal.entry_id IS 'Entry id; a grant''s entry id is its lot id, a redemption''s is its redemption id.';
COMMENT ON COLUMN plum.journal.company_id IS 'The company.';
COMMENT ON COLUMN plum.journal.at IS 'When (plum clock).';
COMMENT ON COLUMN plum.journal.kind IS 'create, give, redeem, expire, restore (points); code_* and link_* (codes and links); reserve, unreserve (pool value held for a scheduled points grant, and given back at its release or cancellation).';
COMMENT ON COLUMN plum.journal.amount IS 'The value moved (never negative; the kind gives the direction).';
COMMENT ON COLUMN plum.journal.admin_id IS 'The admin whose pool was used (create, give).';
COMMENT ON COLUMN plum.journal.recipient IS 'The recipient whose wallet changed (give, redeem, expire, restore).';
COMMENT ON COLUMN plum.journal.lot_id IS 'The lot created by a grant.';
COMMENT ON COLUMN plum.journal.redemption_id IS 'The redemption a restore (or the expiry of restored points) belongs to.';
COMMENT ON COLUMN plum.journal.reference IS 'The caller''s reference, e.g. an order id.';
COMMENT ON COLUMN plum.journal.note IS 'A free note given with a grant.';
COMMENT ON COLUMN plum.journal.idempotency_key IS 'The idempotency key of the call, if any.';
COMMENT ON COLUMN plum.journal.lots IS 'The lot portions involved: taken by a redemption, restored by a reversal, or expired.';
COMMENT ON COLUMN plum.journal.campaign_id IS 'The campaign of a code or link movement.';
COMMENT ON COLUMN plum.journal.item_id IS 'The catalog item a redemption was for, if named.';
COMMENT ON COLUMN plum.journal.code IS 'The code of a code movement (code_redeem, code_cancel, code_expire).';
COMMENT ON COLUMN plum.journal.token IS 'The link of a link movement (link_create, link_redeem, link_cancel).';
COMMENT ON COLUMN plum.journal.balance_after IS 'The code''s balance after this movement (code_redeem).';
CREATE INDEX journal_code ON plum.journal (code) WHERE code IS NOT NULL;

-- The ledger is append-only, for everyone.
CREATE FUNCTION plum.journal_append_only() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum.raise('PU009', 'the ledger is append-only',
		format('%s on plum.journal is not permitted.', TG_OP),
		'Record a correcting movement with plum''s functions instead (e.g. plum.reverse_redemption()).');
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION plum.journal_append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on the ledger (PU009).';
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON plum.journal
	FOR EACH ROW EXECUTE FUNCTION plum.journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON plum.journal
	FOR EACH STATEMENT EXECUTE FUNCTION plum.journal_append_only();

CREATE TABLE plum.idempotency (
	company_id	bigint NOT NULL,
	key			text NOT NULL,
	operation	text NOT NULL,
	arguments	text NOT NULL,
	result_entry bigint NOT NULL,
	at			timestamptz NOT NULL,
	PRIMARY KEY (company_id, key)
);
COMMENT ON TABLE plum.idempotency IS 'Idempotency keys (per company): the first call''s operation, arguments and result entry. A retry with the same arguments returns that result; other arguments raise PU006.';
COMMENT ON COLUMN plum.idempotency.company_id IS 'The company the key belongs to.';
COMMENT ON COLUMN plum.idempotency.key IS 'The caller''s idempotency key.';
COMMENT ON COLUMN plum.idempotency.operation IS 'The function first called with the key.';
COMMENT ON COLUMN plum.idempotency.arguments IS 'The first call''s arguments, normalised.';
COMMENT ON COLUMN plum.idempotency.result_entry IS 'The ledger entry that is the first call''s result.';
COMMENT ON COLUMN plum.idempotency.at IS 'When the key was first used (plum clock).';

-- Claim an idempotency key for entry_id. NULL: this call owns the key and goes on.
-- Otherwise the first call's result entry (same operation and arguments) or PU006.
-- A concurrent first call with the key makes this wait for its outcome.
CREATE FUNCTION plum.claim_key(company_id bigint, key text, operation text, arguments text, entry_id bigint)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_first plum.idempotency;
BEGIN
	IF length(key) = 0 OR length(key) > 200 THEN
		PERFORM plum.raise('22023', 'invalid idempotency key',
			format('The key is %s characters long; it must have 1 to 200.', length(key)));
	END IF;
	INSERT INTO plum.idempotency AS i (company_id, key, operation, arguments, result_entry, at)
		VALUES (claim_key.company_id, claim_key.key, claim_key.operation, claim_key.arguments, claim_key.entry_id, plum.now())
		ON CONFLICT ON CONSTRAINT idempotency_pkey DO NOTHING;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO STRICT v_first FROM plum.idempotency i
		WHERE i.company_id = claim_key.company_id AND i.key = claim_key.key;
	IF v_first.operation <> claim_key.operation OR v_first.arguments <> claim_key.arguments THEN
		PERFORM plum.raise('PU006', 'idempotency key reused with other arguments',
			format('The key "%s" was first used for %s(%s); this call is %s(%s).', key,
				v_first.operation, v_first.arguments, operation, arguments),
			'Use a new key for a new operation.');
	END IF;
	RETURN v_first.result_entry;
END
$$;
COMMENT ON FUNCTION plum.claim_key(bigint, text, text, text, bigint) IS
	'Internal: claim an idempotency key; NULL when this call owns it, else the first call''s result entry, or PU006 for other arguments.';

-- When a grant made at at expires: in UTC, so the session's TimeZone never changes it.
CREATE FUNCTION plum.expiry_of(at timestamptz, validity interval) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN ((at AT TIME ZONE 'UTC') + validity) AT TIME ZONE 'UTC';
COMMENT ON FUNCTION plum.expiry_of(timestamptz, interval) IS
	'Internal: the expiry of a grant issued at a given instant, computed in UTC.';

-- Lock a recipient's account (if any) and record the expiry of lots expired by at.
CREATE FUNCTION plum.settle_account(company_id bigint, recipient plum.recipient, at timestamptz)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_lots plum.wallet;
	v_next timestamptz;
	v_gone plum.wallet;
BEGIN
	SELECT a.lots, a.next_expiry INTO v_lots, v_next FROM plum.account a
		WHERE a.company_id = settle_account.company_id AND a.recipient = settle_account.recipient
		FOR UPDATE;
	IF FOUND AND v_next <= at THEN
		v_gone := plum.wallet_expired(v_lots, at);
		UPDATE plum.account a SET lots = plum.wallet_live(v_lots, at)
			WHERE a.company_id = settle_account.company_id AND a.recipient = settle_account.recipient;
		INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)
			VALUES (settle_account.company_id, settle_account.at, 'expire', plum.wallet_total(v_gone),
				settle_account.recipient, v_gone);
	END IF;
END
$$;
COMMENT ON FUNCTION plum.settle_account(bigint, plum.recipient, timestamptz) IS
	'Internal: lock a recipient''s wallet and record (as breakage) the lots that have expired by the given instant.';

CREATE FUNCTION plum.give_points(admin_id bigint, recipient plum.recipient, amount numeric,
		note text DEFAULT NULL, idempotency_key text DEFAULT NULL)
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
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(recipient, 'recipient');
	SELECT a.company_id, c.scale, c.points_validity, c.max_grant INTO v_company, v_scale, v_validity, v_max
		FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = give_points.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', give_points.admin_id));
	END IF;
	amount := plum.valid_amount(amount, v_scale);
	IF amount > v_max THEN
		PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
			format('The amount is %s; the largest grant of company %s is %s.', amount, v_company, round(v_max, v_scale)),
			'Split the grant, or raise the company''s largest grant.');
	END IF;
	v_entry := nextval('plum.journal_entry_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum.claim_key(v_company, idempotency_key, 'give_points',
			format('%s, %s, %s, %s', give_points.admin_id, recipient, amount, coalesce(quote_literal(note), 'NULL')), v_entry);
		IF v_prior IS NOT NULL THEN
			RETURN v_prior;
		END IF;
	END IF;
	UPDATE plum.admin a SET pool = a.pool - amount
		WHERE a.admin_id = give_points.admin_id AND a.pool >= amount RETURNING a.pool INTO v_pool;
	IF NOT FOUND THEN
		SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = give_points.admin_id;
		PERFORM plum.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s.', give_points.admin_id, round(v_pool, v_scale), amount),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	PERFORM plum.settle_account(v_company, recipient, v_now);
	INSERT INTO plum.account AS a (company_id, recipient, lots)
		VALUES (v_company, recipient,
			plum.wallet_add(plum.wallet_empty(v_scale), v_entry, v_now, plum.expiry_of(v_now, v_validity), amount, v_now))
		ON CONFLICT ON CONSTRAINT account_pkey DO UPDATE
		SET lots = plum.wallet_add(plum.wallet_live(a.lots, v_now), v_entry, v_now, plum.expiry_of(v_now, v_validity), amount, v_now);
	INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, note, idempotency_key)
		VALUES (v_entry, v_company, v_now, 'give', amount, give_points.admin_id, recipient, v_entry, note, idempotency_key);
	RETURN v_entry;
END
$$;
COMMENT ON FUNCTION plum.give_points(bigint, plum.recipient, numeric, text, text) IS
	'Give points from the admin''s pool to a recipient: a new lot that expires after the company''s points validity. Returns the lot id. Idempotent with a key.';

CREATE FUNCTION plum.give_points_bulk(admin_id bigint, recipients plum.recipient[], amounts numeric[], note text DEFAULT NULL)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_scale smallint;
	v_validity interval;
	v_max numeric;
	v_now timestamptz := plum.now();
	v_expiry timestamptz;
	v_n integer;
	v_bad bigint;
	v_total numeric;
	v_pool numeric;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(recipients, 'recipients');
	PERFORM plum.not_null(amounts, 'amounts');
	SELECT a.company_id, c.scale, c.points_validity, c.max_grant INTO v_company, v_scale, v_validity, v_max
		FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = give_points_bulk.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', give_points_bulk.admin_id));
	END IF;
	IF array_ndims(recipients) > 1 OR array_ndims(amounts) > 1 THEN
		PERFORM plum.raise('22023', 'recipients and amounts must be one-dimensional arrays');
	END IF;
	v_n := cardinality(recipients);
	IF v_n <> cardinality(amounts) THEN
		PERFORM plum.raise('22023', 'recipients and amounts differ in length',
			format('There are %s recipients and %s amounts.', v_n, cardinality(amounts)));
	END IF;
	IF v_n = 0 THEN
		RETURN 0;
	END IF;
	SELECT min(i) INTO v_bad FROM unnest(recipients) WITH ORDINALITY AS u(r, i) WHERE r IS NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('22004', format('recipient #%s must not be null', v_bad));
	END IF;
	-- the first amount that is not a valid grant: let valid_amount() say why
	SELECT min(i) INTO v_bad FROM unnest(amounts) WITH ORDINALITY AS u(a, i)
		WHERE a IS NULL OR NOT (a > 0 AND a < 10::numeric ^ (18 - v_scale) AND a = round(a, v_scale));
	IF v_bad IS NOT NULL THEN
		PERFORM plum.valid_amount(amounts[v_bad], v_scale, format('amount #%s', v_bad));
	END IF;
	SELECT min(i) INTO v_bad FROM unnest(amounts) WITH ORDINALITY AS u(a, i) WHERE a > v_max;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
			format('Amount #%s is %s; the largest grant of company %s is %s.', v_bad,
				round(amounts[v_bad], v_scale), v_company, round(v_max, v_scale)),
			'Split the grant, or raise the company''s largest grant.');
	END IF;
	SELECT sum(a) INTO v_total FROM unnest(amounts) AS a;
	UPDATE plum.admin a SET pool = a.pool - v_total
		WHERE a.admin_id = give_points_bulk.admin_id AND a.pool >= v_total RETURNING a.pool INTO v_pool;
	IF NOT FOUND THEN
		SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = give_points_bulk.admin_id;
		PERFORM plum.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s in %s grants.', give_points_bulk.admin_id,
				round(v_pool, v_scale), round(v_total, v_scale), v_n),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	v_expiry := plum.expiry_of(v_now, v_validity);

	-- lock every existing wallet of these recipients in one pass, in recipient order: the one
	-- canonical order, so two bulk grants with overlapping recipients never deadlock
	PERFORM 1 FROM plum.account a JOIN (SELECT DISTINCT r FROM unnest(recipients) AS r) t ON a.recipient = t.r
		WHERE a.company_id = v_company ORDER BY a.recipient FOR UPDATE OF a;

	-- record the expiry of lots that these recipients' wallets hold past their expiry
	WITH targets AS (SELECT DISTINCT r FROM unnest(recipients) AS r),
	due AS (
		SELECT a.recipient, a.lots FROM plum.account a JOIN targets t ON a.recipient = t.r
		WHERE a.company_id = v_company AND a.next_expiry <= v_now),
	upd AS (
		UPDATE plum.account a SET lots = plum.wallet_live(due.lots, v_now) FROM due
		WHERE a.company_id = v_company AND a.recipient = due.recipient
		RETURNING a.recipient, plum.wallet_expired(due.lots, v_now) AS gone)
	INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)
		SELECT v_company, v_now, 'expire', plum.wallet_total(upd.gone), upd.recipient, upd.gone FROM upd;

	-- one ledger entry per grant; one lot per recipient (grants of one call share their expiry, so they merge)
	WITH g AS MATERIALIZED (
		SELECT u.r, round(u.a, v_scale) AS a, nextval('plum.journal_entry_id_seq') AS e
		FROM unnest(recipients, amounts) AS u(r, a)),
	j AS (
		INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, note)
		SELECT g.e, v_company, v_now, 'give', g.a, give_points_bulk.admin_id, g.r, g.e, note FROM g),
	per AS (SELECT g.r, min(g.e) AS e, sum(g.a) AS a FROM g GROUP BY g.r)
	INSERT INTO plum.account AS acc (company_id, recipient, lots)
		SELECT v_company, per.r, plum.wallet_add(plum.wallet_empty(v_scale), per.e, v_now, v_expiry, per.a, v_now)
		FROM per ORDER BY per.r
		ON CONFLICT ON CONSTRAINT account_pkey DO UPDATE
		SET lots = (SELECT plum.wallet_add(plum.wallet_live(acc.lots, v_now), l.lot_id, l.issued_at, l.expires_at, l.amount, v_now)
					FROM plum.wallet_lots(EXCLUDED.lots) AS l);
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.give_points_bulk(bigint, plum.recipient[], numeric[], text) IS
	'Give many grants at once from the admin''s pool (recipients[i] gets amounts[i]); all or nothing. Returns the number of grants made.';

CREATE FUNCTION plum.redeem_points(company_id bigint, recipient plum.recipient, amount numeric,
		reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_redeem_points';
COMMENT ON FUNCTION plum.redeem_points(bigint, plum.recipient, numeric, text, text) IS
	'Redeem points from a recipient''s wallet, oldest lots first, never expired ones; all or nothing (PU001 when short). Returns the redemption id. Idempotent with a key.';

CREATE FUNCTION plum.points_balance(company_id bigint, recipient plum.recipient) RETURNS numeric
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_points_balance';
COMMENT ON FUNCTION plum.points_balance(bigint, plum.recipient) IS
	'A recipient''s live points balance at plum''s clock (0 without a wallet); expired lots never count.';

CREATE FUNCTION plum.reverse_redemption(redemption_id bigint, amount numeric DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_red plum.journal;
	v_scale smallint;
	v_now timestamptz := plum.now();
	v_entry bigint;
	v_prior bigint;
	v_done numeric;
	v_left numeric;
	v_lots plum.wallet;
	v_res record;
	v_gone plum.wallet;
BEGIN
	PERFORM plum.not_null(redemption_id, 'redemption_id');
	SELECT * INTO v_red FROM plum.journal j WHERE j.entry_id = reverse_redemption.redemption_id AND j.kind = 'redeem';
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown redemption', format('There is no points redemption %s.', redemption_id));
	END IF;
	SELECT c.scale INTO v_scale FROM plum.company c WHERE c.company_id = v_red.company_id;
	IF amount IS NOT NULL THEN
		amount := plum.valid_amount(amount, v_scale);
	END IF;
	v_entry := nextval('plum.journal_entry_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum.claim_key(v_red.company_id, idempotency_key, 'reverse_redemption',
			format('%s, %s', redemption_id, coalesce(amount::text, 'NULL')), v_entry);
		IF v_prior IS NOT NULL THEN
			RETURN (SELECT round(j.amount, v_scale) FROM plum.journal j WHERE j.entry_id = v_prior);
		END IF;
	END IF;
	-- the wallet's row lock serialises reversals (and redemptions) of this recipient
	PERFORM plum.settle_account(v_red.company_id, v_red.recipient, v_now);
	SELECT a.lots INTO STRICT v_lots FROM plum.account a
		WHERE a.company_id = v_red.company_id AND a.recipient = v_red.recipient;
	SELECT coalesce(sum(j.amount), 0) INTO v_done FROM plum.journal j
		WHERE j.redemption_id = reverse_redemption.redemption_id AND j.kind = 'restore';
	v_left := v_red.amount - v_done;
	IF amount IS NULL THEN
		amount := v_left;
	END IF;
	IF v_left <= 0 OR amount > v_left THEN
		PERFORM plum.raise('PU008', 'amount exceeds what is left to reverse',
			format('Redemption %s took %s; %s was reversed already, %s is left; requested %s.', redemption_id,
				round(v_red.amount, v_scale), round(v_done, v_scale), round(v_left, v_scale), round(amount, v_scale)));
	END IF;
	SELECT * INTO v_res FROM plum.wallet_restore(v_lots, v_red.lots, v_done, amount, v_now);
	UPDATE plum.account a SET lots = v_res.wallet
		WHERE a.company_id = v_red.company_id AND a.recipient = v_red.recipient;
	INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, recipient, redemption_id, idempotency_key, lots)
		VALUES (v_entry, v_red.company_id, v_now, 'restore', amount, v_red.recipient, redemption_id, idempotency_key, v_res.restored);
	v_gone := v_res.expired;
	IF plum.wallet_total(v_gone) > 0 THEN
		-- points restored to lots that have expired since come back as already expired (breakage)
		INSERT INTO plum.journal (company_id, at, kind, amount, recipient, redemption_id, lots)
			VALUES (v_red.company_id, v_now, 'expire', plum.wallet_total(v_gone), v_red.recipient, redemption_id, v_gone);
	END IF;
	RETURN round(amount, v_scale);
END
$$;
COMMENT ON FUNCTION plum.reverse_redemption(bigint, numeric, text) IS
	'Reverse all (amount NULL) or part of a points redemption: the points go back to the lots they came from, latest expiry first, keeping their expiry (already-expired lots get them back as breakage). Never more than was redeemed (PU008). Returns the amount restored.';

CREATE FUNCTION plum.expire_points() RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_total numeric;
BEGIN
	-- wallets locked by a redemption are skipped: that redemption drops and records their expired lots
	WITH due AS (
		SELECT a.company_id, a.recipient, a.lots FROM plum.account a
		WHERE a.next_expiry <= v_now
		FOR UPDATE SKIP LOCKED),
	upd AS (
		UPDATE plum.account a SET lots = plum.wallet_live(due.lots, v_now) FROM due
		WHERE a.company_id = due.company_id AND a.recipient = due.recipient
		RETURNING a.company_id, a.recipient, plum.wallet_expired(due.lots, v_now) AS gone),
	j AS (
		INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)
		SELECT upd.company_id, v_now, 'expire', plum.wallet_total(upd.gone), upd.recipient, upd.gone FROM upd
		RETURNING amount)
	SELECT coalesce(sum(j.amount), 0) INTO v_total FROM j;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION plum.expire_points() IS
	'The expiry sweep: records lots expired by plum''s clock as breakage in the ledger and drops them from wallets. Idempotent, safe beside redemptions (skips wallets they hold). Returns the amount expired now. Run it from pg_cron.';
