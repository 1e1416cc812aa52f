/*
 * identity.c — tenant confinement: which companies and admins the calling
 * role may use (SPEC, "Tenant isolation and identity"; sql/05_identity.sql).
 *
 * The caller is GetOuterUserId(): the session's role after SET ROLE, which
 * SECURITY DEFINER does not change.  Its grants are the rows of
 * plum_internal.company_grant and plum_internal.admin_grant whose member is
 * the caller or a role it is a member of (directly or not, whatever
 * INHERIT says).  With grants it is confined to their companies (an admin
 * grant confines to the admin's company and binds the caller to the admin);
 * without, a superuser or a member of plum_app or plum_admin is unconfined
 * and any other role (a plum_reader login) may touch no company at all.
 *
 * The answer is cached per backend and computed again (one SPI query) only
 * when the caller changes (SET ROLE) or after an invalidation: a relcache
 * invalidation of a grant table (sent by the statement trigger
 * plum_internal.grants_changed() on every write of them, so other backends
 * see it at commit) or a syscache invalidation of pg_auth_members or
 * pg_authid (GRANT/REVOKE role, DROP ROLE, ALTER ROLE ... SUPERUSER).  So the
 * hot paths pay a binary search of a small array and nothing else.
 */
#include "identity.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

/* bumped by every invalidation that may change an answer */
static uint64 identity_generation = 1;

/* the grant tables' OIDs as last looked up (for the relcache callback) */
static Oid	grant_rel[2] = {InvalidOid, InvalidOid};

/* an admin the caller is bound to */
typedef struct BoundAdmin
{
	int64		admin_id;
	int64		company_id;
	bool		super_admin;
} BoundAdmin;

/* what the caller may touch, for one role and one generation */
typedef struct Caller
{
	uint64		generation;		/* 0: not computed */
	Oid			role;
	bool		unconfined;		/* every company */
	bool		sees_secrets;	/* superuser or member of plum_admin */
	int			ncompanies;
	int64	   *companies;		/* sorted, distinct (when confined) */
	int			nadmins;		/* 0: not bound to admins */
	BoundAdmin *admins;			/* sorted by admin_id, distinct */
} Caller;

static Caller caller;

static void
RelcacheChanged(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == grant_rel[0] || relid == grant_rel[1])
		identity_generation++;
}

static void
RolesChanged(Datum arg, int cacheid, uint32 hashvalue)
{
	identity_generation++;
}

/* Register the invalidation callbacks (once per backend, from _PG_init) */
void
IdentityInit(void)
{
	CacheRegisterRelcacheCallback(RelcacheChanged, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, RolesChanged, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, RolesChanged, (Datum) 0);
}

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static int
CompareAdmin(const void *a, const void *b)
{
	return CompareInt64(&((const BoundAdmin *) a)->admin_id, &((const BoundAdmin *) b)->admin_id);
}

/* Whether role is a member of the role named name (false when there is no such role) */
static bool
MemberOf(Oid role, const char *name)
{
	Oid			target = get_role_oid(name, true);

	return OidIsValid(target) && is_member_of_role_nosuper(role, target);
}

/* Compute what role may touch from the grant tables (one SPI query) */
static void
Compute(Oid role, uint64 generation)
{
	Oid			nsp = get_namespace_oid(PLUM_INTERNAL_SCHEMA_NAME, false);
	MemoryContext old;
	int64	   *companies = NULL;
	BoundAdmin *admins = NULL;
	int			ncompanies = 0;
	int			nadmins = 0;
	bool		granted = false;
	Oid			save_user;
	int			save_sec;
	HeapTuple	nsptup;
	Oid			owner;

	/* read the grants as the owner of plum_internal (the caller has no privileges there) */
	nsptup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(nsptup))
		elog(ERROR, "plum: schema %s not found", PLUM_INTERNAL_SCHEMA_NAME);
	owner = ((Form_pg_namespace) GETSTRUCT(nsptup))->nspowner;
	ReleaseSysCache(nsptup);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

	grant_rel[0] = get_relname_relid("company_grant", nsp);
	grant_rel[1] = get_relname_relid("admin_grant", nsp);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "plum: SPI_connect failed");
	if (SPI_execute("SELECT g.member::pg_catalog.oid, g.company_id, NULL::pg_catalog.int8, false"
					" FROM " PLUM_INTERNAL "company_grant g"
					" UNION ALL"
					" SELECT g.member::pg_catalog.oid, a.company_id, g.admin_id,"
					"   a.role OPERATOR(pg_catalog.=) 'super_admin'"
					" FROM " PLUM_INTERNAL "admin_grant g"
					" LEFT JOIN " PLUM_INTERNAL "admin a ON a.admin_id OPERATOR(pg_catalog.=) g.admin_id",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "plum: reading the grants failed");

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (SPI_processed > 0)
	{
		companies = palloc(sizeof(int64) * SPI_processed);
		admins = palloc(sizeof(BoundAdmin) * SPI_processed);
	}
	MemoryContextSwitchTo(old);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			member = DatumGetObjectId(SPI_getbinval(row, desc, 1, &isnull));
		int64		company = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		bool		elsewhere = isnull;	/* an admin of another shard (scale-out) */
		Datum		admin = SPI_getbinval(row, desc, 3, &isnull);

		if (!is_member_of_role_nosuper(role, member))
			continue;
		granted = true;
		if (elsewhere)
			continue;			/* confines the role, and to nothing here */
		companies[ncompanies++] = company;
		if (!isnull)
		{
			admins[nadmins].admin_id = DatumGetInt64(admin);
			admins[nadmins].company_id = company;
			admins[nadmins].super_admin = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
			nadmins++;
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_user, save_sec);

	/* sorted and distinct, for binary searches */
	if (ncompanies > 1)
	{
		int			n = 1;

		qsort(companies, ncompanies, sizeof(int64), CompareInt64);
		for (int i = 1; i < ncompanies; i++)
			if (companies[i] != companies[n - 1])
				companies[n++] = companies[i];
		ncompanies = n;
	}
	if (nadmins > 1)
	{
		int			n = 1;

		qsort(admins, nadmins, sizeof(BoundAdmin), CompareAdmin);
		for (int i = 1; i < nadmins; i++)
			if (admins[i].admin_id != admins[n - 1].admin_id)
				admins[n++] = admins[i];
		nadmins = n;
	}

	if (caller.companies)
		pfree(caller.companies);
	if (caller.admins)
		pfree(caller.admins);
	caller.role = role;
	caller.sees_secrets = superuser_arg(role) || MemberOf(role, "plum_admin");
	caller.unconfined = superuser_arg(role) ||
		(!granted && (MemberOf(role, "plum_app") || MemberOf(role, "plum_admin")));
	caller.companies = companies;
	caller.ncompanies = caller.unconfined ? 0 : ncompanies;
	caller.admins = admins;
	caller.nadmins = caller.unconfined ? 0 : nadmins;
	caller.generation = generation;
}

/* The caller's grants, computed again only when something changed */
static const Caller *
CurrentCaller(void)
{
	Oid			role = GetOuterUserId();
	uint64		gen = identity_generation;

	if (likely(caller.generation == gen && caller.role == role))
		return &caller;
	caller.generation = 0;
	Compute(role, gen);
	return &caller;
}

static bool
HasCompany(const Caller *c, int64 company_id)
{
	return c->unconfined ||
		(c->ncompanies > 0 &&
		 bsearch(&company_id, c->companies, c->ncompanies, sizeof(int64), CompareInt64) != NULL);
}

static const BoundAdmin *
BoundTo(const Caller *c, int64 admin_id)
{
	BoundAdmin	key = {0};

	key.admin_id = admin_id;
	if (c->nadmins == 0)
		return NULL;
	return bsearch(&key, c->admins, c->nadmins, sizeof(BoundAdmin), CompareAdmin);
}

/* The caller's name, for error details */
static const char *
CallerName(void)
{
	char	   *name = GetUserNameFromId(GetOuterUserId(), true);

	return name ? quote_identifier(name) : "(dropped role)";
}

static void
RefuseCompany(int64 company_id) pg_attribute_noreturn();

static void
RefuseCompany(int64 company_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_NOT_PERMITTED),
			 errmsg("not permitted"),
			 errdetail("Role %s may not use company " INT64_FORMAT ".",
					   CallerName(),
					   company_id),
			 errhint("A superuser or an unconfined plum_admin member grants companies with plum.grant_company().")));
}

/* PU009 unless the caller may touch company_id */
void
PlumCheckCompany(int64 company_id)
{
	const Caller *c = CurrentCaller();

	if (!HasCompany(c, company_id))
		RefuseCompany(company_id);
}

/* may the caller touch company_id? (for functions that act on the caller's companies only) */
bool
PlumCallerMayUse(int64 company_id)
{
	return HasCompany(CurrentCaller(), company_id);
}

/* An int8[] of n values (in the current memory context) */
static ArrayType *
Int8Array(const int64 *values, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(values[i]);
	return construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

PG_FUNCTION_INFO_V1(plum_caller);
/* SQL: plum_internal.caller() RETURNS regrole — the calling role (GetOuterUserId()) */
Datum
plum_caller(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(GetOuterUserId());
}

PG_FUNCTION_INFO_V1(plum_caller_companies);
/* SQL: plum_internal.caller_companies() RETURNS bigint[] — NULL: unconfined */
Datum
plum_caller_companies(PG_FUNCTION_ARGS)
{
	const Caller *c = CurrentCaller();

	if (c->unconfined)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(Int8Array(c->companies, c->ncompanies));
}

PG_FUNCTION_INFO_V1(plum_caller_admins);
/* SQL: plum_internal.caller_admins() RETURNS bigint[] — NULL: not bound to admins */
Datum
plum_caller_admins(PG_FUNCTION_ARGS)
{
	const Caller *c = CurrentCaller();
	int64	   *ids;

	if (c->nadmins == 0)
		PG_RETURN_NULL();
	ids = palloc(sizeof(int64) * c->nadmins);
	for (int i = 0; i < c->nadmins; i++)
		ids[i] = c->admins[i].admin_id;
	PG_RETURN_ARRAYTYPE_P(Int8Array(ids, c->nadmins));
}

PG_FUNCTION_INFO_V1(plum_caller_sees_secrets);
/* SQL: plum_internal.caller_sees_secrets() RETURNS boolean — superuser or plum_admin member */
Datum
plum_caller_sees_secrets(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CurrentCaller()->sees_secrets);
}

PG_FUNCTION_INFO_V1(plum_company_visible);
/* SQL: plum_internal.company_visible(bigint) RETURNS boolean — whether the caller may see it */
Datum
plum_company_visible(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(HasCompany(CurrentCaller(), PG_GETARG_INT64(0)));
}

PG_FUNCTION_INFO_V1(plum_check_company);
/* SQL: plum_internal.check_company(bigint) RETURNS void — PU009 for another company (NULL: nothing) */
Datum
plum_check_company(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		PlumCheckCompany(PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(plum_permitted_company);
/* SQL: plum_internal.permitted_company(bigint) RETURNS bigint — its argument, after check_company */
Datum
plum_permitted_company(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PlumCheckCompany(PG_GETARG_INT64(0));
	PG_RETURN_INT64(PG_GETARG_INT64(0));
}

PG_FUNCTION_INFO_V1(plum_check_admin);
/*
 * SQL: plum_internal.check_admin(admin_id bigint, company_id bigint) RETURNS void —
 * PU009 when the caller is bound to admins and admin_id is not one of them, or
 * may not use the admin's company.  NULLs: nothing to check.
 */
Datum
plum_check_admin(PG_FUNCTION_ARGS)
{
	const Caller *c = CurrentCaller();
	int64		admin_id;

	if (PG_ARGISNULL(0) || c->unconfined)
		PG_RETURN_VOID();
	admin_id = PG_GETARG_INT64(0);
	if (c->nadmins > 0 && BoundTo(c, admin_id) == NULL)
	{
		StringInfoData ids;

		initStringInfo(&ids);
		for (int i = 0; i < c->nadmins; i++)
			appendStringInfo(&ids, "%s" INT64_FORMAT, i > 0 ? ", " : "", c->admins[i].admin_id);
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_PERMITTED),
				 errmsg("not permitted"),
				 errdetail("Role %s acts as admin %s only, not as admin " INT64_FORMAT ".",
						   CallerName(), ids.data, admin_id),
				 errhint("Use the login bound to that admin.")));
	}
	if (!PG_ARGISNULL(1))
		PlumCheckCompany(PG_GETARG_INT64(1));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(plum_check_super_admin);
/*
 * SQL: plum_internal.check_super_admin(company_id bigint) RETURNS void — for
 * add_admin: PU009 unless the caller may use the company and, when it is
 * bound to admins, one of them is a super admin of that company.
 */
Datum
plum_check_super_admin(PG_FUNCTION_ARGS)
{
	const Caller *c = CurrentCaller();
	int64		company_id;

	if (PG_ARGISNULL(0) || c->unconfined)
		PG_RETURN_VOID();
	company_id = PG_GETARG_INT64(0);
	PlumCheckCompany(company_id);
	if (c->nadmins > 0)
	{
		for (int i = 0; i < c->nadmins; i++)
			if (c->admins[i].company_id == company_id && c->admins[i].super_admin)
				PG_RETURN_VOID();
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_PERMITTED),
				 errmsg("only a super admin may add admins"),
				 errdetail("Role %s is bound to no super admin of company " INT64_FORMAT ".",
						   CallerName(),
						   company_id),
				 errhint("Use the login of a super admin of the company.")));
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(plum_grants_changed);
/*
 * Trigger (statement level) on the grant tables: a relcache invalidation of
 * the table, so every backend (this one at the next command, the others at
 * commit) computes its caller's grants again.
 */
Datum
plum_grants_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "plum: grants_changed() is a trigger");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	identity_generation++;
	return PointerGetDatum(NULL);
}
