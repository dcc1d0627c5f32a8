/* Entra ID client-credentials tokens, cached per scope and tenant. */
#include "credential.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "bytes.h"
#include "log.h"

#define REFRESH_MARGIN_S     300 /* refresh this long before expiry */
#define DEFAULT_EXPIRES_IN_S 600 /* when the response does not say */
#define DEFAULT_AUTHORITY    "https://login.microsoftonline.com"

typedef struct token_entry {
	struct token_entry *next;
	char *scope;
	char *tenant;
	char *token;        /* secret; NULL when none or invalidated */
	int64_t refresh_at; /* monotonic seconds */
	int fetching;       /* a thread is fetching it now */
} token_entry;

struct azkv_credential {
	azkv_credential_type type;
	char *tenant_id;
	char *client_id;
	char *client_secret; /* secret */
	char *authority_host;
	azkv_http *http;
	pthread_mutex_t lock; /* guards cache; never held across I/O */
	pthread_cond_t fetched;
	token_entry *cache;
};

static int64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* A tenant goes into the token URL's path: GUID or domain name only. */
static int tenant_valid(const char *t)
{
	size_t len = t ? strlen(t) : 0;

	if (len == 0 || len > 256 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return 0;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
	       len;
}

static azkv_rc dup_field(const char *src, char **dst, azkv_err *err)
{
	if (!src)
		return AZKV_OK;
	*dst = strdup(src);
	return *dst ? AZKV_OK : azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
}

static const char *env_value(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

azkv_rc azkv_credential_new(const azkv_credential_config *cfg, azkv_http *http,
                            azkv_credential **out, azkv_err *err)
{
	azkv_credential *cred = NULL;
	const char *tenant, *client, *secret, *authority;
	int locks = 0;
	azkv_rc rc = AZKV_OK;

	*out = NULL;
	if (!cfg || !http) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "credential: no configuration");
		goto out;
	}
	tenant = cfg->tenant_id;
	client = cfg->client_id;
	secret = cfg->client_secret;
	authority = cfg->authority_host;
	if (cfg->type == AZKV_CRED_ENVIRONMENT) {
		static const char *const vars[] = {"AZURE_TENANT_ID", "AZURE_CLIENT_ID",
		                                   "AZURE_CLIENT_SECRET"};

		tenant = env_value(vars[0]);
		client = env_value(vars[1]);
		secret = env_value(vars[2]);
		if (env_value("AZURE_AUTHORITY_HOST"))
			authority = env_value("AZURE_AUTHORITY_HOST");
		for (size_t i = 0; i < 3; i++) {
			if (env_value(vars[i]))
				continue;
			if (i == 2 && env_value("AZURE_CLIENT_CERTIFICATE_PATH"))
				rc = azkv_err_set(err, AZKV_ERR_UNSUPPORTED,
				                  "credential type environment: "
				                  "AZURE_CLIENT_CERTIFICATE_PATH is not supported "
				                  "yet; set AZURE_CLIENT_SECRET");
			else
				rc = azkv_err_set(err, AZKV_ERR_CONFIG,
				                  "credential type environment: %s is not set",
				                  vars[i]);
			goto out;
		}
	} else if (cfg->type != AZKV_CRED_CLIENT_SECRET) {
		rc = azkv_err_set(err, AZKV_ERR_CONFIG, "credential: unknown type %d",
		                  (int)cfg->type);
		goto out;
	} else if (!tenant || !client || !secret || !*secret) {
		rc = azkv_err_set(err, AZKV_ERR_CONFIG, "credential type client_secret needs %s",
		                  !tenant   ? "tenant_id"
		                  : !client ? "client_id"
		                            : "client_secret");
		goto out;
	}
	if (!tenant_valid(tenant)) {
		rc = azkv_err_set(err, AZKV_ERR_CONFIG,
		                  "credential: tenant id \"%s\" is not a GUID or domain name",
		                  tenant);
		goto out;
	}
	if (!authority)
		authority = DEFAULT_AUTHORITY;
	if (!azkv_http_url_allowed(authority)) {
		rc = azkv_err_set(err, AZKV_ERR_CONFIG,
		                  "credential: authority host %s must be https://", authority);
		goto out;
	}

	cred = calloc(1, sizeof(*cred));
	if (!cred) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	cred->type = cfg->type;
	cred->http = http;
	if (pthread_mutex_init(&cred->lock, NULL) != 0)
		goto nomem;
	locks++;
	if (pthread_cond_init(&cred->fetched, NULL) != 0)
		goto nomem;
	locks++;
	rc = dup_field(tenant, &cred->tenant_id, err);
	if (rc == AZKV_OK)
		rc = dup_field(client, &cred->client_id, err);
	if (rc == AZKV_OK)
		rc = dup_field(secret, &cred->client_secret, err);
	if (rc == AZKV_OK)
		rc = dup_field(authority, &cred->authority_host, err);
	if (rc != AZKV_OK)
		goto out;
	{
		/* No trailing '/': the token URL appends "/{tenant}/...". */
		size_t len = strlen(cred->authority_host);

		while (len > 0 && cred->authority_host[len - 1] == '/')
			cred->authority_host[--len] = '\0';
	}
	azkv_debug("credential: %s, tenant %s, client %s, authority %s",
	           cred->type == AZKV_CRED_ENVIRONMENT ? "environment" : "client_secret",
	           cred->tenant_id, cred->client_id, cred->authority_host);
	*out = cred;
	cred = NULL;
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: cannot create a lock");
out:
	if (cred) {
		if (locks > 1)
			pthread_cond_destroy(&cred->fetched);
		if (locks > 0)
			pthread_mutex_destroy(&cred->lock);
		free(cred->tenant_id);
		free(cred->client_id);
		azkv_secret_str_free(cred->client_secret);
		free(cred->authority_host);
		free(cred);
	}
	return rc;
}

void azkv_credential_free(azkv_credential *cred)
{
	token_entry *e, *next;

	if (!cred)
		return;
	for (e = cred->cache; e; e = next) {
		next = e->next;
		free(e->scope);
		free(e->tenant);
		azkv_secret_str_free(e->token);
		free(e);
	}
	pthread_cond_destroy(&cred->fetched);
	pthread_mutex_destroy(&cred->lock);
	free(cred->tenant_id);
	free(cred->client_id);
	azkv_secret_str_free(cred->client_secret);
	free(cred->authority_host);
	free(cred);
}

/* ---------------------------------------------------------------- token endpoint */

/* "name=escaped(value)" appended to buf at *len; buf holds the secret,
 * so the escaped copies are wiped too. Returns -1 on ENOMEM/overflow. */
static int form_append(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	int n;

	if (!esc)
		return -1;
	n = snprintf(buf + *len, cap - *len, "%s%s=%s", *len ? "&" : "", name, esc);
	OPENSSL_cleanse(esc, strlen(esc));
	curl_free(esc);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/* Fills err from an Entra error body {"error","error_description"}. */
static azkv_rc entra_error(const azkv_credential *cred, const char *scope, const char *tenant,
                           const azkv_http_response *resp, azkv_err *err)
{
	cJSON *root = cJSON_Parse(resp->body);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "error_description");
	char text[320] = "";
	azkv_rc rc;
	char *p;

	if (cJSON_IsString(desc)) {
		/* The first line holds the AADSTS text; Trace/Correlation IDs follow. */
		snprintf(text, sizeof(text), "%s", desc->valuestring);
		text[strcspn(text, "\r\n")] = '\0';
		/* Entra does not echo the secret, but make sure. */
		while (cred->client_secret[0] && (p = strstr(text, cred->client_secret)))
			memset(p, '*', strlen(cred->client_secret));
	}
	if (resp->status == 429)
		rc = AZKV_ERR_THROTTLED;
	else if (resp->status >= 500)
		rc = AZKV_ERR_SERVER;
	else
		rc = AZKV_ERR_AUTH;
	azkv_err_set(err, rc, "Entra ID token for %s (tenant %s) from %s: HTTP %ld %s%s%s", scope,
	             tenant, cred->authority_host, resp->status,
	             cJSON_IsString(code) ? code->valuestring : "(no error code)",
	             text[0] ? ": " : "", text);
	if (err) {
		err->http_status = resp->status;
		if (cJSON_IsString(code))
			snprintf(err->code, sizeof(err->code), "%s", code->valuestring);
	}
	cJSON_Delete(root);
	return rc;
}

/* Parses {"access_token","expires_in"}; wipes the tree's copy. */
static azkv_rc token_parse(const azkv_http_response *resp, char **token, int64_t *expires_in,
                           azkv_err *err)
{
	cJSON *root = cJSON_Parse(resp->body);
	cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	azkv_rc rc = AZKV_OK;
	double secs = DEFAULT_EXPIRES_IN_S;
	char *end;

	if (!cJSON_IsString(tok) || !tok->valuestring[0]) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "Entra ID token response has no access_token");
		goto out;
	}
	if (cJSON_IsNumber(exp)) {
		secs = exp->valuedouble;
	} else if (cJSON_IsString(exp)) {
		secs = strtod(exp->valuestring, &end);
		if (end == exp->valuestring || *end)
			secs = -1;
	}
	if (!(secs > 0 && secs < 1e9)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "Entra ID token response has a bad expires_in");
		goto out;
	}
	*token = strdup(tok->valuestring);
	if (!*token) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	*expires_in = (int64_t)secs;
out:
	if (cJSON_IsString(tok))
		OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(root);
	return rc;
}

static azkv_rc fetch_token(azkv_credential *cred, const char *scope, const char *tenant,
                           char **token, int64_t *expires_in, azkv_err *err)
{
	static const char *const headers[] = {
	        "Content-Type: application/x-www-form-urlencoded",
	        "Accept: application/json",
	        NULL,
	};
	azkv_http_response resp = {0};
	char *url = NULL, *esc_tenant = NULL;
	char *form = NULL;
	size_t url_len, form_cap, form_len = 0;
	azkv_rc rc;

	esc_tenant = curl_easy_escape(NULL, tenant, 0);
	url_len = strlen(cred->authority_host) + (esc_tenant ? strlen(esc_tenant) : 0) + 32;
	url = malloc(url_len);
	form_cap =
	        128 + 3 * (strlen(cred->client_id) + strlen(cred->client_secret) + strlen(scope));
	form = malloc(form_cap);
	if (!esc_tenant || !url || !form) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	snprintf(url, url_len, "%s/%s/oauth2/v2.0/token", cred->authority_host, esc_tenant);
	if (form_append(form, form_cap, &form_len, "grant_type", "client_credentials") ||
	    form_append(form, form_cap, &form_len, "client_id", cred->client_id) ||
	    form_append(form, form_cap, &form_len, "client_secret", cred->client_secret) ||
	    form_append(form, form_cap, &form_len, "scope", scope)) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}

	rc = azkv_http_request(cred->http, "POST", url, headers, form, form_len, &resp, err);
	if (rc != AZKV_OK) {
		azkv_err_set(err, rc, "Entra ID token for %s (tenant %s): %s", scope, tenant,
		             err ? err->message : "request failed");
		goto out;
	}
	if (resp.status != 200) {
		rc = entra_error(cred, scope, tenant, &resp, err);
		goto out;
	}
	rc = token_parse(&resp, token, expires_in, err);
out:
	azkv_http_response_free(&resp);
	if (form) {
		OPENSSL_cleanse(form, form_cap);
		free(form);
	}
	curl_free(esc_tenant);
	free(url);
	return rc;
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

azkv_rc azkv_credential_get_token(azkv_credential *cred, const char *scope, const char *tenant_id,
                                  char **token, azkv_err *err)
{
	const char *tenant;
	token_entry *e;
	char *fresh = NULL;
	int64_t expires_in = 0, margin;
	azkv_rc rc = AZKV_OK;

	*token = NULL;
	if (!cred || !scope || !*scope)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "credential: no scope");
	tenant = tenant_id && *tenant_id ? tenant_id : cred->tenant_id;
	if (!tenant_valid(tenant))
		return azkv_err_set(err, AZKV_ERR_AUTH,
		                    "credential: tenant id \"%.64s\" is not a GUID or domain name",
		                    tenant);

	pthread_mutex_lock(&cred->lock);
	for (;;) {
		e = cache_find(cred, scope, tenant);
		if (e && e->token && now_s() < e->refresh_at) {
			*token = strdup(e->token);
			pthread_mutex_unlock(&cred->lock);
			if (!*token)
				return azkv_err_set(err, AZKV_ERR_NOMEM,
				                    "credential: out of memory");
			return AZKV_OK;
		}
		if (!e || !e->fetching)
			break;
		/* Another thread is asking Entra ID for this token: wait. */
		pthread_cond_wait(&cred->fetched, &cred->lock);
	}
	if (!e) {
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
	}
	e->fetching = 1;
	pthread_mutex_unlock(&cred->lock);

	/* Entries are never removed, so e stays valid without the lock. */
	rc = fetch_token(cred, scope, tenant, &fresh, &expires_in, err);
	if (rc == AZKV_OK) {
		*token = strdup(fresh);
		if (!*token)
			rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
	}

	pthread_mutex_lock(&cred->lock);
	e->fetching = 0;
	if (rc == AZKV_OK) {
		azkv_secret_str_free(e->token);
		e->token = fresh;
		fresh = NULL;
		margin = expires_in > 2 * REFRESH_MARGIN_S ? REFRESH_MARGIN_S : expires_in / 2;
		e->refresh_at = now_s() + expires_in - margin;
	}
	pthread_cond_broadcast(&cred->fetched);
	pthread_mutex_unlock(&cred->lock);

	if (rc == AZKV_OK)
		azkv_info("credential: token for %s (tenant %s) acquired, expires in %lld s", scope,
		          tenant, (long long)expires_in);
	azkv_secret_str_free(fresh);
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
