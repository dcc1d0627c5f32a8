/* Token answers of Entra ID and of the managed-identity endpoints. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "bytes.h"
#include "cred_source.h"

void azkv_token_clear(azkv_token *t)
{
	if (!t)
		return;
	azkv_secret_str_free(t->value);
	memset(t, 0, sizeof(*t));
}

long long azkv_token_seconds(const cJSON *item)
{
	char *end;
	long long v;

	if (cJSON_IsNumber(item))
		return item->valuedouble >= 0 && item->valuedouble < 1e12
		               ? (long long)item->valuedouble
		               : -1;
	if (!cJSON_IsString(item) || !item->valuestring[0])
		return -1;
	v = strtoll(item->valuestring, &end, 10);
	return *end || v < 0 ? -1 : v;
}

/* App Service's api-version 2017-09-01 wrote expires_on as a date:
 * "06/20/2019 02:57:58 +00:00". Unix seconds, or -1. */
static long long date_of(const cJSON *item)
{
	struct tm tm = {0};
	const char *end;

	if (!cJSON_IsString(item))
		return -1;
	end = strptime(item->valuestring, "%m/%d/%Y %H:%M:%S %z", &tm);
	if (!end || *end)
		return -1;
	return (long long)timegm(&tm) - tm.tm_gmtoff;
}

azkv_rc azkv_token_parse(const char *json, const char *what, azkv_token *out, azkv_err *err)
{
	cJSON *root = cJSON_Parse(json);
	cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	long long now = (long long)time(NULL);
	long long in = azkv_token_seconds(cJSON_GetObjectItemCaseSensitive(root, "expires_in"));
	long long on = azkv_token_seconds(cJSON_GetObjectItemCaseSensitive(root, "expires_on"));
	long long refresh =
	        azkv_token_seconds(cJSON_GetObjectItemCaseSensitive(root, "refresh_in"));
	azkv_rc rc = AZKV_OK;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "%s: the answer is not a JSON object",
		                  what);
		goto out;
	}
	if (!cJSON_IsString(tok) || !tok->valuestring[0]) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "%s: the answer has no access_token",
		                  what);
		goto out;
	}
	if (on < 0)
		on = date_of(cJSON_GetObjectItemCaseSensitive(root, "expires_on"));
	/* expires_in is relative, so a skewed local clock does not matter.
	 * One beyond any token's lifetime is refused below, before a sum
	 * could overflow (fuzz_token: "expires_in":"8641844674407370955161600"). */
	if (in > 0)
		on = in > AZKV_TOKEN_MAX_LIFETIME_S ? -1 : now + in;
	if (on <= now || on - now > AZKV_TOKEN_MAX_LIFETIME_S) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "%s: the answer has no usable expires_in or expires_on", what);
		goto out;
	}
	out->value = strdup(tok->valuestring);
	if (!out->value) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "%s: out of memory", what);
		goto out;
	}
	out->expires_on = on;
	if (refresh > 0 && refresh < on - now)
		out->refresh_on = now + refresh;
out:
	if (cJSON_IsString(tok))
		OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(root);
	return rc;
}
