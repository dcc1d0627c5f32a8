/* The Key Vault 401 challenge:
 *   WWW-Authenticate: Bearer authorization="https://login.windows.net/<tenant>",
 *                     resource="https://vault.azure.net"
 * Newer services send scope="https://vault.azure.net/.default" instead of,
 * or beside, resource. Parameters may appear in any order, with or
 * without quotes, separated by commas and/or spaces. */
#ifndef AZKV_CHALLENGE_H
#define AZKV_CHALLENGE_H

#include "status.h"

typedef struct azkv_challenge {
	char *authorization; /* authority URL incl. tenant, or NULL */
	char *tenant_id;     /* last path segment of authorization, or NULL */
	char *resource;      /* or NULL */
	char *scope;         /* scope if given, else resource + "/.default" */
} azkv_challenge;

/* AZKV_ERR_PROTOCOL if the header is not a Bearer challenge or has
 * neither resource nor scope. */
azkv_rc azkv_challenge_parse(const char *header, azkv_challenge *out, azkv_err *err);
void azkv_challenge_free(azkv_challenge *c);

#endif
