/* The ways of getting an Entra ID access token, behind one interface.
 * credential.c holds the token cache above them (per credential, tenant
 * and scope, refreshed ahead of expiry, one refresh at a time) and picks
 * the source from credential.type; a source only asks for a token.
 *
 * Sources (one file each):
 *   cred_entra.c     client secret, and the token request every Entra
 *                    confidential client shares (secret or assertion)
 *   cred_cert.c      client certificate: a signed JWT assertion
 *   cred_workload.c  workload identity: the federated token file
 *   cred_mi.c        managed identity: IMDS, App Service, Azure Arc
 *   cred_cli.c       the Azure CLI (az account get-access-token)
 *   cred_chain.c     "default": the first of several that is available
 * Internal to src/: neither the module nor the tools include this. */
#ifndef AZKV_CRED_SOURCE_H
#define AZKV_CRED_SOURCE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "cloud.h"
#include "config.h"
#include "http.h"
#include "status.h"

typedef struct azkv_token {
	char *value;        /* secret; azkv_token_clear wipes it */
	int64_t expires_on; /* Unix seconds */
	int64_t refresh_on; /* Unix seconds the issuer asks for a refresh by (refresh_in), or 0 */
} azkv_token;

/* Wipes and frees the value; leaves t empty. NULL-safe. */
void azkv_token_clear(azkv_token *t);

/* Parses a token answer of Entra ID or a managed-identity endpoint:
 * access_token, and expires_in (number or string) or expires_on (Unix
 * seconds as a number or string, or App Service's older
 * "MM/DD/YYYY HH:MM:SS +00:00"), and refresh_in when present. The JSON
 * tree's copy of the token is wiped. what names the answer in errors. */
azkv_rc azkv_token_parse(const char *json, const char *what, azkv_token *out, azkv_err *err);

/* Longer than any token Entra issues: an expiry further away is refused. */
#define AZKV_TOKEN_MAX_LIFETIME_S (400LL * 24 * 3600)

/* A number of seconds, as a JSON number or a string of digits; -1 when
 * absent, not one, or beyond 1e12 (so that no cast overflows). */
long long azkv_token_seconds(const cJSON *item);

/* 1 if t can go into a token URL's path: a GUID or a domain name. */
int azkv_tenant_valid(const char *t);

/* AUTHORITY/TENANT/oauth2/v2.0/token, owned; NULL on ENOMEM. */
char *azkv_entra_token_url(const char *authority, const char *tenant);

/* An Entra app registration and where it asks for tokens: what the
 * client-secret, certificate and workload-identity sources share. */
typedef struct azkv_entra_app {
	azkv_http *http;
	char *authority; /* no trailing '/' */
	char *tenant;
	char *client_id;
} azkv_entra_app;

/* The client-credentials grant at Entra ID's v2.0 token endpoint for the
 * app in tenant (NULL: the app's), with a client secret or a signed client
 * assertion (exactly one not NULL). Errors name the Entra code and
 * description (AADSTS...), never the secret or assertion; 429/5xx are
 * AZKV_ERR_THROTTLED/SERVER (the caller retries), other refusals
 * AZKV_ERR_AUTH. */
azkv_rc azkv_entra_app_token(const azkv_entra_app *app, const char *tenant, const char *secret,
                             const char *assertion, const char *scope, azkv_token *out,
                             azkv_err *err);

/* The azkv_rc of a refusal by the token endpoint (429 THROTTLED, 5xx
 * SERVER, else AUTH), with err filled from its body (cred_entra.c). */
azkv_rc azkv_entra_error(const char *authority, const char *scope, const char *tenant,
                         const char *secret, const azkv_http_response *resp, azkv_err *err);

typedef struct azkv_cred_source azkv_cred_source;
struct azkv_cred_source {
	/* For the log: "client_secret", "managed_identity (IMDS)", ... */
	const char *name;
	/* A token for scope ("https://vault.azure.net/.default") in tenant
	 * (NULL: the source's own; managed identities ignore it). An error
	 * of AZKV_ERR_UNAVAILABLE means the source cannot work in this
	 * environment (no az on PATH, no IMDS), so a chain may try the next;
	 * any other error means it was tried and refused. Thread-safe. */
	azkv_rc (*get_token)(azkv_cred_source *src, const char *scope, const char *tenant,
	                     azkv_token *out, azkv_err *err);
	void (*free)(azkv_cred_source *src);
	/* In a forked child, for a source the child abandons: wipes the
	 * secrets it holds in place, freeing and locking nothing. NULL when
	 * it holds none it could wipe so (a certificate's key is inside
	 * OpenSSL; a federated token file's text is guarded by a lock a
	 * parent's thread may have held at fork). */
	void (*wipe)(azkv_cred_source *src);
};

/* The start of every source that is an Entra app registration (client
 * secret, certificate, workload identity): its interface and the app. */
typedef struct azkv_entra_source {
	azkv_cred_source base;
	azkv_entra_app app;
} azkv_entra_source;

/* A zeroed source of size bytes that begins with an azkv_entra_source:
 * its interface a copy of *ops, its app the registration given. NULL
 * when out of memory (err says so). Its ops->free ends with
 * azkv_entra_source_free (NULL-safe). */
void *azkv_entra_source_new(size_t size, const azkv_cred_source *ops, azkv_http *http,
                            const char *authority, const char *tenant, const char *client_id,
                            azkv_err *err);
void azkv_entra_source_free(azkv_entra_source *s);
/* The end of a constructor: when ok, the source goes to *out; else it is
 * freed (its ops->free) and the error is AZKV_ERR_NOMEM. */
azkv_rc azkv_entra_source_done(azkv_entra_source *s, int ok, azkv_cred_source **out, azkv_err *err);

/* ---- constructors: no network I/O; files named in the configuration
 * (certificates) are read here. AZKV_ERR_UNAVAILABLE when what the
 * source needs is absent from the environment (for the chain). */

/* Entra ID client credentials with a secret (cred_entra.c). */
azkv_rc azkv_src_client_secret_new(azkv_http *http, const char *authority, const char *tenant,
                                   const char *client_id, const char *secret,
                                   azkv_cred_source **out, azkv_err *err);

/* A certificate: PEM (key and certificate) or PKCS#12 (cred_cert.c). */
typedef struct azkv_cert_options {
	const char *path;
	const char *password;   /* PKCS#12 only; may be NULL */
	int send_chain;         /* x5c: subject name + issuer authentication */
	azkv_assertion_alg alg; /* RS256 with x5t, or PS256 with x5t#S256 */
} azkv_cert_options;
azkv_rc azkv_src_certificate_new(azkv_http *http, const char *authority, const char *tenant,
                                 const char *client_id, const azkv_cert_options *opts,
                                 azkv_cred_source **out, azkv_err *err);

/* Workload identity: a federated token read from token_file whenever the
 * file changes (cred_workload.c). */
azkv_rc azkv_src_workload_new(azkv_http *http, const char *authority, const char *tenant,
                              const char *client_id, const char *token_file, azkv_cred_source **out,
                              azkv_err *err);

/* Managed identity (cred_mi.c): App Service / Functions / Container Apps
 * when IDENTITY_ENDPOINT and IDENTITY_HEADER are set, Azure Arc when
 * IDENTITY_ENDPOINT and IMDS_ENDPOINT are, else IMDS. probe: in a chain,
 * an IMDS that does not answer within a second is "unavailable". */
typedef struct azkv_mi_options {
	const char *client_id, *object_id, *resource_id; /* at most one: user-assigned */
	const char *imds_endpoint;     /* NULL: AZURE_POD_IDENTITY_AUTHORITY_HOST, else IMDS */
	const char *identity_endpoint; /* NULL: IDENTITY_ENDPOINT */
	const char *arc_key_dir;       /* NULL: /var/opt/azcmagent/tokens */
	int max_retries;
	int probe;
} azkv_mi_options;
azkv_rc azkv_src_managed_identity_new(azkv_http *http, const azkv_mi_options *opts,
                                      azkv_cred_source **out, azkv_err *err);

/* How long a managed-identity request waits before retry number attempt
 * + 1 after HTTP status, or -1 for no retry. IMDS (imds) retries 404,
 * 410, 429 and 5xx, as the Azure SDKs do: max_retries times, 0.8 s
 * doubling (the JS SDK's schedule), and 410 ("IMDS is being updated")
 * every 10 s for 70 s (MSAL's IMDS guidance); App Service and Arc retry
 * 429 and 5xx. Retry-After, when sent, wins (capped at 60 s). */
long azkv_mi_retry_delay_ms(int imds, long status, int attempt, int max_retries,
                            const char *retry_after);

/* The Azure CLI (cred_cli.c). tenant may be NULL (az's default). */
azkv_rc azkv_src_azure_cli_new(const char *tenant, long timeout_ms, azkv_cred_source **out,
                               azkv_err *err);

/* What the Azure CLI prints (cred_cli.c), parsed apart from running it:
 * `az account get-access-token --output json` (accessToken, and
 * expires_on in Unix seconds, or expiresOn in local time before az 2.54;
 * the tree's copy of the token is wiped), and `az account show --output
 * json` (id, tenantId, environmentName: owned, NULL when absent). */
azkv_rc azkv_cli_token_parse(cJSON *json, azkv_token *out, azkv_err *err);
azkv_rc azkv_cli_account_parse(const cJSON *json, char **subscription, char **tenant, char **cloud,
                               azkv_err *err);

/* The first source of srcs that is available (cred_chain.c); takes
 * ownership of srcs[] (NULL entries stand for sources that could not be
 * made, with their reasons in why[], owned too). */
azkv_rc azkv_src_chain_new(azkv_cred_source **srcs, char **why, const char *const *names, size_t n,
                           azkv_cred_source **out, azkv_err *err);

/* ---- the cache's pieces, for unit tests ---------------------------- */

typedef struct azkv_credential azkv_credential;

/* A credential over src (owned: freed with it, or at once on failure). */
azkv_rc azkv_credential_new_from_source(azkv_cred_source *src, const char *tenant_id,
                                        azkv_credential **out, azkv_err *err);

/* The tenants a token may be asked for besides the credential's own,
 * home (NULL: any tenant may be asked, the SDKs' rule for a credential
 * with no tenant of its own): allowed[] are tenant ids or "*" (copied);
 * hint names the settings that allow more, for the refusal's message.
 * azkv_credential_new sets them from the configuration. */
azkv_rc azkv_credential_allow_tenants(azkv_credential *cred, const char *home,
                                      const char *const *allowed, size_t n, const char *hint,
                                      azkv_err *err);

/* How many (scope, tenant) entries the token cache holds now. */
size_t azkv_credential_cache_size(azkv_credential *cred);

/* Seconds after issue to refresh a token of lifetime seconds, given the
 * issuer's refresh_in (0 when none). */
int64_t azkv_token_refresh_in(int64_t lifetime, int64_t refresh_in);

#endif
