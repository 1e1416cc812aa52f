-- cancel a code back into the pool (PU009 once distributed, PU003 once cancelled)
\set i random(1, :ncodes)
SELECT rel.try('cancel_codes', format('SELECT plum.cancel_codes(%s, %L::plum.code[])', (:a1)::bigint, ARRAY[code]))
	FROM rel.code_pool WHERE i = (:i)::bigint;
