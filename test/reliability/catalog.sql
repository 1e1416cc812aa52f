-- test/reliability/catalog.sql — a normalised, sorted description of everything extension plum
-- owns and everything in schemas plum and plum_internal, one text line per fact (a function's or a
-- view's definition: one line per source line, in order).  No OIDs: objects are named, schema-
-- qualified.  Two databases with the same plum objects print the same text, whatever the order in
-- which the objects were made (a fresh CREATE EXTENSION against an upgraded one: upgrade.sh).
--
--   psql -X -A -t -q -v ON_ERROR_STOP=1 -d DB -f test/reliability/catalog.sql
--
-- Covers: schemas, functions (attributes, argument names and defaults, result, body), relations
-- (kind, options, owner), columns of tables, views and composite types (position, type, not null,
-- default, generated, identity, collation), view definitions, indexes, constraints, triggers,
-- rules, policies, sequences (parameters, OWNED BY), types (I/O functions, storage, domains,
-- enums), casts, operators, operator classes and families with their members, comments on every
-- object and column, ACLs (schemas, functions, relations, columns, types), pg_init_privs, default
-- ACLs, extension membership and pg_extension_config_dump registrations.
-- Not covered: data, sequence values, statistics.  Options named pg_* (set by the server itself,
-- not by plum's scripts, and different in every database) are left out.

-- every name below prints schema-qualified (outside pg_catalog)
SET search_path = pg_catalog;
SET client_min_messages = warning;

WITH
ext AS (SELECT e.oid FROM pg_extension e WHERE e.extname = 'plum'),
nsp AS (SELECT n.oid FROM pg_namespace n WHERE n.nspname IN ('plum', 'plum_internal')),
member AS (
	SELECT d.classid, d.objid FROM pg_depend d
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid IN (SELECT oid FROM ext) AND d.deptype = 'e'),
-- the objects in scope, by catalog
fn AS (
	SELECT p.oid FROM pg_proc p
	WHERE p.pronamespace IN (SELECT oid FROM nsp)
		OR p.oid IN (SELECT objid FROM member WHERE classid = 'pg_proc'::regclass)),
rel AS (
	SELECT c.oid FROM pg_class c
	WHERE c.relnamespace IN (SELECT oid FROM nsp)
		OR c.oid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)),
typ AS (
	SELECT t.oid FROM pg_type t
	WHERE t.typnamespace IN (SELECT oid FROM nsp)
		OR t.oid IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass)),
opr AS (
	SELECT o.oid FROM pg_operator o
	WHERE o.oprnamespace IN (SELECT oid FROM nsp)
		OR o.oid IN (SELECT objid FROM member WHERE classid = 'pg_operator'::regclass)),
opf AS (
	SELECT f.oid FROM pg_opfamily f
	WHERE f.opfnamespace IN (SELECT oid FROM nsp)
		OR f.oid IN (SELECT objid FROM member WHERE classid = 'pg_opfamily'::regclass)),
opc AS (
	SELECT c.oid FROM pg_opclass c
	WHERE c.opcnamespace IN (SELECT oid FROM nsp)
		OR c.oid IN (SELECT objid FROM member WHERE classid = 'pg_opclass'::regclass)),
con AS (
	SELECT c.oid FROM pg_constraint c
	WHERE c.connamespace IN (SELECT oid FROM nsp) OR c.conrelid IN (SELECT oid FROM rel)
		OR c.contypid IN (SELECT oid FROM typ)),
trg AS (SELECT t.oid FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rel) AND NOT t.tgisinternal),
rul AS (SELECT r.oid FROM pg_rewrite r WHERE r.ev_class IN (SELECT oid FROM rel)),
pol AS (SELECT p.oid FROM pg_policy p WHERE p.polrelid IN (SELECT oid FROM rel)),
cst AS (
	SELECT c.oid FROM pg_cast c
	WHERE c.castsource IN (SELECT oid FROM typ) OR c.casttarget IN (SELECT oid FROM typ)
		OR c.castfunc IN (SELECT oid FROM fn)
		OR c.oid IN (SELECT objid FROM member WHERE classid = 'pg_cast'::regclass)),
-- every object in scope as (classid, objid), for comments and initial privileges
obj AS (
	SELECT 'pg_namespace'::regclass AS classid, oid AS objid FROM nsp
	UNION SELECT 'pg_extension'::regclass, oid FROM ext
	UNION SELECT 'pg_proc'::regclass, oid FROM fn
	UNION SELECT 'pg_class'::regclass, oid FROM rel
	UNION SELECT 'pg_type'::regclass, oid FROM typ
	UNION SELECT 'pg_operator'::regclass, oid FROM opr
	UNION SELECT 'pg_opfamily'::regclass, oid FROM opf
	UNION SELECT 'pg_opclass'::regclass, oid FROM opc
	UNION SELECT 'pg_constraint'::regclass, oid FROM con
	UNION SELECT 'pg_trigger'::regclass, oid FROM trg
	UNION SELECT 'pg_rewrite'::regclass, oid FROM rul
	UNION SELECT 'pg_policy'::regclass, oid FROM pol
	UNION SELECT 'pg_cast'::regclass, oid FROM cst
	UNION SELECT classid, objid FROM member),
-- lines: k sorts the objects, n the lines of one object's definition
d(k, n, t) AS (
	-- the extension itself
	SELECT 'extension', 0, format('extension %s version=%s schema=%s relocatable=%s',
		e.extname, e.extversion, e.extnamespace::regnamespace, e.extrelocatable)
	FROM pg_extension e WHERE e.oid IN (SELECT oid FROM ext)
	-- its members and its pg_dump registrations
	UNION ALL
	SELECT 'member', 0, 'member ' || pg_describe_object(m.classid, m.objid, 0) FROM member m
	UNION ALL
	SELECT 'extconfig', 0, format('extconfig %s condition=%L', c.cfg::regclass, c.cond)
	FROM pg_extension e,
		unnest(e.extconfig, coalesce(e.extcondition, array_fill(NULL::text, ARRAY[cardinality(e.extconfig)]))) AS c(cfg, cond)
	WHERE e.oid IN (SELECT oid FROM ext)
	-- schemas
	UNION ALL
	SELECT 'schema ' || n.nspname, 0, format('schema %s owner=%s', n.nspname, n.nspowner::regrole)
	FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM nsp)
	-- functions: attributes, then pg_get_functiondef's text line by line (arguments with names and
	-- defaults, result, language, volatility, strictness, security, parallel, cost, rows, SET, body)
	UNION ALL
	SELECT 'function ' || p.oid::regprocedure, 0,
		format('function %s kind=%s lang=%s volatile=%s strict=%s secdef=%s leakproof=%s parallel=%s cost=%s rows=%s config=%s owner=%s',
			p.oid::regprocedure, p.prokind, l.lanname, p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof,
			p.proparallel, p.procost, p.prorows, coalesce(array_to_string(p.proconfig, ','), '-'), p.proowner::regrole)
	FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid IN (SELECT oid FROM fn)
	UNION ALL
	SELECT 'function ' || p.oid::regprocedure, s.n::integer, format('function %s def %s: %s', p.oid::regprocedure, lpad(s.n::text, 4, '0'), s.line)
	FROM pg_proc p, regexp_split_to_table(pg_get_functiondef(p.oid), E'\n') WITH ORDINALITY AS s(line, n)
	WHERE p.oid IN (SELECT oid FROM fn) AND p.prokind <> 'a'
	UNION ALL
	SELECT 'function ' || a.aggfnoid::regprocedure, 0,
		format('aggregate %s sfunc=%s stype=%s finalfunc=%s combinefunc=%s initcond=%s sortop=%s',
			a.aggfnoid::regprocedure, a.aggtransfn, a.aggtranstype::regtype, a.aggfinalfn, a.aggcombinefn,
			coalesce(a.agginitval, '-'), a.aggsortop::regoperator)
	FROM pg_aggregate a WHERE a.aggfnoid IN (SELECT oid FROM fn)
	-- relations (tables, views, sequences, indexes, composite types)
	UNION ALL
	SELECT 'relation ' || c.oid::regclass, 0,
		format('relation %s kind=%s persistence=%s owner=%s options=%s rowsecurity=%s/%s replident=%s partition=%s',
			c.oid::regclass, c.relkind, c.relpersistence, c.relowner::regrole,
			coalesce((SELECT string_agg(o, ',' ORDER BY o) FROM unnest(c.reloptions) AS o WHERE o NOT LIKE 'pg\_%'), '-'),
			c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.relispartition)
	FROM pg_class c WHERE c.oid IN (SELECT oid FROM rel)
	-- columns, with their position among the live columns
	UNION ALL
	SELECT 'relation ' || a.attrelid::regclass, 1,
		format('column %s.%s position=%s type=%s notnull=%s default=%s generated=%s identity=%s collation=%s storage=%s options=%s',
			a.attrelid::regclass, quote_ident(a.attname),
			row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
			format_type(a.atttypid, a.atttypmod), a.attnotnull,
			coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-'), nullif(a.attgenerated, '') IS NOT NULL,
			coalesce(nullif(a.attidentity, ''), '-'),
			CASE WHEN a.attcollation = t.typcollation THEN 'default' ELSE a.attcollation::regcollation::text END,
			a.attstorage,
			coalesce((SELECT string_agg(o, ',' ORDER BY o) FROM unnest(a.attoptions) AS o WHERE o NOT LIKE 'pg\_%'), '-'))
	FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
	JOIN pg_type t ON t.oid = a.atttypid
	LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	WHERE a.attrelid IN (SELECT oid FROM rel) AND a.attnum > 0 AND NOT a.attisdropped
	-- view definitions, line by line
	UNION ALL
	SELECT 'relation ' || c.oid::regclass, 1 + s.n::integer, format('view %s def %s: %s', c.oid::regclass, lpad(s.n::text, 4, '0'), s.line)
	FROM pg_class c, regexp_split_to_table(pg_get_viewdef(c.oid), E'\n') WITH ORDINALITY AS s(line, n)
	WHERE c.oid IN (SELECT oid FROM rel) AND c.relkind IN ('v', 'm')
	-- indexes
	UNION ALL
	SELECT 'relation ' || i.indexrelid::regclass, 0,
		format('index %s primary=%s unique=%s: %s', i.indexrelid::regclass, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid))
	FROM pg_index i WHERE i.indexrelid IN (SELECT oid FROM rel)
	-- constraints of tables and domains
	UNION ALL
	SELECT 'constraint', 0,
		format('constraint %s on %s type=%s validated=%s: %s', quote_ident(c.conname),
			coalesce(nullif(c.conrelid, 0)::regclass::text, 'domain ' || nullif(c.contypid, 0)::regtype::text),
			c.contype, c.convalidated, pg_get_constraintdef(c.oid))
	FROM pg_constraint c WHERE c.oid IN (SELECT oid FROM con)
	-- triggers, rules (not a view's own), policies
	UNION ALL
	SELECT 'trigger', 0, format('trigger %s on %s enabled=%s: %s', quote_ident(t.tgname), t.tgrelid::regclass, t.tgenabled, pg_get_triggerdef(t.oid))
	FROM pg_trigger t WHERE t.oid IN (SELECT oid FROM trg)
	UNION ALL
	SELECT 'rule', 0, format('rule %s on %s: %s', quote_ident(r.rulename), r.ev_class::regclass, pg_get_ruledef(r.oid))
	FROM pg_rewrite r WHERE r.oid IN (SELECT oid FROM rul) AND r.rulename <> '_RETURN'
	UNION ALL
	SELECT 'policy', 0, format('policy %s on %s cmd=%s permissive=%s roles=%s using=%s check=%s', quote_ident(p.polname),
		p.polrelid::regclass, p.polcmd, p.polpermissive,
		(SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY 1) FROM unnest(p.polroles) AS r),
		coalesce(pg_get_expr(p.polqual, p.polrelid), '-'), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-'))
	FROM pg_policy p WHERE p.oid IN (SELECT oid FROM pol)
	-- sequences: parameters and OWNED BY
	UNION ALL
	SELECT 'relation ' || s.seqrelid::regclass, 0,
		format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',
			s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
			coalesce((SELECT string_agg(format('%s.%s', d.refobjid::regclass, quote_ident(a.attname)), ',')
				FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
				WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.refclassid = 'pg_class'::regclass
					AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0), '-'))
	FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rel)
	-- types: I/O and storage, domains, enums
	UNION ALL
	SELECT 'type ' || t.oid::regtype, 0,
		format('type %s type=%s category=%s preferred=%s len=%s byval=%s align=%s storage=%s delim=%s elem=%s array=%s '
			'in=%s out=%s recv=%s send=%s modin=%s modout=%s analyze=%s subscript=%s basetype=%s notnull=%s default=%s collation=%s owner=%s',
			t.oid::regtype, t.typtype, t.typcategory, t.typispreferred, t.typlen, t.typbyval, t.typalign, t.typstorage, t.typdelim,
			nullif(t.typelem, 0)::regtype, nullif(t.typarray, 0)::regtype, t.typinput, t.typoutput, t.typreceive, t.typsend,
			t.typmodin, t.typmodout, t.typanalyze, t.typsubscript, nullif(t.typbasetype, 0)::regtype, t.typnotnull,
			coalesce(t.typdefault, '-'), nullif(t.typcollation, 0)::regcollation, t.typowner::regrole)
	FROM pg_type t WHERE t.oid IN (SELECT oid FROM typ)
	UNION ALL
	SELECT 'type ' || e.enumtypid::regtype, 1, format('enum %s label %s: %s', e.enumtypid::regtype,
		row_number() OVER (PARTITION BY e.enumtypid ORDER BY e.enumsortorder), e.enumlabel)
	FROM pg_enum e WHERE e.enumtypid IN (SELECT oid FROM typ)
	-- casts
	UNION ALL
	SELECT 'cast', 0, format('cast (%s AS %s) function=%s context=%s method=%s',
		c.castsource::regtype, c.casttarget::regtype, coalesce(nullif(c.castfunc, 0)::regprocedure::text, '-'), c.castcontext, c.castmethod)
	FROM pg_cast c WHERE c.oid IN (SELECT oid FROM cst)
	-- operators
	UNION ALL
	SELECT 'operator ' || o.oid::regoperator, 0,
		format('operator %s kind=%s result=%s code=%s commutator=%s negator=%s restrict=%s join=%s merges=%s hashes=%s owner=%s',
			o.oid::regoperator, o.oprkind, o.oprresult::regtype, o.oprcode, nullif(o.oprcom, 0)::regoperator,
			nullif(o.oprnegate, 0)::regoperator, o.oprrest, o.oprjoin, o.oprcanmerge, o.oprcanhash, o.oprowner::regrole)
	FROM pg_operator o WHERE o.oid IN (SELECT oid FROM opr)
	-- operator families and classes, and their members
	UNION ALL
	SELECT 'opfamily', 0, format('opfamily %I.%I using %s owner=%s', n.nspname, f.opfname, am.amname, f.opfowner::regrole)
	FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
	WHERE f.oid IN (SELECT oid FROM opf)
	UNION ALL
	SELECT 'opclass', 0, format('opclass %I.%I using %s for %s family=%I.%I default=%s storage=%s owner=%s',
		n.nspname, c.opcname, am.amname, c.opcintype::regtype, fn_.nspname, f.opfname, c.opcdefault,
		nullif(c.opckeytype, 0)::regtype, c.opcowner::regrole)
	FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod
	JOIN pg_opfamily f ON f.oid = c.opcfamily JOIN pg_namespace fn_ ON fn_.oid = f.opfnamespace
	WHERE c.oid IN (SELECT oid FROM opc)
	UNION ALL
	SELECT 'opfamily', 1, format('amop %I.%I using %s (%s, %s) strategy %s: %s purpose=%s sortfamily=%s',
		n.nspname, f.opfname, am.amname, o.amoplefttype::regtype, o.amoprighttype::regtype, o.amopstrategy,
		o.amopopr::regoperator, o.amoppurpose,
		coalesce((SELECT format('%I.%I', sn.nspname, sf.opfname) FROM pg_opfamily sf JOIN pg_namespace sn ON sn.oid = sf.opfnamespace
			WHERE sf.oid = o.amopsortfamily), '-'))
	FROM pg_amop o JOIN pg_opfamily f ON f.oid = o.amopfamily JOIN pg_namespace n ON n.oid = f.opfnamespace
	JOIN pg_am am ON am.oid = f.opfmethod
	WHERE o.amopfamily IN (SELECT oid FROM opf)
	UNION ALL
	SELECT 'opfamily', 1, format('amproc %I.%I using %s (%s, %s) support %s: %s',
		n.nspname, f.opfname, am.amname, p.amproclefttype::regtype, p.amprocrighttype::regtype, p.amprocnum,
		p.amproc::regprocedure)
	FROM pg_amproc p JOIN pg_opfamily f ON f.oid = p.amprocfamily JOIN pg_namespace n ON n.oid = f.opfnamespace
	JOIN pg_am am ON am.oid = f.opfmethod
	WHERE p.amprocfamily IN (SELECT oid FROM opf)
	-- comments on every object in scope and on every column
	UNION ALL
	SELECT 'comment', 0, format('comment on %s: %s', pg_describe_object(c.classoid, c.objoid, c.objsubid), c.description)
	FROM pg_description c JOIN obj o ON o.classid = c.classoid AND o.objid = c.objoid
	-- privileges: schemas, functions, relations, columns, types (NULL = the built-in default)
	UNION ALL
	SELECT 'acl', 0, format('acl on %s: %s', pg_describe_object(x.classid, x.objid, x.subid),
		coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(x.acl) AS a), 'null'))
	FROM (
		SELECT 'pg_namespace'::regclass AS classid, n.oid AS objid, 0 AS subid, n.nspacl AS acl FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM nsp)
		UNION ALL SELECT 'pg_proc'::regclass, p.oid, 0, p.proacl FROM pg_proc p WHERE p.oid IN (SELECT oid FROM fn)
		UNION ALL SELECT 'pg_class'::regclass, c.oid, 0, c.relacl FROM pg_class c WHERE c.oid IN (SELECT oid FROM rel) AND c.relkind NOT IN ('i', 'I', 'c')
		UNION ALL SELECT 'pg_class'::regclass, a.attrelid, a.attnum, a.attacl FROM pg_attribute a
			WHERE a.attrelid IN (SELECT oid FROM rel) AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
		UNION ALL SELECT 'pg_type'::regclass, t.oid, 0, t.typacl FROM pg_type t WHERE t.oid IN (SELECT oid FROM typ)
	) x
	-- the privileges pg_dump treats as the extension's own (recorded while its scripts run)
	UNION ALL
	SELECT 'init_privs', 0, format('init_privs on %s type=%s: %s', pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype,
		coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(i.initprivs) AS a), 'null'))
	FROM pg_init_privs i JOIN obj o ON o.classid = i.classoid AND o.objid = i.objoid
	UNION ALL
	SELECT 'default_acl', 0, format('default_acl in %s for %s by %s: %s', d.defaclnamespace::regnamespace, d.defaclobjtype,
		d.defaclrole::regrole, (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(d.defaclacl) AS a))
	FROM pg_default_acl d WHERE d.defaclnamespace IN (SELECT oid FROM nsp)
)
SELECT t FROM d ORDER BY k COLLATE "C", n, t COLLATE "C";
