/* The Azure clouds: one row each with the hosts and token scopes that
 * differ between the public cloud, Azure China and Azure US Government.
 * Every credential, the Key Vault and ARM clients and azkv-cmk (--cloud)
 * read this table; nothing else spells a cloud's host names. */
#ifndef AZKV_CLOUD_H
#define AZKV_CLOUD_H

typedef struct azkv_cloud {
	const char *name;           /* as `az cloud list` names it: "AzureCloud" */
	const char *alias;          /* short name accepted too: "public" */
	const char *authority_host; /* Entra ID: "https://login.microsoftonline.com" */
	const char *arm_endpoint;   /* "https://management.azure.com" */
	const char *arm_scope;      /* "https://management.azure.com/.default" */
	const char *vault_suffix;   /* "vault.azure.net" */
	const char *vault_scope;    /* "https://vault.azure.net/.default" */
	const char *hsm_suffix;     /* "managedhsm.azure.net" */
	const char *hsm_scope;      /* "https://managedhsm.azure.net/.default" */
} azkv_cloud;

/* The public cloud (the default everywhere). */
const azkv_cloud *azkv_cloud_default(void);

/* By name or alias, case-insensitive; NULL when unknown. */
const azkv_cloud *azkv_cloud_find(const char *name);

/* The names, comma-separated, for messages: "AzureCloud, AzureChinaCloud, ...". */
const char *azkv_cloud_names(void);

/* The cloud whose vault or Managed HSM suffix host ends with (a label
 * boundary before it); *is_hsm (may be NULL) tells which. NULL when the
 * host belongs to no known cloud. */
const azkv_cloud *azkv_cloud_for_vault_host(const char *host, int *is_hsm);

/* The cloud whose Key Vault or Managed HSM token scope scope is
 * ("https://vault.azure.net/.default"), case-insensitive; NULL for any
 * other scope. */
const azkv_cloud *azkv_cloud_for_vault_scope(const char *scope);

#endif
