-- the expiry sweeps, as pg_cron runs them
SELECT rel.try('expire_points', 'SELECT plum.expire_points()');
SELECT rel.try('expire_codes', 'SELECT plum.expire_codes()');
