/* azkv-cmk rotate: makes a new key version (or takes --to-version),
 * rebinds the resource to it (bind.c), reads the resource back to prove
 * it took it, and proves the version works through the module (prove.c).
 * What Azure forbids is refused before the new version is made. The
 * rebind is made even for a versionless binding: Foundry does not follow
 * new versions by itself (foundry-cmk-lab.txt, "Key rotation and
 * management": "the Foundry resource must be updated to reference it").
 * follow.c shares the rebind, verify and proof (cmk_rebind_to_version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk.h"
#include "prove.h"

int cmk_rebind_to_version(cmk_ctx *c, const char *version)
{
	int rc, changed = 0;

	rc = cmk_bind_to(c, version, &changed);
	if (rc == CMK_EXIT_OK && changed && !c->o->dry_run)
		rc = cmk_verify_binding(c, version);
	if (rc == CMK_EXIT_OK && !c->o->dry_run && !c->o->no_prove)
		rc = cmk_prove_version(c, version);
	cJSON_AddBoolToObject(c->result, "rebound", changed && !c->o->dry_run);
	return rc;
}

int cmk_cmd_rotate(cmk_ctx *c)
{
	char *version = NULL;
	int rc;

	rc = cmk_load_bind_targets(c, 1);
	if (rc != CMK_EXIT_OK)
		return rc;
	rc = cmk_bind_refused(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (c->o->to_version) {
		azkv_key key;
		azkv_err err;

		azkv_err_clear(&err);
		if (azkv_kv_get_key(c->kv, c->o->key, c->o->to_version, &key, &err) != AZKV_OK)
			return cmk_fail_err(c, &err, NULL, "read the requested key version");
		version = strdup(key.version);
		azkv_key_free(&key);
		cmk_say(c, "Rotating to existing version %s of key %s\n", version, c->o->key);
	} else {
		const char *segs[] = {"keys", c->o->key, "rotate"};
		cJSON *resp = NULL;
		const char *kid;

		cmk_say(c, "Creating a new version of key %s\n", c->o->key);
		rc = cmk_kv_change(c, "POST", segs, 3, NULL, &resp, "rotate the key");
		if (rc != CMK_EXIT_OK)
			return rc;
		kid = cmk_str(resp, "key.kid");
		if (kid && strrchr(kid, '/'))
			version = strdup(strrchr(kid, '/') + 1);
		cJSON_Delete(resp);
		if (!version && !c->o->dry_run)
			return cmk_fail(c, CMK_EXIT_SERVICE, NULL,
			                "the rotate answer has no key id");
		if (version)
			cmk_say(c, "New version: %s\n", version);
	}
	/* A dry run has no new version: it shows the rebind to come. */
	cJSON_AddStringToObject(c->result, "keyVersion", version ? version : CMK_NEW_VERSION);
	rc = cmk_rebind_to_version(c, version ? version : CMK_NEW_VERSION);
	free(version);
	return rc;
}
