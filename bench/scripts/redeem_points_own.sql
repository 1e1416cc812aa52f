-- plum.redeem_points of 0.01 to 5.00 points, each client drawing from its own
-- :nwallets / :nclients wallets: no client ever waits for another's wallet
-- lock, so the figure is the cost of the redemption itself (the lots-held series).
\set per :nwallets / :nclients
\set id :client_id * :per + random(1, :per)
\set cents random(1, 500)
SELECT plum.redeem_points(:company, ('u' || :id || '@bench.test')::plum.recipient, :cents / 100.0);
