/*
 * identity.h — who is calling, and what it may touch (identity.c).
 *
 * The caller is the OUTER user of the session (GetOuterUserId(): what SET
 * ROLE sets, unchanged by SECURITY DEFINER).  A role granted companies or
 * admins (plum.grant_company, plum.grant_admin), directly or through a role
 * it is a member of, is confined to those companies; see sql/05_identity.sql.
 */
#ifndef PLUM_IDENTITY_H
#define PLUM_IDENTITY_H

#include "plum.h"

/* called from _PG_init: watch the grant tables and role memberships */
extern void IdentityInit(void);

/* PU009 unless the caller may touch company_id (no catalog access when nothing changed) */
extern void PlumCheckCompany(int64 company_id);

/* may the caller touch company_id? (PlumCheckCompany without the error) */
extern bool PlumCallerMayUse(int64 company_id);

#endif							/* PLUM_IDENTITY_H */
