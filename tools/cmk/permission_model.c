/* azkv-cmk: the vault's permission model (Azure RBAC or access policies),
 * per kind of resource the key serves. The seeds disagree by kind:
 *
 *   foundry-cmk-lab.txt, "Task 1: Create an Azure Key Vault instance": for
 *   a Foundry resource (Cognitive Services account) the lab sets the vault's
 *   "Permission model ... to Azure role-based access control".
 *   foundry-cmk-field-notes.txt, "AI Foundry – Encryption with CMK", "AI
 *   Foundry Resources": for a hub (Machine Learning workspace) "the vault has
 *   to be configured with legacy Key Vault access policies. You cannot use
 *   Azure RBAC at this time (someone can correct me if this isn't true
 *   anymore)."
 *
 * So rule vault.permission-model, create-vault's default and grant's note
 * follow the resource: an account wants Azure RBAC (access policies work
 * but warn), a hub wants access policies (Azure RBAC warns: the field notes
 * hedge, so it is not a failure). grant always grants under the vault's
 * own model: a grant under the other one would be ignored by the vault. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"

int cmk_vault_for_check(cmk_ctx *c)
{
	const char *f = c->o->vault_for;

	if (!f || strcmp(f, "account") == 0 || strcmp(f, "hub") == 0)
		return CMK_EXIT_OK;
	return cmk_fail(c, CMK_EXIT_USAGE,
	                "use --for account (a Foundry resource: Azure RBAC) or --for hub (a hub "
	                "workspace: access policies)",
	                "unknown --for \"%s\"", f);
}

int cmk_vault_wants_rbac(const cmk_ctx *c)
{
	if (c->o->model)
		return strcmp(c->o->model, "rbac") == 0;
	return !(c->o->vault_for && strcmp(c->o->vault_for, "hub") == 0);
}

void cmk_permission_model_rule(cmk_ctx *c, cmk_rules *r)
{
	const char *id = "vault.permission-model";
	int rbac = cmk_vault_uses_rbac(c);

	/* foundry-cmk-field-notes.txt, "AI Foundry Resources": a hub's vault
	 * "has to be configured with legacy Key Vault access policies". */
	if (c->kind == CMK_RES_WORKSPACE && !rbac)
		cmk_rule(c, r, id, CMK_PASS, NULL,
		         "access policies, which a hub's customer-managed key needs (field notes)");
	else if (c->kind == CMK_RES_WORKSPACE)
		cmk_rule(
		        c, r, id, CMK_WARN,
		        "give the hub a vault with access policies (azkv-cmk create-vault --for "
		        "hub), or switch this one: grant by access policy first, then az keyvault "
		        "update --enable-rbac-authorization false (role assignments stop counting)",
		        "Azure RBAC: the field notes report that a hub's customer-managed key "
		        "needs "
		        "the vault's access policies (\"You cannot use Azure RBAC at this time\"); "
		        "the hub may fail to reach the key");
	/* foundry-cmk-lab.txt, "Task 1: Create an Azure Key Vault instance":
	 * "Permission model ... Azure role-based access control". */
	else if (rbac)
		cmk_rule(c, r, id, CMK_PASS, NULL, "Azure RBAC (grants are role assignments)%s",
		         c->kind == CMK_RES_ACCOUNT
		                 ? ", as the lab sets it for a Foundry resource"
		                 : "; a hub's key needs access policies instead (field notes): "
		                   "check it with --workspace HUB");
	else
		cmk_rule(c, r, id, CMK_WARN,
		         "consider Azure RBAC: az keyvault update --enable-rbac-authorization true "
		         "(grant roles first: existing access policies stop counting)",
		         "access policies (supported; Azure RBAC is recommended for a Foundry "
		         "resource%s)",
		         c->kind == CMK_RES_ACCOUNT ? ", as the lab sets it"
		                                    : "; for a hub's key access policies are "
		                                      "right: check it with --workspace HUB");
}

void cmk_permission_model_note(cmk_ctx *c, int rbac)
{
	const char *note = NULL;

	if (c->kind == CMK_RES_WORKSPACE && rbac)
		note = "the vault uses Azure RBAC, so the grant is a role assignment; the field "
		       "notes report that a hub's customer-managed key needs access policies: if "
		       "the hub cannot reach the key, use a vault with access policies (azkv-cmk "
		       "create-vault --for hub)";
	else if (c->kind == CMK_RES_ACCOUNT && !rbac)
		note = "the vault uses access policies, so the grant is an access policy; Azure "
		       "RBAC is recommended for a Foundry resource";
	if (!note)
		return;
	cmk_say(c, "note: %s\n", note);
	cJSON_AddStringToObject(c->result, "permissionModelNote", note);
}
