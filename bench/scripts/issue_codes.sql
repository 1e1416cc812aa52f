-- plum.issue_codes of 1,000,000 codes of 5.00 in one call.
\set ON_ERROR_STOP on
SELECT count(*) FROM plum.issue_codes(:issue_admin, :issue_campaign, 5, 1000000);
