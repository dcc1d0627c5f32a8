/* azkv-cmk check, rule vault.network: can Foundry reach the vault, and by
 * which path? Two paths count (foundry-cmk-lab.txt, "Key Vault
 * configuration": "Network isolation can be maintained through Private
 * Link or by allowing trusted Microsoft services to reach the vault."):
 *   trusted services  networkAcls.bypass includes AzureServices
 *                     (foundry-cmk-reference.txt, "Use customer-managed
 *                     keys with Azure Key Vault": "If you use the Key
 *                     Vault firewall, you must allow trusted Microsoft
 *                     services to access the key vault.")
 *   private link      a private endpoint connection whose
 *                     privateLinkServiceConnectionState.status is
 *                     Approved; a Pending, Rejected or Disconnected one
 *                     carries no traffic, so it does not count.
 * With public access open (no firewall) both are moot: Foundry gets
 * through, and the rule warns that anyone can reach the key. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

/* The vault's private endpoint connections: the names of the approved
 * ones in approved, of the others (with their status) in other. */
static int private_links(const cmk_ctx *c, char *approved, size_t na, char *other, size_t no)
{
	const cJSON *pec;
	int n_approved = 0;

	approved[0] = other[0] = '\0';
	cJSON_ArrayForEach(pec, cmk_item(c->vault, "properties.privateEndpointConnections"))
	{
		const char *id = cmk_str(pec, "id");
		const char *name = id && strrchr(id, '/') ? strrchr(id, '/') + 1 : "?";
		const char *status =
		        cmk_str(pec, "properties.privateLinkServiceConnectionState.status");
		size_t len;

		if (status && strcasecmp(status, "Approved") == 0) {
			len = strlen(approved);
			snprintf(approved + len, na - len, "%s%s", n_approved ? ", " : "", name);
			n_approved++;
		} else {
			len = strlen(other);
			snprintf(other + len, no - len, "%s%s is %s", len ? ", " : "", name,
			         status ? status : "in no state");
		}
	}
	return n_approved;
}

void cmk_network_rule(cmk_ctx *c, cmk_rules *r)
{
	const char *pna = cmk_str(c->vault, "properties.publicNetworkAccess");
	const char *def = cmk_str(c->vault, "properties.networkAcls.defaultAction");
	const char *bypass = cmk_str(c->vault, "properties.networkAcls.bypass");
	const char *name = cmk_str(c->vault, "name");
	int trusted = bypass && strstr(bypass, "AzureServices") != NULL;
	int disabled = pna && strcasecmp(pna, "Disabled") == 0;
	int denied = def && strcasecmp(def, "Deny") == 0;
	char approved[512], other[512], fix[768];
	int links = private_links(c, approved, sizeof(approved), other, sizeof(other));
	const char *path = !disabled && !denied ? "public"
	                   : trusted && links   ? "both"
	                   : trusted            ? "trusted-services"
	                   : links              ? "private-link"
	                                        : "none";
	const char *closed =
	        disabled ? "public network access is disabled" : "the firewall denies by default";

	cJSON_AddStringToObject(c->result, "networkPath", path);
	snprintf(fix, sizeof(fix),
	         "allow trusted Microsoft services (az keyvault update --name %s --bypass "
	         "AzureServices), or approve a private endpoint connection (az network "
	         "private-endpoint-connection approve --type Microsoft.KeyVault/vaults "
	         "--resource-name %s --resource-group RG --name CONNECTION)",
	         name ? name : "VAULT", name ? name : "VAULT");
	if (strcmp(path, "public") == 0)
		cmk_rule(c, r, "vault.network", CMK_WARN,
		         "turn the firewall on and allow trusted Microsoft services: az keyvault "
		         "update --default-action Deny --bypass AzureServices (or use Private Link "
		         "and disable public access)",
		         "public access from all networks (works, but the key is reachable from "
		         "anywhere)%s%s",
		         links ? "; private endpoint connections approved: " : "",
		         links ? approved : "");
	else if (strcmp(path, "both") == 0)
		cmk_rule(c, r, "vault.network", CMK_PASS, NULL,
		         "%s; both paths open: trusted Microsoft services and Private Link "
		         "(approved: %s)",
		         closed, approved);
	else if (strcmp(path, "trusted-services") == 0)
		cmk_rule(c, r, "vault.network", CMK_PASS, NULL,
		         "%s; trusted Microsoft services allowed through%s%s%s", closed,
		         other[0] ? " (private endpoint connections not approved: " : "", other,
		         other[0] ? ")" : "");
	else if (strcmp(path, "private-link") == 0)
		cmk_rule(c, r, "vault.network", CMK_PASS, NULL,
		         "%s; Private Link: approved private endpoint connection %s (the lab "
		         "accepts Private Link; trusted Microsoft services are not allowed)",
		         closed, approved);
	else
		cmk_rule(c, r, "vault.network", CMK_FAIL, fix,
		         "%s, trusted Microsoft services are not allowed through and no private "
		         "endpoint connection is approved%s%s%s: Foundry cannot reach the key",
		         closed, other[0] ? " (" : "", other,
		         other[0] ? "; only an approved connection carries traffic)" : "");
}
