-- read a balance and a code balance (plum_app's reads)
\set c random(1, 2)
\set r random(1, 300)
\set i random(1, :ncodes)
SELECT rel.try('balance', format('SELECT plum.points_balance(%s, %L), plum.code_balance(%L)', CASE (:c)::bigint WHEN 1 THEN (:c1)::bigint ELSE (:c2)::bigint END,
	'u' || (:r)::bigint || '@bank.test', code)) FROM rel.code_pool WHERE i = (:i)::bigint;
