-- redeem a precreated link: every client aims at the few links of the moment (a window
-- that slides (:lrate)::float8 links a second), so each link is claimed by several clients at once
-- and only the first may win (PU003 after it)
\set j random(0, 3)
SELECT rel.try('link', format('SELECT plum.redeem_link(%L, %s, %L)', p.token, (:item)::bigint, 'bank'))
	FROM rel.clock c, rel.link_pool p
	WHERE p.i = (extract(epoch FROM clock_timestamp() - c.real0) * (:lrate)::float8)::bigint % ((:nlinks)::bigint - 3) + 1 + (:j)::bigint;
