-- reverse all or part of a recent redemption (PU008 past what is left)
\set k random(0, 40)
\set full random(0, 1)
\set units random(1, 20)
SELECT rel.try('reverse', format('SELECT plum.reverse_redemption(%s, %s)', r.entry_id, CASE WHEN (:full)::bigint = 1 THEN 'NULL' ELSE (:units)::text END))
	FROM (SELECT entry_id FROM plum_internal.journal WHERE kind = 'redeem' ORDER BY entry_id DESC OFFSET (:k)::bigint LIMIT 1) AS r;
