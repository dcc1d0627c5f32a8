/* azkv-cmk grant: the Foundry identity's access to the key.
 *
 * grant gives exactly get, wrapKey and unwrapKey: under Azure RBAC the
 * role "Key Vault Crypto Service Encryption User" at the key's scope (not
 * the vault's: one key, not all), under access policies a policy with
 * those three key permissions. Running it again changes nothing: the
 * role assignment's name is derived from (scope, principal, role), and
 * present permissions are not re-added. Broader grants are reported, not
 * removed: they may serve something else. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

static const char *const foundry_perms[] = {"get", "wrapKey", "unwrapKey"};

/* A GUID from SHA-256(scope|principal|role), formatted as a version 4
 * GUID, so a second run names the same assignment. */
static void assignment_name(const char *scope, const char *principal, const char *role,
                            char out[37])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	static const char hex[] = "0123456789abcdef";
	int pos = 0;

	memset(md, 0, sizeof(md));
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		char lower[1024];
		size_t i;

		snprintf(lower, sizeof(lower), "%s|%s|%s", scope, principal, role);
		for (i = 0; lower[i]; i++)
			lower[i] = (char)(lower[i] >= 'A' && lower[i] <= 'Z' ? lower[i] + 32
			                                                     : lower[i]);
		EVP_DigestUpdate(ctx, lower, i);
		EVP_DigestFinal_ex(ctx, md, &len);
	}
	EVP_MD_CTX_free(ctx);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x40);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[pos++] = '-';
		out[pos++] = hex[md[i] >> 4];
		out[pos++] = hex[md[i] & 15];
	}
	out[pos] = '\0';
}

static void report_broader(cmk_ctx *c, const cmk_grants *gs)
{
	cJSON *arr = cJSON_AddArrayToObject(c->result, "overBroadGrants");

	for (size_t i = 0; i < gs->n; i++) {
		const cmk_grant *g = &gs->g[i];

		if (!g->broader)
			continue;
		cJSON_AddItemToArray(
		        arr, cJSON_CreateString(g->assignment_id ? g->assignment_id : g->scope));
		cmk_say(c, "  warning: over-broad grant: %s %s at %s (%s)%s\n", g->via,
		        g->role_name ? g->role_name : "policy", g->scope,
		        g->detail ? g->detail : "", g->effective ? "" : " [ignored by this vault]");
		cmk_say(c, "           remove it once nothing else needs it: %s%s\n",
		        g->assignment_id ? "az role assignment delete --ids "
		                         : "az keyvault set-policy ",
		        g->assignment_id ? g->assignment_id
		                         : "... (keep only get, wrapKey, unwrapKey)");
	}
}

static int grant_rbac(cmk_ctx *c, const char *principal, const cmk_grants *gs)
{
	char *scope = cmk_key_scope(c), *id = NULL;
	char name[37], role_def[256];
	cJSON *body, *props, *resp = NULL;
	size_t len;
	int rc;

	for (size_t i = 0; i < gs->n; i++) {
		const cmk_grant *g = &gs->g[i];

		if (g->role_id && strcasecmp(g->role_id, CMK_ROLE_CSEU) == 0 && g->scope && scope &&
		    strcasecmp(g->scope, scope) == 0) {
			cmk_say(c,
			        "Nothing to do: %s already has \"Key Vault Crypto Service "
			        "Encryption "
			        "User\" on key %s.\n",
			        principal, c->o->key);
			cJSON_AddStringToObject(c->result, "assignment", g->assignment_id);
			free(scope);
			return CMK_EXIT_OK;
		}
	}
	if (!scope)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	assignment_name(scope, principal, CMK_ROLE_CSEU, name);
	cmk_role_definition_id(c, CMK_ROLE_CSEU, role_def, sizeof(role_def));
	len = strlen(scope) + 128;
	id = malloc(len);
	if (!id) {
		free(scope);
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	}
	snprintf(id, len, "%s/providers/Microsoft.Authorization/roleAssignments/%s", scope, name);
	body = cJSON_CreateObject();
	props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(props, "roleDefinitionId", role_def);
	cJSON_AddStringToObject(props, "principalId", principal);
	cJSON_AddStringToObject(props, "principalType", "ServicePrincipal");
	cJSON_AddStringToObject(props, "description",
	                        "azkv-cmk: Foundry customer-managed key (get, wrapKey, unwrapKey)");
	cmk_say(c, "Granting \"Key Vault Crypto Service Encryption User\" to %s at key scope %s\n",
	        principal, scope);
	rc = cmk_arm_change(c, "PUT", id, CMK_API_AUTHZ, body, 0, &resp, "assign the role");
	if (rc == CMK_EXIT_OK) {
		cJSON_AddStringToObject(c->result, "assignment", id);
		if (!c->o->dry_run)
			cmk_say(c, "Granted: role assignment %s\n", id);
	}
	cJSON_Delete(resp);
	cJSON_Delete(body);
	free(id);
	free(scope);
	return rc;
}

static int grant_policy(cmk_ctx *c, const char *principal, const cmk_grants *gs)
{
	const char *missing[3];
	size_t n_missing = 0;
	const cmk_grant *have = NULL;
	char path[1024];
	cJSON *body, *resp = NULL;
	int rc;

	for (size_t i = 0; i < gs->n; i++) {
		if (strcmp(gs->g[i].via, "access-policy") == 0)
			have = &gs->g[i];
	}
	for (size_t p = 0; p < 3; p++) {
		int found = 0;

		for (size_t i = 0; have && i < have->n_perms; i++)
			found |= strcasecmp(have->perms[i], foundry_perms[p]) == 0 ||
			         strcasecmp(have->perms[i], "all") == 0;
		if (!found)
			missing[n_missing++] = foundry_perms[p];
	}
	if (n_missing == 0 && !(c->o->exact && have && have->broader)) {
		cmk_say(c,
		        "Nothing to do: %s's access policy already has get, wrapKey and "
		        "unwrapKey.\n",
		        principal);
		return CMK_EXIT_OK;
	}
	if (c->o->exact) {
		snprintf(path, sizeof(path), "%s/accessPolicies/replace", c->vault_id);
		body = cmk_policy_body(c, principal, foundry_perms, 3);
		cmk_say(c, "Setting %s's access policy to exactly get, wrapKey, unwrapKey\n",
		        principal);
	} else {
		snprintf(path, sizeof(path), "%s/accessPolicies/add", c->vault_id);
		body = cmk_policy_body(c, principal, missing, n_missing);
		cmk_say(c, "Adding an access policy for %s: keys get, wrapKey, unwrapKey\n",
		        principal);
	}
	rc = cmk_arm_change(c, "PUT", path, CMK_API_KEYVAULT, body, 0, &resp,
	                    "update the vault's access policies");
	cJSON_Delete(resp);
	cJSON_Delete(body);
	if (rc == CMK_EXIT_OK && !c->o->dry_run)
		cmk_say(c, "Granted.\n");
	return rc;
}

int cmk_cmd_grant(cmk_ctx *c)
{
	const char *principal = NULL;
	int rc;

	rc = cmk_load_grant_targets(c, &principal);
	if (rc != CMK_EXIT_OK)
		return rc;
	rc = cmk_grant_principal(c, principal);
	cJSON_AddBoolToObject(c->result, "changed", c->changes > 0 && !c->o->dry_run);
	return rc;
}

int cmk_grant_principal(cmk_ctx *c, const char *principal)
{
	cmk_grants gs = {0};
	azkv_key key;
	azkv_err err;
	int rbac, rc;

	rbac = cmk_vault_uses_rbac(c);
	if (c->o->model && strcmp(c->o->model, rbac ? "rbac" : "access-policy") != 0)
		return cmk_fail(c, CMK_EXIT_REFUSED,
		                "grant under the vault's model (leave out --model), or change the "
		                "vault's permission model first",
		                "the vault uses %s: a %s grant would be ignored",
		                rbac ? "Azure RBAC" : "access policies", c->o->model);
	/* A grant on a key that does not exist helps nobody. */
	azkv_err_clear(&err);
	if (azkv_kv_get_key(c->kv, c->o->key, NULL, &key, &err) != AZKV_OK)
		return cmk_fail_err(c, &err,
		                    err.rc == AZKV_ERR_NOT_FOUND ? "check --key, or create it: "
		                                                   "azkv-cmk create-key"
		                                                 : NULL,
		                    "read the key");
	azkv_key_free(&key);
	/* A dry-run create names an identity it has not made yet: it has no
	 * grants, and its principal is a placeholder. */
	rc = c->o->dry_run && !cmk_is_guid(principal) ? CMK_EXIT_OK
	                                              : cmk_grants_load(c, principal, &gs);
	if (rc != CMK_EXIT_OK)
		return rc;
	cJSON_AddStringToObject(c->result, "model", rbac ? "rbac" : "access-policy");
	cmk_permission_model_note(c, rbac);
	rc = rbac ? grant_rbac(c, principal, &gs) : grant_policy(c, principal, &gs);
	report_broader(c, &gs);
	cmk_grants_free(&gs);
	return rc;
}
