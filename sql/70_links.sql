-- Links: one-click reward links, redeemed whole for one catalog item and billed only then.
--
-- A link is a row of plum_internal.link keyed by its token (192 bits from the CSPRNG, src/links.c).
-- Creating a link takes nothing from any pool and bills nothing; redeeming it writes the
-- billing record (the link_redeem ledger row) in the same transaction. The link row is the
-- serialisation point: redemption and cancellation change it with one conditional UPDATE
-- (WHERE state = 'active'), so of two concurrent claims exactly one wins.

CREATE TABLE plum_internal.link (
	token		text PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	campaign_id	bigint NOT NULL REFERENCES plum_internal.campaign,
	admin_id	bigint NOT NULL REFERENCES plum_internal.admin,
	value		numeric NOT NULL,
	recipient	plum.recipient,
	state		text NOT NULL DEFAULT 'active',
	created		timestamptz NOT NULL,
	redeemed_at	timestamptz,
	cancelled_at timestamptz,
	item_id		bigint,
	reference	text,
	billing_id	bigint,
	chain_head	bytea,
	counted		boolean NOT NULL DEFAULT false
) WITH (fillfactor = 80);
SELECT pg_catalog.pg_extension_config_dump('plum_internal.link', '');
-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- The row's rules, one C function (src/checks.c; 0.1.0 had them as five CHECKs, rebuilt by every
-- statement that wrote a link): a token of 32 symbols of A-Z a-z 0-9 - _, a value > 0, a state
-- among active, redeemed and cancelled, redeemed exactly when redeemed_at, item_id and billing_id
-- are set, cancelled exactly when cancelled_at is.
CREATE FUNCTION plum_internal.link_row_valid(token text, value numeric, state text, redeemed_at timestamptz,
		item_id bigint, billing_id bigint, cancelled_at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_link_row_valid'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
ALTER TABLE plum_internal.link ADD CONSTRAINT link_rules
	CHECK (plum_internal.link_row_valid(token, value, state, redeemed_at, item_id, billing_id, cancelled_at));
-- plum.links' WHERE recipient = ... finds the rows through an index
CREATE INDEX link_recipient ON plum_internal.link (recipient) WHERE recipient IS NOT NULL;
-- @end

-- @api

CREATE FUNCTION plum_internal.link_token() RETURNS text
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_link_token';
COMMENT ON FUNCTION plum_internal.link_token() IS
	'Internal: a new link token, 192 bits from pg_strong_random() as 32 characters of unpadded base64url (A-Z a-z 0-9 - _).';
COMMENT ON COLUMN plum_internal.link.chain_head IS 'The head of the link''s chain: the hash of its last link_create, link_redeem or link_cancel ledger row.';
COMMENT ON TABLE plum_internal.link IS 'Reward links: a token worth a value, redeemed whole, once, for one item of its campaign''s catalog. Written only by plum.create_link(), plum.redeem_link() and plum.cancel_link(); read plum.links.';
COMMENT ON FUNCTION plum_internal.link_row_valid(text, numeric, text, timestamptz, bigint, bigint, timestamptz) IS
	'Internal: the CHECK of plum_internal.link (link_rules): a token of 32 symbols of A-Z a-z 0-9 - _, a value > 0, a state among active, redeemed and cancelled, redeemed exactly when redeemed_at, item_id and billing_id are set, cancelled exactly when cancelled_at is. NULL arguments pass, as in a CHECK.';
COMMENT ON COLUMN plum_internal.link.token IS 'The link''s token: 32 base64url characters (192 random bits), unique.';
COMMENT ON COLUMN plum_internal.link.company_id IS 'The company billed when the link is redeemed.';
COMMENT ON COLUMN plum_internal.link.campaign_id IS 'The links campaign: its catalog and expiry apply.';
COMMENT ON COLUMN plum_internal.link.admin_id IS 'The admin who created the link.';
COMMENT ON COLUMN plum_internal.link.value IS 'What the link is worth, exact to the company''s currency.';
COMMENT ON COLUMN plum_internal.link.recipient IS 'The recipient the link is addressed to (NULL: not addressed).';
COMMENT ON COLUMN plum_internal.link.state IS 'active, redeemed or cancelled (an active link past its campaign''s expiry shows as expired in plum.links).';
COMMENT ON COLUMN plum_internal.link.created IS 'When the link was created (plum clock).';
COMMENT ON COLUMN plum_internal.link.redeemed_at IS 'When the link was redeemed (plum clock).';
COMMENT ON COLUMN plum_internal.link.cancelled_at IS 'When the link was cancelled (plum clock).';
COMMENT ON COLUMN plum_internal.link.item_id IS 'The item the link was redeemed for (checked against plum_internal.item at redemption).';
COMMENT ON COLUMN plum_internal.link.reference IS 'The caller''s reference given at redemption, e.g. an order id.';
COMMENT ON COLUMN plum_internal.link.billing_id IS 'The billing record of the redemption: the entry id of its link_redeem ledger row.';
COMMENT ON COLUMN plum_internal.link.counted IS 'Whether the link''s value counts toward its admin''s created value (plum_internal.admin.created_total) while it is open or redeemed: true for every link created from 0.2.0 on; false for links created under 0.1.0, which never counted.';

CREATE FUNCTION plum.create_link(admin_id bigint, campaign_id bigint, value numeric, recipient plum.recipient DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_campaign plum_internal.campaign;
	v_scale smallint;
	v_max_grant numeric;
	v_now timestamptz := plum.now();
	v_token text;
	v_entry bigint;
	v_hash bytea;
BEGIN
	v_campaign := plum_internal.check_campaign(admin_id, campaign_id, 'links');
	SELECT c.scale, c.max_grant INTO STRICT v_scale, v_max_grant FROM plum_internal.company c WHERE c.company_id = v_campaign.company_id;
	value := plum_internal.valid_amount(value, v_scale, 'value');
	-- a link is worth at most the largest grant (PU008), and counts toward its admin's created
	-- value (the admin row first: lock order admin -> link; admin_guard raises PU004 past the threshold)
	PERFORM plum_internal.check_grant(v_campaign.company_id, v_scale, v_max_grant, value);
	UPDATE plum_internal.admin a SET created_total = a.created_total + create_link.value WHERE a.admin_id = create_link.admin_id;
	v_entry := nextval('plum_internal.journal_entry_id_seq');
	-- a token collision is a 2^-192 event: draw again rather than fail
	LOOP
		v_token := plum_internal.link_token();
		INSERT INTO plum_internal.link AS l (token, company_id, campaign_id, admin_id, value, recipient, created, chain_head, counted)
			VALUES (v_token, v_campaign.company_id, create_link.campaign_id, create_link.admin_id,
				create_link.value, create_link.recipient, v_now,
				plum_internal.entry_hash(NULL, v_entry, v_campaign.company_id, v_now, 'link_create', create_link.value,
					create_link.admin_id, create_link.recipient, NULL, NULL, NULL, NULL, NULL, NULL, create_link.campaign_id,
					NULL, NULL, v_token, NULL), true)
			ON CONFLICT ON CONSTRAINT link_pkey DO NOTHING
			RETURNING l.chain_head INTO v_hash;
		EXIT WHEN FOUND;
	END LOOP;
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, campaign_id, token, hash)
		VALUES (v_entry, v_campaign.company_id, v_now, 'link_create', create_link.value, create_link.admin_id,
			create_link.recipient, create_link.campaign_id, v_token, v_hash);
	RETURN v_token;
END
$$;
COMMENT ON FUNCTION plum.create_link(bigint, bigint, numeric, plum.recipient) IS
	'Create a reward link worth value in a links campaign, optionally addressed to a recipient; returns its token (32 URL-safe characters). Nothing is billed and no pool is drawn: the company is billed only when the link is redeemed. The value counts toward the admin''s created value (PU004 past its threshold) and is at most the company''s largest grant (PU008).';

-- Raise PU003 for a link that is no longer active (internal helper of cancel_link; redeem_link, in C, says the same).
CREATE FUNCTION plum_internal.link_not_active(state text, redeemed_at timestamptz, cancelled_at timestamptz) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	IF state = 'redeemed' THEN
		PERFORM plum_internal.raise('PU003', 'link already redeemed', format('The link was redeemed at %s.', redeemed_at),
			'A link is redeemed once, for its whole value.');
	END IF;
	PERFORM plum_internal.raise('PU003', 'link cancelled', format('The link was cancelled at %s.', cancelled_at));
END
$$;
COMMENT ON FUNCTION plum_internal.link_not_active(text, timestamptz, timestamptz) IS
	'Internal: refuse a link that was redeemed or cancelled (PU003), saying which and when.';

-- In C (src/links.c): one read of the link with everything its checks need, then one
-- statement that claims it (UPDATE ... WHERE state = 'active') and writes the billing row.
-- The checks, their order and their errors are those of plum_internal.link_not_active() above and of
-- plum_internal.in_catalog() and plum_internal.item_accepts() (sql/50_catalog.sql), whose rules it repeats.
CREATE FUNCTION plum.redeem_link(token text, item_id bigint, reference text DEFAULT NULL) RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_redeem_link';
COMMENT ON FUNCTION plum.redeem_link(text, bigint, text) IS
	'Redeem a link whole, once, for one item of its campaign''s catalog whose value is exactly the link''s (PU007 otherwise); refuses an unknown (PU005), redeemed or cancelled (PU003) or expired (PU002) link. Bills the company in the same transaction and returns the billing id.';

CREATE FUNCTION plum.cancel_link(admin_id bigint, token text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin_company bigint;
	v_link record;
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(token, 'token');
	v_admin_company := (plum_internal.admin_row(cancel_link.admin_id)).company_id;
	SELECT l.company_id, l.state, l.redeemed_at, l.cancelled_at, l.admin_id, l.value, l.counted INTO v_link
		FROM plum_internal.link l WHERE l.token = cancel_link.token;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown link', 'No link has this token.',
			'Check that the whole link was copied.');
	END IF;
	IF v_link.company_id <> v_admin_company THEN
		PERFORM plum_internal.raise('PU009', 'link belongs to another company',
			format('The link is company %s''s; admin %s is company %s''s.', v_link.company_id,
				cancel_link.admin_id, v_admin_company));
	END IF;
	IF v_link.state <> 'active' THEN
		PERFORM plum_internal.link_not_active(v_link.state, v_link.redeemed_at, v_link.cancelled_at);
	END IF;
	-- the value goes back to the creating admin's headroom (admin row first: lock order admin -> link;
	-- if the link is claimed meanwhile, the error below undoes this)
	IF v_link.counted THEN
		UPDATE plum_internal.admin a SET created_total = a.created_total - v_link.value WHERE a.admin_id = v_link.admin_id;
	END IF;
	WITH e AS (SELECT nextval('plum_internal.journal_entry_id_seq') AS e),
	withdrawn AS (
		UPDATE plum_internal.link l SET state = 'cancelled', cancelled_at = v_now,
			chain_head = plum_internal.entry_hash(l.chain_head, e.e, l.company_id, v_now, 'link_cancel', l.value, cancel_link.admin_id,
				l.recipient, NULL, NULL, NULL, NULL, NULL, NULL, l.campaign_id, NULL, NULL, l.token, NULL)
			FROM e
			WHERE l.token = cancel_link.token AND l.state = 'active'
			RETURNING e.e, l.company_id, l.campaign_id, l.value, l.recipient, l.chain_head)
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, campaign_id, token, hash)
		SELECT withdrawn.e, withdrawn.company_id, v_now, 'link_cancel', withdrawn.value, cancel_link.admin_id, withdrawn.recipient,
			withdrawn.campaign_id, cancel_link.token, withdrawn.chain_head
		FROM withdrawn;
	IF NOT FOUND THEN
		-- another transaction redeemed or cancelled the link since we read it
		SELECT l.state, l.redeemed_at, l.cancelled_at INTO v_link FROM plum_internal.link l WHERE l.token = cancel_link.token;
		PERFORM plum_internal.link_not_active(v_link.state, v_link.redeemed_at, v_link.cancelled_at);
	END IF;
END
$$;
COMMENT ON FUNCTION plum.cancel_link(bigint, text) IS
	'Withdraw an unredeemed link (an admin of the link''s company, PU009 otherwise); a redeemed or cancelled link is refused (PU003). Nothing was billed, so nothing is returned to any pool; its value no longer counts toward its admin''s created value.';

CREATE VIEW plum.links WITH (security_barrier) AS
	SELECT CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN l.token ELSE plum_internal.mask_token(l.token) END AS token, l.company_id, l.campaign_id, round(l.value, c.scale) AS value, l.recipient,
		CASE WHEN l.state = 'active' AND k.expires_at <= plum.now() THEN 'expired' ELSE l.state END AS state,
		l.redeemed_at, l.created, l.cancelled_at, k.expires_at, l.item_id, l.reference, l.billing_id, l.admin_id,
		c.base_currency AS currency
	FROM plum_internal.link l
	JOIN plum_internal.campaign k ON k.campaign_id = l.campaign_id
	JOIN plum_internal.company c ON c.company_id = l.company_id
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR l.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.links IS 'Reward links with their state as of plum''s clock (an active link past its campaign''s expiry is expired). A role confined to companies sees only theirs; tokens are masked for roles that are not plum_admin members.';
COMMENT ON COLUMN plum.links.token IS 'The link''s token (a bearer secret: whoever has it can redeem the link): in full for plum_admin members and superusers, masked for other roles as an ellipsis and its last 4 characters (…wXyZ).';
COMMENT ON COLUMN plum.links.company_id IS 'Company id (billed when the link is redeemed).';
COMMENT ON COLUMN plum.links.campaign_id IS 'The links campaign.';
COMMENT ON COLUMN plum.links.value IS 'What the link is worth.';
COMMENT ON COLUMN plum.links.recipient IS 'The recipient it is addressed to, or NULL.';
COMMENT ON COLUMN plum.links.state IS 'active, redeemed, cancelled, or expired (active past its campaign''s expiry).';
COMMENT ON COLUMN plum.links.redeemed_at IS 'When it was redeemed.';
COMMENT ON COLUMN plum.links.created IS 'When it was created.';
COMMENT ON COLUMN plum.links.cancelled_at IS 'When it was cancelled.';
COMMENT ON COLUMN plum.links.expires_at IS 'When its campaign expires (NULL: never).';
COMMENT ON COLUMN plum.links.item_id IS 'The item it was redeemed for.';
COMMENT ON COLUMN plum.links.reference IS 'The caller''s reference given at redemption.';
COMMENT ON COLUMN plum.links.billing_id IS 'The billing id of its redemption (plum.billing).';
COMMENT ON COLUMN plum.links.admin_id IS 'The admin who created it.';
COMMENT ON COLUMN plum.links.currency IS 'The company''s base currency.';

CREATE VIEW plum.billing WITH (security_barrier) AS
	SELECT j.company_id, j.at, 'link_redemption'::text AS kind, round(j.amount, c.scale) AS amount, j.reference,
		j.entry_id AS billing_id, CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN j.token ELSE plum_internal.mask_token(j.token) END AS token, j.campaign_id, j.item_id, c.base_currency AS currency
	FROM plum_internal.journal j JOIN plum_internal.company c ON c.company_id = j.company_id
	WHERE j.kind = 'link_redeem' AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.billing IS 'What each company is billed: one row per redeemed link, written in the redemption''s transaction (the link_redeem ledger rows).';
COMMENT ON COLUMN plum.billing.company_id IS 'The company billed.';
COMMENT ON COLUMN plum.billing.at IS 'When (plum clock at the redemption).';
COMMENT ON COLUMN plum.billing.kind IS 'link_redemption.';
COMMENT ON COLUMN plum.billing.amount IS 'The amount billed: the link''s whole value.';
COMMENT ON COLUMN plum.billing.reference IS 'The caller''s reference given at redemption.';
COMMENT ON COLUMN plum.billing.billing_id IS 'Billing id: what plum.redeem_link() returned (the ledger entry id).';
COMMENT ON COLUMN plum.billing.token IS 'The link redeemed; masked (…wXyZ) for roles that are not plum_admin members.';
COMMENT ON COLUMN plum.billing.campaign_id IS 'The link''s campaign.';
COMMENT ON COLUMN plum.billing.item_id IS 'The item the link was redeemed for.';
COMMENT ON COLUMN plum.billing.currency IS 'The company''s base currency.';

-- verify_links(): replay the links ledger against the links (plum.verify() in 90_verify.sql unions every area).
CREATE FUNCTION plum_internal.verify_links(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id FROM plum_internal.company c
		WHERE verify_links.company_id IS NULL OR c.company_id = verify_links.company_id),
	lk AS (
		SELECT l.* FROM plum_internal.link l JOIN co USING (company_id)),
	-- per token: its create, redeem and cancel movements
	mv AS (
		SELECT j.company_id, j.token,
			count(*) FILTER (WHERE j.kind = 'link_create') AS creates,
			sum(j.amount) FILTER (WHERE j.kind = 'link_create') AS created,
			count(*) FILTER (WHERE j.kind = 'link_redeem') AS redeems,
			sum(j.amount) FILTER (WHERE j.kind = 'link_redeem') AS redeemed,
			min(j.entry_id) FILTER (WHERE j.kind = 'link_redeem') AS billing_id,
			count(*) FILTER (WHERE j.kind = 'link_cancel') AS cancels,
			sum(j.amount) FILTER (WHERE j.kind = 'link_cancel') AS cancelled
		FROM plum_internal.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('link_create', 'link_redeem', 'link_cancel')
		GROUP BY j.company_id, j.token),
	per AS (
		SELECT coalesce(lk.company_id, mv.company_id) AS company_id, coalesce(lk.token, mv.token) AS token,
			lk.state, lk.value, lk.billing_id AS link_billing, (lk.token IS NOT NULL) AS known,
			coalesce(mv.creates, 0) AS creates, mv.created, coalesce(mv.redeems, 0) AS redeems, mv.redeemed,
			mv.billing_id, coalesce(mv.cancels, 0) AS cancels, mv.cancelled
		FROM lk FULL JOIN mv ON mv.token = lk.token),
	totals AS (
		SELECT co.company_id,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.company_id = co.company_id AND j.kind = 'link_redeem'), 0) AS billed,
			coalesce((SELECT sum(l.value) FROM plum_internal.link l WHERE l.company_id = co.company_id AND l.state = 'redeemed'), 0) AS redeemed
		FROM co)
	SELECT per.company_id, 'link movements', format('ledger rows for link %s, which does not exist', per.token)
		FROM per WHERE NOT per.known
	UNION ALL
	SELECT per.company_id, 'link created',
			format('link %s: value %s; %s link_create rows of %s', per.token, per.value, per.creates, coalesce(per.created, 0))
		FROM per WHERE per.known AND (per.creates <> 1 OR per.created <> per.value)
	UNION ALL
	SELECT per.company_id, 'link redeemed',
			format('link %s is %s: value %s, billing id %s; %s link_redeem rows of %s (entry %s), %s link_cancel rows',
				per.token, per.state, per.value, coalesce(per.link_billing::text, 'none'), per.redeems,
				coalesce(per.redeemed, 0), coalesce(per.billing_id::text, 'none'), per.cancels)
		FROM per WHERE per.known AND per.state = 'redeemed'
			AND (per.redeems <> 1 OR per.redeemed <> per.value OR per.billing_id IS DISTINCT FROM per.link_billing OR per.cancels <> 0)
	UNION ALL
	SELECT per.company_id, 'link cancelled',
			format('link %s is %s: value %s; %s link_cancel rows of %s, %s link_redeem rows',
				per.token, per.state, per.value, per.cancels, coalesce(per.cancelled, 0), per.redeems)
		FROM per WHERE per.known AND per.state = 'cancelled'
			AND (per.cancels <> 1 OR per.cancelled <> per.value OR per.redeems <> 0)
	UNION ALL
	SELECT per.company_id, 'link active',
			format('link %s is active; %s link_redeem rows, %s link_cancel rows', per.token, per.redeems, per.cancels)
		FROM per WHERE per.known AND per.state = 'active' AND (per.redeems <> 0 OR per.cancels <> 0)
	UNION ALL
	SELECT t.company_id, 'billing = redeemed links',
			format('billed %s; redeemed links are worth %s', t.billed, t.redeemed)
		FROM totals t WHERE t.billed <> t.redeemed
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum_internal.verify_links(bigint) IS
	'The links part of plum.verify(): each link has one link_create row of its value; a redeemed link one link_redeem row (its billing id) and no link_cancel; a cancelled link one link_cancel and no link_redeem; an active link neither; billing = the value of the redeemed links.';

REVOKE EXECUTE ON FUNCTION
	plum_internal.link_token(),
	plum.create_link(bigint, bigint, numeric, plum.recipient),
	plum_internal.link_not_active(text, timestamptz, timestamptz),
	plum.redeem_link(text, bigint, text),
	plum.cancel_link(bigint, text),
	plum_internal.verify_links(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.redeem_link(text, bigint, text) TO plum_app;
GRANT EXECUTE ON FUNCTION
	plum.create_link(bigint, bigint, numeric, plum.recipient),
	plum.cancel_link(bigint, text)
	TO plum_admin;
GRANT SELECT ON plum.links, plum.billing TO plum_reader;
