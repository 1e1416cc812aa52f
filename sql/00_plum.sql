-- plum: install script, assembled by the Makefile from sql/*.sql in name order.
--
-- Every area file has one shape: its STATE (types, tables, indexes, operators, casts, the
-- functions those need) above the line "-- @api", then its CODE (functions, views, triggers,
-- comments, grants) below it. The upgrade script from 0.1.0 is sql/upgrade/0.1.0--0.2.0.sql
-- (which moves and adds state) followed by the CODE part of every area file, so an upgraded
-- database and a fresh one have the same catalog (test/reliability checks it).
--
-- Schema plum holds what users call and read: SPEC's functions, the views, the types.
-- Schema plum_internal holds the plumbing: tables, helpers and type-support functions; the
-- plum roles have no privileges on it (plum's SECURITY DEFINER functions reach it).
\echo Use "CREATE EXTENSION plum" to load this file. \quit

-- Roles (cluster-wide, so created only when missing and never dropped with the extension):
--   plum_reader  reads the views (BI tools)
--   plum_app     redeems and reads balances (applications), and reads the views
--   plum_admin   configures, creates and issues value (back office), and everything plum_app can do
DO $roles$
BEGIN
	PERFORM 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'plum_reader';
	IF NOT FOUND THEN
		CREATE ROLE plum_reader NOLOGIN;
	END IF;
	PERFORM 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'plum_app';
	IF NOT FOUND THEN
		CREATE ROLE plum_app NOLOGIN;
	END IF;
	PERFORM 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'plum_admin';
	IF NOT FOUND THEN
		CREATE ROLE plum_admin NOLOGIN;
	END IF;
END
$roles$;
GRANT plum_reader TO plum_app;
GRANT plum_app TO plum_admin;

GRANT USAGE ON SCHEMA plum TO plum_reader;
CREATE SCHEMA plum_internal;
REVOKE ALL ON SCHEMA plum_internal FROM PUBLIC;

-- @api
COMMENT ON SCHEMA plum IS 'plum: a rewards platform inside PostgreSQL (points wallets, gift codes, reward links). What users call and read: functions, views, types.';
COMMENT ON SCHEMA plum_internal IS 'plum''s plumbing: tables, helpers and type-support functions. No privileges for the plum roles; read the views in schema plum and call its functions.';
