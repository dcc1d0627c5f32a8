/* azkv-cmk revoke: removes the Foundry identity's access to the key (its
 * grants at the key and vault scope), or disables the bound key version,
 * after saying what stops working and asking. Grants above the vault
 * (resource group, subscription) are not removed: they reach every vault
 * beneath; revoke refuses while one of them would keep access alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmk.h"

static const char consequences[] =
        "While customer-managed keys stay enabled on the resource, revoking its access to the "
        "key\n"
        "stops: downloading training data and results files, fine-tuning new models, and\n"
        "deploying fine-tuned models. Fine-tuned models already deployed keep serving until\n"
        "their deployments are deleted. The resource cannot go back to Microsoft-managed keys;\n"
        "restore access (azkv-cmk grant, or enable the key) to recover.\n";

static int confirm(cmk_ctx *c, const char *what)
{
	char line[64];

	if (c->o->yes || c->o->dry_run)
		return CMK_EXIT_OK;
	if (!isatty(STDIN_FILENO))
		return cmk_fail(c, CMK_EXIT_NOT_CONFIRMED,
		                "read the consequences above and rerun with --yes",
		                "not confirmed: standard input is not a terminal");
	fprintf(stderr, "%s\nType \"yes\" to go on: ", what);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n") != 0)
		return cmk_fail(c, CMK_EXIT_NOT_CONFIRMED, NULL,
		                "not confirmed; nothing was changed");
	return CMK_EXIT_OK;
}

static int disable_key(cmk_ctx *c)
{
	const char *version = c->o->key_version ? c->o->key_version : c->binding.key_version;
	azkv_key key;
	azkv_err err;
	cJSON *body, *resp = NULL;
	int rc;

	azkv_err_clear(&err);
	if (azkv_kv_get_key(c->kv, c->o->key, version, &key, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, "read the key");
	{
		const char *segs[] = {"keys", c->o->key, key.version};
		char msg[2048], older[1024];

		/* Rotation does not re-encrypt (older_versions.c): an older version
		 * may still hold data; say which before asking. */
		rc = cmk_older_data_at_risk(c, key.version, older, sizeof(older));
		if (rc != CMK_EXIT_OK) {
			azkv_key_free(&key);
			return rc;
		}
		if (*older) {
			if (!c->o->json)
				cmk_print(stdout, "%s\n", older);
			cJSON_AddStringToObject(c->result, "olderDataAtRisk", older);
		}
		/* The older data's warning was printed just above: not again. */
		snprintf(msg, sizeof(msg),
		         "%sThis disables version %s of key %s for EVERY user of it, not only this "
		         "resource.",
		         consequences, key.version, c->o->key);
		rc = confirm(c, msg);
		if (rc != CMK_EXIT_OK) {
			azkv_key_free(&key);
			return rc;
		}
		body = cJSON_CreateObject();
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(body, "attributes"), "enabled", 0);
		cmk_say(c, "Disabling key %s version %s\n", c->o->key, key.version);
		rc = cmk_kv_change(c, "PATCH", segs, 3, body, &resp, "disable the key version");
		cJSON_AddStringToObject(c->result, "disabledVersion", key.version);
	}
	cJSON_Delete(resp);
	cJSON_Delete(body);
	azkv_key_free(&key);
	return rc;
}

/* Would a grant survive the revoke? (one above the vault) */
static const cmk_grant *kept_grant(const cmk_ctx *c, const cmk_grants *gs)
{
	char *scope = cmk_key_scope(c);
	const cmk_grant *kept = NULL;

	for (size_t i = 0; i < gs->n && scope; i++) {
		const cmk_grant *g = &gs->g[i];

		if (g->effective && g->covers && strcmp(g->via, "rbac") == 0 &&
		    strcasecmp(g->scope, scope) != 0 && strcasecmp(g->scope, c->vault_id) != 0)
			kept = g;
	}
	free(scope);
	return kept;
}

static int remove_grants(cmk_ctx *c, const char *principal, const cmk_grants *gs)
{
	int rc = CMK_EXIT_OK, removed = 0;

	for (size_t i = 0; i < gs->n && rc == CMK_EXIT_OK; i++) {
		const cmk_grant *g = &gs->g[i];
		cJSON *resp = NULL;

		if (!g->covers && !g->n_perms)
			continue;
		if (strcmp(g->via, "rbac") == 0 && g->assignment_id) {
			cmk_say(c, "Removing role assignment %s (%s at %s)\n", g->assignment_id,
			        g->role_name, g->scope);
			rc = cmk_arm_change(c, "DELETE", g->assignment_id, CMK_API_AUTHZ, NULL, 0,
			                    &resp, "remove the role assignment");
			removed++;
		} else if (strcmp(g->via, "access-policy") == 0) {
			char path[1024];
			cJSON *body = cmk_policy_body(c, principal, (const char *const *)g->perms,
			                              g->n_perms);

			snprintf(path, sizeof(path), "%s/accessPolicies/remove", c->vault_id);
			cmk_say(c, "Removing the key permissions of %s's access policy\n",
			        principal);
			rc = cmk_arm_change(c, "PUT", path, CMK_API_KEYVAULT, body, 0, &resp,
			                    "remove the access policy");
			cJSON_Delete(body);
			removed++;
		}
		cJSON_Delete(resp);
	}
	if (rc == CMK_EXIT_OK && removed == 0)
		cmk_say(c, "Nothing to remove: %s has no grant on key %s.\n", principal, c->o->key);
	return rc;
}

/* Reads the grants back: the identity must have lost access. */
static int verify_revoked(cmk_ctx *c, const char *principal)
{
	cmk_grants gs;
	cJSON *fresh = NULL;
	int rc, still;

	/* The access policies are part of the vault: read it again. */
	rc = cmk_arm_get(c, c->vault_id, CMK_API_KEYVAULT, &fresh, "read the key vault", NULL);
	if (rc != CMK_EXIT_OK)
		return rc;
	cJSON_Delete(c->vault);
	c->vault = fresh;
	rc = cmk_grants_load(c, principal, &gs);
	if (rc != CMK_EXIT_OK)
		return rc;
	still = gs.has_access;
	cmk_grants_free(&gs);
	if (still)
		return cmk_fail(c, CMK_EXIT_SERVICE,
		                "run azkv-cmk status to see which grant remains",
		                "%s can still use the key after the revoke", principal);
	cmk_say(c, "Verified: %s can no longer get, wrapKey or unwrapKey the key.\n", principal);
	return CMK_EXIT_OK;
}

int cmk_cmd_revoke(cmk_ctx *c)
{
	const char *principal = NULL;
	const cmk_grant *kept;
	cmk_grants gs;
	int rc;

	rc = cmk_load_grant_targets(c, &principal);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!c->o->json)
		printf("%s\n", consequences);
	cJSON_AddStringToObject(c->result, "consequences", consequences);
	if (c->o->disable_key)
		return disable_key(c);
	rc = cmk_grants_load(c, principal, &gs);
	if (rc != CMK_EXIT_OK)
		return rc;
	kept = kept_grant(c, &gs);
	if (kept) {
		char fix[1024];

		snprintf(fix, sizeof(fix),
		         "remove it where it was made (az role assignment delete --ids %s) if "
		         "nothing "
		         "else needs it, or use --disable-key",
		         kept->assignment_id ? kept->assignment_id : kept->scope);
		rc = cmk_fail(
		        c, CMK_EXIT_REFUSED, fix,
		        "%s keeps access through %s at %s, above the vault; nothing was changed",
		        principal, kept->role_name, kept->scope);
		cmk_grants_free(&gs);
		return rc;
	}
	rc = confirm(c, "This removes the resource's access to the key.");
	if (rc == CMK_EXIT_OK)
		rc = remove_grants(c, principal, &gs);
	cmk_grants_free(&gs);
	cJSON_AddBoolToObject(c->result, "changed", c->changes > 0 && !c->o->dry_run);
	if (rc == CMK_EXIT_OK && c->changes > 0 && !c->o->dry_run)
		rc = verify_revoked(c, principal);
	return rc;
}
