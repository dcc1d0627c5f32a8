/* azkv-cmk: hub-based deployments. A hub is a gateway to several Azure
 * resources, and CMK must be set on each (foundry-cmk-reference.txt,
 * "About encryption in Azure AI Foundry": "You must configure
 * customer-managed key encryption on each of these services", and
 * "Important: ... CMK encryption must be configured on every top level
 * Azure resource"). check --hub reports each top-level resource of the hub
 * and whether it uses the key; status says where the hub keeps its
 * CMK-encrypted data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

static int same_uri(const char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (lb > 0 && b[lb - 1] == '/')
		lb--;
	return a && b && la == lb && strncasecmp(a, b, la) == 0;
}

/* Whether an encryption block's key source is want_source (any case) with
 * this vault and key. */
static int uses_key(const cmk_ctx *c, const cJSON *enc, const char *want_source,
                    const char *uri_path, const char *name_path)
{
	const char *src = cmk_str(enc, "keySource");
	const char *kname = cmk_str(enc, name_path);

	return src && strcasecmp(src, want_source) == 0 &&
	       same_uri(cmk_str(enc, uri_path), c->vault_uri) && kname &&
	       strcasecmp(kname, c->o->key) == 0;
}

/* foundry-cmk-reference.txt, "Limitations": a hub's encryption cannot be
 * changed after creation, so the fix is always a new hub (create_resource.c). */
void cmk_create_hub_fix(const cmk_ctx *c, const char *identity, char *buf, size_t n)
{
	const char *loc = c->o->location ? c->o->location : cmk_str(c->resource, "location");

	snprintf(buf, n,
	         "a hub's encryption is fixed at creation: azkv-cmk create-hub --hub NEW-NAME "
	         "--vault %s --key %s --identity %s --location %s, then move its projects and "
	         "data",
	         c->o->vault ? c->o->vault : "VAULT", c->o->key ? c->o->key : "KEY",
	         identity ? identity : "NAME", loc ? loc : "REGION");
}

/* The hub itself: created with this key (its encryption cannot change).
 * A hub made with Microsoft-managed keys is resource.cmk-at-creation's
 * failure (rules.c): not reported a second time here. */
static void hub_itself(cmk_ctx *c, cmk_rules *r, const char *name)
{
	char fix[1024];

	cmk_create_hub_fix(c, NULL, fix, sizeof(fix));
	if (c->binding.cmk && same_uri(c->binding.vault_uri, c->vault_uri) && c->binding.key_name &&
	    strcasecmp(c->binding.key_name, c->o->key) == 0)
		cmk_rule(c, r, "hub.cmk", CMK_PASS, NULL, "hub %s uses key %s", name, c->o->key);
	else if (c->binding.cmk)
		cmk_rule(c, r, "hub.cmk", CMK_FAIL, fix, "hub %s uses another key (%s/keys/%s)",
		         name, c->binding.vault_uri ? c->binding.vault_uri : "?",
		         c->binding.key_name ? c->binding.key_name : "?");
	else if (c->binding.workspace_enabled)
		cmk_rule(c, r, "hub.cmk", CMK_FAIL, fix,
		         "hub %s has encryption enabled but names no key", name);
	else
		cmk_rule(c, r, "hub.cmk", CMK_INFO, NULL,
		         "hub %s uses Microsoft-managed keys (resource.cmk-at-creation)", name);
}

/* The hub's default storage account (properties.storageAccount):
 * keySource Microsoft.Keyvault with this vault and key. */
static void hub_storage(cmk_ctx *c, cmk_rules *r)
{
	const char *sid = cmk_str(c->resource, "properties.storageAccount");
	const cJSON *enc;
	const char *src;
	cJSON *sa = NULL;
	char fix[1024];

	if (!sid) {
		cmk_rule(c, r, "hub.storage-cmk", CMK_INFO, NULL,
		         "the hub names no storage account");
		return;
	}
	if (!cmk_resource_id_ok(sid, CMK_PROVIDER_STORAGE) ||
	    cmk_arm_get_optional(c, sid, CMK_API_STORAGE, &sa, "read the hub's storage account") !=
	            CMK_EXIT_OK ||
	    !sa) {
		cmk_rule(c, r, "hub.storage-cmk", CMK_WARN,
		         "check that it exists and you may read it",
		         "cannot read the hub's storage account %s", sid);
		cJSON_Delete(sa);
		return;
	}
	enc = cmk_item(sa, "properties.encryption");
	src = cmk_str(enc, "keySource");
	snprintf(fix, sizeof(fix),
	         "az storage account update --name %s --encryption-key-source Microsoft.Keyvault "
	         "--encryption-key-vault %s/ --encryption-key-name %s (with an identity granted "
	         "on the key: azkv-cmk grant --principal ID)",
	         cmk_last_segment(sid), c->vault_uri, c->o->key);
	/* Storage's wire names are lower case (@azure/arm-storage 20.0.0). */
	if (uses_key(c, enc, "Microsoft.Keyvault", "keyvaultproperties.keyvaulturi",
	             "keyvaultproperties.keyname"))
		cmk_rule(c, r, "hub.storage-cmk", CMK_PASS, NULL, "storage account %s uses key %s",
		         cmk_last_segment(sid), c->o->key);
	else if (src && strcasecmp(src, "Microsoft.Keyvault") == 0)
		cmk_rule(c, r, "hub.storage-cmk", CMK_FAIL, fix,
		         "storage account %s uses another customer-managed key",
		         cmk_last_segment(sid));
	else
		cmk_rule(c, r, "hub.storage-cmk", CMK_FAIL, fix,
		         "storage account %s uses Microsoft-managed keys", cmk_last_segment(sid));
	cJSON_Delete(sa);
}

/* The hub's Foundry resource (--account beside --hub). */
static void hub_account(cmk_ctx *c, cmk_rules *r)
{
	char *id = cmk_resource_id(c, c->o->account, CMK_PROVIDER_ACCOUNT);
	const char *src;
	cJSON *acct = NULL;
	char fix[1024];

	if (!id ||
	    cmk_arm_get_optional(c, id, CMK_API_COGNITIVE, &acct,
	                         "read the hub's Foundry resource") != CMK_EXIT_OK ||
	    !acct) {
		cmk_rule(c, r, "hub.foundry-cmk", CMK_FAIL, "check --account",
		         "cannot read the hub's Foundry resource %s", c->o->account);
		free(id);
		cJSON_Delete(acct);
		return;
	}
	src = cmk_str(acct, "properties.encryption.keySource");
	snprintf(fix, sizeof(fix),
	         "azkv-cmk grant --vault %s --key %s --account %s, then azkv-cmk bind (same "
	         "options)",
	         c->o->vault, c->o->key, c->o->account);
	if (uses_key(c, cmk_item(acct, "properties.encryption"), "Microsoft.KeyVault",
	             "keyVaultProperties.keyVaultUri", "keyVaultProperties.keyName"))
		cmk_rule(c, r, "hub.foundry-cmk", CMK_PASS, NULL, "Foundry resource %s uses key %s",
		         c->o->account, c->o->key);
	else
		cmk_rule(c, r, "hub.foundry-cmk", CMK_FAIL, fix,
		         "Foundry resource %s does not use key %s (%s)", c->o->account, c->o->key,
		         src ? src : "Microsoft-managed keys");
	free(id);
	cJSON_Delete(acct);
}

/* Where a CMK hub keeps its data: "service-side" or the legacy
 * Microsoft-managed resource group; NULL for a hub without CMK (no
 * managed resource group is made for it). */
static const char *data_location(const cmk_ctx *c)
{
	if (!c->binding.workspace_enabled)
		return NULL;
	return cmk_bool(c->resource, "properties.enableServiceSideCMKEncryption", 0)
	               ? "service-side"
	               : "managed-resource-group";
}

/* foundry-cmk-field-notes.txt, "The Many Ways to Break Shit": enabling
 * the firewall of the managed AI Search broke the hub, and automation
 * that set disableLocalAuth on the managed Cosmos DB broke it ("all three
 * resources rely upon access keys"); foundry-cmk-reference.txt, "(Legacy)
 * Encrypted data is stored in your subscription": "The configuration of
 * these resources can't be modified". */
static const char legacy_warning[] =
        "do not change the Cosmos DB, AI Search or Storage account in the managed resource "
        "group azureml-rg-%s_GUID: no firewall, no disableLocalAuth (they use access keys; "
        "the field notes saw the hub break on both); exempt them from policies that do";

static void hub_data_location(cmk_ctx *c, cmk_rules *r, const char *name)
{
	const char *where = data_location(c);
	char msg[512];

	if (!where)
		return;
	if (strcmp(where, "service-side") == 0) {
		cmk_rule(c, r, "hub.data-location", CMK_PASS, NULL,
		         "data kept service-side (enableServiceSideCMKEncryption), the recommended "
		         "option");
		return;
	}
	snprintf(msg, sizeof(msg), legacy_warning, name);
	cmk_rule(c, r, "hub.data-location", CMK_WARN, msg,
	         "legacy: data kept in a Microsoft-managed resource group in your subscription "
	         "(fixed at creation; new hubs should keep it service-side)");
}

/* The other dependencies: named, not judged here. */
static void hub_others(cmk_ctx *c, cmk_rules *r)
{
	static const struct {
		const char *prop, *id, *what;
	} deps[] = {
	        {"properties.keyVault", "hub.key-vault",
	         "holds the hub's secrets (connections); it is not encrypted with a "
	         "customer-managed key itself"},
	        {"properties.applicationInsights", "hub.application-insights",
	         "not checked by azkv-cmk: set CMK on it (its Log Analytics workspace) yourself"},
	        {"properties.containerRegistry", "hub.container-registry",
	         "not checked by azkv-cmk: set CMK on it yourself"},
	};

	for (size_t i = 0; i < sizeof(deps) / sizeof(*deps); i++) {
		const char *id = cmk_str(c->resource, deps[i].prop);

		if (id)
			cmk_rule(c, r, deps[i].id, CMK_INFO, NULL, "%s: %s", cmk_last_segment(id),
			         deps[i].what);
	}
}

void cmk_hub_rules(cmk_ctx *c, cmk_rules *r)
{
	const char *kind = cmk_str(c->resource, "kind");
	const char *name = cmk_str(c->resource, "name");

	if (!c->o->hub || !c->resource)
		return;
	if (!kind || strcasecmp(kind, "Hub") != 0) {
		cmk_rule(c, r, "hub.kind", CMK_FAIL, "name a hub with --hub (a project: its hub)",
		         "%s is a workspace of kind %s, not a hub", c->resource_id,
		         kind ? kind : "Default");
		return;
	}
	name = name ? name : c->o->hub;
	hub_itself(c, r, name);
	hub_storage(c, r);
	if (c->o->account)
		hub_account(c, r);
	hub_others(c, r);
	hub_data_location(c, r, name);
}

void cmk_hub_status(cmk_ctx *c)
{
	const char *kind = cmk_str(c->resource, "kind");
	const char *name = cmk_str(c->resource, "name");
	const char *where;
	cJSON *hub;
	char msg[512];

	if (c->kind != CMK_RES_WORKSPACE || !kind || strcasecmp(kind, "Hub") != 0)
		return;
	where = data_location(c);
	hub = cJSON_AddObjectToObject(c->result, "hub");
	cJSON_AddStringToObject(hub, "dataLocation", where ? where : "none");
	if (!where)
		return;
	if (strcmp(where, "service-side") == 0) {
		if (!c->o->json)
			cmk_print(stdout, "  data: kept service-side, in Microsoft's subscription "
			                  "(enableServiceSideCMKEncryption)\n");
		return;
	}
	snprintf(msg, sizeof(msg), legacy_warning, name ? name : "HUB");
	cJSON_AddStringToObject(hub, "warning", msg);
	if (!c->o->json) {
		cmk_print(stdout,
		          "  data: legacy, in a Microsoft-managed resource group "
		          "azureml-rg-%s_GUID in your subscription\n",
		          name ? name : "HUB");
		cmk_print(stdout, "  warning: %s\n", msg);
	}
}
