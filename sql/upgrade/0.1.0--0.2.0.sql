-- plum 0.1.0 -> 0.2.0, part 1 of 2: move and add STATE (this file, written by hand); part 2 is the
-- CODE part of every sql/ area file, appended by the Makefile, which re-creates every function,
-- view, trigger, comment and grant exactly as a fresh 0.2.0 install has them. Rows, sequences,
-- indexes, constraints, pg_dump registrations and ACLs of tables move with their tables.
\echo Use "ALTER EXTENSION plum UPDATE TO '0.2.0'" to load this file. \quit

-- 1. Drop 0.1.0's code: views first (they use functions), then the triggers and every function
--    that part 2 re-creates. No CASCADE: an unexpected dependent stops the upgrade instead of
--    being dropped with it.
DROP VIEW plum.admins, plum.billing, plum.campaigns, plum.codes, plum.deliveries, plum.delivery_failures, plum.delivery_queue, plum.items, plum.ledger, plum.links, plum.point_lots, plum.scheduled_deliveries, plum.wallets;
DROP TRIGGER admin_guard ON plum.admin;
DROP TRIGGER journal_append_only ON plum.journal;
DROP TRIGGER journal_no_truncate ON plum.journal;
DROP FUNCTION
	plum.recipient_kind(plum.recipient),
	plum.wallet_balance(w plum.wallet, at timestamp with time zone),
	plum.wallet_total(w plum.wallet),
	plum.wallet_lots(w plum.wallet),
	plum.wallet_empty(scale integer),
	plum.wallet_add(w plum.wallet, lot_id bigint, issued_at timestamp with time zone, expires_at timestamp with time zone, amount numeric, at timestamp with time zone),
	plum.wallet_live(w plum.wallet, at timestamp with time zone),
	plum.wallet_expired(w plum.wallet, at timestamp with time zone),
	plum.wallet_consume(w plum.wallet, amount numeric, at timestamp with time zone, OUT wallet plum.wallet, OUT taken plum.wallet, OUT expired plum.wallet),
	plum.wallet_reversible(taken plum.wallet, already_reversed numeric),
	plum.wallet_restore(w plum.wallet, taken plum.wallet, already_reversed numeric, amount numeric, at timestamp with time zone, OUT wallet plum.wallet, OUT restored plum.wallet, OUT expired plum.wallet),
	plum.code_random(),
	plum.code_random(n integer),
	plum.now(),
	plum.not_null(value anyelement, name text),
	plum.in_catalog(campaign_id bigint, item_id bigint),
	plum.item_accepts(item_id bigint, value numeric),
	plum.check_campaign(admin_id bigint, campaign_id bigint, mode text),
	plum.create_campaign(admin_id bigint, name text, mode text, expires_at timestamp with time zone),
	plum.add_item(company_id bigint, kind text, brand text, name text, category text, price numeric, min_value numeric, max_value numeric, vendor text),
	plum.set_item_active(item_id bigint, active boolean),
	plum.curate(campaign_id bigint, include boolean, item_id bigint, brand text, category text),
	plum.campaign_catalog(campaign_id bigint),
	plum.verify_codes(company_id bigint),
	plum.insert_codes(company_id bigint, campaign_id bigint, admin_id bigint, denomination numeric, issued_at timestamp with time zone, expires_at timestamp with time zone, codes plum.code[]),
	plum.lock_codes(codes plum.code[], marking boolean),
	plum.issue_codes(admin_id bigint, campaign_id bigint, denomination numeric, count integer),
	plum.mark_codes_distributed(codes plum.code[]),
	plum.cancel_codes(admin_id bigint, codes plum.code[]),
	plum.expire_codes(),
	plum.code_balance(code plum.code),
	plum.redeem_codes(codes plum.code[], amount numeric, item_id bigint, reference text, idempotency_key text),
	plum.link_token(),
	plum.link_not_active(state text, redeemed_at timestamp with time zone, cancelled_at timestamp with time zone),
	plum.verify_links(company_id bigint),
	plum.redeem_link(token text, item_id bigint, reference text),
	plum.create_link(admin_id bigint, campaign_id bigint, value numeric, recipient plum.recipient),
	plum.cancel_link(admin_id bigint, token text),
	plum.qr_svg(data text),
	plum.check_channel(channel text),
	plum.check_destination(channel text, destination text, what text),
	plum.message_time(at timestamp with time zone),
	plum.message_fields(company plum.company, amount numeric, code text, link text, expires_at timestamp with time zone, never_expires boolean, vars jsonb),
	plum.render_message(template text, fields jsonb, what text),
	plum.send_time(d plum.delivery),
	plum.check_codes_deliverable(company_id bigint, codes plum.code[]),
	plum.check_token_deliverable(company_id bigint, token text, OUT value numeric, OUT expires_at timestamp with time zone),
	plum.max_attempts(),
	plum.verify_points(company_id bigint),
	plum.verify_deliveries(company_id bigint),
	plum.distribute(admin_id bigint, channel text, destination text, template text, points numeric, recipient plum.recipient, codes plum.code[], link text, send_at timestamp with time zone, vars jsonb),
	plum.distribute_bulk(admin_id bigint, channel text, destinations text[], template text, points numeric[], recipients plum.recipient[], codes plum.code[], links text[], send_at timestamp with time zone, vars jsonb, vars_each jsonb[]),
	plum.release_deliveries(),
	plum.cancel_delivery(delivery_id bigint),
	plum.queue_expiry_reminders(company_id bigint, within interval, channel text, template text, vars jsonb),
	plum.claim_deliveries(channel text, sender text, batch_size integer, lease interval),
	plum.report_deliveries(delivery_ids bigint[], sender text, outcome text, error text),
	plum.report_delivery(delivery_id bigint, sender text, outcome text, error text),
	plum.verify_pools(company_id bigint),
	plum.claim_key(company_id bigint, key text, operation text, arguments text, entry_id bigint),
	plum.settle_account(company_id bigint, recipient plum.recipient, at timestamp with time zone),
	plum.admin_guard(),
	plum.journal_append_only(),
	plum.check_amount(amount numeric, scale integer, what text),
	plum.valid_amount(amount numeric, scale smallint, what text),
	plum.raise(sqlstate text, message text, detail text, hint text),
	plum.expiry_of(at timestamp with time zone, validity interval),
	plum.redeem_points(company_id bigint, recipient plum.recipient, amount numeric, reference text, idempotency_key text),
	plum.points_balance(company_id bigint, recipient plum.recipient),
	plum.reverse_redemption(redemption_id bigint, amount numeric, idempotency_key text),
	plum.create_company(name text, base_currency text, points_validity interval, code_denominations numeric[], max_grant numeric),
	plum.add_admin(company_id bigint, email plum.recipient, role text, threshold numeric),
	plum.set_threshold(by_admin bigint, admin_id bigint, threshold numeric),
	plum.create_points(admin_id bigint, amount numeric),
	plum.give_points(admin_id bigint, recipient plum.recipient, amount numeric, note text, idempotency_key text),
	plum.give_points_bulk(admin_id bigint, recipients plum.recipient[], amounts numeric[], note text),
	plum.expire_points(),
	plum.verify(company_id bigint);

-- 2. The plumbing moves to schema plum_internal, out of sight of the plum roles.
CREATE SCHEMA plum_internal;
REVOKE ALL ON SCHEMA plum_internal FROM PUBLIC;
ALTER TABLE plum.account SET SCHEMA plum_internal;
ALTER TABLE plum.admin SET SCHEMA plum_internal;
ALTER TABLE plum.campaign SET SCHEMA plum_internal;
ALTER TABLE plum.company SET SCHEMA plum_internal;
ALTER TABLE plum.curation SET SCHEMA plum_internal;
ALTER TABLE plum.currency SET SCHEMA plum_internal;
ALTER TABLE plum.delivery SET SCHEMA plum_internal;
ALTER TABLE plum.idempotency SET SCHEMA plum_internal;
ALTER TABLE plum.issued_code SET SCHEMA plum_internal;
ALTER TABLE plum.item SET SCHEMA plum_internal;
ALTER TABLE plum.journal SET SCHEMA plum_internal;
ALTER TABLE plum.link SET SCHEMA plum_internal;
-- type-support functions (and wallet_next_expiry, which plum_internal.account.next_expiry uses)
ALTER FUNCTION plum.recipient_in(cstring) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_out(plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_recv(internal) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_send(plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_eq(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_ne(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_lt(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_le(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_gt(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_ge(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_cmp(plum.recipient, plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_hash(plum.recipient) SET SCHEMA plum_internal;
ALTER FUNCTION plum.recipient_hash_extended(plum.recipient, bigint) SET SCHEMA plum_internal;
ALTER FUNCTION plum.wallet_in(cstring) SET SCHEMA plum_internal;
ALTER FUNCTION plum.wallet_out(plum.wallet) SET SCHEMA plum_internal;
ALTER FUNCTION plum.wallet_recv(internal) SET SCHEMA plum_internal;
ALTER FUNCTION plum.wallet_send(plum.wallet) SET SCHEMA plum_internal;
ALTER FUNCTION plum.wallet_next_expiry(w plum.wallet, at timestamp with time zone) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_in(cstring) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_out(plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_recv(internal) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_send(plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_eq(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_ne(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_lt(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_le(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_gt(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_ge(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_cmp(plum.code, plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_sortsupport(internal) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_hash(plum.code) SET SCHEMA plum_internal;
ALTER FUNCTION plum.code_hash_extended(plum.code, bigint) SET SCHEMA plum_internal;

-- wallet_next_expiry's C symbol is plum_wallet_next_expiry since 0.2.0 (C names follow SQL names;
-- src/compat.c keeps the old one for 0.1.0's script). The generated column
-- plum_internal.account.next_expiry uses the function, so it cannot be dropped and re-created: it
-- is replaced in place. CREATE OR REPLACE is safe here: the function is this extension's own
-- member, and PostgreSQL refuses to replace an object that the extension does not own.
CREATE OR REPLACE FUNCTION plum_internal.wallet_next_expiry(w plum.wallet, at timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'plum_wallet_next_expiry'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- 3. Comparison operators resolve whatever the search_path: they move to pg_catalog.
ALTER OPERATOR plum.= (plum.recipient, plum.recipient) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.<> (plum.recipient, plum.recipient) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.< (plum.recipient, plum.recipient) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.<= (plum.recipient, plum.recipient) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.> (plum.recipient, plum.recipient) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.>= (plum.recipient, plum.recipient) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.= (plum.code, plum.code) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.<> (plum.code, plum.code) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.< (plum.code, plum.code) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.<= (plum.code, plum.code) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.> (plum.code, plum.code) SET SCHEMA pg_catalog;
ALTER OPERATOR plum.>= (plum.code, plum.code) SET SCHEMA pg_catalog;

-- 4. 0.1.0 let plum_reader read the currency table; 0.2.0 gives it the view plum.currencies instead.
REVOKE SELECT ON plum_internal.currency FROM plum_reader;

-- 5. (issue 9, identity) Senders: the database role that claimed a delivery, the only one whose report
--    is accepted.  (plum.delivery, the composite type claim_deliveries returns, is new in 0.2.0 and
--    is created with this attribute by its "@new-in 0.2.0" block.)
ALTER TABLE plum_internal.delivery ADD COLUMN claimed_role regrole;

-- 6. The tamper-evident ledger (issue 9): every ledger row's hash, and every holder's chain head
-- (sql/35_ledger.sql, src/chain.c). 0.1.0's rows are hashed by 0.1.0--0.2.0.post.sql.
ALTER TABLE plum_internal.journal ADD COLUMN hash bytea;
ALTER TABLE plum_internal.admin ADD COLUMN chain_head bytea;
ALTER TABLE plum_internal.account ADD COLUMN chain_head bytea;
ALTER TABLE plum_internal.issued_code ADD COLUMN chain_head bytea;
ALTER TABLE plum_internal.link ADD COLUMN chain_head bytea;

-- 7. (issue 9, links inside thresholds) Links count toward their admin's created value from 0.2.0
-- on. A 0.1.0 link never counted (its admin's created_total does not include it), and counting it
-- now could put an admin over its threshold after the fact: it keeps counted = false, so
-- created_total, headroom and verify() are unchanged by the upgrade.
ALTER TABLE plum_internal.link ADD COLUMN counted boolean NOT NULL DEFAULT false;

-- 8. Vouchers and checkout (issue 11) and engagement (issue 10) add the ledger kinds code_refund
-- and takeback: 0.2.0 checks the kinds with plum_internal.ledger_kind_valid() (created with the new
-- state, which re-adds journal_kind_check under the name a fresh install gives it).
ALTER TABLE plum_internal.journal DROP CONSTRAINT journal_kind_check;

-- 9. Engagement (issue 10): earned points taken back by plum.reverse_event() are ledger rows of the
-- new kind takeback (see section 8); the tier multiplier an award used is kept on
-- its ledger row; each company has a tier window (rolling spend that decides tiers).
ALTER TABLE plum_internal.journal ADD COLUMN multiplier numeric;
ALTER TABLE plum_internal.company ADD COLUMN tier_window interval NOT NULL DEFAULT '1 year'
	CHECK (tier_window > interval '0');

-- 10. Analytics (issue 12): a scheduled points delivery keeps the points campaign its grant counts
-- for (plum.distribute(..., campaign_id)); 0.1.0 deliveries have none.
ALTER TABLE plum_internal.delivery ADD COLUMN campaign_id bigint;

-- 11. (issue 13) The rules of a link's and of a code's row become one C CHECK each (created with
-- the new state: link_rules, issued_code_rules; src/checks.c): the declarative CHECKs were rebuilt
-- from their stored expressions by every statement that redeemed a link or drained a code.
ALTER TABLE plum_internal.link DROP CONSTRAINT link_token_check, DROP CONSTRAINT link_value_check,
	DROP CONSTRAINT link_state_check, DROP CONSTRAINT link_check, DROP CONSTRAINT link_check1;
ALTER TABLE plum_internal.issued_code DROP CONSTRAINT issued_code_denomination_check,
	DROP CONSTRAINT issued_code_balance, DROP CONSTRAINT issued_code_cancelled_empty;

-- Then the Makefile appends: every block of the area files marked "-- @new-in 0.2.0" (state new
-- in 0.2.0: operators, casts, types, indexes), then the code part of every area file.
