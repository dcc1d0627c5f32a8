/* The JSON configuration file: parsing, validation and defaults. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "bytes.h"
#include "cred_source.h"
#include "file.h"
#include "http.h"
#include "log.h"
#include "retry.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_ENV          "AZKV_PKCS11_CONFIG"
#define CONFIG_MAX_SIZE     (1024 * 1024)
#define SECRET_MAX_SIZE     (64 * 1024)
#define LABEL_MAX           32
#define DEFAULT_AUTHORITY   "https://login.microsoftonline.com"
#define DEFAULT_API_VERSION "7.4"

const char *azkv_config_path(void)
{
	const char *env = secure_getenv(CONFIG_ENV);

	if (env && *env)
		return env;
	return SYSCONFDIR "/azkv-pkcs11/config.json";
}

/* ---------------------------------------------------------------- helpers */

typedef struct parse_ctx {
	const char *origin;
	azkv_err *err;
	/* The secret given in the file itself ("credential.client_secret",
	 * "vaults[0].pin"); empty when none is. */
	char inline_secret[64];
} parse_ctx;

__attribute__((format(printf, 2, 3))) static azkv_rc cfg_err(parse_ctx *ctx, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return azkv_err_set(ctx->err, AZKV_ERR_CONFIG, "config %s: %s", ctx->origin, what);
}

static azkv_rc cfg_nomem(parse_ctx *ctx)
{
	return azkv_err_set(ctx->err, AZKV_ERR_NOMEM, "config %s: out of memory", ctx->origin);
}

/* A member named "//" is a comment, in any object of the file and as
 * often as wanted (JSON has none; the installed example,
 * etc/config.json.example, is commented so). Its value must be a string:
 * "//": {...} would be a section switched off without a word. Every
 * reader of an object skips comments. */
static int is_comment(parse_ctx *ctx, const cJSON *item, const char *where, azkv_rc *rc)
{
	if (strcmp(item->string, AZKV_CONFIG_COMMENT_KEY) != 0)
		return 0;
	*rc = cJSON_IsString(item)
	              ? AZKV_OK
	              : cfg_err(ctx,
	                        "\"" AZKV_CONFIG_COMMENT_KEY "\" in %s is a comment and must "
	                        "be a string",
	                        where);
	return 1;
}

/* Every member of obj must be in allowed (NULL-terminated) and unique,
 * comments aside. */
static azkv_rc check_keys(parse_ctx *ctx, const cJSON *obj, const char *where,
                          const char *const *allowed)
{
	const cJSON *item, *prev;
	azkv_rc rc;
	size_t i;

	cJSON_ArrayForEach(item, obj)
	{
		if (is_comment(ctx, item, where, &rc)) {
			if (rc != AZKV_OK)
				return rc;
			continue;
		}
		for (i = 0; allowed[i]; i++) {
			if (strcmp(item->string, allowed[i]) == 0)
				break;
		}
		if (!allowed[i])
			return cfg_err(ctx, "unknown key \"%s\" in %s", item->string, where);
		for (prev = obj->child; prev != item; prev = prev->next) {
			if (strcmp(prev->string, item->string) == 0)
				return cfg_err(ctx, "duplicate key \"%s\" in %s", item->string,
				               where);
		}
	}
	return AZKV_OK;
}

/* A non-empty string member, copied into *out; absent leaves *out. */
static azkv_rc get_string(parse_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
                          char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *copy;

	if (!item)
		return AZKV_OK;
	if (!cJSON_IsString(item) || !item->valuestring[0])
		return cfg_err(ctx, "\"%s%s\" must be a non-empty string", prefix, key);
	copy = strdup(item->valuestring);
	if (!copy)
		return cfg_nomem(ctx);
	free(*out);
	*out = copy;
	return AZKV_OK;
}

/* An integer member in [min, max]; absent leaves *out. */
static azkv_rc get_long(parse_ctx *ctx, const cJSON *obj, const char *prefix, const char *key,
                        long min, long max, long *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	if (!item)
		return AZKV_OK;
	v = item->valuedouble;
	if (!cJSON_IsNumber(item) || !isfinite(v) || floor(v) != v || v < (double)min ||
	    v > (double)max)
		return cfg_err(ctx, "\"%s%s\" must be an integer from %ld to %ld", prefix, key, min,
		               max);
	*out = (long)v;
	return AZKV_OK;
}

static azkv_rc get_object(parse_ctx *ctx, const cJSON *root, const char *key, const cJSON **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);

	*out = NULL;
	if (!item)
		return AZKV_OK;
	if (!cJSON_IsObject(item))
		return cfg_err(ctx, "\"%s\" must be an object", key);
	*out = item;
	return AZKV_OK;
}

/* Reads a secret (client secret, certificate password, PIN) from path:
 * the whole text less its trailing newlines, or its first line. where
 * names the key in messages ("credential.client_secret_file"). What is not
 * kept is wiped. */
static azkv_rc read_secret_file(parse_ctx *ctx, const char *where, const char *path, int first_line,
                                char **out)
{
	struct stat st;
	size_t len = 0, keep;
	char *buf = NULL;
	int e;

	e = azkv_file_read(path, 0, SECRET_MAX_SIZE, &buf, &len, &st);
	if (e)
		return cfg_err(ctx, "%s %s: %s", where, path, azkv_file_error(e));
	/* A NUL inside is no text: nothing is kept. */
	keep = strlen(buf) != len ? 0 : first_line ? strcspn(buf, "\r\n") : len;
	while (!first_line && keep > 0 && (buf[keep - 1] == '\n' || buf[keep - 1] == '\r'))
		keep--;
	OPENSSL_cleanse(buf + keep, len - keep);
	if (keep == 0) {
		azkv_file_free(buf, len);
		return cfg_err(ctx, "%s %s is empty or not text", where, path);
	}
	azkv_file_warn_unprotected(path, &st, where);
	*out = buf;
	return AZKV_OK;
}

/* ---------------------------------------------------------------- sections */

/* The value of key, url, must be https:// (or http:// to loopback) with
 * no user info, path, query or fragment; example is what to write
 * instead. Trailing '/' are removed from url. If host is not NULL, it
 * receives the host (curl_free). */
static azkv_rc check_base_url(parse_ctx *ctx, const char *key, char *url, const char *example,
                              char **host, int allow_imds)
{
	CURLU *u = curl_url();
	char *h = NULL, *path = NULL, *part = NULL;
	size_t len;
	azkv_rc rc = AZKV_OK;

	if (!u) {
		rc = cfg_nomem(ctx);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		rc = cfg_err(ctx, "%s \"%s\" is not a URL", key,
		             strchr(url, '@') ? "(hidden)" : url);
		goto out;
	}
	/* Not echoed: user info may hold a password. */
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
		rc = cfg_err(ctx, "%s must not contain user information", key);
		goto out;
	}
	if (!(allow_imds ? azkv_http_url_allowed_imds(url) : azkv_http_url_allowed(url))) {
		rc = cfg_err(ctx,
		             "%s \"%s\" must be https:// (plain http:// is only allowed to a "
		             "loopback address%s)",
		             key, url, allow_imds ? " or the IMDS address 169.254.169.254" : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") != 0) {
		rc = cfg_err(ctx, "%s \"%s\" must not have a path (want %s)", key, url, example);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		rc = cfg_err(ctx, "%s \"%s\" must not have a query or fragment", key, url);
		goto out;
	}
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	if (host) {
		*host = h;
		h = NULL;
	}
out:
	curl_free(h);
	curl_free(path);
	curl_free(part);
	curl_url_cleanup(u);
	return rc;
}

/* A Key Vault key name (1-127 letters, digits and '-'), optionally
 * followed by "/VERSION" (1-64 letters and digits) to pin a version. */
static int key_name_valid(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t len = slash ? (size_t)(slash - name) : strlen(name);
	if (len == 0 || len > 127)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return 0;
	if (slash == NULL)
		return 1;
	const char *v = slash + 1;
	size_t vlen = strlen(v);
	if (vlen == 0 || vlen > 64)
		return 0;
	for (size_t i = 0; i < vlen; i++)
		if (!isalnum((unsigned char)v[i]))
			return 0;
	return 1;
}

/* "keys": the names of the keys to expose, so that the identity needs no
 * "list" permission (Foundry's least privilege is get/wrapKey/unwrapKey). */
static azkv_rc parse_key_names(parse_ctx *ctx, const cJSON *item, const char *where,
                               azkv_vault_config *v)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(item, "keys");
	const cJSON *name;
	size_t n = 0;
	if (arr == NULL)
		return AZKV_OK;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return cfg_err(ctx, "%s.keys must be a non-empty array of key names", where);
	v->keys = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*v->keys));
	if (v->keys == NULL)
		return cfg_nomem(ctx);
	cJSON_ArrayForEach(name, arr)
	{
		if (!cJSON_IsString(name) || !key_name_valid(name->valuestring))
			return cfg_err(ctx,
			               "%s.keys[%zu] is not a key name (1-127 letters, digits "
			               "and '-')",
			               where, n);
		v->keys[n] = strdup(name->valuestring);
		if (v->keys[n] == NULL)
			return cfg_nomem(ctx);
		v->n_keys = ++n;
	}
	return AZKV_OK;
}

/* "certificates": {"KEY[/VERSION]": "/path/cert.pem", ...}: X.509
 * certificates to show beside keys (Java's keystore lists a key only with
 * its certificate). */
static azkv_rc parse_certificates(parse_ctx *ctx, const cJSON *item, const char *where,
                                  azkv_vault_config *v)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(item, "certificates");
	const cJSON *entry;
	size_t n = 0, count;
	if (obj == NULL)
		return AZKV_OK;
	if (!cJSON_IsObject(obj))
		return cfg_err(ctx,
		               "%s.certificates must be an object: {\"KEY\": \"/path/cert.pem\"}",
		               where);
	count = (size_t)cJSON_GetArraySize(obj);
	v->cert_keys = calloc(count + 1, sizeof(*v->cert_keys));
	v->cert_files = calloc(count + 1, sizeof(*v->cert_files));
	if (v->cert_keys == NULL || v->cert_files == NULL)
		return cfg_nomem(ctx);
	cJSON_ArrayForEach(entry, obj)
	{
		char in[48];
		azkv_rc rc;

		snprintf(in, sizeof(in), "%s.certificates", where);
		if (is_comment(ctx, entry, in, &rc)) {
			if (rc != AZKV_OK)
				return rc;
			continue;
		}
		if (!key_name_valid(entry->string))
			return cfg_err(ctx, "%s.certificates: \"%s\" is not a key name", where,
			               entry->string);
		if (!cJSON_IsString(entry) || entry->valuestring[0] == '\0')
			return cfg_err(ctx, "%s.certificates.%s must be the path of a PEM file",
			               where, entry->string);
		v->cert_keys[n] = strdup(entry->string);
		v->cert_files[n] = strdup(entry->valuestring);
		v->n_certs = ++n;
		if (v->cert_keys[n - 1] == NULL || v->cert_files[n - 1] == NULL)
			return cfg_nomem(ctx);
	}
	return AZKV_OK;
}

/* "pin" or "pin_file": the user PIN of the vault's token (the first line
 * of the file), 1 to AZKV_PIN_MAX bytes. Never echoed in a message. */
static azkv_rc parse_pin(parse_ctx *ctx, const cJSON *item, const char *where, azkv_vault_config *v)
{
	char prefix[40], key[48];
	char *path = NULL;
	azkv_rc rc;

	snprintf(prefix, sizeof(prefix), "%s.", where);
	snprintf(key, sizeof(key), "%s.pin_file", where);
	if (cJSON_GetObjectItemCaseSensitive(item, "pin") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(item, "pin_file") != NULL)
		return cfg_err(ctx, "%s: give pin or pin_file, not both", where);
	rc = get_string(ctx, item, prefix, "pin", &v->pin);
	if (rc == AZKV_OK && v->pin != NULL)
		snprintf(ctx->inline_secret, sizeof(ctx->inline_secret), "%s.pin", where);
	if (rc == AZKV_OK)
		rc = get_string(ctx, item, prefix, "pin_file", &path);
	if (rc == AZKV_OK && path != NULL)
		rc = read_secret_file(ctx, key, path, 1, &v->pin);
	free(path);
	if (rc == AZKV_OK && v->pin != NULL && strlen(v->pin) > AZKV_PIN_MAX)
		rc = cfg_err(ctx, "%s: the PIN is longer than %d bytes", where, AZKV_PIN_MAX);
	return rc;
}

/* A vault's true/false option: *out 0 when absent. */
static azkv_rc get_vault_flag(parse_ctx *ctx, const cJSON *item, const char *where,
                              const char *name, int *out)
{
	const cJSON *flag = cJSON_GetObjectItemCaseSensitive(item, name);
	if (flag != NULL && !cJSON_IsBool(flag))
		return cfg_err(ctx, "%s.%s must be true or false", where, name);
	*out = cJSON_IsTrue(flag);
	return AZKV_OK;
}

static azkv_rc parse_vault(parse_ctx *ctx, const cJSON *item, size_t idx, azkv_vault_config *v)
{
	static const char *const keys[] = {"url",
	                                   "label",
	                                   "keys",
	                                   "certificates",
	                                   AZKV_CONFIG_RSA_PKCS1_V15_DECRYPT_KEY,
	                                   AZKV_CONFIG_KEY_CREATION_KEY,
	                                   "pin",
	                                   "pin_file",
	                                   NULL};
	char where[32], prefix[32], key[40];
	char *host = NULL;
	const char *h;
	size_t len;
	azkv_rc rc;

	snprintf(where, sizeof(where), "vaults[%zu]", idx);
	snprintf(prefix, sizeof(prefix), "vaults[%zu].", idx);
	if (!cJSON_IsObject(item))
		return cfg_err(ctx, "%s must be an object with \"url\"", where);
	rc = check_keys(ctx, item, where, keys);
	if (rc == AZKV_OK)
		rc = get_string(ctx, item, prefix, "url", &v->url);
	if (rc == AZKV_OK)
		rc = get_string(ctx, item, prefix, "label", &v->label);
	if (rc == AZKV_OK)
		rc = parse_key_names(ctx, item, where, v);
	if (rc == AZKV_OK)
		rc = parse_certificates(ctx, item, where, v);
	if (rc == AZKV_OK)
		rc = parse_pin(ctx, item, where, v);
	if (rc != AZKV_OK)
		goto out;
	rc = get_vault_flag(ctx, item, where, AZKV_CONFIG_RSA_PKCS1_V15_DECRYPT_KEY,
	                    &v->allow_rsa_pkcs1_v15_decrypt);
	if (rc == AZKV_OK)
		rc = get_vault_flag(ctx, item, where, AZKV_CONFIG_KEY_CREATION_KEY,
		                    &v->allow_key_creation);
	if (rc != AZKV_OK)
		goto out;
	if (!v->url) {
		rc = cfg_err(ctx, "%s.url is required", where);
		goto out;
	}
	snprintf(key, sizeof(key), "%surl", prefix);
	rc = check_base_url(ctx, key, v->url, "https://NAME.vault.azure.net", &host, 0);
	if (rc != AZKV_OK)
		goto out;

	if (v->label && strlen(v->label) > LABEL_MAX) {
		rc = cfg_err(ctx, "%s.label \"%s\" is longer than %d bytes", where, v->label,
		             LABEL_MAX);
		goto out;
	}
	if (!v->label) {
		/* NAME of NAME.vault.azure.net; an IPv6 host without brackets. */
		h = host[0] == '[' ? host + 1 : host;
		len = strcspn(h, host[0] == '[' ? "]" : ".");
		if (len > LABEL_MAX)
			len = LABEL_MAX;
		v->label = strndup(h, len);
		if (!v->label) {
			rc = cfg_nomem(ctx);
			goto out;
		}
	}
out:
	curl_free(host);
	return rc;
}

static azkv_rc parse_vaults(parse_ctx *ctx, const cJSON *root, azkv_config *cfg)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "vaults");
	const cJSON *item;
	size_t n, i = 0;
	azkv_rc rc;

	if (!arr)
		return cfg_err(ctx, "\"vaults\" is required (a list of {\"url\": ...})");
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return cfg_err(ctx, "\"vaults\" must be a non-empty list");
	n = (size_t)cJSON_GetArraySize(arr);
	cfg->vaults = calloc(n, sizeof(*cfg->vaults));
	if (!cfg->vaults)
		return cfg_nomem(ctx);
	cJSON_ArrayForEach(item, arr)
	{
		cfg->n_vaults = i + 1;
		rc = parse_vault(ctx, item, i, &cfg->vaults[i]);
		if (rc != AZKV_OK)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(cfg->vaults[j].url, cfg->vaults[i].url) == 0)
				return cfg_err(ctx, "vaults[%zu] repeats the url of vaults[%zu]", i,
				               j);
			if (strcmp(cfg->vaults[j].label, cfg->vaults[i].label) == 0)
				return cfg_err(ctx,
				               "vaults[%zu] has the same label \"%s\" as "
				               "vaults[%zu]; set \"label\" to tell them apart",
				               i, cfg->vaults[i].label, j);
		}
		i++;
	}
	return AZKV_OK;
}

static const char *const cred_type_names[AZKV_CRED_TYPE_COUNT] = {
        [AZKV_CRED_CLIENT_SECRET] = "client_secret",
        [AZKV_CRED_ENVIRONMENT] = "environment",
        [AZKV_CRED_CLIENT_CERTIFICATE] = "client_certificate",
        [AZKV_CRED_MANAGED_IDENTITY] = "managed_identity",
        [AZKV_CRED_WORKLOAD_IDENTITY] = "workload_identity",
        [AZKV_CRED_AZURE_CLI] = "azure_cli",
        [AZKV_CRED_DEFAULT] = "default",
};

const char *azkv_credential_type_name(azkv_credential_type type)
{
	return (unsigned)type < AZKV_CRED_TYPE_COUNT ? cred_type_names[type] : "unknown";
}

/* How a credential key's value is read. */
typedef enum cred_key_kind {
	CK_TEXT,          /* a non-empty string */
	CK_BASE_URL,      /* https://HOST (http:// only to loopback), no path */
	CK_IMDS_URL,      /* as CK_BASE_URL, and http://169.254.169.254 */
	CK_ENDPOINT_URL,  /* https://, or http:// to loopback; a path is kept */
	CK_SECRET_FILE,   /* a path; the file's text is the secret value */
	CK_BOOL,          /* true or false */
	CK_MS,            /* milliseconds, 1 to 600000 */
	CK_ASSERTION_ALG, /* "RS256" or "PS256" */
	CK_TENANT_LIST,   /* an array of tenant ids or "*" */
} cred_key_kind;

#define TYPE(t)   (1u << AZKV_CRED_##t)
#define ENTRA_APP (TYPE(CLIENT_SECRET) | TYPE(CLIENT_CERTIFICATE) | TYPE(WORKLOAD_IDENTITY))
#define MI_LIKE   (TYPE(MANAGED_IDENTITY) | TYPE(DEFAULT))
#define FIELD(f)  offsetof(azkv_credential_config, f)

/* Every key of "credential": the types that take it, the types that need
 * it, how it is read and where it goes. The README's table of credential
 * types says the same in words. */
static const struct cred_key {
	const char *name;
	unsigned types;
	unsigned required;
	cred_key_kind kind;
	size_t field;
} cred_keys[] = {
        {"tenant_id", ENTRA_APP | TYPE(AZURE_CLI) | TYPE(DEFAULT),
         TYPE(CLIENT_SECRET) | TYPE(CLIENT_CERTIFICATE), CK_TEXT, FIELD(tenant_id)},
        {"client_id", ENTRA_APP | MI_LIKE, TYPE(CLIENT_SECRET) | TYPE(CLIENT_CERTIFICATE), CK_TEXT,
         FIELD(client_id)},
        {"client_secret", TYPE(CLIENT_SECRET), 0, CK_TEXT, FIELD(client_secret)},
        {"client_secret_file", TYPE(CLIENT_SECRET), 0, CK_SECRET_FILE, FIELD(client_secret)},
        {"authority_host", ENTRA_APP | TYPE(ENVIRONMENT) | TYPE(DEFAULT), 0, CK_BASE_URL,
         FIELD(authority_host)},
        {"certificate_file", TYPE(CLIENT_CERTIFICATE), TYPE(CLIENT_CERTIFICATE), CK_TEXT,
         FIELD(certificate_file)},
        {"certificate_password_file", TYPE(CLIENT_CERTIFICATE), 0, CK_SECRET_FILE,
         FIELD(certificate_password)},
        {"send_certificate_chain", TYPE(CLIENT_CERTIFICATE), 0, CK_BOOL,
         FIELD(send_certificate_chain)},
        {"assertion_alg", TYPE(CLIENT_CERTIFICATE), 0, CK_ASSERTION_ALG, FIELD(assertion_alg)},
        {"object_id", TYPE(MANAGED_IDENTITY), 0, CK_TEXT, FIELD(object_id)},
        {"resource_id", TYPE(MANAGED_IDENTITY), 0, CK_TEXT, FIELD(resource_id)},
        {"imds_endpoint", MI_LIKE, 0, CK_IMDS_URL, FIELD(imds_endpoint)},
        {"identity_endpoint", MI_LIKE, 0, CK_ENDPOINT_URL, FIELD(identity_endpoint)},
        {"arc_key_dir", MI_LIKE, 0, CK_TEXT, FIELD(arc_key_dir)},
        {"token_file", TYPE(WORKLOAD_IDENTITY) | TYPE(DEFAULT), 0, CK_TEXT, FIELD(token_file)},
        {"process_timeout_ms", TYPE(AZURE_CLI) | TYPE(DEFAULT), 0, CK_MS,
         FIELD(process_timeout_ms)},
        /* Not for managed identities: they ignore a challenge's tenant. */
        {"additionally_allowed_tenants",
         ENTRA_APP | TYPE(ENVIRONMENT) | TYPE(AZURE_CLI) | TYPE(DEFAULT), 0, CK_TENANT_LIST,
         FIELD(allowed_tenants)},
};

#define N_CRED_KEYS (sizeof(cred_keys) / sizeof(cred_keys[0]))

/* "tenant_id, client_id, ...": the keys type takes, for messages. */
static void keys_of_type(azkv_credential_type type, char *buf, size_t cap)
{
	size_t len = 0;

	snprintf(buf, cap, "only \"type\"");
	for (size_t i = 0; i < N_CRED_KEYS && len < cap; i++) {
		if (cred_keys[i].types & (1u << type))
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
			                        cred_keys[i].name);
	}
}

static azkv_rc parse_cred_type(parse_ctx *ctx, const cJSON *obj, azkv_credential_type *type)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "type");
	char names[200];
	size_t len = 0;

	/* A section without a type is the client secret it always was. */
	*type = AZKV_CRED_CLIENT_SECRET;
	if (!item)
		return AZKV_OK;
	for (int t = 0; t < AZKV_CRED_TYPE_COUNT; t++) {
		if (cJSON_IsString(item) && strcmp(item->valuestring, cred_type_names[t]) == 0) {
			*type = (azkv_credential_type)t;
			return AZKV_OK;
		}
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", t ? ", " : "",
		                        cred_type_names[t]);
	}
	return cfg_err(ctx, "\"credential.type\" must be one of: %s", names);
}

/* credential.additionally_allowed_tenants: tenant ids, or "*" for any. */
static azkv_rc parse_tenant_list(parse_ctx *ctx, const cJSON *arr, azkv_credential_config *c)
{
	const cJSON *t;
	size_t n = 0;

	if (!cJSON_IsArray(arr))
		return cfg_err(ctx, "\"credential.additionally_allowed_tenants\" must be an array "
		                    "of tenant ids (or \"*\")");
	c->allowed_tenants = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(char *));
	if (!c->allowed_tenants)
		return cfg_nomem(ctx);
	cJSON_ArrayForEach(t, arr)
	{
		if (!cJSON_IsString(t) ||
		    (strcmp(t->valuestring, "*") != 0 && !azkv_tenant_valid(t->valuestring)))
			return cfg_err(
			        ctx,
			        "credential.additionally_allowed_tenants[%zu] is not a tenant "
			        "id (a GUID or domain name) or \"*\"",
			        n);
		c->allowed_tenants[n] = strdup(t->valuestring);
		if (!c->allowed_tenants[n])
			return cfg_nomem(ctx);
		c->n_allowed_tenants = ++n;
	}
	return AZKV_OK;
}

/* Reads the value of key k (present in obj) into c. */
static azkv_rc parse_cred_value(parse_ctx *ctx, const cJSON *obj, const struct cred_key *k,
                                azkv_credential_config *c)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, k->name);
	char **str = (char **)(void *)((char *)c + k->field);
	char where[64], *path = NULL;
	long ms = 0;
	azkv_rc rc = AZKV_OK;

	snprintf(where, sizeof(where), "credential.%s", k->name);
	switch (k->kind) {
	case CK_TENANT_LIST:
		return parse_tenant_list(ctx, item, c);
	case CK_BOOL:
		if (!cJSON_IsBool(item))
			return cfg_err(ctx, "\"%s\" must be true or false", where);
		*(int *)(void *)((char *)c + k->field) = cJSON_IsTrue(item);
		return AZKV_OK;
	case CK_MS:
		rc = get_long(ctx, obj, "credential.", k->name, 1, 600000, &ms);
		*(long *)(void *)((char *)c + k->field) = ms;
		return rc;
	case CK_ASSERTION_ALG:
		if (cJSON_IsString(item) && strcmp(item->valuestring, "RS256") == 0)
			c->assertion_alg = AZKV_ASSERTION_RS256;
		else if (cJSON_IsString(item) && strcmp(item->valuestring, "PS256") == 0)
			c->assertion_alg = AZKV_ASSERTION_PS256;
		else
			return cfg_err(ctx, "\"%s\" must be \"RS256\" or \"PS256\"", where);
		return AZKV_OK;
	case CK_SECRET_FILE:
		if (*str)
			return cfg_err(ctx, "credential: give %.*s or %s, not both",
			               (int)(strlen(k->name) - strlen("_file")), k->name, k->name);
		rc = get_string(ctx, obj, "credential.", k->name, &path);
		if (rc == AZKV_OK)
			rc = read_secret_file(ctx, where, path, 0, str);
		free(path);
		return rc;
	case CK_TEXT:
		if (*str)
			return cfg_err(ctx, "credential: give %s or %s_file, not both", k->name,
			               k->name);
		rc = get_string(ctx, obj, "credential.", k->name, str);
		if (rc == AZKV_OK && k->field == FIELD(client_secret))
			snprintf(ctx->inline_secret, sizeof(ctx->inline_secret), "%s", where);
		return rc;
	case CK_BASE_URL:
	case CK_IMDS_URL:
		rc = get_string(ctx, obj, "credential.", k->name, str);
		if (rc == AZKV_OK)
			rc = check_base_url(ctx, where, *str,
			                    k->kind == CK_IMDS_URL ? "http://169.254.169.254"
			                                           : DEFAULT_AUTHORITY,
			                    NULL, k->kind == CK_IMDS_URL);
		return rc;
	case CK_ENDPOINT_URL:
		rc = get_string(ctx, obj, "credential.", k->name, str);
		if (rc == AZKV_OK && !azkv_http_url_allowed(*str))
			rc = cfg_err(ctx,
			             "%s \"%s\" must be https://, or http:// to a loopback address",
			             where, *str);
		return rc;
	}
	return rc;
}

static azkv_rc parse_credential(parse_ctx *ctx, const cJSON *root, azkv_credential_config *c)
{
	const cJSON *obj, *item;
	const char *type_name;
	char takes[400];
	unsigned bit;
	size_t i;
	azkv_rc rc;

	rc = get_object(ctx, root, "credential", &obj);
	if (rc != AZKV_OK)
		return rc;
	if (!obj) {
		/* DefaultAzureCredential's chain, as the Azure SDKs do. */
		c->type = AZKV_CRED_DEFAULT;
		return AZKV_OK;
	}
	rc = parse_cred_type(ctx, obj, &c->type);
	if (rc != AZKV_OK)
		return rc;
	type_name = cred_type_names[c->type];
	bit = 1u << c->type;
	keys_of_type(c->type, takes, sizeof(takes));
	cJSON_ArrayForEach(item, obj)
	{
		if (is_comment(ctx, item, "\"credential\"", &rc)) {
			if (rc != AZKV_OK)
				return rc;
			continue;
		}
		for (const cJSON *prev = obj->child; prev != item; prev = prev->next) {
			if (strcmp(prev->string, item->string) == 0)
				return cfg_err(ctx, "duplicate key \"%s\" in \"credential\"",
				               item->string);
		}
		if (strcmp(item->string, "type") == 0)
			continue;
		for (i = 0; i < N_CRED_KEYS && strcmp(cred_keys[i].name, item->string) != 0; i++)
			;
		if (i == N_CRED_KEYS)
			return cfg_err(ctx,
			               "unknown key \"%s\" in \"credential\" (type %s takes %s)",
			               item->string, type_name, takes);
		if (!(cred_keys[i].types & bit))
			return cfg_err(ctx, "credential.%s is not used with type %s (it takes %s)",
			               item->string, type_name, takes);
		rc = parse_cred_value(ctx, obj, &cred_keys[i], c);
		if (rc != AZKV_OK)
			return rc;
	}
	for (i = 0; i < N_CRED_KEYS; i++) {
		if ((cred_keys[i].required & bit) &&
		    !cJSON_GetObjectItemCaseSensitive(obj, cred_keys[i].name))
			return cfg_err(ctx, "credential.%s is required for type %s",
			               cred_keys[i].name, type_name);
	}
	if (c->type == AZKV_CRED_CLIENT_SECRET && !c->client_secret)
		return cfg_err(ctx, "credential.client_secret or credential.client_secret_file is "
		                    "required for type client_secret");
	if (c->type == AZKV_CRED_MANAGED_IDENTITY &&
	    !!c->client_id + !!c->object_id + !!c->resource_id > 1)
		return cfg_err(ctx,
		               "credential: a user-assigned managed identity is named by one of "
		               "client_id, object_id or resource_id, not several");
	return AZKV_OK;
}

/* "retry": the Key Vault and ARM clients' retry policy (http.h). The
 * older http.max_retries is the same setting as retry.max_retries. */
static azkv_rc parse_retry(parse_ctx *ctx, const cJSON *root, azkv_retry_policy *r)
{
	static const char *const keys[] = {"max_retries", "base_delay_ms", "max_delay_ms",
	                                   "deadline_ms", NULL};
	const cJSON *obj, *http = cJSON_GetObjectItemCaseSensitive(root, "http");
	long retries = r->max_retries;
	azkv_rc rc;

	rc = get_object(ctx, root, "retry", &obj);
	if (rc != AZKV_OK || !obj)
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(obj, "max_retries") &&
	    cJSON_GetObjectItemCaseSensitive(http, "max_retries"))
		return cfg_err(ctx, "give retry.max_retries or http.max_retries (its older name), "
		                    "not both");
	rc = check_keys(ctx, obj, "\"retry\"", keys);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "retry.", "max_retries", 0, 10, &retries);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "retry.", "base_delay_ms", 1, 60000, &r->base_delay_ms);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "retry.", "max_delay_ms", 1, 600000, &r->max_delay_ms);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "retry.", "deadline_ms", 0, 3600000, &r->deadline_ms);
	r->max_retries = (int)retries;
	if (rc == AZKV_OK && r->max_delay_ms < r->base_delay_ms)
		rc = cfg_err(ctx, "retry.max_delay_ms (%ld) is less than retry.base_delay_ms (%ld)",
		             r->max_delay_ms, r->base_delay_ms);
	return rc;
}

static azkv_rc parse_http(parse_ctx *ctx, const cJSON *root, azkv_http_config *h)
{
	static const char *const keys[] = {"ca_file",    "connect_to",  "connect_timeout_ms",
	                                   "timeout_ms", "max_retries", NULL};
	const cJSON *obj;
	long retries = azkv_retry_default.max_retries;
	azkv_rc rc;

	h->connect_timeout_ms = 5000;
	h->timeout_ms = 30000;
	h->retry = azkv_retry_default;
	rc = get_object(ctx, root, "http", &obj);
	if (rc != AZKV_OK || !obj)
		return rc;
	rc = check_keys(ctx, obj, "\"http\"", keys);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "http.", "ca_file", &h->ca_file);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "http.", "connect_to", &h->connect_to);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "http.", "connect_timeout_ms", 1, 600000,
		              &h->connect_timeout_ms);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "http.", "timeout_ms", 1, 3600000, &h->timeout_ms);
	if (rc == AZKV_OK)
		rc = get_long(ctx, obj, "http.", "max_retries", 0, 10, &retries);
	h->retry.max_retries = (int)retries;
	return rc;
}

/* "arm": where azkv-cmk sends Resource Manager calls and which
 * subscription it works in; the module itself never reads it. */
static azkv_rc parse_arm(parse_ctx *ctx, const cJSON *root, azkv_config *cfg)
{
	static const char *const keys[] = {"endpoint", "subscription_id", NULL};
	const cJSON *obj;
	azkv_rc rc;

	rc = get_object(ctx, root, "arm", &obj);
	if (rc != AZKV_OK || !obj)
		return rc;
	rc = check_keys(ctx, obj, "\"arm\"", keys);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "arm.", "endpoint", &cfg->arm_endpoint);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "arm.", "subscription_id", &cfg->arm_subscription_id);
	if (rc == AZKV_OK && cfg->arm_endpoint)
		rc = check_base_url(ctx, "arm.endpoint", cfg->arm_endpoint,
		                    "https://management.azure.com", NULL, 0);
	return rc;
}

static azkv_rc parse_log(parse_ctx *ctx, const cJSON *root, azkv_config *cfg)
{
	static const char *const keys[] = {"level", "file", "format", NULL};
	const cJSON *obj;
	azkv_log_level level;
	azkv_log_format format;
	azkv_rc rc;

	rc = get_object(ctx, root, "log", &obj);
	if (rc != AZKV_OK || !obj)
		return rc;
	rc = check_keys(ctx, obj, "\"log\"", keys);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "log.", "level", &cfg->log_level);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "log.", "file", &cfg->log_file);
	if (rc == AZKV_OK)
		rc = get_string(ctx, obj, "log.", "format", &cfg->log_format);
	if (rc == AZKV_OK && cfg->log_level && azkv_log_level_parse(cfg->log_level, &level) != 0)
		rc = cfg_err(ctx, "\"log.level\" \"%s\" is not one of %s", cfg->log_level,
		             azkv_log_level_names());
	if (rc == AZKV_OK && cfg->log_format &&
	    azkv_log_format_parse(cfg->log_format, &format) != 0)
		rc = cfg_err(ctx, "\"log.format\" \"%s\" is not one of %s", cfg->log_format,
		             azkv_log_format_names());
	return rc;
}

/* ---------------------------------------------------------------- entry */

static void json_position(const char *json, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = json; p < at && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* "cloud": a name of cloud.c's table; when absent, the cloud of the first
 * vault with a known suffix, else the public cloud. */
static azkv_rc parse_cloud(parse_ctx *ctx, const cJSON *root, azkv_config *cfg)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "cloud");
	CURLU *u;
	char *host = NULL;

	if (item) {
		cfg->cloud = cJSON_IsString(item) ? azkv_cloud_find(item->valuestring) : NULL;
		if (!cfg->cloud)
			return cfg_err(ctx, "\"cloud\" must be one of %s", azkv_cloud_names());
		return AZKV_OK;
	}
	for (size_t i = 0; i < cfg->n_vaults && !cfg->cloud; i++) {
		u = curl_url();
		if (u && curl_url_set(u, CURLUPART_URL, cfg->vaults[i].url, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
			cfg->cloud = azkv_cloud_for_vault_host(host, NULL);
		curl_free(host);
		host = NULL;
		curl_url_cleanup(u);
	}
	if (!cfg->cloud)
		cfg->cloud = azkv_cloud_default();
	return AZKV_OK;
}

/* The environment wins over the file for the settings tests and proxies
 * set per process (as AZKV_PKCS11_LOG_* do for the log). */
static azkv_rc apply_environment(parse_ctx *ctx, azkv_config *cfg)
{
	static const struct {
		const char *name;
		size_t field;
	} vars[] = {
	        {"AZKV_PKCS11_CA_FILE", offsetof(azkv_http_config, ca_file)},
	        {"AZKV_PKCS11_CONNECT_TO", offsetof(azkv_http_config, connect_to)},
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = secure_getenv(vars[i].name);
		char **slot = (char **)(void *)((char *)&cfg->http + vars[i].field);
		char *copy;

		if (!v || !*v)
			continue;
		copy = strdup(v);
		if (!copy)
			return cfg_nomem(ctx);
		free(*slot);
		*slot = copy;
	}
	return AZKV_OK;
}

static azkv_rc parse_config(const char *json, const char *origin, int need_vaults,
                            azkv_config **out, azkv_err *err, char inline_secret[64])
{
	static const char *const keys[] = {"vaults", "credential", "http", "retry",       "log",
	                                   "wrap",   "cloud",      "arm",  "api_version", NULL};
	parse_ctx ctx = {.origin = origin ? origin : "(string)", .err = err};
	const char *end = NULL;
	cJSON *root = NULL;
	const cJSON *wrap;
	azkv_config *cfg = NULL;
	azkv_rc rc;
	int line, col;

	*out = NULL;
	inline_secret[0] = '\0';
	if (!json) {
		rc = cfg_err(&ctx, "no text");
		goto out;
	}
	root = cJSON_ParseWithOpts(json, &end, 1);
	if (!root) {
		/* Only the position: the text around it may be a secret. */
		json_position(json, end ? end : json, &line, &col);
		rc = cfg_err(&ctx, "malformed JSON at line %d, column %d", line, col);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = cfg_err(&ctx, "the top level must be a JSON object");
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		rc = cfg_nomem(&ctx);
		goto out;
	}
	cfg->source = strdup(ctx.origin);
	if (!cfg->source) {
		rc = cfg_nomem(&ctx);
		goto out;
	}
	rc = check_keys(&ctx, root, "the top level", keys);
	if (rc == AZKV_OK && (need_vaults || cJSON_GetObjectItemCaseSensitive(root, "vaults")))
		rc = parse_vaults(&ctx, root, cfg);
	if (rc == AZKV_OK)
		rc = parse_cloud(&ctx, root, cfg);
	if (rc == AZKV_OK)
		rc = parse_credential(&ctx, root, &cfg->credential);
	if (rc == AZKV_OK)
		rc = parse_http(&ctx, root, &cfg->http);
	if (rc == AZKV_OK)
		rc = parse_retry(&ctx, root, &cfg->http.retry);
	if (rc == AZKV_OK)
		rc = parse_log(&ctx, root, cfg);
	if (rc == AZKV_OK)
		rc = parse_arm(&ctx, root, cfg);
	if (rc == AZKV_OK)
		rc = get_string(&ctx, root, "", "api_version", &cfg->api_version);
	if (rc == AZKV_OK)
		rc = apply_environment(&ctx, cfg);
	if (rc != AZKV_OK)
		goto out;
	wrap = cJSON_GetObjectItemCaseSensitive(root, "wrap");
	cfg->wrap = AZKV_WRAP_LOCAL;
	if (wrap) {
		if (cJSON_IsString(wrap) && strcmp(wrap->valuestring, "local") == 0) {
			cfg->wrap = AZKV_WRAP_LOCAL;
		} else if (cJSON_IsString(wrap) && strcmp(wrap->valuestring, "vault") == 0) {
			cfg->wrap = AZKV_WRAP_VAULT;
		} else {
			rc = cfg_err(&ctx, "\"wrap\" must be \"local\" or \"vault\"");
			goto out;
		}
	}
	if (!cfg->api_version) {
		cfg->api_version = strdup(DEFAULT_API_VERSION);
		if (!cfg->api_version) {
			rc = cfg_nomem(&ctx);
			goto out;
		}
	}
	memcpy(inline_secret, ctx.inline_secret, sizeof(ctx.inline_secret));
	*out = cfg;
	cfg = NULL;
out:
	if (root) {
		/* The tree holds copies of the client secret. */
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "credential");
		cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "client_secret");

		const cJSON *v;

		if (cJSON_IsString(s))
			OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
		/* And of the vaults' PINs. */
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vaults"))
		{
			cJSON *pin = cJSON_GetObjectItemCaseSensitive(v, "pin");
			if (cJSON_IsString(pin))
				OPENSSL_cleanse(pin->valuestring, strlen(pin->valuestring));
		}
		cJSON_Delete(root);
	}
	azkv_config_free(cfg);
	return rc;
}

azkv_rc azkv_config_parse(const char *json, const char *origin, azkv_config **out, azkv_err *err)
{
	char inline_secret[64];

	return parse_config(json, origin, 1, out, err, inline_secret);
}

azkv_rc azkv_config_new_default(azkv_config **out, azkv_err *err)
{
	char inline_secret[64];

	return parse_config("{}", "(defaults: no configuration file)", 0, out, err, inline_secret);
}

azkv_rc azkv_config_load_module(const char *path, int path_is_default, azkv_config **out,
                                int *absent, azkv_err *err)
{
	struct stat st;

	*absent = 0;
	if (path_is_default && path && stat(path, &st) != 0 && errno == ENOENT) {
		*absent = 1;
		return azkv_config_new_default(out, err);
	}
	return azkv_config_load(path, out, err);
}

int azkv_config_path_is_default(void)
{
	const char *env = secure_getenv(CONFIG_ENV);

	return !env || !*env;
}

azkv_rc azkv_config_load(const char *path, azkv_config **out, azkv_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	char inline_secret[64], what[96];
	int e;
	azkv_rc rc;

	*out = NULL;
	if (!path || !*path)
		return azkv_err_set(err, AZKV_ERR_CONFIG, "config: no path given");
	e = azkv_file_read(path, 0, CONFIG_MAX_SIZE, &text, &len, &st);
	if (e) {
		rc = azkv_err_set(err, AZKV_ERR_CONFIG,
		                  "config %s: cannot read: %s (set " CONFIG_ENV
		                  " to the configuration file)",
		                  path, azkv_file_error(e));
		goto out;
	}
	rc = parse_config(text, path, 1, out, err, inline_secret);
	if (rc == AZKV_OK && inline_secret[0] != '\0') {
		snprintf(what, sizeof(what), "configuration with %s in it", inline_secret);
		azkv_file_warn_unprotected(path, &st, what);
	}
out:
	azkv_file_free(text, len);
	return rc;
}

void azkv_config_free(azkv_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_vaults; i++) {
		free(cfg->vaults[i].url);
		free(cfg->vaults[i].label);
		for (size_t k = 0; k < cfg->vaults[i].n_keys; k++)
			free(cfg->vaults[i].keys[k]);
		free(cfg->vaults[i].keys);
		for (size_t k = 0; k < cfg->vaults[i].n_certs; k++) {
			free(cfg->vaults[i].cert_keys[k]);
			free(cfg->vaults[i].cert_files[k]);
		}
		free(cfg->vaults[i].cert_keys);
		free(cfg->vaults[i].cert_files);
		azkv_secret_str_free(cfg->vaults[i].pin);
	}
	free(cfg->vaults);
	free(cfg->credential.tenant_id);
	free(cfg->credential.client_id);
	azkv_secret_str_free(cfg->credential.client_secret);
	free(cfg->credential.authority_host);
	free(cfg->credential.certificate_file);
	azkv_secret_str_free(cfg->credential.certificate_password);
	free(cfg->credential.object_id);
	free(cfg->credential.resource_id);
	free(cfg->credential.imds_endpoint);
	free(cfg->credential.identity_endpoint);
	free(cfg->credential.arc_key_dir);
	free(cfg->credential.token_file);
	for (size_t i = 0; i < cfg->credential.n_allowed_tenants; i++)
		free(cfg->credential.allowed_tenants[i]);
	free(cfg->credential.allowed_tenants);
	free(cfg->http.ca_file);
	free(cfg->http.connect_to);
	free(cfg->log_level);
	free(cfg->log_file);
	free(cfg->log_format);
	free(cfg->api_version);
	free(cfg->arm_endpoint);
	free(cfg->arm_subscription_id);
	free(cfg->source);
	free(cfg);
}
