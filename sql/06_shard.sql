-- Scale-out (SPEC, "Scale-out"): this database as one shard of several behind a plum_proxy
-- database (PL/Proxy).  plum.configure_shard(shard, shards), called once before any data, makes
-- every id this database hands out carry its shard (every sequence of plum_internal counts in
-- steps of 16 from the shard's number, so id % 16 = shard), every code carry it in the 4 high
-- bits of its 8-byte value (src/code.c) and every link token in its first symbol (src/links.c),
-- so the proxy routes a call from its arguments alone.  Never called: nothing changes.
--
-- The proxy reaches a shard through three functions of this file only: plum.shard_call() runs
-- one plum function and returns its rows, or its refusal as data (PL/Proxy drops a connection
-- after a remote error, so a refused call would otherwise cost a new connection);
-- plum.shard_view() returns a view's rows; plum.shard_catalog() describes plum's functions and
-- views, from which CREATE EXTENSION plum_proxy builds its own schema plum (sql/proxy/).

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
CREATE TABLE plum_internal.shard_config (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	shard	integer NOT NULL CHECK (shard >= 0 AND shard < shards),
	shards	integer NOT NULL CHECK (shards IN (1, 2, 4, 8, 16)),
	configured timestamptz NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('plum_internal.shard_config', '');
REVOKE ALL ON plum_internal.shard_config FROM PUBLIC;
-- @end

-- @api
COMMENT ON TABLE plum_internal.shard_config IS 'This database''s shard number and the number of shards (one row, written once by plum.configure_shard(); no row on a single server).';
COMMENT ON COLUMN plum_internal.shard_config.one IS 'Always true: the table holds one row at most.';
COMMENT ON COLUMN plum_internal.shard_config.shard IS 'This database''s shard, 0 .. shards-1: every id it hands out is shard modulo 16, every code carries it in its 4 high bits, every link token in its first symbol.';
COMMENT ON COLUMN plum_internal.shard_config.shards IS 'How many shards the proxy spreads companies over: a power of two, at most 16.';
COMMENT ON COLUMN plum_internal.shard_config.configured IS 'When plum.configure_shard() was called.';

CREATE FUNCTION plum.configure_shard(shard integer, shards integer) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v_config plum_internal.shard_config;
	v_seq regclass;
BEGIN
	IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = current_user::regrole) THEN
		PERFORM plum_internal.raise('42501', 'permission denied to configure a shard',
			'Only a superuser may call plum.configure_shard().');
	END IF;
	PERFORM plum_internal.not_null(shard, 'shard');
	PERFORM plum_internal.not_null(shards, 'shards');
	IF shards NOT IN (1, 2, 4, 8, 16) THEN
		PERFORM plum_internal.raise('22023', 'shards must be a power of two, at most 16',
			format('shards is %s.', shards), 'Use 1, 2, 4, 8 or 16; start with more shards than servers to add servers later.');
	END IF;
	IF shard < 0 OR shard >= shards THEN
		PERFORM plum_internal.raise('22023', 'shard out of range',
			format('shard is %s; with %s shards it must be 0 to %s.', shard, shards, shards - 1));
	END IF;
	LOCK TABLE plum_internal.shard_config, plum_internal.company IN EXCLUSIVE MODE;
	SELECT * INTO v_config FROM plum_internal.shard_config;
	IF FOUND THEN
		IF v_config.shard = configure_shard.shard AND v_config.shards = configure_shard.shards THEN
			-- the same call again: the sequences' stride again (after a restore), their values kept
			FOR v_seq IN
				SELECT c.oid::regclass FROM pg_class c
				WHERE c.relnamespace = 'plum_internal'::regnamespace AND c.relkind = 'S' ORDER BY c.relname
			LOOP
				EXECUTE format('ALTER SEQUENCE %s INCREMENT BY 16 MINVALUE 1', v_seq);
			END LOOP;
			RETURN;
		END IF;
		PERFORM plum_internal.raise('55000', 'this database is configured as a shard already',
			format('It is shard %s of %s.', v_config.shard, v_config.shards),
			'A shard''s number cannot change: its ids, codes and tokens carry it.');
	END IF;
	IF EXISTS (SELECT FROM plum_internal.company) OR EXISTS (SELECT FROM plum_internal.journal) THEN
		PERFORM plum_internal.raise('55000', 'configure_shard must come before any data',
			format('Companies in this database: %s.', (SELECT count(*) FROM plum_internal.company)),
			'Call plum.configure_shard() right after CREATE EXTENSION plum.');
	END IF;
	-- every id plum hands out comes from a sequence of plum_internal: count in steps of 16 from the
	-- shard's number (shard 0 from 16), so id % 16 = shard whatever the number of shards
	FOR v_seq IN
		SELECT c.oid::regclass FROM pg_class c
		WHERE c.relnamespace = 'plum_internal'::regnamespace AND c.relkind = 'S' ORDER BY c.relname
	LOOP
		EXECUTE format('ALTER SEQUENCE %s INCREMENT BY 16 MINVALUE 1 RESTART WITH %s', v_seq,
			CASE WHEN configure_shard.shard = 0 THEN 16 ELSE configure_shard.shard END);
	END LOOP;
	INSERT INTO plum_internal.shard_config (shard, shards, configured)
		VALUES (configure_shard.shard, configure_shard.shards, plum.now());
END
$$;
COMMENT ON FUNCTION plum.configure_shard(integer, integer) IS
	'Make this database shard number shard of shards (a power of two, at most 16), before any data (superuser): every id it hands out is shard modulo 16, every code carries the shard in its 4 high bits and every link token in its first symbol, so plum_proxy routes calls from their arguments. Never called: a single server, nothing changes.';
REVOKE EXECUTE ON FUNCTION plum.configure_shard(integer, integer) FROM PUBLIC;

-- Is id one of another shard's (a configured shard only)?  Grants through the proxy reach every
-- shard, so that a role confined on one shard is confined on all of them.
CREATE FUNCTION plum_internal.elsewhere(id bigint) RETURNS boolean
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT coalesce((SELECT (id & 15) <> c.shard FROM plum_internal.shard_config c), false) $$;
COMMENT ON FUNCTION plum_internal.elsewhere(bigint) IS 'Internal: true when this database is a configured shard and id carries another shard''s number (plum.grant_company and plum.grant_admin accept such ids as is).';

-- This database's shard, for the proxy and for people (no row on a single server).  SECURITY
-- DEFINER: plum.shard_call() runs as its caller, who may not read plum_internal.
CREATE FUNCTION plum.shard_config() RETURNS TABLE(shard integer, shards integer)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT c.shard, c.shards FROM plum_internal.shard_config c $$;
COMMENT ON FUNCTION plum.shard_config() IS
	'This database''s shard number and the number of shards, as set by plum.configure_shard(); no row on a single server. Through the proxy: one row per shard.';
REVOKE EXECUTE ON FUNCTION plum.shard_config() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.shard_config() TO plum_reader;

-- Run one function of schema plum for the proxy: its rows as jsonb (a scalar as its text), or
-- one row with the refusal's SQLSTATE, message, detail and hint.  Runs as the caller (the
-- proxy connects as the same role), so it grants nothing the caller could not call directly.
CREATE FUNCTION plum.shard_call(shard integer, fn text, args text[], clock text)
	RETURNS TABLE(result jsonb, state text, message text, detail text, hint text)
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'plum_shard_call';
COMMENT ON FUNCTION plum.shard_call(integer, text, text[], text) IS
	'For plum_proxy: run the plum function fn (a signature, e.g. plum.points_balance(bigint,plum.recipient)) with args as text, as the caller, plum.now set to clock when given; returns its rows as jsonb, or one row with the refusal (state, message, detail, hint). Refuses a call routed to the wrong shard (F0000).';
REVOKE EXECUTE ON FUNCTION plum.shard_call(integer, text, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.shard_call(integer, text, text[], text) TO plum_reader;

-- A view of schema plum for the proxy's gathers: its rows (as the caller sees them) as jsonb.
CREATE FUNCTION plum.shard_view(shard integer, view text, clock text) RETURNS SETOF jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = 'plum'::regnamespace AND c.relkind = 'v' AND c.relname = view) THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'no such plum view on this shard',
			DETAIL = format('plum.%s does not exist.', view);
	END IF;
	IF clock IS NOT NULL AND clock <> '' THEN
		PERFORM set_config('plum.now', clock, true);
	END IF;
	RETURN QUERY EXECUTE format('SELECT to_jsonb(v) FROM plum.%I AS v', view);
END
$$;
COMMENT ON FUNCTION plum.shard_view(integer, text, text) IS
	'For plum_proxy: the rows of the view plum.<view> as the caller sees them, as jsonb (plum.now set to clock when given).';
REVOKE EXECUTE ON FUNCTION plum.shard_view(integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.shard_view(integer, text, text) TO plum_reader;

-- What plum_proxy needs to build its schema plum: one jsonb per composite type, view and function.
CREATE FUNCTION plum.shard_catalog() RETURNS SETOF jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT jsonb_build_object('kind', CASE c.relkind WHEN 'c' THEN 'type' ELSE 'view' END, 'name', c.relname,
		'columns', (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
			FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
		'comment', obj_description(c.oid, 'pg_class'),
		'grants', (SELECT jsonb_agg(DISTINCT jsonb_build_object('grantee', x.grantee::regrole::text, 'privilege', x.privilege_type))
			FROM aclexplode(c.relacl) x WHERE x.grantee <> 0 AND x.grantee <> c.relowner))
	FROM pg_class c
	WHERE c.relnamespace = 'plum'::regnamespace AND c.relkind IN ('c', 'v')
	UNION ALL
	SELECT jsonb_build_object('kind', 'function', 'name', p.proname,
		'signature', format('plum.%I(%s)', p.proname, (SELECT string_agg(format_type(t, NULL), ',' ORDER BY n) FROM unnest(p.proargtypes) WITH ORDINALITY AS u(t, n))),
		'identity', pg_get_function_identity_arguments(p.oid),
		'arguments', pg_get_function_arguments(p.oid),
		'result', pg_get_function_result(p.oid),
		'argnames', (SELECT jsonb_agg(coalesce(p.proargnames[n], '') ORDER BY n)
			FROM generate_series(1, coalesce(array_length(p.proargmodes, 1), p.pronargs)) n
			WHERE p.proargmodes IS NULL OR p.proargmodes[n] IN ('i', 'b', 'v')),
		'argtypes', (SELECT jsonb_agg(format_type(t, NULL) ORDER BY n) FROM unnest(p.proargtypes) WITH ORDINALITY AS u(t, n)),
		'rettype', format_type(p.prorettype, NULL),
		'retset', p.proretset,
		'shape', CASE WHEN p.prorettype = 'void'::regtype THEN 'void'
			WHEN p.prorettype = 'record'::regtype OR 't' = ANY (p.proargmodes) OR 'o' = ANY (p.proargmodes) THEN 'record'
			WHEN (SELECT t.typtype = 'c' FROM pg_type t WHERE t.oid = p.prorettype) THEN 'composite'
			ELSE 'scalar' END,
		'columns', (SELECT string_agg(format('%I %s', p.proargnames[n], format_type(p.proallargtypes[n], NULL)), ', ' ORDER BY n)
			FROM generate_series(1, array_length(p.proargmodes, 1)) n WHERE p.proargmodes[n] IN ('t', 'o', 'b')),
		'volatility', p.provolatile, 'strict', p.proisstrict,
		'language', (SELECT l.lanname FROM pg_language l WHERE l.oid = p.prolang),
		'symbol', CASE WHEN p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'c') THEN p.prosrc END,
		'comment', obj_description(p.oid, 'pg_proc'),
		'public', p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) x WHERE x.grantee = 0),
		'grants', (SELECT jsonb_agg(DISTINCT x.grantee::regrole::text)
			FROM aclexplode(p.proacl) x WHERE x.grantee <> 0 AND x.grantee <> p.proowner))
	FROM pg_proc p
	WHERE p.pronamespace = 'plum'::regnamespace
		AND p.proname NOT IN ('configure_shard', 'shard_call', 'shard_view', 'shard_catalog')
$$;
COMMENT ON FUNCTION plum.shard_catalog() IS
	'For plum_proxy: one jsonb per composite type, view and function of schema plum (names, columns, arguments, results, comments, grants), from which CREATE EXTENSION plum_proxy builds the proxy''s schema plum.';
REVOKE EXECUTE ON FUNCTION plum.shard_catalog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.shard_catalog() TO plum_reader;
