-- Untimed, before each run of update_floor.sql: 1,000,000 rows with a primary key.
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS floor_upd;
CREATE TABLE floor_upd (id int PRIMARY KEY, v bigint NOT NULL);
INSERT INTO floor_upd SELECT i, 0 FROM generate_series(1, 1000000) i;
VACUUM ANALYZE floor_upd;
CHECKPOINT;
