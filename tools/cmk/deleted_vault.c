/* azkv-cmk create-vault: a vault name held by a soft-deleted vault.
 * Azure keeps a deleted vault for its retention period (7 to 90 days),
 * and a new vault cannot take the name until it is recovered or purged
 * (Azure answers the PUT with 409 ConflictError "A vault with the same
 * name already exists in deleted state"). Asked first, through the
 * subscription's deleted vaults (GET /subscriptions/{s}/providers/
 * Microsoft.KeyVault/deletedVaults, Key Vault management REST spec
 * 2023-07-01), so the refusal can say when it was deleted, until when it
 * is held and how to get it back. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

int cmk_refuse_deleted_vault(cmk_ctx *c)
{
	char path[512], fix[1024];
	const cJSON *v, *found = NULL;
	cJSON *list = NULL;
	int sub_len;
	const char *sub = cmk_vault_subscription(c, &sub_len);
	/* --vault may be a name or an ARM id: the vault's name is the id's last
	 * segment (c->vault_id is set and checked by then). */
	const char *vault = cmk_last_segment(c->vault_id);
	azkv_err err;
	int rc;

	snprintf(path, sizeof(path),
	         "/subscriptions/%.*s/providers/Microsoft.KeyVault/deletedVaults", sub_len, sub);
	azkv_err_clear(&err);
	if (azkv_arm_list(c->arm, path, CMK_API_KEYVAULT, &list, &err) != AZKV_OK) {
		cJSON_Delete(list);
		/* Microsoft.KeyVault/deletedVaults/read is granted at the
		 * subscription; a caller who may create a vault in a resource group
		 * may lack it. Not a reason to stop: Azure's 409 ConflictError
		 * still protects a held name. */
		if (err.rc != AZKV_ERR_AUTH && err.rc != AZKV_ERR_FORBIDDEN)
			return cmk_fail_err(c, &err, NULL,
			                    "list the subscription's deleted key vaults");
		cmk_say(c,
		        "note: cannot list the subscription's deleted key vaults (%s); a "
		        "soft-deleted "
		        "vault named %s would make Azure refuse the creation (409)\n",
		        err.message, vault);
		cJSON_AddStringToObject(c->result, "deletedVaults", "not read");
		return CMK_EXIT_OK;
	}
	cJSON_ArrayForEach(v, list)
	{
		const char *name = cmk_str(v, "name");

		if (name && strcasecmp(name, vault) == 0)
			found = v;
	}
	if (!found) {
		cJSON_Delete(list);
		return CMK_EXIT_OK;
	}
	snprintf(fix, sizeof(fix),
	         "recover it: az keyvault recover --name %s (then azkv-cmk check --vault %s); or "
	         "purge it: az keyvault purge --name %s --location %s%s; or choose another name",
	         vault, vault, vault,
	         cmk_str(found, "properties.location") ? cmk_str(found, "properties.location")
	                                               : "LOCATION",
	         cmk_bool(found, "properties.purgeProtectionEnabled", 0)
	                 ? " (not before the scheduled purge date: it has purge protection)"
	                 : " (its keys are then lost for good)");
	rc = cmk_fail(c, CMK_EXIT_REFUSED, fix,
	              "key vault %s was deleted (%s) and is kept in soft delete until %s; a new "
	              "vault cannot take its name",
	              vault,
	              cmk_str(found, "properties.deletionDate")
	                      ? cmk_str(found, "properties.deletionDate")
	                      : "date unknown",
	              cmk_str(found, "properties.scheduledPurgeDate")
	                      ? cmk_str(found, "properties.scheduledPurgeDate")
	                      : "its scheduled purge date");
	cJSON_Delete(list);
	return rc;
}
