-- Tenant isolation and identity (SPEC, "Tenant isolation and identity"; issue 9): roles bound to a
-- company or an admin are confined to it in every function (PU009) and every view; an unbound
-- plum_reader sees nothing; unbound plum_app/plum_admin members see everything; codes and link
-- tokens are masked for roles that are not plum_admin members; grants are made only by
-- unconfined roles (42501); senders' leases and reports.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 00:00:00+00';
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_conf_app_a, regress_conf_admin_a, regress_conf_clerk_a, regress_conf_reader_a,
	regress_conf_reader, regress_conf_app, regress_conf_group, regress_conf_member;
RESET client_min_messages;
CREATE ROLE regress_conf_app_a IN ROLE plum_app;         -- a shop backend of company A
CREATE ROLE regress_conf_admin_a IN ROLE plum_admin;     -- the login of A's super admin
CREATE ROLE regress_conf_clerk_a IN ROLE plum_admin;     -- the login of A's plain admin
CREATE ROLE regress_conf_reader_a IN ROLE plum_reader;   -- A's analyst
CREATE ROLE regress_conf_reader IN ROLE plum_reader;     -- a BI login granted nothing
CREATE ROLE regress_conf_app IN ROLE plum_app;           -- the platform's own application role
CREATE ROLE regress_conf_group;                          -- a group granted company A ...
CREATE ROLE regress_conf_member IN ROLE plum_app, regress_conf_group;  -- ... and a member of it

-- two companies with the same shape
SELECT plum.create_company('A', 'USD') AS a \gset
SELECT plum.create_company('B', 'USD') AS b \gset
SELECT plum.add_admin(:a, 'boss@a.test', 'super_admin', 100000) AS a_boss \gset
SELECT plum.add_admin(:a, 'clerk@a.test', 'admin', 1000) AS a_clerk \gset
SELECT plum.add_admin(:b, 'boss@b.test', 'super_admin', 100000) AS b_boss \gset
SELECT plum.create_points(:a_boss, 5000), plum.create_points(:b_boss, 5000);
SELECT plum.give_points(:a_boss, 'alice@a.test', 100) > 0 AS a_given, plum.give_points(:b_boss, 'bob@b.test', 100) > 0 AS b_given;
SELECT plum.redeem_points(:b, 'bob@b.test', 10) AS b_redemption \gset
SELECT plum.create_campaign(:a_boss, 'A codes', 'codes') AS a_codes \gset
SELECT plum.create_campaign(:b_boss, 'B codes', 'codes') AS b_codes \gset
SELECT plum.create_campaign(:b_boss, 'B links', 'links') AS b_links \gset
SELECT plum.create_campaign(:a_boss, 'A links', 'links') AS a_links \gset
SELECT plum.add_item(:a, 'gift_card', 'Acme', 'Card', 'cards', 10) AS a_item \gset
SELECT plum.add_item(:b, 'gift_card', 'Bolt', 'Card', 'cards', 10) AS b_item \gset
SELECT code AS a_code FROM plum.issue_codes(:a_boss, :a_codes, 10, 1) \gset
SELECT code AS b_code FROM plum.issue_codes(:b_boss, :b_codes, 10, 1) \gset
SELECT plum.create_link(:a_boss, :a_links, 10) AS a_link \gset
SELECT plum.create_link(:b_boss, :b_links, 10) AS b_link \gset
SELECT plum.distribute(:b_boss, 'email', 'bob@b.test', 'Your code {{code}}', codes => ARRAY[:'b_code']::plum.code[]) AS b_delivery \gset
SELECT plum.distribute(:a_boss, 'email', 'alice@a.test', 'Hi, your code is {{code}} and nothing else', codes => ARRAY[:'a_code']::plum.code[]) AS a_delivery \gset
SELECT plum.distribute(:a_boss, 'sms', '+14155550100', 'Open {{link}}', link => :'a_link', vars => '{"link_base": "https://r.test/"}') AS a_link_delivery \gset

-- B's rows, to compare at the end
CREATE TEMP TABLE b_before AS
	SELECT (SELECT count(*) FROM plum_internal.journal WHERE company_id = :b) AS entries,
		(SELECT md5(string_agg(a::text, ',' ORDER BY admin_id)) FROM plum_internal.admin a WHERE company_id = :b) AS admins,
		(SELECT md5(string_agg(w::text, ',' ORDER BY recipient)) FROM plum_internal.account w WHERE company_id = :b) AS wallets,
		(SELECT md5(string_agg(c::text, ',' ORDER BY code)) FROM plum_internal.issued_code c WHERE company_id = :b) AS codes,
		(SELECT md5(string_agg(l::text, ',' ORDER BY token)) FROM plum_internal.link l WHERE company_id = :b) AS links,
		(SELECT md5(string_agg(d::text, ',' ORDER BY delivery_id)) FROM plum_internal.delivery d WHERE company_id = :b) AS deliveries;

-- the grants: company A to the shop backend, its analyst and the group; A's admins to their logins
SELECT plum.grant_company('regress_conf_app_a', :a);
SELECT plum.grant_company('regress_conf_reader_a', :a);
SELECT plum.grant_company('regress_conf_group', :a);
SELECT plum.grant_admin('regress_conf_admin_a', :a_boss);
SELECT plum.grant_admin('regress_conf_clerk_a', :a_clerk);
SELECT plum.grant_company('regress_conf_app_a', :a);  -- twice: nothing changes
SELECT member::text, company_id = :a AS is_a FROM plum_internal.company_grant ORDER BY 1;
SELECT member::text, admin_id FROM plum_internal.admin_grant ORDER BY 1;
-- bad grants
SELECT pg_temp.try(format('SELECT plum.grant_company(NULL, %s)', :a));
SELECT pg_temp.try('SELECT plum.grant_company(''regress_conf_app_a'', NULL)');
SELECT pg_temp.try('SELECT plum.grant_company(''regress_conf_app_a'', 999)');
SELECT pg_temp.try('SELECT plum.grant_admin(''regress_conf_app_a'', 999)');
SELECT pg_temp.try('SELECT plum.grant_company(''no_such_role_x'', 1)');

-- what each role is confined to
CREATE FUNCTION pg_temp.me() RETURNS TABLE(role text, companies bigint[], admins bigint[], sees_secrets boolean)
	LANGUAGE sql SECURITY DEFINER AS $$
	SELECT plum_internal.caller()::text, plum_internal.caller_companies(), plum_internal.caller_admins(),
		plum_internal.caller_sees_secrets() $$;
GRANT EXECUTE ON FUNCTION pg_temp.me() TO PUBLIC;
SELECT * FROM pg_temp.me();
SET ROLE regress_conf_app_a;    SELECT * FROM pg_temp.me();
SET ROLE regress_conf_admin_a;  SELECT * FROM pg_temp.me();
SET ROLE regress_conf_clerk_a;  SELECT * FROM pg_temp.me();
SET ROLE regress_conf_reader_a; SELECT * FROM pg_temp.me();
SET ROLE regress_conf_reader;   SELECT * FROM pg_temp.me();
SET ROLE regress_conf_app;      SELECT * FROM pg_temp.me();
SET ROLE regress_conf_member;   SELECT * FROM pg_temp.me();
RESET ROLE;

-- a function that tells every row it is shown (for the security_barrier check below)
CREATE FUNCTION pg_temp.leak(x anyelement) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN RAISE NOTICE 'saw %', x; RETURN true; END $$;
GRANT EXECUTE ON FUNCTION pg_temp.leak(anyelement) TO PUBLIC;

-- the shop backend of A: A works, B is refused whatever the ids
SET ROLE regress_conf_app_a;
SELECT plum.points_balance(:a, 'alice@a.test') AS a_balance;
SELECT plum.redeem_points(:a, 'alice@a.test', 1) > 0 AS a_redeems;
SELECT pg_temp.try(format('SELECT plum.points_balance(%s, ''bob@b.test'')', :b));
SELECT pg_temp.try(format('SELECT plum.redeem_points(%s, ''bob@b.test'', 1)', :b));
SELECT pg_temp.try(format('SELECT plum.redeem_points(%s, ''bob@b.test'', 1)', 999));
SELECT pg_temp.try(format('SELECT plum.reverse_redemption(%s)', :b_redemption));
SELECT pg_temp.try(format('SELECT plum.code_balance(%L)', :'b_code'));
SELECT pg_temp.try(format('SELECT * FROM plum.redeem_codes(ARRAY[%L]::plum.code[], 1)', :'b_code'));
SELECT pg_temp.try(format('SELECT * FROM plum.redeem_codes(ARRAY[%L, %L]::plum.code[], 1)', :'a_code', :'b_code'));
SELECT pg_temp.try(format('SELECT plum.redeem_link(%L, %s)', :'b_link', :b_item));
SELECT pg_temp.try(format('SELECT * FROM plum.campaign_catalog(%s)', :b_links));
SELECT plum.code_balance(:'a_code') AS a_code_balance;
-- the views: A's rows only; codes and tokens masked (not a plum_admin member)
SELECT count(*) AS wallets, bool_and(company_id = :a) AS only_a FROM plum.wallets;
SELECT count(*) AS ledger, bool_and(company_id = :a) AS only_a FROM plum.ledger;
SELECT code IS NULL AS code_hidden, code_masked ~ '^\*{4}-\*{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]$' AS masked,
	right(code_masked, 6) = right(:'a_code', 6) AS last_group_kept FROM plum.codes;
SELECT token = '…' || right(:'a_link', 4) AS token_masked FROM plum.links;
SELECT count(*) AS deliveries, bool_and(company_id = :a) AS only_a,
	bool_and(position(:'a_code' IN coalesce(message, '')) = 0 AND position(:'a_link' IN coalesce(message, '')) = 0) AS no_secret_in_messages
	FROM plum.deliveries;
SELECT replace(message, right(:'a_code', 6), '<last group>') AS message_as_the_app_reads_it FROM plum.deliveries WHERE delivery_id = :a_delivery;
SELECT replace(message, right(:'a_link', 4), '<last 4>') AS message_as_the_app_reads_it FROM plum.deliveries WHERE delivery_id = :a_link_delivery;
SELECT count(*) AS companies FROM plum.companies;
SELECT count(*) AS admins FROM plum.admins;
SELECT count(*) AS items, count(*) FILTER (WHERE company_id = :b) AS b_items FROM plum.items;
SELECT count(*) AS campaigns FROM plum.campaigns;
SELECT count(*) AS billing, count(*) AS queue FROM plum.billing, plum.delivery_queue;
-- a leaky function cannot see B's rows through a view (security_barrier)
SELECT count(*) AS leaked_rows FROM plum.wallets WHERE pg_temp.leak(company_id);
RESET ROLE;

-- A's super admin login: acts as itself only
SET ROLE regress_conf_admin_a;
SELECT plum.create_points(:a_boss, 10) AS a_pool;
SELECT pg_temp.try(format('SELECT plum.create_points(%s, 10)', :a_clerk));
SELECT pg_temp.try(format('SELECT plum.create_points(%s, 10)', :b_boss));
SELECT pg_temp.try(format('SELECT plum.give_points(%s, ''eve@b.test'', 10)', :b_boss));
SELECT pg_temp.try(format('SELECT plum.give_points_bulk(%s, ARRAY[''eve@b.test'']::plum.recipient[], ARRAY[1])', :b_boss));
SELECT pg_temp.try(format('SELECT plum.set_threshold(%s, %s, 5)', :b_boss, :b_boss));
SELECT pg_temp.try(format('SELECT plum.set_threshold(%s, %s, 5000)', :a_boss, :a_clerk));
SELECT pg_temp.try(format('SELECT plum.set_threshold(%s, %s, 5000)', :a_clerk, :a_clerk));
SELECT pg_temp.try(format('SELECT plum.add_admin(%s, ''evil@b.test'', ''super_admin'', 1000000)', :b));
SELECT pg_temp.try(format('SELECT plum.add_admin(%s, ''new@a.test'')', :a));
SELECT pg_temp.try('SELECT plum.create_company(''C'', ''USD'')');
SELECT pg_temp.try(format('SELECT plum.create_campaign(%s, ''x'', ''codes'')', :b_boss));
SELECT pg_temp.try(format('SELECT plum.add_item(%s, ''gift_card'', ''x'', ''x'', ''x'', 10)', :b));
SELECT pg_temp.try(format('SELECT plum.set_item_active(%s, false)', :b_item));
SELECT pg_temp.try(format('SELECT plum.curate(%s, true, brand => ''x'')', :b_codes));
SELECT pg_temp.try(format('SELECT plum.issue_codes(%s, %s, 10, 1)', :b_boss, :b_codes));
SELECT pg_temp.try(format('SELECT plum.issue_codes(%s, %s, 10, 1)', :a_boss, :b_codes));
SELECT pg_temp.try(format('SELECT plum.mark_codes_distributed(ARRAY[%L]::plum.code[])', :'b_code'));
SELECT replace(pg_temp.try(format('SELECT plum.cancel_codes(%s, ARRAY[%L]::plum.code[])', :a_boss, :'b_code')), :'b_code', '<B code>') AS try;
SELECT pg_temp.try(format('SELECT plum.create_link(%s, %s, 10)', :b_boss, :b_links));
SELECT pg_temp.try(format('SELECT plum.cancel_link(%s, %L)', :a_boss, :'b_link'));
SELECT replace(pg_temp.try(format('SELECT plum.distribute(%s, ''email'', ''x@a.test'', ''{{code}}'', codes => ARRAY[%L]::plum.code[])', :a_boss, :'b_code')), :'b_code', '<B code>') AS try;
SELECT pg_temp.try(format('SELECT plum.cancel_delivery(%s)', :b_delivery));
SELECT pg_temp.try(format('SELECT plum.queue_expiry_reminders(%s, ''30 days'', ''email'', ''x'')', :b));
SELECT pg_temp.try(format('SELECT * FROM plum.verify(%s)', :b));
SELECT count(*) AS a_problems FROM plum.verify();
SELECT plum.expire_points() AS expired, plum.expire_codes() AS codes_expired, plum.release_deliveries() AS released;
-- a plum_admin member sees its company's codes and tokens in full
SELECT code::text = :'a_code' AS code_in_full FROM plum.codes;
SELECT token = :'a_link' AS token_in_full FROM plum.links;
-- grants are for unconfined roles: 42501
SELECT pg_temp.try(format('SELECT plum.grant_company(''regress_conf_admin_a'', %s)', :b));
SELECT pg_temp.try(format('SELECT plum.revoke_admin(''regress_conf_admin_a'', %s)', :a_boss));
RESET ROLE;

-- A's plain admin login: may not add admins; its own pool only
SET ROLE regress_conf_clerk_a;
SELECT pg_temp.try(format('SELECT plum.add_admin(%s, ''new2@a.test'')', :a));
SELECT pg_temp.try(format('SELECT plum.create_points(%s, 10)', :a_boss));
SELECT pg_temp.try(format('SELECT plum.create_points(%s, 10)', :a_clerk));
RESET ROLE;

-- A's analyst sees A's rows, masked; the unbound reader sees nothing; the unbound app sees all
SET ROLE regress_conf_reader_a;
SELECT count(*) AS wallets, bool_and(company_id = :a) AS only_a FROM plum.wallets;
SELECT count(*) FILTER (WHERE code IS NOT NULL) AS codes_in_full FROM plum.codes;
SET ROLE regress_conf_reader;
SELECT (SELECT count(*) FROM plum.wallets) + (SELECT count(*) FROM plum.ledger) + (SELECT count(*) FROM plum.codes)
	+ (SELECT count(*) FROM plum.links) + (SELECT count(*) FROM plum.deliveries) + (SELECT count(*) FROM plum.admins)
	+ (SELECT count(*) FROM plum.companies) + (SELECT count(*) FROM plum.items) AS unbound_reader_rows;
SET ROLE regress_conf_app;
SELECT count(DISTINCT company_id) AS companies_seen FROM plum.ledger;
SELECT count(*) FILTER (WHERE code IS NOT NULL) AS codes_in_full, count(*) AS codes FROM plum.codes;
SELECT plum.points_balance(:b, 'bob@b.test') AS b_balance;
-- membership through a granted role confines too
SET ROLE regress_conf_member;
SELECT pg_temp.try(format('SELECT plum.points_balance(%s, ''bob@b.test'')', :b));
SELECT count(DISTINCT company_id) AS companies_seen FROM plum.ledger;
RESET ROLE;

-- revoking: the group's members are unconfined again at once (the cache follows the grants)
SELECT plum.revoke_company('regress_conf_group', :a);
SET ROLE regress_conf_member;
SELECT plum.points_balance(:b, 'bob@b.test') AS b_balance_after_revoke;
RESET ROLE;
-- ... and a role membership change too
REVOKE regress_conf_group FROM regress_conf_member;
SELECT plum.grant_company('regress_conf_group', :a);
SET ROLE regress_conf_member;
SELECT plum.points_balance(:b, 'bob@b.test') AS b_balance_not_a_member;
RESET ROLE;
GRANT regress_conf_group TO regress_conf_member;
SET ROLE regress_conf_member;
SELECT pg_temp.try(format('SELECT plum.points_balance(%s, ''bob@b.test'')', :b));
RESET ROLE;

-- senders: a lease of at most 1 hour; a confined role claims only its companies' deliveries;
-- only the claiming role may report
SET ROLE regress_conf_app_a;
SELECT pg_temp.try('SELECT * FROM plum.claim_deliveries(''email'', ''s1'', 10, ''2 hours'')');
SELECT pg_temp.try('SELECT * FROM plum.claim_deliveries(''email'', ''s1'', 10, ''1000 years'')');
SELECT delivery_id = :a_delivery AS claimed_a, claimed_role::text FROM plum.claim_deliveries('email', 's1', 10, '1 hour');
SELECT pg_temp.try(format('SELECT plum.report_delivery(%s, ''s1'', ''sent'')', :b_delivery));
RESET ROLE;
SET ROLE regress_conf_app;
SELECT pg_temp.try(format('SELECT plum.report_delivery(%s, ''s1'', ''sent'')', :a_delivery));
SELECT delivery_id = :b_delivery AS claimed_b FROM plum.claim_deliveries('email', 's2', 10);
RESET ROLE;
SET ROLE regress_conf_app_a;
SELECT plum.report_delivery(:a_delivery, 's1', 'sent') AS a_reported;
RESET ROLE;

-- B is unchanged by all of it
SELECT (SELECT count(*) FROM plum_internal.journal WHERE company_id = :b) = entries AS same_ledger,
	(SELECT md5(string_agg(a::text, ',' ORDER BY admin_id)) FROM plum_internal.admin a WHERE company_id = :b) = admins AS same_admins,
	(SELECT md5(string_agg(w::text, ',' ORDER BY recipient)) FROM plum_internal.account w WHERE company_id = :b) = wallets AS same_wallets,
	(SELECT md5(string_agg(c::text, ',' ORDER BY code)) FROM plum_internal.issued_code c WHERE company_id = :b) = codes AS same_codes,
	(SELECT md5(string_agg(l::text, ',' ORDER BY token)) FROM plum_internal.link l WHERE company_id = :b) = links AS same_links
	FROM b_before;
SELECT count(*) AS problems FROM plum.verify();

-- revoke_* need existing ids; grants go with DROP ROLE only after revoking
SELECT pg_temp.try('SELECT plum.revoke_company(''regress_conf_app_a'', 999)');
SELECT pg_temp.try('SELECT plum.revoke_admin(''regress_conf_app_a'', NULL)');
SELECT plum.revoke_company(r, c) FROM (SELECT member, company_id FROM plum_internal.company_grant) AS g(r, c);
SELECT plum.revoke_admin(r, a) FROM (SELECT member, admin_id FROM plum_internal.admin_grant) AS g(r, a);
SELECT count(*) AS grants_left FROM plum_internal.company_grant, plum_internal.admin_grant;
DROP ROLE regress_conf_app_a, regress_conf_admin_a, regress_conf_clerk_a, regress_conf_reader_a,
	regress_conf_reader, regress_conf_app, regress_conf_member, regress_conf_group;
