-- five grants in one give_points_bulk (recipients may repeat)
\set c random(1, 2)
\set r random(1, 296)
SELECT rel.try('bulk', format('SELECT plum.give_points_bulk(%s, %L::plum.recipient[], %L::numeric[], %L)',
	CASE (:c)::bigint WHEN 1 THEN (:a1)::bigint ELSE (:a2)::bigint END,
	ARRAY['u' || (:r)::bigint || '@bank.test', 'u' || (:r)::bigint + 1 || '@bank.test', 'u' || (:r)::bigint + 4 || '@bank.test', 'u' || (:r)::bigint || '@bank.test', '+1415555' || lpad((:r)::text, 4, '0')],
	CASE (:c)::bigint WHEN 1 THEN '{1.25, 2, 3.5, 0.01, 10}' ELSE '{125, 200, 350, 1, 1000}' END, 'bank'));
