/* Entra ID tokens for the configured credential, cached per scope and
 * reused until five minutes before expiry. Thread-safe; the lock is never
 * held across network I/O. */
#ifndef AZKV_CREDENTIAL_H
#define AZKV_CREDENTIAL_H

#include "config.h"
#include "http.h"
#include "status.h"

typedef struct azkv_credential azkv_credential;

/* Validates cfg (client_secret needs tenant, client id and secret; the
 * environment type reads AZURE_* now). No network I/O. */
azkv_rc azkv_credential_new(const azkv_credential_config *cfg, azkv_http *http,
                            azkv_credential **out, azkv_err *err);
void azkv_credential_free(azkv_credential *cred);

/* A bearer token for scope (e.g. "https://vault.azure.net/.default").
 * tenant_id overrides the configured tenant when not NULL (from a 401
 * challenge). *token is owned by the caller; free with
 * azkv_secret_str_free. Errors name the Entra error code and description
 * (e.g. AADSTS7000215) but never the secret. */
azkv_rc azkv_credential_get_token(azkv_credential *cred, const char *scope, const char *tenant_id,
                                  char **token, azkv_err *err);

/* Drops the cached token for scope (after a 401 with a cached token). */
void azkv_credential_invalidate(azkv_credential *cred, const char *scope);

#endif
