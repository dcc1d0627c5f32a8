#include "mhsm.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int azkv_mhsm_is_hsm(const char *vault_url)
{
	if (vault_url == NULL)
		return 0;
	const char *host = strstr(vault_url, "://");
	host = host ? host + 3 : vault_url;
	const char *end = strchr(host, '/');
	size_t len = end ? (size_t)(end - host) : strlen(host);
	const char *hit = strcasestr(host, ".managedhsm.");
	return hit != NULL && (size_t)(hit - host) < len;
}

/* One row per alg: the Key Vault data-plane spec's names (7.6). */
static const struct {
	unsigned bits;
	const char *kw;
} aes_kw[] = {{128, "A128KW"}, {192, "A192KW"}, {256, "A256KW"}};

const char *azkv_mhsm_aes_wrap_alg(unsigned bits, int padded)
{
	if (padded)
		return "CKM_AES_KEY_WRAP_PAD";
	for (size_t i = 0; i < sizeof(aes_kw) / sizeof(aes_kw[0]); i++)
		if (aes_kw[i].bits == bits)
			return aes_kw[i].kw;
	return "CKM_AES_KEY_WRAP";
}

unsigned azkv_mhsm_aes_alg_bits(const char *alg)
{
	for (size_t i = 0; alg != NULL && i < sizeof(aes_kw) / sizeof(aes_kw[0]); i++)
		if (!strcmp(aes_kw[i].kw, alg))
			return aes_kw[i].bits;
	return 0;
}

const char *azkv_mhsm_role_for(const char *operation)
{
	static const char *const service_ops[] = {"wrapkey", "unwrapkey", "get"};
	for (size_t i = 0; operation != NULL && i < sizeof(service_ops) / sizeof(service_ops[0]);
	     i++)
		if (!strcasecmp(operation, service_ops[i]))
			return "Managed HSM Crypto Service Encryption User";
	return "Managed HSM Crypto User";
}

int azkv_mhsm_grant_hint(const char *vault_url, const char *key_name, const char *operation,
                         char *buf, size_t n)
{
	if (n > 0)
		buf[0] = '\0';
	if (!azkv_mhsm_is_hsm(vault_url) || n == 0)
		return 0;
	/* The HSM's name: the first label of its host. */
	const char *host = strstr(vault_url, "://");
	host = host ? host + 3 : vault_url;
	size_t name_len = strcspn(host, ".");
	const char *role = azkv_mhsm_role_for(operation);
	snprintf(buf, n,
	         "a Managed HSM decides by its local RBAC (access policies and Azure RBAC do not "
	         "apply): grant the identity \"%s\" at scope /keys/%s, e.g. az keyvault role "
	         "assignment create --hsm-name %.*s --role \"%s\" --scope /keys/%s --assignee "
	         "<the identity's object id>",
	         role, key_name, (int)name_len, host, role, key_name);
	return 1;
}
