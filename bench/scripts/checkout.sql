-- plum.checkout: an order of two lines (food 20.00 to 60.00, alcohol 10.00) paid with the voucher
-- BENCH10 (every restriction checked; 2.00 to 5.00 off), two codes of 5.00 drained in full, 5.00
-- points of a recipient drawn uniformly from :nwallets (FIFO), the rest due: four instruments, one
-- order row, its payments, three ledger rows.  Order k (from bench_order_seq, loaded by
-- bench/sql/load_checkout.sql) is 'bench-k' and pays with codes 2k - 1 and 2k; when the pairs run
-- out the list is {NULL} and plum.checkout raises 22004, which aborts pgbench (a reused code would
-- be PU003).
\set id random(1, :nwallets)
\set cents random(2000, 6000)
SELECT count(*)
FROM (SELECT nextval('bench_order_seq') AS k) AS o,
	LATERAL plum.checkout(:company, 'bench-' || o.k,
		jsonb_build_object('lines', jsonb_build_array(
				jsonb_build_object('sku', 'F1', 'category', 'food', 'amount', :cents / 100.0),
				jsonb_build_object('sku', 'W1', 'category', 'alcohol', 'amount', 10)),
			'vendor', 'bench', 'location', 'online'),
		('u' || :id || '@bench.test')::plum.recipient, 'bench10',
		coalesce((SELECT array_agg(b.c ORDER BY b.n) FROM bench_pairs b WHERE b.n IN (2 * o.k - 1, 2 * o.k)),
			ARRAY[NULL]::plum.code[]),
		5) AS c;
