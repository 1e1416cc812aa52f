-- plum.record_event: a purchase of 1.00 to 200.00 by a member drawn uniformly from :nwallets, under
-- its own event_ref; two rules apply (10% capped at 50 per 30 days, 1 point from 10.00), with the
-- tier multiplier from the member's rolling spend.
\set id random(1, :nwallets)
\set cents random(100, 20000)
SELECT count(*) FROM plum.record_event(:company, ('u' || :id || '@bench.test')::plum.recipient, 'purchase',
	'b' || nextval('bench_event_seq'), :cents / 100.0);
