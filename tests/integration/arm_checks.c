/* The ARM client (src/arm.c) against the emulator's Resource Manager. Run
 * by run.sh:
 *
 *   arm_checks CONFIG VAULT_ID POLICY_OBJECT_ID ACCOUNT_ID KEY_NAME KEY_VERSION
 *
 * CONFIG: a module configuration (credential, http.ca_file/connect_to);
 * VAULT_ID: the ARM id of vault 'demo'; POLICY_OBJECT_ID: an identity to
 * give an access policy; ACCOUNT_ID: a Cognitive Services account with a
 * system identity that has no access to the vault yet; KEY_NAME and
 * KEY_VERSION: a key in the vault. Prints one "ok"/"not ok" line per
 * check and exits non-zero on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "arm.h"
#include "config.h"
#include "credential.h"
#include "http.h"
#include "log.h"
#include "tap.h"

#define KV_API "2026-02-01"
#define CS_API "2025-09-01"

/* The string at a dotted path ("properties.vaultUri"), or NULL. */
static const char *str_at(const cJSON *obj, const char *path)
{
	char buf[256], *save = NULL;
	const cJSON *item = obj;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strtok_r(buf, ".", &save); p && item; p = strtok_r(NULL, ".", &save))
		item = cJSON_GetObjectItemCaseSensitive(item, p);
	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int str_is(const cJSON *obj, const char *path, const char *want)
{
	const char *got = str_at(obj, path);

	if (!got || strcmp(got, want) != 0) {
		printf("# %s: got %s, want %s\n", path, got ? got : "(none)", want);
		return 0;
	}
	return 1;
}

/* {"properties":{"accessPolicies":[{tenantId, objectId, permissions:{keys}}]}} */
static cJSON *policy_body(const char *tenant, const char *object_id, const char *const *keys,
                          int n_keys)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *props = cJSON_AddObjectToObject(body, "properties");
	cJSON *list = cJSON_AddArrayToObject(props, "accessPolicies");
	cJSON *pol = cJSON_CreateObject();
	cJSON *perms;

	cJSON_AddItemToArray(list, pol);
	cJSON_AddStringToObject(pol, "tenantId", tenant);
	cJSON_AddStringToObject(pol, "objectId", object_id);
	perms = cJSON_AddObjectToObject(pol, "permissions");
	cJSON_AddItemToObject(perms, "keys", cJSON_CreateStringArray(keys, n_keys));
	return body;
}

/* 1 if the vault JSON has a policy for object_id whose keys include perm. */
static int has_policy(const cJSON *vault, const char *object_id, const char *perm)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(vault, "properties");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(props, "accessPolicies");
	const cJSON *pol, *keys, *k;

	cJSON_ArrayForEach(pol, list)
	{
		if (!str_is(pol, "objectId", object_id))
			continue;
		keys = cJSON_GetObjectItemCaseSensitive(
		        cJSON_GetObjectItemCaseSensitive(pol, "permissions"), "keys");
		cJSON_ArrayForEach(k, keys)
		{
			if (cJSON_IsString(k) && strcasecmp(k->valuestring, perm) == 0)
				return 1;
		}
	}
	return 0;
}

static cJSON *encryption_body(const char *key, const char *version, const char *vault_uri)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *props = cJSON_AddObjectToObject(body, "properties");
	cJSON *enc = cJSON_AddObjectToObject(props, "encryption");
	cJSON *kvp;

	cJSON_AddStringToObject(enc, "keySource", "Microsoft.KeyVault");
	kvp = cJSON_AddObjectToObject(enc, "keyVaultProperties");
	cJSON_AddStringToObject(kvp, "keyName", key);
	cJSON_AddStringToObject(kvp, "keyVersion", version);
	cJSON_AddStringToObject(kvp, "keyVaultUri", vault_uri);
	return body;
}

int main(int argc, char **argv)
{
	static const char *const reader[] = {"get", "list"};
	static const char *const cmk[] = {"get", "wrapKey", "unwrapKey"};
	const char *vault_id, *object_id, *account_id, *key, *version, *tenant, *uri;
	azkv_config *cfg = NULL;
	azkv_http *http = NULL;
	azkv_credential *cred = NULL;
	azkv_arm_client *arm = NULL;
	cJSON *vault = NULL, *resp = NULL, *account = NULL, *body = NULL;
	char missing[512], *vault_uri = NULL, *principal = NULL, *account_tenant = NULL;
	const cJSON *soft;
	azkv_err err;
	long status;
	azkv_rc rc;

	if (argc != 7) {
		fprintf(stderr, "usage: arm_checks CONFIG VAULT_ID POLICY_OBJECT_ID ACCOUNT_ID "
		                "KEY_NAME KEY_VERSION\n");
		return 2;
	}
	vault_id = argv[2];
	object_id = argv[3];
	account_id = argv[4];
	key = argv[5];
	version = argv[6];
	azkv_err_clear(&err);
	if (azkv_config_load(argv[1], &cfg, &err) != AZKV_OK ||
	    azkv_http_global_init(&err) != AZKV_OK) {
		fprintf(stderr, "arm_checks: %s\n", err.message);
		azkv_config_free(cfg);
		return 2;
	}
	azkv_log_configure(cfg->log_level, cfg->log_file, cfg->log_format);
	if (azkv_http_new(&cfg->http, &http, &err) != AZKV_OK ||
	    azkv_credential_new(&cfg->credential, cfg->cloud, cfg->http.retry.max_retries, http,
	                        &cred, &err) != AZKV_OK ||
	    azkv_arm_client_new(cfg->cloud, NULL, cfg->http.retry.max_retries, http, cred, &arm,
	                        &err) != AZKV_OK) {
		TAP_FAIL("the ARM client: %s", err.message);
		goto out;
	}

	/* The vault resource. */
	rc = azkv_arm_request(arm, "GET", vault_id, KV_API, NULL, &vault, &status, &err);
	CHECK(rc == AZKV_OK && status == 200 && vault, "GET vault: %ld %s", status,
	      rc == AZKV_OK ? "" : err.message);
	if (!vault)
		goto out;
	soft = cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(vault, "properties"), "enableSoftDelete");
	CHECK(cJSON_IsTrue(soft), "vault has enableSoftDelete true");
	uri = str_at(vault, "properties.vaultUri");
	CHECK(uri && strncmp(uri, "https://demo.vault.azure.net", 28) == 0, "vault has vaultUri %s",
	      uri ? uri : "(none)");
	tenant = str_at(vault, "properties.tenantId");
	CHECK(tenant != NULL, "vault has tenantId");
	if (!uri || !tenant)
		goto out;
	vault_uri = strdup(uri);

	/* accessPolicies/add, then seen on GET. */
	snprintf(missing, sizeof(missing), "%s/accessPolicies/add", vault_id);
	body = policy_body(tenant, object_id, reader, 2);
	rc = azkv_arm_request(arm, "PUT", missing, KV_API, body, &resp, &status, &err);
	CHECK(rc == AZKV_OK && (status == 200 || status == 201), "PUT accessPolicies/add: %ld %s",
	      status, rc == AZKV_OK ? "" : err.message);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	body = resp = NULL;
	cJSON_Delete(vault);
	vault = NULL;
	rc = azkv_arm_request(arm, "GET", vault_id, KV_API, NULL, &vault, &status, &err);
	CHECK(rc == AZKV_OK && has_policy(vault, object_id, "list"),
	      "GET vault shows the added access policy");

	/* A missing vault: 404 ResourceNotFound. */
	snprintf(missing, sizeof(missing), "%.*s/no-such-vault",
	         (int)(strrchr(vault_id, '/') - vault_id), vault_id);
	azkv_err_clear(&err);
	rc = azkv_arm_request(arm, "GET", missing, KV_API, NULL, &resp, &status, &err);
	CHECK(rc == AZKV_ERR_NOT_FOUND && err.rc == AZKV_ERR_NOT_FOUND && err.http_status == 404 &&
	              strcmp(err.code, "ResourceNotFound") == 0 && !resp && status == 404,
	      "GET missing vault: rc %s, HTTP %ld, code '%s' (%s)", azkv_rc_name(rc),
	      err.http_status, err.code, err.message);

	/* Every page of a collection: one vault per page with $top=1. */
	{
		char coll[512], paged[560];
		cJSON *all = NULL, *one_by_one = NULL;

		snprintf(coll, sizeof(coll), "%.*s/providers/Microsoft.KeyVault/vaults",
		         (int)(strstr(vault_id, "/resourceGroups/") - vault_id), vault_id);
		snprintf(paged, sizeof(paged), "%s?$top=1", coll);
		rc = azkv_arm_list(arm, coll, KV_API, &all, &err);
		CHECK(rc == AZKV_OK && cJSON_GetArraySize(all) >= 2, "list the vaults: %d",
		      rc == AZKV_OK ? cJSON_GetArraySize(all) : -1);
		rc = azkv_arm_list(arm, paged, KV_API, &one_by_one, &err);
		CHECK(rc == AZKV_OK && cJSON_GetArraySize(one_by_one) == cJSON_GetArraySize(all),
		      "list them one per page, following nextLink: %d",
		      rc == AZKV_OK ? cJSON_GetArraySize(one_by_one) : -1);
		cJSON_Delete(all);
		cJSON_Delete(one_by_one);
	}

	/* The account's system identity. */
	rc = azkv_arm_request(arm, "GET", account_id, CS_API, NULL, &account, &status, &err);
	CHECK(rc == AZKV_OK && str_at(account, "identity.principalId"), "GET account: %ld %s",
	      status, rc == AZKV_OK ? "" : err.message);
	if (!str_at(account, "identity.principalId"))
		goto out;
	principal = strdup(str_at(account, "identity.principalId"));
	account_tenant =
	        strdup(str_at(account, "identity.tenantId") ? str_at(account, "identity.tenantId")
	                                                    : tenant);

	/* Without access to the key, the encryption change is refused. */
	body = encryption_body(key, version, vault_uri);
	azkv_err_clear(&err);
	rc = azkv_arm_request_wait(arm, "PATCH", account_id, CS_API, body, 60000, &resp, &status,
	                           &err);
	CHECK(rc == AZKV_ERR_BAD_PARAMETER && strcmp(err.code, "KeyVaultAccessForbidden") == 0 &&
	              !resp,
	      "PATCH encryption without key access: rc %s, code '%s'", azkv_rc_name(rc), err.code);
	cJSON_Delete(resp);
	resp = NULL;

	/* Grant get/wrapKey/unwrapKey to the account's identity. */
	cJSON_Delete(body);
	body = policy_body(account_tenant, principal, cmk, 3);
	snprintf(missing, sizeof(missing), "%s/accessPolicies/add", vault_id);
	rc = azkv_arm_request(arm, "PUT", missing, KV_API, body, &resp, &status, &err);
	CHECK(rc == AZKV_OK, "grant the account's identity get/wrapKey/unwrapKey: %s",
	      rc == AZKV_OK ? "" : err.message);
	cJSON_Delete(resp);
	resp = NULL;

	/* PATCH the encryption and wait for the long-running operation. */
	cJSON_Delete(body);
	body = encryption_body(key, version, vault_uri);
	rc = azkv_arm_request_wait(arm, "PATCH", account_id, CS_API, body, 60000, &resp, &status,
	                           &err);
	CHECK(rc == AZKV_OK && status == 200 && resp, "PATCH encryption, waited: %ld %s", status,
	      rc == AZKV_OK ? "" : err.message);
	CHECK(resp && str_is(resp, "properties.encryption.keySource", "Microsoft.KeyVault") &&
	              str_is(resp, "properties.encryption.keyVaultProperties.keyName", key) &&
	              str_is(resp, "properties.encryption.keyVaultProperties.keyVersion",
	                     version) &&
	              str_is(resp, "properties.encryption.keyVaultProperties.keyVaultUri",
	                     vault_uri) &&
	              str_is(resp, "properties.provisioningState", "Succeeded"),
	      "final account has the customer-managed key encryption block");
	cJSON_Delete(resp);
	resp = NULL;

	/* Without waiting, the same PATCH answers 202 (the operation to poll). */
	rc = azkv_arm_request(arm, "PATCH", account_id, CS_API, body, &resp, &status, &err);
	CHECK(rc == AZKV_OK && status == 202, "PATCH without waiting: %ld", status);

out:
	cJSON_Delete(vault);
	cJSON_Delete(resp);
	cJSON_Delete(account);
	cJSON_Delete(body);
	free(vault_uri);
	free(principal);
	free(account_tenant);
	azkv_arm_client_free(arm);
	azkv_credential_free(cred);
	azkv_http_free(http);
	azkv_config_free(cfg);
	azkv_http_global_cleanup();
	azkv_log_shutdown();
	printf("# %d failure(s)\n", tap_failures);
	return tap_status();
}
