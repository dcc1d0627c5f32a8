/* Entra ID's token endpoint for confidential clients (the OAuth 2.0
 * client-credentials grant with a secret or a signed assertion), and the
 * client-secret source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "bytes.h"
#include "cred_source.h"
#include "log.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

int azkv_tenant_valid(const char *t)
{
	size_t len = t ? strlen(t) : 0;

	if (len == 0 || len > 256 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return 0;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
	       len;
}

char *azkv_entra_token_url(const char *authority, const char *tenant)
{
	char *esc = curl_easy_escape(NULL, tenant, 0);
	size_t len = strlen(authority) + (esc ? strlen(esc) : 0) + 32;
	char *url = esc ? malloc(len) : NULL;

	if (url)
		snprintf(url, len, "%s/%s/oauth2/v2.0/token", authority, esc);
	curl_free(esc);
	return url;
}

/* "name=escaped(value)" appended to buf at *len; buf holds a secret, so
 * the escaped copies are wiped too. Returns -1 on ENOMEM/overflow. */
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

/* Fills err from an Entra error body {"error","error_description"}; the
 * description's first line holds the AADSTS text (Trace/Correlation IDs
 * follow). secret, never echoed by Entra, is masked all the same. */
azkv_rc azkv_entra_error(const char *authority, const char *scope, const char *tenant,
                         const char *secret, const azkv_http_response *resp, azkv_err *err)
{
	cJSON *root = cJSON_Parse(resp->body);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "error_description");
	char text[320] = "";
	azkv_rc rc;
	char *p;

	if (cJSON_IsString(desc)) {
		snprintf(text, sizeof(text), "%s", desc->valuestring);
		text[strcspn(text, "\r\n")] = '\0';
		/* Past each mask: a secret of '*' would match its own. */
		for (p = text; secret[0] && (p = strstr(p, secret)); p += strlen(secret))
			memset(p, '*', strlen(secret));
	}
	if (resp->status == 429)
		rc = AZKV_ERR_THROTTLED;
	else if (resp->status >= 500)
		rc = AZKV_ERR_SERVER;
	else
		rc = AZKV_ERR_AUTH;
	azkv_err_set(err, rc, "Entra ID token for %s (tenant %s) from %s: HTTP %ld %s%s%s", scope,
	             tenant, authority, resp->status,
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

static void entra_app_clear(azkv_entra_app *app)
{
	free(app->authority);
	free(app->tenant);
	free(app->client_id);
	memset(app, 0, sizeof(*app));
}

void *azkv_entra_source_new(size_t size, const azkv_cred_source *ops, azkv_http *http,
                            const char *authority, const char *tenant, const char *client_id,
                            azkv_err *err)
{
	azkv_entra_source *s = calloc(1, size);

	if (s) {
		s->base = *ops;
		s->app.http = http;
		s->app.authority = strdup(authority);
		s->app.tenant = strdup(tenant);
		s->app.client_id = strdup(client_id);
		if (s->app.authority && s->app.tenant && s->app.client_id)
			return s;
		azkv_entra_source_free(s);
	}
	azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
	return NULL;
}

void azkv_entra_source_free(azkv_entra_source *s)
{
	if (!s)
		return;
	entra_app_clear(&s->app);
	free(s);
}

azkv_rc azkv_entra_source_done(azkv_entra_source *s, int ok, azkv_cred_source **out, azkv_err *err)
{
	if (ok) {
		*out = &s->base;
		return AZKV_OK;
	}
	s->base.free(&s->base);
	*out = NULL;
	return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
}

azkv_rc azkv_entra_app_token(const azkv_entra_app *app, const char *tenant, const char *secret,
                             const char *assertion, const char *scope, azkv_token *out,
                             azkv_err *err)
{
	static const char *const headers[] = {
	        "Content-Type: application/x-www-form-urlencoded",
	        "Accept: application/json",
	        NULL,
	};
	const char *proof = secret ? secret : assertion;
	const char *authority = app->authority, *client_id = app->client_id;
	azkv_http_response resp = {0};
	char *url = NULL, *form = NULL;
	size_t form_cap, form_len = 0;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!tenant)
		tenant = app->tenant;
	if (!azkv_tenant_valid(tenant))
		return azkv_err_set(err, AZKV_ERR_AUTH,
		                    "credential: tenant id \"%.64s\" is not a GUID or domain name",
		                    tenant ? tenant : "");
	url = azkv_entra_token_url(authority, tenant);
	form_cap = 256 + 3 * (strlen(client_id) + strlen(proof) + strlen(scope));
	form = malloc(form_cap);
	if (!url || !form) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	if (form_append(form, form_cap, &form_len, "grant_type", "client_credentials") ||
	    form_append(form, form_cap, &form_len, "client_id", client_id) ||
	    (secret && form_append(form, form_cap, &form_len, "client_secret", secret)) ||
	    (assertion &&
	     (form_append(form, form_cap, &form_len, "client_assertion_type", ASSERTION_TYPE) ||
	      form_append(form, form_cap, &form_len, "client_assertion", assertion))) ||
	    form_append(form, form_cap, &form_len, "scope", scope)) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	rc = azkv_http_request(app->http, "POST", url, headers, form, form_len, &resp, err);
	if (rc != AZKV_OK) {
		azkv_err_set(err, rc, "Entra ID token for %s (tenant %s): %s", scope, tenant,
		             err ? err->message : "request failed");
		goto out;
	}
	if (resp.status != 200) {
		rc = azkv_entra_error(authority, scope, tenant, proof, &resp, err);
		goto out;
	}
	rc = azkv_token_parse(resp.body, "Entra ID token", out, err);
out:
	azkv_http_response_free(&resp);
	if (form) {
		OPENSSL_cleanse(form, form_cap);
		free(form);
	}
	free(url);
	return rc;
}

/* ---------------------------------------------------------------- client secret */

typedef struct secret_source {
	azkv_entra_source entra;
	char *secret; /* wiped on free */
} secret_source;

static azkv_rc secret_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                                azkv_token *out, azkv_err *err)
{
	secret_source *s = (secret_source *)src;

	return azkv_entra_app_token(&s->entra.app, tenant, s->secret, NULL, scope, out, err);
}

static void secret_wipe(azkv_cred_source *src)
{
	azkv_secret_str_wipe(((secret_source *)src)->secret);
}

static void secret_free(azkv_cred_source *src)
{
	secret_source *s = (secret_source *)src;

	azkv_secret_str_free(s->secret);
	azkv_entra_source_free(&s->entra);
}

static const azkv_cred_source secret_ops = {
        .name = "client_secret",
        .get_token = secret_get_token,
        .free = secret_free,
        .wipe = secret_wipe,
};

azkv_rc azkv_src_client_secret_new(azkv_http *http, const char *authority, const char *tenant,
                                   const char *client_id, const char *secret,
                                   azkv_cred_source **out, azkv_err *err)
{
	secret_source *s = azkv_entra_source_new(sizeof(*s), &secret_ops, http, authority, tenant,
	                                         client_id, err);

	*out = NULL;
	if (!s)
		return AZKV_ERR_NOMEM;
	s->secret = strdup(secret);
	return azkv_entra_source_done(&s->entra, s->secret != NULL, out, err);
}
