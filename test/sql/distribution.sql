-- Distribution: the outbox. distribute() on every channel, templates, scheduled points with their
-- reservation, release, cancel, claims under a lease, reports with backoff, expiry reminders, bulk,
-- views, verify(); bad input changes nothing.
-- Codes and link tokens are random: outputs show <code> and <token> in their place.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.mask(t text) RETURNS text LANGUAGE sql AS $$
	SELECT regexp_replace(regexp_replace(t, '[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=]', '<code>', 'g'),
		'[A-Za-z0-9_-]{32}', '<token>', 'g')
$$;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_detail text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
	RETURN pg_temp.mask(SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(v_detail, ''), ''));
END
$$;
-- state(): what must not move when a call is refused
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
	SELECT format('deliveries %s (%s), journal %s, pools %s, distributed codes %s',
		(SELECT count(*) FROM plum_internal.delivery),
		(SELECT md5(string_agg(concat_ws(' ', delivery_id, state, attempts, claimed_by, lease_until, next_attempt_at, last_error), ',' ORDER BY delivery_id))
			FROM plum_internal.delivery),
		(SELECT count(*) FROM plum_internal.journal),
		(SELECT string_agg(pool::text, '/' ORDER BY admin_id) FROM plum_internal.admin),
		(SELECT count(*) FROM plum_internal.issued_code WHERE distributed_at IS NOT NULL))
$$;
CREATE FUNCTION pg_temp.show(first bigint DEFAULT 1)
	RETURNS TABLE(id bigint, channel text, destination text, reward text, state text, attempts integer, message text)
	LANGUAGE sql AS $$
	SELECT d.delivery_id, d.channel, d.destination, d.reward, d.state, d.attempts, pg_temp.mask(d.message)
	FROM plum_internal.delivery d WHERE d.delivery_id >= first ORDER BY d.delivery_id
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

SELECT plum.create_company('Acme', 'USD') AS acme \gset
SELECT plum.create_company('Other', 'EUR') AS other \gset
SELECT plum.add_admin(:acme, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:other, 'boss@other.test', 'super_admin', 1000) AS oboss \gset
SELECT plum.create_points(:boss, 1000);
SELECT plum.create_points(:oboss, 100);
SELECT plum.create_campaign(:boss, 'Spring codes', 'codes', '2026-06-30 00:00+00') AS spring \gset
SELECT plum.create_campaign(:boss, 'Forever codes', 'codes') AS forever \gset
SELECT plum.create_campaign(:boss, 'Thanks', 'links', '2026-12-31 00:00+00') AS thanks \gset
SELECT plum.create_campaign(:oboss, 'Other codes', 'codes') AS ocodes \gset
CREATE TABLE pg_temp.k (n integer PRIMARY KEY, c plum.code NOT NULL);
INSERT INTO pg_temp.k SELECT row_number() OVER (), c FROM plum.issue_codes(:boss, :spring, 10, 6) AS c;
INSERT INTO pg_temp.k SELECT 6 + row_number() OVER (), c FROM plum.issue_codes(:boss, :forever, 50, 2) AS c;
INSERT INTO pg_temp.k SELECT 9, c FROM plum.issue_codes(:oboss, :ocodes, 10, 1) AS c;
SELECT plum.create_link(:boss, :thanks, 25) AS link1 \gset
SELECT plum.create_link(:boss, :thanks, 30) AS link2 \gset
SELECT pool FROM plum.admins ORDER BY admin_id;

-- an immediate points grant by email: the lot is made now; the recipient defaults to the destination
SELECT plum.distribute(:boss, 'email', ' Alice@Example.COM', 'Hi {{ name }}, {{amount}} for you until {{expires_at}}. {{company}} ({{currency}}) {{team}}',
	points => 25, vars => '{"name": "Alice", "team": "Ops"}') AS d1 \gset
SELECT * FROM pg_temp.show();
SELECT d.lot_id = l.lot_id AS lot_of_the_grant, l.amount, l.expires_at FROM plum_internal.delivery d
	JOIN plum.point_lots l ON l.recipient = d.recipient WHERE d.delivery_id = :d1;
SELECT kind, amount, note FROM plum.ledger WHERE kind = 'give';
-- points to another recipient than the destination (an on_screen session): the recipient is required
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'on_screen', 'session-42', 'You got {{amount}}', points => 5)$$, :boss));
SELECT plum.distribute(:boss, 'on_screen', 'session-42', 'You got {{amount}}', points => 5, recipient => 'bob@example.com');
SELECT plum.points_balance(:acme, 'bob@example.com') AS bob;
-- codes: marked distributed; {{code}} joins them, {{amount}} adds them up, {{expires_at}} the earliest
SELECT plum.distribute(:boss, 'whatsapp', '+1 (415) 555-0100', 'Codes {{code}} worth {{amount}}, use by {{expires_at}}',
	codes => ARRAY[(SELECT c FROM pg_temp.k WHERE n = 1), (SELECT c FROM pg_temp.k WHERE n = 7)]) AS d3 \gset
SELECT k.n, c.state FROM pg_temp.k k JOIN plum.codes c ON c.code = k.c WHERE k.n IN (1, 2, 7) ORDER BY k.n;
-- a code that never expires says so
SELECT plum.distribute(:boss, 'api', 'user:77', '{{code}} ({{amount}}) expires {{expires_at}}',
	codes => ARRAY[(SELECT c FROM pg_temp.k WHERE n = 8)]);
-- a link, with a base URL
SELECT plum.distribute(:boss, 'sms', '+14155550100', 'Pick a gift: {{link}} ({{amount}}, until {{expires_at}})',
	link => :'link1', vars => '{"link_base": "https://gifts.acme.test/r/"}') AS d5 \gset
SELECT d.token = :'link1' AS references_token FROM plum_internal.delivery d WHERE d.delivery_id = :d5;
-- the qr channel carries the QR of the link (with its base) or of the one code
SELECT plum.distribute(:boss, 'qr', 'kiosk-1', 'Scan me: {{link}}', link => :'link2', vars => '{"link_base": "https://g.test/"}') AS d6 \gset
SELECT plum.distribute(:boss, 'qr', 'kiosk-1', 'Scan me: {{code}}', codes => ARRAY[(SELECT c FROM pg_temp.k WHERE n = 2)]) AS d7 \gset
SELECT d.delivery_id, d.qr_svg = plum.qr_svg(CASE WHEN d.token IS NOT NULL THEN 'https://g.test/' || d.token ELSE d.codes[1]::text END) AS qr_of_payload
	FROM plum_internal.delivery d WHERE d.channel = 'qr' ORDER BY 1;
SELECT count(*) AS qr_elsewhere FROM plum_internal.delivery WHERE channel <> 'qr' AND qr_svg IS NOT NULL;
SELECT * FROM pg_temp.show();
SELECT * FROM plum.verify();

-- bad input: a clear SQLSTATE and nothing changed
SELECT pg_temp.state() AS before \gset
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', '+14155550100', 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'not an address', 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'sms', 'alice@example.com', 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'whatsapp', '12', 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'api', '  ', 'x', points => 1, recipient => 'a@b.test')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'fax', '+14155550100', 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'Hi {{nmae}}', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'Hi {{name}}', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'Your code {{code}}', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 1, send_at => '2026-01-01 08:59+00')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 1, link => %L)$$, :boss, :'link1'));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', link => %L, recipient => 'a@b.test')$$, :boss, :'link1'));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 1, vars => '[1]')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 0)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 1.005)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 50001)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 5000)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'qr', 'kiosk', 'x', points => 1, recipient => 'a@b.test')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'qr', 'kiosk', 'x', codes => ARRAY[%L, %L]::plum.code[])$$, :boss,
	(SELECT c FROM pg_temp.k WHERE n = 3), (SELECT c FROM pg_temp.k WHERE n = 4)));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', codes => ARRAY[%L]::plum.code[])$$, :boss,
	(SELECT c FROM pg_temp.k WHERE n = 9)));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', codes => ARRAY[%L, %L]::plum.code[])$$, :boss,
	(SELECT c FROM pg_temp.k WHERE n = 3), (SELECT c FROM pg_temp.k WHERE n = 3)));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', codes => ARRAY[%L, NULL]::plum.code[])$$, :boss,
	(SELECT c FROM pg_temp.k WHERE n = 3)));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', codes => '{}')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', link => 'no-such-token')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', link => %L)$$, :oboss, :'link1'));
SELECT pg_temp.try($$SELECT plum.distribute(999, 'email', 'a@b.test', 'x', points => 1)$$);
SELECT pg_temp.try($$SELECT plum.distribute(NULL, 'email', 'a@b.test', 'x', points => 1)$$);
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, NULL, 'a@b.test', 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', NULL, 'x', points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', NULL, points => 1)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 1, vars => NULL)$$, :boss));
SELECT pg_temp.state() = :'before' AS nothing_changed;

-- a cancelled code, and a link redeemed since, cannot be delivered
SELECT plum.cancel_codes(:boss, ARRAY[(SELECT c FROM pg_temp.k WHERE n = 6)]);
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', codes => ARRAY[%L]::plum.code[])$$, :boss,
	(SELECT c FROM pg_temp.k WHERE n = 6)));

-- scheduled points: the value is reserved from the pool now, the lot made at release (validity from then)
SELECT pool FROM plum.admins WHERE admin_id = :boss;
SELECT plum.distribute(:boss, 'email', 'carol@example.com', '{{amount}} until {{expires_at}}', points => 100,
	send_at => '2026-03-01 12:00+00') AS s1 \gset
SELECT plum.distribute(:boss, 'sms', '+14155550199', '{{amount}} until {{expires_at}}', points => 40,
	send_at => '2026-03-01 12:00+00') AS s2 \gset
SELECT plum.distribute(:boss, 'email', 'dan@example.com', 'Codes: {{code}}', codes => ARRAY[(SELECT c FROM pg_temp.k WHERE n = 3)],
	send_at => '2026-02-01 00:00+00') AS s3 \gset
SELECT plum.distribute(:boss, 'email', 'erin@example.com', 'Codes: {{code}}', codes => ARRAY[(SELECT c FROM pg_temp.k WHERE n = 4)],
	send_at => '2026-02-01 00:00+00') AS s4 \gset
SELECT pool FROM plum.admins WHERE admin_id = :boss;
SELECT delivery_id - :s1 AS nth, channel, destination, reward, reserved, send_at FROM plum.scheduled_deliveries ORDER BY 1;
SELECT kind, amount, reference = 'delivery:' || :s1 AS of_s1 FROM plum.ledger WHERE kind IN ('reserve', 'unreserve') ORDER BY entry_id;
SELECT plum.points_balance(:acme, 'carol@example.com') AS carol_before_release;
SELECT k.n, c.state FROM pg_temp.k k JOIN plum.codes c ON c.code = k.c WHERE k.n IN (3, 4) ORDER BY k.n;
SELECT * FROM plum.verify();
-- scheduling more than the pool holds
SELECT pg_temp.state() AS before \gset
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 2000, send_at => '2026-03-01 00:00+00')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', '{{bogus}}', points => 1, send_at => '2026-03-01 00:00+00')$$, :boss));
SELECT pg_temp.state() = :'before' AS nothing_changed;
-- nothing is due yet
SELECT plum.release_deliveries() AS released;
-- the code of s4 is cancelled before its release: that delivery fails visibly, the others go
SET plum.now = '2026-02-01 00:00:00+00';
SELECT plum.cancel_codes(:boss, ARRAY[(SELECT c FROM pg_temp.k WHERE n = 4)]);
SELECT plum.release_deliveries() AS released;
SELECT * FROM pg_temp.show(:s1);
SELECT pg_temp.mask(last_error) FROM plum.deliveries WHERE delivery_id = :s4;
SELECT k.n, c.state FROM pg_temp.k k JOIN plum.codes c ON c.code = k.c WHERE k.n IN (3, 4) ORDER BY k.n;
-- cancelling: s2 (scheduled points) returns its reservation; s3 (released) is queued: the message only
SELECT plum.cancel_delivery(:s2);
SELECT plum.cancel_delivery(:s3);
SELECT pg_temp.try(format('SELECT plum.cancel_delivery(%s)', :s2));
SELECT pg_temp.try(format('SELECT plum.cancel_delivery(%s)', :s4));
SELECT pg_temp.try('SELECT plum.cancel_delivery(999999)');
SELECT pg_temp.try('SELECT plum.cancel_delivery(NULL)');
SELECT pool FROM plum.admins WHERE admin_id = :boss;
SELECT * FROM plum.verify();
-- release of s1 a month later than scheduling: validity starts at release
SET plum.now = '2026-03-01 12:00:30+00';
SELECT plum.release_deliveries() AS released;
SELECT plum.release_deliveries() AS released_again;
SELECT * FROM pg_temp.show(:s1);
SELECT l.issued_at, l.expires_at, l.amount FROM plum.point_lots l WHERE l.recipient = 'carol@example.com';
SELECT kind, amount FROM plum.ledger WHERE kind IN ('reserve', 'unreserve') OR note LIKE 'delivery:%' ORDER BY entry_id;
SELECT pool FROM plum.admins WHERE admin_id = :boss;
SELECT * FROM plum.verify();

-- senders: claim under a lease, oldest first, one channel at a time
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('email', 'w1', 0)$$);
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('email', 'w1', -5)$$);
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('email', 'w1', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('pigeon', 'w1', 5)$$);
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('email', '', 5)$$);
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('email', 'w1', 5, '-1 minute')$$);
SELECT count(*) AS claimed_by_nobody FROM plum_internal.delivery WHERE claimed_by IS NOT NULL;
SELECT delivery_id, destination, attempts, lease_until FROM plum.claim_deliveries('email', 'w1', 1, '10 minutes');
SELECT delivery_id, destination, attempts, lease_until FROM plum.claim_deliveries('email', 'w2', 100);
SELECT count(*) AS nothing_left FROM plum.claim_deliveries('email', 'w3', 100);
-- reports: only by the holder
SELECT plum.report_delivery(:d1, 'w1', 'sent');
SELECT plum.report_delivery(:d1, 'w1', 'delivered');
SELECT pg_temp.state() AS before \gset
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'w1', 'sent')$$, :s1));
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'w1', 'sent')$$, :d1));
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'w1', 'failed')$$, :d1));
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'w1', 'lost')$$, :s1));
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'w1', 'sent')$$, :s2));
SELECT pg_temp.try($$SELECT plum.report_delivery(999999, 'w1', 'sent')$$);
SELECT pg_temp.try($$SELECT plum.report_delivery(NULL, 'w1', 'sent')$$);
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, NULL, 'sent')$$, :s1));
SELECT pg_temp.try(format($$SELECT plum.report_deliveries(ARRAY[%s, %s], 'w2', 'sent')$$, :s1, :d1));
SELECT pg_temp.state() = :'before' AS nothing_changed;
SELECT state, claimed_by FROM plum_internal.delivery WHERE delivery_id = :s1;
-- failures: retried after 1, 2, 4, 8 minutes, then failed for good at the 5th attempt
SELECT plum.report_delivery(:s1, 'w2', 'failed', 'smtp 451 try later');
SELECT next_attempt_at, last_error FROM plum_internal.delivery WHERE delivery_id = :s1;
SELECT count(*) AS not_due_yet FROM plum.claim_deliveries('email', 'w2', 100) WHERE delivery_id = :s1;
SET plum.now = '2026-03-01 12:01:30+00';
SELECT delivery_id = :s1 AS retried, attempts FROM plum.claim_deliveries('email', 'w2', 100);
SELECT plum.report_delivery(:s1, 'w2', 'failed', 'smtp 451 again');
SELECT next_attempt_at FROM plum_internal.delivery WHERE delivery_id = :s1;
SET plum.now = '2026-03-01 12:03:30+00';
SELECT attempts FROM plum.claim_deliveries('email', 'w2', 100);
SELECT plum.report_delivery(:s1, 'w2', 'failed', 'smtp 451 3');
SET plum.now = '2026-03-01 12:07:30+00';
SELECT attempts FROM plum.claim_deliveries('email', 'w2', 100);
SELECT plum.report_delivery(:s1, 'w2', 'failed', 'smtp 451 4');
SELECT next_attempt_at FROM plum_internal.delivery WHERE delivery_id = :s1;
SET plum.now = '2026-03-01 12:15:30+00';
SELECT attempts FROM plum.claim_deliveries('email', 'w2', 100);
SELECT plum.report_delivery(:s1, 'w2', 'failed', 'smtp 550 final');
SET plum.now = '2026-03-02 00:00:00+00';
SELECT count(*) AS never_claimed_again FROM plum.claim_deliveries('email', 'w2', 100);
SELECT delivery_id - :s1 AS nth, channel, state, attempts, last_error, failed_at, retry_at FROM plum.delivery_failures ORDER BY 1;
-- bounced is final; a bounce may follow sent
SELECT delivery_id = :d6 AS d6 FROM plum.claim_deliveries('qr', 'kiosk', 1);
SELECT plum.report_delivery(:d6, 'kiosk', 'bounced', 'screen offline');
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'kiosk', 'sent')$$, :d6));
-- an expired lease: the delivery goes back to the queue; the first sender's late report is refused
SELECT delivery_id = :d7 AS d7, lease_until FROM plum.claim_deliveries('qr', 'slow', 1, '1 minute');
SET plum.now = '2026-03-02 00:01:00+00';
SELECT delivery_id = :d7 AS d7, attempts FROM plum.claim_deliveries('qr', 'fast', 1);
SELECT pg_temp.try(format($$SELECT plum.report_delivery(%s, 'slow', 'sent')$$, :d7));
SELECT plum.report_delivery(:d7, 'fast', 'sent');
-- a sender that dies on every attempt: release_deliveries() fails the delivery once its last lease ran out
SELECT plum.distribute(:boss, 'api', 'user:9', 'Hello {{code}}', codes => ARRAY[(SELECT c FROM pg_temp.k WHERE n = 5)]) AS dd \gset
SELECT count(*) FROM (SELECT plum.claim_deliveries('api', 'crashy', 10, '1 second') FROM generate_series(1, 5) g
	WHERE set_config('plum.now', (timestamptz '2026-03-02 00:01:00+00' + g * interval '1 minute')::text, false) IS NOT NULL) AS s;
SET plum.now = '2026-03-02 00:10:00+00';
SELECT attempts, state FROM plum_internal.delivery WHERE delivery_id = :dd;
SELECT plum.release_deliveries() AS released;
SELECT state, attempts, last_error FROM plum_internal.delivery WHERE delivery_id = :dd;
SELECT company_id, channel, state, deliveries, claimable FROM plum.delivery_queue ORDER BY 1, 2, 3;

-- expiry reminders: one per recipient and live lot expiring within the window, never twice
SET plum.now = '2026-12-15 00:00:00+00';
SELECT plum.give_points(:boss, 'alice@example.com', 7) > 0 AS another_lot;
SELECT plum.give_points(:boss, '+44 7700 900123', 8) > 0 AS a_phone;
SELECT recipient, lot_id IS NOT NULL AS has_lot, expires_at, remaining FROM plum.point_lots WHERE company_id = :acme ORDER BY expires_at, recipient;
SELECT pg_temp.try(format($$SELECT plum.queue_expiry_reminders(%s, '0 days', 'email', 'x')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.queue_expiry_reminders(%s, '30 days', 'qr', 'x')$$, :acme));
SELECT pg_temp.try(format($$SELECT plum.queue_expiry_reminders(%s, '30 days', 'email', '{{code}}')$$, :acme));
SELECT pg_temp.try($$SELECT plum.queue_expiry_reminders(999, '30 days', 'email', 'x')$$);
SELECT pg_temp.try(format($$SELECT plum.queue_expiry_reminders(%s, NULL, 'email', 'x')$$, :acme));
SELECT plum.queue_expiry_reminders(:acme, '30 days', 'email', 'Your {{amount}} expire at {{expires_at}} ({{company}})') AS reminders;
SELECT plum.queue_expiry_reminders(:acme, '30 days', 'email', 'Your {{amount}} expire at {{expires_at}}') AS again;
SELECT plum.queue_expiry_reminders(:acme, '30 days', 'on_screen', 'Your {{amount}} expire at {{expires_at}}') AS same_lots_other_channel;
SELECT plum.queue_expiry_reminders(:acme, '400 days', 'sms', 'Your {{amount}} expire at {{expires_at}}') AS phones;
SELECT channel, destination, amount, message FROM plum.deliveries WHERE kind = 'reminder' ORDER BY delivery_id;

-- bulk: all or nothing
SELECT pg_temp.state() AS before \gset
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', 'b@x.test'], 'x', points => ARRAY[1])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', '+14155550100'], 'x', points => ARRAY[1, 2])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', 'oops'], 'x', points => ARRAY[1, 2])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', NULL], 'x', points => ARRAY[1, 2])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', 'b@x.test'], 'x', points => ARRAY[1, 0])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', 'b@x.test'], 'x', points => ARRAY[1, 900])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', 'b@x.test'], '{{who}}', points => ARRAY[1, 2])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'api', ARRAY['u1', 'u2'], 'x', points => ARRAY[1, 2])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test', 'b@x.test'], 'x', links => ARRAY[%L, %L])$$, :boss, :'link1', :'link1'));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test'], 'x', links => ARRAY['nope'])$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.distribute_bulk(%s, 'email', ARRAY['a@x.test'], 'x', points => ARRAY[1], vars_each => ARRAY['1']::jsonb[])$$, :boss));
SELECT pg_temp.state() = :'before' AS nothing_changed;
SELECT plum.distribute_bulk(:boss, 'email', ARRAY['x1@example.com', 'X2@example.com', 'x1@example.com'], 'Hi {{name}}: {{amount}} until {{expires_at}}',
	points => ARRAY[1, 2.5, 3], vars => '{"name": "friend"}', vars_each => ARRAY['{"name": "Xavier"}', NULL, '{}']::jsonb[]) AS ids \gset
SELECT * FROM pg_temp.show((:'ids'::bigint[])[1]);
SELECT d.delivery_id, j.kind, j.amount, j.recipient FROM plum_internal.delivery d JOIN plum_internal.journal j ON j.entry_id = d.lot_id
	WHERE d.delivery_id = ANY (:'ids'::bigint[]) ORDER BY 1;
SELECT plum.points_balance(:acme, 'x1@example.com') AS x1, plum.points_balance(:acme, 'x2@example.com') AS x2;
-- scheduled bulk reserves; one QR per code
SELECT cardinality(plum.distribute_bulk(:boss, 'sms', ARRAY['+14155550001', '+14155550002'], '{{amount}}', points => ARRAY[10, 20],
	send_at => '2027-01-01 00:00+00')) AS scheduled;
SELECT cardinality(plum.distribute_bulk(:boss, 'qr', ARRAY['k1', 'k2'], '{{code}} {{amount}}',
	codes => (SELECT array_agg(c ORDER BY n) FROM pg_temp.k WHERE n IN (7, 8)))) AS qrs;
SELECT bool_and(d.qr_svg = plum.qr_svg(d.codes[1]::text)) AS qr_of_each_code FROM plum_internal.delivery d WHERE d.channel = 'qr' AND d.destination IN ('k1', 'k2');
SELECT count(*) AS empty FROM unnest(plum.distribute_bulk(:boss, 'email', '{}', 'x', points => '{}'));
SELECT reward, reserved FROM plum.scheduled_deliveries ORDER BY delivery_id;
SELECT * FROM plum.verify();

-- the views are readable by plum_reader, the API by its roles
SET ROLE plum_reader;
-- (an unbound plum_reader sees no company's rows: plum.grant_company() first, test/sql/confinement.sql)
SELECT count(*) = 0 AS unbound_reader_sees_none FROM plum.deliveries;
SELECT pg_temp.try($$SELECT * FROM plum.claim_deliveries('email', 'r', 1)$$);
RESET ROLE;
SET ROLE plum_app;
SELECT count(*) AS app_claims FROM plum.claim_deliveries('sms', 'app', 100);
SELECT pg_temp.try(format($$SELECT plum.distribute(%s, 'email', 'a@b.test', 'x', points => 1)$$, :boss));
RESET ROLE;

-- verify() sees a scheduled grant whose reservation does not match the ledger
BEGIN;
UPDATE plum_internal.delivery SET amount = amount + 1 WHERE state = 'scheduled' AND amount = 10;
SELECT * FROM plum.verify();
ROLLBACK;
BEGIN;
UPDATE plum_internal.delivery SET state = 'cancelled' WHERE state = 'scheduled' AND amount = 20;
SELECT * FROM plum.verify();
ROLLBACK;
SELECT * FROM plum.verify();
