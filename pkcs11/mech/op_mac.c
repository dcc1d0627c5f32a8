/* HMAC and AES-CMAC. A row with a hash is HMAC over it (its digest from
 * mech.c's one table of hashes); one without is AES-CMAC. The key is
 * copied at init and OpenSSL's context made at the first data, so that a
 * length query or a wrong signature length changes nothing. Verification
 * recomputes the MAC and compares in constant time. */
#include "op_mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"

/* PKCS#11's CK_MAC_GENERAL_PARAMS, which p11-kit's pkcs11.h lacks: the
 * MAC's length in bytes. */
typedef CK_ULONG mac_general_params;

/* The mechanisms whose parameter is the MAC's length. */
static const CK_MECHANISM_TYPE general[] = {
        CKM_AES_CMAC_GENERAL,    CKM_SHA_1_HMAC_GENERAL,  CKM_SHA224_HMAC_GENERAL,
        CKM_SHA256_HMAC_GENERAL, CKM_SHA384_HMAC_GENERAL, CKM_SHA512_HMAC_GENERAL,
};

typedef struct mac_ctx {
	const azkv_mech *mech;
	int sign; /* else verify */
	unsigned char *key;
	size_t key_len;
	size_t mac_len;   /* what is signed or verified: the MAC, or its first bytes */
	EVP_MAC_CTX *evp; /* from the first data */
} mac_ctx;

static void mac_free(void *p)
{
	mac_ctx *c = p;
	if (c == NULL)
		return;
	EVP_MAC_CTX_free(c->evp);
	OPENSSL_clear_free(c->key, c->key_len);
	free(c);
}

static void mac_wipe(void *p)
{
	mac_ctx *c = p;
	OPENSSL_cleanse(c->key, c->key_len);
}

static int is_general(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < sizeof(general) / sizeof(general[0]); i++)
		if (general[i] == type)
			return 1;
	return 0;
}

/* The MAC's full length: the digest's for HMAC, a block for CMAC. */
static size_t full_length(const azkv_mech *mech)
{
	const EVP_MD *md = azkv_mech_hash_md(mech);
	int n = md != NULL ? EVP_MD_get_size(md) : 16;
	return n > 0 ? (size_t)n : 0;
}

static CK_RV mac_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                      const azkv_object *key, azkv_op_kind kind)
{
	size_t mac_len = full_length(mech);
	if (is_general(mech->type)) {
		const mac_general_params *len = m->pParameter;
		if (len == NULL || m->ulParameterLen != sizeof(*len) || *len == 0 ||
		    *len > mac_len) {
			azkv_error("%s: the parameter must be a CK_MAC_GENERAL_PARAMS of 1 to %zu "
			           "bytes",
			           mech->name, mac_len);
			return CKR_MECHANISM_PARAM_INVALID;
		}
		mac_len = *len;
	}
	mac_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->key = OPENSSL_malloc(key->value.len ? key->value.len : 1)) == NULL) {
		free(c);
		return CKR_HOST_MEMORY;
	}
	c->mech = mech;
	c->sign = kind == AZKV_OPER_SIGN;
	c->key_len = key->value.len;
	memcpy(c->key, key->value.data, key->value.len);
	c->mac_len = mac_len;
	*out = c;
	return CKR_OK;
}

/* c->evp keyed and ready for data; 0 when OpenSSL failed. */
static int mac_start(mac_ctx *c)
{
	if (c->evp != NULL)
		return 1;
	const EVP_MD *md = azkv_mech_hash_md(c->mech);
	static const char *const cmac_cipher[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
	OSSL_PARAM params[2];
	if (md != NULL)
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		                                             (char *)EVP_MD_get0_name(md), 0);
	else
		params[0] = OSSL_PARAM_construct_utf8_string(
		        OSSL_MAC_PARAM_CIPHER,
		        (char *)cmac_cipher[c->key_len == 16   ? 0
		                            : c->key_len == 24 ? 1
		                                               : 2],
		        0);
	params[1] = OSSL_PARAM_construct_end();
	EVP_MAC *mac = EVP_MAC_fetch(NULL, md != NULL ? "HMAC" : "CMAC", NULL);
	c->evp = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if (c->evp == NULL || !EVP_MAC_init(c->evp, c->key, c->key_len, params)) {
		EVP_MAC_CTX_free(c->evp);
		c->evp = NULL;
		azkv_error("%s: OpenSSL failed", c->mech->name);
		return 0;
	}
	return 1;
}

static CK_RV mac_update(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                        CK_ULONG *out_len)
{
	(void)out;
	(void)out_len;
	mac_ctx *c = p;
	if (!mac_start(c) || (in_len > 0 && !EVP_MAC_update(c->evp, in, in_len)))
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

/* Whether the answer is known before the MAC is computed (*rv): a length
 * query or a short buffer when signing, a signature of the wrong length
 * when verifying. */
static int answered_early(const mac_ctx *c, const unsigned char *out, CK_ULONG *out_len, CK_RV *rv)
{
	if (!c->sign) {
		if (*out_len == c->mac_len)
			return 0;
		azkv_error("%s: the signature has %lu bytes, not %zu", c->mech->name,
		           (unsigned long)*out_len, c->mac_len);
		*rv = CKR_SIGNATURE_LEN_RANGE;
		return 1;
	}
	return azkv_op_out_short(out, out_len, c->mac_len, rv);
}

/* The MAC of the data given so far: written to out (sign) or compared
 * with it (verify). */
static CK_RV mac_finish(mac_ctx *c, unsigned char *out, CK_ULONG *out_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t n = 0;
	CK_RV rv = CKR_OK;
	if (!mac_start(c) || !EVP_MAC_final(c->evp, mac, &n, sizeof(mac)) || n < c->mac_len) {
		azkv_error("%s: OpenSSL failed", c->mech->name);
		rv = CKR_FUNCTION_FAILED;
	} else if (c->sign) {
		memcpy(out, mac, c->mac_len);
		*out_len = c->mac_len;
	} else if (CRYPTO_memcmp(out, mac, c->mac_len) != 0) {
		azkv_error("%s: the signature does not verify", c->mech->name);
		rv = CKR_SIGNATURE_INVALID;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return rv;
}

static CK_RV mac_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                     CK_ULONG *out_len)
{
	mac_ctx *c = p;
	CK_RV rv = CKR_OK;
	if (answered_early(c, out, out_len, &rv))
		return rv;
	if ((rv = mac_update(c, in, in_len, NULL, NULL)) != CKR_OK)
		return rv;
	return mac_finish(c, out, out_len);
}

static CK_RV mac_final(void *p, unsigned char *out, CK_ULONG *out_len)
{
	mac_ctx *c = p;
	CK_RV rv = CKR_OK;
	if (answered_early(c, out, out_len, &rv))
		return rv;
	return mac_finish(c, out, out_len);
}

const azkv_op_ops azkv_mac_ops = {
        .init = mac_init,
        .run = mac_run,
        .update = mac_update,
        .final = mac_final,
        .free = mac_free,
        .wipe = mac_wipe,
};
