/* azkv-cmk check and status: what the grant analysis (key_access.c)
 * cannot see, said rather than passed over.
 *  - An ABAC condition on a role assignment (properties.condition) limits
 *    what the role gives; the analysis reads the role's data actions only,
 *    so it counts a conditional grant as unconditional.
 *    foundry-cmk-field-notes.txt (the hub and project identities' storage
 *    assignments "have an ABAC condition attached") shows Foundry itself
 *    makes such assignments.
 *  - Deny assignments (Microsoft.Authorization/denyAssignments) win over
 *    every grant; the analysis does not read them. */
#include <stdio.h>

#include "cmk.h"

void cmk_unseen_grant_rules(cmk_ctx *c, cmk_rules *r)
{
	const cJSON *g;
	int conditional = 0;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(c->result, "grants"))
	{
		const char *cond = cmk_str(g, "condition");

		if (!cond || !*cond)
			continue;
		conditional = 1;
		cmk_rule(c, r, "identity.abac-condition", CMK_WARN,
		         "read the condition (az role assignment list --assignee PRINCIPAL "
		         "--all --query [].condition) and make sure it allows get, wrapKey and "
		         "unwrapKey on this key",
		         "%s at %s has an ABAC condition; the grant analysis cannot evaluate it "
		         "and counts the role as unconditional: %s",
		         cmk_str(g, "role") ? cmk_str(g, "role") : "a role", cmk_str(g, "scope"),
		         cond);
	}
	if (!conditional)
		cmk_rule(c, r, "identity.abac-condition", CMK_PASS, NULL,
		         "no ABAC condition on the identity's key grants");
	cmk_rule(c, r, "identity.deny-assignments", CMK_INFO, NULL,
	         "deny assignments are not read: one on the vault or key would block Foundry "
	         "whatever it is granted (az role assignment list does not show them; the "
	         "portal's Access control > Deny assignments does)");
}

void cmk_unseen_grant_status(cmk_ctx *c)
{
	cmk_rules r = {0};

	if (!cJSON_GetObjectItemCaseSensitive(c->result, "grants"))
		return;
	cmk_unseen_grant_rules(c, &r);
	if (!c->o->json)
		cmk_print(stdout, "What the grant analysis cannot see:\n");
	cmk_rules_print(c, &r);
	cJSON_AddItemToObject(c->result, "grantNotes", r.list);
}
