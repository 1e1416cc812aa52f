-- plum.redeem_codes: 0.01 from a pair of consecutive codes drawn uniformly from the
-- :ncodes preloaded in bench_codes(n int primary key, c plum.code) (both codes are
-- locked and checked; the first one, holding enough, is the one drained).  The pair is
-- read first (a read-only statement: no commit to flush) and passed to redeem_codes as
-- parameters, as an application holding the codes would call it.
\set n random(1, :ncodes - 1)
SELECT b1.c AS c1, b2.c AS c2 FROM bench_codes b1, bench_codes b2 WHERE b1.n = :n AND b2.n = :n + 1 \gset
SELECT count(*) FROM plum.redeem_codes(ARRAY[:c1, :c2]::plum.code[], 0.01);
