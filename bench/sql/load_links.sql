-- Links for bench/scripts/redeem_link.sql, through plum's SQL API: after
-- load_plum.sql (its company and admin), a links campaign, one flexible item
-- (1 to 100) in its catalog, and :nlinks links worth 25.00 whose tokens are
-- kept in bench_links(n, token), n = 1..:nlinks, picked in order by the
-- sequence bench_link_seq.  Records link_item and nlinks in bench_meta.
-- psql variables: nlinks.
\set ON_ERROR_STOP on
SELECT value AS company FROM bench_meta WHERE key = 'company' \gset
SELECT min(admin_id) AS admin FROM plum_internal.admin WHERE company_id = :company \gset
SELECT plum.create_campaign(:admin, 'Bench links', 'links') AS campaign \gset
SELECT plum.add_item(:company, 'gift_card', 'Bench', 'Bench card', 'bench', min_value => 1, max_value => 100) AS item \gset
CREATE TABLE bench_links (n bigint PRIMARY KEY, token text NOT NULL);
CREATE SEQUENCE bench_link_seq;
-- in transactions of 1,000 links: every create_link raises its admin's created value (links count
-- toward thresholds), and one transaction updating one admin row 400,000 times walks an ever
-- longer chain of row versions (see README, "Known limits")
SELECT format('INSERT INTO bench_links (n, token) SELECT i, plum.create_link(%s, %s, 25) FROM generate_series(%s, %s) i',
		:admin, :campaign, lo, least(lo + 999, :nlinks))
	FROM generate_series(1, :nlinks, 1000) AS lo
\gexec
INSERT INTO bench_meta (key, value) VALUES ('link_item', :'item'), ('nlinks', :'nlinks')
	ON CONFLICT (key) DO UPDATE SET value = excluded.value;
VACUUM ANALYZE;
