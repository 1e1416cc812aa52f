-- pgTAP: the engagement SQL surface of SPEC ("Engagement — earning points"): names, argument order and
-- names, return types, grants, view columns, SQLSTATEs.
BEGIN;
SELECT plan(119);

-- functions, exactly as SPEC names them (create_company's trailing tier_window is 0.2's)
SELECT has_function('plum', 'add_earning_rule', ARRAY['bigint', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text[]', 'interval', 'numeric', 'interval', 'timestamp with time zone', 'timestamp with time zone']);
SELECT function_returns('plum', 'add_earning_rule', ARRAY['bigint', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text[]', 'interval', 'numeric', 'interval', 'timestamp with time zone', 'timestamp with time zone'], 'bigint');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.add_earning_rule(bigint, text, text, numeric, numeric, numeric, text[], interval, numeric, interval, timestamptz, timestamptz)'::regprocedure),
	ARRAY['admin_id', 'name', 'event', 'points', 'percent', 'min_amount', 'exclude_categories', 'pending', 'cap', 'cap_period', 'starts_at', 'ends_at']::text[], 'add_earning_rule argument names');
SELECT is_definer('plum', 'add_earning_rule', ARRAY['bigint', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text[]', 'interval', 'numeric', 'interval', 'timestamp with time zone', 'timestamp with time zone']);
SELECT function_privs_are('plum', 'add_earning_rule', ARRAY['bigint', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text[]', 'interval', 'numeric', 'interval', 'timestamp with time zone', 'timestamp with time zone'], 'plum_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'add_earning_rule', ARRAY['bigint', 'text', 'text', 'numeric', 'numeric', 'numeric', 'text[]', 'interval', 'numeric', 'interval', 'timestamp with time zone', 'timestamp with time zone'], 'plum_app', ARRAY[]::text[]);
SELECT has_function('plum', 'set_rule_active', ARRAY['bigint', 'bigint', 'boolean']);
SELECT function_returns('plum', 'set_rule_active', ARRAY['bigint', 'bigint', 'boolean'], 'void');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.set_rule_active(bigint, bigint, boolean)'::regprocedure),
	ARRAY['admin_id', 'rule_id', 'active']::text[], 'set_rule_active argument names');
SELECT is_definer('plum', 'set_rule_active', ARRAY['bigint', 'bigint', 'boolean']);
SELECT function_privs_are('plum', 'set_rule_active', ARRAY['bigint', 'bigint', 'boolean'], 'plum_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'set_rule_active', ARRAY['bigint', 'bigint', 'boolean'], 'plum_app', ARRAY[]::text[]);
SELECT has_function('plum', 'set_accrual_cap', ARRAY['bigint', 'numeric', 'interval']);
SELECT function_returns('plum', 'set_accrual_cap', ARRAY['bigint', 'numeric', 'interval'], 'void');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.set_accrual_cap(bigint, numeric, interval)'::regprocedure),
	ARRAY['admin_id', 'cap', 'period']::text[], 'set_accrual_cap argument names');
SELECT is_definer('plum', 'set_accrual_cap', ARRAY['bigint', 'numeric', 'interval']);
SELECT function_privs_are('plum', 'set_accrual_cap', ARRAY['bigint', 'numeric', 'interval'], 'plum_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'set_accrual_cap', ARRAY['bigint', 'numeric', 'interval'], 'plum_app', ARRAY[]::text[]);
SELECT has_function('plum', 'record_event', ARRAY['bigint', 'plum.recipient', 'text', 'text', 'numeric', 'jsonb', 'jsonb']);
SELECT function_returns('plum', 'record_event', ARRAY['bigint', 'plum.recipient', 'text', 'text', 'numeric', 'jsonb', 'jsonb'], 'setof record');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.record_event(bigint, plum.recipient, text, text, numeric, jsonb, jsonb)'::regprocedure),
	ARRAY['company_id', 'recipient', 'event', 'event_ref', 'amount', 'lines', 'attrs']::text[], 'record_event argument names');
SELECT is_definer('plum', 'record_event', ARRAY['bigint', 'plum.recipient', 'text', 'text', 'numeric', 'jsonb', 'jsonb']);
SELECT function_privs_are('plum', 'record_event', ARRAY['bigint', 'plum.recipient', 'text', 'text', 'numeric', 'jsonb', 'jsonb'], 'plum_app', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'record_event', ARRAY['bigint', 'plum.recipient', 'text', 'text', 'numeric', 'jsonb', 'jsonb'], 'plum_reader', ARRAY[]::text[]);
SELECT has_function('plum', 'reverse_event', ARRAY['bigint', 'text', 'text']);
SELECT function_returns('plum', 'reverse_event', ARRAY['bigint', 'text', 'text'], 'numeric');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.reverse_event(bigint, text, text)'::regprocedure),
	ARRAY['company_id', 'event', 'event_ref']::text[], 'reverse_event argument names');
SELECT is_definer('plum', 'reverse_event', ARRAY['bigint', 'text', 'text']);
SELECT function_privs_are('plum', 'reverse_event', ARRAY['bigint', 'text', 'text'], 'plum_app', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'reverse_event', ARRAY['bigint', 'text', 'text'], 'plum_reader', ARRAY[]::text[]);
SELECT has_function('plum', 'referral_code', ARRAY['bigint', 'plum.recipient']);
SELECT function_returns('plum', 'referral_code', ARRAY['bigint', 'plum.recipient'], 'text');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.referral_code(bigint, plum.recipient)'::regprocedure),
	ARRAY['company_id', 'referrer']::text[], 'referral_code argument names');
SELECT is_definer('plum', 'referral_code', ARRAY['bigint', 'plum.recipient']);
SELECT function_privs_are('plum', 'referral_code', ARRAY['bigint', 'plum.recipient'], 'plum_app', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'referral_code', ARRAY['bigint', 'plum.recipient'], 'plum_reader', ARRAY[]::text[]);
SELECT has_function('plum', 'refer', ARRAY['bigint', 'text', 'plum.recipient']);
SELECT function_returns('plum', 'refer', ARRAY['bigint', 'text', 'plum.recipient'], 'bigint');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.refer(bigint, text, plum.recipient)'::regprocedure),
	ARRAY['company_id', 'code', 'referee']::text[], 'refer argument names');
SELECT is_definer('plum', 'refer', ARRAY['bigint', 'text', 'plum.recipient']);
SELECT function_privs_are('plum', 'refer', ARRAY['bigint', 'text', 'plum.recipient'], 'plum_app', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'refer', ARRAY['bigint', 'text', 'plum.recipient'], 'plum_reader', ARRAY[]::text[]);
SELECT has_function('plum', 'add_tier', ARRAY['bigint', 'text', 'numeric', 'numeric']);
SELECT function_returns('plum', 'add_tier', ARRAY['bigint', 'text', 'numeric', 'numeric'], 'bigint');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.add_tier(bigint, text, numeric, numeric)'::regprocedure),
	ARRAY['admin_id', 'name', 'min_spend', 'multiplier']::text[], 'add_tier argument names');
SELECT is_definer('plum', 'add_tier', ARRAY['bigint', 'text', 'numeric', 'numeric']);
SELECT function_privs_are('plum', 'add_tier', ARRAY['bigint', 'text', 'numeric', 'numeric'], 'plum_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'add_tier', ARRAY['bigint', 'text', 'numeric', 'numeric'], 'plum_app', ARRAY[]::text[]);
SELECT has_function('plum', 'member_tier', ARRAY['bigint', 'plum.recipient']);
SELECT function_returns('plum', 'member_tier', ARRAY['bigint', 'plum.recipient'], 'text');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.member_tier(bigint, plum.recipient)'::regprocedure),
	ARRAY['company_id', 'recipient']::text[], 'member_tier argument names');
SELECT is_definer('plum', 'member_tier', ARRAY['bigint', 'plum.recipient']);
SELECT function_privs_are('plum', 'member_tier', ARRAY['bigint', 'plum.recipient'], 'plum_app', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'member_tier', ARRAY['bigint', 'plum.recipient'], 'plum_reader', ARRAY[]::text[]);
SELECT has_function('plum', 'add_badge', ARRAY['bigint', 'text', 'text', 'integer', 'numeric', 'numeric']);
SELECT function_returns('plum', 'add_badge', ARRAY['bigint', 'text', 'text', 'integer', 'numeric', 'numeric'], 'bigint');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.add_badge(bigint, text, text, integer, numeric, numeric)'::regprocedure),
	ARRAY['admin_id', 'name', 'event', 'min_count', 'min_amount', 'points']::text[], 'add_badge argument names');
SELECT is_definer('plum', 'add_badge', ARRAY['bigint', 'text', 'text', 'integer', 'numeric', 'numeric']);
SELECT function_privs_are('plum', 'add_badge', ARRAY['bigint', 'text', 'text', 'integer', 'numeric', 'numeric'], 'plum_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'add_badge', ARRAY['bigint', 'text', 'text', 'integer', 'numeric', 'numeric'], 'plum_app', ARRAY[]::text[]);
SELECT has_function('plum', 'leaderboard', ARRAY['bigint', 'timestamp with time zone', 'timestamp with time zone', 'integer']);
SELECT function_returns('plum', 'leaderboard', ARRAY['bigint', 'timestamp with time zone', 'timestamp with time zone', 'integer'], 'setof record');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.leaderboard(bigint, timestamptz, timestamptz, integer)'::regprocedure),
	ARRAY['company_id', 'since', 'until', 'top']::text[], 'leaderboard argument names');
SELECT is_definer('plum', 'leaderboard', ARRAY['bigint', 'timestamp with time zone', 'timestamp with time zone', 'integer']);
SELECT function_privs_are('plum', 'leaderboard', ARRAY['bigint', 'timestamp with time zone', 'timestamp with time zone', 'integer'], 'plum_app', ARRAY['EXECUTE']);
SELECT function_privs_are('plum', 'leaderboard', ARRAY['bigint', 'timestamp with time zone', 'timestamp with time zone', 'integer'], 'plum_reader', ARRAY[]::text[]);
SELECT has_function('plum', 'create_company', ARRAY['text', 'text', 'interval', 'numeric[]', 'numeric', 'interval']);
SELECT function_returns('plum', 'create_company', ARRAY['text', 'text', 'interval', 'numeric[]', 'numeric', 'interval'], 'bigint');
SELECT is((SELECT (proargnames)[1:pronargs] FROM pg_proc WHERE oid = 'plum.create_company(text, text, interval, numeric[], numeric, interval)'::regprocedure),
	ARRAY['name', 'base_currency', 'points_validity', 'code_denominations', 'max_grant', 'tier_window']::text[], 'create_company argument names');

-- views: SPEC's columns, read by plum_reader
SELECT columns_are('plum', 'referrals', ARRAY['referral_id', 'company_id', 'referrer', 'referee', 'code', 'referred_at',
	'qualified_at', 'referrer_awarded', 'referee_awarded', 'state']);
SELECT columns_are('plum', 'member_badges', ARRAY['company_id', 'recipient', 'badge_id', 'badge', 'awarded_at']);
SELECT columns_are('plum', 'members', ARRAY['company_id', 'recipient', 'tier', 'spend', 'balance', 'pending', 'earned',
	'redeemed', 'first_seen', 'last_event_at']);
SELECT has_column('plum', 'wallets', 'pending', 'wallets.pending');
SELECT col_type_is('plum', 'wallets', 'pending', 'numeric', 'wallets.pending is numeric');
SELECT has_column('plum', 'point_lots', 'available_at', 'point_lots.available_at');
SELECT col_type_is('plum', 'point_lots', 'available_at', 'timestamp with time zone', 'point_lots.available_at is timestamptz');
SELECT has_column('plum', 'ledger', 'multiplier', 'ledger.multiplier');
SELECT table_privs_are('plum', 'referrals', 'plum_reader', ARRAY['SELECT']);
SELECT table_privs_are('plum', 'member_badges', 'plum_reader', ARRAY['SELECT']);
SELECT table_privs_are('plum', 'members', 'plum_reader', ARRAY['SELECT']);
SELECT ok(obj_description('plum.referrals'::regclass, 'pg_class') IS NOT NULL
	AND obj_description('plum.member_badges'::regclass, 'pg_class') IS NOT NULL
	AND obj_description('plum.members'::regclass, 'pg_class') IS NOT NULL, 'the views are commented');

-- SQLSTATEs
SET LOCAL plum.now = '2026-01-01 00:00:00+00';
SELECT plum.create_company('Tap Shop', 'USD') AS c \gset
SELECT plum.add_admin(:c, 'boss@tapshop.test', 'super_admin', 1000) AS a \gset
SELECT plum.add_admin(:c, 'mkt@tapshop.test', 'admin', 1000) AS m \gset
SELECT plum.create_points(:a, 500);
SELECT plum.add_earning_rule(:a, 'ten percent', 'purchase', percent => 10) AS r \gset
SELECT plum.referral_code(:c, 'ref@tapshop.test') AS code \gset
SELECT plum.refer(:c, :'code', 'new@tapshop.test') AS referral \gset
SELECT awarded FROM plum.record_event(:c, 'buyer@tapshop.test', 'purchase', 'o-1', 50);

-- PU005: unknown company, rule, admin (tiers and badges belong to an admin), event, referral code
SELECT throws_ok($$SELECT * FROM plum.record_event(987654, 'x@tapshop.test', 'review', 'r')$$, 'PU005', 'unknown company', 'PU005 record_event company');
SELECT throws_ok(format($$SELECT plum.set_rule_active(%s, 987654, false)$$, :a), 'PU005', 'unknown rule', 'PU005 unknown rule');
SELECT throws_ok($$SELECT plum.add_tier(987654, 'Silver', 500, 1.5)$$, 'PU005', NULL, 'PU005 add_tier unknown admin');
SELECT throws_ok($$SELECT plum.add_badge(987654, 'Critic', 'review')$$, 'PU005', NULL, 'PU005 add_badge unknown admin');
SELECT throws_ok(format($$SELECT plum.member_tier(%s, 'x@tapshop.test')$$, 987654), 'PU005', 'unknown company', 'PU005 member_tier company');
SELECT throws_ok(format($$SELECT plum.refer(%s, 'NOSUCHCODE0000', 'y@tapshop.test')$$, :c), 'PU005', 'unknown referral code', 'PU005 unknown referral code');
SELECT throws_ok(format($$SELECT plum.reverse_event(%s, 'purchase', 'no-such-order')$$, :c), 'PU005', 'unknown event', 'PU005 unknown event');
-- PU009: self-referral, loops, existing customers, events plum fires itself, a super admin's setting
SELECT throws_ok(format($$SELECT plum.refer(%s, %L, 'ref@tapshop.test')$$, :c, :'code'), 'PU009', 'self-referral', 'PU009 self-referral');
SELECT throws_ok(format($$SELECT plum.refer(%s, plum.referral_code(%s, 'new@tapshop.test'), 'ref@tapshop.test')$$, :c, :c), 'PU009', 'referral loop', 'PU009 referral loop');
SELECT throws_ok(format($$SELECT plum.refer(%s, %L, 'buyer@tapshop.test')$$, :c, :'code'), 'PU009', 'existing customer', 'PU009 existing customer');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'referral', 'r')$$, :c), 'PU009', 'event fired by plum itself', 'PU009 referral event');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'referred', 'r')$$, :c), 'PU009', 'event fired by plum itself', 'PU009 referred event');
SELECT throws_ok(format($$SELECT plum.set_accrual_cap(%s, 100, '30 days')$$, :m), 'PU009', 'not permitted', 'PU009 accrual cap by an admin');
-- PU003: a referee referred twice
SELECT throws_ok(format($$SELECT plum.refer(%s, %L, 'new@tapshop.test')$$, :c, :'code'), 'PU003', 'already referred', 'PU003 referred twice');
-- PU006: a replay with other arguments
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'buyer@tapshop.test', 'purchase', 'o-1', 51)$$, :c), 'PU006',
	'event already recorded with other arguments', 'PU006 replay with another amount');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'other@tapshop.test', 'purchase', 'o-1', 50)$$, :c), 'PU006',
	'event already recorded with other arguments', 'PU006 replay with another recipient');
-- PU008: rules paying nothing, percent outside (0, 100], multipliers outside [1, 10], negative caps and amounts
SELECT throws_ok(format($$SELECT plum.add_earning_rule(%s, 'x', 'purchase')$$, :a), 'PU008', 'rule pays nothing', 'PU008 rule pays nothing');
SELECT throws_ok(format($$SELECT plum.add_earning_rule(%s, 'x', 'purchase', percent => 0)$$, :a), 'PU008', 'percent out of range', 'PU008 percent 0');
SELECT throws_ok(format($$SELECT plum.add_earning_rule(%s, 'x', 'purchase', percent => 100.01)$$, :a), 'PU008', 'percent out of range', 'PU008 percent over 100');
SELECT throws_ok(format($$SELECT plum.add_tier(%s, 'x', 10, 0.99)$$, :a), 'PU008', 'multiplier out of range', 'PU008 multiplier under 1');
SELECT throws_ok(format($$SELECT plum.add_tier(%s, 'x', 10, 10.01)$$, :a), 'PU008', 'multiplier out of range', 'PU008 multiplier over 10');
SELECT throws_ok(format($$SELECT plum.add_earning_rule(%s, 'x', 'purchase', points => 1, cap => -1, cap_period => '1 day')$$, :a), 'PU008', NULL, 'PU008 negative rule cap');
SELECT throws_ok(format($$SELECT plum.set_accrual_cap(%s, -1, '30 days')$$, :a), 'PU008', 'invalid cap', 'PU008 negative accrual cap');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'purchase', 'o-neg', -5)$$, :c), 'PU008', NULL, 'PU008 negative amount');
-- 22023: malformed lines, event names
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'purchase', 'o-2', 10, '[{"amount": 9}]')$$, :c), '22023',
	'event lines do not add up to the amount', '22023 lines not adding up');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'purchase', 'o-2', 10, '{"amount": 10}')$$, :c), '22023',
	'malformed event lines', '22023 lines not an array');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'purchase', 'o-2', 10, '[{"amount": "ten"}]')$$, :c), '22023',
	'malformed event line', '22023 a line without a numeric amount');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'Bad Name', 'o-2')$$, :c), '22023', 'invalid event name', '22023 event name');
SELECT throws_ok(format($$SELECT plum.add_earning_rule(%s, 'x', '9lives', points => 1)$$, :a), '22023', 'invalid event name', '22023 rule event name');
SELECT throws_ok(format($$SELECT plum.add_badge(%s, 'x', 'Review')$$, :a), '22023', 'invalid event name', '22023 badge event name');
-- 22004: NULLs
SELECT throws_ok($$SELECT * FROM plum.record_event(NULL, 'x@tapshop.test', 'review', 'r')$$, '22004', 'company_id must not be null', '22004 record_event company_id');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'review', NULL)$$, :c), '22004', 'event_ref must not be null', '22004 record_event event_ref');
SELECT throws_ok(format($$SELECT * FROM plum.record_event(%s, 'x@tapshop.test', 'purchase', 'o-3')$$, :c), '22004', NULL, '22004 a purchase without an amount');
SELECT throws_ok(format($$SELECT plum.reverse_event(%s, NULL, 'o-1')$$, :c), '22004', 'event must not be null', '22004 reverse_event event');
SELECT throws_ok(format($$SELECT plum.refer(%s, NULL, 'z@tapshop.test')$$, :c), '22004', 'code must not be null', '22004 refer code');
SELECT throws_ok($$SELECT plum.add_tier(NULL, 'x', 1)$$, '22004', 'admin_id must not be null', '22004 add_tier admin_id');
SELECT throws_ok(format($$SELECT * FROM plum.leaderboard(%s, NULL, now())$$, :c), '22004', 'since must not be null', '22004 leaderboard since');
SELECT is_empty(format('SELECT * FROM plum.verify(%s)', :c), 'verify() is clean after the refusals');

SELECT * FROM finish();
ROLLBACK;
