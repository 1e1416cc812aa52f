-- Distribution (SPEC, "Distribution"): a transactional outbox of deliveries that the application's
-- senders drain. A delivery carries one reward (a points grant, codes or a link) on one channel to
-- a destination, with a message rendered from a template, now or at send_at.
--
-- Life of a delivery (plum_internal.delivery.state):
--   scheduled --release_deliveries()--> queued --claim_deliveries()--> claimed --report sent--> sent --delivered--> delivered
--   claimed --report failed--> queued again after a backoff (1, 2, 4, 8 minutes), failed after 5 attempts
--   claimed/sent --report bounced--> bounced (final);  scheduled/queued --cancel_delivery()--> cancelled
-- A claimed delivery whose lease ran out is claimable again (the first sender's late report is refused).
--
-- Scheduled points grants reserve their value from the admin's pool when scheduled: one 'reserve'
-- ledger row (admin_id, amount, reference 'delivery:<id>'); at release an 'unreserve' row puts it
-- back and plum.give_points() takes it again with its 'give' row, so the lot and its validity start
-- then; a cancellation (or a release that fails) writes the 'unreserve' row alone.
-- verify_pools(): pool = created - given - codes issued + codes cancelled - (reserve - unreserve).

CREATE TABLE plum_internal.delivery (
	delivery_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	admin_id	bigint,
	kind		text NOT NULL CHECK (kind IN ('reward', 'reminder')),
	channel		text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'qr', 'on_screen', 'api')),
	destination	text NOT NULL CHECK (destination <> ''),
	reward		text CHECK (reward IN ('points', 'codes', 'link')),
	recipient	plum.recipient,
	amount		numeric CHECK (amount > 0),
	codes		plum.code[],
	token		text,
	lot_id		bigint,
	template	text NOT NULL,
	vars		jsonb NOT NULL,
	message		text,
	qr_svg		text,
	state		text NOT NULL CHECK (state IN ('scheduled', 'queued', 'claimed', 'sent', 'delivered', 'failed', 'bounced', 'cancelled')),
	send_at		timestamptz NOT NULL,
	created		timestamptz NOT NULL,
	released_at	timestamptz,
	next_attempt_at timestamptz,
	attempts	integer NOT NULL DEFAULT 0,
	claimed_by	text,
	lease_until	timestamptz,
	last_error	text,
	sent_at		timestamptz,
	delivered_at timestamptz,
	failed_at	timestamptz,
	cancelled_at timestamptz,
	claimed_role regrole,
	campaign_id	bigint,
	CONSTRAINT delivery_reward CHECK ((kind = 'reward') = (reward IS NOT NULL)),
	CONSTRAINT delivery_points CHECK (reward IS DISTINCT FROM 'points' OR (amount IS NOT NULL AND recipient IS NOT NULL)),
	CONSTRAINT delivery_codes CHECK (reward IS DISTINCT FROM 'codes' OR cardinality(codes) > 0),
	CONSTRAINT delivery_link CHECK (reward IS DISTINCT FROM 'link' OR token IS NOT NULL),
	CONSTRAINT delivery_claimed CHECK (state <> 'claimed' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL)),
	CONSTRAINT delivery_due CHECK (state NOT IN ('queued', 'claimed') OR next_attempt_at IS NOT NULL)
);
-- what senders claim: queued deliveries due, and claimed ones whose lease (next_attempt_at) ran out
CREATE INDEX delivery_claimable ON plum_internal.delivery (channel, next_attempt_at, delivery_id) WHERE state IN ('queued', 'claimed');
CREATE INDEX delivery_scheduled ON plum_internal.delivery (send_at, delivery_id) WHERE state = 'scheduled';
CREATE INDEX delivery_failed ON plum_internal.delivery (company_id, failed_at) WHERE state IN ('failed', 'bounced');
-- one reminder per recipient and lot, ever
CREATE UNIQUE INDEX delivery_reminder ON plum_internal.delivery (company_id, recipient, lot_id) WHERE kind = 'reminder';
SELECT pg_catalog.pg_extension_config_dump('plum_internal.delivery', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.delivery_delivery_id_seq', '');

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- What plum.claim_deliveries() returns: a delivery's columns, as a type of schema plum (the
-- table itself is plumbing). Keep it in step with plum_internal.delivery (the catalog test compares).
CREATE TYPE plum.delivery AS (
	delivery_id	bigint,
	company_id	bigint,
	admin_id	bigint,
	kind	text,
	channel	text,
	destination	text,
	reward	text,
	recipient	plum.recipient,
	amount	numeric,
	codes	plum.code[],
	token	text,
	lot_id	bigint,
	template	text,
	vars	jsonb,
	message	text,
	qr_svg	text,
	state	text,
	send_at	timestamptz,
	created	timestamptz,
	released_at	timestamptz,
	next_attempt_at	timestamptz,
	attempts	integer,
	claimed_by	text,
	lease_until	timestamptz,
	last_error	text,
	sent_at	timestamptz,
	delivered_at	timestamptz,
	failed_at	timestamptz,
	cancelled_at	timestamptz,
	claimed_role	regrole,
	campaign_id	bigint
);
-- plum.deliveries' WHERE recipient = ... finds the rows through an index
CREATE INDEX delivery_recipient ON plum_internal.delivery (recipient) WHERE recipient IS NOT NULL;
-- @end

-- @api
COMMENT ON TABLE plum_internal.delivery IS 'The outbox: one row per message to send (a reward delivery or an expiry reminder). Written only by plum''s distribution functions, which check the company and admin (no foreign keys, so that a bulk distribution stays one plain INSERT); senders use plum.claim_deliveries() and plum.report_delivery(); read plum.deliveries.';
COMMENT ON COLUMN plum_internal.delivery.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum_internal.delivery.company_id IS 'The company.';
COMMENT ON COLUMN plum_internal.delivery.admin_id IS 'The admin who distributed the reward (NULL for reminders).';
COMMENT ON COLUMN plum_internal.delivery.kind IS 'reward (plum.distribute) or reminder (plum.queue_expiry_reminders).';
COMMENT ON COLUMN plum_internal.delivery.channel IS 'email, sms, whatsapp, qr, on_screen or api.';
COMMENT ON COLUMN plum_internal.delivery.destination IS 'Where to send: a normalised email address (email), an E.164 phone (sms, whatsapp), else the application''s id (session, user, screen).';
COMMENT ON COLUMN plum_internal.delivery.reward IS 'points, codes or link (NULL for reminders).';
COMMENT ON COLUMN plum_internal.delivery.recipient IS 'The recipient of a points grant, or of a reminder.';
COMMENT ON COLUMN plum_internal.delivery.amount IS 'The points granted (reserved from the pool while scheduled), or the points a reminder is about.';
COMMENT ON COLUMN plum_internal.delivery.codes IS 'The codes delivered.';
COMMENT ON COLUMN plum_internal.delivery.token IS 'The link token delivered.';
COMMENT ON COLUMN plum_internal.delivery.lot_id IS 'The points lot: the ledger entry of the grant (set when it is made), or the lot a reminder is about.';
COMMENT ON COLUMN plum_internal.delivery.template IS 'The message template ({{field}} placeholders).';
COMMENT ON COLUMN plum_internal.delivery.vars IS 'The caller''s template variables (a JSON object); vars->>''link_base'' prefixes the link token.';
COMMENT ON COLUMN plum_internal.delivery.message IS 'The rendered message (at queue time for immediate deliveries, at release for scheduled ones).';
COMMENT ON COLUMN plum_internal.delivery.qr_svg IS 'For the qr channel: the SVG of the link or code (plum.qr_svg).';
COMMENT ON COLUMN plum_internal.delivery.state IS 'scheduled, queued, claimed (held by a sender under a lease), sent, delivered, failed (after the last attempt, or the release failed), bounced, cancelled.';
COMMENT ON COLUMN plum_internal.delivery.send_at IS 'When the delivery is (or was) to be sent.';
COMMENT ON COLUMN plum_internal.delivery.created IS 'When the delivery was queued or scheduled (plum clock).';
COMMENT ON COLUMN plum_internal.delivery.released_at IS 'When it entered the queue (at creation for immediate deliveries).';
COMMENT ON COLUMN plum_internal.delivery.next_attempt_at IS 'Queued: when it may be claimed (after a backoff on retries). Claimed: when the lease ends.';
COMMENT ON COLUMN plum_internal.delivery.attempts IS 'How many times senders have claimed it.';
COMMENT ON COLUMN plum_internal.delivery.claimed_by IS 'The sender that holds (or last held) it.';
COMMENT ON COLUMN plum_internal.delivery.lease_until IS 'When the current claim ends; after that another sender may claim it.';
COMMENT ON COLUMN plum_internal.delivery.last_error IS 'The last error reported (failed, bounced) or met at release.';
COMMENT ON COLUMN plum_internal.delivery.sent_at IS 'When a sender reported it sent.';
COMMENT ON COLUMN plum_internal.delivery.delivered_at IS 'When a sender reported it delivered.';
COMMENT ON COLUMN plum_internal.delivery.failed_at IS 'When it failed for good or bounced.';
COMMENT ON COLUMN plum_internal.delivery.cancelled_at IS 'When it was cancelled.';
COMMENT ON COLUMN plum_internal.delivery.claimed_role IS 'The database role that made the current (or last) claim: only it may report the outcome.';
COMMENT ON COLUMN plum_internal.delivery.campaign_id IS 'The points campaign a points delivery''s grant counts for (plum.distribute(campaign_id => ...)), or NULL.';

-- What a delivery carries, made real at send time (queue time or release): a scheduled points grant
-- gives its reservation back and is granted now (plum.give_points: validity starts now); codes are
-- marked distributed; the message is rendered and, on the qr channel, the QR is drawn.
-- Returns the row as queued; the caller inserts or updates it.
CREATE FUNCTION plum_internal.send_time(d plum_internal.delivery) RETURNS plum_internal.delivery
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum_internal.company;
	v_expires timestamptz;
	v_never boolean := false;
	v_amount numeric;
	v_code text;
	v_link record;
	v_qr text;
BEGIN
	SELECT * INTO STRICT v_company FROM plum_internal.company c WHERE c.company_id = d.company_id;
	-- what the message says, before anything changes
	IF d.reward = 'points' THEN
		v_amount := d.amount;
		v_expires := plum_internal.expiry_of(v_now, v_company.points_validity);
	ELSIF d.reward = 'codes' THEN
		PERFORM plum_internal.check_codes_deliverable(d.company_id, d.codes);
		SELECT sum(ic.denomination), min(ic.expires_at), bool_and(ic.expires_at IS NULL)
			INTO v_amount, v_expires, v_never
			FROM plum_internal.issued_code ic WHERE ic.code = ANY (d.codes);
		v_code := array_to_string(d.codes, ', ');
		v_qr := v_code;
	ELSIF d.reward = 'link' THEN
		v_link := plum_internal.check_token_deliverable(d.company_id, d.token);
		v_amount := v_link.value;
		v_expires := v_link.expires_at;
		v_never := v_link.expires_at IS NULL;
		v_qr := coalesce(d.vars ->> 'link_base', '') || d.token;
	ELSE
		-- a reminder: the lot it is about
		v_amount := d.amount;
		SELECT l.expires_at INTO v_expires FROM plum.point_lots l
			WHERE l.company_id = d.company_id AND l.recipient = d.recipient AND l.lot_id = d.lot_id;
	END IF;
	d.message := plum_internal.render_message(d.template,
		plum_internal.message_fields(v_company, v_amount, v_code, CASE WHEN d.reward = 'link' THEN d.token END,
			v_expires, v_never, d.vars),
		coalesce(d.reward || ' delivery', 'reminder'));
	IF d.channel = 'qr' THEN
		d.qr_svg := plum.qr_svg(v_qr);
	END IF;
	-- then the reward itself
	IF d.reward = 'points' THEN
		IF d.state = 'scheduled' THEN
			WITH e AS (SELECT nextval('plum_internal.journal_entry_id_seq') AS e),
			p AS (
				UPDATE plum_internal.admin a SET pool = a.pool + d.amount,
					chain_head = plum_internal.entry_hash(a.chain_head, e.e, d.company_id, v_now, 'unreserve', d.amount, d.admin_id, d.recipient,
						NULL, NULL, 'delivery:' || d.delivery_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
				FROM e WHERE a.admin_id = d.admin_id
				RETURNING e.e, a.chain_head)
			INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, reference, hash)
				SELECT p.e, d.company_id, v_now, 'unreserve', d.amount, d.admin_id, d.recipient, 'delivery:' || d.delivery_id, p.chain_head FROM p;
		END IF;
		d.lot_id := plum.give_points(d.admin_id, d.recipient, d.amount, 'delivery:' || d.delivery_id, NULL, d.campaign_id);
	ELSIF d.reward = 'codes' THEN
		PERFORM plum.mark_codes_distributed(d.codes);
	END IF;
	d.state := 'queued';
	d.released_at := v_now;
	d.next_attempt_at := v_now;
	RETURN d;
END
$$;
COMMENT ON FUNCTION plum_internal.send_time(plum_internal.delivery) IS
	'Internal: make a delivery''s reward real now (grant scheduled points from their reservation, mark codes distributed), render its message and QR; returns the row as queued.';

-- Codes that may be delivered for a company: known (PU005), the company's (PU009), not cancelled
-- (PU003), not expired (PU002), none given twice (22023).
CREATE FUNCTION plum_internal.check_codes_deliverable(company_id bigint, codes plum.code[]) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_bad record;
	v_now timestamptz := plum.now();
BEGIN
	IF cardinality(codes) = 0 THEN
		PERFORM plum_internal.raise('22023', 'no codes given', NULL, 'Give at least one code.');
	END IF;
	IF array_position(codes, NULL) IS NOT NULL THEN
		PERFORM plum_internal.raise('22004', format('code #%s must not be null', array_position(codes, NULL)));
	END IF;
	SELECT u.c, u.i, ic.company_id, ic.cancelled_at, ic.expires_at,
			count(*) OVER (PARTITION BY u.c) AS times
		INTO v_bad
		FROM unnest(codes) WITH ORDINALITY AS u(c, i) LEFT JOIN plum_internal.issued_code ic ON ic.code = u.c
		ORDER BY (ic.code IS NULL) DESC, (ic.company_id <> check_codes_deliverable.company_id) DESC,
			(ic.cancelled_at IS NOT NULL) DESC, coalesce(ic.expires_at <= v_now, false) DESC, 6 DESC, u.i
		LIMIT 1;
	IF v_bad.company_id IS NULL THEN
		PERFORM plum_internal.raise('PU005', 'unknown code', format('Code #%s (%s) does not exist.', v_bad.i, v_bad.c),
			'Check the code for typing mistakes.');
	ELSIF v_bad.company_id <> check_codes_deliverable.company_id THEN
		PERFORM plum_internal.raise('PU009', 'code belongs to another company',
			format('Code #%s (%s) is of company %s, not %s.', v_bad.i, v_bad.c, v_bad.company_id, company_id));
	ELSIF v_bad.cancelled_at IS NOT NULL THEN
		PERFORM plum_internal.raise('PU003', 'code cancelled', format('Code #%s (%s) was cancelled at %s.', v_bad.i, v_bad.c, v_bad.cancelled_at));
	ELSIF v_bad.expires_at <= v_now THEN
		PERFORM plum_internal.raise('PU002', 'code expired', format('Code #%s (%s) expired at %s.', v_bad.i, v_bad.c, v_bad.expires_at));
	ELSIF v_bad.times > 1 THEN
		PERFORM plum_internal.raise('22023', 'duplicate code', format('Code %s is given %s times.', v_bad.c, v_bad.times),
			'Give each code once.');
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.check_codes_deliverable(bigint, plum.code[]) IS
	'Internal: refuse codes that cannot be delivered for a company: none or NULL (22023, 22004), unknown (PU005), another company''s (PU009), cancelled (PU003), expired (PU002), given twice (22023).';

-- A link that may be delivered for a company: known (PU005), the company's (PU009), active (PU003),
-- campaign not expired (PU002). Returns its value and expiry.
CREATE FUNCTION plum_internal.check_token_deliverable(company_id bigint, token text, OUT value numeric, OUT expires_at timestamptz)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_link record;
BEGIN
	SELECT l.company_id, l.state, l.value, k.expires_at INTO v_link
		FROM plum_internal.link l JOIN plum_internal.campaign k USING (campaign_id) WHERE l.token = check_token_deliverable.token;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown link', 'No link has this token.', 'Create the link with plum.create_link() first.');
	END IF;
	IF v_link.company_id <> check_token_deliverable.company_id THEN
		PERFORM plum_internal.raise('PU009', 'link belongs to another company',
			format('The link is of company %s, not %s.', v_link.company_id, company_id));
	END IF;
	IF v_link.state <> 'active' THEN
		PERFORM plum_internal.raise('PU003', format('link %s', v_link.state), 'Only an active link can be delivered.');
	END IF;
	IF v_link.expires_at <= plum.now() THEN
		PERFORM plum_internal.raise('PU002', 'link expired', format('The link''s campaign expired at %s.', v_link.expires_at));
	END IF;
	value := v_link.value;
	expires_at := v_link.expires_at;
END
$$;
COMMENT ON FUNCTION plum_internal.check_token_deliverable(bigint, text) IS
	'Internal: refuse a link that cannot be delivered for a company: unknown (PU005), another company''s (PU009), redeemed or cancelled (PU003), expired (PU002); returns its value and expiry.';

CREATE FUNCTION plum.distribute(admin_id bigint, channel text, destination text, template text,
		points numeric DEFAULT NULL, recipient plum.recipient DEFAULT NULL, codes plum.code[] DEFAULT NULL,
		link text DEFAULT NULL, send_at timestamptz DEFAULT NULL, vars jsonb DEFAULT '{}', campaign_id bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum_internal.company;
	v_d plum_internal.delivery;
	v_pool numeric;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.check_channel(channel);
	PERFORM plum_internal.not_null(template, 'template');
	PERFORM plum_internal.not_null(vars, 'vars');
	v_company := plum_internal.admin_company(distribute.admin_id);
	v_d.destination := plum_internal.check_destination(channel, destination);
	IF num_nonnulls(points, codes, link) <> 1 THEN
		PERFORM plum_internal.raise('22023', 'a delivery carries exactly one reward',
			format('%s of points, codes and link are given.', num_nonnulls(points, codes, link)),
			'Give points (with a recipient), codes, or a link.');
	END IF;
	IF campaign_id IS NOT NULL AND points IS NULL THEN
		PERFORM plum_internal.raise('22023', 'a campaign goes with points only',
			'Codes and links carry their own campaign.');
	END IF;
	IF recipient IS NOT NULL AND points IS NULL THEN
		PERFORM plum_internal.raise('22023', 'a recipient goes with points only',
			'Codes and links are bearer rewards; the destination says where they go.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum_internal.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)),
			'Give the template variables as {"name": "Alice", ...}.');
	END IF;
	IF send_at < v_now THEN
		PERFORM plum_internal.raise('22023', 'send_at is in the past', format('send_at is %s; it is now %s.', send_at, v_now),
			'Leave send_at NULL to send now.');
	END IF;
	v_d.company_id := v_company.company_id;
	v_d.admin_id := distribute.admin_id;
	v_d.kind := 'reward';
	v_d.channel := channel;
	v_d.template := template;
	v_d.vars := vars;
	v_d.created := v_now;
	v_d.attempts := 0;
	v_d.send_at := coalesce(send_at, v_now);
	v_d.state := CASE WHEN send_at > v_now THEN 'scheduled' ELSE 'queued' END;

	IF points IS NOT NULL THEN
		IF channel = 'qr' THEN
			PERFORM plum_internal.raise('22023', 'a qr delivery carries a link or a code', 'A points grant has nothing to encode.',
				'Deliver points on another channel.');
		END IF;
		v_d.reward := 'points';
		v_d.amount := plum_internal.valid_amount(points, v_company.scale);
		PERFORM plum_internal.check_grant(v_company.company_id, v_company.scale, v_company.max_grant, v_d.amount);
		IF recipient IS NULL AND channel IN ('email', 'sms', 'whatsapp') THEN
			recipient := v_d.destination::plum.recipient;
		END IF;
		IF recipient IS NULL THEN
			PERFORM plum_internal.raise('22004', 'recipient must not be null',
				format('A destination on channel %s is not a recipient.', channel), 'Give the recipient of the points.');
		END IF;
		v_d.recipient := recipient;
		IF distribute.campaign_id IS NOT NULL THEN
			PERFORM plum_internal.check_campaign(distribute.admin_id, distribute.campaign_id, 'points');
			v_d.campaign_id := distribute.campaign_id;
		END IF;
	ELSIF codes IS NOT NULL THEN
		v_d.reward := 'codes';
		PERFORM plum_internal.check_codes_deliverable(v_company.company_id, codes);
		IF channel = 'qr' AND cardinality(codes) <> 1 THEN
			PERFORM plum_internal.raise('22023', 'a qr delivery carries one code', format('%s codes are given.', cardinality(codes)),
				'Use plum.distribute_bulk() for one QR per code.');
		END IF;
		v_d.codes := codes;
	ELSE
		v_d.reward := 'link';
		PERFORM plum_internal.check_token_deliverable(v_company.company_id, link);
		v_d.token := link;
	END IF;

	v_d.delivery_id := nextval('plum_internal.delivery_delivery_id_seq');
	IF v_d.state = 'queued' THEN
		v_d := plum_internal.send_time(v_d);
	ELSE
		-- check the template now with the fields it will have at release
		PERFORM plum_internal.render_message(template,
			plum_internal.message_fields(v_company, coalesce(v_d.amount, 1), CASE WHEN codes IS NOT NULL THEN '' END,
				CASE WHEN link IS NOT NULL THEN '' END, v_d.send_at, false, vars),
			v_d.reward || ' delivery');
		IF v_d.reward = 'points' THEN
			-- the reservation chains on the admin's pool in debit_pool's UPDATE
			v_pool := plum_internal.debit_pool(distribute.admin_id, v_d.amount, v_company.scale, '',
				jsonb_build_object('entry_id', nextval('plum_internal.journal_entry_id_seq'), 'company_id', v_company.company_id,
					'at', v_now, 'kind', 'reserve', 'amount', v_d.amount, 'admin_id', distribute.admin_id,
					'recipient', v_d.recipient, 'reference', 'delivery:' || v_d.delivery_id));
		END IF;
	END IF;
	INSERT INTO plum_internal.delivery SELECT v_d.*;
	IF v_d.state = 'queued' THEN
		PERFORM pg_notify('plum_' || channel, v_d.delivery_id::text);
	END IF;
	RETURN v_d.delivery_id;
END
$$;
COMMENT ON FUNCTION plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb, bigint) IS
	'Queue the delivery of one reward (points to a recipient, codes, or a link) on a channel to a destination that fits it, with a message rendered from a template; now (send_at NULL) or at send_at. A scheduled points grant reserves its value from the pool until release. Returns the delivery id. campaign_id (since 0.2.0, points only): the points campaign the grant counts for, as in plum.give_points().';

CREATE FUNCTION plum.distribute_bulk(admin_id bigint, channel text, destinations text[], template text,
		points numeric[] DEFAULT NULL, recipients plum.recipient[] DEFAULT NULL, codes plum.code[] DEFAULT NULL,
		links text[] DEFAULT NULL, send_at timestamptz DEFAULT NULL, vars jsonb DEFAULT '{}',
		vars_each jsonb[] DEFAULT NULL)
	RETURNS bigint[]
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum_internal.company;
	v_n integer;
	v_dest text[];
	v_bad bigint;
	v_reward text;
	v_state text;
	v_total numeric;
	v_pool numeric;
	v_floor bigint;
	v_expiry timestamptz;
	v_ids bigint[];
	v_link record;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.check_channel(channel);
	PERFORM plum_internal.not_null(destinations, 'destinations');
	PERFORM plum_internal.not_null(template, 'template');
	PERFORM plum_internal.not_null(vars, 'vars');
	v_company := plum_internal.admin_company(distribute_bulk.admin_id);
	v_n := cardinality(destinations);
	IF num_nonnulls(points, codes, links) <> 1 THEN
		PERFORM plum_internal.raise('22023', 'a delivery carries exactly one reward',
			format('%s of points, codes and links are given.', num_nonnulls(points, codes, links)),
			'Give points (with recipients), codes (one per destination), or links (one per destination).');
	END IF;
	IF recipients IS NOT NULL AND points IS NULL THEN
		PERFORM plum_internal.raise('22023', 'recipients go with points only');
	END IF;
	IF cardinality(coalesce(points::text[], codes::text[], links)) <> v_n
			OR (recipients IS NOT NULL AND cardinality(recipients) <> v_n)
			OR (vars_each IS NOT NULL AND cardinality(vars_each) <> v_n) THEN
		PERFORM plum_internal.raise('22023', 'arrays differ in length',
			format('There are %s destinations, %s rewards, %s recipients and %s vars_each.', v_n,
				cardinality(coalesce(points::text[], codes::text[], links)), coalesce(cardinality(recipients)::text, 'no'),
				coalesce(cardinality(vars_each)::text, 'no')),
			'Give one reward (and recipient, and vars_each entry) per destination.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum_internal.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)));
	END IF;
	SELECT min(u.i) INTO v_bad FROM unnest(vars_each) WITH ORDINALITY AS u(v, i) WHERE jsonb_typeof(u.v) IS DISTINCT FROM 'object' AND u.v IS NOT NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum_internal.raise('22023', format('vars_each #%s must be a JSON object', v_bad));
	END IF;
	IF send_at < v_now THEN
		PERFORM plum_internal.raise('22023', 'send_at is in the past', format('send_at is %s; it is now %s.', send_at, v_now),
			'Leave send_at NULL to send now.');
	END IF;
	IF v_n = 0 THEN
		RETURN '{}';
	END IF;
	SELECT min(u.i) INTO v_bad FROM unnest(destinations) WITH ORDINALITY AS u(d, i) WHERE u.d IS NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum_internal.raise('22004', format('destination #%s must not be null', v_bad));
	END IF;
	-- destinations: set-based; on a bad one, find it and say which
	BEGIN
		IF channel = 'email' THEN
			SELECT array_agg(d::plum.recipient::text ORDER BY i) INTO v_dest FROM unnest(destinations) WITH ORDINALITY AS u(d, i);
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE plum.recipient_kind(d::plum.recipient) <> 'email';
		ELSIF channel IN ('sms', 'whatsapp') THEN
			SELECT array_agg(d::plum.recipient::text ORDER BY i) INTO v_dest FROM unnest(destinations) WITH ORDINALITY AS u(d, i);
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE plum.recipient_kind(d::plum.recipient) <> 'phone';
		ELSE
			v_dest := destinations;
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE plum_internal.trim_name(d) = '';
		END IF;
	EXCEPTION WHEN invalid_text_representation THEN
		v_bad := 0;
	END;
	IF v_bad IS NOT NULL THEN
		FOR i IN 1 .. v_n LOOP
			PERFORM plum_internal.check_destination(channel, destinations[i], format('destination #%s', i));
		END LOOP;
	END IF;
	v_state := CASE WHEN send_at > v_now THEN 'scheduled' ELSE 'queued' END;

	IF points IS NOT NULL THEN
		v_reward := 'points';
		IF channel = 'qr' THEN
			PERFORM plum_internal.raise('22023', 'a qr delivery carries a link or a code', 'A points grant has nothing to encode.');
		END IF;
		IF recipients IS NULL THEN
			IF channel NOT IN ('email', 'sms', 'whatsapp') THEN
				PERFORM plum_internal.raise('22004', 'recipients must not be null',
					format('Destinations on channel %s are not recipients.', channel), 'Give the recipients of the points.');
			END IF;
			recipients := v_dest::plum.recipient[];
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(recipients) WITH ORDINALITY AS u(r, i) WHERE u.r IS NULL;
		IF v_bad IS NOT NULL THEN
			PERFORM plum_internal.raise('22004', format('recipient #%s must not be null', v_bad));
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(points) WITH ORDINALITY AS u(a, i)
			WHERE a IS NULL OR NOT (a > 0 AND a < 10::numeric ^ (18 - v_company.scale) AND a = round(a, v_company.scale));
		IF v_bad IS NOT NULL THEN
			PERFORM plum_internal.valid_amount(points[v_bad], v_company.scale, format('amount #%s', v_bad));
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(points) WITH ORDINALITY AS u(a, i) WHERE a > v_company.max_grant;
		IF v_bad IS NOT NULL THEN
			PERFORM plum_internal.check_grant(v_company.company_id, v_company.scale, v_company.max_grant, points[v_bad], v_bad);
		END IF;
		points := (SELECT array_agg(round(a, v_company.scale) ORDER BY i) FROM unnest(points) WITH ORDINALITY AS u(a, i));
		v_total := (SELECT sum(a) FROM unnest(points) AS a);
	ELSIF codes IS NOT NULL THEN
		v_reward := 'codes';
		PERFORM plum_internal.check_codes_deliverable(v_company.company_id, codes);
	ELSE
		v_reward := 'link';
		SELECT min(u.i) INTO v_bad FROM unnest(links) WITH ORDINALITY AS u(t, i) WHERE u.t IS NULL;
		IF v_bad IS NOT NULL THEN
			PERFORM plum_internal.raise('22004', format('link #%s must not be null', v_bad));
		END IF;
		SELECT u.t, u.i, count(*) OVER (PARTITION BY u.t) AS times, l.token IS NOT NULL AS known, l.company_id, l.state,
				k.expires_at
			INTO v_link
			FROM unnest(links) WITH ORDINALITY AS u(t, i)
			LEFT JOIN plum_internal.link l ON l.token = u.t LEFT JOIN plum_internal.campaign k ON k.campaign_id = l.campaign_id
			ORDER BY (l.token IS NULL) DESC, (l.company_id <> v_company.company_id) DESC, (l.state <> 'active') DESC,
				coalesce(k.expires_at <= v_now, false) DESC, 3 DESC, u.i
			LIMIT 1;
		IF NOT v_link.known OR v_link.company_id <> v_company.company_id OR v_link.state <> 'active'
				OR v_link.expires_at <= v_now THEN
			BEGIN
				PERFORM plum_internal.check_token_deliverable(v_company.company_id, v_link.t);
			EXCEPTION WHEN OTHERS THEN
				DECLARE
					v_state5 text;
					v_msg text;
					v_detail text;
				BEGIN
					GET STACKED DIAGNOSTICS v_state5 = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
					PERFORM plum_internal.raise(v_state5, format('link #%s: %s', v_link.i, v_msg), v_detail);
				END;
			END;
		ELSIF v_link.times > 1 THEN
			PERFORM plum_internal.raise('22023', 'duplicate link', format('Link #%s is given %s times.', v_link.i, v_link.times),
				'Give each link once.');
		END IF;
	END IF;

	-- check the template once with the fields this delivery will have
	PERFORM plum_internal.render_message(template,
		plum_internal.message_fields(v_company, 1, CASE WHEN v_reward = 'codes' THEN '' END, CASE WHEN v_reward = 'link' THEN '' END,
			coalesce(send_at, v_now), false, vars || coalesce(vars_each[1], '{}')),
		v_reward || ' delivery');

	IF v_reward = 'points' AND v_state = 'queued' THEN
		-- lock the pool first, so the grants' ledger entries (after v_floor) are this call's only
		PERFORM 1 FROM plum_internal.admin a WHERE a.admin_id = distribute_bulk.admin_id FOR UPDATE;
		v_floor := nextval('plum_internal.journal_entry_id_seq');
		PERFORM plum.give_points_bulk(admin_id, recipients, points, 'distribution');
	ELSIF v_reward = 'points' THEN
		v_pool := plum_internal.debit_pool(distribute_bulk.admin_id, v_total, v_company.scale, format(' in %s grants', v_n));
	ELSIF v_reward = 'codes' AND v_state = 'queued' THEN
		PERFORM plum.mark_codes_distributed(codes);
	END IF;
	v_expiry := plum_internal.expiry_of(v_now, v_company.points_validity);

	-- (unnest, not subscripts: a subscript of a variable-width array walks it from the start)
	-- a grant's ledger row: give_points_bulk numbers each recipient's grants in argument order, so the
	-- k-th delivery to a recipient has the k-th of its give rows (by entry id) after v_floor
	WITH src AS MATERIALIZED (
		SELECT x.*, row_number() OVER (PARTITION BY x.recipient ORDER BY x.i) AS k
		FROM (SELECT u.i, nextval('plum_internal.delivery_delivery_id_seq') AS id, u.dest, u.amount, u.recipient, u.code, u.token,
				vars || coalesce(u.ve, '{}') AS v
			FROM unnest(v_dest, points, recipients, codes, links, vars_each)
				WITH ORDINALITY AS u(dest, amount, recipient, code, token, ve, i) ORDER BY u.i) AS x),
	lots AS (
		SELECT j.entry_id, j.recipient, row_number() OVER (PARTITION BY j.recipient ORDER BY j.entry_id) AS k
		FROM plum_internal.journal j
		WHERE v_floor IS NOT NULL AND j.entry_id > v_floor AND j.kind = 'give' AND j.admin_id = distribute_bulk.admin_id),
	info AS (
		SELECT src.*, lots.entry_id AS lot_id,
			CASE v_reward WHEN 'points' THEN src.amount WHEN 'codes' THEN ic.denomination ELSE l.value END AS val,
			CASE v_reward WHEN 'points' THEN v_expiry WHEN 'codes' THEN ic.expires_at ELSE k.expires_at END AS exp,
			CASE v_reward WHEN 'codes' THEN src.code::text WHEN 'link' THEN coalesce(src.v ->> 'link_base', '') || src.token END AS qr
		FROM src LEFT JOIN lots ON lots.recipient OPERATOR(pg_catalog.=) src.recipient AND lots.k = src.k
			LEFT JOIN plum_internal.issued_code ic ON ic.code = src.code
			LEFT JOIN plum_internal.link l ON l.token = src.token LEFT JOIN plum_internal.campaign k ON k.campaign_id = l.campaign_id),
	ins AS (
		INSERT INTO plum_internal.delivery (delivery_id, company_id, admin_id, kind, channel, destination, reward, recipient, amount,
				codes, token, lot_id, template, vars, message, qr_svg, state, send_at, created, released_at, next_attempt_at)
		SELECT info.id, v_company.company_id, distribute_bulk.admin_id, 'reward', channel, info.dest, v_reward, info.recipient,
			info.amount, CASE WHEN info.code IS NOT NULL THEN ARRAY[info.code] END, info.token, info.lot_id, template, info.v,
			CASE WHEN v_state = 'queued' THEN plum_internal.render_message(template,
				plum_internal.message_fields(v_company, info.val, info.code::text, info.token, info.exp,
					v_reward <> 'points' AND info.exp IS NULL, info.v),
				v_reward || ' delivery') END,
			CASE WHEN v_state = 'queued' AND channel = 'qr' THEN plum.qr_svg(info.qr) END,
			v_state, coalesce(send_at, v_now), v_now,
			CASE WHEN v_state = 'queued' THEN v_now END, CASE WHEN v_state = 'queued' THEN v_now END
		FROM info ORDER BY info.i
		RETURNING delivery_id, recipient, amount),
	-- the reservations chain on the admin's pool (locked by debit_pool), in delivery order
	re AS MATERIALIZED (
		SELECT r.*, plum_internal.entry_chain(pool.chain_head, r.e, v_company.company_id, v_now, 'reserve', r.amount,
				distribute_bulk.admin_id, r.recipient, NULL, NULL, 'delivery:' || r.delivery_id, NULL, NULL, NULL, NULL, NULL,
				NULL, NULL, NULL) OVER (ORDER BY r.e) AS hash
		FROM (SELECT ins.*, nextval('plum_internal.journal_entry_id_seq') AS e
			FROM ins WHERE v_reward = 'points' AND v_state = 'scheduled' ORDER BY ins.delivery_id) AS r
			CROSS JOIN plum_internal.admin pool WHERE pool.admin_id = distribute_bulk.admin_id),
	res AS (
		INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, reference, hash)
		SELECT re.e, v_company.company_id, v_now, 'reserve', re.amount, distribute_bulk.admin_id, re.recipient,
			'delivery:' || re.delivery_id, re.hash
		FROM re),
	head AS (
		UPDATE plum_internal.admin a SET chain_head = (SELECT re.hash FROM re ORDER BY re.e DESC LIMIT 1)
		WHERE a.admin_id = distribute_bulk.admin_id AND EXISTS (SELECT FROM re))
	SELECT array_agg(ins.delivery_id ORDER BY ins.delivery_id) INTO v_ids FROM ins;
	IF v_state = 'queued' THEN
		PERFORM pg_notify('plum_' || channel, v_n::text);
	END IF;
	RETURN v_ids;
END
$$;
COMMENT ON FUNCTION plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]) IS
	'Queue many deliveries in one call, all or nothing: destinations[i] gets points[i] (to recipients[i], by default the destination), codes[i] or links[i], with vars merged with vars_each[i]; now or at send_at. Returns the delivery ids in destination order.';
COMMENT ON TYPE plum.delivery IS 'A delivery as a sender claims it (plum.claim_deliveries()): the columns of the outbox, described in plum.deliveries.';
