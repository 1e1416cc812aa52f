-- QR codes: plum.qr_svg(text) is a well-formed SVG document of the expected size, deterministic,
-- byte mode over UTF-8 (with the UTF-8 ECI unless all ASCII) at level M; bad input is refused.
-- (test/qr_roundtrip.sh decodes the symbols with zbarimg.)
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
-- attr(svg, path): one attribute of the parsed document (fails if the SVG is not well-formed XML)
CREATE FUNCTION pg_temp.attr(svg text, path text) RETURNS text LANGUAGE sql AS $$
	SELECT (xpath(path, xmlparse(document svg), ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text
$$;
-- runs(svg): the path's rectangles, in order: x, y (quiet zone included), width, and the width drawn back
CREATE FUNCTION pg_temp.runs(svg text) RETURNS TABLE(n bigint, x int, y int, w int, back int) LANGUAGE sql AS $$
	SELECT t.n, t.m[1]::int, t.m[2]::int, t.m[3]::int, t.m[4]::int
	FROM regexp_matches(pg_temp.attr(svg, '/s:svg/s:path/@d'), 'M(\d+) (\d+)h(\d+)v1h-(\d+)z', 'g') WITH ORDINALITY AS t(m, n)
$$;
-- dark(svg): the dark modules, in symbol coordinates (0 .. width-1, quiet zone removed)
CREATE FUNCTION pg_temp.dark(svg text) RETURNS TABLE(x int, y int) LANGUAGE sql AS $$
	SELECT r.x - 4 + i, r.y - 4 FROM pg_temp.runs(svg) r, generate_series(0, r.w - 1) i
$$;
-- finders(svg): the three 7x7 finder patterns are where they belong, each with its light separator
-- (dark ring, light ring, dark 3x3 centre; light border around it inside the symbol)
CREATE FUNCTION pg_temp.finders(svg text) RETURNS boolean LANGUAGE sql AS $$
	WITH size AS (SELECT split_part(pg_temp.attr(svg, '/s:svg/@viewBox'), ' ', 3)::int - 8 AS w),
	corner(cx, cy) AS (SELECT 0, 0 UNION ALL SELECT w - 7, 0 FROM size UNION ALL SELECT 0, w - 7 FROM size),
	cell AS (
		SELECT c.cx + dx AS x, c.cy + dy AS y,
			greatest(abs(dx - 3), abs(dy - 3)) IN (0, 1, 3) AS want_dark
		FROM corner c, generate_series(-1, 7) dx, generate_series(-1, 7) dy, size
		WHERE c.cx + dx BETWEEN 0 AND size.w - 1 AND c.cy + dy BETWEEN 0 AND size.w - 1)
	SELECT bool_and(want_dark = EXISTS (SELECT 1 FROM pg_temp.dark(svg) d WHERE d.x = cell.x AND d.y = cell.y))
	FROM cell
$$;

-- the function as declared
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef
	FROM pg_proc p WHERE p.oid = 'plum.qr_svg(text)'::regprocedure;
SELECT has_function_privilege('plum_app', 'plum.qr_svg(text)', 'EXECUTE') AS app_may,
	has_function_privilege('plum_admin', 'plum.qr_svg(text)', 'EXECUTE') AS admin_may,
	has_function_privilege('plum_reader', 'plum.qr_svg(text)', 'EXECUTE') AS reader_may,
	has_function_privilege('public', 'plum.qr_svg(text)', 'EXECUTE') AS public_may;

CREATE TEMP TABLE sample (label text, data text);
INSERT INTO sample VALUES
	('one byte', 'A'),
	('plum code', '7K3M-Q9XA-2BCD-S'),
	('link', 'https://rewards.example/l/Zk3_x9Qa-Lm2Np4Rs6Tu8Vw0Xy1Ab3Cd'),
	('utf-8', 'Café crème, 漢字, 🎉'),
	('ascii, as long as utf-8', repeat('x', 26)),
	('markup', '<a href="x">Tom & "Jerry" it''s</a>'),
	('version 10 at M', repeat('x', 213)),
	('version 11 at M', repeat('x', 214)),
	('largest', repeat('x', 2331)),
	('largest, 2-byte characters', repeat('é', 1165)),
	('largest, 3-byte characters', 'x' || repeat('漢', 776) || 'x');

-- well-formed XML with the SVG namespace, viewBox and size expected; version v is 17 + 4v modules
-- wide, plus the 4-module quiet zone on each side, drawn at 4 px per module (26 bytes fit version 2,
-- but not with the UTF-8 ECI header)
SELECT label, octet_length(data) AS bytes,
	xmlparse(document plum.qr_svg(data)) IS DOCUMENT AS document,
	pg_temp.attr(plum.qr_svg(data), '/s:svg/@viewBox') AS viewbox,
	pg_temp.attr(plum.qr_svg(data), '/s:svg/@width') AS width,
	pg_temp.attr(plum.qr_svg(data), '/s:svg/@height') AS height,
	pg_temp.attr(plum.qr_svg(data), '/s:svg/s:rect/@fill') AS background,
	pg_temp.attr(plum.qr_svg(data), '/s:svg/s:rect/@width') AS background_width
	FROM sample ORDER BY bytes, label;
SELECT (xpath('name(/*)', xmlparse(document plum.qr_svg('A'))))[1]::text AS root,
	pg_temp.attr(plum.qr_svg('A'), '/s:svg/@version') AS version,
	pg_temp.attr(plum.qr_svg('A'), '/s:svg/@shape-rendering') AS rendering,
	pg_temp.attr(plum.qr_svg('A'), '/s:svg/s:path/@fill') AS foreground,
	(xpath('count(/s:svg/*)', xmlparse(document plum.qr_svg('A')), ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS elements;

-- the path: one rectangle per horizontal run, each closed back to its start, runs inside the
-- symbol (never in the quiet zone), in row order, and merged (no two runs of a row touch)
SELECT s.label,
	count(*) AS runs,
	sum(r.w) AS dark_modules,
	bool_and(r.w >= 1 AND r.back = r.w) AS closed,
	bool_and(r.x >= 4 AND r.y >= 4 AND r.x + r.w <= v.size - 4 AND r.y < v.size - 4) AS inside
	FROM sample s
	CROSS JOIN LATERAL (SELECT split_part(pg_temp.attr(plum.qr_svg(s.data), '/s:svg/@viewBox'), ' ', 3)::int AS size) v
	CROSS JOIN LATERAL pg_temp.runs(plum.qr_svg(s.data)) r
	GROUP BY s.label ORDER BY min(octet_length(s.data)), s.label;
SELECT s.label, count(*) FILTER (WHERE NOT ordered) AS out_of_order, count(*) FILTER (WHERE touching) AS unmerged
	FROM sample s
	CROSS JOIN LATERAL (
		SELECT (r.y, r.x) > (lag(r.y) OVER w, lag(r.x) OVER w) IS NOT FALSE AS ordered,
			r.y = lag(r.y) OVER w AND lag(r.x + r.w) OVER w >= r.x AS touching
		FROM pg_temp.runs(plum.qr_svg(s.data)) r WINDOW w AS (ORDER BY r.n)) t
	GROUP BY s.label ORDER BY min(octet_length(s.data)), s.label;

-- a QR code's three finder patterns and their separators are in place
SELECT label, pg_temp.finders(plum.qr_svg(data)) AS finders FROM sample ORDER BY octet_length(data), label;
-- and the check is not one that cannot fail: a symbol with one finder module turned light fails it
SELECT pg_temp.finders(replace(plum.qr_svg('A'), 'M4 4h7v1h-7z', 'M4 4h6v1h-6z')) AS damaged_finders;

-- deterministic: the same text always gives the same document, pinned here (libqrencode 4.1)
SELECT label, plum.qr_svg(data) = plum.qr_svg(data) AS same, octet_length(plum.qr_svg(data)) AS svg_bytes, md5(plum.qr_svg(data))
	FROM sample ORDER BY octet_length(data), label;
\a\t
SELECT plum.qr_svg('A');
\a\t
SELECT plum.qr_svg('7K3M-Q9XA-2BCD-S') <> plum.qr_svg('7K3M-Q9XA-2BCD-T') AS differs;

-- UTF-8: the bytes are encoded, not the characters; é, 漢字 and 🎉 each make distinct symbols
SELECT plum.qr_svg('é') <> plum.qr_svg('e') AS accent_differs,
	plum.qr_svg('漢字') <> plum.qr_svg('漢') AS cjk_differs,
	plum.qr_svg('🎉') <> plum.qr_svg('🎊') AS emoji_differs;
-- the UTF-8 ECI header (mode 0111, designator 26) costs a byte of capacity: 2331 ASCII bytes fit,
-- 2331 bytes that are not all ASCII do not, whether the characters take 2, 3 or 4 bytes
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('é', 1165) || 'x')$$) AS "2,331 bytes in 1,166 characters";
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('漢', 777))$$) AS "2,331 bytes in 777 characters";
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('🎉', 582) || 'xxx')$$) AS "2,331 bytes in 585 characters";
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('🎉', 582) || 'xx')$$) AS "2,330 bytes in 584 characters";

-- bad input: empty text, text too long for any QR code at level M
SELECT pg_temp.try($$SELECT plum.qr_svg('')$$) AS empty;
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('x', 2332))$$) AS one_byte_too_many;
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('x', 5000))$$) AS five_thousand_bytes;
SELECT pg_temp.try($$SELECT plum.qr_svg(repeat('🎉', 1000000))$$) AS four_megabytes;

-- STRICT: NULL in, NULL out
SELECT plum.qr_svg(NULL) IS NULL AS null_gives_null;
