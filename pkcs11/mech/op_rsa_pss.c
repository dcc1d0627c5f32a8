#include "op_rsa_pss.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"
#include "op_rsa_pkcs1.h"
#include "internal.h"

CK_RV azkv_pss_params_check(const azkv_mech *mech, const void *param, CK_ULONG param_len, int sign,
                            size_t k, azkv_pss_params *out)
{
	const char *name = mech->name;
	const CK_RSA_PKCS_PSS_PARAMS *p = param;
	memset(out, 0, sizeof(*out));
	if (p == NULL || param_len != sizeof(*p)) {
		azkv_error("%s: the parameter must be a CK_RSA_PKCS_PSS_PARAMS", name);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (mech->hash != 0 && p->hashAlg != mech->hash) {
		azkv_error("%s: hashAlg 0x%lx is not the mechanism's hash", name,
		           (unsigned long)p->hashAlg);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	out->md = azkv_mech_md(p->hashAlg);
	out->mgf1 = azkv_mgf_md(p->mgf);
	if (out->md == NULL || out->mgf1 == NULL) {
		azkv_error("%s: hashAlg 0x%lx or mgf 0x%lx is not a hash and MGF1 of the "
		           "module's (SHA-1, SHA-2, SHA-3)",
		           name, (unsigned long)p->hashAlg, (unsigned long)p->mgf);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	size_t h_len = (size_t)EVP_MD_get_size(out->md);
	if (sign) {
		out->alg = azkv_rsa_sig_alg("PS", out->md);
		if (out->alg == NULL) {
			azkv_error("%s: Key Vault signs PSS with SHA-256, SHA-384 or SHA-512 only "
			           "(PS256, PS384, PS512), not %s",
			           name, EVP_MD_get0_name(out->md));
			return CKR_MECHANISM_PARAM_INVALID;
		}
		if (EVP_MD_get_type(out->mgf1) != EVP_MD_get_type(out->md)) {
			azkv_error("%s: Key Vault's %s uses MGF1 with %s, not with %s", name,
			           out->alg, EVP_MD_get0_name(out->md),
			           EVP_MD_get0_name(out->mgf1));
			return CKR_MECHANISM_PARAM_INVALID;
		}
		if (p->sLen != h_len) {
			azkv_error("%s: Key Vault's %s uses a %zu-byte salt (the digest length), "
			           "not %lu",
			           name, out->alg, h_len, (unsigned long)p->sLen);
			return CKR_MECHANISM_PARAM_INVALID;
		}
	} else if (k != 0 && (k < h_len + 2 || p->sLen > k - h_len - 2)) {
		azkv_error("%s: a %lu-byte salt does not fit a %zu-bit key with %s", name,
		           (unsigned long)p->sLen, k * 8, EVP_MD_get0_name(out->md));
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (p->sLen > INT_MAX) {
		azkv_error("%s: sLen %lu is out of range", name, (unsigned long)p->sLen);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	out->salt_len = (int)p->sLen;
	return CKR_OK;
}

typedef struct pss_ctx {
	azkv_sig_base base;
	azkv_pss_params params;
	size_t k;
} pss_ctx;

static const azkv_sig_family pss_family;

static CK_RV pss_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                      const azkv_object *key, azkv_op_kind kind)
{
	size_t k = azkv_rsa_sig_len(key);
	azkv_pss_params params;
	CK_RV rv = azkv_pss_params_check(mech, m->pParameter, m->ulParameterLen,
	                                 kind == AZKV_OPER_SIGN, k, &params);
	if (rv != CKR_OK)
		return rv;
	pss_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->params = params;
	c->k = k;
	azkv_sig_base_init(&c->base, &pss_family, mech, key, kind, k);
	*out = c;
	return CKR_OK;
}

/* The raw mechanism's input is a digest of hashAlg. */
static CK_RV check_digest_len(const pss_ctx *c, size_t in_len)
{
	size_t h_len = (size_t)EVP_MD_get_size(c->params.md);
	if (in_len != h_len) {
		azkv_error("%s: the input must be a %zu-byte %s digest, not %zu bytes",
		           c->base.mech->name, h_len, EVP_MD_get0_name(c->params.md), in_len);
		return CKR_DATA_LEN_RANGE;
	}
	return CKR_OK;
}

static CK_RV pss_vault_input(void *p, const unsigned char *in, size_t in_len, const char **alg,
                             azkv_bytes *digest)
{
	pss_ctx *c = p;
	CK_RV rv = check_digest_len(c, in_len);
	if (rv != CKR_OK)
		return rv;
	if (azkv_bytes_set(digest, in, in_len) != 0)
		return CKR_HOST_MEMORY;
	*alg = c->params.alg;
	return CKR_OK;
}

static CK_RV pss_from_vault(void *p, const unsigned char *sig, size_t sig_len, unsigned char *out)
{
	pss_ctx *c = p;
	return azkv_rsa_sig_from_vault(sig, sig_len, c->k, out);
}

static int pss_setup(void *p, EVP_PKEY_CTX *pctx)
{
	pss_ctx *c = p;
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_signature_md(pctx, c->params.md) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, c->params.mgf1) > 0 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, c->params.salt_len) > 0;
}

static CK_RV pss_verify(void *p, const unsigned char *in, size_t in_len, const unsigned char *sig,
                        size_t sig_len)
{
	pss_ctx *c = p;
	const char *name = c->base.mech->name;
	if (sig_len != c->k) {
		azkv_error("%s: a signature is %zu bytes with this key, not %zu", name, c->k,
		           sig_len);
		return CKR_SIGNATURE_LEN_RANGE;
	}
	CK_RV rv = check_digest_len(c, in_len);
	if (rv != CKR_OK)
		return rv;
	return azkv_sig_verify_local(&c->base, pss_setup, c, sig, sig_len, in, in_len);
}

static const azkv_sig_family pss_family = {
        .vault_input = pss_vault_input,
        .from_vault = pss_from_vault,
        .verify = pss_verify,
};

const azkv_op_ops azkv_rsa_pss_sig_ops = {
        .init = pss_init,
        .run = azkv_sig_run,
        .free = azkv_sig_free,
};
