-- The hand-written PL/pgSQL reference (bench/plpgsql_reference.sql), loaded
-- with the same lots as plum: :lots rounds, each at its own instant (one hour
-- apart from 2026-01-01), giving :lot points to each of the recipients
-- 'u<i>@bench.test', i = 1..:wallets, valid 10 years, with one journal row
-- per grant; the company id goes to bench_meta for the workload.
-- psql variables: wallets, lots, lot, company.
\set ON_ERROR_STOP on
\ir ../plpgsql_reference.sql
INSERT INTO ref.lots (company_id, recipient, issued_at, expires_at, amount, remaining)
SELECT :company, 'u' || i || '@bench.test', t.at, t.at + interval '10 years', :lot, :lot
  FROM generate_series(1, :lots) r
 CROSS JOIN LATERAL (SELECT '2026-01-01 00:00:00+00'::timestamptz + (r - 1) * interval '1 hour' AS at) t
 CROSS JOIN generate_series(1, :wallets) i
 ORDER BY r, i;
INSERT INTO ref.journal (company_id, at, kind, recipient, amount, lot_ids)
SELECT company_id, issued_at, 'given', recipient, amount, ARRAY[lot_id]
  FROM ref.lots ORDER BY lot_id;
INSERT INTO bench_meta (key, value) VALUES ('company', :'company');
VACUUM ANALYZE ref.lots, ref.journal;
