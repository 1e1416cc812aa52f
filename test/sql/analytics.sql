-- Analytics for BI (issue 12): every column of plum.liability, plum.breakage_monthly,
-- plum.points_cohorts, plum.campaign_stats, plum.expiring_soon, plum.retention_monthly and
-- plum.referral_funnel on a small history computed by hand (figures in the comments), as of
-- plum's clock at several instants; points grants with a campaign (give_points, give_points_bulk,
-- distribute); a confined plum_reader sees only its company.  Codes are random: never printed.
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE ROLE regress_an_reader_a IN ROLE plum_reader;
CREATE ROLE regress_an_reader_none IN ROLE plum_reader;

-- Acme (USD, points valid 2 months), Bolt (another company), Calm (no activity at all)
SET plum.now = '2026-01-10 12:00+00';
SELECT plum.create_company('Acme', 'USD', '2 months') AS a \gset
SELECT plum.add_admin(:a, 'boss@acme.test', 'super_admin', 100000) AS boss \gset
SELECT plum.create_company('Bolt', 'EUR') AS b \gset
SELECT plum.add_admin(:b, 'boss@bolt.test', 'super_admin', 1000) AS bboss \gset
SELECT plum.create_company('Calm', 'JPY') AS c \gset
SELECT plum.create_points(:boss, 10000);
SELECT plum.create_points(:bboss, 1000);
SELECT plum.create_campaign(:boss, 'Spring points', 'points') AS cp \gset
SELECT plum.create_campaign(:boss, 'Gift codes', 'codes', '2026-03-01 00:00+00') AS cc \gset
SELECT plum.create_campaign(:boss, 'Links', 'links') AS cl \gset
SELECT plum.create_campaign(:boss, 'Dormant', 'points') AS cd \gset
SELECT plum.create_campaign(:bboss, 'Bolt points', 'points') AS bp \gset
SELECT plum.add_item(:a, 'gift_card', 'Bolt', 'Card 25', 'cards', 25) AS item \gset

-- 1. campaign_id on grants: a points campaign of the admin's company
SELECT pg_temp.try(format('SELECT plum.give_points(%s, ''x@a.test'', 1, campaign_id => 999999)', :boss));  -- PU005
SELECT pg_temp.try(format('SELECT plum.give_points(%s, ''x@a.test'', 1, campaign_id => %s)', :boss, :bp));   -- PU009 (Bolt's)
SELECT pg_temp.try(format('SELECT plum.give_points(%s, ''x@a.test'', 1, campaign_id => %s)', :boss, :cc));   -- PU009 (codes)
SELECT pg_temp.try(format('SELECT plum.give_points_bulk(%s, ARRAY[''x@a.test'']::plum.recipient[], ARRAY[1], NULL, %s)', :boss, :cl));  -- PU009 (links)
SELECT pg_temp.try(format('SELECT plum.distribute(%s, ''email'', ''x@a.test'', ''Hi'', points => 1, campaign_id => %s)', :boss, :bp)); -- PU009
SELECT pg_temp.try(format('SELECT plum.distribute(%s, ''email'', ''x@a.test'', ''Hi'', codes => ARRAY[]::plum.code[], campaign_id => %s)', :boss, :cp)); -- 22023
-- an idempotent grant: the same key with another campaign is another call (PU006)
SELECT plum.give_points(:boss, 'alice@a.test', 100, NULL, 'k-alice', :cp) AS lot_alice \gset
SELECT plum.give_points(:boss, 'alice@a.test', 100, NULL, 'k-alice', :cp) = :lot_alice AS replayed;
SELECT pg_temp.try(format('SELECT plum.give_points(%s, ''alice@a.test'', 100, NULL, ''k-alice'')', :boss));
SELECT plum.give_points(:boss, 'bob@a.test', 50);
SELECT plum.give_points_bulk(:boss, ARRAY['carol@a.test', 'dave@a.test']::plum.recipient[], ARRAY[30, 20], 'bulk', :cp);
SELECT plum.give_points(:bboss, 'zoe@b.test', 70, campaign_id => :bp);
-- a scheduled delivery keeps its campaign until its release (Jan 12)
SELECT plum.distribute(:boss, 'email', 'ivan@a.test', 'You got {{amount}}', points => 10, send_at => '2026-01-12 12:00+00',
	campaign_id => :cp) AS dlv \gset
SELECT kind, amount, campaign_id = :cp AS in_campaign FROM plum.ledger WHERE company_id = :a AND kind IN ('give', 'reserve') ORDER BY entry_id;

-- codes: 4 of 10 (campaign expires Mar 1); #1-#3 distributed, #4 never
CREATE TEMP TABLE k AS SELECT row_number() OVER () AS n, c FROM plum.issue_codes(:boss, :cc, 10, 4) AS c;
SELECT plum.mark_codes_distributed(ARRAY(SELECT c FROM k WHERE n <= 3));
-- links: 3 of 25; #3 cancelled
SELECT plum.create_link(:boss, :cl, 25, 'alice@a.test') AS l1 \gset
SELECT plum.create_link(:boss, :cl, 25) AS l2 \gset
SELECT plum.create_link(:boss, :cl, 25) AS l3 \gset
SELECT plum.cancel_link(:boss, :'l3');
-- earning: 10% of purchases, pending 20 days; referral and referred: 5 points each
SELECT plum.add_earning_rule(:boss, 'buy', 'purchase', percent => 10, pending => '20 days') IS NOT NULL AS rule;
SELECT plum.add_earning_rule(:boss, 'ref', 'referral', points => 5) IS NOT NULL AS rule;
SELECT plum.add_earning_rule(:boss, 'refd', 'referred', points => 5) IS NOT NULL AS rule;

-- nothing redeemed yet: every rate is a number or NULL, never an error
SELECT * FROM plum.referral_funnel ORDER BY company_id;
SELECT * FROM plum.retention_monthly ORDER BY company_id, month;

SET plum.now = '2026-01-12 12:00+00';
SELECT plum.release_deliveries();
SELECT plum.expire_points();   -- nothing expired
SET plum.now = '2026-01-15 12:00+00';
SELECT plum.redeem_points(:a, 'alice@a.test', 40) AS r1 \gset
SELECT plum.redeem_points(:a, 'bob@a.test', 10) AS r2 \gset
-- 20:00 in Los Angeles on Jan 31 is Feb 1 in UTC: a February grant
SET plum.now = '2026-01-31 20:00-08';
SELECT plum.give_points(:boss, 'henry@a.test', 10) IS NOT NULL AS given;
SET plum.now = '2026-02-01 12:00+00';
-- order o-100: 50 = code #1 10 + due 40; o-101 (alice): 30 = code #2 10 + points 5 + due 15, then refunded whole
SELECT instrument, amount FROM plum.checkout(:a, 'o-100', '{"lines": [{"sku": "A", "category": "food", "amount": 50}]}',
	codes => ARRAY(SELECT c FROM k WHERE n = 1));
SELECT instrument, amount FROM plum.checkout(:a, 'o-101', '{"lines": [{"sku": "A", "category": "food", "amount": 30}]}',
	'alice@a.test', codes => ARRAY(SELECT c FROM k WHERE n = 2), points => 5);
SELECT plum.redeem_link(:'l1', :item) IS NOT NULL AS billed;
SET plum.now = '2026-02-03 12:00+00';
SELECT instrument, amount FROM plum.refund(:a, 'o-101');
SET plum.now = '2026-02-05 12:00+00';
SELECT rule_id IS NOT NULL AS rule, desired, awarded, available_at FROM plum.record_event(:a, 'erin@a.test', 'purchase', 'p1', 200);
SET plum.now = '2026-02-10 12:00+00';
SELECT plum.reverse_redemption(:r1, 15);
SET plum.now = '2026-02-12 12:00+00';
SELECT plum.refer(:a, plum.referral_code(:a, 'alice@a.test'), 'frank@a.test') IS NOT NULL AS referred;
SELECT plum.refer(:a, plum.referral_code(:a, 'bob@a.test'), 'gina@a.test') IS NOT NULL AS referred;
SELECT plum.refer(:a, plum.referral_code(:a, 'bob@a.test'), 'hugo@a.test') IS NOT NULL AS referred;
SELECT awarded, available_at FROM plum.record_event(:a, 'frank@a.test', 'purchase', 'p2', 100);
SELECT awarded FROM plum.record_event(:a, 'hugo@a.test', 'purchase', 'p3', 50);

-- Feb 20, before frank's purchase is reversed: erin's 20 and frank's 10 and hugo's 5 are pending
SET plum.now = '2026-02-20 12:00+00';
-- live: alice 100-40-5+5+15 = 75, bob 40, carol 30, dave 20, ivan 10, henry 10, alice 5 + bob 5
-- (referral), frank 5 + hugo 5 (referred) = 200; pending: erin 20 + frank 10 + hugo 5 = 35;
-- codes: #2 10 (refunded) + #3 10 + #4 10 (undistributed) = 30; pools: 10000 - 210 (Jan) - 40 (codes)
-- - 10 (henry) - 55 (earned) = 9685; links: #2 (25)
SELECT * FROM plum.liability ORDER BY company_id;
SELECT * FROM plum.points_cohorts WHERE company_id = :a ORDER BY issue_month;
SELECT plum.reverse_event(:a, 'purchase', 'p2');   -- 10 pending + 5 (alice) + 5 (frank) = 20 taken back
-- expiring within 30 days of Feb 20 (by Mar 22 12:00): the January lots (Mar 10 12:00, ivan Mar 12 12:00)
SELECT company_id, recipient, amount, expires_at, lot_id IS NOT NULL AS lot, issued_at FROM plum.expiring_soon ORDER BY recipient;
SELECT * FROM plum.referral_funnel ORDER BY company_id;

-- Mar 12 00:00: the sweep takes the lots of Jan 10 (expired Mar 10 12:00), not ivan's (Mar 12 12:00)
SET plum.now = '2026-03-12 00:00+00';
SELECT plum.expire_points();   -- alice 75 + bob 40 + carol 30 + dave 20 = 165
SELECT plum.expire_codes();    -- #2 and #3: 20 (#4 was never distributed)
-- Mar 25: ivan's lot is past expiry, not swept yet; live: henry 10, erin 20, bob 5 and hugo 5 (referral),
-- hugo 5 (purchase, available since Mar 4) = 45; pools: 9685 + 20 taken back = 9705; code #4 (never
-- distributed, past expiry) is neither outstanding nor breakage
SET plum.now = '2026-03-25 00:00+00';
-- 5 of bob's January redemption reversed into his lot, expired since Mar 10: restored as breakage
SELECT plum.reverse_redemption(:r2, 5);
SELECT kind, amount FROM plum.ledger WHERE redemption_id = :r2 ORDER BY entry_id;
SELECT * FROM plum.liability ORDER BY company_id;
-- points expired in March: 165 swept + 5 restored into bob's expired lot + ivan 10 unswept = 180;
-- codes: #2 + #3 = 20
SELECT * FROM plum.breakage_monthly ORDER BY company_id, month;
-- January: issued 210 (alice 100, bob 50, carol 30, dave 20, ivan 10) = redeemed 40+10+5-5-15-5 = 30
-- + expired 165+5+10 = 180; February: issued 65 = henry 10 + erin 20 + frank 10+5 + alice 5 + bob 5
-- + hugo 5+5 = taken back 20 (frank's purchase reversed: 10 + 5 + alice's 5) + live 45
SELECT * FROM plum.points_cohorts ORDER BY company_id, issue_month;
-- the cohort identity computed directly: redeemed = lots taken by redemptions - lots restored
SELECT date_trunc('month', l.issued_at AT TIME ZONE 'UTC')::date AS issue_month,
	sum(CASE j.kind WHEN 'redeem' THEN l.remaining ELSE -l.remaining END) AS redeemed_directly
FROM plum_internal.journal j, plum_internal.wallet_lots(j.lots) l
WHERE j.company_id = :a AND j.kind IN ('redeem', 'restore') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS cohorts_disagreeing FROM plum.points_cohorts p
	LEFT JOIN (SELECT j.company_id, date_trunc('month', l.issued_at AT TIME ZONE 'UTC')::date AS issue_month,
			sum(CASE j.kind WHEN 'redeem' THEN l.remaining ELSE -l.remaining END) AS r
		FROM plum_internal.journal j, plum_internal.wallet_lots(j.lots) l WHERE j.kind IN ('redeem', 'restore') GROUP BY 1, 2) d
		USING (company_id, issue_month)
	WHERE p.redeemed <> coalesce(d.r, 0) OR p.issued <> p.redeemed + p.expired + p.live + p.pending + p.taken_back;
-- Spring points: alice 100 + carol 30 + dave 20 + ivan 10 (distribute) = 160, expired 75+30+20+10 = 135,
-- redeemed 25 (alice 40 - 15 reversed; o-101's 5 refunded); Gift codes: 40 issued, 10 redeemed (#1;
-- #2 refunded), 20 expired (#2, #3), o-100 50 (o-101 refunded whole: not counted), roi (50-10)/10 = 4;
-- Links: 75 created (1 cancelled), 25 redeemed and billed once, cost 25, roi -1; Dormant: NULLs
SELECT * FROM plum.campaign_stats ORDER BY campaign_id;
-- within 30 days of Mar 25: henry (Apr 1 04:00 UTC), bob and hugo (Apr 12); erin (Apr 25) is not
SELECT * FROM plum.expiring_soon ORDER BY company_id, recipient;
-- Jan: alice, bob, carol, dave, ivan (henry's grant is February in UTC); Feb: alice, bob (referral
-- events), henry, erin, frank, hugo: 2 retained, 4 new, 3 churned; Mar: nobody (6 churned); Bolt:
-- zoe in Jan, churned in Feb, March has no one to retain (NULL rates)
SELECT * FROM plum.retention_monthly ORDER BY company_id, month;
SELECT * FROM plum.referral_funnel ORDER BY company_id;
SELECT * FROM plum.verify();

-- a BI login confined to Acme sees only Acme's rows, one with no grant sees none
SELECT plum.grant_company('regress_an_reader_a', :a);
SET ROLE regress_an_reader_a;
SELECT 'liability' AS v, array_agg(DISTINCT company_id) FROM plum.liability
UNION ALL SELECT 'breakage_monthly', array_agg(DISTINCT company_id) FROM plum.breakage_monthly
UNION ALL SELECT 'points_cohorts', array_agg(DISTINCT company_id) FROM plum.points_cohorts
UNION ALL SELECT 'campaign_stats', array_agg(DISTINCT company_id) FROM plum.campaign_stats
UNION ALL SELECT 'expiring_soon', array_agg(DISTINCT company_id) FROM plum.expiring_soon
UNION ALL SELECT 'retention_monthly', array_agg(DISTINCT company_id) FROM plum.retention_monthly
UNION ALL SELECT 'referral_funnel', array_agg(DISTINCT company_id) FROM plum.referral_funnel;
SET ROLE regress_an_reader_none;
SELECT (SELECT count(*) FROM plum.liability) + (SELECT count(*) FROM plum.breakage_monthly)
	+ (SELECT count(*) FROM plum.points_cohorts) + (SELECT count(*) FROM plum.campaign_stats)
	+ (SELECT count(*) FROM plum.expiring_soon) + (SELECT count(*) FROM plum.retention_monthly)
	+ (SELECT count(*) FROM plum.referral_funnel) AS rows_seen;
RESET ROLE;
-- plum.campaign_stats reads through plum_internal.campaign_stats_rows() (JIT off): a role that may
-- not read the view may not call it either, and the function runs with jit off whatever the session says
CREATE ROLE regress_an_outsider;
SET ROLE regress_an_outsider;
SELECT pg_temp.try($$SELECT count(*) FROM plum_internal.campaign_stats_rows()$$) AS outsider_function;
SELECT pg_temp.try($$SELECT count(*) FROM plum.campaign_stats$$) AS outsider_view;
RESET ROLE;
DROP ROLE regress_an_outsider;
SELECT p.proconfig FROM pg_proc p WHERE p.oid = 'plum_internal.campaign_stats_rows()'::regprocedure;

-- every view and every column is documented
SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'plum'::regnamespace AND c.relname IN ('liability', 'breakage_monthly', 'points_cohorts',
	'campaign_stats', 'expiring_soon', 'retention_monthly', 'referral_funnel')
	AND (col_description(c.oid, a.attnum) IS NULL OR obj_description(c.oid, 'pg_class') IS NULL);
SELECT c.relname, c.reloptions FROM pg_class c WHERE c.relnamespace = 'plum'::regnamespace AND c.relname IN ('liability',
	'breakage_monthly', 'points_cohorts', 'campaign_stats', 'expiring_soon', 'retention_monthly', 'referral_funnel') ORDER BY 1;

RESET plum.now;
DROP ROLE regress_an_reader_a, regress_an_reader_none;
