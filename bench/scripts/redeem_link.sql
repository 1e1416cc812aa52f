-- plum.redeem_link: each transaction redeems a distinct preloaded link (bench_links,
-- loaded by bench/sql/load_links.sql) for a catalog item of its value.  The next
-- link comes from a sequence, so no link is redeemed twice; when the links run
-- out the token is NULL and plum.redeem_link raises 22004, which aborts pgbench
-- (a reused link would be PU003).  The inner scalar subquery makes nextval() an
-- init plan, evaluated once, with an index lookup on bench_links.
-- psql variables: link_item.
SELECT plum.redeem_link((SELECT l.token FROM bench_links l WHERE l.n = (SELECT nextval('bench_link_seq'))),
						:link_item, 'bench');
