-- plum's outbox, one sender round: claim a batch of email deliveries (FOR UPDATE SKIP LOCKED, under
-- a lease), "send" them, report them sent.  Two transactions, like a real sender (claim, commit,
-- send, report).  pgbench variables: batch.  Run with -M prepared (:ids is a parameter).
SELECT coalesce(array_agg(delivery_id), '{}') AS ids FROM plum.claim_deliveries('email', 'bench-' || :client_id, :batch) \gset
SELECT plum.report_deliveries(:ids::bigint[], 'bench-' || :client_id, 'sent');
