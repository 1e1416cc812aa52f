-- The hand-written PL/pgSQL redemption of bench/plpgsql_reference.sql, same recipients and amounts.
\set id random(1, :nwallets)
\set cents random(1, 500)
SELECT ref.redeem_points(:company, 'u' || :id || '@bench.test', :cents / 100.0);
