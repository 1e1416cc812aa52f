
-- Backfill (issue 9): chain 0.1.0's ledger rows, per holder in entry id order (0.1.0 wrote one
-- holder's rows under its row lock, in entry id order), and set every holder's chain head.
-- The ledger's append-only trigger (re-created by the code part above) is off for this one UPDATE.
ALTER TABLE plum_internal.journal DISABLE TRIGGER journal_append_only;
UPDATE plum_internal.journal j SET hash = c.h
	FROM (SELECT x.entry_id,
			plum_internal.entry_chain(NULL::bytea, x.entry_id, x.company_id, x.at, x.kind, x.amount, x.admin_id, x.recipient,
				x.lot_id, x.redemption_id, x.reference, x.note, x.idempotency_key, x.lots, x.campaign_id, x.item_id, x.code,
				x.token, x.balance_after)
			OVER (PARTITION BY x.company_id, plum_internal.holder_of(x.kind, x.admin_id, x.recipient, x.code, x.token)
				ORDER BY x.entry_id) AS h
		FROM plum_internal.journal x) AS c
	WHERE j.entry_id = c.entry_id;
ALTER TABLE plum_internal.journal ENABLE TRIGGER journal_append_only;
WITH last AS (
	SELECT DISTINCT ON (j.company_id, plum_internal.holder_of(j.kind, j.admin_id, j.recipient, j.code, j.token))
		j.company_id, j.kind, j.admin_id, j.recipient, j.code, j.token, j.hash
	FROM plum_internal.journal j
	ORDER BY j.company_id, plum_internal.holder_of(j.kind, j.admin_id, j.recipient, j.code, j.token), j.entry_id DESC),
a AS (UPDATE plum_internal.admin a SET chain_head = last.hash FROM last
	WHERE last.kind IN ('create', 'reserve', 'unreserve', 'code_issue') AND a.admin_id = last.admin_id),
w AS (UPDATE plum_internal.account w SET chain_head = last.hash FROM last
	WHERE last.kind IN ('give', 'redeem', 'expire', 'restore') AND w.company_id = last.company_id AND w.recipient = last.recipient),
c AS (UPDATE plum_internal.issued_code ic SET chain_head = last.hash FROM last
	WHERE last.kind IN ('code_redeem', 'code_cancel', 'code_expire') AND ic.code = last.code)
UPDATE plum_internal.link l SET chain_head = last.hash FROM last
	WHERE last.kind IN ('link_create', 'link_redeem', 'link_cancel') AND l.token = last.token;
