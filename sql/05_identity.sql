-- Identity and confinement (SPEC, "Tenant isolation and identity"): which companies and admins a
-- database role may use.  A role granted companies (plum.grant_company) or admins
-- (plum.grant_admin: also the admin's company), directly or through a role it is a member of,
-- is confined to them: every plum function refuses another company's objects (PU009) and
-- every view shows only their rows.  A role bound to admins acts as those admins only.  A role
-- with no grant is unconfined when it is a superuser or a member of plum_app or plum_admin (the
-- applications' own roles) and sees no company otherwise (a plum_reader login must be granted
-- its company first).  The caller is the session's role after SET ROLE (C: GetOuterUserId()),
-- which SECURITY DEFINER does not change.  src/identity.c caches the answer per backend.
--
-- The grant tables have no foreign keys (this file comes before the companies' and admins'
-- tables, sql/30_tenancy.sql); plum.grant_company() and plum.grant_admin() check the ids, and
-- companies and admins are never deleted.  Members are kept as regrole, so pg_dump writes role
-- names and a restore into another cluster binds the same roles.

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
CREATE TABLE plum_internal.company_grant (
	member		regrole NOT NULL,
	company_id	bigint NOT NULL,
	granted		timestamptz NOT NULL,
	PRIMARY KEY (member, company_id)
);
CREATE TABLE plum_internal.admin_grant (
	member		regrole NOT NULL,
	admin_id	bigint NOT NULL,
	granted		timestamptz NOT NULL,
	PRIMARY KEY (member, admin_id)
);
SELECT pg_catalog.pg_extension_config_dump('plum_internal.company_grant', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.admin_grant', '');
-- nothing for PUBLIC (sql/99_privileges.sql does the same for every table of a fresh install)
REVOKE ALL ON plum_internal.company_grant, plum_internal.admin_grant FROM PUBLIC;
-- @end

-- @api
COMMENT ON TABLE plum_internal.company_grant IS 'Roles confined to companies: a member of a listed role (or the role itself) may use only the companies granted to it (plum.grant_company).';
COMMENT ON COLUMN plum_internal.company_grant.member IS 'The role granted the company.';
COMMENT ON COLUMN plum_internal.company_grant.company_id IS 'The company it may use.';
COMMENT ON COLUMN plum_internal.company_grant.granted IS 'When the grant was made (plum clock).';
COMMENT ON TABLE plum_internal.admin_grant IS 'Roles bound to admins: a member of a listed role (or the role itself) acts as these admins only, and is confined to their companies (plum.grant_admin).';
COMMENT ON COLUMN plum_internal.admin_grant.member IS 'The role bound to the admin.';
COMMENT ON COLUMN plum_internal.admin_grant.admin_id IS 'The admin it acts as.';
COMMENT ON COLUMN plum_internal.admin_grant.granted IS 'When the grant was made (plum clock).';

CREATE FUNCTION plum_internal.grants_changed() RETURNS trigger
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'plum_grants_changed';
COMMENT ON FUNCTION plum_internal.grants_changed() IS
	'Trigger: after any write of a grant table, every backend computes its caller''s companies and admins again (a relcache invalidation of the table).';
CREATE TRIGGER company_grant_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plum_internal.company_grant
	FOR EACH STATEMENT EXECUTE FUNCTION plum_internal.grants_changed();
CREATE TRIGGER admin_grant_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plum_internal.admin_grant
	FOR EACH STATEMENT EXECUTE FUNCTION plum_internal.grants_changed();

CREATE FUNCTION plum_internal.caller() RETURNS regrole
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_caller';
COMMENT ON FUNCTION plum_internal.caller() IS
	'Internal: the calling role: the session''s role after SET ROLE (GetOuterUserId()), which SECURITY DEFINER does not change.';

CREATE FUNCTION plum_internal.caller_companies() RETURNS bigint[]
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_caller_companies';
COMMENT ON FUNCTION plum_internal.caller_companies() IS
	'Internal: the companies the calling role may use, sorted; NULL when it is unconfined (a superuser, or a member of plum_app or plum_admin with no grant); empty for a role with neither grant nor plum_app/plum_admin membership. Cached per backend, computed again after a grant or role membership changes.';

CREATE FUNCTION plum_internal.caller_admins() RETURNS bigint[]
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_caller_admins';
COMMENT ON FUNCTION plum_internal.caller_admins() IS
	'Internal: the admins the calling role is bound to (plum.grant_admin), sorted; NULL when it is bound to none (then any admin of its companies).';

CREATE FUNCTION plum_internal.caller_sees_secrets() RETURNS boolean
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_caller_sees_secrets';
COMMENT ON FUNCTION plum_internal.caller_sees_secrets() IS
	'Internal: whether the calling role sees codes and link tokens in full in the views (a superuser or a member of plum_admin); others see them masked.';

CREATE FUNCTION plum_internal.company_visible(company_id bigint) RETURNS boolean
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_company_visible';
COMMENT ON FUNCTION plum_internal.company_visible(bigint) IS
	'Internal: whether the calling role may use the company (false for NULL).';

CREATE FUNCTION plum_internal.check_company(company_id bigint) RETURNS void
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_check_company';
COMMENT ON FUNCTION plum_internal.check_company(bigint) IS
	'Internal: PU009 (not permitted; the detail names the role and the company id only) when the calling role is confined and the company is not one of its; nothing for NULL.';

CREATE FUNCTION plum_internal.permitted_company(company_id bigint) RETURNS bigint
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_permitted_company';
COMMENT ON FUNCTION plum_internal.permitted_company(bigint) IS
	'Internal: the company id given, after plum_internal.check_company() (for SQL-language functions).';

CREATE FUNCTION plum_internal.check_admin(admin_id bigint, company_id bigint DEFAULT NULL) RETURNS void
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_check_admin';
COMMENT ON FUNCTION plum_internal.check_admin(bigint, bigint) IS
	'Internal: PU009 when the calling role is bound to admins and admin_id is not one of them, or when it may not use the admin''s company (company_id, when given). plum_internal.admin_row() and admin_company() call it, so every admin_id argument is checked.';

CREATE FUNCTION plum_internal.check_super_admin(company_id bigint) RETURNS void
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'plum_check_super_admin';
COMMENT ON FUNCTION plum_internal.check_super_admin(bigint) IS
	'Internal (plum.add_admin): PU009 unless the calling role may use the company and, when it is bound to admins, one of them is a super admin of that company.';

-- PU009 for a confined caller: what only unconfined roles may do (create companies).
CREATE FUNCTION plum_internal.check_unconfined(what text) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	IF plum_internal.caller_companies() IS NOT NULL THEN
		PERFORM plum_internal.raise('PU009', 'not permitted',
			format('Role %s is confined to companies %s and may not %s.', plum_internal.caller(),
				array_to_string(plum_internal.caller_companies(), ', '), what),
			'Use an unconfined plum_admin login.');
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.check_unconfined(text) IS
	'Internal: PU009 when the calling role is confined to companies (it may not do what).';

-- The grants themselves: for superusers and unconfined plum_admin members only (42501); then the
-- member and the id must be given (22004) and the company or admin must exist here, or be another
-- shard's (PU005).  The four grant functions start with it.
CREATE FUNCTION plum_internal.check_grant_target(member regrole, what text, id bigint) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_here boolean;
BEGIN
	IF plum_internal.caller_companies() IS NOT NULL THEN
		PERFORM plum_internal.raise('42501', 'permission denied to change plum grants',
			format('Role %s is confined to companies and may not grant or revoke.', plum_internal.caller()),
			'Grants are made by a superuser or an unconfined plum_admin login.');
	END IF;
	PERFORM plum_internal.not_null(member, 'member');
	PERFORM plum_internal.not_null(id, what || '_id');
	-- on a shard, an id of another shard is granted as is (the proxy grants on every shard)
	v_here := CASE what
		WHEN 'company' THEN EXISTS (SELECT FROM plum_internal.company c WHERE c.company_id = id)
		WHEN 'admin' THEN EXISTS (SELECT FROM plum_internal.admin a WHERE a.admin_id = id) END;
	IF NOT v_here AND NOT plum_internal.elsewhere(id) THEN
		PERFORM plum_internal.raise('PU005', 'unknown ' || what, format('There is no %s %s.', what, id));
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.check_grant_target(regrole, text, bigint) IS
	'Internal (plum.grant_company, revoke_company, grant_admin, revoke_admin): 42501 when the calling role is confined; 22004 for a NULL member or id; PU005 when there is no such company or admin (what: ''company'' or ''admin'') here and the id is not another shard''s.';

CREATE FUNCTION plum.grant_company(member regrole, company_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.check_grant_target(member, 'company', grant_company.company_id);
	INSERT INTO plum_internal.company_grant (member, company_id, granted)
		VALUES (grant_company.member, grant_company.company_id, plum.now())
		ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION plum.grant_company(regrole, bigint) IS
	'Confine a role (and every role that is a member of it) to a company, or add one to its companies: it then sees only its companies'' rows in the views and every function refuses another company''s objects (PU009). For superusers and unconfined plum_admin members (42501 otherwise). Granting twice changes nothing.';

CREATE FUNCTION plum.revoke_company(member regrole, company_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.check_grant_target(member, 'company', revoke_company.company_id);
	DELETE FROM plum_internal.company_grant g
		WHERE g.member = revoke_company.member AND g.company_id = revoke_company.company_id;
END
$$;
COMMENT ON FUNCTION plum.revoke_company(regrole, bigint) IS
	'Withdraw a company grant (plum.grant_company). A role left with no grant is unconfined again if it is a member of plum_app or plum_admin, and sees nothing otherwise. Grants through plum.grant_admin stay. For superusers and unconfined plum_admin members (42501 otherwise).';

CREATE FUNCTION plum.grant_admin(member regrole, admin_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.check_grant_target(member, 'admin', grant_admin.admin_id);
	INSERT INTO plum_internal.admin_grant (member, admin_id, granted)
		VALUES (grant_admin.member, grant_admin.admin_id, plum.now())
		ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION plum.grant_admin(regrole, bigint) IS
	'Bind a role (and every role that is a member of it) to an admin: it acts as that admin only (every admin_id and by_admin argument must be it, PU009; plum.add_admin needs it to be a super admin) and is confined to the admin''s company. For superusers and unconfined plum_admin members (42501 otherwise).';

CREATE FUNCTION plum.revoke_admin(member regrole, admin_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.check_grant_target(member, 'admin', revoke_admin.admin_id);
	DELETE FROM plum_internal.admin_grant g
		WHERE g.member = revoke_admin.member AND g.admin_id = revoke_admin.admin_id;
END
$$;
COMMENT ON FUNCTION plum.revoke_admin(regrole, bigint) IS
	'Withdraw an admin binding (plum.grant_admin), and with it the confinement to the admin''s company unless another grant keeps it. For superusers and unconfined plum_admin members (42501 otherwise).';

-- Masked secrets (the views show them in full only to plum_admin members and superusers):
--   a code keeps its last group of four symbols and its check symbol: 7K3M-Q9XA-2BCD-S -> ****-****-2BCD-S
--   a link token keeps its last 4 characters after an ellipsis: ...............wXyZ -> …wXyZ
CREATE FUNCTION plum_internal.mask_code(code text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN pg_catalog.regexp_replace(code, '[^-](?=.*-[^-]+-[^-]+$)', '*', 'g');
COMMENT ON FUNCTION plum_internal.mask_code(text) IS
	'Internal: a code''s text with every symbol but its last group of four and its check symbol replaced by *, e.g. ****-****-2BCD-S.';

CREATE FUNCTION plum_internal.mask_token(token text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN '…' OPERATOR(pg_catalog.||) pg_catalog.right(token, 4);
COMMENT ON FUNCTION plum_internal.mask_token(text) IS
	'Internal: a link token masked as an ellipsis and its last 4 characters, e.g. …wXyZ.';

-- caller_companies(), caller_sees_secrets(), company_visible() and the masks stay executable by
-- everyone: the views call them with the reader's privileges (they tell a role only about itself).
REVOKE EXECUTE ON FUNCTION
	plum_internal.grants_changed(),
	plum_internal.caller(),
	plum_internal.caller_admins(),
	plum_internal.check_company(bigint),
	plum_internal.permitted_company(bigint),
	plum_internal.check_admin(bigint, bigint),
	plum_internal.check_super_admin(bigint),
	plum_internal.check_unconfined(text),
	plum_internal.check_grant_target(regrole, text, bigint),
	plum.grant_company(regrole, bigint),
	plum.revoke_company(regrole, bigint),
	plum.grant_admin(regrole, bigint),
	plum.revoke_admin(regrole, bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.grant_company(regrole, bigint),
	plum.revoke_company(regrole, bigint),
	plum.grant_admin(regrole, bigint),
	plum.revoke_admin(regrole, bigint)
	TO plum_admin;
