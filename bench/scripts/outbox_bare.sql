-- The floor for a sender round: a bare FOR UPDATE SKIP LOCKED queue (one plain table, the same
-- columns and partial index as plum_internal.delivery, no functions), drained the same way as
-- outbox_claim.sql: claim a batch under a lease and return it, then mark it sent.
-- pgbench variables: batch.  Run with -M prepared.
WITH c AS (
	SELECT id FROM bare_queue
	WHERE channel = 'email' AND state IN ('queued', 'claimed') AND next_attempt_at <= now()
	ORDER BY next_attempt_at, id LIMIT :batch
	FOR UPDATE SKIP LOCKED),
u AS (
	UPDATE bare_queue q SET state = 'claimed', claimed_by = 'bench-' || :client_id, attempts = q.attempts + 1,
		lease_until = now() + interval '5 minutes', next_attempt_at = now() + interval '5 minutes'
	FROM c WHERE q.id = c.id
	RETURNING q.*)
SELECT coalesce(array_agg(id), '{}') AS ids FROM u \gset
UPDATE bare_queue SET state = 'sent', sent_at = now(), lease_until = NULL
	WHERE id = ANY (:ids::bigint[]) AND claimed_by = 'bench-' || :client_id AND state = 'claimed';
