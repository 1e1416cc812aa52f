-- plum: install script, assembled by the Makefile from sql/*.sql in name order.
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

COMMENT ON SCHEMA plum IS 'plum: a rewards platform inside PostgreSQL (points wallets, gift codes, reward links).';
