/* Entra ID tokens for the configured credential (credential.type: a
 * client secret or certificate, a managed or workload identity, the Azure
 * CLI, or the SDKs' default chain of them), cached per tenant and scope
 * and refreshed ahead of expiry: one thread refreshes while the others
 * keep using the current token, or wait for the first one; a failed
 * refresh keeps a token that is still valid. Thread-safe; the lock is
 * never held across network I/O or a child process. */
#ifndef AZKV_CREDENTIAL_H
#define AZKV_CREDENTIAL_H

#include "cloud.h"
#include "config.h"
#include "http.h"
#include "status.h"

typedef struct azkv_credential azkv_credential;

/* Makes the credential of cfg in cloud (NULL: the public cloud):
 * validates the configuration, reads the environment variables the type
 * takes and the certificate it names. No network I/O. max_retries (< 0:
 * the default) bounds the managed-identity endpoints' retries. A type
 * whose variables are missing is AZKV_ERR_CONFIG with their names. */
azkv_rc azkv_credential_new(const azkv_credential_config *cfg, const azkv_cloud *cloud,
                            int max_retries, azkv_http *http, azkv_credential **out, azkv_err *err);
void azkv_credential_free(azkv_credential *cred);

/* A bearer token for scope (e.g. "https://vault.azure.net/.default").
 * tenant_id overrides the configured tenant when not NULL (from a 401
 * challenge). *token is owned by the caller; free with
 * azkv_secret_str_free. Errors name the cause and the fix (the Entra
 * error code, e.g. AADSTS7000215; "run 'az login'"), never a secret;
 * AZKV_ERR_UNAVAILABLE when the credential cannot work here. */
azkv_rc azkv_credential_get_token(azkv_credential *cred, const char *scope, const char *tenant_id,
                                  char **token, azkv_err *err);

/* Drops the cached token for scope (after a 401 with a cached token). */
void azkv_credential_invalidate(azkv_credential *cred, const char *scope);

/* fork() (pthread_atfork): prepare takes the cache's lock (never held
 * across I/O, so fork waits little); the parent releases it. In the
 * child, its only thread, fork_child wipes in place every cached token
 * and the source's secrets (a client secret), freeing and allocating
 * nothing, then releases the lock: the child abandons cred, it must not
 * be used or freed there. */
void azkv_credential_fork_prepare(azkv_credential *cred);
void azkv_credential_fork_parent(azkv_credential *cred);
void azkv_credential_fork_child(azkv_credential *cred);

/* What gets the tokens, for messages: "client_secret", "default", ... */
const char *azkv_credential_source_name(const azkv_credential *cred);

/* `az account show`: the Azure CLI's current subscription id, its tenant
 * and its cloud's name (each owned; tenant and cloud may be NULL).
 * AZKV_ERR_UNAVAILABLE when az is missing or not logged in, with the fix.
 * timeout_ms <= 0: 10 s. */
azkv_rc azkv_azure_cli_account(long timeout_ms, char **subscription, char **tenant, char **cloud,
                               azkv_err *err);

#endif
