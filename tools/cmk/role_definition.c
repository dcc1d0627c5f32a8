/* azkv-cmk: role definition ids for grants. A role definition id names
 * a subscription, and a role assignment's must be the one of the scope it
 * is made at: for a grant on the key, the vault's subscription, which may
 * differ from the resource's (foundry-cmk-reference.txt, "Use
 * customer-managed keys with Azure Key Vault": the vault and the resource
 * "can be in different subscriptions"). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

void cmk_role_definition_id(const cmk_ctx *c, const char *role, char *buf, size_t n)
{
	int len;
	const char *p = cmk_vault_subscription(c, &len);

	snprintf(buf, n, "/subscriptions/%.*s/providers/Microsoft.Authorization/roleDefinitions/%s",
	         len, p, role);
}
