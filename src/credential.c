/* The credential: a token source chosen by credential.type (cred_*.c),
 * and the token cache above it, per tenant and scope. */
#include "credential.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bytes.h"
#include "cred_source.h"
#include "log.h"

#define REFRESH_MARGIN_S   300   /* refresh this long before expiry (the SDKs' margin) */
#define LONG_LIVED_S       7200  /* tokens this long refresh at half-life (MSAL) */
#define REFRESH_RETRY_MS   30000 /* after a failed refresh of a valid token (azure-core) */
#define MI_DEFAULT_RETRIES 3
/* Entries of the token cache: one per (scope, tenant) in use, a handful in
 * practice (a vault's scope, ARM's, a Managed HSM's); past this, expired
 * then least recently used entries are dropped, so that challenges naming
 * ever new scopes or tenants cannot grow it without bound. */
#define TOKEN_CACHE_MAX 16

typedef struct token_entry {
	struct token_entry *next;
	char *scope;
	char *tenant;         /* "" for the source's own */
	char *token;          /* secret; NULL when none or invalidated */
	int64_t expires_at;   /* monotonic ms */
	int64_t refresh_at;   /* monotonic ms: from then on, one thread refreshes */
	int64_t next_attempt; /* monotonic ms: no refresh before (after a failure) */
	uint64_t last_used;   /* cred->uses when last used: for eviction */
	int fetching;         /* a thread is asking the source now */
	unsigned fetches;     /* how many asks have ended */
	azkv_rc last_rc;      /* how the last one ended */
	azkv_err last_err;    /* and why, for the threads that waited for it */
} token_entry;

struct azkv_credential {
	azkv_cred_source *src;
	char *tenant_id;   /* the configured tenant, or NULL */
	char *home_tenant; /* the tenant the credential is for, NULL: any may be asked */
	char **allowed;    /* additionally_allowed_tenants ("*": any) */
	size_t n_allowed;
	const char *allow_hint; /* where to allow more, for the message */
	pthread_mutex_t lock;   /* guards cache; never held across I/O */
	pthread_cond_t fetched;
	token_entry *cache;
	size_t n_cache;
	uint64_t uses; /* a clock of cache uses, finer than the monotonic ms */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *env_value(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

/* ---------------------------------------------------------------- a source that failed */

/* What could not be made stays in a chain as its error, so that a broken
 * setup (an unreadable certificate named in the environment) is reported
 * where it is met instead of being skipped. */
typedef struct broken_source {
	azkv_cred_source base;
	azkv_err err;
} broken_source;

static azkv_rc broken_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                                azkv_token *out, azkv_err *err)
{
	broken_source *b = (broken_source *)src;

	(void)scope;
	(void)tenant;
	memset(out, 0, sizeof(*out));
	if (err)
		*err = b->err;
	return b->err.rc;
}

static void broken_free(azkv_cred_source *src)
{
	free(src);
}

/* ---------------------------------------------------------------- sources by type */

typedef struct source_ctx {
	const azkv_credential_config *cfg;
	const azkv_cloud *cloud;
	azkv_http *http;
	int max_retries;
	int in_chain;
	char authority[512];
} source_ctx;

/* The authority host: the configuration's, else AZURE_AUTHORITY_HOST (the
 * SDKs honour it for every credential), else the cloud's. */
static azkv_rc pick_authority(source_ctx *x, azkv_err *err)
{
	const char *a = x->cfg->authority_host;
	size_t len;

	if (!a)
		a = env_value("AZURE_AUTHORITY_HOST");
	if (!a)
		a = x->cloud->authority_host;
	if (!azkv_http_url_allowed(a))
		return azkv_err_set(err, AZKV_ERR_CONFIG,
		                    "credential: authority host %s must be https://", a);
	len = strlen(a);
	while (len > 0 && a[len - 1] == '/')
		len--;
	if (len >= sizeof(x->authority))
		return azkv_err_set(err, AZKV_ERR_CONFIG, "credential: authority host too long");
	/* No trailing '/': the token URL appends "/{tenant}/...". */
	snprintf(x->authority, sizeof(x->authority), "%.*s", (int)len, a);
	return AZKV_OK;
}

static azkv_rc need_tenant(const char *tenant, const char *what, azkv_err *err)
{
	if (!azkv_tenant_valid(tenant))
		return azkv_err_set(err, AZKV_ERR_CONFIG,
		                    "credential %s: tenant id \"%s\" is not a GUID or domain name",
		                    what, tenant);
	return AZKV_OK;
}

/* environment: the SDKs' EnvironmentCredential variables. */
static azkv_rc environment_source(source_ctx *x, azkv_cred_source **out, azkv_err *err)
{
	const char *tenant = env_value("AZURE_TENANT_ID"), *client = env_value("AZURE_CLIENT_ID");
	const char *secret = env_value("AZURE_CLIENT_SECRET");
	const char *cert = env_value("AZURE_CLIENT_CERTIFICATE_PATH");
	const char *chain = env_value("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN");
	azkv_cert_options o = {0};
	azkv_rc rc;

	if (!tenant || !client || (!secret && !cert))
		return azkv_err_set(
		        err, AZKV_ERR_UNAVAILABLE,
		        "environment: %s is not set (it needs AZURE_TENANT_ID, "
		        "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or "
		        "AZURE_CLIENT_CERTIFICATE_PATH)",
		        !tenant   ? "AZURE_TENANT_ID"
		        : !client ? "AZURE_CLIENT_ID"
		                  : "AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)");
	rc = need_tenant(tenant, "environment", err);
	if (rc != AZKV_OK)
		return rc;
	if (secret)
		return azkv_src_client_secret_new(x->http, x->authority, tenant, client, secret,
		                                  out, err);
	o.path = cert;
	o.password = env_value("AZURE_CLIENT_CERTIFICATE_PASSWORD");
	o.send_chain = chain && (strcmp(chain, "1") == 0 || strcasecmp(chain, "true") == 0);
	o.alg = AZKV_ASSERTION_RS256;
	return azkv_src_certificate_new(x->http, x->authority, tenant, client, &o, out, err);
}

static azkv_rc workload_source(source_ctx *x, azkv_cred_source **out, azkv_err *err)
{
	const azkv_credential_config *c = x->cfg;
	const char *tenant = c->tenant_id ? c->tenant_id : env_value("AZURE_TENANT_ID");
	const char *client = c->client_id ? c->client_id : env_value("AZURE_CLIENT_ID");
	const char *file = c->token_file ? c->token_file : env_value("AZURE_FEDERATED_TOKEN_FILE");

	if (!tenant || !client || !file)
		return azkv_err_set(
		        err, AZKV_ERR_UNAVAILABLE,
		        "workload_identity: %s is not set (in AKS the workload identity "
		        "webhook sets AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and "
		        "AZURE_TENANT_ID in pods labelled azure.workload.identity/use)",
		        !file     ? "AZURE_FEDERATED_TOKEN_FILE (credential.token_file)"
		        : !client ? "AZURE_CLIENT_ID (credential.client_id)"
		                  : "AZURE_TENANT_ID (credential.tenant_id)");
	if (need_tenant(tenant, "workload_identity", err) != AZKV_OK)
		return err ? err->rc : AZKV_ERR_CONFIG;
	return azkv_src_workload_new(x->http, x->authority, tenant, client, file, out, err);
}

static azkv_rc make_source(source_ctx *x, azkv_credential_type type, azkv_cred_source **out,
                           azkv_err *err);

static azkv_rc default_source(source_ctx *x, azkv_cred_source **out, azkv_err *err)
{
	static const azkv_credential_type order[] = {
	        AZKV_CRED_ENVIRONMENT,
	        AZKV_CRED_WORKLOAD_IDENTITY,
	        AZKV_CRED_MANAGED_IDENTITY,
	        AZKV_CRED_AZURE_CLI,
	};
	static const char *const names[] = {"environment", "workload_identity", "managed_identity",
	                                    "azure_cli"};
	azkv_cred_source *srcs[4] = {0};
	char *why[4] = {0};
	broken_source *b;
	azkv_err e;
	azkv_rc rc;

	x->in_chain = 1;
	for (size_t i = 0; i < 4; i++) {
		azkv_err_clear(&e);
		rc = make_source(x, order[i], &srcs[i], &e);
		if (rc == AZKV_ERR_UNAVAILABLE) {
			why[i] = strdup(e.message);
			if (!why[i])
				rc = AZKV_ERR_NOMEM;
		} else if (rc != AZKV_OK && rc != AZKV_ERR_NOMEM) {
			b = calloc(1, sizeof(*b));
			if (b) {
				b->base.name = names[i];
				b->base.get_token = broken_get_token;
				b->base.free = broken_free;
				b->err = e;
				srcs[i] = &b->base;
			}
			rc = b ? AZKV_OK : AZKV_ERR_NOMEM;
		}
		if (rc == AZKV_ERR_NOMEM) {
			for (size_t j = 0; j <= i; j++) {
				if (srcs[j])
					srcs[j]->free(srcs[j]);
				free(why[j]);
			}
			return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		}
	}
	return azkv_src_chain_new(srcs, why, names, 4, out, err);
}

static azkv_rc make_source(source_ctx *x, azkv_credential_type type, azkv_cred_source **out,
                           azkv_err *err)
{
	const azkv_credential_config *c = x->cfg;
	azkv_cert_options co = {0};
	azkv_mi_options mo = {0};

	*out = NULL;
	switch (type) {
	case AZKV_CRED_CLIENT_SECRET:
		if (!c->tenant_id || !c->client_id || !c->client_secret || !*c->client_secret)
			return azkv_err_set(err, AZKV_ERR_CONFIG,
			                    "credential type client_secret needs %s",
			                    !c->tenant_id   ? "tenant_id"
			                    : !c->client_id ? "client_id"
			                                    : "client_secret");
		if (need_tenant(c->tenant_id, "client_secret", err) != AZKV_OK)
			return AZKV_ERR_CONFIG;
		return azkv_src_client_secret_new(x->http, x->authority, c->tenant_id, c->client_id,
		                                  c->client_secret, out, err);
	case AZKV_CRED_ENVIRONMENT:
		return environment_source(x, out, err);
	case AZKV_CRED_CLIENT_CERTIFICATE:
		if (!c->tenant_id || !c->client_id || !c->certificate_file)
			return azkv_err_set(err, AZKV_ERR_CONFIG,
			                    "credential type client_certificate needs %s",
			                    !c->tenant_id   ? "tenant_id"
			                    : !c->client_id ? "client_id"
			                                    : "certificate_file");
		if (need_tenant(c->tenant_id, "client_certificate", err) != AZKV_OK)
			return AZKV_ERR_CONFIG;
		co.path = c->certificate_file;
		co.password = c->certificate_password;
		co.send_chain = c->send_certificate_chain;
		co.alg = c->assertion_alg;
		return azkv_src_certificate_new(x->http, x->authority, c->tenant_id, c->client_id,
		                                &co, out, err);
	case AZKV_CRED_MANAGED_IDENTITY:
		/* In the chain, AZURE_CLIENT_ID names a user-assigned identity,
		 * as DefaultAzureCredential's managedIdentityClientId does. */
		mo.client_id = c->client_id  ? c->client_id
		               : x->in_chain ? env_value("AZURE_CLIENT_ID")
		                             : NULL;
		mo.object_id = c->object_id;
		mo.resource_id = c->resource_id;
		mo.imds_endpoint = c->imds_endpoint;
		mo.identity_endpoint = c->identity_endpoint;
		mo.arc_key_dir = c->arc_key_dir;
		mo.max_retries = x->max_retries >= 0 ? x->max_retries : MI_DEFAULT_RETRIES;
		mo.probe = x->in_chain;
		return azkv_src_managed_identity_new(x->http, &mo, out, err);
	case AZKV_CRED_WORKLOAD_IDENTITY:
		return workload_source(x, out, err);
	case AZKV_CRED_AZURE_CLI:
		if (c->tenant_id && need_tenant(c->tenant_id, "azure_cli", err) != AZKV_OK)
			return AZKV_ERR_CONFIG;
		return azkv_src_azure_cli_new(c->tenant_id, c->process_timeout_ms, out, err);
	case AZKV_CRED_DEFAULT:
		return default_source(x, out, err);
	case AZKV_CRED_TYPE_COUNT:
		break;
	}
	return azkv_err_set(err, AZKV_ERR_CONFIG, "credential: unknown type %d", (int)type);
}

/* ---------------------------------------------------------------- object */

azkv_rc azkv_credential_new_from_source(azkv_cred_source *src, const char *tenant_id,
                                        azkv_credential **out, azkv_err *err)
{
	azkv_credential *cred = calloc(1, sizeof(*cred));

	*out = NULL;
	if (!cred || pthread_mutex_init(&cred->lock, NULL) != 0) {
		free(cred);
		src->free(src);
		return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
	}
	if (pthread_cond_init(&cred->fetched, NULL) != 0 ||
	    (tenant_id && !(cred->tenant_id = strdup(tenant_id)))) {
		pthread_mutex_destroy(&cred->lock);
		free(cred);
		src->free(src);
		return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
	}
	cred->src = src;
	*out = cred;
	return AZKV_OK;
}

/* ---------------------------------------------------------------- tenants */

azkv_rc azkv_credential_allow_tenants(azkv_credential *cred, const char *home,
                                      const char *const *allowed, size_t n, const char *hint,
                                      azkv_err *err)
{
	if (home && !(cred->home_tenant = strdup(home)))
		goto nomem;
	cred->allowed = calloc(n + 1, sizeof(*cred->allowed));
	if (!cred->allowed)
		goto nomem;
	for (; cred->n_allowed < n; cred->n_allowed++) {
		cred->allowed[cred->n_allowed] = strdup(allowed[cred->n_allowed]);
		if (!cred->allowed[cred->n_allowed])
			goto nomem;
	}
	cred->allow_hint = hint;
	return AZKV_OK;
nomem:
	return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
}

/* The tenants a vault's challenge may name, as the Azure SDKs decide
 * (azure-identity's additionally_allowed_tenants, with
 * AZURE_ADDITIONALLY_ALLOWED_TENANTS for the environment and the default
 * chain): the credential's own tenant (credential.tenant_id, else
 * AZURE_TENANT_ID for the types that read it), the listed ones, or any
 * with "*". A credential with no tenant of its own (the Azure CLI's
 * default) may be asked for any, as in the SDKs; a managed identity
 * ignores the tenant (its tokens come from its own). */
static azkv_rc allow_configured_tenants(azkv_credential *cred, const azkv_credential_config *cfg,
                                        azkv_err *err)
{
	const char *home = cfg->tenant_id, *hint = "credential.additionally_allowed_tenants";
	const char *env = NULL;
	char *copy = NULL, *tok, *save = NULL;
	const char **list = NULL;
	size_t n = 0, cap;
	azkv_rc rc;

	if (cfg->type == AZKV_CRED_MANAGED_IDENTITY)
		return AZKV_OK;
	if (cfg->type == AZKV_CRED_ENVIRONMENT || cfg->type == AZKV_CRED_WORKLOAD_IDENTITY ||
	    cfg->type == AZKV_CRED_DEFAULT) {
		if (!home)
			home = env_value("AZURE_TENANT_ID");
	}
	if (cfg->type == AZKV_CRED_ENVIRONMENT || cfg->type == AZKV_CRED_DEFAULT) {
		env = env_value("AZURE_ADDITIONALLY_ALLOWED_TENANTS");
		hint = "credential.additionally_allowed_tenants or "
		       "AZURE_ADDITIONALLY_ALLOWED_TENANTS";
	}
	cap = cfg->n_allowed_tenants + (env ? strlen(env) / 2 + 1 : 0);
	list = calloc(cap + 1, sizeof(*list));
	if (env)
		copy = strdup(env);
	if (!list || (env && !copy)) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_allowed_tenants; i++)
		list[n++] = cfg->allowed_tenants[i];
	/* The SDKs split the variable on ';'. */
	for (tok = copy ? strtok_r(copy, ";", &save) : NULL; tok && n < cap;
	     tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok)
			list[n++] = tok;
	}
	rc = azkv_credential_allow_tenants(cred, home, list, n, hint, err);
out:
	free(list);
	free(copy);
	return rc;
}

/* Whether a token may be asked for in tenant (a challenge's). */
static azkv_rc check_tenant(const azkv_credential *cred, const char *tenant, azkv_err *err)
{
	if (!tenant || !cred->home_tenant || strcasecmp(tenant, cred->home_tenant) == 0)
		return AZKV_OK;
	for (size_t i = 0; i < cred->n_allowed; i++) {
		if (strcmp(cred->allowed[i], "*") == 0 || strcasecmp(cred->allowed[i], tenant) == 0)
			return AZKV_OK;
	}
	return azkv_err_set(err, AZKV_ERR_AUTH,
	                    "credential: the vault's challenge asks for a token from tenant %.64s, "
	                    "but the credential is for tenant %.64s; no token asked. If the vault "
	                    "is meant to be in that tenant, add \"%.64s\" (or \"*\") to %s",
	                    tenant, cred->home_tenant, tenant,
	                    cred->allow_hint ? cred->allow_hint
	                                     : "credential.additionally_allowed_tenants");
}

azkv_rc azkv_credential_new(const azkv_credential_config *cfg, const azkv_cloud *cloud,
                            int max_retries, azkv_http *http, azkv_credential **out, azkv_err *err)
{
	source_ctx x = {.cfg = cfg,
	                .cloud = cloud ? cloud : azkv_cloud_default(),
	                .http = http,
	                .max_retries = max_retries};
	azkv_cred_source *src = NULL;
	azkv_rc rc;

	*out = NULL;
	if (!cfg || !http)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "credential: no configuration");
	rc = pick_authority(&x, err);
	if (rc == AZKV_OK)
		rc = make_source(&x, cfg->type, &src, err);
	/* Named explicitly, a type whose variables are missing is a mistake. */
	if (rc == AZKV_ERR_UNAVAILABLE && err)
		err->rc = rc = AZKV_ERR_CONFIG;
	if (rc != AZKV_OK)
		return rc;
	rc = azkv_credential_new_from_source(src, cfg->tenant_id, out, err);
	if (rc == AZKV_OK)
		rc = allow_configured_tenants(*out, cfg, err);
	if (rc != AZKV_OK) {
		azkv_credential_free(*out);
		*out = NULL;
		return rc;
	}
	azkv_info("credential: %s (%s cloud, authority %s)", src->name, x.cloud->name, x.authority);
	return rc;
}

static void entry_free(token_entry *e)
{
	free(e->scope);
	free(e->tenant);
	azkv_secret_str_free(e->token);
	free(e);
}

void azkv_credential_free(azkv_credential *cred)
{
	token_entry *e, *next;

	if (!cred)
		return;
	for (e = cred->cache; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	for (size_t i = 0; i < cred->n_allowed; i++)
		free(cred->allowed[i]);
	free(cred->allowed);
	free(cred->home_tenant);
	cred->src->free(cred->src);
	pthread_cond_destroy(&cred->fetched);
	pthread_mutex_destroy(&cred->lock);
	free(cred->tenant_id);
	free(cred);
}

void azkv_credential_fork_prepare(azkv_credential *cred)
{
	pthread_mutex_lock(&cred->lock);
}

void azkv_credential_fork_parent(azkv_credential *cred)
{
	pthread_mutex_unlock(&cred->lock);
}

void azkv_credential_fork_child(azkv_credential *cred)
{
	for (token_entry *e = cred->cache; e; e = e->next)
		azkv_secret_str_wipe(e->token);
	if (cred->src->wipe)
		cred->src->wipe(cred->src);
	pthread_mutex_unlock(&cred->lock);
}

const char *azkv_credential_source_name(const azkv_credential *cred)
{
	return cred ? cred->src->name : NULL;
}

/* ---------------------------------------------------------------- cache */

static token_entry *cache_find(azkv_credential *cred, const char *scope, const char *tenant)
{
	for (token_entry *e = cred->cache; e; e = e->next) {
		if (strcmp(e->scope, scope) == 0 && strcmp(e->tenant, tenant) == 0)
			return e;
	}
	return NULL;
}

/* Makes room for one more entry when the cache is full: drops an entry
 * with no valid token, else the least recently used; never one a thread
 * is fetching for (it holds a pointer to it without the lock). Called
 * with the lock held. */
static void cache_evict(azkv_credential *cred, int64_t now)
{
	token_entry **pp, **victim = NULL;
	int victim_valid = 1;

	if (cred->n_cache < TOKEN_CACHE_MAX)
		return;
	for (pp = &cred->cache; *pp; pp = &(*pp)->next) {
		token_entry *e = *pp;
		int valid = e->token && now < e->expires_at;

		if (e->fetching)
			continue;
		if (!victim || (!valid && victim_valid) ||
		    (valid == victim_valid && e->last_used < (*victim)->last_used)) {
			victim = pp;
			victim_valid = valid;
		}
	}
	if (victim) {
		token_entry *e = *victim;

		*victim = e->next;
		entry_free(e);
		cred->n_cache--;
	}
}

size_t azkv_credential_cache_size(azkv_credential *cred)
{
	size_t n;

	pthread_mutex_lock(&cred->lock);
	n = cred->n_cache;
	pthread_mutex_unlock(&cred->lock);
	return n;
}

/* When to refresh a token of lifetime seconds: at refresh_in when the
 * issuer says, at half-life for long-lived tokens (MSAL), else five
 * minutes before expiry (the SDKs' margin; half-life for short ones). */
int64_t azkv_token_refresh_in(int64_t lifetime, int64_t refresh_in)
{
	if (refresh_in > 0 && refresh_in < lifetime)
		return refresh_in;
	if (lifetime >= LONG_LIVED_S)
		return lifetime / 2;
	return lifetime - (lifetime > 2 * REFRESH_MARGIN_S ? REFRESH_MARGIN_S : lifetime / 2);
}

static azkv_rc copy_token(const char *token, char **out, azkv_err *err)
{
	*out = strdup(token);
	return *out ? AZKV_OK : azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
}

azkv_rc azkv_credential_get_token(azkv_credential *cred, const char *scope, const char *tenant_id,
                                  char **token, azkv_err *err)
{
	const char *tenant;
	token_entry *e;
	azkv_token fresh = {0};
	int64_t now, lifetime;
	unsigned waited_for = 0;
	int waited = 0;
	azkv_rc rc;

	*token = NULL;
	if (!cred || !scope || !*scope)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "credential: no scope");
	rc = check_tenant(cred, tenant_id && *tenant_id ? tenant_id : NULL, err);
	if (rc != AZKV_OK)
		return rc;
	tenant = tenant_id && *tenant_id ? tenant_id : cred->tenant_id ? cred->tenant_id : "";

	pthread_mutex_lock(&cred->lock);
	for (;;) {
		now = now_ms();
		e = cache_find(cred, scope, tenant);
		if (e && e->token && now < e->expires_at &&
		    (now < e->refresh_at || e->fetching || now < e->next_attempt)) {
			/* Valid: fresh, or another thread refreshes it, or a
			 * refresh failed a moment ago. */
			e->last_used = ++cred->uses;
			rc = copy_token(e->token, token, err);
			pthread_mutex_unlock(&cred->lock);
			return rc;
		}
		if (e && waited && e->fetches != waited_for && e->last_rc != AZKV_OK) {
			/* The ask this thread waited for failed: share its error
			 * rather than asking again at once. */
			rc = e->last_rc;
			if (err)
				*err = e->last_err;
			pthread_mutex_unlock(&cred->lock);
			return rc;
		}
		if (!e || !e->fetching)
			break;
		/* No valid token, and another thread is asking for one: wait. */
		waited = 1;
		waited_for = e->fetches;
		pthread_cond_wait(&cred->fetched, &cred->lock);
	}
	if (!e) {
		cache_evict(cred, now);
		e = calloc(1, sizeof(*e));
		if (e) {
			e->scope = strdup(scope);
			e->tenant = strdup(tenant);
		}
		if (!e || !e->scope || !e->tenant) {
			if (e) {
				free(e->scope);
				free(e->tenant);
				free(e);
			}
			pthread_mutex_unlock(&cred->lock);
			return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		}
		e->next = cred->cache;
		cred->cache = e;
		cred->n_cache++;
	}
	e->fetching = 1;
	e->last_used = ++cred->uses;
	pthread_mutex_unlock(&cred->lock);

	/* An entry being fetched for is never evicted (cache_evict), so e
	 * stays valid without the lock. */
	rc = cred->src->get_token(cred->src, scope, *tenant ? tenant : NULL, &fresh, err);

	pthread_mutex_lock(&cred->lock);
	e->fetching = 0;
	e->fetches++;
	e->last_rc = rc;
	if (rc != AZKV_OK && err)
		e->last_err = *err;
	now = now_ms();
	if (rc == AZKV_OK) {
		lifetime = fresh.expires_on - (int64_t)time(NULL);
		if (lifetime < 1)
			lifetime = 1;
		azkv_secret_str_free(e->token);
		e->token = fresh.value;
		fresh.value = NULL;
		e->expires_at = now + lifetime * 1000;
		e->refresh_at =
		        now + azkv_token_refresh_in(lifetime,
		                                    fresh.refresh_on
		                                            ? fresh.refresh_on - (int64_t)time(NULL)
		                                            : 0) *
		                      1000;
		e->next_attempt = 0;
		rc = copy_token(e->token, token, err);
		azkv_info("credential: token for %s%s%s from %s, expires in %lld s", scope,
		          *tenant ? " in tenant " : "", tenant, cred->src->name,
		          (long long)lifetime);
	} else if (e->token && now < e->expires_at) {
		/* Keep the token while it lasts; try again in a while. */
		e->next_attempt = now + REFRESH_RETRY_MS;
		azkv_warn("credential: refreshing the token for %s failed (%s); the current one is "
		          "used for %lld s more",
		          scope, err ? err->message : azkv_rc_name(rc),
		          (long long)((e->expires_at - now) / 1000));
		rc = copy_token(e->token, token, err);
	}
	pthread_cond_broadcast(&cred->fetched);
	pthread_mutex_unlock(&cred->lock);
	azkv_token_clear(&fresh);
	return rc;
}

void azkv_credential_invalidate(azkv_credential *cred, const char *scope)
{
	if (!cred || !scope)
		return;
	pthread_mutex_lock(&cred->lock);
	for (token_entry *e = cred->cache; e; e = e->next) {
		if (strcmp(e->scope, scope) == 0) {
			azkv_secret_str_free(e->token);
			e->token = NULL;
		}
	}
	pthread_mutex_unlock(&cred->lock);
	azkv_debug("credential: cached token for %s dropped", scope);
}
