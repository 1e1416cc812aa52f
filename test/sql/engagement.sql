-- Engagement: earning rules, events exactly once, percent/fixed rounded down, excluded categories,
-- caps that clip, pending lots, reversal, tiers, badges, referrals, leaderboard, views, verify().
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET plum.now = '2026-01-01 00:00+00';
SELECT plum.create_company('Shop', 'USD') AS shop \gset
SELECT plum.create_company('Other', 'USD') AS other \gset
SELECT plum.add_admin(:shop, 'boss@shop.test', 'super_admin', 100000) AS boss \gset
SELECT plum.add_admin(:shop, 'mkt@shop.test', 'admin', 100000) AS mkt \gset
SELECT plum.add_admin(:other, 'x@other.test', 'super_admin', 1000) AS oadm \gset
SELECT plum.create_points(:mkt, 10000), plum.create_points(:boss, 1000);

-- rules: 10% of purchases (not gift cards), 30-day return window, capped at 50 a week; 5 points per purchase over 20
SELECT plum.add_earning_rule(:mkt, 'ten percent', 'purchase', percent => 10, exclude_categories => '{gift_card}',
	pending => '30 days', cap => 50, cap_period => '7 days') AS r_pct \gset
SELECT plum.add_earning_rule(:mkt, 'five over 20', 'purchase', points => 5, min_amount => 20) AS r_fix \gset
SELECT plum.add_earning_rule(:boss, 'review', 'review', points => 2) AS r_rev \gset

-- bad rules
SELECT pg_temp.try($$SELECT plum.add_earning_rule($$ || :mkt || $$, 'x', 'purchase')$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule($$ || :mkt || $$, 'x', 'purchase', percent => 0)$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule($$ || :mkt || $$, 'x', 'purchase', percent => 100.5)$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule($$ || :mkt || $$, 'x', 'purchase', points => -1)$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule($$ || :mkt || $$, 'x', 'purchase', points => 1, cap => -1, cap_period => '1 day')$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule($$ || :mkt || $$, 'x', 'Purchase!', points => 1)$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule(NULL, 'x', 'purchase', points => 1)$$);
SELECT pg_temp.try($$SELECT plum.add_earning_rule(999999, 'x', 'purchase', points => 1)$$);
SELECT pg_temp.try($$SELECT plum.set_rule_active($$ || :oadm || $$, $$ || :r_fix || $$, false)$$);
SELECT pg_temp.try($$SELECT plum.set_rule_active($$ || :mkt || $$, 999999, false)$$);
SELECT pg_temp.try($$SELECT plum.set_accrual_cap($$ || :mkt || $$, 100, '30 days')$$);

-- a purchase of 123.45 with a 20.00 gift card line: 10% of 103.45 rounded down = 10.34 (pending) + 5
SELECT rule_id = :r_pct AS pct, desired, awarded, lot_id IS NOT NULL AS has_lot, available_at
FROM plum.record_event(:shop, 'Alice@Example.com', 'purchase', 'order-1', 123.45,
	'[{"sku": "A", "category": "food", "amount": 103.45}, {"sku": "G", "category": "gift_card", "amount": 20}]');
SELECT plum.points_balance(:shop, 'alice@example.com') AS balance;
SELECT balance, pending FROM plum.wallets WHERE recipient = 'alice@example.com';
SELECT amount, remaining, issued_at, available_at, expires_at FROM plum.point_lots WHERE recipient = 'alice@example.com' ORDER BY lot_id;
-- exactly once: the same event returns the first result; other arguments are PU006
SELECT rule_id = :r_pct AS pct, desired, awarded FROM plum.record_event(:shop, 'alice@example.com', 'purchase', 'order-1', 123.45,
	'[{"sku": "A", "category": "food", "amount": 103.45}, {"sku": "G", "category": "gift_card", "amount": 20}]');
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'purchase', 'order-1', 99)$$);
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'bob@example.com', 'purchase', 'order-1', 123.45)$$);
SELECT plum.points_balance(:shop, 'alice@example.com') AS balance_unchanged;
-- bad events
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'referral', 'x')$$);
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'Bad Name', 'x')$$);
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'purchase', 'x')$$);
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'purchase', 'x', -5)$$);
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'purchase', 'x', 10, '[{"amount": 9}]')$$);
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'alice@example.com', 'purchase', 'x', 10, '{"amount": 10}')$$);
SELECT pg_temp.try($$SELECT plum.record_event(999999, 'alice@example.com', 'review', 'x')$$);
SELECT pg_temp.try($$SELECT plum.record_event(NULL, 'alice@example.com', 'review', 'x')$$);
SELECT count(*) AS events FROM plum_internal.event;

-- the cap clips: 10% of 500 = 50 desired, only 39.66 fits the weekly 50
SELECT rule_id = :r_pct AS pct, desired, awarded FROM plum.record_event(:shop, 'alice@example.com', 'purchase', 'order-2', 500);
-- a week later the room is back
SET plum.now = '2026-01-08 00:00:01+00';
SELECT rule_id = :r_pct AS pct, desired, awarded FROM plum.record_event(:shop, 'alice@example.com', 'purchase', 'order-3', 100);
-- company accrual cap over all rules
SELECT plum.set_accrual_cap(:boss, 60, '30 days');
SELECT rule_id = :r_pct AS pct, desired, awarded FROM plum.record_event(:shop, 'alice@example.com', 'purchase', 'order-4', 30);
SELECT plum.set_accrual_cap(:boss, NULL, NULL);

-- reversal takes back what the event's lots still hold (pending), returns it to the pool, gives the room back
SELECT pool FROM plum.admins WHERE admin_id = :mkt;
SELECT plum.reverse_event(:shop, 'purchase', 'order-3') AS taken_back;
SELECT plum.reverse_event(:shop, 'purchase', 'order-3') AS second_time;
SELECT pool FROM plum.admins WHERE admin_id = :mkt;
SELECT pg_temp.try($$SELECT plum.reverse_event($$ || :shop || $$, 'purchase', 'nope')$$);
SELECT rule_id = :r_pct AS pct, desired, awarded FROM plum.record_event(:shop, 'alice@example.com', 'purchase', 'order-5', 100);
-- pending lots become available exactly at available_at, with no job
SELECT plum.points_balance(:shop, 'alice@example.com') AS before_window;
SET plum.now = '2026-01-31 00:00+00';
SELECT plum.points_balance(:shop, 'alice@example.com') AS at_window;

-- tiers: spend over the rolling year decides; the multiplier applies to purchases from the tier held before
SELECT plum.add_tier(:mkt, 'silver', 500, 1.5) AS silver \gset
SELECT plum.add_tier(:mkt, 'gold', 2000, 2) AS gold \gset
SELECT pg_temp.try($$SELECT plum.add_tier($$ || :mkt || $$, 'x', 10, 11)$$);
SELECT pg_temp.try($$SELECT plum.add_tier($$ || :mkt || $$, 'x', -1)$$);
SELECT plum.member_tier(:shop, 'alice@example.com') AS alice_tier, plum.member_tier(:shop, 'nobody@example.com') AS nobody;
SELECT rule_id = :r_pct AS pct, desired, awarded FROM plum.record_event(:shop, 'alice@example.com', 'purchase', 'order-6', 40);
SELECT DISTINCT multiplier FROM plum_internal.journal WHERE reference = (SELECT 'event:' || event_id FROM plum_internal.event WHERE event_ref = 'order-6');

-- badges: third review earns a badge (and 3 bonus points) once
SELECT plum.add_badge(:boss, 'critic', 'review', 3, points => 3) AS critic \gset
SELECT count(*) FROM plum.record_event(:shop, 'bob@example.com', 'review', 'rev-1');
SELECT count(*) FROM plum.record_event(:shop, 'bob@example.com', 'review', 'rev-2');
SELECT count(*) FROM plum.record_event(:shop, 'bob@example.com', 'review', 'rev-3');
SELECT count(*) FROM plum.record_event(:shop, 'bob@example.com', 'review', 'rev-4');
SELECT recipient, badge, awarded_at FROM plum.member_badges;
SELECT plum.points_balance(:shop, 'bob@example.com') AS bob;

-- referrals
SELECT plum.add_earning_rule(:mkt, 'referrer bonus', 'referral', points => 20) AS r_ref \gset
SELECT plum.add_earning_rule(:mkt, 'welcome', 'referred', points => 10) AS r_wel \gset
SELECT plum.referral_code(:shop, 'bob@example.com') AS bobcode \gset
SELECT plum.referral_code(:shop, 'BOB@example.com') = :'bobcode' AS stable, length(:'bobcode') AS len;
SELECT plum.refer(:shop, lower(:'bobcode'), 'carol@example.com') IS NOT NULL AS referred;
SELECT pg_temp.try(format('SELECT plum.refer(%s, %L, %L)', :shop, :'bobcode', 'carol@example.com'));
SELECT pg_temp.try(format('SELECT plum.refer(%s, %L, %L)', :shop, :'bobcode', 'bob@example.com'));
SELECT pg_temp.try(format('SELECT plum.refer(%s, %L, %L)', :shop, :'bobcode', 'alice@example.com'));
SELECT pg_temp.try(format('SELECT plum.refer(%s, %L, %L)', :shop, plum.referral_code(:shop, 'carol@example.com'), 'bob@example.com'));
SELECT pg_temp.try(format('SELECT plum.refer(%s, %L, %L)', :shop, 'NOSUCHCODE', 'dan@example.com'));
SELECT referrer, referee, state, referrer_awarded, referee_awarded FROM plum.referrals;
SELECT count(*) FROM plum.record_event(:shop, 'carol@example.com', 'purchase', 'order-c1', 10);
SELECT referrer, referee, state, qualified_at, referrer_awarded, referee_awarded FROM plum.referrals;
SELECT plum.points_balance(:shop, 'bob@example.com') AS bob, plum.points_balance(:shop, 'carol@example.com') AS carol;
SELECT plum.reverse_event(:shop, 'purchase', 'order-c1') AS taken_back;
SELECT state, referrer_awarded, referee_awarded FROM plum.referrals;

-- leaderboard and members
SELECT * FROM plum.leaderboard(:shop, '2026-01-01', '2027-01-01');
SELECT pg_temp.try($$SELECT * FROM plum.leaderboard($$ || :shop || $$, '2026-01-01', '2027-01-01', 0)$$);
SELECT recipient, tier, spend, balance, pending, earned, redeemed, first_seen, last_event_at FROM plum.members ORDER BY recipient::text;

-- redeeming then reversing: what was redeemed stays redeemed, only the rest comes back
SELECT plum.redeem_points(:shop, 'alice@example.com', 10) IS NOT NULL AS redeemed;
SELECT plum.reverse_event(:shop, 'purchase', 'order-1') AS order1_back;
SELECT plum.points_balance(:shop, 'alice@example.com') AS alice_after;

-- badges follow the events: a reversal that takes the member back below a badge's thresholds
-- revokes it (recorded in member_badge.revoked_at) and takes its bonus back; reaching the
-- thresholds again awards it again, with its bonus
SELECT plum.reverse_event(:shop, 'review', 'rev-4') AS rev4_back;
SELECT badge FROM plum.member_badges WHERE recipient = 'bob@example.com';
SELECT plum.points_balance(:shop, 'bob@example.com') AS bob_before;
SELECT plum.reverse_event(:shop, 'review', 'rev-1') AS rev1_back;
SELECT count(*) AS bob_badges FROM plum.member_badges WHERE recipient = 'bob@example.com';
SELECT revoked_at IS NOT NULL AS revoked FROM plum_internal.member_badge WHERE recipient = 'bob@example.com';
SELECT plum.points_balance(:shop, 'bob@example.com') AS bob_after;
SELECT kind, amount, holder, delta FROM plum.ledger WHERE recipient = 'bob@example.com' AND kind = 'takeback' ORDER BY entry_id DESC LIMIT 1;
SELECT plum.reverse_event(:shop, 'review', 'rev-1') AS again;
SELECT count(*) FROM plum.record_event(:shop, 'bob@example.com', 'review', 'rev-5');
SELECT badge FROM plum.member_badges WHERE recipient = 'bob@example.com';
SELECT plum.points_balance(:shop, 'bob@example.com') AS bob_rewarded;

-- the pool's stripes: earned points come from stripes of the rule admin's pool; plum.admins.pool
-- and create_points report the whole pool; a grant larger than the admin's row gathers the
-- stripes back; an event the whole pool cannot pay is PU001 and changes nothing
SELECT plum.add_admin(:shop, 'small@shop.test', 'admin', 1000) AS small \gset
SELECT plum.create_points(:small, 100);
SELECT plum.add_earning_rule(:small, 'visit', 'visit', points => 10) AS r_visit \gset
SELECT awarded FROM plum.record_event(:shop, 'dan@example.com', 'visit', 'v1');
SELECT pool FROM plum.admins WHERE admin_id = :small;
SELECT count(*) AS stripes, sum(amount) > 0 AS some_striped, (SELECT pool FROM plum_internal.admin WHERE admin_id = :small) < 90 AS row_holds_less
	FROM plum_internal.pool_stripe WHERE admin_id = :small;
SELECT plum.give_points(:small, 'dan@example.com', 80) IS NOT NULL AS given;
SELECT pool FROM plum.admins WHERE admin_id = :small;
SELECT awarded FROM plum.record_event(:shop, 'eve@example.com', 'visit', 'v2');
SELECT pg_temp.try($$SELECT plum.record_event($$ || :shop || $$, 'eve@example.com', 'visit', 'v3')$$);
SELECT count(*) AS v3_recorded FROM plum_internal.event WHERE event_ref = 'v3';
SELECT pool FROM plum.admins WHERE admin_id = :small;
SELECT plum.create_points(:small, 5) AS pool_after_create;
SELECT * FROM plum.verify(:shop);
SELECT * FROM plum.verify(:other);
