-- Views for DBAs and BI tools: stable names and columns (SPEC, "Views").

CREATE VIEW plum.admins AS
	SELECT a.admin_id, a.company_id, a.email, a.role,
		round(a.threshold, c.scale) AS threshold,
		round(a.created_total, c.scale) AS created,
		round(a.pool, c.scale) AS pool,
		round(a.threshold - a.created_total, c.scale) AS headroom,
		c.base_currency AS currency,
		a.created AS created_at
	FROM plum.admin a JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.admins IS 'Admins with their threshold, the value they created so far, and their undistributed pool.';
COMMENT ON COLUMN plum.admins.admin_id IS 'Admin id.';
COMMENT ON COLUMN plum.admins.company_id IS 'Company id.';
COMMENT ON COLUMN plum.admins.email IS 'The admin''s email address.';
COMMENT ON COLUMN plum.admins.role IS 'super_admin or admin.';
COMMENT ON COLUMN plum.admins.threshold IS 'The most value the admin may ever create.';
COMMENT ON COLUMN plum.admins.created IS 'Value the admin has created so far (counts against the threshold).';
COMMENT ON COLUMN plum.admins.pool IS 'Undistributed value (never expires).';
COMMENT ON COLUMN plum.admins.headroom IS 'threshold - created: what the admin may still create.';
COMMENT ON COLUMN plum.admins.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.admins.created_at IS 'When the admin was added.';

CREATE VIEW plum.wallets AS
	SELECT a.company_id, a.recipient,
		plum.wallet_balance(a.lots, plum.now()) AS balance,
		plum.wallet_next_expiry(a.lots, plum.now()) AS next_expiry,
		c.base_currency AS currency,
		plum.recipient_kind(a.recipient) AS recipient_kind
	FROM plum.account a JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.wallets IS 'Points wallets: live balance and next expiry as of plum''s clock (expired lots never count, swept or not).';
COMMENT ON COLUMN plum.wallets.company_id IS 'Company id.';
COMMENT ON COLUMN plum.wallets.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum.wallets.balance IS 'Live balance now.';
COMMENT ON COLUMN plum.wallets.next_expiry IS 'When the next live lot expires (NULL when none).';
COMMENT ON COLUMN plum.wallets.currency IS 'The company''s base currency (1 point = 1 unit).';
COMMENT ON COLUMN plum.wallets.recipient_kind IS 'email or phone.';

CREATE VIEW plum.point_lots AS
	SELECT a.company_id, a.recipient, l.lot_id, l.issued_at, l.expires_at, l.amount, l.remaining
	FROM plum.account a, LATERAL plum.wallet_lots(a.lots) AS l
	WHERE l.expires_at > plum.now();
COMMENT ON VIEW plum.point_lots IS 'Live points lots (not expired at plum''s clock), in FIFO order within each wallet.';
COMMENT ON COLUMN plum.point_lots.company_id IS 'Company id.';
COMMENT ON COLUMN plum.point_lots.recipient IS 'The recipient.';
COMMENT ON COLUMN plum.point_lots.lot_id IS 'Lot id (the ledger entry of the grant; lots with one expiry instant are merged under the smallest id).';
COMMENT ON COLUMN plum.point_lots.issued_at IS 'When the lot was issued.';
COMMENT ON COLUMN plum.point_lots.expires_at IS 'When the lot stops counting.';
COMMENT ON COLUMN plum.point_lots.amount IS 'The lot''s original amount.';
COMMENT ON COLUMN plum.point_lots.remaining IS 'What is left of it.';

CREATE VIEW plum.ledger AS
	SELECT j.entry_id, j.company_id, j.at, j.kind, round(j.amount, c.scale) AS amount, j.admin_id, j.recipient,
		j.lot_id, j.redemption_id, j.reference, j.note, j.idempotency_key,
		c.base_currency AS currency, j.lots, j.campaign_id, j.item_id, j.code, j.token,
		round(j.balance_after, c.scale) AS balance_after
	FROM plum.journal j JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.ledger IS 'The append-only ledger: every movement of value, one row each.';
COMMENT ON COLUMN plum.ledger.entry_id IS 'Entry id (a grant''s is its lot id; a redemption''s is its redemption id).';
COMMENT ON COLUMN plum.ledger.company_id IS 'Company id.';
COMMENT ON COLUMN plum.ledger.at IS 'When (plum clock).';
COMMENT ON COLUMN plum.ledger.kind IS 'create, give, redeem, expire, restore; code_issue, code_redeem, code_cancel, code_expire; link_create, link_redeem, link_cancel; reserve, unreserve (scheduled points grants).';
COMMENT ON COLUMN plum.ledger.amount IS 'The value moved.';
COMMENT ON COLUMN plum.ledger.admin_id IS 'The admin whose pool was used.';
COMMENT ON COLUMN plum.ledger.recipient IS 'The recipient whose wallet changed.';
COMMENT ON COLUMN plum.ledger.lot_id IS 'The lot a grant created.';
COMMENT ON COLUMN plum.ledger.redemption_id IS 'The redemption a restore belongs to.';
COMMENT ON COLUMN plum.ledger.reference IS 'The caller''s reference (e.g. order id).';
COMMENT ON COLUMN plum.ledger.note IS 'Note given with a grant.';
COMMENT ON COLUMN plum.ledger.idempotency_key IS 'Idempotency key of the call.';
COMMENT ON COLUMN plum.ledger.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.ledger.campaign_id IS 'The campaign of a code or link movement.';
COMMENT ON COLUMN plum.ledger.item_id IS 'The catalog item a redemption was for.';
COMMENT ON COLUMN plum.ledger.code IS 'The code of a code movement.';
COMMENT ON COLUMN plum.ledger.token IS 'The link of a link movement.';
COMMENT ON COLUMN plum.ledger.balance_after IS 'A code''s balance after the movement.';
COMMENT ON COLUMN plum.ledger.lots IS 'Lot portions taken, restored or expired (a plum.wallet; cast to text for JSON).';
