/* azkv-cmk create-vault: the lab's task 1, a vault Foundry accepts: soft
 * delete and purge protection on, Azure RBAC, trusted Microsoft services
 * let through the firewall. A vault that exists is left alone (a PUT
 * would replace its access policies); check judges it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk.h"

static cJSON *vault_body(const cmk_ctx *c, const char *tenant)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *props, *sku, *acls;

	cJSON_AddStringToObject(body, "location", c->o->location);
	props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(props, "tenantId", tenant);
	sku = cJSON_AddObjectToObject(props, "sku");
	cJSON_AddStringToObject(sku, "family", "A");
	cJSON_AddStringToObject(sku, "name", c->o->hsm ? "premium" : "standard");
	cJSON_AddBoolToObject(props, "enableSoftDelete", 1);
	cJSON_AddNumberToObject(props, "softDeleteRetentionInDays",
	                        c->o->retention_days ? c->o->retention_days : 90);
	cJSON_AddBoolToObject(props, "enablePurgeProtection", 1);
	cJSON_AddBoolToObject(props, "enableRbacAuthorization", cmk_vault_wants_rbac(c));
	cJSON_AddItemToObject(props, "accessPolicies", cJSON_CreateArray());
	cJSON_AddStringToObject(props, "publicNetworkAccess", "Enabled");
	acls = cJSON_AddObjectToObject(props, "networkAcls");
	cJSON_AddStringToObject(acls, "bypass", "AzureServices");
	cJSON_AddStringToObject(acls, "defaultAction", c->o->firewall ? "Deny" : "Allow");
	return body;
}

int cmk_cmd_create_vault(cmk_ctx *c)
{
	const char *tenant = c->o->tenant ? c->o->tenant : c->cfg->credential.tenant_id;
	cJSON *existing = NULL, *body, *resp = NULL;
	azkv_err err;
	long status = 0;
	int rc;

	if (!c->o->vault)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --vault NAME",
		                "create-vault needs a name");
	if (!c->o->location)
		return cmk_fail(
		        c, CMK_EXIT_USAGE,
		        "give --location: the region of the Foundry resource (they must match)",
		        "create-vault needs the region");
	if (c->o->model && strcmp(c->o->model, "rbac") != 0 &&
	    strcmp(c->o->model, "access-policy") != 0)
		return cmk_fail(c, CMK_EXIT_USAGE, "use --model rbac or --model access-policy",
		                "unknown permission model \"%s\"", c->o->model);
	if ((rc = cmk_vault_for_check(c)) != CMK_EXIT_OK)
		return rc;
	if (!tenant && cmk_az_account(c))
		tenant = c->az_tenant;
	if (!tenant)
		return cmk_fail(c, CMK_EXIT_USAGE, "give --tenant ID",
		                "no tenant: the configuration's credential names none, and az "
		                "gave none (%s)",
		                c->az_why);
	c->vault_id = cmk_resource_id(c, c->o->vault, CMK_PROVIDER_VAULT);
	if (!c->vault_id)
		return CMK_EXIT_USAGE;
	azkv_err_clear(&err);
	if (azkv_arm_request(c->arm, "GET", c->vault_id, CMK_API_KEYVAULT, NULL, &existing, &status,
	                     &err) == AZKV_OK) {
		cmk_say(c,
		        "Key vault %s already exists; not changing it. Judge it with: azkv-cmk "
		        "check "
		        "--vault %s --key KEY\n",
		        c->vault_id, c->o->vault);
		cJSON_AddStringToObject(c->result, "vault", c->vault_id);
		cJSON_AddBoolToObject(c->result, "changed", 0);
		cJSON_Delete(existing);
		return CMK_EXIT_OK;
	}
	if (err.rc != AZKV_ERR_NOT_FOUND)
		return cmk_fail_err(c, &err, NULL, "read the key vault");
	if ((rc = cmk_refuse_deleted_vault(c)) != CMK_EXIT_OK) /* deleted_vault.c */
		return rc;
	body = vault_body(c, tenant);
	cmk_say(c, "Creating key vault %s in %s (soft delete, purge protection, %s, %s)\n",
	        c->o->vault, c->o->location,
	        cJSON_IsTrue(cmk_item(body, "properties.enableRbacAuthorization"))
	                ? "Azure RBAC"
	                : "access policies",
	        c->o->firewall ? "firewall on with trusted Microsoft services" : "public access");
	rc = cmk_arm_change(c, "PUT", c->vault_id, CMK_API_KEYVAULT, body, 1, &resp,
	                    "create the key vault");
	cJSON_Delete(body);
	if (rc == CMK_EXIT_OK && resp && cmk_str(resp, "properties.vaultUri"))
		cmk_say(c, "Created: %s\n", cmk_str(resp, "properties.vaultUri"));
	cJSON_AddStringToObject(c->result, "vault", c->vault_id);
	cJSON_AddBoolToObject(c->result, "changed", rc == CMK_EXIT_OK && !c->o->dry_run);
	cJSON_Delete(resp);
	return rc;
}
