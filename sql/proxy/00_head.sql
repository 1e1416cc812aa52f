-- plum_proxy: install script, assembled by the Makefile from sql/proxy/00_head.sql, plum's own type
-- files (sql/10_recipient.sql, sql/11_wallet.sql, sql/12_code.sql: the proxy reads and writes
-- plum's types with plum's C code) and sql/proxy/50_proxy.sql (routing, and the generator that
-- builds schema plum from a shard's catalog at CREATE EXTENSION time, so the proxy's functions
-- and views are those of the plum its shards run, never a copy that can lag).
--
-- Set-up (SPEC, "Scale-out"), in the proxy database:
--   CREATE EXTENSION plproxy;
--   CREATE SERVER plum_shards FOREIGN DATA WRAPPER plproxy OPTIONS (p0 '<conninfo>', p1 '<conninfo>', ...);
--   CREATE USER MAPPING FOR PUBLIC SERVER plum_shards;
--   CREATE EXTENSION plum_proxy;
\echo Use "CREATE EXTENSION plum_proxy" to load this file. \quit

-- the roles of plum (cluster-wide: created only when missing, never dropped with the extension)
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
COMMENT ON SCHEMA plum IS 'plum through PL/Proxy: every function and view of plum''s SQL surface, each call routed to the shard of its company (the shard number is in every id, code and token).';
COMMENT ON SCHEMA plum_internal IS 'plum_proxy''s plumbing: the PL/Proxy functions that reach the shards, the routing helpers and plum''s type support.';
