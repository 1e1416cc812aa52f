-- redeem one or two preissued codes (PU001 short, PU002 expired, PU003 used up)
\set i random(1, :ncodes)
\set two random(0, 1)
\set cents random(1, 6000)
SELECT rel.try('codes', format('SELECT * FROM plum.redeem_codes(%L::plum.code[], %s, NULL, %L)',
	CASE WHEN (:two)::bigint = 1 THEN ARRAY[a.code, b.code] ELSE ARRAY[a.code] END, round((:cents)::numeric / 100.0, 2), 'bank'))
	FROM rel.code_pool a, rel.code_pool b WHERE a.i = (:i)::bigint AND b.i = (:i)::bigint % (:ncodes)::bigint + 1;
