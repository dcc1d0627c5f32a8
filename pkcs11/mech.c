#include "mech.h"

#include <stddef.h>

#include "config.h"
#include "log.h"
#include "object.h"
#include "op_aes_cbc.h"
#include "op_aes_gcm.h"
#include "op_aes_kw.h"
#include "op_ecdsa.h"
#include "op_rsa_crypt.h"
#include "op_rsa_pkcs1.h"
#include "op_rsa_pss.h"

/* Vault keys: the private operation in the vault (CKF_HW), the public one
 * locally. RSA sizes in bits are those Key Vault creates (2048, 3072,
 * 4096); EC sizes are the curves' (P-256, secp256k1, P-384, P-521). */
#define RSA_SIZES 2048, 4096
#define EC_SIZES  256, 521
#define EC_FLAGS  (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
#define RSA_SIG   (CKF_HW | CKF_SIGN | CKF_VERIFY)
#define EC_SIG    (CKF_HW | CKF_SIGN | CKF_VERIFY | EC_FLAGS)
/* Session keys, in software. Sizes in bytes. AES key wrap also with
 * Managed HSM AES keys, in the HSM (CKF_HW). */
#define AES_SIZES 16, 32
#define AES_KW    (CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP)

static const struct {
	CK_MECHANISM_TYPE type;
	CK_MECHANISM_INFO info;
} mechanisms[] = {
        {CKM_RSA_PKCS_OAEP,
         {RSA_SIZES, CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP}},
        {CKM_RSA_PKCS,
         {RSA_SIZES,
          CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY | CKF_WRAP | CKF_UNWRAP}},
        {CKM_SHA256_RSA_PKCS, {RSA_SIZES, RSA_SIG}},
        {CKM_SHA384_RSA_PKCS, {RSA_SIZES, RSA_SIG}},
        {CKM_SHA512_RSA_PKCS, {RSA_SIZES, RSA_SIG}},
        {CKM_RSA_PKCS_PSS, {RSA_SIZES, RSA_SIG}},
        {CKM_SHA256_RSA_PKCS_PSS, {RSA_SIZES, RSA_SIG}},
        {CKM_SHA384_RSA_PKCS_PSS, {RSA_SIZES, RSA_SIG}},
        {CKM_SHA512_RSA_PKCS_PSS, {RSA_SIZES, RSA_SIG}},
        {CKM_ECDSA, {EC_SIZES, EC_SIG}},
        {CKM_ECDSA_SHA256, {EC_SIZES, EC_SIG}},
        {CKM_ECDSA_SHA384, {EC_SIZES, EC_SIG}},
        {CKM_ECDSA_SHA512, {EC_SIZES, EC_SIG}},
        {CKM_AES_KEY_GEN, {AES_SIZES, CKF_GENERATE}},
        {CKM_GENERIC_SECRET_KEY_GEN, {1, 512, CKF_GENERATE}},
        {CKM_AES_GCM, {AES_SIZES, CKF_ENCRYPT | CKF_DECRYPT}},
        {CKM_AES_CBC_PAD, {AES_SIZES, CKF_ENCRYPT | CKF_DECRYPT}},
        {CKM_AES_KEY_WRAP, {AES_SIZES, AES_KW}},
        {CKM_AES_KEY_WRAP_PAD, {AES_SIZES, AES_KW}},
        {CKM_AES_KEY_WRAP_KWP, {AES_SIZES, AES_KW}},
};

#define N_MECHANISMS (sizeof(mechanisms) / sizeof(mechanisms[0]))

CK_RV azkv_mech_list(CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	if (list == NULL) {
		*count = N_MECHANISMS;
		return CKR_OK;
	}
	if (*count < N_MECHANISMS) {
		*count = N_MECHANISMS;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (size_t i = 0; i < N_MECHANISMS; i++)
		list[i] = mechanisms[i].type;
	*count = N_MECHANISMS;
	return CKR_OK;
}

CK_RV azkv_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < N_MECHANISMS; i++)
		if (mechanisms[i].type == type) {
			*info = mechanisms[i].info;
			return CKR_OK;
		}
	return CKR_MECHANISM_INVALID;
}

/* The vault's policy, in one place for both of the functions below. */
static int vault_refuses(const azkv_vault_config *vault, CK_MECHANISM_TYPE mech,
                         CK_ATTRIBUTE_TYPE usage)
{
	return mech == CKM_RSA_PKCS && (usage == CKA_DECRYPT || usage == CKA_UNWRAP) &&
	       !vault->allow_rsa_pkcs1_v15_decrypt;
}

CK_RV azkv_mech_vault_info(const azkv_vault_config *vault, CK_MECHANISM_TYPE type,
                           CK_MECHANISM_INFO *info)
{
	CK_RV rv = azkv_mech_info(type, info);
	if (rv == CKR_OK && vault_refuses(vault, type, CKA_DECRYPT))
		info->flags &= ~(CK_FLAGS)CKF_DECRYPT;
	if (rv == CKR_OK && vault_refuses(vault, type, CKA_UNWRAP))
		info->flags &= ~(CK_FLAGS)CKF_UNWRAP;
	return rv;
}

CK_RV azkv_mech_vault_allows(const azkv_vault_config *vault, CK_MECHANISM_TYPE mech,
                             CK_ATTRIBUTE_TYPE usage, const char *fn)
{
	if (!vault_refuses(vault, mech, usage))
		return CKR_OK;
	azkv_error("%s: CKM_RSA_PKCS (RSA1_5) %s is off for vault %s: the vault's PKCS#1 v1.5 "
	           "padding check would be an oracle to every caller (Bleichenbacher). Use "
	           "CKM_RSA_PKCS_OAEP, or set \"%s\": true on this vault in the configuration "
	           "if the data really is RSA1_5",
	           fn, usage == CKA_UNWRAP ? "unwrap" : "decryption", vault->url,
	           AZKV_CONFIG_RSA_PKCS1_V15_DECRYPT_KEY);
	return CKR_MECHANISM_INVALID;
}

void azkv_mech_allowed(CK_KEY_TYPE kt, const CK_MECHANISM_TYPE **list, size_t *n)
{
	static const CK_MECHANISM_TYPE rsa[] = {
	        CKM_RSA_PKCS_OAEP,       CKM_RSA_PKCS,
	        CKM_SHA256_RSA_PKCS,     CKM_SHA384_RSA_PKCS,
	        CKM_SHA512_RSA_PKCS,     CKM_RSA_PKCS_PSS,
	        CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
	        CKM_SHA512_RSA_PKCS_PSS,
	};
	static const CK_MECHANISM_TYPE ec[] = {CKM_ECDSA, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384,
	                                       CKM_ECDSA_SHA512};
	/* Managed HSM AES keys: key wrap in the HSM. */
	static const CK_MECHANISM_TYPE aes[] = {CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD,
	                                        CKM_AES_KEY_WRAP_KWP};
	switch (kt) {
	case CKK_RSA:
		*list = rsa;
		*n = sizeof(rsa) / sizeof(rsa[0]);
		break;
	case CKK_EC:
		*list = ec;
		*n = sizeof(ec) / sizeof(ec[0]);
		break;
	case CKK_AES:
		*list = aes;
		*n = sizeof(aes) / sizeof(aes[0]);
		break;
	default:
		*list = NULL;
		*n = 0;
	}
}

static const char *usage_name(CK_ATTRIBUTE_TYPE usage)
{
	switch (usage) {
	case CKA_ENCRYPT:
		return "CKA_ENCRYPT";
	case CKA_DECRYPT:
		return "CKA_DECRYPT";
	case CKA_SIGN:
		return "CKA_SIGN";
	case CKA_VERIFY:
		return "CKA_VERIFY";
	case CKA_WRAP:
		return "CKA_WRAP";
	case CKA_UNWRAP:
		return "CKA_UNWRAP";
	default:
		return "the usage attribute";
	}
}

CK_RV azkv_key_usage_check(const azkv_object *key, CK_OBJECT_HANDLE handle, CK_ATTRIBUTE_TYPE usage,
                           const char *fn)
{
	if (!azkv_attrs_bool(&key->attrs, usage, CK_FALSE)) {
		if (key->vkey != NULL)
			azkv_error(
			        "%s: key %lu ('%s') has %s=FALSE (the vault key's key_ops or the "
			        "object class do not allow it)",
			        fn, (unsigned long)handle, key->vkey->key.name, usage_name(usage));
		else
			azkv_error("%s: key %lu has %s=FALSE", fn, (unsigned long)handle,
			           usage_name(usage));
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	}
	return CKR_OK;
}

CK_RV azkv_key_mech_check(const azkv_object *key, CK_OBJECT_HANDLE handle, CK_MECHANISM_TYPE mech,
                          const char *fn)
{
	const CK_ATTRIBUTE *allowed = azkv_attrs_find(&key->attrs, CKA_ALLOWED_MECHANISMS);
	if (allowed == NULL || allowed->ulValueLen == 0)
		return CKR_OK;
	const CK_MECHANISM_TYPE *list = allowed->pValue;
	for (size_t i = 0; i < allowed->ulValueLen / sizeof(CK_MECHANISM_TYPE); i++)
		if (list[i] == mech)
			return CKR_OK;
	azkv_error("%s: mechanism 0x%lx is not in CKA_ALLOWED_MECHANISMS of key %lu", fn,
	           (unsigned long)mech, (unsigned long)handle);
	return CKR_MECHANISM_INVALID;
}

const EVP_MD *azkv_mech_md(CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1:
		return EVP_sha1();
	case CKM_SHA224:
		return EVP_sha224();
	case CKM_SHA256:
		return EVP_sha256();
	case CKM_SHA384:
		return EVP_sha384();
	case CKM_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

const EVP_MD *azkv_mgf_md(CK_RSA_PKCS_MGF_TYPE mgf)
{
	switch (mgf) {
	case CKG_MGF1_SHA1:
		return EVP_sha1();
	case CKG_MGF1_SHA224:
		return EVP_sha224();
	case CKG_MGF1_SHA256:
		return EVP_sha256();
	case CKG_MGF1_SHA384:
		return EVP_sha384();
	case CKG_MGF1_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

const azkv_cipher_ops *azkv_cipher_find(CK_MECHANISM_TYPE m)
{
	static const azkv_cipher_ops *const families[] = {&azkv_aes_gcm_ops, &azkv_aes_cbc_pad_ops,
	                                                  &azkv_aes_kw_ops, &azkv_rsa_crypt_ops};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		for (size_t j = 0; j < families[i]->n_mechs; j++)
			if (families[i]->mechs[j] == m)
				return families[i];
	return NULL;
}

const azkv_sig_ops *azkv_sig_find(CK_MECHANISM_TYPE m)
{
	static const azkv_sig_ops *const families[] = {&azkv_rsa_pkcs1_sig_ops,
	                                               &azkv_rsa_pss_sig_ops, &azkv_ecdsa_sig_ops};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		for (size_t j = 0; j < families[i]->n_mechs; j++)
			if (families[i]->mechs[j] == m)
				return families[i];
	return NULL;
}
