-- The bulk floor (SPEC): insert 1,000,000 random bigints into an indexed table.
\set ON_ERROR_STOP on
INSERT INTO floor_bulk SELECT (random() * 9e18)::bigint FROM generate_series(1, 1000000);
