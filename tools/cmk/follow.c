/* azkv-cmk follow: for a timer or cron. When the key's current version is
 * newer than the one the resource is bound to (the rotation policy, or
 * someone, made it), rebinds the resource to it, reads it back and proves
 * it, exactly as rotate --to-version does (cmk_rebind_to_version). Exit 0
 * with "nothing to follow" when already there; otherwise a one-line
 * reason and a non-zero exit.
 *
 * foundry-cmk-lab.txt, "Key rotation and management": "When a new key
 * version is created, the Foundry resource must be updated to reference
 * it." foundry-cmk-reference.txt, "Encryption Key Rotation": "When the key
 * is rotated, you must update the Azure AI Foundry resource to use the new
 * key URI." Foundry does not do it by itself; this does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmk.h"

/* The resource, bound to a customer-managed key, and that key's vault. */
static int load_targets(cmk_ctx *c)
{
	int rc;

	rc = cmk_load_named_resource(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!c->binding.cmk || !c->binding.key_name)
		return cmk_fail(c, CMK_EXIT_REFUSED,
		                "bind it first: azkv-cmk bind --vault V --key K --account NAME",
		                "cannot follow: %s is not bound to a customer-managed key",
		                c->resource_id);
	if (c->o->key && strcasecmp(c->o->key, c->binding.key_name) != 0)
		return cmk_fail(c, CMK_EXIT_REFUSED,
		                "to move to another key, use azkv-cmk rotate --key or bind",
		                "cannot follow: %s is bound to key %s, not %s", c->resource_id,
		                c->binding.key_name, c->o->key);
	rc = cmk_targets_from_binding(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_load_vault(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_bind_refused(c);
	return rc;
}

/* Whether the rotation policy rotates the key; a note when it does not:
 * then new versions come only by hand, and follow follows those. */
static void note_policy(cmk_ctx *c)
{
	cJSON *policy = NULL;
	const cJSON *act;
	azkv_err err;
	int rotates = 0;

	if (cmk_fetch_rotation_policy(c, &policy, &err) != AZKV_OK) {
		cmk_say(c, "Note: cannot read the key's rotation policy (%s).\n", err.message);
		return;
	}
	cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(policy, "lifetimeActions"))
	{
		const char *type = cmk_str(act, "action.type");

		rotates |= type && strcasecmp(type, "Rotate") == 0;
	}
	cJSON_Delete(policy);
	cJSON_AddBoolToObject(c->result, "policyRotates", rotates);
	if (!rotates)
		cmk_say(c, "Note: the key's rotation policy does not rotate it: only versions made "
		           "by hand appear (azkv-cmk rotation-policy set --rotate-after P6M).\n");
}

/* The current version must be usable before anything is rebound. */
static int usable(cmk_ctx *c, const azkv_key *cur)
{
	int64_t now = (int64_t)time(NULL);
	const char *why = !cur->enabled                 ? "is disabled"
	                  : cur->exp && cur->exp <= now ? "has expired"
	                  : cur->nbf && cur->nbf > now  ? "is not valid yet"
	                                                : NULL;
	const char *principal = cmk_principal(c);
	cmk_grants gs;
	char fix[512];
	int rc;

	if (why)
		return cmk_fail(
		        c, CMK_EXIT_REFUSED,
		        "fix that version (enable it, or set its dates), or make a new one; "
		        "the resource stays where it is",
		        "cannot follow: the current version %s of key %s %s", cur->version,
		        c->o->key, why);
	if (!principal)
		return cmk_fail(c, CMK_EXIT_REFUSED, "turn on the resource's managed identity",
		                "cannot follow: %s has no managed identity", c->resource_id);
	rc = cmk_grants_load(c, principal, &gs);
	if (rc != CMK_EXIT_OK)
		return rc;
	rc = gs.has_access;
	cmk_grants_free(&gs);
	if (rc)
		return CMK_EXIT_OK;
	cmk_grant_fix(c, principal, fix, sizeof(fix));
	return cmk_fail(c, CMK_EXIT_REFUSED, fix,
	                "cannot follow: %s has no grant of get, wrapKey and unwrapKey on key %s",
	                c->have_ident ? c->ident.label : principal, c->o->key);
}

int cmk_cmd_follow(cmk_ctx *c)
{
	const char *bound;
	azkv_key cur;
	azkv_err err;
	char *version;
	int rc;

	rc = load_targets(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	bound = c->binding.key_version;
	azkv_err_clear(&err);
	if (azkv_kv_get_key(c->kv, c->o->key, NULL, &cur, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, "read the key's current version");
	cJSON_AddStringToObject(c->result, "boundVersion", bound ? bound : "");
	cJSON_AddStringToObject(c->result, "currentVersion", cur.version);
	note_policy(c);
	if (bound && strcmp(bound, cur.version) == 0) {
		cmk_say(c, "Nothing to follow: %s is bound to the current version %s of key %s.\n",
		        c->resource_id, cur.version, c->o->key);
		cJSON_AddBoolToObject(c->result, "followed", 0);
		azkv_key_free(&cur);
		return CMK_EXIT_OK;
	}
	rc = usable(c, &cur);
	if (rc != CMK_EXIT_OK) {
		azkv_key_free(&cur);
		return rc;
	}
	if (bound)
		cmk_say(c, "Following key %s from version %s to the current version %s\n",
		        c->o->key, bound, cur.version);
	else
		cmk_say(c,
		        "%s is bound without a version: Foundry keeps the version current when "
		        "it was bound, which Azure does not report. Binding the current version "
		        "%s\n",
		        c->resource_id, cur.version);
	version = cur.version;
	cur.version = NULL;
	azkv_key_free(&cur);
	rc = cmk_rebind_to_version(c, version);
	cJSON_AddBoolToObject(c->result, "followed", rc == CMK_EXIT_OK && !c->o->dry_run);
	free(version);
	return rc;
}
