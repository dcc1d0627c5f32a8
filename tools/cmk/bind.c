/* azkv-cmk bind, and the binding steps rotate shares.
 *
 * bind points a Foundry resource (Cognitive Services account) or a hub
 * workspace at the key, after every rule holds: the identity exists and
 * holds get/wrapKey/unwrapKey BEFORE the binding (the order people get
 * wrong: the system-assigned identity must exist and be granted first),
 * the vault keeps the key (soft delete, purge protection), the key is a
 * 2048-bit RSA key in the same region and tenant. What Azure forbids is
 * refused here with the reason, before any request: going back to
 * Microsoft-managed keys (there is no command for it), a key in another
 * vault, changing a hub's encryption after creation, binding a project
 * (it uses its hub's). The PATCH is a long-running operation, followed to
 * its end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

cJSON *cmk_account_binding_body(const cmk_ctx *c, const char *version)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *enc =
	        cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "properties"), "encryption");
	cJSON *kvp;
	char uri[1024];

	cJSON_AddStringToObject(enc, "keySource", "Microsoft.KeyVault");
	kvp = cJSON_AddObjectToObject(enc, "keyVaultProperties");
	cJSON_AddStringToObject(kvp, "keyName", c->o->key);
	if (version)
		cJSON_AddStringToObject(kvp, "keyVersion", version);
	snprintf(uri, sizeof(uri), "%s/", c->vault_uri);
	cJSON_AddStringToObject(kvp, "keyVaultUri", uri);
	if (c->ident.user_assigned && c->ident.client_id)
		cJSON_AddStringToObject(kvp, "identityClientId", c->ident.client_id);
	return body;
}

static cJSON *workspace_body(const cmk_ctx *c, const char *version)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *enc =
	        cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "properties"), "encryption");
	cJSON *kvp = cJSON_AddObjectToObject(enc, "keyVaultProperties");
	char kid[1024];

	snprintf(kid, sizeof(kid), "%s/keys/%s%s%s", c->vault_uri, c->o->key, version ? "/" : "",
	         version ? version : "");
	cJSON_AddStringToObject(kvp, "keyIdentifier", kid);
	return body;
}

/* What Azure forbids, refused before any request. */
int cmk_bind_refused(cmk_ctx *c)
{
	const char *kind = cmk_str(c->resource, "kind");

	if (c->kind == CMK_RES_WORKSPACE && kind && strcasecmp(kind, "Project") == 0)
		return cmk_fail(c, CMK_EXIT_REFUSED,
		                "bind its hub instead (--workspace HUB); projects use the hub's "
		                "encryption",
		                "%s is a project: its encryption comes from its hub",
		                c->resource_id);
	if (c->kind == CMK_RES_WORKSPACE && !c->binding.workspace_enabled) {
		char fix[1024];

		cmk_create_hub_fix(c, NULL, fix, sizeof(fix));
		return cmk_fail(
		        c, CMK_EXIT_REFUSED, fix,
		        "%s was created with Microsoft-managed keys; a hub's encryption is "
		        "fixed at creation and cannot be switched to a customer-managed key",
		        c->resource_id);
	}
	if (c->binding.cmk && c->binding.vault_uri &&
	    strcasecmp(c->binding.vault_uri, c->vault_uri) != 0)
		return cmk_fail(
		        c, CMK_EXIT_REFUSED,
		        "pick a key in the vault it already uses; customer-managed keys can "
		        "only be rotated within one vault",
		        "%s is bound to a key in %s, and Foundry refuses a key in another "
		        "vault (%s)",
		        c->resource_id, c->binding.vault_uri, c->vault_uri);
	return CMK_EXIT_OK;
}

int cmk_bind_to(cmk_ctx *c, const char *version, int *changed)
{
	cmk_rules r = {0};
	cJSON *body, *resp = NULL;
	int rc;

	*changed = 0;
	rc = cmk_bind_refused(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (c->binding.cmk && same(c->binding.key_name, c->o->key) &&
	    same(c->binding.key_version, version)) {
		cmk_say(c, "Nothing to do: %s is already bound to key %s%s%s.\n", c->resource_id,
		        c->o->key, version ? " version " : " (no version named)",
		        version ? version : "");
		return CMK_EXIT_OK;
	}
	/* A dry-run rotate binds to a version that does not exist yet: judge
	 * the latest instead. */
	rc = cmk_evaluate(c, version && strcmp(version, CMK_NEW_VERSION) == 0 ? NULL : version, &r);
	if (rc == CMK_EXIT_OK && r.fails) {
		cmk_rules_print(c, &r);
		rc = cmk_fail(c, CMK_EXIT_REFUSED, "fix the failed rules above, then bind again",
		              "not binding: %d Foundry CMK rule(s) fail; nothing was changed",
		              r.fails);
	}
	cJSON_AddItemToObject(c->result, "rules", r.list);
	if (rc != CMK_EXIT_OK)
		return rc;
	body = c->kind == CMK_RES_ACCOUNT ? cmk_account_binding_body(c, version)
	                                  : workspace_body(c, version);
	cmk_say(c, "Binding %s to key %s%s%s in %s\n", c->resource_id, c->o->key,
	        version ? " version " : " (no version: the one current now)",
	        version ? version : "", c->vault_uri);
	rc = cmk_arm_change(c, "PATCH", c->resource_id,
	                    c->kind == CMK_RES_ACCOUNT ? CMK_API_COGNITIVE : CMK_API_ML, body, 1,
	                    &resp, "bind the resource to the key");
	cJSON_Delete(body);
	cJSON_Delete(resp);
	if (rc == CMK_EXIT_OK)
		*changed = 1;
	return rc;
}

/* Reads the resource back: is it bound to version now? */
int cmk_verify_binding(cmk_ctx *c, const char *version)
{
	int rc;

	cJSON_Delete(c->resource);
	c->resource = NULL;
	free(c->resource_id);
	c->resource_id = NULL;
	cmk_binding_free(&c->binding);
	cmk_identity_free(&c->ident);
	c->have_ident = 0;
	rc = cmk_load_resource(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!c->binding.cmk || !same(c->binding.key_name, c->o->key) ||
	    !same(c->binding.key_version, version))
		return cmk_fail(c, CMK_EXIT_SERVICE, "run azkv-cmk status to see what it reports",
		                "the resource does not report the new binding (key %s, version %s)",
		                c->binding.key_name ? c->binding.key_name : "none",
		                c->binding.key_version ? c->binding.key_version : "none");
	cmk_say(c, "Verified: %s now reports key %s%s%s.\n", c->resource_id, c->o->key,
	        version ? " version " : ", no version", version ? version : "");
	return CMK_EXIT_OK;
}

int cmk_load_named_resource(cmk_ctx *c)
{
	if (!c->o->account && !c->o->workspace)
		return cmk_fail(
		        c, CMK_EXIT_USAGE,
		        "name it with --account NAME (Foundry resource) or --workspace NAME "
		        "(hub)",
		        "%s needs the Foundry resource", c->o->command);
	return cmk_load_resource(c);
}

int cmk_load_bind_targets(cmk_ctx *c, int from_binding)
{
	int rc;

	rc = cmk_load_named_resource(c);
	if (rc == CMK_EXIT_OK && from_binding)
		rc = cmk_targets_from_binding(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!c->o->key)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --key NAME", "%s needs the key",
		                c->o->command);
	return cmk_load_vault(c);
}

/* bind --microsoft-managed: what people try when they want out; Azure
 * refuses it once a customer-managed key is in use, so say so here. */
static int bind_microsoft_managed(cmk_ctx *c)
{
	int rc;

	if (!c->o->account && !c->o->workspace)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "name it with --account NAME or --workspace NAME",
		                "bind needs the Foundry resource");
	rc = cmk_load_resource(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (c->binding.cmk || (c->kind == CMK_RES_WORKSPACE && c->binding.workspace_enabled))
		return cmk_fail(
		        c, CMK_EXIT_REFUSED,
		        "keep the customer-managed key (rotate to another key in the same "
		        "vault if this one must go), or move to a new resource created with "
		        "Microsoft-managed keys",
		        "%s uses a customer-managed key (%s/keys/%s), and Azure does not allow "
		        "going back to Microsoft-managed keys; nothing was changed",
		        c->resource_id, c->binding.vault_uri ? c->binding.vault_uri : "?",
		        c->binding.key_name ? c->binding.key_name : "?");
	cmk_say(c, "Nothing to do: %s already uses Microsoft-managed keys.\n", c->resource_id);
	cJSON_AddBoolToObject(c->result, "changed", 0);
	return CMK_EXIT_OK;
}

int cmk_cmd_bind(cmk_ctx *c)
{
	const char *version = c->o->versionless ? NULL : c->o->key_version;
	azkv_key key;
	azkv_err err;
	char *latest = NULL;
	int rc, changed = 0;

	if (c->o->microsoft_managed)
		return bind_microsoft_managed(c);
	rc = cmk_load_bind_targets(c, 0);
	if (rc != CMK_EXIT_OK)
		return rc;
	/* Like the portal: the current version, unless one is named or
	 * --versionless asks for none. foundry-cmk-lab.txt, "Key rotation and
	 * management": "When a new key version is created, the Foundry resource
	 * must be updated to reference it": without a version it stays on the
	 * one current now, so say so (Azure accepts the binding: not refused). */
	if (c->o->versionless)
		cmk_say(c,
		        "Note: Foundry does not follow new key versions by itself: bound without "
		        "a version, it keeps using the version current now until the resource "
		        "is updated. Run azkv-cmk follow after each rotation (e.g. from a "
		        "timer).\n");
	if (!version && !c->o->versionless) {
		azkv_err_clear(&err);
		if (azkv_kv_get_key(c->kv, c->o->key, NULL, &key, &err) != AZKV_OK)
			return cmk_fail_err(c, &err,
			                    err.rc == AZKV_ERR_NOT_FOUND ? "check --key and --vault"
			                                                 : NULL,
			                    "read the key");
		latest = strdup(key.version);
		version = latest;
		azkv_key_free(&key);
	}
	rc = cmk_bind_to(c, version, &changed);
	if (rc == CMK_EXIT_OK && changed && !c->o->dry_run)
		rc = cmk_verify_binding(c, version);
	if (version)
		cJSON_AddStringToObject(c->result, "keyVersion", version);
	cJSON_AddBoolToObject(c->result, "changed", changed && !c->o->dry_run);
	free(latest);
	return rc;
}
