-- Distribution (SPEC, "Distribution"): a transactional outbox of deliveries that the application's
-- senders drain. A delivery carries one reward (a points grant, codes or a link) on one channel to
-- a destination, with a message rendered from a template, now or at send_at.
--
-- Life of a delivery (plum.delivery.state):
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

CREATE TABLE plum.delivery (
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
	CONSTRAINT delivery_reward CHECK ((kind = 'reward') = (reward IS NOT NULL)),
	CONSTRAINT delivery_points CHECK (reward IS DISTINCT FROM 'points' OR (amount IS NOT NULL AND recipient IS NOT NULL)),
	CONSTRAINT delivery_codes CHECK (reward IS DISTINCT FROM 'codes' OR cardinality(codes) > 0),
	CONSTRAINT delivery_link CHECK (reward IS DISTINCT FROM 'link' OR token IS NOT NULL),
	CONSTRAINT delivery_claimed CHECK (state <> 'claimed' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL)),
	CONSTRAINT delivery_due CHECK (state NOT IN ('queued', 'claimed') OR next_attempt_at IS NOT NULL)
);
-- what senders claim: queued deliveries due, and claimed ones whose lease (next_attempt_at) ran out
CREATE INDEX delivery_claimable ON plum.delivery (channel, next_attempt_at, delivery_id) WHERE state IN ('queued', 'claimed');
CREATE INDEX delivery_scheduled ON plum.delivery (send_at, delivery_id) WHERE state = 'scheduled';
CREATE INDEX delivery_failed ON plum.delivery (company_id, failed_at) WHERE state IN ('failed', 'bounced');
-- one reminder per recipient and lot, ever
CREATE UNIQUE INDEX delivery_reminder ON plum.delivery (company_id, recipient, lot_id) WHERE kind = 'reminder';
COMMENT ON TABLE plum.delivery IS 'The outbox: one row per message to send (a reward delivery or an expiry reminder). Written only by plum''s distribution functions, which check the company and admin (no foreign keys, so that a bulk distribution stays one plain INSERT); senders use plum.claim_deliveries() and plum.report_delivery(); read plum.deliveries.';
COMMENT ON COLUMN plum.delivery.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.delivery.company_id IS 'The company.';
COMMENT ON COLUMN plum.delivery.admin_id IS 'The admin who distributed the reward (NULL for reminders).';
COMMENT ON COLUMN plum.delivery.kind IS 'reward (plum.distribute) or reminder (plum.queue_expiry_reminders).';
COMMENT ON COLUMN plum.delivery.channel IS 'email, sms, whatsapp, qr, on_screen or api.';
COMMENT ON COLUMN plum.delivery.destination IS 'Where to send: a normalised email address (email), an E.164 phone (sms, whatsapp), else the application''s id (session, user, screen).';
COMMENT ON COLUMN plum.delivery.reward IS 'points, codes or link (NULL for reminders).';
COMMENT ON COLUMN plum.delivery.recipient IS 'The recipient of a points grant, or of a reminder.';
COMMENT ON COLUMN plum.delivery.amount IS 'The points granted (reserved from the pool while scheduled), or the points a reminder is about.';
COMMENT ON COLUMN plum.delivery.codes IS 'The codes delivered.';
COMMENT ON COLUMN plum.delivery.token IS 'The link token delivered.';
COMMENT ON COLUMN plum.delivery.lot_id IS 'The points lot: the ledger entry of the grant (set when it is made), or the lot a reminder is about.';
COMMENT ON COLUMN plum.delivery.template IS 'The message template ({{field}} placeholders).';
COMMENT ON COLUMN plum.delivery.vars IS 'The caller''s template variables (a JSON object); vars->>''link_base'' prefixes the link token.';
COMMENT ON COLUMN plum.delivery.message IS 'The rendered message (at queue time for immediate deliveries, at release for scheduled ones).';
COMMENT ON COLUMN plum.delivery.qr_svg IS 'For the qr channel: the SVG of the link or code (plum.qr_svg).';
COMMENT ON COLUMN plum.delivery.state IS 'scheduled, queued, claimed (held by a sender under a lease), sent, delivered, failed (after the last attempt, or the release failed), bounced, cancelled.';
COMMENT ON COLUMN plum.delivery.send_at IS 'When the delivery is (or was) to be sent.';
COMMENT ON COLUMN plum.delivery.created IS 'When the delivery was queued or scheduled (plum clock).';
COMMENT ON COLUMN plum.delivery.released_at IS 'When it entered the queue (at creation for immediate deliveries).';
COMMENT ON COLUMN plum.delivery.next_attempt_at IS 'Queued: when it may be claimed (after a backoff on retries). Claimed: when the lease ends.';
COMMENT ON COLUMN plum.delivery.attempts IS 'How many times senders have claimed it.';
COMMENT ON COLUMN plum.delivery.claimed_by IS 'The sender that holds (or last held) it.';
COMMENT ON COLUMN plum.delivery.lease_until IS 'When the current claim ends; after that another sender may claim it.';
COMMENT ON COLUMN plum.delivery.last_error IS 'The last error reported (failed, bounced) or met at release.';
COMMENT ON COLUMN plum.delivery.sent_at IS 'When a sender reported it sent.';
COMMENT ON COLUMN plum.delivery.delivered_at IS 'When a sender reported it delivered.';
COMMENT ON COLUMN plum.delivery.failed_at IS 'When it failed for good or bounced.';
COMMENT ON COLUMN plum.delivery.cancelled_at IS 'When it was cancelled.';

-- The channels, checked with a clear error (22023).
CREATE FUNCTION plum.check_channel(channel text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum.not_null(channel, 'channel');
	IF channel NOT IN ('email', 'sms', 'whatsapp', 'qr', 'on_screen', 'api') THEN
		PERFORM plum.raise('22023', format('unknown channel "%s"', channel), NULL,
			'The channels are email, sms, whatsapp, qr, on_screen and api.');
	END IF;
	RETURN channel;
END
$$;
COMMENT ON FUNCTION plum.check_channel(text) IS
	'Internal: the channel, or 22004 when NULL and 22023 when it is not email, sms, whatsapp, qr, on_screen or api.';

-- A destination that fits its channel, normalised (22023 otherwise).
CREATE FUNCTION plum.check_destination(channel text, destination text, what text DEFAULT 'destination') RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_r plum.recipient;
	v_want text := CASE WHEN channel = 'email' THEN 'email' WHEN channel IN ('sms', 'whatsapp') THEN 'phone' END;
BEGIN
	IF destination IS NULL THEN
		PERFORM plum.raise('22004', format('%s must not be null', what));
	END IF;
	IF v_want IS NULL THEN
		IF btrim(destination) = '' THEN
			PERFORM plum.raise('22023', format('%s must not be empty', what), NULL,
				format('A %s destination is the application''s id for the recipient (a session, user or screen id).', channel));
		END IF;
		RETURN destination;
	END IF;
	BEGIN
		v_r := destination::plum.recipient;
	EXCEPTION WHEN invalid_text_representation THEN
		v_r := NULL;
	END;
	IF v_r IS NULL OR plum.recipient_kind(v_r) <> v_want THEN
		PERFORM plum.raise('22023', format('%s does not fit channel %s', what, channel),
			format('"%s" is not %s.', destination, CASE v_want WHEN 'email' THEN 'an email address' ELSE 'a mobile phone number' END),
			CASE v_want WHEN 'email' THEN 'An email delivery goes to an email address.'
				ELSE 'SMS and WhatsApp deliveries go to a phone number in international form, e.g. +14155550100.' END);
	END IF;
	RETURN v_r::text;
END
$$;
COMMENT ON FUNCTION plum.check_destination(text, text, text) IS
	'Internal: the destination normalised for its channel (email: an email address; sms, whatsapp: an E.164 phone; others: any non-empty text), else 22023.';

-- A timestamp in messages: UTC, minutes, whatever the session's TimeZone and DateStyle.
-- message_time() and message_fields() have no SET clause so that they inline into the bulk
-- queries that call them once per delivery (a SET costs more than the function); they are not
-- SECURITY DEFINER and call only pg_catalog and plum, schema-qualified.
CREATE FUNCTION plum.message_time(at timestamptz) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN pg_catalog.to_char(pg_catalog.timezone('UTC', at), 'YYYY-MM-DD HH24:MI') || ' UTC';
COMMENT ON FUNCTION plum.message_time(timestamptz) IS
	'Internal: a timestamp as messages show it (YYYY-MM-DD HH24:MI UTC).';

-- The template fields of one delivery: the caller's vars, then plum's own fields over them.
-- A field that does not apply to this delivery is a JSON null (rendering it is refused).
CREATE FUNCTION plum.message_fields(company plum.company, amount numeric, code text, link text,
		expires_at timestamptz, never_expires boolean, vars jsonb)
	RETURNS jsonb
	LANGUAGE sql STABLE
	RETURN vars || pg_catalog.jsonb_build_object(
		'name', vars -> 'name',
		'amount', pg_catalog.round(amount, (company).scale)::text || ' ' || (company).base_currency,
		'code', code,
		'link', COALESCE(vars ->> 'link_base', '') || link,
		'expires_at', CASE WHEN never_expires THEN 'never' ELSE plum.message_time(expires_at) END,
		'currency', (company).base_currency,
		'company', (company).name);
COMMENT ON FUNCTION plum.message_fields(plum.company, numeric, text, text, timestamptz, boolean, jsonb) IS
	'Internal: the template fields of a delivery as a JSON object (name, amount with currency, code, link with vars->>''link_base'', expires_at in UTC, currency, company, and every key of vars).';

-- Render a template: {{field}} (spaces allowed inside the braces) is replaced by the field's value,
-- scanning left to right so values are never expanded again. 22023 for an unknown field or one
-- that has no value for this delivery.
CREATE FUNCTION plum.render_message(template text, fields jsonb, what text DEFAULT 'delivery') RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_out text := '';
	v_rest text := template;
	v_open integer;
	v_close integer;
	v_name text;
	v_value text;
BEGIN
	LOOP
		v_open := strpos(v_rest, '{{');
		EXIT WHEN v_open = 0;
		v_close := strpos(substr(v_rest, v_open + 2), '}}');
		EXIT WHEN v_close = 0;
		v_name := btrim(substr(v_rest, v_open + 2, v_close - 1));
		IF NOT fields ? v_name THEN
			PERFORM plum.raise('22023', format('unknown template field "{{%s}}"', v_name),
				'The fields are {{name}}, {{amount}}, {{code}}, {{link}}, {{expires_at}}, {{currency}}, {{company}} and the keys of vars.',
				format('Add "%s" to vars, or correct the template.', v_name));
		END IF;
		v_value := fields ->> v_name;
		IF v_value IS NULL THEN
			PERFORM plum.raise('22023', format('template field "{{%s}}" has no value', v_name),
				CASE WHEN v_name = 'name' THEN 'vars has no "name".' ELSE format('A %s has no %s.', what, v_name) END,
				CASE WHEN v_name = 'name' THEN 'Give the name in vars, e.g. vars => ''{"name": "Alice"}''.' END);
		END IF;
		v_out := v_out || left(v_rest, v_open - 1) || v_value;
		v_rest := substr(v_rest, v_open + v_close + 3);
	END LOOP;
	RETURN v_out || v_rest;
END
$$;
COMMENT ON FUNCTION plum.render_message(text, jsonb, text) IS
	'Internal: render a template''s {{field}} placeholders from a JSON object of fields; 22023 for an unknown field or one without a value.';

-- What a delivery carries, made real at send time (queue time or release): a scheduled points grant
-- gives its reservation back and is granted now (plum.give_points: validity starts now); codes are
-- marked distributed; the message is rendered and, on the qr channel, the QR is drawn.
-- Returns the row as queued; the caller inserts or updates it.
CREATE FUNCTION plum.send_time(d plum.delivery) RETURNS plum.delivery
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_expires timestamptz;
	v_never boolean := false;
	v_amount numeric;
	v_code text;
	v_link record;
	v_qr text;
BEGIN
	SELECT * INTO STRICT v_company FROM plum.company c WHERE c.company_id = d.company_id;
	-- what the message says, before anything changes
	IF d.reward = 'points' THEN
		v_amount := d.amount;
		v_expires := plum.expiry_of(v_now, v_company.points_validity);
	ELSIF d.reward = 'codes' THEN
		PERFORM plum.check_codes_deliverable(d.company_id, d.codes);
		SELECT sum(ic.denomination), min(ic.expires_at), bool_and(ic.expires_at IS NULL)
			INTO v_amount, v_expires, v_never
			FROM plum.issued_code ic WHERE ic.code = ANY (d.codes);
		v_code := array_to_string(d.codes, ', ');
		v_qr := v_code;
	ELSIF d.reward = 'link' THEN
		v_link := plum.check_token_deliverable(d.company_id, d.token);
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
	d.message := plum.render_message(d.template,
		plum.message_fields(v_company, v_amount, v_code, CASE WHEN d.reward = 'link' THEN d.token END,
			v_expires, v_never, d.vars),
		coalesce(d.reward || ' delivery', 'reminder'));
	IF d.channel = 'qr' THEN
		d.qr_svg := plum.qr_svg(v_qr);
	END IF;
	-- then the reward itself
	IF d.reward = 'points' THEN
		IF d.state = 'scheduled' THEN
			UPDATE plum.admin a SET pool = a.pool + d.amount WHERE a.admin_id = d.admin_id;
			INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
				VALUES (d.company_id, v_now, 'unreserve', d.amount, d.admin_id, d.recipient, 'delivery:' || d.delivery_id);
		END IF;
		d.lot_id := plum.give_points(d.admin_id, d.recipient, d.amount, 'delivery:' || d.delivery_id);
	ELSIF d.reward = 'codes' THEN
		PERFORM plum.mark_codes_distributed(d.codes);
	END IF;
	d.state := 'queued';
	d.released_at := v_now;
	d.next_attempt_at := v_now;
	RETURN d;
END
$$;
COMMENT ON FUNCTION plum.send_time(plum.delivery) IS
	'Internal: make a delivery''s reward real now (grant scheduled points from their reservation, mark codes distributed), render its message and QR; returns the row as queued.';

-- Codes that may be delivered for a company: known (PU005), the company's (PU009), not cancelled
-- (PU003), not expired (PU002), none given twice (22023).
CREATE FUNCTION plum.check_codes_deliverable(company_id bigint, codes plum.code[]) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_bad record;
	v_now timestamptz := plum.now();
BEGIN
	IF cardinality(codes) = 0 THEN
		PERFORM plum.raise('22023', 'no codes given', NULL, 'Give at least one code.');
	END IF;
	IF array_position(codes, NULL) IS NOT NULL THEN
		PERFORM plum.raise('22004', format('code #%s must not be null', array_position(codes, NULL)));
	END IF;
	SELECT u.c, u.i, ic.company_id, ic.cancelled_at, ic.expires_at,
			count(*) OVER (PARTITION BY u.c) AS times
		INTO v_bad
		FROM unnest(codes) WITH ORDINALITY AS u(c, i) LEFT JOIN plum.issued_code ic ON ic.code = u.c
		ORDER BY (ic.code IS NULL) DESC, (ic.company_id <> check_codes_deliverable.company_id) DESC,
			(ic.cancelled_at IS NOT NULL) DESC, coalesce(ic.expires_at <= v_now, false) DESC, 6 DESC, u.i
		LIMIT 1;
	IF v_bad.company_id IS NULL THEN
		PERFORM plum.raise('PU005', 'unknown code', format('Code #%s (%s) does not exist.', v_bad.i, v_bad.c),
			'Check the code for typing mistakes.');
	ELSIF v_bad.company_id <> check_codes_deliverable.company_id THEN
		PERFORM plum.raise('PU009', 'code belongs to another company',
			format('Code #%s (%s) is of company %s, not %s.', v_bad.i, v_bad.c, v_bad.company_id, company_id));
	ELSIF v_bad.cancelled_at IS NOT NULL THEN
		PERFORM plum.raise('PU003', 'code cancelled', format('Code #%s (%s) was cancelled at %s.', v_bad.i, v_bad.c, v_bad.cancelled_at));
	ELSIF v_bad.expires_at <= v_now THEN
		PERFORM plum.raise('PU002', 'code expired', format('Code #%s (%s) expired at %s.', v_bad.i, v_bad.c, v_bad.expires_at));
	ELSIF v_bad.times > 1 THEN
		PERFORM plum.raise('22023', 'duplicate code', format('Code %s is given %s times.', v_bad.c, v_bad.times),
			'Give each code once.');
	END IF;
END
$$;
COMMENT ON FUNCTION plum.check_codes_deliverable(bigint, plum.code[]) IS
	'Internal: refuse codes that cannot be delivered for a company: none or NULL (22023, 22004), unknown (PU005), another company''s (PU009), cancelled (PU003), expired (PU002), given twice (22023).';

-- A link that may be delivered for a company: known (PU005), the company's (PU009), active (PU003),
-- campaign not expired (PU002). Returns its value and expiry.
CREATE FUNCTION plum.check_token_deliverable(company_id bigint, token text, OUT value numeric, OUT expires_at timestamptz)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_link record;
BEGIN
	SELECT l.company_id, l.state, l.value, k.expires_at INTO v_link
		FROM plum.link l JOIN plum.campaign k USING (campaign_id) WHERE l.token = check_token_deliverable.token;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown link', 'No link has this token.', 'Create the link with plum.create_link() first.');
	END IF;
	IF v_link.company_id <> check_token_deliverable.company_id THEN
		PERFORM plum.raise('PU009', 'link belongs to another company',
			format('The link is of company %s, not %s.', v_link.company_id, company_id));
	END IF;
	IF v_link.state <> 'active' THEN
		PERFORM plum.raise('PU003', format('link %s', v_link.state), 'Only an active link can be delivered.');
	END IF;
	IF v_link.expires_at <= plum.now() THEN
		PERFORM plum.raise('PU002', 'link expired', format('The link''s campaign expired at %s.', v_link.expires_at));
	END IF;
	value := v_link.value;
	expires_at := v_link.expires_at;
END
$$;
COMMENT ON FUNCTION plum.check_token_deliverable(bigint, text) IS
	'Internal: refuse a link that cannot be delivered for a company: unknown (PU005), another company''s (PU009), redeemed or cancelled (PU003), expired (PU002); returns its value and expiry.';

CREATE FUNCTION plum.distribute(admin_id bigint, channel text, destination text, template text,
		points numeric DEFAULT NULL, recipient plum.recipient DEFAULT NULL, codes plum.code[] DEFAULT NULL,
		link text DEFAULT NULL, send_at timestamptz DEFAULT NULL, vars jsonb DEFAULT '{}')
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_d plum.delivery;
	v_pool numeric;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(template, 'template');
	PERFORM plum.not_null(vars, 'vars');
	SELECT c.* INTO v_company FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = distribute.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', distribute.admin_id));
	END IF;
	v_d.destination := plum.check_destination(channel, destination);
	IF num_nonnulls(points, codes, link) <> 1 THEN
		PERFORM plum.raise('22023', 'a delivery carries exactly one reward',
			format('%s of points, codes and link are given.', num_nonnulls(points, codes, link)),
			'Give points (with a recipient), codes, or a link.');
	END IF;
	IF recipient IS NOT NULL AND points IS NULL THEN
		PERFORM plum.raise('22023', 'a recipient goes with points only',
			'Codes and links are bearer rewards; the destination says where they go.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)),
			'Give the template variables as {"name": "Alice", ...}.');
	END IF;
	IF send_at < v_now THEN
		PERFORM plum.raise('22023', 'send_at is in the past', format('send_at is %s; it is now %s.', send_at, v_now),
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
			PERFORM plum.raise('22023', 'a qr delivery carries a link or a code', 'A points grant has nothing to encode.',
				'Deliver points on another channel.');
		END IF;
		v_d.reward := 'points';
		v_d.amount := plum.valid_amount(points, v_company.scale);
		IF v_d.amount > v_company.max_grant THEN
			PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
				format('The amount is %s; the largest grant of company %s is %s.', v_d.amount, v_company.company_id,
					round(v_company.max_grant, v_company.scale)),
				'Split the grant, or raise the company''s largest grant.');
		END IF;
		IF recipient IS NULL AND channel IN ('email', 'sms', 'whatsapp') THEN
			recipient := v_d.destination::plum.recipient;
		END IF;
		IF recipient IS NULL THEN
			PERFORM plum.raise('22004', 'recipient must not be null',
				format('A destination on channel %s is not a recipient.', channel), 'Give the recipient of the points.');
		END IF;
		v_d.recipient := recipient;
	ELSIF codes IS NOT NULL THEN
		v_d.reward := 'codes';
		PERFORM plum.check_codes_deliverable(v_company.company_id, codes);
		IF channel = 'qr' AND cardinality(codes) <> 1 THEN
			PERFORM plum.raise('22023', 'a qr delivery carries one code', format('%s codes are given.', cardinality(codes)),
				'Use plum.distribute_bulk() for one QR per code.');
		END IF;
		v_d.codes := codes;
	ELSE
		v_d.reward := 'link';
		PERFORM plum.check_token_deliverable(v_company.company_id, link);
		v_d.token := link;
	END IF;

	v_d.delivery_id := nextval('plum.delivery_delivery_id_seq');
	IF v_d.state = 'queued' THEN
		v_d := plum.send_time(v_d);
	ELSE
		-- check the template now with the fields it will have at release
		PERFORM plum.render_message(template,
			plum.message_fields(v_company, coalesce(v_d.amount, 1), CASE WHEN codes IS NOT NULL THEN '' END,
				CASE WHEN link IS NOT NULL THEN '' END, v_d.send_at, false, vars),
			v_d.reward || ' delivery');
		IF v_d.reward = 'points' THEN
			UPDATE plum.admin a SET pool = a.pool - v_d.amount
				WHERE a.admin_id = distribute.admin_id AND a.pool >= v_d.amount;
			IF NOT FOUND THEN
				SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = distribute.admin_id;
				PERFORM plum.raise('PU001', 'insufficient pool',
					format('Admin %s''s pool is %s, requested %s.', distribute.admin_id, round(v_pool, v_company.scale), v_d.amount),
					'Create points into the pool with plum.create_points() first.');
			END IF;
			INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
				VALUES (v_company.company_id, v_now, 'reserve', v_d.amount, distribute.admin_id, v_d.recipient,
					'delivery:' || v_d.delivery_id);
		END IF;
	END IF;
	INSERT INTO plum.delivery SELECT v_d.*;
	IF v_d.state = 'queued' THEN
		PERFORM pg_notify('plum_' || channel, v_d.delivery_id::text);
	END IF;
	RETURN v_d.delivery_id;
END
$$;
COMMENT ON FUNCTION plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb) IS
	'Queue the delivery of one reward (points to a recipient, codes, or a link) on a channel to a destination that fits it, with a message rendered from a template; now (send_at NULL) or at send_at. A scheduled points grant reserves its value from the pool until release. Returns the delivery id.';

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
	v_company plum.company;
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
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(destinations, 'destinations');
	PERFORM plum.not_null(template, 'template');
	PERFORM plum.not_null(vars, 'vars');
	SELECT c.* INTO v_company FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = distribute_bulk.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', distribute_bulk.admin_id));
	END IF;
	v_n := cardinality(destinations);
	IF num_nonnulls(points, codes, links) <> 1 THEN
		PERFORM plum.raise('22023', 'a delivery carries exactly one reward',
			format('%s of points, codes and links are given.', num_nonnulls(points, codes, links)),
			'Give points (with recipients), codes (one per destination), or links (one per destination).');
	END IF;
	IF recipients IS NOT NULL AND points IS NULL THEN
		PERFORM plum.raise('22023', 'recipients go with points only');
	END IF;
	IF cardinality(coalesce(points::text[], codes::text[], links)) <> v_n
			OR (recipients IS NOT NULL AND cardinality(recipients) <> v_n)
			OR (vars_each IS NOT NULL AND cardinality(vars_each) <> v_n) THEN
		PERFORM plum.raise('22023', 'arrays differ in length',
			format('There are %s destinations, %s rewards, %s recipients and %s vars_each.', v_n,
				cardinality(coalesce(points::text[], codes::text[], links)), coalesce(cardinality(recipients)::text, 'no'),
				coalesce(cardinality(vars_each)::text, 'no')),
			'Give one reward (and recipient, and vars_each entry) per destination.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)));
	END IF;
	SELECT min(u.i) INTO v_bad FROM unnest(vars_each) WITH ORDINALITY AS u(v, i) WHERE jsonb_typeof(u.v) IS DISTINCT FROM 'object' AND u.v IS NOT NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('22023', format('vars_each #%s must be a JSON object', v_bad));
	END IF;
	IF send_at < v_now THEN
		PERFORM plum.raise('22023', 'send_at is in the past', format('send_at is %s; it is now %s.', send_at, v_now),
			'Leave send_at NULL to send now.');
	END IF;
	IF v_n = 0 THEN
		RETURN '{}';
	END IF;
	SELECT min(u.i) INTO v_bad FROM unnest(destinations) WITH ORDINALITY AS u(d, i) WHERE u.d IS NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('22004', format('destination #%s must not be null', v_bad));
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
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE btrim(d) = '';
		END IF;
	EXCEPTION WHEN invalid_text_representation THEN
		v_bad := 0;
	END;
	IF v_bad IS NOT NULL THEN
		FOR i IN 1 .. v_n LOOP
			PERFORM plum.check_destination(channel, destinations[i], format('destination #%s', i));
		END LOOP;
	END IF;
	v_state := CASE WHEN send_at > v_now THEN 'scheduled' ELSE 'queued' END;

	IF points IS NOT NULL THEN
		v_reward := 'points';
		IF channel = 'qr' THEN
			PERFORM plum.raise('22023', 'a qr delivery carries a link or a code', 'A points grant has nothing to encode.');
		END IF;
		IF recipients IS NULL THEN
			IF channel NOT IN ('email', 'sms', 'whatsapp') THEN
				PERFORM plum.raise('22004', 'recipients must not be null',
					format('Destinations on channel %s are not recipients.', channel), 'Give the recipients of the points.');
			END IF;
			recipients := v_dest::plum.recipient[];
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(recipients) WITH ORDINALITY AS u(r, i) WHERE u.r IS NULL;
		IF v_bad IS NOT NULL THEN
			PERFORM plum.raise('22004', format('recipient #%s must not be null', v_bad));
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(points) WITH ORDINALITY AS u(a, i)
			WHERE a IS NULL OR NOT (a > 0 AND a < 10::numeric ^ (18 - v_company.scale) AND a = round(a, v_company.scale));
		IF v_bad IS NOT NULL THEN
			PERFORM plum.valid_amount(points[v_bad], v_company.scale, format('amount #%s', v_bad));
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(points) WITH ORDINALITY AS u(a, i) WHERE a > v_company.max_grant;
		IF v_bad IS NOT NULL THEN
			PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
				format('Amount #%s is %s; the largest grant of company %s is %s.', v_bad,
					round(points[v_bad], v_company.scale), v_company.company_id, round(v_company.max_grant, v_company.scale)),
				'Split the grant, or raise the company''s largest grant.');
		END IF;
		points := (SELECT array_agg(round(a, v_company.scale) ORDER BY i) FROM unnest(points) WITH ORDINALITY AS u(a, i));
		v_total := (SELECT sum(a) FROM unnest(points) AS a);
	ELSIF codes IS NOT NULL THEN
		v_reward := 'codes';
		PERFORM plum.check_codes_deliverable(v_company.company_id, codes);
	ELSE
		v_reward := 'link';
		SELECT min(u.i) INTO v_bad FROM unnest(links) WITH ORDINALITY AS u(t, i) WHERE u.t IS NULL;
		IF v_bad IS NOT NULL THEN
			PERFORM plum.raise('22004', format('link #%s must not be null', v_bad));
		END IF;
		SELECT u.t, u.i, count(*) OVER (PARTITION BY u.t) AS times, l.token IS NOT NULL AS known, l.company_id, l.state,
				k.expires_at
			INTO v_link
			FROM unnest(links) WITH ORDINALITY AS u(t, i)
			LEFT JOIN plum.link l ON l.token = u.t LEFT JOIN plum.campaign k ON k.campaign_id = l.campaign_id
			ORDER BY (l.token IS NULL) DESC, (l.company_id <> v_company.company_id) DESC, (l.state <> 'active') DESC,
				coalesce(k.expires_at <= v_now, false) DESC, 3 DESC, u.i
			LIMIT 1;
		IF NOT v_link.known OR v_link.company_id <> v_company.company_id OR v_link.state <> 'active'
				OR v_link.expires_at <= v_now THEN
			BEGIN
				PERFORM plum.check_token_deliverable(v_company.company_id, v_link.t);
			EXCEPTION WHEN OTHERS THEN
				DECLARE
					v_state5 text;
					v_msg text;
					v_detail text;
				BEGIN
					GET STACKED DIAGNOSTICS v_state5 = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
					PERFORM plum.raise(v_state5, format('link #%s: %s', v_link.i, v_msg), v_detail);
				END;
			END;
		ELSIF v_link.times > 1 THEN
			PERFORM plum.raise('22023', 'duplicate link', format('Link #%s is given %s times.', v_link.i, v_link.times),
				'Give each link once.');
		END IF;
	END IF;

	-- check the template once with the fields this delivery will have
	PERFORM plum.render_message(template,
		plum.message_fields(v_company, 1, CASE WHEN v_reward = 'codes' THEN '' END, CASE WHEN v_reward = 'link' THEN '' END,
			coalesce(send_at, v_now), false, vars || coalesce(vars_each[1], '{}')),
		v_reward || ' delivery');

	IF v_reward = 'points' AND v_state = 'queued' THEN
		-- lock the pool first, so the grants' ledger entries (after v_floor) are this call's only
		PERFORM 1 FROM plum.admin a WHERE a.admin_id = distribute_bulk.admin_id FOR UPDATE;
		v_floor := nextval('plum.journal_entry_id_seq');
		PERFORM plum.give_points_bulk(admin_id, recipients, points, 'distribution');
	ELSIF v_reward = 'points' THEN
		UPDATE plum.admin a SET pool = a.pool - v_total
			WHERE a.admin_id = distribute_bulk.admin_id AND a.pool >= v_total;
		IF NOT FOUND THEN
			SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = distribute_bulk.admin_id;
			PERFORM plum.raise('PU001', 'insufficient pool',
				format('Admin %s''s pool is %s, requested %s in %s grants.', distribute_bulk.admin_id,
					round(v_pool, v_company.scale), round(v_total, v_company.scale), v_n),
				'Create points into the pool with plum.create_points() first.');
		END IF;
	ELSIF v_reward = 'codes' AND v_state = 'queued' THEN
		PERFORM plum.mark_codes_distributed(codes);
	END IF;
	v_expiry := plum.expiry_of(v_now, v_company.points_validity);

	-- (unnest, not subscripts: a subscript of a variable-width array walks it from the start)
	WITH src AS MATERIALIZED (
		SELECT u.i, nextval('plum.delivery_delivery_id_seq') AS id, u.dest, u.amount, u.recipient, u.code, u.token,
			vars || coalesce(u.ve, '{}') AS v
		FROM unnest(v_dest, points, recipients, codes, links, vars_each)
			WITH ORDINALITY AS u(dest, amount, recipient, code, token, ve, i)),
	lots AS (
		SELECT j.entry_id, row_number() OVER (ORDER BY j.entry_id) AS i FROM plum.journal j
		WHERE v_floor IS NOT NULL AND j.entry_id > v_floor AND j.kind = 'give' AND j.admin_id = distribute_bulk.admin_id),
	info AS (
		SELECT src.*, lots.entry_id AS lot_id,
			CASE v_reward WHEN 'points' THEN src.amount WHEN 'codes' THEN ic.denomination ELSE l.value END AS val,
			CASE v_reward WHEN 'points' THEN v_expiry WHEN 'codes' THEN ic.expires_at ELSE k.expires_at END AS exp,
			CASE v_reward WHEN 'codes' THEN src.code::text WHEN 'link' THEN coalesce(src.v ->> 'link_base', '') || src.token END AS qr
		FROM src LEFT JOIN lots USING (i)
			LEFT JOIN plum.issued_code ic ON ic.code = src.code
			LEFT JOIN plum.link l ON l.token = src.token LEFT JOIN plum.campaign k ON k.campaign_id = l.campaign_id),
	ins AS (
		INSERT INTO plum.delivery (delivery_id, company_id, admin_id, kind, channel, destination, reward, recipient, amount,
				codes, token, lot_id, template, vars, message, qr_svg, state, send_at, created, released_at, next_attempt_at)
		SELECT info.id, v_company.company_id, distribute_bulk.admin_id, 'reward', channel, info.dest, v_reward, info.recipient,
			info.amount, CASE WHEN info.code IS NOT NULL THEN ARRAY[info.code] END, info.token, info.lot_id, template, info.v,
			CASE WHEN v_state = 'queued' THEN plum.render_message(template,
				plum.message_fields(v_company, info.val, info.code::text, info.token, info.exp,
					v_reward <> 'points' AND info.exp IS NULL, info.v),
				v_reward || ' delivery') END,
			CASE WHEN v_state = 'queued' AND channel = 'qr' THEN plum.qr_svg(info.qr) END,
			v_state, coalesce(send_at, v_now), v_now,
			CASE WHEN v_state = 'queued' THEN v_now END, CASE WHEN v_state = 'queued' THEN v_now END
		FROM info ORDER BY info.i
		RETURNING delivery_id, recipient, amount),
	res AS (
		INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
		SELECT v_company.company_id, v_now, 'reserve', ins.amount, distribute_bulk.admin_id, ins.recipient,
			'delivery:' || ins.delivery_id
		FROM ins WHERE v_reward = 'points' AND v_state = 'scheduled')
	SELECT array_agg(ins.delivery_id ORDER BY ins.delivery_id) INTO v_ids FROM ins;
	IF v_state = 'queued' THEN
		PERFORM pg_notify('plum_' || channel, v_n::text);
	END IF;
	RETURN v_ids;
END
$$;
COMMENT ON FUNCTION plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]) IS
	'Queue many deliveries in one call, all or nothing: destinations[i] gets points[i] (to recipients[i], by default the destination), codes[i] or links[i], with vars merged with vars_each[i]; now or at send_at. Returns the delivery ids in destination order.';

CREATE FUNCTION plum.release_deliveries() RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_d plum.delivery;
	v_n integer := 0;
	v_error text;
	v_channels text[] := '{}';
BEGIN
	-- overlapping runs skip each other's rows; a row a cancellation holds is skipped (and released next time)
	FOR v_d IN SELECT d.* FROM plum.delivery d WHERE d.state = 'scheduled' AND d.send_at <= v_now
			ORDER BY d.send_at, d.delivery_id FOR UPDATE SKIP LOCKED LOOP
		BEGIN
			v_d := plum.send_time(v_d);
			UPDATE plum.delivery d SET lot_id = v_d.lot_id, message = v_d.message, qr_svg = v_d.qr_svg, state = 'queued',
					released_at = v_now, next_attempt_at = v_now
				WHERE d.delivery_id = v_d.delivery_id;
			v_n := v_n + 1;
			IF NOT v_d.channel = ANY (v_channels) THEN
				v_channels := v_channels || v_d.channel;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			-- nothing of this delivery happened; it fails visibly and its reservation goes back to the pool
			GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT;
			UPDATE plum.delivery d SET state = 'failed', failed_at = v_now, last_error = 'release: ' || v_error
				WHERE d.delivery_id = v_d.delivery_id;
			IF v_d.reward = 'points' THEN
				UPDATE plum.admin a SET pool = a.pool + v_d.amount WHERE a.admin_id = v_d.admin_id;
				INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
					VALUES (v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient,
						'delivery:' || v_d.delivery_id);
			END IF;
		END;
	END LOOP;
	-- deliveries whose senders died on every attempt stop here, visibly
	UPDATE plum.delivery d SET state = 'failed', failed_at = v_now,
			last_error = coalesce(d.last_error || '; ', '') || format('lease of %s expired on attempt %s', d.claimed_by, d.attempts)
		WHERE d.state = 'claimed' AND d.next_attempt_at <= v_now AND d.attempts >= plum.max_attempts();
	PERFORM pg_notify('plum_' || c, 'release') FROM unnest(v_channels) AS c;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.release_deliveries() IS
	'Move scheduled deliveries that are due (send_at <= plum.now()) to the queue: scheduled points are granted now from their reservation, codes marked distributed, messages rendered; NOTIFY plum_<channel>. A delivery whose release fails is marked failed (reservation returned). Also fails claimed deliveries whose last lease ran out. Returns how many were queued. Run it from pg_cron every minute.';

CREATE FUNCTION plum.max_attempts() RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN 5;
COMMENT ON FUNCTION plum.max_attempts() IS
	'Internal: how many times a delivery is claimed before a failure is final (5).';

CREATE FUNCTION plum.claim_deliveries(channel text, sender text, batch_size integer, lease interval DEFAULT '5 minutes')
	RETURNS SETOF plum.delivery
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(sender, 'sender');
	PERFORM plum.not_null(batch_size, 'batch_size');
	PERFORM plum.not_null(lease, 'lease');
	IF btrim(sender) = '' THEN
		PERFORM plum.raise('22023', 'sender must not be empty', NULL, 'Name the sender, e.g. host and process id.');
	END IF;
	IF batch_size <= 0 OR batch_size > 10000 THEN
		PERFORM plum.raise('22023', 'batch size out of range', format('The batch size is %s; it must be 1 to 10000.', batch_size));
	END IF;
	IF lease <= interval '0' OR NOT isfinite(lease) THEN
		PERFORM plum.raise('22023', 'lease must be positive', format('The lease is %s.', lease));
	END IF;
	RETURN QUERY
	WITH c AS (
		SELECT d.delivery_id FROM plum.delivery d
		WHERE d.channel = claim_deliveries.channel AND d.state IN ('queued', 'claimed') AND d.next_attempt_at <= v_now
			AND d.attempts < plum.max_attempts()
		ORDER BY d.next_attempt_at, d.delivery_id
		LIMIT batch_size
		FOR UPDATE SKIP LOCKED)
	UPDATE plum.delivery d SET state = 'claimed', claimed_by = sender, lease_until = v_now + lease,
			next_attempt_at = v_now + lease, attempts = d.attempts + 1
		FROM c WHERE d.delivery_id = c.delivery_id
		RETURNING d.*;
END
$$;
COMMENT ON FUNCTION plum.claim_deliveries(text, text, integer, interval) IS
	'A sender claims up to batch_size due deliveries of a channel, oldest first (FOR UPDATE SKIP LOCKED: never one handed to two senders), under a lease; a delivery whose lease ran out is claimable again. Returns the claimed rows (message, destination, qr_svg, ...).';

CREATE FUNCTION plum.report_deliveries(delivery_ids bigint[], sender text, outcome text, error text DEFAULT NULL)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_bad record;
	v_n integer;
	v_done bigint[];
BEGIN
	PERFORM plum.not_null(delivery_ids, 'delivery_ids');
	PERFORM plum.not_null(sender, 'sender');
	PERFORM plum.not_null(outcome, 'outcome');
	IF outcome NOT IN ('sent', 'delivered', 'failed', 'bounced') THEN
		PERFORM plum.raise('22023', format('unknown outcome "%s"', outcome), NULL, 'The outcomes are sent, delivered, failed and bounced.');
	END IF;
	IF array_position(delivery_ids, NULL) IS NOT NULL THEN
		PERFORM plum.raise('22004', format('delivery id #%s must not be null', array_position(delivery_ids, NULL)));
	END IF;
	IF cardinality(delivery_ids) = 0 THEN
		RETURN 0;
	END IF;
	-- the happy path is one UPDATE of the deliveries this sender holds; if any was not updated, the
	-- error below undoes the others (all or nothing) and says why the first one was refused
	WITH upd AS (
		UPDATE plum.delivery d SET
				state = CASE
					WHEN outcome = 'failed' AND d.attempts < plum.max_attempts() THEN 'queued'
					ELSE outcome END,
				next_attempt_at = CASE WHEN outcome = 'failed' AND d.attempts < plum.max_attempts()
					THEN v_now + least(interval '1 minute' * (2 ^ (d.attempts - 1)), interval '1 hour') END,
				lease_until = NULL,
				sent_at = CASE WHEN outcome IN ('sent', 'delivered') THEN coalesce(d.sent_at, v_now) ELSE d.sent_at END,
				delivered_at = CASE WHEN outcome = 'delivered' THEN v_now END,
				failed_at = CASE WHEN outcome = 'bounced' OR (outcome = 'failed' AND d.attempts >= plum.max_attempts()) THEN v_now END,
				last_error = CASE WHEN outcome IN ('failed', 'bounced') THEN coalesce(error, outcome) ELSE d.last_error END
			WHERE d.delivery_id = ANY (delivery_ids) AND d.claimed_by = sender
				AND (d.state = 'claimed' OR (d.state = 'sent' AND outcome IN ('delivered', 'bounced')))
			RETURNING d.delivery_id)
	SELECT count(*), array_agg(upd.delivery_id) INTO v_n, v_done FROM upd;
	IF v_n = (SELECT count(DISTINCT u.id) FROM unnest(delivery_ids) AS u(id)) THEN
		RETURN v_n;
	END IF;
	SELECT w.id, h.delivery_id IS NOT NULL AS known, h.state, h.claimed_by, h.lease_until INTO v_bad
		FROM unnest(delivery_ids) AS w(id) LEFT JOIN plum.delivery h ON h.delivery_id = w.id
		WHERE w.id <> ALL (coalesce(v_done, '{}'))
		ORDER BY (h.delivery_id IS NULL) DESC, w.id LIMIT 1;
	IF NOT v_bad.known THEN
		PERFORM plum.raise('PU005', 'unknown delivery', format('There is no delivery %s.', v_bad.id));
	ELSIF v_bad.state = 'claimed' THEN
		PERFORM plum.raise('PU009', 'delivery not held by this sender',
			format('Delivery %s is held by %s until %s, not by %s.', v_bad.id, v_bad.claimed_by, v_bad.lease_until, sender),
			'Its lease ran out and another sender claimed it: do not report it.');
	ELSIF v_bad.claimed_by IS DISTINCT FROM sender THEN
		PERFORM plum.raise('PU009', 'delivery not held by this sender',
			format('Delivery %s is %s%s, not held by %s.', v_bad.id, v_bad.state,
				coalesce(' (last held by ' || v_bad.claimed_by || ')', ''), sender),
			'Report only deliveries this sender claimed.');
	ELSE
		PERFORM plum.raise('PU009', format('delivery already %s', v_bad.state),
			format('Delivery %s is %s; %s cannot follow.', v_bad.id, v_bad.state, outcome),
			'After sent, only delivered or bounced can be reported.');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION plum.report_deliveries(bigint[], text, text, text) IS
	'A sender reports the outcome of deliveries it holds (sent, delivered, failed, bounced); all or nothing: PU005 for an unknown delivery, PU009 for one it does not hold (another sender''s, or reclaimed after its lease ran out). failed retries after 1, 2, 4, 8 minutes, then stays failed; bounced is final. Returns how many were reported.';

CREATE FUNCTION plum.report_delivery(delivery_id bigint, sender text, outcome text, error text DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_state text;
BEGIN
	PERFORM plum.not_null(delivery_id, 'delivery_id');
	PERFORM plum.report_deliveries(ARRAY[delivery_id], sender, outcome, error);
	SELECT d.state INTO v_state FROM plum.delivery d WHERE d.delivery_id = report_delivery.delivery_id;
	RETURN v_state;
END
$$;
COMMENT ON FUNCTION plum.report_delivery(bigint, text, text, text) IS
	'A sender reports the outcome of one delivery it holds: sent, delivered, failed (retried with backoff up to 5 attempts) or bounced (final). PU005 unknown, PU009 not held by this sender. Returns the delivery''s new state (queued when a failure will be retried).';

CREATE FUNCTION plum.cancel_delivery(delivery_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_d plum.delivery;
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum.not_null(delivery_id, 'delivery_id');
	SELECT d.* INTO v_d FROM plum.delivery d WHERE d.delivery_id = cancel_delivery.delivery_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown delivery', format('There is no delivery %s.', delivery_id));
	END IF;
	IF v_d.state NOT IN ('scheduled', 'queued') THEN
		PERFORM plum.raise('PU003', format('delivery already %s', v_d.state),
			format('Delivery %s is %s%s.', delivery_id, v_d.state,
				CASE WHEN v_d.state = 'claimed' THEN format(' by %s until %s', v_d.claimed_by, v_d.lease_until) ELSE '' END),
			'Only a scheduled or queued delivery can be cancelled.');
	END IF;
	IF v_d.state = 'scheduled' AND v_d.reward = 'points' THEN
		UPDATE plum.admin a SET pool = a.pool + v_d.amount WHERE a.admin_id = v_d.admin_id;
		INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
			VALUES (v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient, 'delivery:' || delivery_id);
	END IF;
	UPDATE plum.delivery d SET state = 'cancelled', cancelled_at = v_now, next_attempt_at = NULL
		WHERE d.delivery_id = cancel_delivery.delivery_id;
END
$$;
COMMENT ON FUNCTION plum.cancel_delivery(bigint) IS
	'Cancel a scheduled or queued delivery (PU003 once claimed, sent or final; PU005 unknown). A scheduled points grant''s reservation returns to the pool; a queued delivery''s reward was made already and stays (only the message is cancelled).';

CREATE FUNCTION plum.queue_expiry_reminders(company_id bigint, within interval, channel text, template text,
		vars jsonb DEFAULT '{}')
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
#variable_conflict use_column
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_kind text;
	v_n integer;
BEGIN
	PERFORM plum.not_null(queue_expiry_reminders.company_id, 'company_id');
	PERFORM plum.not_null(within, 'within');
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(template, 'template');
	PERFORM plum.not_null(vars, 'vars');
	SELECT * INTO v_company FROM plum.company c WHERE c.company_id = queue_expiry_reminders.company_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown company', format('There is no company %s.', queue_expiry_reminders.company_id));
	END IF;
	IF within <= interval '0' OR NOT isfinite(within) THEN
		PERFORM plum.raise('22023', 'window must be positive', format('The window is %s.', within));
	END IF;
	IF channel = 'qr' THEN
		PERFORM plum.raise('22023', 'a qr delivery carries a link or a code', 'A reminder has nothing to encode.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)));
	END IF;
	PERFORM plum.render_message(template, plum.message_fields(v_company, 1, NULL, NULL, v_now, false, vars), 'reminder');
	-- email reaches email recipients, sms and whatsapp phones; on_screen and api reach every recipient
	v_kind := CASE WHEN channel = 'email' THEN 'email' WHEN channel IN ('sms', 'whatsapp') THEN 'phone' END;
	WITH ins AS (
		INSERT INTO plum.delivery (company_id, kind, channel, destination, recipient, amount, lot_id, template, vars,
				message, state, send_at, created, released_at, next_attempt_at)
		SELECT l.company_id, 'reminder', channel, l.recipient::text, l.recipient, l.remaining, l.lot_id, template, vars,
			plum.render_message(template, plum.message_fields(v_company, l.remaining, NULL, NULL, l.expires_at, false, vars), 'reminder'),
			'queued', v_now, v_now, v_now, v_now
		FROM plum.point_lots l
		WHERE l.company_id = queue_expiry_reminders.company_id AND l.expires_at <= v_now + within AND l.remaining > 0
			AND (v_kind IS NULL OR plum.recipient_kind(l.recipient) = v_kind)
		ORDER BY l.expires_at, l.recipient, l.lot_id
		ON CONFLICT (company_id, recipient, lot_id) WHERE kind = 'reminder' DO NOTHING
		RETURNING 1)
	SELECT count(*) INTO v_n FROM ins;
	IF v_n > 0 THEN
		PERFORM pg_notify('plum_' || channel, v_n::text);
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.queue_expiry_reminders(bigint, interval, text, text, jsonb) IS
	'Queue one reminder per recipient and live points lot of a company expiring within the window (never twice for a lot, whatever the channel); email goes to email recipients, sms and whatsapp to phones. Template fields: amount (what is left of the lot), expires_at, currency, company, name and vars. Returns how many were queued.';

CREATE VIEW plum.deliveries AS
	SELECT d.delivery_id, d.company_id, d.admin_id, d.kind, d.channel, d.destination, d.reward, d.recipient,
		round(d.amount, c.scale) AS amount, d.codes, d.token, d.lot_id, d.state, d.send_at, d.created, d.released_at,
		d.attempts, d.next_attempt_at, d.claimed_by, d.lease_until, d.sent_at, d.delivered_at, d.failed_at,
		d.cancelled_at, d.last_error, d.message, d.qr_svg IS NOT NULL AS has_qr, c.base_currency AS currency
	FROM plum.delivery d JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.deliveries IS 'Every delivery (reward or reminder) with its state.';
COMMENT ON COLUMN plum.deliveries.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.deliveries.company_id IS 'Company id.';
COMMENT ON COLUMN plum.deliveries.admin_id IS 'The admin who distributed it (NULL for reminders).';
COMMENT ON COLUMN plum.deliveries.kind IS 'reward or reminder.';
COMMENT ON COLUMN plum.deliveries.channel IS 'email, sms, whatsapp, qr, on_screen or api.';
COMMENT ON COLUMN plum.deliveries.destination IS 'Where it goes.';
COMMENT ON COLUMN plum.deliveries.reward IS 'points, codes or link (NULL for reminders).';
COMMENT ON COLUMN plum.deliveries.recipient IS 'The recipient of the points (or of the reminder).';
COMMENT ON COLUMN plum.deliveries.amount IS 'Points granted (or reminded of).';
COMMENT ON COLUMN plum.deliveries.codes IS 'Codes delivered.';
COMMENT ON COLUMN plum.deliveries.token IS 'Link token delivered.';
COMMENT ON COLUMN plum.deliveries.lot_id IS 'The points lot (grant entry) made, or reminded of.';
COMMENT ON COLUMN plum.deliveries.state IS 'scheduled, queued, claimed, sent, delivered, failed, bounced or cancelled.';
COMMENT ON COLUMN plum.deliveries.send_at IS 'When it is (or was) to be sent.';
COMMENT ON COLUMN plum.deliveries.created IS 'When it was queued or scheduled.';
COMMENT ON COLUMN plum.deliveries.released_at IS 'When it entered the queue.';
COMMENT ON COLUMN plum.deliveries.attempts IS 'How many times senders claimed it.';
COMMENT ON COLUMN plum.deliveries.next_attempt_at IS 'Queued: when it may be claimed; claimed: when the lease ends.';
COMMENT ON COLUMN plum.deliveries.claimed_by IS 'The sender that holds or last held it.';
COMMENT ON COLUMN plum.deliveries.lease_until IS 'When the current claim ends.';
COMMENT ON COLUMN plum.deliveries.sent_at IS 'When it was reported sent.';
COMMENT ON COLUMN plum.deliveries.delivered_at IS 'When it was reported delivered.';
COMMENT ON COLUMN plum.deliveries.failed_at IS 'When it failed for good or bounced.';
COMMENT ON COLUMN plum.deliveries.cancelled_at IS 'When it was cancelled.';
COMMENT ON COLUMN plum.deliveries.last_error IS 'The last error reported or met at release.';
COMMENT ON COLUMN plum.deliveries.message IS 'The rendered message (NULL while scheduled).';
COMMENT ON COLUMN plum.deliveries.has_qr IS 'Whether it carries a QR code (qr channel; the SVG is in plum.delivery.qr_svg, returned by claim_deliveries).';
COMMENT ON COLUMN plum.deliveries.currency IS 'The company''s base currency.';

CREATE VIEW plum.delivery_queue AS
	SELECT d.company_id, d.channel, d.state, count(*) AS deliveries,
		count(*) FILTER (WHERE d.state IN ('queued', 'claimed') AND d.next_attempt_at <= plum.now()) AS claimable,
		min(d.created) AS oldest, min(CASE WHEN d.state = 'scheduled' THEN d.send_at ELSE d.next_attempt_at END) AS next_at
	FROM plum.delivery d
	GROUP BY d.company_id, d.channel, d.state;
COMMENT ON VIEW plum.delivery_queue IS 'Queue depth: deliveries per company, channel and state.';
COMMENT ON COLUMN plum.delivery_queue.company_id IS 'Company id.';
COMMENT ON COLUMN plum.delivery_queue.channel IS 'The channel.';
COMMENT ON COLUMN plum.delivery_queue.state IS 'The state.';
COMMENT ON COLUMN plum.delivery_queue.deliveries IS 'How many deliveries are in this state.';
COMMENT ON COLUMN plum.delivery_queue.claimable IS 'How many a sender could claim now (queued and due, or claimed with the lease run out).';
COMMENT ON COLUMN plum.delivery_queue.oldest IS 'When the oldest of them was created.';
COMMENT ON COLUMN plum.delivery_queue.next_at IS 'The earliest send_at (scheduled), next attempt (queued) or lease end (claimed).';

CREATE VIEW plum.delivery_failures AS
	SELECT d.delivery_id, d.company_id, d.channel, d.destination, d.kind, d.reward, d.state, d.attempts, d.last_error,
		d.failed_at, CASE WHEN d.state = 'queued' THEN d.next_attempt_at END AS retry_at, d.claimed_by
	FROM plum.delivery d
	WHERE d.state IN ('failed', 'bounced') OR (d.state IN ('queued', 'claimed') AND d.last_error IS NOT NULL);
COMMENT ON VIEW plum.delivery_failures IS 'Deliveries that failed for good or bounced, and those being retried after a failure, with their last error.';
COMMENT ON COLUMN plum.delivery_failures.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.delivery_failures.company_id IS 'Company id.';
COMMENT ON COLUMN plum.delivery_failures.channel IS 'The channel.';
COMMENT ON COLUMN plum.delivery_failures.destination IS 'Where it was to go.';
COMMENT ON COLUMN plum.delivery_failures.kind IS 'reward or reminder.';
COMMENT ON COLUMN plum.delivery_failures.reward IS 'points, codes or link.';
COMMENT ON COLUMN plum.delivery_failures.state IS 'failed or bounced (final), or queued/claimed (being retried).';
COMMENT ON COLUMN plum.delivery_failures.attempts IS 'How many times it was claimed.';
COMMENT ON COLUMN plum.delivery_failures.last_error IS 'The last error reported by a sender or met at release.';
COMMENT ON COLUMN plum.delivery_failures.failed_at IS 'When it failed for good or bounced (NULL while retried).';
COMMENT ON COLUMN plum.delivery_failures.retry_at IS 'When it may be claimed again (queued for a retry).';
COMMENT ON COLUMN plum.delivery_failures.claimed_by IS 'The sender that last held it.';

CREATE VIEW plum.scheduled_deliveries AS
	SELECT d.delivery_id, d.company_id, d.admin_id, d.channel, d.destination, d.reward, d.recipient,
		round(d.amount, c.scale) AS reserved, d.codes, d.token, d.send_at, d.created, c.base_currency AS currency
	FROM plum.delivery d JOIN plum.company c USING (company_id)
	WHERE d.state = 'scheduled';
COMMENT ON VIEW plum.scheduled_deliveries IS 'Deliveries waiting for their send_at (released by plum.release_deliveries()).';
COMMENT ON COLUMN plum.scheduled_deliveries.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.scheduled_deliveries.company_id IS 'Company id.';
COMMENT ON COLUMN plum.scheduled_deliveries.admin_id IS 'The admin who scheduled it.';
COMMENT ON COLUMN plum.scheduled_deliveries.channel IS 'The channel.';
COMMENT ON COLUMN plum.scheduled_deliveries.destination IS 'Where it will go.';
COMMENT ON COLUMN plum.scheduled_deliveries.reward IS 'points, codes or link.';
COMMENT ON COLUMN plum.scheduled_deliveries.recipient IS 'The recipient of scheduled points.';
COMMENT ON COLUMN plum.scheduled_deliveries.reserved IS 'Points reserved from the admin''s pool until release (NULL for codes and links).';
COMMENT ON COLUMN plum.scheduled_deliveries.codes IS 'Codes to deliver.';
COMMENT ON COLUMN plum.scheduled_deliveries.token IS 'Link token to deliver.';
COMMENT ON COLUMN plum.scheduled_deliveries.send_at IS 'When it will be released.';
COMMENT ON COLUMN plum.scheduled_deliveries.created IS 'When it was scheduled.';
COMMENT ON COLUMN plum.scheduled_deliveries.currency IS 'The company''s base currency.';

-- verify_deliveries(): reservations in the ledger against the scheduled points grants (plum.verify() unions it).
CREATE FUNCTION plum.verify_deliveries(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH adm AS (
		SELECT a.company_id, a.admin_id,
			coalesce((SELECT coalesce(sum(j.amount) FILTER (WHERE j.kind = 'reserve'), 0) - coalesce(sum(j.amount) FILTER (WHERE j.kind = 'unreserve'), 0)
				FROM plum.journal j WHERE j.admin_id = a.admin_id AND j.kind IN ('reserve', 'unreserve')), 0) AS ledger,
			coalesce((SELECT sum(d.amount) FROM plum.delivery d
				WHERE d.admin_id = a.admin_id AND d.state = 'scheduled' AND d.reward = 'points'), 0) AS scheduled
		FROM plum.admin a
		WHERE verify_deliveries.company_id IS NULL OR a.company_id = verify_deliveries.company_id)
	SELECT adm.company_id, 'reservations',
			format('admin %s: ledger reserves %s, scheduled points grants hold %s', adm.admin_id, adm.ledger, adm.scheduled)
		FROM adm WHERE adm.ledger <> adm.scheduled
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify_deliveries(bigint) IS
	'The distribution part of plum.verify(): for every admin, reserve - unreserve in the ledger = the points of its scheduled deliveries.';

REVOKE EXECUTE ON FUNCTION
	plum.check_channel(text),
	plum.check_destination(text, text, text),
	plum.message_time(timestamptz),
	plum.message_fields(plum.company, numeric, text, text, timestamptz, boolean, jsonb),
	plum.render_message(text, jsonb, text),
	plum.send_time(plum.delivery),
	plum.check_codes_deliverable(bigint, plum.code[]),
	plum.check_token_deliverable(bigint, text),
	plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb),
	plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]),
	plum.release_deliveries(),
	plum.max_attempts(),
	plum.claim_deliveries(text, text, integer, interval),
	plum.report_deliveries(bigint[], text, text, text),
	plum.report_delivery(bigint, text, text, text),
	plum.cancel_delivery(bigint),
	plum.queue_expiry_reminders(bigint, interval, text, text, jsonb),
	plum.verify_deliveries(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb),
	plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]),
	plum.release_deliveries(),
	plum.cancel_delivery(bigint),
	plum.queue_expiry_reminders(bigint, interval, text, text, jsonb)
	TO plum_admin;
GRANT EXECUTE ON FUNCTION
	plum.claim_deliveries(text, text, integer, interval),
	plum.report_deliveries(bigint[], text, text, text),
	plum.report_delivery(bigint, text, text, text)
	TO plum_app;
GRANT SELECT ON plum.deliveries, plum.delivery_queue, plum.delivery_failures, plum.scheduled_deliveries TO plum_reader;
SELECT pg_catalog.pg_extension_config_dump('plum.delivery', '');
SELECT pg_catalog.pg_extension_config_dump('plum.delivery_delivery_id_seq', '');
