/*
 * recipient.h — plum.recipient, the normalised recipient (recipient.c): an
 * email address or an E.164 phone number, a varlena like text.
 */
#ifndef PLUM_RECIPIENT_H
#define PLUM_RECIPIENT_H

#include "plum.h"

typedef struct varlena PlumRecipient;

#define DatumGetPlumRecipientPP(X)	((PlumRecipient *) PG_DETOAST_DATUM_PACKED(X))
#define PG_GETARG_PLUMRECIPIENT_PP(n) DatumGetPlumRecipientPP(PG_GETARG_DATUM(n))

/* a palloc'd NUL-terminated copy of the normalised recipient */
extern char *RecipientToCString(PlumRecipient *r);

/* the order of plum.recipient (the btree order): bytes, then length */
extern int	RecipientCmp(PlumRecipient *a, PlumRecipient *b);

#endif							/* PLUM_RECIPIENT_H */
