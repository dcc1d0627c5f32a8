#include "mech.h"

#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "log.h"
#include "login.h"
#include "object.h"

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

#define RSA_CRYPT (CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP)
#define AES_CRYPT (CKF_ENCRYPT | CKF_DECRYPT)
/* MACs: HMAC keys from the digest's length up to HMAC_MAX bytes (as
 * SoftHSMv2). */
#define MAC      (CKF_SIGN | CKF_VERIFY)
#define HMAC_MAX 512
#define HMAC_ROW(type, min, hash)                                                                  \
	{                                                                                          \
		type, #type, {min, HMAC_MAX, MAC}, AZKV_FAMILY_NONE, AZKV_FAMILY_MAC, hash,        \
		        AZKV_KEYS_HMAC, 0                                                          \
	}
/* A digest: no key (key sizes 0, a key type no key has), no family; its
 * digest is azkv_mech_md of its own type. */
#define DIGEST(type)                                                                               \
	{                                                                                          \
		type, #type, {0, 0, CKF_DIGEST}, AZKV_FAMILY_NONE, AZKV_FAMILY_NONE, 0,            \
		        CK_UNAVAILABLE_INFORMATION, 0                                              \
	}

static const azkv_mech mechanisms[] = {
        {CKM_RSA_PKCS_OAEP,
         "CKM_RSA_PKCS_OAEP",
         {RSA_SIZES, RSA_CRYPT},
         AZKV_FAMILY_RSA_CRYPT,
         AZKV_FAMILY_NONE,
         0,
         CKK_RSA,
         1},
        {CKM_RSA_PKCS,
         "CKM_RSA_PKCS",
         {RSA_SIZES, RSA_CRYPT | RSA_SIG},
         AZKV_FAMILY_RSA_CRYPT,
         AZKV_FAMILY_RSA_PKCS1_SIG,
         0,
         CKK_RSA,
         1},
        {CKM_SHA256_RSA_PKCS,
         "CKM_SHA256_RSA_PKCS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PKCS1_SIG,
         CKM_SHA256,
         CKK_RSA,
         1},
        {CKM_SHA384_RSA_PKCS,
         "CKM_SHA384_RSA_PKCS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PKCS1_SIG,
         CKM_SHA384,
         CKK_RSA,
         1},
        {CKM_SHA512_RSA_PKCS,
         "CKM_SHA512_RSA_PKCS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PKCS1_SIG,
         CKM_SHA512,
         CKK_RSA,
         1},
        {CKM_RSA_PKCS_PSS,
         "CKM_RSA_PKCS_PSS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PSS_SIG,
         0,
         CKK_RSA,
         1},
        {CKM_SHA256_RSA_PKCS_PSS,
         "CKM_SHA256_RSA_PKCS_PSS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PSS_SIG,
         CKM_SHA256,
         CKK_RSA,
         1},
        {CKM_SHA384_RSA_PKCS_PSS,
         "CKM_SHA384_RSA_PKCS_PSS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PSS_SIG,
         CKM_SHA384,
         CKK_RSA,
         1},
        {CKM_SHA512_RSA_PKCS_PSS,
         "CKM_SHA512_RSA_PKCS_PSS",
         {RSA_SIZES, RSA_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_RSA_PSS_SIG,
         CKM_SHA512,
         CKK_RSA,
         1},
        {CKM_ECDSA,
         "CKM_ECDSA",
         {EC_SIZES, EC_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_ECDSA_SIG,
         0,
         CKK_EC,
         1},
        {CKM_ECDSA_SHA256,
         "CKM_ECDSA_SHA256",
         {EC_SIZES, EC_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_ECDSA_SIG,
         CKM_SHA256,
         CKK_EC,
         1},
        {CKM_ECDSA_SHA384,
         "CKM_ECDSA_SHA384",
         {EC_SIZES, EC_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_ECDSA_SIG,
         CKM_SHA384,
         CKK_EC,
         1},
        {CKM_ECDSA_SHA512,
         "CKM_ECDSA_SHA512",
         {EC_SIZES, EC_SIG},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_ECDSA_SIG,
         CKM_SHA512,
         CKK_EC,
         1},
        /* Key creation in the vault (vault_keygen.c), on a vault with
         * "allow_key_creation" (azkv_mech_vault_info). */
        {CKM_RSA_PKCS_KEY_PAIR_GEN,
         "CKM_RSA_PKCS_KEY_PAIR_GEN",
         {RSA_SIZES, CKF_HW | CKF_GENERATE_KEY_PAIR},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_NONE,
         0,
         CKK_RSA,
         0},
        {CKM_EC_KEY_PAIR_GEN,
         "CKM_EC_KEY_PAIR_GEN",
         {EC_SIZES, CKF_HW | CKF_GENERATE_KEY_PAIR | EC_FLAGS},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_NONE,
         0,
         CKK_EC,
         0},
        {CKM_AES_KEY_GEN,
         "CKM_AES_KEY_GEN",
         {AES_SIZES, CKF_GENERATE},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         0},
        {CKM_GENERIC_SECRET_KEY_GEN,
         "CKM_GENERIC_SECRET_KEY_GEN",
         {1, 512, CKF_GENERATE},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_NONE,
         0,
         CKK_GENERIC_SECRET,
         0},
        {CKM_AES_GCM,
         "CKM_AES_GCM",
         {AES_SIZES, AES_CRYPT},
         AZKV_FAMILY_AES_GCM,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         0},
        {CKM_AES_CBC_PAD,
         "CKM_AES_CBC_PAD",
         {AES_SIZES, AES_CRYPT},
         AZKV_FAMILY_AES_BLOCK,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         0},
        /* Issue 18: the other unauthenticated AES modes, and the MACs (AES
         * CMAC; HMAC with generic secret and AES keys, of at least the
         * digest's length, as SoftHSMv2 requires), in software. */
        {CKM_AES_ECB,
         "CKM_AES_ECB",
         {AES_SIZES, AES_CRYPT},
         AZKV_FAMILY_AES_BLOCK,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         0},
        {CKM_AES_CBC,
         "CKM_AES_CBC",
         {AES_SIZES, AES_CRYPT},
         AZKV_FAMILY_AES_BLOCK,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         0},
        {CKM_AES_CTR,
         "CKM_AES_CTR",
         {AES_SIZES, AES_CRYPT},
         AZKV_FAMILY_AES_BLOCK,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         0},
        {CKM_AES_CMAC,
         "CKM_AES_CMAC",
         {AES_SIZES, MAC},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_MAC,
         0,
         CKK_AES,
         0},
        {CKM_AES_CMAC_GENERAL,
         "CKM_AES_CMAC_GENERAL",
         {AES_SIZES, MAC},
         AZKV_FAMILY_NONE,
         AZKV_FAMILY_MAC,
         0,
         CKK_AES,
         0},
        HMAC_ROW(CKM_SHA_1_HMAC, 20, CKM_SHA_1),
        HMAC_ROW(CKM_SHA_1_HMAC_GENERAL, 20, CKM_SHA_1),
        HMAC_ROW(CKM_SHA224_HMAC, 28, CKM_SHA224),
        HMAC_ROW(CKM_SHA224_HMAC_GENERAL, 28, CKM_SHA224),
        HMAC_ROW(CKM_SHA256_HMAC, 32, CKM_SHA256),
        HMAC_ROW(CKM_SHA256_HMAC_GENERAL, 32, CKM_SHA256),
        HMAC_ROW(CKM_SHA384_HMAC, 48, CKM_SHA384),
        HMAC_ROW(CKM_SHA384_HMAC_GENERAL, 48, CKM_SHA384),
        HMAC_ROW(CKM_SHA512_HMAC, 64, CKM_SHA512),
        HMAC_ROW(CKM_SHA512_HMAC_GENERAL, 64, CKM_SHA512),
        /* Also with Managed HSM AES keys (vault 1), in the HSM: wrap.c. */
        {CKM_AES_KEY_WRAP,
         "CKM_AES_KEY_WRAP",
         {AES_SIZES, AES_KW},
         AZKV_FAMILY_AES_KW,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         1},
        {CKM_AES_KEY_WRAP_PAD,
         "CKM_AES_KEY_WRAP_PAD",
         {AES_SIZES, AES_KW},
         AZKV_FAMILY_AES_KW,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         1},
        {CKM_AES_KEY_WRAP_KWP,
         "CKM_AES_KEY_WRAP_KWP",
         {AES_SIZES, AES_KW},
         AZKV_FAMILY_AES_KW,
         AZKV_FAMILY_NONE,
         0,
         CKK_AES,
         1},
        /* Digests (C_Digest*, digest.c), local with OpenSSL; no key. */
        DIGEST(CKM_SHA_1),
        DIGEST(CKM_SHA224),
        DIGEST(CKM_SHA256),
        DIGEST(CKM_SHA384),
        DIGEST(CKM_SHA512),
        DIGEST(CKM_SHA3_224),
        DIGEST(CKM_SHA3_256),
        DIGEST(CKM_SHA3_384),
        DIGEST(CKM_SHA3_512),
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

const azkv_mech *azkv_mech_find(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < N_MECHANISMS; i++)
		if (mechanisms[i].type == type)
			return &mechanisms[i];
	return NULL;
}

CK_RV azkv_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	const azkv_mech *mech = azkv_mech_find(type);
	if (mech == NULL)
		return CKR_MECHANISM_INVALID;
	*info = mech->info;
	return CKR_OK;
}

const EVP_MD *azkv_mech_hash_md(const azkv_mech *mech)
{
	return azkv_mech_md(mech->hash);
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
	if (rv == CKR_OK && !vault->allow_key_creation)
		info->flags &= ~(CK_FLAGS)CKF_GENERATE_KEY_PAIR;
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

/* CKA_ALLOWED_MECHANISMS of vault keys, by key type: the table's rows
 * with vault set, gathered once. */
static struct {
	CK_KEY_TYPE kt;
	CK_MECHANISM_TYPE list[N_MECHANISMS];
	size_t n;
} vault_allowed[] = {{CKK_RSA, {0}, 0}, {CKK_EC, {0}, 0}, {CKK_AES, {0}, 0}};
static pthread_once_t allowed_once = PTHREAD_ONCE_INIT;

static void allowed_gather(void)
{
	for (size_t a = 0; a < sizeof(vault_allowed) / sizeof(vault_allowed[0]); a++)
		for (size_t i = 0; i < N_MECHANISMS; i++)
			if (mechanisms[i].vault && mechanisms[i].key_type == vault_allowed[a].kt)
				vault_allowed[a].list[vault_allowed[a].n++] = mechanisms[i].type;
}

void azkv_mech_allowed(CK_KEY_TYPE kt, const CK_MECHANISM_TYPE **list, size_t *n)
{
	pthread_once(&allowed_once, allowed_gather);
	*list = NULL;
	*n = 0;
	for (size_t a = 0; a < sizeof(vault_allowed) / sizeof(vault_allowed[0]); a++)
		if (vault_allowed[a].kt == kt) {
			*list = vault_allowed[a].list;
			*n = vault_allowed[a].n;
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

/* The codes of a key's role: the key of an operation, a wrapping key or an
 * unwrapping key. */
static CK_RV handle_invalid(CK_ATTRIBUTE_TYPE usage)
{
	if (usage == CKA_WRAP)
		return CKR_WRAPPING_KEY_HANDLE_INVALID;
	return usage == CKA_UNWRAP ? CKR_UNWRAPPING_KEY_HANDLE_INVALID : CKR_KEY_HANDLE_INVALID;
}

static CK_RV type_inconsistent(CK_ATTRIBUTE_TYPE usage)
{
	if (usage == CKA_WRAP)
		return CKR_WRAPPING_KEY_TYPE_INCONSISTENT;
	return usage == CKA_UNWRAP ? CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT
	                           : CKR_KEY_TYPE_INCONSISTENT;
}

CK_RV azkv_key_lookup(CK_SLOT_ID slot, CK_OBJECT_HANDLE handle, CK_ATTRIBUTE_TYPE usage,
                      const char *fn, const azkv_object **key)
{
	*key = azkv_objects_get(handle);
	if (*key == NULL || (*key)->slot != slot || !azkv_login_shows(*key)) {
		azkv_error("%s: %skey handle %lu is not valid%s", fn,
		           usage == CKA_WRAP     ? "wrapping "
		           : usage == CKA_UNWRAP ? "unwrapping "
		                                 : "",
		           (unsigned long)handle,
		           *key != NULL && (*key)->slot == slot ? " before C_Login" : "");
		*key = NULL;
		return handle_invalid(usage);
	}
	return CKR_OK;
}

static CK_RV size_range(CK_ATTRIBUTE_TYPE usage)
{
	if (usage == CKA_WRAP)
		return CKR_WRAPPING_KEY_SIZE_RANGE;
	return usage == CKA_UNWRAP ? CKR_UNWRAPPING_KEY_SIZE_RANGE : CKR_KEY_SIZE_RANGE;
}

/* What a row's key_type names: a key type, or a set of them
 * (AZKV_KEYS_*): its name for the log and the key types it takes. */
static const struct {
	CK_KEY_TYPE key_type;
	const char *name;
	CK_KEY_TYPE takes[2];
} key_types[] = {
        {CKK_RSA, "RSA", {CKK_RSA, CKK_RSA}},
        {CKK_EC, "EC", {CKK_EC, CKK_EC}},
        {CKK_AES, "AES", {CKK_AES, CKK_AES}},
        {CKK_GENERIC_SECRET, "generic secret", {CKK_GENERIC_SECRET, CKK_GENERIC_SECRET}},
        {AZKV_KEYS_HMAC, "generic secret or AES", {CKK_GENERIC_SECRET, CKK_AES}},
};

#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* key_type's row; N_KEY_TYPES when none. */
static size_t key_type_row(CK_KEY_TYPE key_type)
{
	size_t i = 0;
	while (i < N_KEY_TYPES && key_types[i].key_type != key_type)
		i++;
	return i;
}

static int takes_key_type(const azkv_mech *mech, CK_KEY_TYPE kt)
{
	size_t r = key_type_row(mech->key_type);
	return r < N_KEY_TYPES && (kt == key_types[r].takes[0] || kt == key_types[r].takes[1]);
}

static const char *key_type_name(CK_KEY_TYPE key_type)
{
	size_t r = key_type_row(key_type);
	return r < N_KEY_TYPES ? key_types[r].name : "other";
}

/* The class, type and size mech needs of a key for usage: an RSA or EC
 * key is a vault key, its public half encrypts, verifies and wraps and
 * its private half the rest; a secret key is a secret key (session or
 * Managed HSM) of one of the row's types, and a session key's length is
 * within the row's sizes (bytes). */
static CK_RV type_check(const azkv_object *key, CK_OBJECT_HANDLE handle, const azkv_mech *mech,
                        CK_ATTRIBUTE_TYPE usage, const char *fn)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	int asym = mech->key_type == CKK_RSA || mech->key_type == CKK_EC;
	if (asym)
		cls = usage == CKA_ENCRYPT || usage == CKA_VERIFY || usage == CKA_WRAP
		              ? CKO_PUBLIC_KEY
		              : CKO_PRIVATE_KEY;
	if (!takes_key_type(mech, key->key_type) || key->cls != cls ||
	    (asym && key->vkey == NULL)) {
		azkv_error("%s: %s needs a %s key of type %s%s; key %lu is not one", fn, mech->name,
		           cls == CKO_PUBLIC_KEY    ? "public"
		           : cls == CKO_PRIVATE_KEY ? "private"
		                                    : "secret",
		           key_type_name(mech->key_type), asym ? " in the vault" : "",
		           (unsigned long)handle);
		return type_inconsistent(usage);
	}
	if (cls == CKO_SECRET_KEY && key->vkey == NULL &&
	    (key->value.len < mech->info.ulMinKeySize ||
	     key->value.len > mech->info.ulMaxKeySize)) {
		azkv_error("%s: %s takes keys of %lu to %lu bytes; key %lu has %zu", fn, mech->name,
		           (unsigned long)mech->info.ulMinKeySize,
		           (unsigned long)mech->info.ulMaxKeySize, (unsigned long)handle,
		           key->value.len);
		return size_range(usage);
	}
	return CKR_OK;
}

CK_RV azkv_key_check(const azkv_object *key, CK_OBJECT_HANDLE handle, const azkv_mech *mech,
                     CK_ATTRIBUTE_TYPE usage, const char *fn)
{
	CK_RV rv;
	/* A wrong wrapping key is answered as such (CKR_WRAPPING_KEY_TYPE_*)
	 * before its usage; an operation's key by its usage first, as a
	 * private key's CKA_VERIFY says (PKCS#11 leaves the order open). */
	int wrapping = usage == CKA_WRAP || usage == CKA_UNWRAP;
	if (wrapping && (rv = type_check(key, handle, mech, usage, fn)) != CKR_OK)
		return rv;
	if ((rv = azkv_key_usage_check(key, handle, usage, fn)) != CKR_OK)
		return rv;
	if (!wrapping && (rv = type_check(key, handle, mech, usage, fn)) != CKR_OK)
		return rv;
	return azkv_key_mech_check(key, handle, mech->type, fn);
}

CK_RV azkv_key_for_op(CK_SLOT_ID slot, CK_OBJECT_HANDLE handle, const azkv_mech *mech,
                      CK_ATTRIBUTE_TYPE usage, const char *fn, const azkv_object **key)
{
	CK_RV rv = azkv_key_lookup(slot, handle, usage, fn, key);
	if (rv == CKR_OK && (rv = azkv_key_check(*key, handle, mech, usage, fn)) != CKR_OK)
		*key = NULL;
	return rv;
}

/* The SHA-3 MGF1 generators where the header has them (PKCS#11 3.0);
 * else 0, which names no generator. */
#ifdef CKG_MGF1_SHA3_224
#define MGF1_SHA3_224 CKG_MGF1_SHA3_224
#define MGF1_SHA3_256 CKG_MGF1_SHA3_256
#define MGF1_SHA3_384 CKG_MGF1_SHA3_384
#define MGF1_SHA3_512 CKG_MGF1_SHA3_512
#else
#define MGF1_SHA3_224 0
#define MGF1_SHA3_256 0
#define MGF1_SHA3_384 0
#define MGF1_SHA3_512 0
#endif

/* The hashes: one row each, for hashing and digest mechanisms and MGF1
 * generators. */
static const struct {
	CK_MECHANISM_TYPE mech;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const EVP_MD *(*md)(void);
} hashes[] = {
        {CKM_SHA_1, CKG_MGF1_SHA1, EVP_sha1},
        {CKM_SHA224, CKG_MGF1_SHA224, EVP_sha224},
        {CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256},
        {CKM_SHA384, CKG_MGF1_SHA384, EVP_sha384},
        {CKM_SHA512, CKG_MGF1_SHA512, EVP_sha512},
        /* SHA-3 (FIPS 202) */
        {CKM_SHA3_224, MGF1_SHA3_224, EVP_sha3_224},
        {CKM_SHA3_256, MGF1_SHA3_256, EVP_sha3_256},
        {CKM_SHA3_384, MGF1_SHA3_384, EVP_sha3_384},
        {CKM_SHA3_512, MGF1_SHA3_512, EVP_sha3_512},
};

const EVP_MD *azkv_mech_md(CK_MECHANISM_TYPE hash)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].mech == hash)
			return hashes[i].md();
	return NULL;
}

const EVP_MD *azkv_mgf_md(CK_RSA_PKCS_MGF_TYPE mgf)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].mgf != 0 && hashes[i].mgf == mgf)
			return hashes[i].md();
	return NULL;
}
