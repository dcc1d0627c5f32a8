/* Managed identity: a token from the platform the program runs on, with
 * no secret at all. Which endpoint answers follows the environment, as the
 * Azure SDKs decide it:
 *   IDENTITY_ENDPOINT + IDENTITY_HEADER  App Service, Functions, Container
 *                                        Apps (api-version 2019-08-01,
 *                                        header X-IDENTITY-HEADER)
 *   IDENTITY_ENDPOINT + IMDS_ENDPOINT    Azure Arc (2020-06-01; a 401 names
 *                                        a key file whose text is the proof)
 *   otherwise                            IMDS at 169.254.169.254 (2018-02-01,
 *                                        header Metadata: true), or
 *                                        AZURE_POD_IDENTITY_AUTHORITY_HOST
 * A user-assigned identity is chosen by client id, object id or ARM
 * resource id (query client_id / object_id|principal_id / msi_res_id|mi_res_id). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "bytes.h"
#include "cred_source.h"
#include "file.h"
#include "log.h"
#include "retry.h"

#define IMDS_DEFAULT          "http://169.254.169.254"
#define IMDS_PATH             "/metadata/identity/oauth2/token"
#define ARC_KEY_DIR           "/var/opt/azcmagent/tokens"
#define ARC_KEY_MAX           4096
#define PROBE_TIMEOUT_MS      1000L
#define IMDS_MAX_RETRIES      5
#define RETRY_BASE_MS         800L
#define RETRY_CAP_MS          60000L
#define IMDS_GONE_DELAY_MS    10000L /* 410: IMDS is being updated */
#define IMDS_GONE_MAX_RETRIES 7      /* 10 s apart: the 70 s MSAL's IMDS guidance asks for */

typedef enum mi_kind {
	MI_IMDS = 0,
	MI_APP_SERVICE,
	MI_ARC,
} mi_kind;

static const struct mi_protocol {
	const char *name; /* for the log */
	const char *api_version;
	/* The query names of a user-assigned identity's client id, object id
	 * and resource id; NULL where the platform has none. */
	const char *by_client, *by_object, *by_resource;
} protocols[] = {
        [MI_IMDS] = {"managed_identity (IMDS)", "2018-02-01", "client_id", "object_id",
                     "msi_res_id"},
        [MI_APP_SERVICE] = {"managed_identity (App Service)", "2019-08-01", "client_id",
                            "principal_id", "mi_res_id"},
        [MI_ARC] = {"managed_identity (Azure Arc)", "2020-06-01", NULL, NULL, NULL},
};

typedef struct mi_source {
	azkv_cred_source base;
	azkv_http *http;
	mi_kind kind;
	char *url;         /* the token endpoint, without a query */
	char *header;      /* App Service: "X-IDENTITY-HEADER: ..." (secret); else Metadata */
	char *selector;    /* "&client_id=..." (escaped), or "" */
	char *arc_key_dir; /* realpath of the directory Arc's key files must be in */
	int max_retries;
	int probe;            /* in a chain: an IMDS that does not answer is unavailable */
	pthread_mutex_t lock; /* guards probed */
	int probed;           /* IMDS answered once */
} mi_source;

static const char *env_value(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

/* ---------------------------------------------------------------- retries */

long azkv_mi_retry_delay_ms(int imds, long status, int attempt, int max_retries,
                            const char *retry_after)
{
	int limit = status == 410 ? IMDS_GONE_MAX_RETRIES : max_retries;
	long backoff;

	if (status == 410 && !imds)
		return -1;
	if (!(status == 429 || status >= 500 || (imds && (status == 404 || status == 410))) ||
	    attempt >= limit)
		return -1;
	backoff =
	        status == 410 ? IMDS_GONE_DELAY_MS : RETRY_BASE_MS << (attempt < 10 ? attempt : 10);
	return azkv_retry_after_ms(retry_after, backoff, RETRY_CAP_MS);
}

/* ---------------------------------------------------------------- Arc */

/* The text of the key file a 401 from Arc's agent names ("Basic
 * realm=PATH"), after checking it is a .key file of at most 4 KiB inside
 * the agent's token directory: the endpoint must not make us read and
 * send any other file. Owned, secret. */
static azkv_rc arc_secret(const mi_source *s, const char *challenge, char **out, azkv_err *err)
{
	const char *p = challenge ? strchr(challenge, '=') : NULL;
	char real[PATH_MAX], *buf = NULL;
	struct stat st;
	size_t dir_len = strlen(s->arc_key_dir), len;
	int e;
	azkv_rc rc = AZKV_OK;

	*out = NULL;
	if (!challenge || strncasecmp(challenge, "Basic ", 6) != 0 || !p) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "managed identity (Azure Arc): the 401 has no \"Basic realm=\" "
		                  "challenge naming a key file");
		goto out;
	}
	if (!realpath(p + 1, real) || strncmp(real, s->arc_key_dir, dir_len) != 0 ||
	    real[dir_len] != '/' || (len = strlen(real)) < 5 ||
	    strcmp(real + len - 4, ".key") != 0) {
		rc = azkv_err_set(err, AZKV_ERR_AUTH,
		                  "managed identity (Azure Arc): refused the key file the agent "
		                  "named (%.200s): it must be a .key file in %s",
		                  p + 1, s->arc_key_dir);
		goto out;
	}
	e = azkv_file_read(real, O_NONBLOCK | O_NOFOLLOW, ARC_KEY_MAX, &buf, &len, &st);
	if (e || len == 0) {
		rc = azkv_err_set(err, AZKV_ERR_AUTH,
		                  "managed identity (Azure Arc): cannot read the key file %s (%s); "
		                  "run as root or as a member of the himds group",
		                  real, e ? azkv_file_error(e) : "empty");
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	azkv_secret_str_free(buf);
	return rc;
}

/* ---------------------------------------------------------------- requests */

/* Fills err from a refusal; managed-identity endpoints answer
 * {"error","error_description"} (IMDS, Arc) or {"statusCode","message"}
 * (App Service). */
static azkv_rc mi_error(const mi_source *s, const char *resource, const azkv_http_response *r,
                        azkv_err *err)
{
	cJSON *root = cJSON_Parse(r->body);
	const char *fields[] = {"error_description", "message", "Message", "error"};
	const char *text = NULL;
	azkv_rc rc = r->status == 429   ? AZKV_ERR_THROTTLED
	             : r->status >= 500 ? AZKV_ERR_SERVER
	                                : AZKV_ERR_AUTH;

	for (size_t i = 0; !text && i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, fields[i]);

		if (cJSON_IsString(f) && f->valuestring[0])
			text = f->valuestring;
	}
	azkv_err_set(err, rc, "%s: token for %s: HTTP %ld: %.300s%s", s->base.name, resource,
	             r->status, text ? text : "(no error text)",
	             r->status == 400 && s->selector[0]
	                     ? " (is this user-assigned identity assigned to this resource?)"
	             : r->status == 400 ? " (does this resource have a system-assigned identity? "
	                                  "az vm identity assign / az webapp identity assign)"
	                                : "");
	if (err)
		err->http_status = r->status;
	cJSON_Delete(root);
	return rc;
}

static azkv_rc mi_send(mi_source *s, const char *url, const char *auth, long timeout_ms,
                       int with_header, azkv_http_response *resp, azkv_err *err)
{
	const char *headers[4] = {0};
	size_t n = 0;
	azkv_http_options o = {.headers = headers,
	                       .timeout_ms = timeout_ms,
	                       .connect_timeout_ms = timeout_ms,
	                       .allow_imds = s->kind == MI_IMDS};

	headers[n++] = "Accept: application/json";
	if (with_header)
		headers[n++] = s->header;
	if (auth)
		headers[n++] = auth;
	return azkv_http_send(s->http, "GET", url, &o, resp, err);
}

/* The first time in a chain, IMDS is asked without its Metadata header
 * and one second to answer, as the SDKs' DefaultAzureCredential probes
 * it: any HTTP answer means it is there. */
static azkv_rc imds_probe(mi_source *s, const char *url, azkv_err *err)
{
	azkv_http_response resp;
	azkv_err e;
	azkv_rc rc;

	pthread_mutex_lock(&s->lock);
	rc = s->probed ? AZKV_OK : AZKV_ERR_UNAVAILABLE;
	pthread_mutex_unlock(&s->lock);
	if (rc == AZKV_OK)
		return rc;
	azkv_err_clear(&e);
	rc = mi_send(s, url, NULL, PROBE_TIMEOUT_MS, 0, &resp, &e);
	azkv_http_response_free(&resp);
	if (rc != AZKV_OK)
		return azkv_err_set(
		        err, AZKV_ERR_UNAVAILABLE,
		        "%s: no answer from %s within %ld ms: not an Azure VM, scale set "
		        "or AKS node with a managed identity (%s)",
		        s->base.name, s->url, PROBE_TIMEOUT_MS, e.message);
	pthread_mutex_lock(&s->lock);
	s->probed = 1;
	pthread_mutex_unlock(&s->lock);
	return AZKV_OK;
}

static azkv_rc mi_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                            azkv_token *out, azkv_err *err)
{
	mi_source *s = (mi_source *)src;
	const struct mi_protocol *p = &protocols[s->kind];
	azkv_http_response resp = {0};
	char *resource = NULL, *esc = NULL, *url = NULL, *secret = NULL, *auth = NULL;
	size_t len;
	long delay;
	int attempt = 0, challenged = 0;
	azkv_rc rc;

	(void)tenant; /* a managed identity lives in its resource's tenant */
	memset(out, 0, sizeof(*out));
	len = strlen(scope);
	resource = strndup(scope,
	                   len > 9 && strcmp(scope + len - 9, "/.default") == 0 ? len - 9 : len);
	esc = resource ? curl_easy_escape(NULL, resource, 0) : NULL;
	len = strlen(s->url) + (esc ? strlen(esc) : 0) + strlen(s->selector) + 64;
	url = esc ? malloc(len) : NULL;
	if (!url) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "managed identity: out of memory");
		goto out;
	}
	snprintf(url, len, "%s?api-version=%s&resource=%s%s", s->url, p->api_version, esc,
	         s->selector);
	if (s->probe && s->kind == MI_IMDS) {
		rc = imds_probe(s, url, err);
		if (rc != AZKV_OK)
			goto out;
	}
	for (;;) {
		rc = mi_send(s, url, auth, 0, 1, &resp, err);
		if (rc != AZKV_OK) {
			azkv_err_set(
			        err, rc,
			        "%s: %s (no managed identity endpoint answers here: assign an "
			        "identity to this VM or app, or choose another credential.type)",
			        s->base.name, err ? err->message : "request failed");
			goto out;
		}
		if (resp.status == 200)
			break;
		if (s->kind == MI_ARC && resp.status == 401 && !challenged) {
			challenged = 1;
			rc = arc_secret(s, resp.www_authenticate, &secret, err);
			if (rc != AZKV_OK)
				goto out;
			len = strlen("Authorization: Basic ") + strlen(secret) + 1;
			auth = malloc(len);
			if (!auth) {
				rc = azkv_err_set(err, AZKV_ERR_NOMEM,
				                  "managed identity: out of memory");
				goto out;
			}
			snprintf(auth, len, "Authorization: Basic %s", secret);
			azkv_http_response_free(&resp);
			continue;
		}
		delay = azkv_mi_retry_delay_ms(
		        s->kind == MI_IMDS, resp.status, attempt,
		        s->kind == MI_IMDS ? IMDS_MAX_RETRIES : s->max_retries, resp.retry_after);
		if (delay < 0) {
			/* In a chain, an IMDS with no such identity is unavailable. */
			rc = mi_error(s, resource, &resp, err);
			if (s->probe && s->kind == MI_IMDS && resp.status == 400 && err)
				err->rc = rc = AZKV_ERR_UNAVAILABLE;
			goto out;
		}
		azkv_warn("%s: HTTP %ld; retry %d in %ld ms", s->base.name, resp.status,
		          attempt + 1, delay);
		azkv_http_response_free(&resp);
		azkv_sleep_ms(delay);
		attempt++;
	}
	rc = azkv_token_parse(resp.body, s->base.name, out, err);
out:
	azkv_http_response_free(&resp);
	azkv_secret_str_free(secret);
	azkv_secret_str_free(auth);
	curl_free(esc);
	free(resource);
	free(url);
	return rc;
}

/* ---------------------------------------------------------------- setup */

static void mi_free(azkv_cred_source *src)
{
	mi_source *s = (mi_source *)src;

	pthread_mutex_destroy(&s->lock);
	free(s->url);
	azkv_secret_str_free(s->header);
	free(s->selector);
	free(s->arc_key_dir);
	free(s);
}

/* "&NAME=escaped(value)" for the user-assigned identity, or "". */
static azkv_rc make_selector(mi_source *s, const azkv_mi_options *o, azkv_err *err)
{
	const struct mi_protocol *p = &protocols[s->kind];
	const char *name = NULL, *value = NULL, *what = NULL;
	char *esc;
	size_t len;

	if (o->client_id) {
		name = p->by_client;
		value = o->client_id;
		what = "client_id";
	} else if (o->object_id) {
		name = p->by_object;
		value = o->object_id;
		what = "object_id";
	} else if (o->resource_id) {
		name = p->by_resource;
		value = o->resource_id;
		what = "resource_id";
	}
	if (value && !name)
		return azkv_err_set(
		        err, AZKV_ERR_CONFIG,
		        "%s: a user-assigned identity (%s) cannot be chosen here: Azure "
		        "Arc has only the system-assigned identity",
		        p->name, what);
	esc = value ? curl_easy_escape(NULL, value, 0) : NULL;
	len = esc ? strlen(name) + strlen(esc) + 3 : 1;
	s->selector = (value && !esc) ? NULL : malloc(len);
	if (s->selector)
		snprintf(s->selector, len, "%s%s%s%s", esc ? "&" : "", esc ? name : "",
		         esc ? "=" : "", esc ? esc : "");
	curl_free(esc);
	return s->selector ? AZKV_OK
	                   : azkv_err_set(err, AZKV_ERR_NOMEM, "managed identity: out of memory");
}

azkv_rc azkv_src_managed_identity_new(azkv_http *http, const azkv_mi_options *o,
                                      azkv_cred_source **out, azkv_err *err)
{
	mi_source *s = calloc(1, sizeof(*s));
	const char *endpoint =
	        o->identity_endpoint ? o->identity_endpoint : env_value("IDENTITY_ENDPOINT");
	const char *header = env_value("IDENTITY_HEADER");
	const char *base;
	char real[PATH_MAX];
	size_t len;
	azkv_rc rc = AZKV_OK;

	*out = NULL;
	if (!s || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return azkv_err_set(err, AZKV_ERR_NOMEM, "managed identity: out of memory");
	}
	s->http = http;
	s->max_retries = o->max_retries;
	s->probe = o->probe;
	s->base.get_token = mi_get_token;
	s->base.free = mi_free;
	if (endpoint && header) {
		s->kind = MI_APP_SERVICE;
	} else if (endpoint && env_value("IMDS_ENDPOINT")) {
		s->kind = MI_ARC;
	} else if (o->identity_endpoint) {
		rc = azkv_err_set(
		        err, AZKV_ERR_CONFIG,
		        "managed identity: identity_endpoint %s needs IDENTITY_HEADER (App "
		        "Service, Functions, Container Apps) or IMDS_ENDPOINT (Azure Arc) "
		        "in the environment",
		        o->identity_endpoint);
		goto out;
	} else {
		s->kind = MI_IMDS;
	}
	s->base.name = protocols[s->kind].name;
	if (s->kind == MI_IMDS) {
		base = o->imds_endpoint ? o->imds_endpoint
		                        : env_value("AZURE_POD_IDENTITY_AUTHORITY_HOST");
		if (!base)
			base = IMDS_DEFAULT;
		len = strlen(base);
		while (len > 0 && base[len - 1] == '/')
			len--;
		s->url = malloc(len + sizeof(IMDS_PATH));
		if (s->url)
			snprintf(s->url, len + sizeof(IMDS_PATH), "%.*s%s", (int)len, base,
			         IMDS_PATH);
		if (s->url && !azkv_http_url_allowed_imds(s->url)) {
			rc = azkv_err_set(err, AZKV_ERR_CONFIG,
			                  "managed identity: IMDS endpoint %s must be https://, or "
			                  "http:// to 169.254.169.254 or a loopback address",
			                  base);
			goto out;
		}
		s->header = strdup("Metadata: true");
	} else {
		if (!azkv_http_url_allowed(endpoint)) {
			rc = azkv_err_set(
			        err, AZKV_ERR_CONFIG,
			        "%s: endpoint %s must be https://, or http:// to a loopback "
			        "address",
			        s->base.name, endpoint);
			goto out;
		}
		s->url = strdup(endpoint);
		if (s->kind == MI_APP_SERVICE) {
			len = strlen("X-IDENTITY-HEADER: ") + strlen(header) + 1;
			s->header = malloc(len);
			if (s->header)
				snprintf(s->header, len, "X-IDENTITY-HEADER: %s", header);
		} else {
			s->header = strdup("Metadata: true");
			/* Compared by real path, so "..", or links, cannot step outside it. */
			if (!realpath(o->arc_key_dir ? o->arc_key_dir : ARC_KEY_DIR, real))
				snprintf(real, sizeof(real), "%s",
				         o->arc_key_dir ? o->arc_key_dir : ARC_KEY_DIR);
			s->arc_key_dir = strdup(real);
			if (!s->arc_key_dir)
				goto nomem;
		}
	}
	if (!s->url || !s->header)
		goto nomem;
	rc = make_selector(s, o, err);
	if (rc != AZKV_OK)
		goto out;
	azkv_debug("%s: %s%s", s->base.name, s->url,
	           s->selector[0] ? " (user-assigned identity)" : " (system-assigned identity)");
	*out = &s->base;
	s = NULL;
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "managed identity: out of memory");
out:
	if (s)
		mi_free(&s->base);
	return rc;
}
