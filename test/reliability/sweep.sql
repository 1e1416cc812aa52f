-- test/reliability/sweep.sql — the bad-input sweep's database and function.
--
-- Data in two companies through plum's API, then sweep.run(fn): for one public plum
-- function (one plum_app or plum_admin may execute), a call per argument per bad value of
-- that argument's type (NULL, boundaries, absurd values, long strings, control characters,
-- malformed literals, empty arrays and arrays with NULLs or duplicates, the other company's
-- ids), the other arguments valid.  Each call runs in its own subtransaction and is always
-- rolled back; its outcome (ok or the SQLSTATE) goes to sweep.result.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION plum;
CREATE SCHEMA sweep;
SET plum.now = '2030-01-01 00:00:00+00';

-- good (company 1) and other-tenant (company 2) objects, by argument name
CREATE TABLE sweep.obj (name text PRIMARY KEY, good text NOT NULL, other text NOT NULL);
CREATE FUNCTION sweep.tenant(n integer) RETURNS TABLE(name text, val text) LANGUAGE plpgsql AS $$
DECLARE
	c bigint; a bigint; k bigint; kl bigint; kp bigint; it bigint; r bigint; code plum.code; tok text := NULL;
BEGIN
	c := plum.create_company('Sweep ' || n, CASE n WHEN 1 THEN 'USD' ELSE 'EUR' END);
	a := plum.add_admin(c, format('boss%s@sweep.test', n)::plum.recipient, 'super_admin', 1000000);
	PERFORM plum.add_admin(c, format('clerk%s@sweep.test', n)::plum.recipient, 'admin', 1000);
	PERFORM plum.create_points(a, 100000);
	PERFORM plum.give_points(a, 'good@sweep.test', 500);
	r := plum.redeem_points(c, 'good@sweep.test', 20, 'sweep');
	k := plum.create_campaign(a, 'codes', 'codes', '2031-01-01 00:00+00');
	kp := plum.create_campaign(a, 'points', 'points');
	it := plum.add_item(c, 'gift_card', 'Brand', 'Card', 'food', min_value => 5, max_value => 100);
	code := plum.issue_codes(a, k, 10, 1);
	PERFORM plum.issue_codes(a, k, 50, 2);
	IF to_regprocedure('plum.create_link(bigint, bigint, numeric, plum.recipient)') IS NOT NULL THEN
		kl := plum.create_campaign(a, 'links', 'links');
		EXECUTE 'SELECT plum.create_link($1, $2, 25)' INTO tok USING a, kl;
	END IF;
	RETURN QUERY VALUES ('company_id', c::text), ('admin_id', a::text), ('by_admin', a::text),
		('campaign_id', coalesce(kl, k)::text), ('item_id', it::text), ('redemption_id', r::text),
		('code', code::text), ('token', coalesce(tok, 'no-such-token'));
END
$$;
INSERT INTO sweep.obj SELECT g.name, g.val, o.val FROM sweep.tenant(1) g JOIN sweep.tenant(2) o USING (name);

-- the values each argument gets: literal SQL expressions (the caller casts them to the argument's type)
CREATE FUNCTION sweep.bad_values(typ text, argname text, fn text) RETURNS SETOF text LANGUAGE sql STABLE AS $$
	SELECT 'NULL'
	UNION ALL
	SELECT v FROM unnest(CASE
		WHEN typ IN ('bigint') THEN ARRAY['0', '-1', '9223372036854775807', '(-9223372036854775808)',
			coalesce((SELECT other FROM sweep.obj WHERE name = argname), '2')]
		WHEN typ IN ('integer') THEN ARRAY['0', '-1', '2147483647', '(-2147483648)']
		WHEN typ IN ('smallint') THEN ARRAY['0', '-1', '32767', '(-32768)']
		WHEN typ = 'numeric' THEN ARRAY['0', '-1', '1e-10', '0.001', '1e30', '''NaN''', '''Infinity''', '''-Infinity''',
			'1e-1000', '99999999999999999.99']
		WHEN typ IN ('text', 'cstring') THEN ARRAY['''''', 'repeat(''x'', 10000)', 'E''\x01\x02\t\n\r\x7f''', '''a''''b"c\\d%s{}''',
			'''ü☃😀''', '''  ''']
			|| CASE WHEN fn LIKE 'code\_%' OR argname = 'code' THEN ARRAY['''0000-0000-0000-0''', '''XXXX''', '''7K3M-Q9XA-2BCD-S-''']
				WHEN fn LIKE 'wallet\_%' THEN ARRAY['''{}''', '''{(1,x)}''', '''[]''']
				ELSE ARRAY['''@''', '''a@''', '''+''', '''+1'''] END
		WHEN typ = 'plum.recipient' THEN ARRAY['''''', '''not an email''', '''@b.test''', '''a@''', '''+''', '''+12''',
			'''+1234567890123456789''', 'repeat(''a'', 10000) || ''@b.test''', 'E''a\x01@b.test''', '''a b@c.test''',
			'''other@sweep.test''']
		WHEN typ = 'plum.code' THEN ARRAY['''''', '''XXXX''', '''0000-0000-0000-0''', 'repeat(''A'', 10000)', 'E''\x01''',
			'plum_internal.code_random()', (SELECT quote_literal(other) FROM sweep.obj WHERE name = 'code')]
		WHEN typ = 'plum.code[]' THEN ARRAY['''{}''', '''{NULL}''', '''{bad}''', '''{{1},{2}}''',
			(SELECT format('ARRAY[%L, %L]', good, good) FROM sweep.obj WHERE name = 'code'),
			(SELECT format('ARRAY[%L, NULL]', good) FROM sweep.obj WHERE name = 'code'),
			(SELECT format('ARRAY[%L, %L]', good, other) FROM sweep.obj WHERE name = 'code'),
			'ARRAY(SELECT plum_internal.code_random(10000))']
		WHEN typ = 'plum.recipient[]' THEN ARRAY['''{}''', '''{NULL}''', '''{bad}''', '''{a@b.test,A@B.TEST}''',
			'array_fill(''r@sweep.test''::plum.recipient, ARRAY[10000])', '''[5:5]={a@b.test}''']
		WHEN typ = 'numeric[]' THEN ARRAY['''{}''', '''{NULL}''', '''{-1}''', '''{NaN}''', '''{Infinity}''', '''{1e30}''',
			'''{0.001}''', '''{5,5}''', '''{{5},{10}}''', 'array_fill(1::numeric, ARRAY[10000])']
		WHEN typ = 'interval' THEN ARRAY['''-1 year''', '''0''', '''1 microsecond''', '''178000000 years''', '''-178000000 years''']
		WHEN typ = 'timestamp with time zone' THEN ARRAY['''infinity''', '''-infinity''', '''1900-01-01 00:00+00''',
			'''294276-12-31 00:00+00''', '''4713-01-01 00:00+00 BC''']
		WHEN typ = 'plum.wallet' THEN ARRAY['''{}''', '''{bad}''']
		ELSE ARRAY[]::text[] END) AS v
$$;

-- a valid value for an argument, so that each call exercises one bad argument
CREATE FUNCTION sweep.good_value(typ text, argname text, fn text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT quote_literal(good) FROM sweep.obj WHERE name = argname AND typ IN ('bigint', 'plum.code', 'text')),
		CASE
		WHEN typ = 'bigint' THEN '1'
		WHEN typ IN ('integer', 'smallint') THEN CASE WHEN argname = 'scale' THEN '2' ELSE '1' END
		WHEN typ = 'numeric' THEN CASE WHEN argname IN ('threshold', 'max_grant') THEN '1000' ELSE '10' END
		WHEN typ = 'text' THEN CASE argname WHEN 'base_currency' THEN '''USD''' WHEN 'mode' THEN '''points'''
			WHEN 'role' THEN '''admin''' WHEN 'kind' THEN '''gift_card''' WHEN 'sqlstate' THEN '''PU001''' ELSE '''x''' END
		WHEN typ = 'cstring' THEN CASE WHEN fn LIKE 'code\_%' THEN (SELECT quote_literal(good) FROM sweep.obj WHERE name = 'code')
			WHEN fn LIKE 'wallet\_%' THEN (SELECT quote_literal(lots::text) FROM plum_internal.account LIMIT 1)
			ELSE '''good@sweep.test''' END
		WHEN typ = 'plum.recipient' THEN '''good@sweep.test'''
		WHEN typ = 'plum.code' THEN (SELECT quote_literal(good) FROM sweep.obj WHERE name = 'code')
		WHEN typ = 'plum.code[]' THEN (SELECT format('ARRAY[%L]', good) FROM sweep.obj WHERE name = 'code')
		WHEN typ = 'plum.recipient[]' THEN '''{good@sweep.test}'''
		WHEN typ = 'numeric[]' THEN CASE WHEN argname = 'code_denominations' THEN '''{5,10}''' ELSE '''{10}''' END
		WHEN typ = 'interval' THEN '''1 year'''
		WHEN typ = 'timestamp with time zone' THEN '''2031-01-01 00:00+00'''
		WHEN typ = 'boolean' THEN 'true'
		WHEN typ = 'plum.wallet' THEN '(SELECT lots FROM plum_internal.account LIMIT 1)'
		WHEN typ = 'anyelement' THEN '''x'''
		ELSE 'NULL' END)
$$;

CREATE TABLE sweep.result (fn text, arg integer, argname text, argtype text, value text, outcome text, message text);

-- The public functions: plum's functions plum_app or plum_admin may execute, whose arguments
-- can all be given from SQL (no internal).
CREATE VIEW sweep.target AS
	SELECT p.oid AS fn_oid, p.oid::regprocedure::text AS fn, p.proname::text AS proname,
		(SELECT array_agg(format_type(t, NULL) ORDER BY i) FROM unnest(p.proargtypes) WITH ORDINALITY AS u(t, i)) AS argtypes,
		p.proargnames[1:p.pronargs] AS argnames
	FROM pg_proc p
	WHERE p.pronamespace = 'plum'::regnamespace AND p.prokind = 'f'
		AND (has_function_privilege('plum_app', p.oid, 'EXECUTE') OR has_function_privilege('plum_admin', p.oid, 'EXECUTE'))
		AND NOT 'internal'::regtype = ANY (p.proargtypes::oid[])
		AND p.prorettype <> 'trigger'::regtype;

CREATE FUNCTION sweep.run(target_fn text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	t record;
	i integer;
	v text;
	args text[];
	call text;
	v_state text;
	v_msg text;
	n integer := 0;
BEGIN
	SELECT * INTO STRICT t FROM sweep.target WHERE fn = target_fn;
	FOR i IN 1 .. coalesce(cardinality(t.argtypes), 0) LOOP
		FOR v IN SELECT sweep.bad_values(t.argtypes[i], t.argnames[i], t.proname) LOOP
			args := ARRAY(SELECT CASE WHEN j = i THEN v ELSE sweep.good_value(t.argtypes[j], t.argnames[j], t.proname) END
					|| '::' || CASE WHEN t.argtypes[j] = 'anyelement' THEN 'text' ELSE t.argtypes[j] END
				FROM generate_subscripts(t.argtypes, 1) AS j ORDER BY j);
			-- in the select list (not FROM), so a set-returning function stops at the LIMIT
			call := format('SELECT count(r.x) FROM (SELECT plum.%I(%s) AS x LIMIT 1000) AS r', t.proname, array_to_string(args, ', '));
			BEGIN
				EXECUTE call;
				RAISE SQLSTATE 'RLBK0';		-- roll back what a successful call did
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
			END;
			INSERT INTO sweep.result VALUES (t.fn, i, t.argnames[i], t.argtypes[i], left(v, 80),
				CASE v_state WHEN 'RLBK0' THEN 'ok' ELSE v_state END, CASE WHEN v_state = 'RLBK0' THEN NULL ELSE left(v_msg, 200) END);
			n := n + 1;
		END LOOP;
	END LOOP;
	IF coalesce(cardinality(t.argtypes), 0) = 0 THEN
		BEGIN
			EXECUTE format('SELECT count(r.x) FROM (SELECT plum.%I() AS x LIMIT 1000) AS r', t.proname);
			RAISE SQLSTATE 'RLBK0';
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
		END;
		INSERT INTO sweep.result VALUES (t.fn, 0, NULL, NULL, NULL, CASE v_state WHEN 'RLBK0' THEN 'ok' ELSE v_state END, left(v_msg, 200));
		n := n + 1;
	END IF;
	RETURN n;
END
$$;

-- a checksum of every plum table (the extension's tables, wherever they live: plum_internal since
-- 0.2.0); an extension without tables is an error, so the check can never compare two empty sums
CREATE FUNCTION sweep.checksum() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	s text := '';
	h text;
	n integer := 0;
BEGIN
	FOR r IN SELECT c.oid::regclass AS t FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
			AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
		JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'plum'
		WHERE c.relkind = 'r' ORDER BY 1 LOOP
		EXECUTE format('SELECT md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x', E'\n', '', r.t) INTO h;
		s := s || r.t || '=' || h || ' ';
		n := n + 1;
	END LOOP;
	IF n = 0 THEN
		RAISE EXCEPTION 'sweep.checksum(): the plum extension has no tables';
	END IF;
	RETURN n || ' tables ' || md5(s);
END
$$;
