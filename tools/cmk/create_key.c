/* azkv-cmk create-key: the key side of the lab (task 2: an RSA-2048 key
 * with wrapKey and unwrapKey, and a rotation policy: rotate after six
 * months, versions expire after 210 days). Idempotent: a key that exists
 * is left alone, and so is a policy that is already as asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk.h"

int cmk_cmd_create_key(cmk_ctx *c)
{
	const char *segs[] = {"keys", c->o->key, "create"};
	long size = c->o->key_size ? c->o->key_size : 2048;
	const azkv_key_create spec = {.kty = c->o->hsm ? "RSA-HSM" : "RSA",
	                              .key_size = 2048,
	                              .key_ops = AZKV_OP_WRAP_KEY | AZKV_OP_UNWRAP_KEY};
	cJSON *body, *resp = NULL, *current = NULL;
	azkv_key key;
	azkv_err err;
	int rc;

	if (!c->o->key)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --key NAME",
		                "create-key needs a name");
	if (size != 2048)
		return cmk_fail(
		        c, CMK_EXIT_REFUSED, "leave out --size (Foundry keys are RSA 2048)",
		        "a %ld-bit key would be refused by Foundry: only 2048-bit RSA keys are "
		        "supported",
		        size);
	rc = cmk_load_vault(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	azkv_err_clear(&err);
	if (azkv_kv_get_key(c->kv, c->o->key, NULL, &key, &err) == AZKV_OK) {
		cmk_say(c, "Key %s already exists (version %s); not creating another.\n", c->o->key,
		        key.version);
		cJSON_AddStringToObject(c->result, "keyVersion", key.version);
		azkv_key_free(&key);
	} else if (err.rc != AZKV_ERR_NOT_FOUND) {
		return cmk_fail_err(c, &err, NULL, "read the key");
	} else {
		if ((body = azkv_key_create_body(&spec)) == NULL)
			return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
		cmk_say(c, "Creating key %s (%s 2048, wrapKey/unwrapKey) in %s\n", c->o->key,
		        spec.kty, c->vault_uri);
		rc = cmk_kv_change(c, "POST", segs, 3, body, &resp, "create the key");
		cJSON_Delete(body);
		if (rc == CMK_EXIT_OK && resp && cmk_str(resp, "key.kid"))
			cJSON_AddStringToObject(c->result, "kid", cmk_str(resp, "key.kid"));
		cJSON_Delete(resp);
		if (rc != CMK_EXIT_OK)
			return rc;
	}
	if (!c->o->rotate_after && !c->o->expire_after && !c->o->notify_before)
		return CMK_EXIT_OK;
	if (c->o->dry_run && !cJSON_GetObjectItemCaseSensitive(c->result, "keyVersion")) {
		current = cJSON_CreateObject();
		rc = cmk_set_rotation_policy(c, current);
	} else {
		rc = cmk_read_rotation_policy(c, &current);
		if (rc == CMK_EXIT_OK)
			rc = cmk_set_rotation_policy(c, current);
	}
	cJSON_Delete(current);
	return rc;
}
