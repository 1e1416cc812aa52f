-- The row rules of link, issued_code, shop_order and order_payment are C functions (src/checks.c),
-- each its table's one CHECK.  They must mean exactly the declarative CHECKs they replace: each is
-- compared with those SQL expressions over a grid of values (NULL, signs, zero, NaN, infinities,
-- every state and instrument), with a CHECK's reading (NULL passes).
\set ON_ERROR_STOP on

CREATE TEMP TABLE num (v) AS VALUES (NULL::numeric), (-1), (0), (0.5), (1), (2), ('NaN'), ('Infinity'), ('-Infinity');
CREATE TEMP TABLE ts (v) AS VALUES (NULL::timestamptz), ('2026-01-01 00:00+00');

-- link: 0.1.0's five CHECKs
SELECT count(*) AS cases,
		count(*) FILTER (WHERE plum_internal.link_row_valid(t.v, n.v, s.v, r.v, i.v, b.v, c.v) IS NOT DISTINCT FROM (
			coalesce(t.v ~ '^[A-Za-z0-9_-]{32}$', true)
			AND coalesce(n.v > 0, true)
			AND coalesce(s.v IN ('active', 'redeemed', 'cancelled'), true)
			AND coalesce((s.v = 'redeemed') = (r.v IS NOT NULL AND i.v IS NOT NULL AND b.v IS NOT NULL), true)
			AND coalesce((s.v = 'cancelled') = (c.v IS NOT NULL), true))) AS agree,
		count(*) FILTER (WHERE plum_internal.link_row_valid(t.v, n.v, s.v, r.v, i.v, b.v, c.v)) AS valid
	FROM (VALUES (NULL::text), (repeat('aZ09-_', 5) || 'xy'), (repeat('a', 31)), (repeat('a', 33)), (repeat('a', 31) || '!'),
			(repeat('a', 31) || 'é'), (repeat('a', 31) || E'\n'), ('')) AS t(v),
		num n,
		(VALUES (NULL::text), ('active'), ('redeemed'), ('cancelled'), ('Active'), ('')) AS s(v),
		ts r, (VALUES (NULL::bigint), (7)) AS i(v), (VALUES (NULL::bigint), (9)) AS b(v), ts c;

-- issued_code: 0.1.0's three CHECKs
SELECT count(*) AS cases,
		count(*) FILTER (WHERE plum_internal.code_row_valid(d.v, b.v, c.v) IS NOT DISTINCT FROM (
			coalesce(d.v > 0, true)
			AND coalesce(b.v >= 0 AND b.v <= d.v, true)
			AND coalesce(c.v IS NULL OR b.v = 0, true))) AS agree,
		count(*) FILTER (WHERE plum_internal.code_row_valid(d.v, b.v, c.v)) AS valid
	FROM num d, num b, ts c;

-- shop_order: seven CHECKs (its columns but refunded_at are NOT NULL: non-NULL amounts only)
SELECT count(*) AS cases,
		count(*) FILTER (WHERE plum_internal.order_row_valid(t.v, d.v, c.v, p.v, u.v, r.v, a.v) IS NOT DISTINCT FROM (
			coalesce(t.v > 0, true) AND coalesce(d.v >= 0, true) AND coalesce(c.v >= 0, true)
			AND coalesce(p.v >= 0, true) AND coalesce(u.v >= 0, true)
			AND coalesce(d.v + c.v + p.v + u.v = t.v, true)
			AND coalesce(r.v >= 0 AND r.v <= c.v + p.v + u.v AND (a.v IS NULL OR r.v = c.v + p.v + u.v), true))) AS agree,
		count(*) FILTER (WHERE plum_internal.order_row_valid(t.v, d.v, c.v, p.v, u.v, r.v, a.v)) AS valid
	FROM (VALUES (0::numeric), (3), (4), ('NaN')) AS t(v), (VALUES (0::numeric), (1), (-1)) AS d(v),
		(VALUES (0::numeric), (1), (2)) AS c(v), (VALUES (0::numeric), (1)) AS p(v), (VALUES (0::numeric), (1), (2), ('NaN')) AS u(v),
		(VALUES (0::numeric), (1), (3), (4)) AS r(v), ts a;

-- order_payment: four CHECKs
SELECT count(*) AS cases,
		count(*) FILTER (WHERE plum_internal.payment_row_valid(i.v, m.v, r.v, k.v, x.v) IS NOT DISTINCT FROM (
			coalesce(i.v IN ('voucher', 'code', 'points', 'due'), true)
			AND coalesce(m.v >= 0, true)
			AND coalesce(r.v >= 0 AND r.v <= m.v AND (i.v <> 'voucher' OR r.v = 0), true)
			AND coalesce((i.v = 'code') = (k.v IS NOT NULL) AND (i.v = 'points') = (x.v IS NOT NULL), true))) AS agree,
		count(*) FILTER (WHERE plum_internal.payment_row_valid(i.v, m.v, r.v, k.v, x.v)) AS valid
	FROM (VALUES (NULL::text), ('voucher'), ('code'), ('points'), ('due'), ('cash')) AS i(v), num m, num r,
		(VALUES (NULL::plum.code), ('7K3M-Q9XA-2BCD-S'::plum.code)) AS k(v), (VALUES (NULL::bigint), (5)) AS x(v);

-- the tables carry them under these names, and a row against them is refused (23514)
SELECT conrelid::regclass AS "table", conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
	WHERE contype = 'c' AND conrelid IN ('plum_internal.link'::regclass, 'plum_internal.issued_code'::regclass,
		'plum_internal.shop_order'::regclass, 'plum_internal.order_payment'::regclass)
	ORDER BY 1::text, 2;
\set ON_ERROR_STOP off
INSERT INTO plum_internal.order_payment (order_id, seq, instrument, amount) VALUES (1, 1, 'code', 5);
INSERT INTO plum_internal.shop_order (order_id, company_id, order_ref, at, cart, total, due) VALUES (0, 1, 'x', '2026-01-01 00:00+00', '{}', 10, 9);
