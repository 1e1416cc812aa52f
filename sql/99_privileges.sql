-- Privileges on the plumbing, after every table exists: nothing for PUBLIC (and so for the plum
-- roles) on plum_internal's tables and sequences. Tables are written only through plum's
-- functions (SECURITY DEFINER, search_path pinned); roles get EXECUTE on the API and SELECT on
-- the views, each area granting its own.
REVOKE ALL ON ALL TABLES IN SCHEMA plum_internal FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA plum_internal FROM PUBLIC;

-- @api
