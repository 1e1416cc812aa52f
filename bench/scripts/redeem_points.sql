-- plum.redeem_points: a recipient drawn uniformly from :nwallets redeems 0.01 to 5.00 points.
\set id random(1, :nwallets)
\set cents random(1, 500)
SELECT plum.redeem_points(:company, ('u' || :id || '@bench.test')::plum.recipient, :cents / 100.0);
