-- one grant from a company's admin pool to a random recipient
\set c random(1, 2)
\set r random(1, 300)
\set cents random(1, 5000)
SELECT rel.try('grant', format('SELECT plum.give_points(%s, %L, %s, %L)', CASE (:c)::bigint WHEN 1 THEN (:a1)::bigint ELSE (:a2)::bigint END,
	'u' || (:r)::bigint || '@bank.test', CASE (:c)::bigint WHEN 1 THEN round((:cents)::numeric / 100.0, 2) ELSE (:cents)::bigint END, 'bank-one'));
