-- Untimed, before each run of issue_codes.sql: a fresh company, its super admin with a pool
-- for 1,000,000 codes of 5.00, and a codes campaign.
\set ON_ERROR_STOP on
SELECT plum.create_company('Issue', 'USD') AS company \gset
SELECT plum.add_admin(:company, 'issue@plum.test', 'super_admin', 1e15) AS admin \gset
SELECT plum.create_points(:admin, 5000000);
SELECT plum.create_campaign(:admin, 'Bench issue', 'codes') AS campaign \gset
INSERT INTO bench_meta (key, value) VALUES ('issue_admin', :'admin'), ('issue_campaign', :'campaign')
	ON CONFLICT (key) DO UPDATE SET value = excluded.value;
