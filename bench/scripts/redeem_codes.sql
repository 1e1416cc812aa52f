-- plum.redeem_codes: 0.01 from a pair of consecutive codes drawn uniformly from the
-- :ncodes preloaded in bench_codes(n int primary key, c plum.code) (both codes are
-- locked and checked; the first one, holding enough, is the one drained).
\set n random(1, :ncodes - 1)
SELECT count(*) FROM plum.redeem_codes(ARRAY(SELECT b.c FROM bench_codes b WHERE b.n BETWEEN :n AND :n + 1 ORDER BY b.n), 0.01);
