
-- ---------------------------------------------------------------------------------------------
-- plum_proxy: routing (see 00_head.sql)
--
-- Every function of schema plum here is a thin SQL function that calls plum_internal.px_call()
-- with the shard its arguments name (a company id, or any id: id % 16; a code: its 4 high bits;
-- a link token: its first symbol), the plum function's signature and its arguments as text.
-- px_call() reaches the shard through PL/Proxy (one autocommit transaction there), where
-- plum.shard_call() runs the function as the same role and returns its rows as jsonb, or a
-- refusal as data (so PL/Proxy keeps its connection); px_call() raises that refusal here with the
-- same SQLSTATE, message, detail and hint, and turns a shard that cannot be reached into 08006.
-- The shard number is mapped to a partition as PL/Proxy does: number & (partitions - 1).
-- ---------------------------------------------------------------------------------------------

-- the proxy's callers reach the routing functions (they run as the caller, so that the shard
-- sees the caller's own role and confines it there)
GRANT USAGE ON SCHEMA plum_internal TO plum_reader;

CREATE FUNCTION plum_internal.raise(sqlstate text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL) RETURNS void
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_raise';
COMMENT ON FUNCTION plum_internal.raise(text, text, text, text) IS
	'Internal: raise an error with a SQLSTATE, message, detail and hint, without a CONTEXT (plum''s own).';

CREATE FUNCTION plum_internal.shard_count() RETURNS integer
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT count(*)::integer FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o
	WHERE s.srvname = 'plum_shards' AND o.option_name ~ '^p[0-9]+$'
$$;
COMMENT ON FUNCTION plum_internal.shard_count() IS 'How many partitions (options p0, p1, ...) the foreign server plum_shards has.';

CREATE FUNCTION plum_internal.id_shard(id bigint) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT (id & 15)::integer $$;
COMMENT ON FUNCTION plum_internal.id_shard(bigint) IS 'The shard an id was handed out by: id % 16 (plum.configure_shard).';

CREATE FUNCTION plum_internal.ids_shard(ids bigint[]) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT (i & 15)::integer FROM unnest(ids) AS u(i) WHERE i IS NOT NULL LIMIT 1 $$;
COMMENT ON FUNCTION plum_internal.ids_shard(bigint[]) IS 'The shard of the first id of an array (a call''s ids all belong to one company).';

CREATE FUNCTION plum_internal.codes_shard(codes plum.code[]) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT plum_internal.code_shard(c) FROM unnest(codes) AS u(c) WHERE c IS NOT NULL LIMIT 1 $$;
COMMENT ON FUNCTION plum_internal.codes_shard(plum.code[]) IS 'The shard of the first code of an array (a call''s codes all belong to one company).';

CREATE FUNCTION plum_internal.token_shard(token text) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT CASE WHEN p > 0 THEN (p - 1) & 15 ELSE 0 END
	FROM strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', left(token, 1)) AS p
$$;
COMMENT ON FUNCTION plum_internal.token_shard(text) IS 'The shard a link token was made on: the low 4 bits of its first base64url symbol.';

CREATE SEQUENCE plum_internal.company_spread;
COMMENT ON SEQUENCE plum_internal.company_spread IS 'Round robin of plum.create_company over the shards.';
GRANT USAGE ON SEQUENCE plum_internal.company_spread TO plum_reader;

CREATE FUNCTION plum_internal.next_shard() RETURNS integer
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT (nextval('plum_internal.company_spread') % greatest(plum_internal.shard_count(), 1))::integer $$;
COMMENT ON FUNCTION plum_internal.next_shard() IS 'The shard of the next new company: round robin over the partitions.';

-- PL/Proxy: one shard, every shard, a view of every shard, and a shard's catalog
CREATE FUNCTION plum_internal.remote_call(shard integer, fn text, args text[], clock text)
	RETURNS TABLE(result jsonb, state text, message text, detail text, hint text)
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON shard;
	TARGET plum.shard_call;
$$;
COMMENT ON FUNCTION plum_internal.remote_call(integer, text, text[], text) IS 'PL/Proxy: plum.shard_call() on the partition shard & (partitions - 1).';

CREATE FUNCTION plum_internal.remote_all(shard integer, fn text, args text[], clock text)
	RETURNS TABLE(result jsonb, state text, message text, detail text, hint text)
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON ALL;
	TARGET plum.shard_call;
$$;
COMMENT ON FUNCTION plum_internal.remote_all(integer, text, text[], text) IS 'PL/Proxy: plum.shard_call() on every partition, in parallel (shard is -1: no routing check).';

CREATE FUNCTION plum_internal.remote_view(shard integer, view text, clock text) RETURNS SETOF jsonb
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON ALL;
	TARGET plum.shard_view;
$$;
COMMENT ON FUNCTION plum_internal.remote_view(integer, text, text) IS 'PL/Proxy: the rows of a view of plum on every partition, in parallel.';

CREATE FUNCTION plum_internal.remote_catalog(shard integer) RETURNS SETOF jsonb
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON shard;
	SELECT c AS remote_catalog FROM plum.shard_catalog() AS c;
$$;
COMMENT ON FUNCTION plum_internal.remote_catalog(integer) IS 'PL/Proxy: plum.shard_catalog() of one partition (what CREATE EXTENSION plum_proxy builds schema plum from).';

-- the error for a shard that cannot be reached (or a gather, when one of them cannot)
CREATE FUNCTION plum_internal.unreachable(shard integer, state text, message text) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.raise('08006',
		CASE WHEN shard IS NULL THEN 'a shard is unreachable'
			ELSE format('shard p%s is unreachable', shard & (greatest(plum_internal.shard_count(), 1) - 1)) END,
		format('PL/Proxy: %s', rtrim(message, E'\n ')),
		'Only the companies of that shard are affected. Retry later with the same idempotency_key: a call in flight when the shard failed may or may not have committed there.');
END
$$;
COMMENT ON FUNCTION plum_internal.unreachable(integer, text, text) IS 'Raise 08006 for a shard that cannot be reached (never XX000), with the partition and PL/Proxy''s own message.';

-- Call a plum function on its shard (shard NULL: on every shard when gather, else on shard 0,
-- where the missing argument is refused as on one server); its rows as jsonb.
CREATE FUNCTION plum_internal.px_call(shard integer, fn text, args text[], gather boolean) RETURNS SETOF jsonb
	LANGUAGE C VOLATILE
	AS 'MODULE_PATHNAME', 'plum_px_call';
COMMENT ON FUNCTION plum_internal.px_call(integer, text, text[], boolean) IS
	'Run the plum function fn (its signature) with args on shard (NULL: every shard when gather, else shard 0), with this session''s plum.now; returns its rows as jsonb; raises a refusal with its own SQLSTATE, message, detail and hint, and 08006 for a shard that cannot be reached.';

CREATE FUNCTION plum_internal.px_view(view text) RETURNS SETOF jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v_state text;
	v_message text;
BEGIN
	RETURN QUERY SELECT * FROM plum_internal.remote_view(-1, view, nullif(current_setting('plum.now', true), ''));
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
	IF v_state ~ '^(08|XX|57|58|53)' THEN
		PERFORM plum_internal.unreachable(NULL, v_state, v_message);
	END IF;
	RAISE;
END
$$;
COMMENT ON FUNCTION plum_internal.px_view(text) IS 'The rows of the view plum.<view> of every shard, as jsonb (08006 when a shard cannot be reached).';

REVOKE EXECUTE ON FUNCTION plum_internal.remote_call(integer, text, text[], text), plum_internal.remote_all(integer, text, text[], text),
	plum_internal.remote_view(integer, text, text), plum_internal.remote_catalog(integer), plum_internal.px_call(integer, text, text[], boolean),
	plum_internal.px_view(text), plum_internal.next_shard(), plum_internal.unreachable(integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum_internal.remote_call(integer, text, text[], text), plum_internal.remote_all(integer, text, text[], text),
	plum_internal.remote_view(integer, text, text), plum_internal.px_call(integer, text, text[], boolean),
	plum_internal.px_view(text), plum_internal.next_shard(), plum_internal.unreachable(integer, text, text) TO plum_reader;

CREATE FUNCTION plum.shard_of(company_id bigint) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT o.option_value FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o
	WHERE s.srvname = 'plum_shards'
		AND o.option_name = 'p' || (plum_internal.id_shard(shard_of.company_id) & (greatest(plum_internal.shard_count(), 1) - 1))
$$;
COMMENT ON FUNCTION plum.shard_of(bigint) IS
	'The connection string of the shard that holds company_id (the option p<N> of the foreign server plum_shards). Connect there directly when a plum call must commit with your own transaction: a call through the proxy commits on its shard by itself.';
GRANT EXECUTE ON FUNCTION plum.shard_of(bigint) TO plum_reader;

-- Build schema plum from the catalog of shard p0: the composite types, then every function (a
-- local C function where plum's is one and needs no shard: plum.now, plum.qr_svg), then the views.
DO $generate$
DECLARE
	v_catalog jsonb[];
	d jsonb;
	v_names text[];
	v_types text[];
	v_route text;
	v_gather boolean;
	v_args text;
	v_call text;
	v_body text;
	v_grantee text;
	i integer;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_foreign_server WHERE srvname = 'plum_shards') THEN
		PERFORM plum_internal.raise('55000', 'the foreign server plum_shards does not exist',
			'plum_proxy builds its functions from the catalog of the shard p0.',
			'CREATE SERVER plum_shards FOREIGN DATA WRAPPER plproxy OPTIONS (p0 ''<conninfo>'', ...); CREATE USER MAPPING FOR PUBLIC SERVER plum_shards; then CREATE EXTENSION plum_proxy.');
	END IF;
	v_catalog := ARRAY(SELECT c FROM plum_internal.remote_catalog(0) AS c);

	FOR d IN SELECT c.d FROM unnest(v_catalog) AS c(d) WHERE c.d->>'kind' = 'type' ORDER BY c.d->>'name' LOOP
		EXECUTE format('CREATE TYPE plum.%I AS (%s)', d->>'name', d->>'columns');
		EXECUTE format('COMMENT ON TYPE plum.%I IS %L', d->>'name', d->>'comment');
	END LOOP;

	FOR d IN SELECT c.d FROM unnest(v_catalog) AS c(d) WHERE c.d->>'kind' = 'function' ORDER BY c.d->>'name', c.d->>'identity' LOOP
		d := jsonb_strip_nulls(d);
		CONTINUE WHEN to_regprocedure(d->>'signature') IS NOT NULL;	-- from plum's type files (recipient_kind)
		v_names := ARRAY(SELECT jsonb_array_elements_text(coalesce(d->'argnames', '[]')));
		v_types := ARRAY(SELECT jsonb_array_elements_text(coalesce(d->'argtypes', '[]')));
		IF d->>'language' = 'c' AND d->>'volatility' <> 'v'
			AND NOT EXISTS (SELECT FROM unnest(v_types) t WHERE t ~ '^plum\.') THEN
			-- plum's own C function, computed here (no data: the clock, a QR code)
			EXECUTE format('CREATE FUNCTION plum.%I(%s) RETURNS %s LANGUAGE C %s %s PARALLEL SAFE AS %L, %L',
				d->>'name', d->>'arguments', d->>'result',
				CASE d->>'volatility' WHEN 'i' THEN 'IMMUTABLE' ELSE 'STABLE' END,
				CASE WHEN (d->>'strict')::boolean THEN 'STRICT' ELSE '' END,
				'$libdir/plum', d->>'symbol');
		ELSE
			v_route := NULL;
			FOR i IN 1 .. coalesce(array_length(v_types, 1), 0) LOOP
				v_route := CASE
					WHEN v_types[i] = 'bigint' AND (v_names[i] ~ '_id$' OR v_names[i] = 'by_admin') THEN format('plum_internal.id_shard($%s)', i)
					WHEN v_types[i] = 'bigint[]' AND v_names[i] ~ '_ids$' THEN format('plum_internal.ids_shard($%s)', i)
					WHEN v_types[i] = 'plum.code' THEN format('plum_internal.code_shard($%s)', i)
					WHEN v_types[i] = 'plum.code[]' THEN format('plum_internal.codes_shard($%s)', i)
					WHEN v_types[i] = 'text' AND v_names[i] = 'token' THEN format('plum_internal.token_shard($%s)', i)
				END;
				EXIT WHEN v_route IS NOT NULL;
			END LOOP;
			IF v_types[1] = 'regrole' THEN
				v_route := NULL;		-- grants and revocations: on every shard, so a role is confined everywhere
			END IF;
			v_gather := (d->>'retset')::boolean OR v_route IS NULL;
			IF v_route IS NULL AND d->>'name' = 'create_company' THEN
				v_route := 'plum_internal.next_shard()';
				v_gather := false;
			END IF;
			SELECT coalesce('ARRAY[' || string_agg(format('$%s::text', n), ', ' ORDER BY n) || ']', 'ARRAY[]::text[]')
				INTO v_args FROM generate_series(1, coalesce(array_length(v_types, 1), 0)) n;
			v_call := format('plum_internal.px_call(%s, %L, %s, %s) AS j', coalesce(v_route, 'NULL'), d->>'signature', v_args, CASE WHEN v_gather THEN 'true' ELSE 'false' END);
			v_body := CASE d->>'shape'
				WHEN 'void' THEN format('SELECT FROM %s', v_call)
				WHEN 'record' THEN format('SELECT x.* FROM %s, pg_catalog.jsonb_to_record(j) AS x(%s)', v_call, d->>'columns')
				WHEN 'composite' THEN format('SELECT x.* FROM %s, pg_catalog.jsonb_populate_record(NULL::%s, j) AS x', v_call, d->>'rettype')
				ELSE CASE WHEN v_gather AND NOT (d->>'retset')::boolean AND d->>'rettype' IN ('numeric', 'integer', 'bigint')
					THEN format('SELECT coalesce(pg_catalog.sum((j OPERATOR(pg_catalog.#>>) ''{}'')::%s), 0)::%s FROM %s', d->>'rettype', d->>'rettype', v_call)
					ELSE format('SELECT (j OPERATOR(pg_catalog.#>>) ''{}'')::%s FROM %s', d->>'rettype', v_call) END
			END;
			-- PL/pgSQL keeps its plan across calls (a SQL function would plan its query at every
			-- call); every name in the body is qualified, and it runs as the caller
			v_body := CASE
				-- an argument named like a result column (verify's company_id): PL/pgSQL refuses it
				WHEN EXISTS (SELECT FROM unnest(v_names) AS u(n)
					WHERE n <> '' AND (', ' || coalesce(d->>'columns', '')) LIKE '%, ' || quote_ident(n) || ' %') THEN NULL
				WHEN d->>'shape' = 'void' THEN format('BEGIN PERFORM FROM (%s) AS done; END', v_body)
				WHEN (d->>'retset')::boolean THEN format('BEGIN RETURN QUERY %s; END', v_body)
				WHEN d->>'shape' = 'scalar' THEN format('BEGIN RETURN (%s LIMIT 1); END', v_body)
			END;
			EXECUTE format('CREATE FUNCTION plum.%I(%s) RETURNS %s LANGUAGE %s %s %s AS %L',
				d->>'name', d->>'arguments', d->>'result',
				CASE WHEN v_body IS NULL THEN 'sql' ELSE 'plpgsql' END,
				CASE d->>'volatility' WHEN 'v' THEN 'VOLATILE' ELSE 'STABLE' END,
				CASE WHEN (d->>'strict')::boolean THEN 'STRICT' ELSE '' END,
				coalesce(v_body, CASE d->>'shape'
					WHEN 'record' THEN format('SELECT x.* FROM %s, jsonb_to_record(j) AS x(%s)', v_call, d->>'columns')
					ELSE format('SELECT x.* FROM %s, jsonb_populate_record(NULL::%s, j) AS x', v_call, d->>'rettype') END));
		END IF;
		EXECUTE format('COMMENT ON FUNCTION %s IS %L', d->>'signature', d->>'comment');
		IF NOT (d->>'public')::boolean THEN
			EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', d->>'signature');
		END IF;
		FOR v_grantee IN SELECT jsonb_array_elements_text(coalesce(d->'grants', '[]')) LOOP
			EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', d->>'signature', v_grantee);
		END LOOP;
	END LOOP;

	FOR d IN SELECT c.d FROM unnest(v_catalog) AS c(d) WHERE c.d->>'kind' = 'view' ORDER BY c.d->>'name' LOOP
		d := jsonb_strip_nulls(d);
		EXECUTE format('CREATE VIEW plum.%I AS SELECT x.* FROM plum_internal.px_view(%L) AS j, jsonb_to_record(j) AS x(%s)',
			d->>'name', d->>'name', d->>'columns');
		EXECUTE format('COMMENT ON VIEW plum.%I IS %L', d->>'name', 'Gathered from every shard: ' || coalesce(d->>'comment', ''));
		FOR v_grantee IN SELECT DISTINCT g->>'grantee' FROM jsonb_array_elements(coalesce(d->'grants', '[]')) AS g WHERE g->>'privilege' = 'SELECT' LOOP
			EXECUTE format('GRANT SELECT ON plum.%I TO %s', d->>'name', v_grantee);
		END LOOP;
	END LOOP;

	-- PL/Proxy connects as the caller, who needs the server
	GRANT USAGE ON FOREIGN SERVER plum_shards TO plum_reader;
END
$generate$;
