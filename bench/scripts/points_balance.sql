-- plum.points_balance of a recipient drawn uniformly from :nwallets.
\set id random(1, :nwallets)
SELECT plum.points_balance(:company, ('u' || :id || '@bench.test')::plum.recipient);
