-- The ledger: the append-only journal of every movement of value (one row each, written by every
-- area's functions), idempotency keys, and the plum.ledger view finance and BI tools read.

CREATE TABLE plum_internal.journal (
	entry_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	at			timestamptz NOT NULL,
	kind		text NOT NULL,		-- CHECK journal_kind_check below
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
	balance_after numeric,
	hash		bytea,
	multiplier	numeric
);
CREATE INDEX journal_redemption ON plum_internal.journal (redemption_id) WHERE redemption_id IS NOT NULL;
CREATE INDEX journal_code ON plum_internal.journal (code) WHERE code IS NOT NULL;
-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- The kinds of ledger rows, checked by a C function: a CHECK is re-read from its
-- stored node tree by every statement that writes the journal, and the list of
-- sixteen kinds as an IN (...) took a fifth of a redemption's executor set-up.
CREATE FUNCTION plum_internal.ledger_kind_valid(kind text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_ledger_kind_valid'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
ALTER TABLE plum_internal.journal ADD CONSTRAINT journal_kind_check CHECK (plum_internal.ledger_kind_valid(kind));
-- plum.ledger's WHERE recipient = ... finds the rows through an index
CREATE INDEX journal_recipient ON plum_internal.journal (recipient) WHERE recipient IS NOT NULL;
-- the ledger by time (plum.ledger WHERE at >= ..., a BI tool's incremental loads) and by the
-- caller's reference (an order id: WHERE reference = ...); the campaigns' rows (plum.campaign_stats).
-- By time, a BRIN index: the ledger is append-only and written in time order, so block ranges
-- summarise it in a few pages, and a redemption's insert costs nothing (a B-tree on at would be
-- one more index entry and its WAL on every movement).
CREATE INDEX journal_at ON plum_internal.journal USING brin (at);
CREATE INDEX journal_reference ON plum_internal.journal (reference) WHERE reference IS NOT NULL;
CREATE INDEX journal_campaign ON plum_internal.journal (campaign_id, kind) WHERE campaign_id IS NOT NULL;
-- @end

CREATE TABLE plum_internal.idempotency (
	company_id	bigint NOT NULL,
	key			text NOT NULL,
	operation	text NOT NULL,
	arguments	text NOT NULL,
	result_entry bigint NOT NULL,
	at			timestamptz NOT NULL,
	PRIMARY KEY (company_id, key)
);

SELECT pg_catalog.pg_extension_config_dump('plum_internal.journal', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.journal_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.idempotency', '');

-- @api
COMMENT ON TABLE plum_internal.journal IS 'The append-only ledger: one row per movement of value. UPDATE, DELETE and TRUNCATE are refused. Read it through plum.ledger.';
COMMENT ON FUNCTION plum_internal.ledger_kind_valid(text) IS
	'Internal: is this a kind of ledger row (create, give, redeem, expire, restore, code_issue, code_redeem, code_cancel, code_expire, code_refund, link_create, link_redeem, link_cancel, reserve, unreserve, takeback)? The CHECK of plum_internal.journal.kind.';
COMMENT ON COLUMN plum_internal.journal.entry_id IS 'Entry id; a grant''s entry id is its lot id, a redemption''s is its redemption id.';
COMMENT ON COLUMN plum_internal.journal.company_id IS 'The company.';
COMMENT ON COLUMN plum_internal.journal.at IS 'When (plum clock).';
COMMENT ON COLUMN plum_internal.journal.kind IS 'create, give, redeem, expire, restore (points); code_* and link_* (codes and links; code_refund: value given back to a code by plum.refund()); reserve, unreserve (pool value held for a scheduled points grant, and given back at its release or cancellation).';
COMMENT ON COLUMN plum_internal.journal.amount IS 'The value moved (never negative; the kind gives the direction).';
COMMENT ON COLUMN plum_internal.journal.admin_id IS 'The admin whose pool was used (create, give).';
COMMENT ON COLUMN plum_internal.journal.recipient IS 'The recipient whose wallet changed (give, redeem, expire, restore).';
COMMENT ON COLUMN plum_internal.journal.lot_id IS 'The lot created by a grant.';
COMMENT ON COLUMN plum_internal.journal.redemption_id IS 'The redemption a restore (or the expiry of restored points) belongs to.';
COMMENT ON COLUMN plum_internal.journal.reference IS 'The caller''s reference, e.g. an order id.';
COMMENT ON COLUMN plum_internal.journal.note IS 'A free note given with a grant.';
COMMENT ON COLUMN plum_internal.journal.idempotency_key IS 'The idempotency key of the call, if any.';
COMMENT ON COLUMN plum_internal.journal.lots IS 'The lot portions involved: taken by a redemption, restored by a reversal, or expired.';
COMMENT ON COLUMN plum_internal.journal.campaign_id IS 'The campaign of a code or link movement, or of a points grant made with a campaign_id (since 0.2.0).';
COMMENT ON COLUMN plum_internal.journal.item_id IS 'The catalog item a redemption was for, if named.';
COMMENT ON COLUMN plum_internal.journal.code IS 'The code of a code movement (code_redeem, code_cancel, code_expire, code_refund).';
COMMENT ON COLUMN plum_internal.journal.token IS 'The link of a link movement (link_create, link_redeem, link_cancel).';
COMMENT ON COLUMN plum_internal.journal.balance_after IS 'The code''s balance after this movement (code_redeem, code_refund, ...).';
COMMENT ON COLUMN plum_internal.journal.multiplier IS 'The tier multiplier an earned award used (give rows of purchase events; also in the hashed note).';
COMMENT ON COLUMN plum_internal.journal.hash IS 'The row''s link in its holder''s hash chain: plum_internal.entry_hash(the previous row''s hash, this row''s fields). The holder (wallet, code, link, admin pool) keeps the last one as its chain_head; plum.verify() recomputes every chain.';

-- The tamper-evident ledger: every row's hash chains it to the previous row of its holder.
-- The C function hashes a canonical encoding of the row (src/chain.c documents it byte by byte).
CREATE FUNCTION plum_internal.entry_hash(prev bytea, entry_id bigint, company_id bigint, at timestamptz, kind text,
		amount numeric, admin_id bigint, recipient plum.recipient, lot_id bigint, redemption_id bigint, reference text,
		note text, idempotency_key text, lots plum.wallet, campaign_id bigint, item_id bigint, code plum.code,
		token text, balance_after numeric)
	RETURNS bytea
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_entry_hash';
COMMENT ON FUNCTION plum_internal.entry_hash(bytea, bigint, bigint, timestamptz, text, numeric, bigint, plum.recipient,
		bigint, bigint, text, text, text, plum.wallet, bigint, bigint, plum.code, text, numeric) IS
	'Internal: the hash of a ledger row that follows prev (NULL: the holder''s first row) in its holder''s chain: '
	'8 bytes of position (prev''s + 1, big-endian; 1 for the first row) followed by SHA-256 of encode(prev) || encode(entry_id) || '
	'encode(company_id) || encode(at) || encode(kind) || encode(amount) || encode(admin_id) || encode(recipient) || '
	'encode(lot_id) || encode(redemption_id) || encode(reference) || encode(note) || encode(idempotency_key) || '
	'encode(lots) || encode(campaign_id) || encode(item_id) || encode(code) || encode(token) || encode(balance_after), '
	'where encode(NULL) = 0x00 and encode(x) = 0x01 || length(b) (4 bytes, big-endian) || b with b: a bigint as 8 bytes '
	'big-endian; at as microseconds since 1970-01-01 UTC, 8 bytes big-endian; a numeric as its text without trailing '
	'fractional zeros; text as its UTF-8 bytes; a recipient, wallet or code as its canonical text form.';

-- The same hash for a row given whole (its own hash column is ignored).
CREATE FUNCTION plum_internal.entry_hash(prev bytea, e plum_internal.journal) RETURNS bytea
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN plum_internal.entry_hash(prev, e.entry_id, e.company_id, e.at, e.kind, e.amount, e.admin_id, e.recipient,
		e.lot_id, e.redemption_id, e.reference, e.note, e.idempotency_key, e.lots, e.campaign_id, e.item_id, e.code,
		e.token, e.balance_after);
COMMENT ON FUNCTION plum_internal.entry_hash(bytea, plum_internal.journal) IS
	'Internal: plum_internal.entry_hash() of a whole ledger row (its hash column ignored).';

CREATE FUNCTION plum_internal.entry_chain_step(state bytea, head bytea, entry_id bigint, company_id bigint, at timestamptz,
		kind text, amount numeric, admin_id bigint, recipient plum.recipient, lot_id bigint, redemption_id bigint,
		reference text, note text, idempotency_key text, lots plum.wallet, campaign_id bigint, item_id bigint,
		code plum.code, token text, balance_after numeric)
	RETURNS bytea
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_entry_chain_step';
COMMENT ON FUNCTION plum_internal.entry_chain_step(bytea, bytea, bigint, bigint, timestamptz, text, numeric, bigint,
		plum.recipient, bigint, bigint, text, text, text, plum.wallet, bigint, bigint, plum.code, text, numeric) IS
	'Internal: transition function of plum_internal.entry_chain(): entry_hash() on the state, or on head for the first row.';

-- Several rows of one holder written by one statement: entry_chain(head, fields...) OVER (PARTITION BY
-- the holder ORDER BY entry_id) gives each row its hash, the last one the holder's new head.
CREATE AGGREGATE plum_internal.entry_chain(head bytea, entry_id bigint, company_id bigint, at timestamptz, kind text,
		amount numeric, admin_id bigint, recipient plum.recipient, lot_id bigint, redemption_id bigint, reference text,
		note text, idempotency_key text, lots plum.wallet, campaign_id bigint, item_id bigint, code plum.code,
		token text, balance_after numeric) (
	SFUNC = plum_internal.entry_chain_step,
	STYPE = bytea,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE plum_internal.entry_chain(bytea, bigint, bigint, timestamptz, text, numeric, bigint, plum.recipient,
		bigint, bigint, text, text, text, plum.wallet, bigint, bigint, plum.code, text, numeric) IS
	'Internal: the running hash chain of a holder''s new rows from its head (as a window aggregate ordered by entry id).';

-- The ledger is append-only, for everyone.
CREATE FUNCTION plum_internal.journal_append_only() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.raise('PU009', 'the ledger is append-only',
		format('%s on plum_internal.journal is not permitted.', TG_OP),
		'Record a correcting movement with plum''s functions instead (e.g. plum.reverse_redemption()).');
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION plum_internal.journal_append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on the ledger (PU009).';
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON plum_internal.journal
	FOR EACH ROW EXECUTE FUNCTION plum_internal.journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON plum_internal.journal
	FOR EACH STATEMENT EXECUTE FUNCTION plum_internal.journal_append_only();
COMMENT ON TABLE plum_internal.idempotency IS 'Idempotency keys (per company): the first call''s operation, arguments and result entry. A retry with the same arguments returns that result; other arguments raise PU006.';
COMMENT ON COLUMN plum_internal.idempotency.company_id IS 'The company the key belongs to.';
COMMENT ON COLUMN plum_internal.idempotency.key IS 'The caller''s idempotency key.';
COMMENT ON COLUMN plum_internal.idempotency.operation IS 'The function first called with the key.';
COMMENT ON COLUMN plum_internal.idempotency.arguments IS 'The first call''s arguments, normalised.';
COMMENT ON COLUMN plum_internal.idempotency.result_entry IS 'The ledger entry that is the first call''s result (for checkout: the order id; for refund: the refund id).';
COMMENT ON COLUMN plum_internal.idempotency.at IS 'When the key was first used (plum clock).';

-- Claim an idempotency key for entry_id. NULL: this call owns the key and goes on.
-- Otherwise the first call's result entry (same operation and arguments) or PU006.
-- A concurrent first call with the key makes this wait for its outcome.
CREATE FUNCTION plum_internal.claim_key(company_id bigint, key text, operation text, arguments text, entry_id bigint)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_first plum_internal.idempotency;
BEGIN
	IF length(key) = 0 OR length(key) > 200 THEN
		PERFORM plum_internal.raise('22023', 'invalid idempotency key',
			format('The key is %s characters long; it must have 1 to 200.', length(key)));
	END IF;
	INSERT INTO plum_internal.idempotency AS i (company_id, key, operation, arguments, result_entry, at)
		VALUES (claim_key.company_id, claim_key.key, claim_key.operation, claim_key.arguments, claim_key.entry_id, plum.now())
		ON CONFLICT ON CONSTRAINT idempotency_pkey DO NOTHING;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO STRICT v_first FROM plum_internal.idempotency i
		WHERE i.company_id = claim_key.company_id AND i.key = claim_key.key;
	IF v_first.operation <> claim_key.operation OR v_first.arguments <> claim_key.arguments THEN
		PERFORM plum_internal.raise('PU006', 'idempotency key reused with other arguments',
			-- the operations only: the first call's arguments (a recipient, a reference) are not this caller's to see
			format('The key "%s" was first used for %s; this call is %s with other arguments.', key,
				v_first.operation, operation),
			'Use a new key for a new operation.');
	END IF;
	RETURN v_first.result_entry;
END
$$;
COMMENT ON FUNCTION plum_internal.claim_key(bigint, text, text, text, bigint) IS
	'Internal: claim an idempotency key; NULL when this call owns it, else the first call''s result entry, or PU006 for other arguments.';

-- Two branches: plum_admin members read the secrets as they are (so WHERE code = ... uses the
-- index), other roles read them masked; each role's rows pass its company filter.
CREATE VIEW plum.ledger WITH (security_barrier) AS
	SELECT j.entry_id, j.company_id, j.at, j.kind, round(j.amount, c.scale) AS amount, j.admin_id, j.recipient,
		j.lot_id, j.redemption_id, j.reference, j.note, j.idempotency_key,
		c.base_currency AS currency, j.lots, j.campaign_id, j.item_id, j.code, j.token,
		round(j.balance_after, c.scale) AS balance_after,
		CASE WHEN j.kind IN ('create', 'reserve', 'unreserve') THEN 'pool'
			WHEN j.kind IN ('give', 'redeem', 'expire', 'restore', 'takeback') THEN 'wallet'
			WHEN j.kind LIKE 'code\_%' THEN 'codes'
			ELSE 'link' END AS holder,
		CASE WHEN j.kind IN ('create', 'unreserve', 'give', 'restore', 'code_issue', 'code_refund', 'link_create')
			THEN round(j.amount, c.scale) ELSE -round(j.amount, c.scale) END AS delta,
		plum_internal.mask_code(j.code::text) AS code_masked, j.multiplier
	FROM plum_internal.journal j JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[])) AND (SELECT plum_internal.caller_sees_secrets())
	UNION ALL
	SELECT j.entry_id, j.company_id, j.at, j.kind, round(j.amount, c.scale) AS amount, j.admin_id, j.recipient,
		j.lot_id, j.redemption_id, j.reference, j.note, j.idempotency_key,
		c.base_currency AS currency, j.lots, j.campaign_id, j.item_id, NULL::plum.code AS code, plum_internal.mask_token(j.token) AS token,
		round(j.balance_after, c.scale) AS balance_after,
		CASE WHEN j.kind IN ('create', 'reserve', 'unreserve') THEN 'pool'
			WHEN j.kind IN ('give', 'redeem', 'expire', 'restore', 'takeback') THEN 'wallet'
			WHEN j.kind LIKE 'code\_%' THEN 'codes'
			ELSE 'link' END AS holder,
		CASE WHEN j.kind IN ('create', 'unreserve', 'give', 'restore', 'code_issue', 'code_refund', 'link_create')
			THEN round(j.amount, c.scale) ELSE -round(j.amount, c.scale) END AS delta,
		plum_internal.mask_code(j.code::text) AS code_masked, j.multiplier
	FROM plum_internal.journal j JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[])) AND NOT (SELECT plum_internal.caller_sees_secrets());
COMMENT ON VIEW plum.ledger IS 'The append-only ledger: every movement of value, one row each. A role confined to companies sees only theirs; codes and link tokens are shown in full only to plum_admin members (see code, token, code_masked).';
COMMENT ON COLUMN plum.ledger.entry_id IS 'Entry id (a grant''s is its lot id; a redemption''s is its redemption id).';
COMMENT ON COLUMN plum.ledger.company_id IS 'Company id.';
COMMENT ON COLUMN plum.ledger.at IS 'When (plum clock).';
COMMENT ON COLUMN plum.ledger.kind IS 'create, give, redeem, expire, restore; code_issue, code_redeem, code_cancel, code_expire, code_refund; link_create, link_redeem, link_cancel; reserve, unreserve (scheduled points grants); takeback (points of a reversed event back to the rule admin''s pool).';
COMMENT ON COLUMN plum.ledger.amount IS 'The value moved.';
COMMENT ON COLUMN plum.ledger.admin_id IS 'The admin whose pool was used.';
COMMENT ON COLUMN plum.ledger.recipient IS 'The recipient whose wallet changed.';
COMMENT ON COLUMN plum.ledger.lot_id IS 'The lot a grant created.';
COMMENT ON COLUMN plum.ledger.redemption_id IS 'The redemption a restore belongs to.';
COMMENT ON COLUMN plum.ledger.reference IS 'The caller''s reference (e.g. order id).';
COMMENT ON COLUMN plum.ledger.note IS 'Note given with a grant.';
COMMENT ON COLUMN plum.ledger.idempotency_key IS 'Idempotency key of the call.';
COMMENT ON COLUMN plum.ledger.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.ledger.campaign_id IS 'The campaign of a code or link movement, or of a points grant (give) made with a campaign_id (since 0.2.0).';
COMMENT ON COLUMN plum.ledger.item_id IS 'The catalog item a redemption was for.';
COMMENT ON COLUMN plum.ledger.code IS 'The code of a code movement; NULL for roles that are not plum_admin members (they read code_masked).';
COMMENT ON COLUMN plum.ledger.token IS 'The link of a link movement; masked for roles that are not plum_admin members: an ellipsis and its last 4 characters (…wXyZ).';
COMMENT ON COLUMN plum.ledger.code_masked IS 'The code of a code movement, masked for everyone: its last group of four and its check symbol (****-****-2BCD-S).';
COMMENT ON COLUMN plum.ledger.balance_after IS 'A code''s balance after the movement.';
COMMENT ON COLUMN plum.ledger.holder IS 'Whose value the row moves: pool (create, reserve, unreserve: an admin''s undistributed pool), wallet (give, redeem, expire, restore, takeback: the recipient''s points), codes (code_issue, code_redeem, code_cancel, code_expire, code_refund), link (link_create, link_redeem, link_cancel).';
COMMENT ON COLUMN plum.ledger.delta IS 'The movement''s signed effect on the holder it names: + for create, unreserve, give, restore, code_issue, code_refund, link_create; - for reserve, redeem, expire, takeback, code_redeem, code_cancel, code_expire, link_redeem, link_cancel. Points owed to recipients = sum(delta) WHERE holder = ''wallet'' (expired lots count until the sweep records them); code balances outstanding = sum(delta) WHERE holder = ''codes''; open links = sum(delta) WHERE holder = ''link''. A give or code_issue row also takes its amount from the admin''s pool, which is not a row of its own: see plum.admins.pool.';
COMMENT ON COLUMN plum.ledger.multiplier IS 'The tier multiplier an earned award of a purchase event used (give rows of plum.record_event(); NULL on every other row).';
COMMENT ON COLUMN plum.ledger.lots IS 'Lot portions taken, restored or expired (a plum.wallet; cast to text for JSON).';

REVOKE EXECUTE ON FUNCTION
	plum_internal.claim_key(bigint, text, text, text, bigint),
	plum_internal.journal_append_only(),
	plum_internal.entry_hash(bytea, bigint, bigint, timestamptz, text, numeric, bigint, plum.recipient,
		bigint, bigint, text, text, text, plum.wallet, bigint, bigint, plum.code, text, numeric),
	plum_internal.entry_hash(bytea, plum_internal.journal),
	plum_internal.entry_chain_step(bytea, bytea, bigint, bigint, timestamptz, text, numeric, bigint,
		plum.recipient, bigint, bigint, text, text, text, plum.wallet, bigint, bigint, plum.code, text, numeric)
	FROM PUBLIC;
REVOKE EXECUTE ON ROUTINE plum_internal.entry_chain(bytea, bigint, bigint, timestamptz, text, numeric, bigint,
		plum.recipient, bigint, bigint, text, text, text, plum.wallet, bigint, bigint, plum.code, text, numeric) FROM PUBLIC;
GRANT SELECT ON plum.ledger TO plum_reader;
