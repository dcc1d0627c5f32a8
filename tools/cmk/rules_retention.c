/* azkv-cmk check, rule vault.retention: how long a deleted vault (and its
 * keys) can still be recovered. foundry-cmk-lab.txt, task 1: "The value
 * of Days to retain deleted vaults is set to the minimum (7 days) strictly
 * to facilitate the use of your lab environment. In real-world scenarios,
 * you should consider increasing this value". The threshold is Azure's
 * default and maximum, 90 days (what create-vault sets unless told): a
 * deleted CMK vault is Foundry's data lost once the retention ends, so
 * anything shorter is a lab setting and warns. Azure fixes the period at
 * creation, hence the fix names a new vault. */
#include <stdio.h>

#include "cmk.h"

void cmk_retention_rule(cmk_ctx *c, cmk_rules *r)
{
	const cJSON *days = cmk_item(c->vault, "properties.softDeleteRetentionInDays");
	/* Azure omits it when the vault keeps the default. */
	long d = cJSON_IsNumber(days) ? (long)days->valuedouble : CMK_RETENTION_PRODUCTION_DAYS;

	if (!cmk_bool(c->vault, "properties.enableSoftDelete", 1))
		return; /* vault.soft-delete fails already */
	if (d >= CMK_RETENTION_PRODUCTION_DAYS)
		cmk_rule(c, r, "vault.retention", CMK_PASS, NULL,
		         "a deleted vault is kept %ld days before it is purged", d);
	else
		cmk_rule(c, r, "vault.retention", CMK_WARN,
		         "the period is fixed when a vault is created: for production, create "
		         "the vault with the default 90 days (azkv-cmk create-vault "
		         "--retention-days 90) and move to a key there",
		         "a deleted vault is kept only %ld days (the lab's minimum is 7, fine for "
		         "a lab; production should keep %d)",
		         d, CMK_RETENTION_PRODUCTION_DAYS);
}
