-- The outbox's other half (SPEC, "Distribution"): releasing scheduled deliveries (pg_cron, NOTIFY),
-- senders claiming them under a lease (FOR UPDATE SKIP LOCKED) and reporting outcomes with
-- backoff, cancellation, expiry reminders, and the operators' views. The deliveries themselves
-- are made by sql/80_distribute.sql.

-- Lock order, one everywhere so that plum calls never deadlock: a delivery row (claimed with
-- SKIP LOCKED, so never waited for), then admin rows (pools) by admin_id, then code rows by code,
-- then wallets (account rows). release_deliveries() locks up front the admins of every due
-- points grant (it would otherwise take an admin after a codes delivery's codes, and
-- cancel_codes() the codes before their issuers' pools), skipping those another transaction
-- holds (their grants wait for the next run, as a delivery a cancellation holds does);
-- cancel_codes() locks the issuers first.

-- @api
CREATE FUNCTION plum.release_deliveries() RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_d plum_internal.delivery;
	v_n integer := 0;
	v_error text;
	v_channels text[] := '{}';
	v_companies bigint[] := plum_internal.caller_companies();
	v_admins bigint[];
BEGIN
	-- lock order (above): the pools of the due points grants first, by admin_id; a pool another
	-- transaction holds is skipped, and so are its grants (released next time)
	v_admins := ARRAY(SELECT a.admin_id FROM plum_internal.admin a
		WHERE a.admin_id IN (SELECT d.admin_id FROM plum_internal.delivery d
			WHERE d.state = 'scheduled' AND d.send_at <= v_now AND d.reward = 'points'
				AND (v_companies IS NULL OR d.company_id = ANY (v_companies)))
		ORDER BY a.admin_id FOR NO KEY UPDATE SKIP LOCKED);
	-- overlapping runs skip each other's rows; a row a cancellation holds is skipped (and released next time)
	FOR v_d IN SELECT d.* FROM plum_internal.delivery d WHERE d.state = 'scheduled' AND d.send_at <= v_now
			AND (v_companies IS NULL OR d.company_id = ANY (v_companies))
			AND (d.reward IS DISTINCT FROM 'points' OR d.admin_id = ANY (v_admins))
			ORDER BY d.send_at, d.delivery_id FOR UPDATE SKIP LOCKED LOOP
		BEGIN
			v_d := plum_internal.send_time(v_d);
			UPDATE plum_internal.delivery d SET lot_id = v_d.lot_id, message = v_d.message, qr_svg = v_d.qr_svg, state = 'queued',
					released_at = v_now, next_attempt_at = v_now
				WHERE d.delivery_id = v_d.delivery_id;
			v_n := v_n + 1;
			IF NOT v_d.channel = ANY (v_channels) THEN
				v_channels := v_channels || v_d.channel;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			-- nothing of this delivery happened; it fails visibly and its reservation goes back to the pool
			GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT;
			UPDATE plum_internal.delivery d SET state = 'failed', failed_at = v_now, last_error = 'release: ' || v_error
				WHERE d.delivery_id = v_d.delivery_id;
			IF v_d.reward = 'points' THEN
				WITH e AS (SELECT nextval('plum_internal.journal_entry_id_seq') AS e),
				p AS (
					UPDATE plum_internal.admin a SET pool = a.pool + v_d.amount,
						chain_head = plum_internal.entry_hash(a.chain_head, e.e, v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient,
							NULL, NULL, 'delivery:' || v_d.delivery_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
					FROM e WHERE a.admin_id = v_d.admin_id
					RETURNING e.e, a.chain_head)
				INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, reference, hash)
					SELECT p.e, v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient, 'delivery:' || v_d.delivery_id, p.chain_head FROM p;
			END IF;
		END;
	END LOOP;
	-- deliveries whose senders died on every attempt stop here, visibly
	UPDATE plum_internal.delivery d SET state = 'failed', failed_at = v_now,
			last_error = coalesce(d.last_error || '; ', '') || format('lease of %s expired on attempt %s', d.claimed_by, d.attempts)
		WHERE d.state = 'claimed' AND d.next_attempt_at <= v_now AND d.attempts >= plum_internal.max_attempts()
			AND (v_companies IS NULL OR d.company_id = ANY (v_companies));
	PERFORM pg_notify('plum_' || c, 'release') FROM unnest(v_channels) AS c;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.release_deliveries() IS
	'Move scheduled deliveries that are due (send_at <= plum.now()) to the queue: scheduled points are granted now from their reservation, codes marked distributed, messages rendered; NOTIFY plum_<channel>. A delivery whose release fails is marked failed (reservation returned). Also fails claimed deliveries whose last lease ran out. Returns how many were queued. Run it from pg_cron every minute. A role confined to companies releases only theirs.';

CREATE FUNCTION plum_internal.max_attempts() RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN 5;
COMMENT ON FUNCTION plum_internal.max_attempts() IS
	'Internal: how many times a delivery is claimed before a failure is final (5).';

CREATE FUNCTION plum.claim_deliveries(channel text, sender text, batch_size integer, lease interval DEFAULT '5 minutes')
	RETURNS SETOF plum.delivery
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_companies bigint[] := plum_internal.caller_companies();
BEGIN
	PERFORM plum_internal.check_channel(channel);
	PERFORM plum_internal.not_null(sender, 'sender');
	PERFORM plum_internal.not_null(batch_size, 'batch_size');
	PERFORM plum_internal.not_null(lease, 'lease');
	IF plum_internal.trim_name(sender) = '' THEN
		PERFORM plum_internal.raise('22023', 'sender must not be empty', NULL, 'Name the sender, e.g. host and process id.');
	END IF;
	IF batch_size <= 0 OR batch_size > 10000 THEN
		PERFORM plum_internal.raise('22023', 'batch size out of range', format('The batch size is %s; it must be 1 to 10000.', batch_size));
	END IF;
	IF lease <= interval '0' OR NOT isfinite(lease) THEN
		PERFORM plum_internal.raise('22023', 'lease must be positive', format('The lease is %s.', lease));
	END IF;
	IF lease > interval '1 hour' THEN
		PERFORM plum_internal.raise('22023', 'lease too long', format('The lease is %s; it is at most 1 hour.', lease),
			'Claim again, or report the delivery, before the lease runs out.');
	END IF;
	RETURN QUERY
	WITH c AS (
		SELECT d.delivery_id FROM plum_internal.delivery d
		WHERE d.channel = claim_deliveries.channel AND d.state IN ('queued', 'claimed') AND d.next_attempt_at <= v_now
			AND d.attempts < plum_internal.max_attempts()
			AND (v_companies IS NULL OR d.company_id = ANY (v_companies))
		ORDER BY d.next_attempt_at, d.delivery_id
		LIMIT batch_size
		FOR UPDATE SKIP LOCKED)
	UPDATE plum_internal.delivery d SET state = 'claimed', claimed_by = sender, lease_until = v_now + lease,
			next_attempt_at = v_now + lease, attempts = d.attempts + 1, claimed_role = plum_internal.caller()
		FROM c WHERE d.delivery_id = c.delivery_id
		RETURNING d.*;
END
$$;
COMMENT ON FUNCTION plum.claim_deliveries(text, text, integer, interval) IS
	'A sender claims up to batch_size due deliveries of a channel, oldest first (FOR UPDATE SKIP LOCKED: never one handed to two senders), under a lease of at most 1 hour (22023 beyond); a delivery whose lease ran out is claimable again. A role confined to companies claims only theirs; the claiming role is recorded (claimed_role) and only it may report. Returns the claimed rows (message, destination, qr_svg, ...).';

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
	v_role regrole := plum_internal.caller();
BEGIN
	PERFORM plum_internal.not_null(delivery_ids, 'delivery_ids');
	PERFORM plum_internal.not_null(sender, 'sender');
	PERFORM plum_internal.not_null(outcome, 'outcome');
	IF outcome NOT IN ('sent', 'delivered', 'failed', 'bounced') THEN
		PERFORM plum_internal.raise('22023', format('unknown outcome "%s"', outcome), NULL, 'The outcomes are sent, delivered, failed and bounced.');
	END IF;
	IF array_position(delivery_ids, NULL) IS NOT NULL THEN
		PERFORM plum_internal.raise('22004', format('delivery id #%s must not be null', array_position(delivery_ids, NULL)));
	END IF;
	IF cardinality(delivery_ids) = 0 THEN
		RETURN 0;
	END IF;
	-- the happy path is one UPDATE of the deliveries this sender holds; if any was not updated, the
	-- error below undoes the others (all or nothing) and says why the first one was refused
	WITH upd AS (
		UPDATE plum_internal.delivery d SET
				state = CASE
					WHEN outcome = 'failed' AND d.attempts < plum_internal.max_attempts() THEN 'queued'
					ELSE outcome END,
				next_attempt_at = CASE WHEN outcome = 'failed' AND d.attempts < plum_internal.max_attempts()
					THEN v_now + least(interval '1 minute' * (2 ^ (d.attempts - 1)), interval '1 hour') END,
				lease_until = NULL,
				sent_at = CASE WHEN outcome IN ('sent', 'delivered') THEN coalesce(d.sent_at, v_now) ELSE d.sent_at END,
				delivered_at = CASE WHEN outcome = 'delivered' THEN v_now END,
				failed_at = CASE WHEN outcome = 'bounced' OR (outcome = 'failed' AND d.attempts >= plum_internal.max_attempts()) THEN v_now END,
				last_error = CASE WHEN outcome IN ('failed', 'bounced') THEN coalesce(error, outcome) ELSE d.last_error END
			WHERE d.delivery_id = ANY (delivery_ids) AND d.claimed_by = sender AND d.claimed_role = v_role
				AND (d.state = 'claimed' OR (d.state = 'sent' AND outcome IN ('delivered', 'bounced')))
			RETURNING d.delivery_id)
	SELECT count(*), array_agg(upd.delivery_id) INTO v_n, v_done FROM upd;
	IF v_n = (SELECT count(DISTINCT u.id) FROM unnest(delivery_ids) AS u(id)) THEN
		RETURN v_n;
	END IF;
	SELECT w.id, h.delivery_id IS NOT NULL AS known, h.state, h.claimed_by, h.lease_until, h.company_id, h.claimed_role INTO v_bad
		FROM unnest(delivery_ids) AS w(id) LEFT JOIN plum_internal.delivery h ON h.delivery_id = w.id
		WHERE w.id <> ALL (coalesce(v_done, '{}'))
		ORDER BY (h.delivery_id IS NULL) DESC, w.id LIMIT 1;
	IF NOT v_bad.known THEN
		PERFORM plum_internal.raise('PU005', 'unknown delivery', format('There is no delivery %s.', v_bad.id));
	END IF;
	PERFORM plum_internal.check_company(v_bad.company_id);
	IF v_bad.claimed_role IS DISTINCT FROM v_role AND v_bad.claimed_by IS NOT DISTINCT FROM sender THEN
		PERFORM plum_internal.raise('PU009', 'delivery claimed by another role',
			format('Delivery %s was claimed by role %s, not %s.', v_bad.id, coalesce(v_bad.claimed_role::text, 'none'), v_role),
			'Report with the login that claimed it.');
	ELSIF v_bad.state = 'claimed' THEN
		PERFORM plum_internal.raise('PU009', 'delivery not held by this sender',
			format('Delivery %s is held by %s until %s, not by %s.', v_bad.id, v_bad.claimed_by, v_bad.lease_until, sender),
			'Its lease ran out and another sender claimed it: do not report it.');
	ELSIF v_bad.claimed_by IS DISTINCT FROM sender THEN
		PERFORM plum_internal.raise('PU009', 'delivery not held by this sender',
			format('Delivery %s is %s%s, not held by %s.', v_bad.id, v_bad.state,
				coalesce(' (last held by ' || v_bad.claimed_by || ')', ''), sender),
			'Report only deliveries this sender claimed.');
	ELSE
		PERFORM plum_internal.raise('PU009', format('delivery already %s', v_bad.state),
			format('Delivery %s is %s; %s cannot follow.', v_bad.id, v_bad.state, outcome),
			'After sent, only delivered or bounced can be reported.');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION plum.report_deliveries(bigint[], text, text, text) IS
	'A sender reports the outcome of deliveries it holds (sent, delivered, failed, bounced); all or nothing: PU005 for an unknown delivery, PU009 for one it does not hold (another sender''s, reclaimed after its lease ran out, claimed by another database role, or another company''s). failed retries after 1, 2, 4, 8 minutes, then stays failed; bounced is final. Returns how many were reported.';

CREATE FUNCTION plum.report_delivery(delivery_id bigint, sender text, outcome text, error text DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_state text;
BEGIN
	PERFORM plum_internal.not_null(delivery_id, 'delivery_id');
	PERFORM plum.report_deliveries(ARRAY[delivery_id], sender, outcome, error);
	SELECT d.state INTO v_state FROM plum_internal.delivery d WHERE d.delivery_id = report_delivery.delivery_id;
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
	v_d plum_internal.delivery;
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum_internal.not_null(delivery_id, 'delivery_id');
	SELECT d.* INTO v_d FROM plum_internal.delivery d WHERE d.delivery_id = cancel_delivery.delivery_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown delivery', format('There is no delivery %s.', delivery_id));
	END IF;
	PERFORM plum_internal.check_company(v_d.company_id);
	IF v_d.state NOT IN ('scheduled', 'queued') THEN
		PERFORM plum_internal.raise('PU003', format('delivery already %s', v_d.state),
			format('Delivery %s is %s%s.', delivery_id, v_d.state,
				CASE WHEN v_d.state = 'claimed' THEN format(' by %s until %s', v_d.claimed_by, v_d.lease_until) ELSE '' END),
			'Only a scheduled or queued delivery can be cancelled.');
	END IF;
	IF v_d.state = 'scheduled' AND v_d.reward = 'points' THEN
		WITH e AS (SELECT nextval('plum_internal.journal_entry_id_seq') AS e),
		p AS (
			UPDATE plum_internal.admin a SET pool = a.pool + v_d.amount,
				chain_head = plum_internal.entry_hash(a.chain_head, e.e, v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient,
					NULL, NULL, 'delivery:' || cancel_delivery.delivery_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
			FROM e WHERE a.admin_id = v_d.admin_id
			RETURNING e.e, a.chain_head)
		INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, reference, hash)
			SELECT p.e, v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient, 'delivery:' || cancel_delivery.delivery_id, p.chain_head FROM p;
	END IF;
	UPDATE plum_internal.delivery d SET state = 'cancelled', cancelled_at = v_now, next_attempt_at = NULL
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
	v_company plum_internal.company;
	v_kind text;
	v_n integer;
BEGIN
	PERFORM plum_internal.not_null(queue_expiry_reminders.company_id, 'company_id');
	PERFORM plum_internal.not_null(within, 'within');
	PERFORM plum_internal.check_channel(channel);
	PERFORM plum_internal.not_null(template, 'template');
	PERFORM plum_internal.not_null(vars, 'vars');
	SELECT * INTO v_company FROM plum_internal.company c WHERE c.company_id = queue_expiry_reminders.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', queue_expiry_reminders.company_id));
	END IF;
	PERFORM plum_internal.check_company(queue_expiry_reminders.company_id);
	IF within <= interval '0' OR NOT isfinite(within) THEN
		PERFORM plum_internal.raise('22023', 'window must be positive', format('The window is %s.', within));
	END IF;
	IF channel = 'qr' THEN
		PERFORM plum_internal.raise('22023', 'a qr delivery carries a link or a code', 'A reminder has nothing to encode.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum_internal.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)));
	END IF;
	PERFORM plum_internal.render_message(template, plum_internal.message_fields(v_company, 1, NULL, NULL, v_now, false, vars), 'reminder');
	-- email reaches email recipients, sms and whatsapp phones; on_screen and api reach every recipient
	v_kind := CASE WHEN channel = 'email' THEN 'email' WHEN channel IN ('sms', 'whatsapp') THEN 'phone' END;
	WITH ins AS (
		INSERT INTO plum_internal.delivery (company_id, kind, channel, destination, recipient, amount, lot_id, template, vars,
				message, state, send_at, created, released_at, next_attempt_at)
		SELECT l.company_id, 'reminder', channel, l.recipient::text, l.recipient, l.remaining, l.lot_id, template, vars,
			plum_internal.render_message(template, plum_internal.message_fields(v_company, l.remaining, NULL, NULL, l.expires_at, false, vars), 'reminder'),
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

-- A message sent to a recipient, as the views show it to a role that is not a plum_admin member:
-- every code and the link token it carries masked as plum_internal.mask_code() and mask_token() do
-- (spelt out here: the views call this with the reader's privileges, which reach no plum_internal name).
CREATE FUNCTION plum_internal.mask_message(message text, codes plum.code[], token text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_out text := message;
	v_code plum.code;
BEGIN
	IF token IS NOT NULL THEN
		v_out := replace(v_out, token, '…' || right(token, 4));
	END IF;
	FOREACH v_code IN ARRAY coalesce(codes, '{}') LOOP
		v_out := replace(v_out, v_code::text, regexp_replace(v_code::text, '[^-](?=.*-[^-]+-[^-]+$)', '*', 'g'));
	END LOOP;
	RETURN v_out;
END
$$;
COMMENT ON FUNCTION plum_internal.mask_message(text, plum.code[], text) IS
	'Internal: a delivery''s message with its codes (****-****-2BCD-S) and link token (…wXyZ) masked, as roles that are not plum_admin members read it.';

CREATE VIEW plum.deliveries WITH (security_barrier) AS
	SELECT d.delivery_id, d.company_id, d.admin_id, d.kind, d.channel, d.destination, d.reward, d.recipient,
		round(d.amount, c.scale) AS amount,
		CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN d.codes END AS codes,
		CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN d.token ELSE plum_internal.mask_token(d.token) END AS token, d.lot_id, d.state, d.send_at, d.created, d.released_at,
		d.attempts, d.next_attempt_at, d.claimed_by, d.lease_until, d.sent_at, d.delivered_at, d.failed_at,
		d.cancelled_at, d.last_error,
		CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN d.message ELSE plum_internal.mask_message(d.message, d.codes, d.token) END AS message,
		d.qr_svg IS NOT NULL AS has_qr, c.base_currency AS currency,
		CASE WHEN d.codes IS NOT NULL THEN ARRAY(SELECT plum_internal.mask_code(x::text) FROM unnest(d.codes) AS x) END AS codes_masked,
		d.claimed_role::text AS claimed_role
	FROM plum_internal.delivery d JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR d.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.deliveries IS 'Every delivery (reward or reminder) with its state. A role confined to companies sees only theirs; codes, link tokens and the codes and links inside messages are shown in full only to plum_admin members.';
COMMENT ON COLUMN plum.deliveries.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.deliveries.company_id IS 'Company id.';
COMMENT ON COLUMN plum.deliveries.admin_id IS 'The admin who distributed it (NULL for reminders).';
COMMENT ON COLUMN plum.deliveries.kind IS 'reward or reminder.';
COMMENT ON COLUMN plum.deliveries.channel IS 'email, sms, whatsapp, qr, on_screen or api.';
COMMENT ON COLUMN plum.deliveries.destination IS 'Where it goes.';
COMMENT ON COLUMN plum.deliveries.reward IS 'points, codes or link (NULL for reminders).';
COMMENT ON COLUMN plum.deliveries.recipient IS 'The recipient of the points (or of the reminder).';
COMMENT ON COLUMN plum.deliveries.amount IS 'Points granted (or reminded of).';
COMMENT ON COLUMN plum.deliveries.codes IS 'Codes delivered, for plum_admin members and superusers; NULL for other roles, who read codes_masked.';
COMMENT ON COLUMN plum.deliveries.token IS 'Link token delivered; masked (…wXyZ) for roles that are not plum_admin members.';
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
COMMENT ON COLUMN plum.deliveries.message IS 'The rendered message (NULL while scheduled); for roles that are not plum_admin members, with its codes (****-****-2BCD-S) and link token (…wXyZ) masked.';
COMMENT ON COLUMN plum.deliveries.has_qr IS 'Whether it carries a QR code (qr channel; the SVG is in plum_internal.delivery.qr_svg, returned by claim_deliveries).';
COMMENT ON COLUMN plum.deliveries.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.deliveries.codes_masked IS 'Codes delivered, masked for everyone (****-****-2BCD-S).';
COMMENT ON COLUMN plum.deliveries.claimed_role IS 'The name of the database role that made the current (or last) claim; only it may report.';

CREATE VIEW plum.delivery_queue WITH (security_barrier) AS
	SELECT d.company_id, d.channel, d.state, count(*) AS deliveries,
		count(*) FILTER (WHERE d.state IN ('queued', 'claimed') AND d.next_attempt_at <= plum.now()) AS claimable,
		min(d.created) AS oldest, min(CASE WHEN d.state = 'scheduled' THEN d.send_at ELSE d.next_attempt_at END) AS next_at
	FROM plum_internal.delivery d
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR d.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
	GROUP BY d.company_id, d.channel, d.state;
COMMENT ON VIEW plum.delivery_queue IS 'Queue depth: deliveries per company, channel and state (a role confined to companies sees only theirs).';
COMMENT ON COLUMN plum.delivery_queue.company_id IS 'Company id.';
COMMENT ON COLUMN plum.delivery_queue.channel IS 'The channel.';
COMMENT ON COLUMN plum.delivery_queue.state IS 'The state.';
COMMENT ON COLUMN plum.delivery_queue.deliveries IS 'How many deliveries are in this state.';
COMMENT ON COLUMN plum.delivery_queue.claimable IS 'How many a sender could claim now (queued and due, or claimed with the lease run out).';
COMMENT ON COLUMN plum.delivery_queue.oldest IS 'When the oldest of them was created.';
COMMENT ON COLUMN plum.delivery_queue.next_at IS 'The earliest send_at (scheduled), next attempt (queued) or lease end (claimed).';

CREATE VIEW plum.delivery_failures WITH (security_barrier) AS
	SELECT d.delivery_id, d.company_id, d.channel, d.destination, d.kind, d.reward, d.state, d.attempts, d.last_error,
		d.failed_at, CASE WHEN d.state = 'queued' THEN d.next_attempt_at END AS retry_at, d.claimed_by
	FROM plum_internal.delivery d
	WHERE (d.state IN ('failed', 'bounced') OR (d.state IN ('queued', 'claimed') AND d.last_error IS NOT NULL))
		AND ((SELECT plum_internal.caller_companies()) IS NULL OR d.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.delivery_failures IS 'Deliveries that failed for good or bounced, and those being retried after a failure, with their last error (a role confined to companies sees only theirs).';
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

CREATE VIEW plum.scheduled_deliveries WITH (security_barrier) AS
	SELECT d.delivery_id, d.company_id, d.admin_id, d.channel, d.destination, d.reward, d.recipient,
		round(d.amount, c.scale) AS reserved,
		CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN d.codes END AS codes,
		CASE WHEN (SELECT plum_internal.caller_sees_secrets()) THEN d.token ELSE plum_internal.mask_token(d.token) END AS token,
		d.send_at, d.created, c.base_currency AS currency,
		CASE WHEN d.codes IS NOT NULL THEN ARRAY(SELECT plum_internal.mask_code(x::text) FROM unnest(d.codes) AS x) END AS codes_masked
	FROM plum_internal.delivery d JOIN plum_internal.company c USING (company_id)
	WHERE d.state = 'scheduled' AND ((SELECT plum_internal.caller_companies()) IS NULL OR d.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.scheduled_deliveries IS 'Deliveries waiting for their send_at (released by plum.release_deliveries()). A role confined to companies sees only theirs; codes and tokens in full only for plum_admin members.';
COMMENT ON COLUMN plum.scheduled_deliveries.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.scheduled_deliveries.company_id IS 'Company id.';
COMMENT ON COLUMN plum.scheduled_deliveries.admin_id IS 'The admin who scheduled it.';
COMMENT ON COLUMN plum.scheduled_deliveries.channel IS 'The channel.';
COMMENT ON COLUMN plum.scheduled_deliveries.destination IS 'Where it will go.';
COMMENT ON COLUMN plum.scheduled_deliveries.reward IS 'points, codes or link.';
COMMENT ON COLUMN plum.scheduled_deliveries.recipient IS 'The recipient of scheduled points.';
COMMENT ON COLUMN plum.scheduled_deliveries.reserved IS 'Points reserved from the admin''s pool until release (NULL for codes and links).';
COMMENT ON COLUMN plum.scheduled_deliveries.codes IS 'Codes to deliver, for plum_admin members and superusers; NULL for other roles, who read codes_masked.';
COMMENT ON COLUMN plum.scheduled_deliveries.token IS 'Link token to deliver; masked (…wXyZ) for roles that are not plum_admin members.';
COMMENT ON COLUMN plum.scheduled_deliveries.send_at IS 'When it will be released.';
COMMENT ON COLUMN plum.scheduled_deliveries.created IS 'When it was scheduled.';
COMMENT ON COLUMN plum.scheduled_deliveries.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.scheduled_deliveries.codes_masked IS 'Codes to deliver, masked for everyone (****-****-2BCD-S).';

-- verify_deliveries(): reservations in the ledger against the scheduled points grants (plum.verify() unions it).
CREATE FUNCTION plum_internal.verify_deliveries(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH adm AS (
		SELECT a.company_id, a.admin_id,
			coalesce((SELECT coalesce(sum(j.amount) FILTER (WHERE j.kind = 'reserve'), 0) - coalesce(sum(j.amount) FILTER (WHERE j.kind = 'unreserve'), 0)
				FROM plum_internal.journal j WHERE j.admin_id = a.admin_id AND j.kind IN ('reserve', 'unreserve')), 0) AS ledger,
			coalesce((SELECT sum(d.amount) FROM plum_internal.delivery d
				WHERE d.admin_id = a.admin_id AND d.state = 'scheduled' AND d.reward = 'points'), 0) AS scheduled
		FROM plum_internal.admin a
		WHERE verify_deliveries.company_id IS NULL OR a.company_id = verify_deliveries.company_id)
	SELECT adm.company_id, 'reservations',
			format('admin %s: ledger reserves %s, scheduled points grants hold %s', adm.admin_id, adm.ledger, adm.scheduled)
		FROM adm WHERE adm.ledger <> adm.scheduled
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum_internal.verify_deliveries(bigint) IS
	'The distribution part of plum.verify(): for every admin, reserve - unreserve in the ledger = the points of its scheduled deliveries.';

REVOKE EXECUTE ON FUNCTION
	plum_internal.check_channel(text),
	plum_internal.check_destination(text, text, text),
	plum_internal.message_time(timestamptz),
	plum_internal.message_fields(plum_internal.company, numeric, text, text, timestamptz, boolean, jsonb),
	plum_internal.render_message(text, jsonb, text),
	plum_internal.send_time(plum_internal.delivery),
	plum_internal.check_codes_deliverable(bigint, plum.code[]),
	plum_internal.check_token_deliverable(bigint, text),
	plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb, bigint),
	plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]),
	plum.release_deliveries(),
	plum_internal.max_attempts(),
	plum.claim_deliveries(text, text, integer, interval),
	plum.report_deliveries(bigint[], text, text, text),
	plum.report_delivery(bigint, text, text, text),
	plum.cancel_delivery(bigint),
	plum.queue_expiry_reminders(bigint, interval, text, text, jsonb),
	plum_internal.verify_deliveries(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb, bigint),
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
