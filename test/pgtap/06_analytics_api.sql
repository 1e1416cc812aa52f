-- pgTAP: the analytics surface of SPEC ("Analytics for BI"): the views, their columns in SPEC's
-- order (more after them), column types (months are dates, rates numeric), security_barrier,
-- plum_reader's SELECT, comments on every view and column; the trailing campaign_id of the grants.
BEGIN;
SELECT plan(48);

SELECT has_view('plum', v, 'view plum.' || v) FROM unnest(ARRAY['liability', 'breakage_monthly', 'points_cohorts',
	'campaign_stats', 'expiring_soon', 'retention_monthly', 'referral_funnel']) AS v;

-- SPEC's columns first, in SPEC's order
CREATE TEMP TABLE spec (view text, cols text[]);
INSERT INTO spec VALUES
	('liability', ARRAY['company_id', 'currency', 'points_live', 'points_pending', 'codes_outstanding', 'pools', 'links_open_value']),
	('breakage_monthly', ARRAY['company_id', 'month', 'points_expired', 'codes_expired']),
	('points_cohorts', ARRAY['company_id', 'issue_month', 'issued', 'redeemed', 'expired', 'live', 'redemption_rate', 'breakage_rate']),
	('campaign_stats', ARRAY['campaign_id', 'company_id', 'mode', 'issued_value', 'redeemed_value', 'billed_value', 'expired_value',
		'redemption_rate', 'orders', 'revenue', 'roi']),
	('expiring_soon', ARRAY['company_id', 'recipient', 'amount', 'expires_at']),
	('retention_monthly', ARRAY['company_id', 'month', 'active', 'retained', 'new', 'churned', 'retention_rate', 'churn_rate']),
	('referral_funnel', ARRAY['company_id', 'referrers', 'referred', 'qualified', 'reversed', 'points_awarded']);
SELECT is((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
		WHERE a.attrelid = ('plum.' || spec.view)::regclass AND a.attnum BETWEEN 1 AND cardinality(spec.cols)),
	spec.cols, 'plum.' || spec.view || ' starts with SPEC''s columns') FROM spec ORDER BY view;

-- types: months are dates, rates and money numeric, counts bigint
SELECT col_type_is('plum', 'breakage_monthly', 'month', 'date', 'breakage_monthly.month is a date');
SELECT col_type_is('plum', 'retention_monthly', 'month', 'date', 'retention_monthly.month is a date');
SELECT col_type_is('plum', 'points_cohorts', 'issue_month', 'date', 'points_cohorts.issue_month is a date');
SELECT col_type_is('plum', v, c, 'numeric', v || '.' || c || ' is numeric') FROM (VALUES
	('points_cohorts', 'redemption_rate'), ('points_cohorts', 'breakage_rate'), ('campaign_stats', 'redemption_rate'),
	('campaign_stats', 'roi'), ('retention_monthly', 'retention_rate'), ('retention_monthly', 'churn_rate'),
	('liability', 'points_live'), ('campaign_stats', 'revenue'), ('referral_funnel', 'points_awarded')) AS x(v, c);
SELECT col_type_is('plum', v, c, 'bigint', v || '.' || c || ' is bigint') FROM (VALUES
	('retention_monthly', 'active'), ('campaign_stats', 'orders'), ('referral_funnel', 'referred')) AS x(v, c);
SELECT col_type_is('plum', 'expiring_soon', 'recipient', 'plum.recipient', 'expiring_soon.recipient is a plum.recipient');

-- security_barrier, plum_reader may read, every view and column documented
SELECT is((SELECT array_agg(relname::text ORDER BY relname) FROM pg_class WHERE relnamespace = 'plum'::regnamespace
		AND relname = ANY (ARRAY['liability', 'breakage_monthly', 'points_cohorts', 'campaign_stats', 'expiring_soon',
			'retention_monthly', 'referral_funnel']) AND 'security_barrier=true' = ANY (reloptions)),
	ARRAY['breakage_monthly', 'campaign_stats', 'expiring_soon', 'liability', 'points_cohorts', 'referral_funnel', 'retention_monthly'],
	'every analytics view is a security_barrier view');
SELECT ok(has_table_privilege('plum_reader', 'plum.' || v, 'SELECT'), 'plum_reader may read plum.' || v)
	FROM unnest(ARRAY['liability', 'breakage_monthly', 'points_cohorts', 'campaign_stats', 'expiring_soon',
		'retention_monthly', 'referral_funnel']) AS v;
SELECT is_empty($$SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
	WHERE c.relnamespace = 'plum'::regnamespace AND c.relname IN ('liability', 'breakage_monthly', 'points_cohorts',
		'campaign_stats', 'expiring_soon', 'retention_monthly', 'referral_funnel')
		AND (coalesce(col_description(c.oid, a.attnum), '') = '' OR coalesce(obj_description(c.oid, 'pg_class'), '') = '')$$,
	'every analytics view and column has a comment');

-- the grants' trailing campaign_id (SPEC: "a points campaign of the admin's company")
SELECT is((SELECT (proargnames)[pronargs] FROM pg_proc WHERE oid = p::regprocedure), 'campaign_id', p || ' ends with campaign_id')
	FROM unnest(ARRAY['plum.give_points(bigint, plum.recipient, numeric, text, text, bigint)',
		'plum.give_points_bulk(bigint, plum.recipient[], numeric[], text, bigint)',
		'plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb, bigint)']) AS p;
SELECT is((SELECT pg_get_function_arguments(p::regprocedure) LIKE '%campaign_id bigint DEFAULT NULL::bigint'), true,
		p || ': campaign_id DEFAULT NULL')
	FROM unnest(ARRAY['plum.give_points(bigint, plum.recipient, numeric, text, text, bigint)',
		'plum.give_points_bulk(bigint, plum.recipient[], numeric[], text, bigint)',
		'plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb, bigint)']) AS p;
SELECT plum.create_company('TAP analytics', 'USD') AS c \gset
SELECT plum.add_admin(:c, 'tap@analytics.test', 'super_admin', 1000) AS a \gset
SELECT plum.create_points(:a, 100);
SELECT plum.create_campaign(:a, 'TAP codes', 'codes') AS cc \gset
SELECT throws_ok(format('SELECT plum.give_points(%s, ''x@tap.test'', 1, campaign_id => -1)', :a), 'PU005', 'unknown campaign',
	'PU005 for an unknown campaign');
SELECT throws_ok(format('SELECT plum.give_points(%s, ''x@tap.test'', 1, campaign_id => %s)', :a, :cc), 'PU009', 'wrong campaign mode',
	'PU009 for a campaign that is not a points campaign');
SELECT is((SELECT count(*) FROM plum.liability WHERE company_id = :c), 1::bigint, 'a company without history has its liability row');

SELECT * FROM finish();
ROLLBACK;
