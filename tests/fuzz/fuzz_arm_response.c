/* Feeds an Azure Resource Manager response body to what reads it without
 * the network: an Azure-AsyncOperation status (azkv_arm_op_status_parse),
 * an error body (azkv_arm_error_from_response, with an HTTP status chosen
 * by the input's length), and what azkv-cmk takes from a key vault's and
 * a rotation policy's JSON: properties.vaultUri, which becomes a Key Vault
 * client (azkv_kv_client_new: URL checks, cloud and scope; no I/O), and
 * the ISO 8601 durations of lifetimeActions and attributes.expiryTime
 * (azkv_duration_days). */
#include <cjson/cJSON.h>

#include "arm.h"
#include "credential.h"
#include "duration.h"
#include "fuzz.h"
#include "http.h"
#include "keyvault.h"

static azkv_http *http;
static azkv_credential *cred;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const azkv_http_config http_cfg = {.connect_to = "127.0.0.1:9"};
	azkv_credential_config cred_cfg = {
	        .type = AZKV_CRED_CLIENT_SECRET,
	        .tenant_id = "00000000-0000-0000-0000-000000000001",
	        .client_id = "00000000-0000-0000-0000-000000000002",
	        .client_secret = "not-a-secret",
	};
	azkv_err err;

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	if (azkv_http_global_init(&err) != AZKV_OK ||
	    azkv_http_new(&http_cfg, &http, &err) != AZKV_OK ||
	    azkv_credential_new(&cred_cfg, azkv_cloud_default(), 0, http, &cred, &err) != AZKV_OK)
		abort();
	return 0;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	return cJSON_GetStringValue(
	        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, a), b));
}

/* As azkv-cmk's cmk_load_vault: the vault URI, trailing '/' removed. */
static void vault(const cJSON *root)
{
	const char *uri = str_at(root, "properties", "vaultUri");
	azkv_kv_client *kv = NULL;
	char *copy;
	size_t len;
	azkv_err err;

	if (!uri)
		return;
	copy = strdup(uri);
	if (!copy)
		abort();
	len = strlen(copy);
	while (len > 0 && copy[len - 1] == '/')
		copy[--len] = '\0';
	if (azkv_kv_client_new(copy, NULL, 0, http, cred, &kv, &err) == AZKV_OK) {
		const char *segs[] = {"keys", "cmk", "rotationpolicy"};
		char *url = azkv_kv_request_url(kv, segs, 3);

		azkv_debug("vault %s: %s", azkv_kv_client_url(kv), url ? url : "(no memory)");
		free(url);
		azkv_kv_client_free(kv);
	} else {
		azkv_debug("%s", err.message);
	}
	free(copy);
}

static void rotation_policy(const cJSON *root)
{
	const cJSON *act;

	cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(root, "lifetimeActions"))
	{
		const char *after = str_at(act, "trigger", "timeAfterCreate");
		const char *before = str_at(act, "trigger", "timeBeforeExpiry");

		if (after)
			azkv_debug("%ld", azkv_duration_days(after));
		if (before)
			azkv_debug("%ld", azkv_duration_days(before));
	}
	if (str_at(root, "attributes", "expiryTime"))
		azkv_debug("%ld", azkv_duration_days(str_at(root, "attributes", "expiryTime")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {400, 401, 403, 404, 409, 429, 500, 503};
	char *text = fuzz_text(data, size);
	azkv_arm_op_state state;
	cJSON *root;
	azkv_err err;

	if (azkv_arm_op_status_parse(text, &state, &err) == AZKV_OK)
		azkv_debug("state %d", (int)state);
	azkv_arm_error_from_response(statuses[size % (sizeof(statuses) / sizeof(*statuses))], text,
	                             size & 1 ? NULL : "fuzz", &err);
	azkv_debug("%s (code %s)", err.message, err.code);
	root = cJSON_Parse(text);
	vault(root);
	rotation_policy(root);
	cJSON_Delete(root);
	free(text);
	return 0;
}
