-- plum.expire_points over 1,000,000 expired lots: records the breakage, drops the lots.
\set ON_ERROR_STOP on
SET plum.now = '2030-01-01 00:00:00+00';
SELECT plum.expire_points();
