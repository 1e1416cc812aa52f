-- The expiry floor (SPEC): an UPDATE of 1,000,000 rows.
\set ON_ERROR_STOP on
UPDATE floor_upd SET v = v + 1;
