/* The table of Azure clouds (see cloud.h). Sources: `az cloud show
 * --name NAME` (endpoints.activeDirectory, resourceManager,
 * suffixes.keyvaultDns, mhsmDns) and the Azure SDKs' AzureAuthorityHosts
 * and Key Vault challenge scopes. */
#include "cloud.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const azkv_cloud clouds[] = {
        {"AzureCloud", "public", "https://login.microsoftonline.com",
         "https://management.azure.com", "https://management.azure.com/.default", "vault.azure.net",
         "https://vault.azure.net/.default", "managedhsm.azure.net",
         "https://managedhsm.azure.net/.default"},
        {"AzureChinaCloud", "china", "https://login.chinacloudapi.cn",
         "https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default",
         "vault.azure.cn", "https://vault.azure.cn/.default", "managedhsm.azure.cn",
         "https://managedhsm.azure.cn/.default"},
        {"AzureUSGovernment", "usgov", "https://login.microsoftonline.us",
         "https://management.usgovcloudapi.net", "https://management.usgovcloudapi.net/.default",
         "vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net/.default",
         "managedhsm.usgovcloudapi.net", "https://managedhsm.usgovcloudapi.net/.default"},
};

#define N_CLOUDS (sizeof(clouds) / sizeof(clouds[0]))

const azkv_cloud *azkv_cloud_default(void)
{
	return &clouds[0];
}

const azkv_cloud *azkv_cloud_find(const char *name)
{
	for (size_t i = 0; name && i < N_CLOUDS; i++) {
		if (strcasecmp(name, clouds[i].name) == 0 || strcasecmp(name, clouds[i].alias) == 0)
			return &clouds[i];
	}
	return NULL;
}

const char *azkv_cloud_names(void)
{
	return "AzureCloud (public), AzureChinaCloud (china), AzureUSGovernment (usgov)";
}

/* host ends with "." suffix, case-insensitive. */
static int has_suffix(const char *host, const char *suffix)
{
	size_t hl = strlen(host), sl = strlen(suffix);

	return hl > sl && host[hl - sl - 1] == '.' && strcasecmp(host + hl - sl, suffix) == 0;
}

const azkv_cloud *azkv_cloud_for_vault_host(const char *host, int *is_hsm)
{
	for (size_t i = 0; host && i < N_CLOUDS; i++) {
		int hsm = has_suffix(host, clouds[i].hsm_suffix);

		if (hsm || has_suffix(host, clouds[i].vault_suffix)) {
			if (is_hsm)
				*is_hsm = hsm;
			return &clouds[i];
		}
	}
	return NULL;
}

const azkv_cloud *azkv_cloud_for_vault_scope(const char *scope)
{
	for (size_t i = 0; scope && i < N_CLOUDS; i++)
		if (!strcasecmp(scope, clouds[i].vault_scope) ||
		    !strcasecmp(scope, clouds[i].hsm_scope))
			return &clouds[i];
	return NULL;
}
