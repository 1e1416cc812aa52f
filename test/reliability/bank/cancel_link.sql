-- withdraw a precreated link (PU003 once redeemed or cancelled)
\set i random(1, :nlinks)
SELECT rel.try('cancel_link', format('SELECT plum.cancel_link(%s, %L)', (:a1)::bigint, token))
	FROM rel.link_pool WHERE i = (:i)::bigint;
