-- Privileges and pg_dump support. Tables are written only through plum's functions
-- (SECURITY DEFINER, search_path pinned); roles get EXECUTE on the API and SELECT on the views.

REVOKE ALL ON ALL TABLES IN SCHEMA plum FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA plum FROM PUBLIC;
GRANT USAGE ON SCHEMA plum TO plum_reader;

-- API functions: nobody but the roles below (and superusers) may call them
REVOKE EXECUTE ON FUNCTION
	plum.create_company(text, text, interval, numeric[], numeric),
	plum.add_admin(bigint, plum.recipient, text, numeric),
	plum.set_threshold(bigint, bigint, numeric),
	plum.create_points(bigint, numeric),
	plum.give_points(bigint, plum.recipient, numeric, text, text),
	plum.give_points_bulk(bigint, plum.recipient[], numeric[], text),
	plum.redeem_points(bigint, plum.recipient, numeric, text, text),
	plum.points_balance(bigint, plum.recipient),
	plum.reverse_redemption(bigint, numeric, text),
	plum.expire_points(),
	plum.verify(bigint),
	plum.verify_pools(bigint),
	plum.verify_points(bigint),
	plum.claim_key(bigint, text, text, text, bigint),
	plum.settle_account(bigint, plum.recipient, timestamptz),
	plum.admin_guard(),
	plum.journal_append_only(),
	plum.check_amount(numeric, integer, text),
	plum.valid_amount(numeric, smallint, text),
	plum.raise(text, text, text, text),
	plum.not_null(anyelement, text),
	plum.expiry_of(timestamptz, interval)
	FROM PUBLIC;

GRANT SELECT ON plum.admins, plum.wallets, plum.point_lots, plum.ledger, plum.currency TO plum_reader;

GRANT EXECUTE ON FUNCTION
	plum.redeem_points(bigint, plum.recipient, numeric, text, text),
	plum.points_balance(bigint, plum.recipient),
	plum.reverse_redemption(bigint, numeric, text)
	TO plum_app;

GRANT EXECUTE ON FUNCTION
	plum.create_company(text, text, interval, numeric[], numeric),
	plum.add_admin(bigint, plum.recipient, text, numeric),
	plum.set_threshold(bigint, bigint, numeric),
	plum.create_points(bigint, numeric),
	plum.give_points(bigint, plum.recipient, numeric, text, text),
	plum.give_points_bulk(bigint, plum.recipient[], numeric[], text),
	plum.expire_points(),
	plum.verify(bigint)
	TO plum_admin;

-- pg_dump keeps every plum row (currencies come with the extension script itself)
SELECT pg_catalog.pg_extension_config_dump('plum.company', '');
SELECT pg_catalog.pg_extension_config_dump('plum.company_company_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.admin', '');
SELECT pg_catalog.pg_extension_config_dump('plum.admin_admin_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.account', '');
SELECT pg_catalog.pg_extension_config_dump('plum.journal', '');
SELECT pg_catalog.pg_extension_config_dump('plum.journal_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.idempotency', '');
