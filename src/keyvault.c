/* Key Vault keys data plane: requests with bearer tokens, the 401
 * challenge, retries (http.h's policy), and parsing of key bundles and
 * lists. */
#include "keyvault.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "azure_call.h"
#include "b64url.h"
#include "challenge.h"
#include "cloud.h"
#include "log.h"
#include "retry.h"

#define KV_DEFAULT_API_VERSION "7.4"
#define KV_LIST_MAXRESULTS     "25"

struct azkv_kv_client {
	char *url;         /* no trailing '/' */
	char *host;        /* for messages and the challenge check */
	char *api_version; /* URL-escaped once, for every request's query (kv_url) */
	azkv_retry_policy retry;
	azkv_azure_service service; /* the request loop's hooks: the challenge below */
	int loopback;
	azkv_credential *cred;
	pthread_mutex_t lock; /* guards scope and tenant */
	/* From the vault's last 401 challenge, once its resource was checked
	 * against the vault's host; NULL before: no token is sent until then. */
	char *scope;
	char *tenant; /* the challenge's tenant, or NULL */
};

/* ---------------------------------------------------------------- challenge */

/* The challenge's scope must belong to the vault's domain, so that a
 * server cannot obtain a token for another resource: its host is the
 * vault's host or a suffix of it at a label boundary (the Azure SDKs'
 * verify_challenge_resource). *scope_host gets the scope's host for
 * messages (owned, curl_free; NULL when the scope is not a URL). */
static int scope_matches_host(const char *scope, const char *host, char **scope_host)
{
	CURLU *u = curl_url();
	char *shost = NULL;
	size_t hl, sl;
	int ok = 0;

	*scope_host = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, scope, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &shost, 0) != CURLUE_OK)
		goto out;
	hl = strlen(host);
	sl = strlen(shost);
	ok = strcasecmp(host, shost) == 0 ||
	     (hl > sl && host[hl - sl - 1] == '.' && strcasecmp(host + hl - sl, shost) == 0);
	*scope_host = shost;
	shost = NULL;
out:
	curl_free(shost);
	curl_url_cleanup(u);
	return ok;
}

/* Reads a 401's challenge and, when its resource belongs to this vault,
 * keeps its scope and tenant for this client's requests. old_scope: the
 * scope of the token the 401 refused (dropped from the cache), or NULL
 * when none was sent. */
static azkv_rc adopt_challenge(void *ctx, const azkv_http_response *resp, const char *what,
                               const char *old_scope, azkv_err *err)
{
	azkv_kv_client *kv = ctx;
	azkv_challenge ch;
	char *scope_host = NULL;
	azkv_rc rc;
	char *t;

	rc = azkv_challenge_parse(resp->www_authenticate, &ch, err);
	if (rc != AZKV_OK) {
		azkv_kv_error_from_response(resp->status, resp->body, what, err);
		return AZKV_ERR_AUTH;
	}
	if (!scope_matches_host(ch.scope, kv->host, &scope_host) &&
	    !(kv->loopback && azkv_cloud_for_vault_scope(ch.scope))) {
		rc = azkv_err_set(err, AZKV_ERR_AUTH,
		                  "%s: the 401 challenge asks for a token for %s (host %s), which "
		                  "does not belong to the vault's host %s%s; no token sent",
		                  what, ch.scope, scope_host ? scope_host : "(none)", kv->host,
		                  kv->loopback ? " (a loopback vault gets Key Vault or Managed HSM "
		                                 "tokens only)"
		                               : "");
		if (err)
			err->http_status = 401;
		goto out;
	}
	azkv_debug("keyvault: %s: challenge scope %s, tenant %s", kv->host, ch.scope,
	           ch.tenant_id ? ch.tenant_id : "(configured)");
	if (old_scope)
		azkv_credential_invalidate(kv->cred, old_scope);
	pthread_mutex_lock(&kv->lock);
	t = kv->scope;
	kv->scope = ch.scope;
	ch.scope = t;
	t = kv->tenant;
	kv->tenant = ch.tenant_id;
	ch.tenant_id = t;
	pthread_mutex_unlock(&kv->lock);
out:
	curl_free(scope_host);
	azkv_challenge_free(&ch);
	return rc;
}

/* Copies the cached challenge's scope and tenant; *scope NULL when the
 * vault has not challenged yet. */
static azkv_rc cached_challenge(void *ctx, char **scope, char **tenant, azkv_err *err)
{
	azkv_kv_client *kv = ctx;
	int nomem;

	pthread_mutex_lock(&kv->lock);
	*scope = kv->scope ? strdup(kv->scope) : NULL;
	*tenant = kv->tenant ? strdup(kv->tenant) : NULL;
	nomem = (kv->scope && !*scope) || (kv->tenant && !*tenant);
	pthread_mutex_unlock(&kv->lock);
	if (!nomem)
		return AZKV_OK;
	free(*scope);
	free(*tenant);
	*scope = *tenant = NULL;
	return azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
}

/* A host that answered the first, unauthenticated request with anything
 * but a 401 challenge has not shown it is a Key Vault. */
static azkv_rc no_challenge_error(void *ctx, const azkv_http_response *resp, const char *what,
                                  azkv_err *err)
{
	const azkv_kv_client *kv = ctx;
	azkv_rc rc;
	size_t len;

	if (resp->status >= 200 && resp->status < 300)
		return azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                    "%s: %s answered HTTP %ld to a request without a token; a Key "
		                    "Vault asks for one with a 401 challenge, so no token was sent",
		                    what, kv->host, resp->status);
	/* Not "not found" or the like: the host is not known to be a vault.
	 * Throttling and server errors keep theirs. */
	rc = azkv_kv_error_from_response(resp->status, resp->body, what, err);
	if (rc != AZKV_ERR_THROTTLED && rc != AZKV_ERR_SERVER)
		rc = AZKV_ERR_PROTOCOL;
	if (err) {
		err->rc = rc;
		len = strlen(err->message);
		snprintf(err->message + len, sizeof(err->message) - len,
		         " (to a request without a token: %s sent no 401 challenge, so no token "
		         "was sent)",
		         kv->host);
	}
	azkv_http_err_add_request_id(err, resp);
	return rc;
}

/* ---------------------------------------------------------------- client */

azkv_rc azkv_kv_client_new(const char *vault_url, const char *api_version, int max_retries,
                           azkv_http *http, azkv_credential *cred, azkv_kv_client **out,
                           azkv_err *err)
{
	azkv_kv_client *kv = NULL;
	CURLU *u = NULL;
	char *host = NULL, *loopback_url = NULL;
	azkv_rc rc = AZKV_OK;
	size_t len;

	*out = NULL;
	if (!vault_url || !http || !cred) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "keyvault: missing vault URL");
		goto out;
	}
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, vault_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "keyvault: \"%s\" is not a URL",
		                  vault_url);
		goto out;
	}
	if (!azkv_http_url_allowed(vault_url)) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG,
		                  "keyvault: %s must be https:// (http:// only to loopback)",
		                  vault_url);
		goto out;
	}
	kv = calloc(1, sizeof(*kv));
	if (!kv || pthread_mutex_init(&kv->lock, NULL) != 0) {
		free(kv);
		kv = NULL;
		goto nomem;
	}
	kv->url = strdup(vault_url);
	kv->host = strdup(host);
	kv->api_version = curl_easy_escape(
	        NULL, api_version && *api_version ? api_version : KV_DEFAULT_API_VERSION, 0);
	if (!kv->url || !kv->host || !kv->api_version)
		goto nomem;
	len = strlen(kv->url);
	while (len > 0 && kv->url[len - 1] == '/')
		kv->url[--len] = '\0';
	kv->retry = *azkv_http_retry_policy(http);
	if (max_retries >= 0)
		kv->retry.max_retries = max_retries;
	kv->cred = cred;
	kv->service = (azkv_azure_service){
	        .http = http,
	        .cred = cred,
	        .retry = &kv->retry,
	        .name = "the vault",
	        .token_for = cached_challenge,
	        .challenge = adopt_challenge,
	        .no_challenge = no_challenge_error,
	        .ctx = kv,
	};
	/* A loopback test server addressed directly has no real vault host
	 * name for the challenge's resource to match (http.c allows http://
	 * exactly to loopback hosts): it gets a token only after it sent a
	 * challenge, and only one for Key Vault or Managed HSM, never for
	 * another service (ARM) that any local process could ask for. */
	len = strlen("http://") + strlen(host) + 1;
	loopback_url = malloc(len);
	if (!loopback_url)
		goto nomem;
	snprintf(loopback_url, len, "http://%s", host);
	kv->loopback = azkv_http_url_allowed(loopback_url);
	*out = kv;
	kv = NULL;
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
out:
	azkv_kv_client_free(kv);
	curl_free(host);
	free(loopback_url);
	curl_url_cleanup(u);
	return rc;
}

void azkv_kv_client_free(azkv_kv_client *kv)
{
	if (!kv)
		return;
	pthread_mutex_destroy(&kv->lock);
	free(kv->url);
	free(kv->host);
	curl_free(kv->api_version);
	free(kv->scope);
	free(kv->tenant);
	free(kv);
}

const char *azkv_kv_client_url(const azkv_kv_client *kv)
{
	return kv ? kv->url : NULL;
}

/* ---------------------------------------------------------------- errors */

azkv_rc azkv_kv_error_from_response(long status, const char *body, const char *what, azkv_err *err)
{
	return azkv_azure_error_from_response(status, body, what ? what : "Key Vault", err);
}

/* ---------------------------------------------------------------- requests */

/* Sends one Key Vault request with token, challenge and retries
 * (azkv_azure_call). On AZKV_OK, resp holds a 2xx response; otherwise
 * err says why.
 *
 * As the Azure SDKs' Key Vault challenge policy: until the vault has
 * answered with a 401 challenge whose resource belongs to its host, the
 * request goes without a token and without its body (which may be key
 * material); the challenge is then kept for this client, so later calls
 * send one request each. A 401 to a token (expired, revoked) re-reads
 * the challenge once. Retries (the policy of http.h) of 429, transient
 * 5xx and connection failures, within the operation's deadline; the
 * first, unauthenticated request is retried as a read. */
static azkv_rc kv_call(azkv_kv_client *kv, const char *method, const char *url, const char *what,
                       const char *body, int idempotent, azkv_http_response *resp, azkv_err *err)
{
	return azkv_azure_call(&kv->service, method, url, what, body, idempotent, resp, NULL, err);
}

/* Whether s is all RFC 3986 unreserved characters, which
 * curl_easy_escape leaves as they are. */
static int url_unreserved(const char *s)
{
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("-._~", *s))
			return 0;
	return 1;
}

/* kv->url + "/" + escaped segments (NULL/"" skipped) + api-version and
 * an optional extra query. Owned; NULL on ENOMEM. */
static char *kv_url(const azkv_kv_client *kv, const char *const *segs, size_t n_segs,
                    const char *extra_query)
{
	char *esc[4] = {0};
	const char *seg[4] = {0};
	const char *api = kv->api_version;
	char *url = NULL;
	size_t len, pos;

	if (n_segs > 4)
		goto out;
	len = strlen(kv->url) + strlen("?api-version=") + strlen(api) + 2 +
	      (extra_query ? strlen(extra_query) : 0);
	for (size_t i = 0; i < n_segs; i++) {
		if (!segs[i] || !*segs[i])
			continue;
		/* Key names, versions and operations need no escaping: escaped
		 * only when they do, as every vault request's URL is built here. */
		if (url_unreserved(segs[i])) {
			seg[i] = segs[i];
		} else if ((seg[i] = esc[i] = curl_easy_escape(NULL, segs[i], 0)) == NULL) {
			goto out;
		}
		len += strlen(seg[i]) + 1;
	}
	url = malloc(len);
	if (!url)
		goto out;
	pos = (size_t)snprintf(url, len, "%s", kv->url);
	for (size_t i = 0; i < n_segs; i++) {
		if (seg[i])
			pos += (size_t)snprintf(url + pos, len - pos, "/%s", seg[i]);
	}
	snprintf(url + pos, len - pos, "?api-version=%s%s%s", api, extra_query ? "&" : "",
	         extra_query ? extra_query : "");
out:
	for (size_t i = 0; i < 4; i++)
		curl_free(esc[i]);
	return url;
}

/* ---------------------------------------------------------------- parsing */

static int64_t json_int64(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	if (!cJSON_IsNumber(item))
		return 0;
	v = item->valuedouble;
	if (!isfinite(v) || v > 9.0e15 || v < -9.0e15)
		return 0;
	return (int64_t)v;
}

typedef struct kv_attrs {
	int enabled;
	int64_t nbf, exp, created, updated;
	int managed;
} kv_attrs;

/* "attributes" and "managed" of a key bundle or list item. */
static void parse_attrs(const cJSON *obj, kv_attrs *a)
{
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(obj, "attributes");
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(attrs, "enabled");

	/* Key Vault always sends "enabled"; absent, nothing says disabled. */
	a->enabled = cJSON_IsBool(enabled) ? cJSON_IsTrue(enabled) : 1;
	a->nbf = json_int64(attrs, "nbf");
	a->exp = json_int64(attrs, "exp");
	a->created = json_int64(attrs, "created");
	a->updated = json_int64(attrs, "updated");
	a->managed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "managed"));
}

/* 1 to max ASCII letters and digits, and dashes when dash is set. */
static int name_chars_ok(const char *s, size_t max, int dash)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (dash && c == '-')))
			return 0;
	}
	return 1;
}

int azkv_kv_name_ok(const char *name)
{
	return name_chars_ok(name, 127, 1);
}

int azkv_kv_version_ok(const char *version)
{
	return name_chars_ok(version, 64, 0);
}

azkv_rc azkv_kid_split(const char *kid, char **name, char **version, azkv_err *err)
{
	CURLU *u = curl_url();
	char *path = NULL, *p, *save = NULL, *seg[3] = {0};
	size_t n = 0;
	azkv_rc rc = AZKV_OK;

	*name = NULL;
	*version = NULL;
	if (!u) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!kid || curl_url_set(u, CURLUPART_URL, kid, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto bad;
	/* "/keys/NAME" or "/keys/NAME/VERSION" (a trailing '/' tolerated). */
	for (p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			goto bad;
		seg[n++] = p;
	}
	/* Anything else in a kid did not come from a vault. */
	if (n < 2 || strcmp(seg[0], "keys") != 0 || !azkv_kv_name_ok(seg[1]) ||
	    (n == 3 && !azkv_kv_version_ok(seg[2])))
		goto bad;
	*name = strdup(seg[1]);
	if (n == 3)
		*version = strdup(seg[2]);
	if (!*name || (n == 3 && !*version)) {
		free(*name);
		free(*version);
		*name = *version = NULL;
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
	}
	goto out;
bad:
	rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
	                  "key id \"%.200s\" is not https://HOST/keys/NAME[/VERSION]",
	                  kid ? kid : "(null)");
out:
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

azkv_rc azkv_kid_check(const char *kid, const char *host, const char *name, const char *version,
                       azkv_err *err)
{
	CURLU *u = curl_url();
	char *khost = NULL, *kname = NULL, *kversion = NULL;
	azkv_rc rc;

	rc = azkv_kid_split(kid, &kname, &kversion, err);
	if (rc != AZKV_OK)
		goto out;
	if (!u || curl_url_set(u, CURLUPART_URL, kid, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &khost, 0) != CURLUE_OK) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "key id \"%.200s\" has no host", kid);
		goto out;
	}
	/* The name as the vault stores it may differ in case from the
	 * request's: Key Vault names are case-insensitive. */
	if (host && strcasecmp(khost, host) != 0)
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "key id \"%.200s\" is on host %.100s, not on the vault's %.100s",
		                  kid, khost, host);
	else if (name && strcasecmp(kname, name) != 0)
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "key id \"%.200s\" names key %.127s, not the %.127s asked for",
		                  kid, kname, name);
	else if (!kversion && version)
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "key id \"%.200s\" has no version", kid);
	else if (version && *version && strcasecmp(kversion, version) != 0)
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "key id \"%.200s\" is version %.64s, not the %.64s asked for",
		                  kid, kversion, version);
out:
	curl_free(khost);
	free(kname);
	free(kversion);
	curl_url_cleanup(u);
	return rc;
}

azkv_rc azkv_key_parse(const cJSON *bundle, azkv_key *out, azkv_err *err)
{
	azkv_key key = {0};
	const cJSON *attrs, *level, *tags;
	kv_attrs a;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(bundle)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "key bundle is not a JSON object");
		goto out;
	}
	rc = azkv_jwk_parse(cJSON_GetObjectItemCaseSensitive(bundle, "key"), &key.jwk, err);
	if (rc != AZKV_OK)
		goto out;
	if (!key.jwk.kid) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "key bundle has no key id (kid)");
		goto out;
	}
	rc = azkv_kid_split(key.jwk.kid, &key.name, &key.version, err);
	if (rc != AZKV_OK)
		goto out;
	/* A bundle is one version: everything downstream names it. */
	if (!key.version) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "key bundle's kid \"%.200s\" has no version", key.jwk.kid);
		goto out;
	}
	parse_attrs(bundle, &a);
	key.enabled = a.enabled;
	key.nbf = a.nbf;
	key.exp = a.exp;
	key.created = a.created;
	key.updated = a.updated;
	key.managed = a.managed;
	attrs = cJSON_GetObjectItemCaseSensitive(bundle, "attributes");
	level = cJSON_GetObjectItemCaseSensitive(attrs, "recoveryLevel");
	if (cJSON_IsString(level)) {
		key.recovery_level = strdup(level->valuestring);
		if (!key.recovery_level)
			goto nomem;
	}
	tags = cJSON_GetObjectItemCaseSensitive(bundle, "tags");
	if (cJSON_IsObject(tags)) {
		key.tags_json = cJSON_PrintUnformatted(tags);
		if (!key.tags_json)
			goto nomem;
	}
	*out = key;
	memset(&key, 0, sizeof(key));
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
out:
	azkv_key_free(&key);
	return rc;
}

void azkv_key_free(azkv_key *key)
{
	if (!key)
		return;
	azkv_jwk_free(&key->jwk);
	free(key->name);
	free(key->version);
	free(key->recovery_level);
	/* cJSON_Print allocates with malloc by default. */
	free(key->tags_json);
	memset(key, 0, sizeof(*key));
}

static void key_item_clear(azkv_key_item *it)
{
	free(it->kid);
	free(it->name);
	free(it->version);
	memset(it, 0, sizeof(*it));
}

void azkv_key_items_free(azkv_key_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		key_item_clear(&items[i]);
	free(items);
}

azkv_rc azkv_key_list_page_parse(const char *json, azkv_key_item **items, size_t *n,
                                 char **next_link, azkv_err *err)
{
	cJSON *root = json ? cJSON_Parse(json) : NULL;
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, "value");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(root, "nextLink");
	const cJSON *item, *kid;
	azkv_key_item *all = NULL;
	size_t count, added = 0;
	kv_attrs a;
	azkv_rc rc = AZKV_OK;

	*next_link = NULL;
	if (!cJSON_IsObject(root) || !cJSON_IsArray(value)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "key list page has no \"value\" list");
		goto out;
	}
	if (next && !cJSON_IsNull(next) && !cJSON_IsString(next)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "key list nextLink is not a string");
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(value);
	all = realloc(*items, (*n + count + 1) * sizeof(*all));
	if (!all)
		goto nomem;
	*items = all;
	cJSON_ArrayForEach(item, value)
	{
		azkv_key_item *it = &all[*n + added];

		memset(it, 0, sizeof(*it));
		kid = cJSON_GetObjectItemCaseSensitive(item, "kid");
		if (!cJSON_IsString(kid)) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "key list item %zu has no \"kid\"", added);
			goto out;
		}
		it->kid = strdup(kid->valuestring);
		if (!it->kid)
			goto nomem;
		rc = azkv_kid_split(it->kid, &it->name, &it->version, err);
		if (rc != AZKV_OK) {
			key_item_clear(it);
			goto out;
		}
		parse_attrs(item, &a);
		it->enabled = a.enabled;
		it->nbf = a.nbf;
		it->exp = a.exp;
		it->created = a.created;
		it->updated = a.updated;
		it->managed = a.managed;
		added++;
	}
	if (cJSON_IsString(next) && next->valuestring[0]) {
		*next_link = strdup(next->valuestring);
		if (!*next_link)
			goto nomem;
	}
	*n += added;
	added = 0;
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
out:
	/* A page is appended whole or not at all. */
	for (size_t i = 0; i < added; i++)
		key_item_clear(&(*items)[*n + i]);
	cJSON_Delete(root);
	return rc;
}

azkv_rc azkv_kv_op_result_parse(const char *json, char **kid, azkv_bytes *out, azkv_err *err)
{
	cJSON *root = json ? cJSON_Parse(json) : NULL;
	cJSON *value = cJSON_GetObjectItemCaseSensitive(root, "value");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kid");
	azkv_rc rc = AZKV_OK;

	out->data = NULL;
	out->len = 0;
	if (kid)
		*kid = NULL;
	if (!cJSON_IsString(value)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "key operation result has no \"value\" string");
		goto out;
	}
	if (azkv_b64url_decode(value->valuestring, out) != 0) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "key operation result \"value\" is not base64url");
		goto out;
	}
	if (kid && cJSON_IsString(k)) {
		*kid = strdup(k->valuestring);
		if (!*kid) {
			azkv_bytes_free(out);
			rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
		}
	}
out:
	/* The value may be unwrapped key material. */
	if (cJSON_IsString(value))
		OPENSSL_cleanse(value->valuestring, strlen(value->valuestring));
	cJSON_Delete(root);
	return rc;
}

/* ---------------------------------------------------------------- operations */

/* A 2xx answer must be JSON: a Content-Type other than JSON (a proxy's or
 * captive portal's HTML page) or an empty body is refused here with a
 * message saying so, rather than as a parse error further down. */
static azkv_rc kv_check_json(const azkv_http_response *resp, const char *what, azkv_err *err)
{
	const char *ct = resp->content_type;
	size_t len;

	if (ct) {
		len = strcspn(ct, "; \t");
		if (!((len == strlen("application/json") &&
		       strncasecmp(ct, "application/json", len) == 0) ||
		      (len > 5 && strncasecmp(ct + len - 5, "+json", 5) == 0)))
			return azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                    "%s: HTTP %ld with Content-Type \"%.60s\", not JSON",
			                    what, resp->status, ct);
	}
	if (!resp->body || !resp->body[0])
		return azkv_err_set(err, AZKV_ERR_PROTOCOL, "%s: HTTP %ld with an empty body", what,
		                    resp->status);
	return AZKV_OK;
}

/* What every item of a listing must be: on the vault's host, of key name
 * (NULL: any), with a version (versions listing) or not. */
typedef struct kv_list_want {
	const char *name;
	int versions;
} kv_list_want;

static azkv_rc check_items(const azkv_kv_client *kv, const azkv_key_item *items, size_t from,
                           size_t to, const kv_list_want *want, const char *what, azkv_err *err)
{
	azkv_rc rc;

	for (size_t i = from; i < to; i++) {
		rc = azkv_kid_check(items[i].kid, kv->host, want->name, want->versions ? "" : NULL,
		                    err);
		if (rc != AZKV_OK)
			return azkv_err_set(err, rc, "%s: %s", what,
			                    err ? err->message : "bad kid");
	}
	return AZKV_OK;
}

/* The page number (from 1) whose URL was url, or 0. */
static size_t page_seen(const char *url, char *const *seen, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		if (strcmp(url, seen[i]) == 0)
			return i + 1;
	return 0;
}

/* Follows nextLink within the bounds of keyvault.h (AZKV_KV_LIST_*). url
 * is consumed. */
static azkv_rc kv_list(azkv_kv_client *kv, char *url, const char *what, const kv_list_want *want,
                       azkv_key_item **items, size_t *n, azkv_err *err)
{
	azkv_http_response resp = {0};
	char *next = NULL, *seen[AZKV_KV_LIST_MAX_PAGES] = {0};
	long started = azkv_now_ms();
	azkv_rc rc = AZKV_OK;
	size_t pages = 0, before, loop_to;

	*items = NULL;
	*n = 0;
	while (url) {
		if (pages == AZKV_KV_LIST_MAX_PAGES) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s: more than %d pages; refused (a vault's listing "
			                  "does not need that many)",
			                  what, AZKV_KV_LIST_MAX_PAGES);
			goto out;
		}
		if (azkv_now_ms() - started > AZKV_KV_LIST_DEADLINE_MS) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s: not finished after %ld s (%zu pages); given up",
			                  what, AZKV_KV_LIST_DEADLINE_MS / 1000, pages);
			goto out;
		}
		seen[pages++] = url;
		rc = kv_call(kv, "GET", url, what, NULL, 1, &resp, err);
		if (rc == AZKV_OK)
			rc = kv_check_json(&resp, what, err);
		before = *n;
		if (rc == AZKV_OK) {
			rc = azkv_key_list_page_parse(resp.body, items, n, &next, err);
			if (rc != AZKV_OK)
				azkv_err_set(err, rc, "%s: %s", what,
				             err ? err->message : "bad page");
		}
		azkv_http_response_free(&resp);
		if (rc == AZKV_OK)
			rc = check_items(kv, *items, before, *n, want, what, err);
		if (rc != AZKV_OK)
			goto out;
		if (*n > AZKV_KV_LIST_MAX_ITEMS) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s: more than %d items; refused (name the keys to use "
			                  "in the configuration)",
			                  what, AZKV_KV_LIST_MAX_ITEMS);
			goto out;
		}
		/* nextLink must point at this vault: the bearer token goes with it. */
		if (next && !azkv_http_same_origin(kv->url, next)) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s: nextLink does not continue on %s", what, kv->host);
			goto out;
		}
		loop_to = next ? page_seen(next, seen, pages) : 0;
		if (loop_to > 0) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s: nextLink goes back to page %zu of %zu (a loop)",
			                  what, loop_to, pages);
			goto out;
		}
		url = next;
		next = NULL;
	}
out:
	/* url is the last of seen[] unless the loop ended before adding it. */
	if (pages == 0 || url != seen[pages - 1])
		free(url);
	for (size_t i = 0; i < pages; i++)
		free(seen[i]);
	free(next);
	if (rc != AZKV_OK) {
		azkv_key_items_free(*items, *n);
		*items = NULL;
		*n = 0;
	}
	return rc;
}

azkv_rc azkv_kv_list_keys(azkv_kv_client *kv, azkv_key_item **items, size_t *n, azkv_err *err)
{
	static const char *const segs[] = {"keys"};
	static const kv_list_want want = {.name = NULL, .versions = 0};
	char what[300];
	char *url = kv_url(kv, segs, 1, "maxresults=" KV_LIST_MAXRESULTS);

	snprintf(what, sizeof(what), "list keys of %s", kv->host);
	if (!url) {
		*items = NULL;
		*n = 0;
		return azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
	}
	return kv_list(kv, url, what, &want, items, n, err);
}

azkv_rc azkv_kv_list_key_versions(azkv_kv_client *kv, const char *name, azkv_key_item **items,
                                  size_t *n, azkv_err *err)
{
	const char *segs[] = {"keys", name, "versions"};
	const kv_list_want want = {.name = name, .versions = 1};
	char what[300];
	char *url;

	*items = NULL;
	*n = 0;
	if (!name || !*name)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "list key versions: no key name");
	snprintf(what, sizeof(what), "list versions of key %s on %s", name, kv->host);
	url = kv_url(kv, segs, 3, "maxresults=" KV_LIST_MAXRESULTS);
	if (!url)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
	return kv_list(kv, url, what, &want, items, n, err);
}

azkv_rc azkv_kv_get_key(azkv_kv_client *kv, const char *name, const char *version, azkv_key *out,
                        azkv_err *err)
{
	const char *segs[] = {"keys", name, version};
	azkv_http_response resp = {0};
	char what[300];
	cJSON *root = NULL;
	char *url = NULL;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "get key: no key name");
	snprintf(what, sizeof(what), "get key %s%s%s on %s", name, version && *version ? "/" : "",
	         version ? version : "", kv->host);
	url = kv_url(kv, segs, 3, NULL);
	if (!url) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
		goto out;
	}
	rc = kv_call(kv, "GET", url, what, NULL, 1, &resp, err);
	if (rc != AZKV_OK)
		goto out;
	rc = kv_check_json(&resp, what, err);
	if (rc != AZKV_OK)
		goto out;
	root = cJSON_Parse(resp.body);
	rc = azkv_key_parse(root, out, err);
	if (rc == AZKV_OK)
		rc = azkv_kid_check(out->jwk.kid, kv->host, name, version ? version : "", err);
	if (rc != AZKV_OK) {
		azkv_err_set(err, rc, "%s: %s", what, err ? err->message : "bad key bundle");
		azkv_key_free(out);
	}
out:
	cJSON_Delete(root);
	azkv_http_response_free(&resp);
	free(url);
	return rc;
}

cJSON *azkv_key_create_body(const azkv_key_create *spec)
{
	cJSON *body = cJSON_CreateObject(), *ops = NULL;
	int ok = body != NULL && cJSON_AddStringToObject(body, "kty", spec->kty) != NULL;
	if (ok && spec->key_size != 0)
		ok = cJSON_AddNumberToObject(body, "key_size", spec->key_size) != NULL;
	if (ok && spec->crv != NULL)
		ok = cJSON_AddStringToObject(body, "crv", spec->crv) != NULL;
	if (ok && spec->key_ops != 0)
		ok = (ops = cJSON_AddArrayToObject(body, "key_ops")) != NULL;
	for (unsigned bit = 1; ok && ops != NULL && bit <= AZKV_OP_EXPORT; bit <<= 1) {
		const char *name = (spec->key_ops & bit) ? azkv_key_op_name(bit) : NULL;
		if (name != NULL)
			ok = cJSON_AddItemToArray(ops, cJSON_CreateString(name));
	}
	if (!ok) {
		cJSON_Delete(body);
		return NULL;
	}
	return body;
}

azkv_rc azkv_kv_create_key(azkv_kv_client *kv, const char *name, const azkv_key_create *spec,
                           azkv_key *out, azkv_err *err)
{
	const char *segs[] = {"keys", name, "create"};
	cJSON *body = NULL, *resp = NULL;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "create key: no key name");
	if ((body = azkv_key_create_body(spec)) == NULL)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
	rc = azkv_kv_json_request(kv, "POST", segs, 3, body, &resp, err);
	if (rc == AZKV_OK)
		rc = azkv_key_parse(resp, out, err);
	if (rc == AZKV_OK)
		rc = azkv_kid_check(out->jwk.kid, kv->host, name, "", err);
	if (rc != AZKV_OK)
		azkv_key_free(out);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	return rc;
}

azkv_rc azkv_kv_key_operation(azkv_kv_client *kv, const char *name, const char *version,
                              const char *operation, const char *alg, const unsigned char *in,
                              size_t in_len, azkv_bytes *out, azkv_err *err)
{
	const char *segs[] = {"keys", name, version, operation};
	azkv_http_response resp = {0};
	cJSON *req = NULL, *value;
	char *b64 = NULL, *body = NULL, *url = NULL;
	char what[300];
	size_t body_cap;
	azkv_rc rc;

	out->data = NULL;
	out->len = 0;
	if (!name || !*name || !operation || !*operation || !alg || !*alg || (!in && in_len)) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG,
		                  "key operation: need a key name, operation and algorithm");
		goto out;
	}
	snprintf(what, sizeof(what), "%s with key %s%s%s (%s) on %s", operation, name,
	         version && *version ? "/" : "", version ? version : "", alg, kv->host);
	url = kv_url(kv, segs, 4, NULL);
	b64 = azkv_b64url_encode(in ? in : (const unsigned char *)"", in_len);
	req = cJSON_CreateObject();
	if (!url || !b64 || !req || !cJSON_AddStringToObject(req, "alg", alg) ||
	    !(value = cJSON_AddStringToObject(req, "value", b64)))
		goto nomem;
	/* The request value may be key material to wrap: the JSON text is
	 * printed into one buffer of its final size (cJSON_PrintUnformatted
	 * grows its own by realloc, leaving copies unwiped) and wiped on free. */
	body_cap = strlen(b64) + strlen(alg) + 64;
	body = malloc(body_cap);
	if (body && !cJSON_PrintPreallocated(req, body, (int)body_cap, 0)) {
		OPENSSL_cleanse(body, body_cap);
		free(body);
		body = NULL;
	}
	OPENSSL_cleanse(value->valuestring, strlen(value->valuestring));
	if (!body)
		goto nomem;

	/* sign, verify, encrypt, decrypt, wrapkey, unwrapkey change nothing
	 * in the vault: safe to send again. */
	rc = kv_call(kv, "POST", url, what, body, 1, &resp, err);
	if (rc != AZKV_OK)
		goto out;
	rc = kv_check_json(&resp, what, err);
	if (rc != AZKV_OK)
		goto out;
	rc = azkv_kv_op_result_parse(resp.body, NULL, out, err);
	if (rc != AZKV_OK)
		azkv_err_set(err, rc, "%s: %s", what, err ? err->message : "bad result");
	else
		azkv_debug("keyvault: %s: ok", what);
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
out:
	azkv_http_response_free(&resp);
	azkv_secret_str_free(body);
	azkv_secret_str_free(b64);
	cJSON_Delete(req);
	free(url);
	return rc;
}

azkv_rc azkv_kv_wrap_key(azkv_kv_client *kv, const char *name, const char *version, const char *alg,
                         const unsigned char *key, size_t key_len, azkv_bytes *out, azkv_err *err)
{
	return azkv_kv_key_operation(kv, name, version, "wrapkey", alg, key, key_len, out, err);
}

azkv_rc azkv_kv_unwrap_key(azkv_kv_client *kv, const char *name, const char *version,
                           const char *alg, const unsigned char *wrapped, size_t wrapped_len,
                           azkv_bytes *out, azkv_err *err)
{
	return azkv_kv_key_operation(kv, name, version, "unwrapkey", alg, wrapped, wrapped_len, out,
	                             err);
}

/* ------------------------------------------------ generic JSON requests */

char *azkv_kv_request_url(const azkv_kv_client *kv, const char *const *segs, size_t n_segs)
{
	return kv_url(kv, segs, n_segs, NULL);
}

/* Whether a generic request may be sent twice: GET; PATCH (a key's
 * attributes set to the same values again); PUT of a rotation policy.
 * Not: POST create, rotate, backup, restore, recover (each would make a
 * new version or object), PUT of an imported key (a new version each
 * time), DELETE (a second one fails). */
static int json_request_idempotent(const char *method, const char *const *segs, size_t n_segs)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "PATCH") == 0)
		return 1;
	return strcmp(method, "PUT") == 0 && n_segs > 0 && segs[n_segs - 1] &&
	       strcmp(segs[n_segs - 1], "rotationpolicy") == 0;
}

azkv_rc azkv_kv_json_request(azkv_kv_client *kv, const char *method, const char *const *segs,
                             size_t n_segs, const cJSON *body, cJSON **response, azkv_err *err)
{
	azkv_http_response resp = {0};
	char *url = NULL, *text = NULL;
	char what[300];
	azkv_rc rc;

	*response = NULL;
	url = kv_url(kv, segs, n_segs, NULL);
	if (!url || (body && !(text = cJSON_PrintUnformatted(body)))) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "keyvault: out of memory");
		goto out;
	}
	snprintf(what, sizeof(what), "%s %s%s%s%s%s on %s", method, n_segs > 0 ? segs[0] : "",
	         n_segs > 1 ? "/" : "", n_segs > 1 ? segs[1] : "", n_segs > 2 ? "/" : "",
	         n_segs > 2 ? segs[2] : "", kv->host);
	rc = kv_call(kv, method, url, what, text, json_request_idempotent(method, segs, n_segs),
	             &resp, err);
	if (rc != AZKV_OK)
		goto out;
	if (resp.body && *resp.body) {
		*response = cJSON_Parse(resp.body);
		if (!*response)
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "%s: the answer is not JSON",
			                  what);
	}
out:
	azkv_http_response_free(&resp);
	free(text);
	free(url);
	return rc;
}
