-- Untimed, before each run of bulk_floor.sql: an empty indexed table.
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS floor_bulk;
CREATE TABLE floor_bulk (v bigint);
CREATE INDEX ON floor_bulk (v);
