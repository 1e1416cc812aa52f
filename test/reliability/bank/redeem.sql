-- a FIFO redemption of a random amount by a random recipient (PU001 when short)
\set c random(1, 2)
\set r random(1, 300)
\set cents random(1, 6000)
SELECT rel.try('redeem', format('SELECT plum.redeem_points(%s, %L, %s, %L)', CASE (:c)::bigint WHEN 1 THEN (:c1)::bigint ELSE (:c2)::bigint END,
	'u' || (:r)::bigint || '@bank.test', CASE (:c)::bigint WHEN 1 THEN round((:cents)::numeric / 100.0, 2) ELSE (:cents)::bigint END, 'bank'));
