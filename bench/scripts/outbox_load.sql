-- Load both outboxes with :n deliveries each (psql variables: n).
-- plum: one company, one admin, :n immediate points grants of 1.00 by email, queued through
-- plum.distribute_bulk() in calls of 10,000 (each a grant, a wallet and a rendered message).
-- bare: the same number of rows in a plain table with the same columns and partial index.
\set ON_ERROR_STOP on
SET plum.now = '2026-01-01 09:00:00+00';
SELECT plum.create_company('Bench', 'USD', max_grant => 1000) AS company \gset
SELECT plum.add_admin(:company, 'bench@bench.test', 'super_admin', :n) AS admin \gset
SELECT plum.create_points(:admin, :n);
SELECT clock_timestamp() AS t0 \gset
SELECT sum(cardinality(plum.distribute_bulk(:admin, 'email',
		(SELECT array_agg('u' || i || '@bench.test') FROM generate_series(b, least(b + 9999, :n)) AS i),
		'Hello {{name}}, {{amount}} are yours until {{expires_at}}.',
		points => array_fill(1::numeric, ARRAY[least(b + 9999, :n) - b + 1]), vars => '{"name": "friend"}')))
	AS queued
	FROM generate_series(1, :n, 10000) AS b;
SELECT round(:n / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)) AS plum_queue_per_s \gset
RESET plum.now;
-- plum's deliveries were queued at 2026-01-01 (plum clock): due now
CREATE TABLE bare_queue (
	id bigserial PRIMARY KEY, channel text NOT NULL, destination text NOT NULL, message text,
	state text NOT NULL, attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz,
	claimed_by text, lease_until timestamptz, sent_at timestamptz, created timestamptz NOT NULL DEFAULT now());
CREATE INDEX bare_queue_claimable ON bare_queue (channel, next_attempt_at, id) WHERE state IN ('queued', 'claimed');
INSERT INTO bare_queue (channel, destination, message, state, next_attempt_at)
	SELECT 'email', 'u' || i || '@bench.test', 'Hello friend, 1.00 USD are yours until 2027-01-01 09:00 UTC.', 'queued',
		'2026-01-01 09:00:00+00'
	FROM generate_series(1, :n) AS i;
VACUUM ANALYZE plum_internal.delivery;
VACUUM ANALYZE bare_queue;
\echo plum_queue_per_s :plum_queue_per_s
