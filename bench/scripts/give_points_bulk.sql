-- plum.give_points_bulk of 1,000,000 grants of 10 points to 1,000,000 new recipients, one call.
\set ON_ERROR_STOP on
SELECT plum.give_points_bulk(:bulk_admin,
	ARRAY(SELECT ('g' || i || '@bench.test')::plum.recipient FROM generate_series(1, 1000000) i),
	array_fill(10::numeric, ARRAY[1000000]));
