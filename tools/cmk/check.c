/* azkv-cmk check: the vault, key, resource and identity against every
 * Foundry CMK rule. Exit 0 when nothing fails (warnings allowed), 1 when
 * a rule fails. Reads only. */
#include <stdio.h>

#include "cmk.h"

int cmk_cmd_check(cmk_ctx *c)
{
	cmk_rules r = {0};
	int rc;

	if (!c->o->key)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --key NAME",
		                "check needs the key");
	rc = cmk_load_vault(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_load_resource(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!c->o->json)
		cmk_print(stdout, "Checking key %s in %s%s%s against the Foundry CMK rules:\n",
		          c->o->key, c->vault_uri, c->resource_id ? " for " : "",
		          c->resource_id ? c->resource_id : "");
	rc = cmk_evaluate(c, c->o->key_version, &r);
	if (rc != CMK_EXIT_OK) {
		cJSON_Delete(r.list);
		return rc;
	}
	cmk_hub_rules(c, &r);
	cmk_rules_print(c, &r);
	cJSON_AddItemToObject(c->result, "rules", r.list);
	cJSON_AddStringToObject(c->result, "result", r.fails ? "fail" : r.warns ? "warn" : "pass");
	if (!c->o->json)
		cmk_print(stdout, "%d rule(s) failed, %d warning(s)%s\n", r.fails, r.warns,
		          r.fails ? ": Foundry CMK will not work until the failures are fixed"
		                  : "");
	return r.fails ? CMK_EXIT_FINDINGS : CMK_EXIT_OK;
}
