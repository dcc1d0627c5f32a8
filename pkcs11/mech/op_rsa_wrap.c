#include "op_rsa_wrap.h"

#include <openssl/rsa.h>
#include <stdlib.h>

#include "log.h"

CK_RV azkv_rsa_wrap_alg_from_mech(const CK_MECHANISM *m, azkv_rsa_wrap_alg *out)
{
	if (m->mechanism == CKM_RSA_PKCS) {
		*out = (azkv_rsa_wrap_alg){"RSA1_5", 0, NULL, AZKV_RSA_WRAP_V15};
		return CKR_OK;
	}
	if (m->mechanism != CKM_RSA_PKCS_OAEP) {
		azkv_error("mechanism 0x%lx cannot wrap with a vault RSA key (CKM_RSA_PKCS_OAEP "
		           "or CKM_RSA_PKCS)",
		           (unsigned long)m->mechanism);
		return CKR_MECHANISM_INVALID;
	}
	const CK_RSA_PKCS_OAEP_PARAMS *p = m->pParameter;
	if (p == NULL || m->ulParameterLen != sizeof(*p)) {
		azkv_error("CKM_RSA_PKCS_OAEP: parameter must be a CK_RSA_PKCS_OAEP_PARAMS");
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (p->ulSourceDataLen != 0) {
		azkv_error("CKM_RSA_PKCS_OAEP: Key Vault does not support an OAEP label");
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (p->hashAlg == CKM_SHA_1 && p->mgf == CKG_MGF1_SHA1) {
		*out = (azkv_rsa_wrap_alg){"RSA-OAEP", 1, EVP_sha1(), AZKV_RSA_WRAP_OAEP};
		return CKR_OK;
	}
	if (p->hashAlg == CKM_SHA256 && p->mgf == CKG_MGF1_SHA256) {
		*out = (azkv_rsa_wrap_alg){"RSA-OAEP-256", 1, EVP_sha256(), AZKV_RSA_WRAP_OAEP_256};
		return CKR_OK;
	}
	azkv_error("CKM_RSA_PKCS_OAEP: hash 0x%lx with MGF 0x%lx is not a Key Vault algorithm "
	           "(SHA-1 with MGF1-SHA1, or SHA-256 with MGF1-SHA256)",
	           (unsigned long)p->hashAlg, (unsigned long)p->mgf);
	return CKR_MECHANISM_PARAM_INVALID;
}

const EVP_PKEY_CTX *azkv_rsa_wrap_prepared(azkv_rsa_wrap_ctxs *ctxs, EVP_PKEY *pub,
                                           const azkv_rsa_wrap_alg *alg)
{
	if (ctxs->by_alg[alg->id] != NULL)
		return ctxs->by_alg[alg->id];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) <= 0)
		goto fail;
	if (alg->oaep) {
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, alg->md) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, alg->md) <= 0)
			goto fail;
	} else if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		goto fail;
	}
	ctxs->by_alg[alg->id] = ctx;
	return ctx;
fail:
	azkv_error("%s: OpenSSL could not set up an RSA encryption context", alg->name);
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

void azkv_rsa_wrap_ctxs_free(azkv_rsa_wrap_ctxs *ctxs)
{
	for (size_t i = 0; i < AZKV_RSA_WRAP_ALGS; i++) {
		EVP_PKEY_CTX_free(ctxs->by_alg[i]);
		ctxs->by_alg[i] = NULL;
	}
}

CK_RV azkv_rsa_wrap_local(const EVP_PKEY_CTX *prepared, const azkv_rsa_wrap_alg *alg,
                          const unsigned char *key, size_t key_len, azkv_bytes *out)
{
	CK_RV rv = CKR_FUNCTION_FAILED;
	size_t len = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup(prepared);
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_PKEY_encrypt(ctx, NULL, &len, key, key_len) <= 0)
		goto out;
	out->data = malloc(len);
	if (out->data == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (EVP_PKEY_encrypt(ctx, out->data, &len, key, key_len) <= 0) {
		/* The key is too long for this modulus and padding. */
		azkv_error("%s: a %zu-byte key cannot be wrapped with this key", alg->name,
		           key_len);
		azkv_bytes_free(out);
		rv = CKR_KEY_SIZE_RANGE;
		goto out;
	}
	out->len = len;
	rv = CKR_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return rv;
}
