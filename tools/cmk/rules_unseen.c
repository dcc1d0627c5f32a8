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

void cmk_unseen_grant_rules(cmk_ctx *c, const cmk_grants *gs, cmk_rules *r)
{
	int conditional = 0;

	if (!gs) {
		/* Without the grants nothing is known about their conditions:
		 * a pass here would be a guess. */
		cmk_rule(c, r, "identity.abac-condition", CMK_WARN,
		         "run it again once the identity's role assignments can be read",
		         "not judged: the identity's grants could not be read");
	}
	for (size_t i = 0; gs && i < gs->n; i++) {
		const cmk_grant *g = &gs->g[i];

		if (!g->condition || !*g->condition)
			continue;
		conditional = 1;
		cmk_rule(c, r, "identity.abac-condition", CMK_WARN,
		         "read the condition (az role assignment list --assignee PRINCIPAL "
		         "--all --query [].condition) and make sure it allows get, wrapKey and "
		         "unwrapKey on this key",
		         "%s at %s has an ABAC condition; the grant analysis cannot evaluate it "
		         "and counts the role as unconditional: %s",
		         g->role_name ? g->role_name : "a role", g->scope, g->condition);
	}
	if (gs && !conditional)
		cmk_rule(c, r, "identity.abac-condition", CMK_PASS, NULL,
		         "no ABAC condition on the identity's key grants");
	cmk_rule(c, r, "identity.deny-assignments", CMK_INFO, NULL,
	         "deny assignments are not read: one on the vault or key would block Foundry "
	         "whatever it is granted (az role assignment list does not show them; the "
	         "portal's Access control > Deny assignments does)");
}

void cmk_unseen_grant_status(cmk_ctx *c, const cmk_grants *gs)
{
	cmk_rules r = {0};

	cmk_unseen_grant_rules(c, gs, &r);
	if (!c->o->json)
		cmk_print(stdout, "What the grant analysis cannot see:\n");
	cmk_rules_print(c, &r);
	cJSON_AddItemToObject(c->result, "grantNotes", r.list);
}
