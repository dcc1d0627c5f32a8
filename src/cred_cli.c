/* The Azure CLI credential: the identity of whoever ran `az login`, as
 * `az account get-access-token --output json --resource R [--tenant T]`
 * prints it (what the Azure SDKs' AzureCliCredential runs, and what
 * Terraform's azurerm provider does). No shell is involved: `az` is found
 * on PATH and given its arguments as they are. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "credential.h"
#include "cred_source.h"
#include "log.h"
#include "proc.h"

#define AZ              "az"
#define AZ_TIMEOUT_MS   10000L /* the SDKs' default process timeout */
#define AZ_OUTPUT_MAX   (256 * 1024)
#define AZ_INSTALL_HINT "install it (https://learn.microsoft.com/cli/azure/install-azure-cli)"

typedef struct cli_source {
	azkv_cred_source base;
	char *tenant;
	long timeout_ms;
} cli_source;

/* The first line of az's complaint, without its "ERROR: " prefix, into buf. */
static const char *az_complaint(const char *text, char *buf, size_t cap)
{
	const char *p = text;

	while (*p == '\n' || *p == '\r' || *p == ' ')
		p++;
	if (strncmp(p, "ERROR: ", 7) == 0)
		p += 7;
	snprintf(buf, cap, "%s", p);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? buf : "(nothing on stderr)";
}

/* Runs az with args; on success *json is its parsed stdout (the caller
 * frees; the copy of a token in it is the caller's to wipe). what is the
 * purpose for messages, tenant the --tenant given, if any. */
static azkv_rc run_az(const char *const *argv, long timeout_ms, const char *tenant,
                      const char *what, cJSON **json, azkv_err *err)
{
	azkv_proc_result res;
	char said[300];
	azkv_rc rc;

	*json = NULL;
	rc = azkv_proc_run(argv, timeout_ms, AZ_OUTPUT_MAX, &res, err);
	if (rc != AZKV_OK) {
		if (res.spawn_errno)
			rc = azkv_err_set(
			        err, AZKV_ERR_UNAVAILABLE,
			        "azure_cli: the Azure CLI (az) %s: %s and run 'az login', or "
			        "choose another credential.type",
			        res.spawn_errno == ENOENT ? "is not on PATH" : "cannot be run",
			        AZ_INSTALL_HINT);
		goto out;
	}
	if (res.timed_out) {
		rc = azkv_err_set(
		        err, AZKV_ERR_UNAVAILABLE,
		        "azure_cli: 'az' did not answer within %ld ms; check that 'az %s' "
		        "works in a terminal, or raise credential.process_timeout_ms",
		        timeout_ms, what);
		goto out;
	}
	if (res.exit_code != 0) {
		az_complaint(res.err, said, sizeof(said));
		if (strstr(res.err, "az login") || strstr(res.err, "az account set"))
			rc = azkv_err_set(
			        err, AZKV_ERR_UNAVAILABLE,
			        "azure_cli: the Azure CLI is not logged in: run 'az login%s%s' "
			        "as the user this program runs as (az said: %s)",
			        tenant ? " --tenant " : "", tenant ? tenant : "", said);
		else
			rc = azkv_err_set(err, AZKV_ERR_AUTH, "azure_cli: 'az %s' failed: %s", what,
			                  said);
		goto out;
	}
	*json = cJSON_Parse(res.out);
	if (!cJSON_IsObject(*json)) {
		cJSON_Delete(*json);
		*json = NULL;
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "azure_cli: 'az %s' printed something that is not a JSON object",
		                  what);
	}
out:
	azkv_proc_result_free(&res);
	return rc;
}

/* expiresOn: "2024-01-01 12:34:56.000000" in local time (before az 2.54,
 * which added expires_on in Unix seconds). -1 when unreadable. */
static long long local_time_of(const char *text)
{
	struct tm tm = {0};
	const char *end = text ? strptime(text, "%Y-%m-%d %H:%M:%S", &tm) : NULL;

	if (!end || (*end && *end != '.'))
		return -1;
	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

azkv_rc azkv_cli_token_parse(cJSON *json, azkv_token *out, azkv_err *err)
{
	cJSON *tok = cJSON_GetObjectItemCaseSensitive(json, "accessToken");
	long long expires =
	        azkv_token_seconds(cJSON_GetObjectItemCaseSensitive(json, "expires_on"));
	long long now = (long long)time(NULL);
	azkv_rc rc = AZKV_OK;

	memset(out, 0, sizeof(*out));
	if (expires < 0)
		expires = local_time_of(
		        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "expiresOn")));
	if (!cJSON_IsString(tok) || !tok->valuestring[0] || expires <= now ||
	    expires - now > AZKV_TOKEN_MAX_LIFETIME_S) {
		rc = azkv_err_set(
		        err, AZKV_ERR_PROTOCOL,
		        "azure_cli: 'az account get-access-token' gave no accessToken with "
		        "a future expiresOn/expires_on");
		goto out;
	}
	out->value = strdup(tok->valuestring);
	out->expires_on = expires;
	if (!out->value)
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "azure_cli: out of memory");
out:
	if (cJSON_IsString(tok))
		OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
	return rc;
}

static azkv_rc cli_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                             azkv_token *out, azkv_err *err)
{
	cli_source *s = (cli_source *)src;
	const char *t = tenant ? tenant : s->tenant;
	const char *argv[10];
	cJSON *json = NULL;
	char *resource;
	size_t len = strlen(scope), n = 0;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	/* Arguments never start with '-': nothing can pass for an option. */
	if (strncmp(scope, "https://", 8) != 0 || (t && (!azkv_tenant_valid(t) || t[0] == '-')))
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG,
		                    "azure_cli: refusing scope %.100s / tenant %.64s", scope,
		                    t ? t : "");
	resource = strndup(scope,
	                   len > 9 && strcmp(scope + len - 9, "/.default") == 0 ? len - 9 : len);
	if (!resource)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "azure_cli: out of memory");
	argv[n++] = AZ;
	argv[n++] = "account";
	argv[n++] = "get-access-token";
	argv[n++] = "--output";
	argv[n++] = "json";
	argv[n++] = "--resource";
	argv[n++] = resource;
	if (t) {
		argv[n++] = "--tenant";
		argv[n++] = t;
	}
	argv[n] = NULL;
	rc = run_az(argv, s->timeout_ms, t, "account get-access-token", &json, err);
	if (rc == AZKV_OK)
		rc = azkv_cli_token_parse(json, out, err);
	cJSON_Delete(json);
	free(resource);
	return rc;
}

static void cli_free(azkv_cred_source *src)
{
	cli_source *s = (cli_source *)src;

	free(s->tenant);
	free(s);
}

azkv_rc azkv_src_azure_cli_new(const char *tenant, long timeout_ms, azkv_cred_source **out,
                               azkv_err *err)
{
	cli_source *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "azure_cli: out of memory");
	s->base.name = "azure_cli";
	s->base.get_token = cli_get_token;
	s->base.free = cli_free;
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : AZ_TIMEOUT_MS;
	if (tenant && !(s->tenant = strdup(tenant))) {
		free(s);
		return azkv_err_set(err, AZKV_ERR_NOMEM, "azure_cli: out of memory");
	}
	*out = &s->base;
	return AZKV_OK;
}

azkv_rc azkv_cli_account_parse(const cJSON *json, char **subscription, char **tenant, char **cloud,
                               azkv_err *err)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "id"));
	const char *tid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "tenantId"));
	const char *env =
	        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "environmentName"));

	*subscription = *tenant = *cloud = NULL;
	if (!id || !*id)
		return azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                    "azure_cli: 'az account show' names no subscription id");
	*subscription = strdup(id);
	*tenant = tid ? strdup(tid) : NULL;
	*cloud = env ? strdup(env) : NULL;
	if (!*subscription || (tid && !*tenant) || (env && !*cloud)) {
		free(*subscription);
		free(*tenant);
		free(*cloud);
		*subscription = *tenant = *cloud = NULL;
		return azkv_err_set(err, AZKV_ERR_NOMEM, "azure_cli: out of memory");
	}
	return AZKV_OK;
}

azkv_rc azkv_azure_cli_account(long timeout_ms, char **subscription, char **tenant, char **cloud,
                               azkv_err *err)
{
	static const char *const argv[] = {AZ, "account", "show", "--output", "json", NULL};
	cJSON *json = NULL;
	azkv_rc rc;

	*subscription = *tenant = *cloud = NULL;
	rc = run_az(argv, timeout_ms > 0 ? timeout_ms : AZ_TIMEOUT_MS, NULL, "account show", &json,
	            err);
	if (rc != AZKV_OK)
		return rc;
	rc = azkv_cli_account_parse(json, subscription, tenant, cloud, err);
	cJSON_Delete(json);
	return rc;
}
