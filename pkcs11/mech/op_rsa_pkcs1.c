#include "op_rsa_pkcs1.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "digestinfo.h"
#include "log.h"
#include "object.h"
#include "internal.h"

size_t azkv_rsa_sig_len(const azkv_object *key)
{
	return (size_t)EVP_PKEY_get_size(key->vkey->pub);
}

CK_RV azkv_rsa_sig_from_vault(const unsigned char *sig, size_t len, size_t k, unsigned char *out)
{
	if (len > k || len == 0) {
		azkv_error("the vault answered a %zu-byte signature for a %zu-byte modulus", len,
		           k);
		return CKR_DEVICE_ERROR;
	}
	memset(out, 0, k - len);
	memcpy(out + (k - len), sig, len);
	return CKR_OK;
}

const char *azkv_rsa_sig_alg(const char *family, const EVP_MD *md)
{
	int ps = family[0] == 'P';
	switch (md ? EVP_MD_get_type(md) : NID_undef) {
	case NID_sha256:
		return ps ? "PS256" : "RS256";
	case NID_sha384:
		return ps ? "PS384" : "RS384";
	case NID_sha512:
		return ps ? "PS512" : "RS512";
	default:
		return NULL;
	}
}

typedef struct pkcs1_ctx {
	azkv_sig_base base;
	const EVP_MD *md; /* the hashing mechanisms' hash; NULL for CKM_RSA_PKCS */
	size_t k;
} pkcs1_ctx;

static const azkv_sig_family pkcs1_family;

static CK_RV pkcs1_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                        const azkv_object *key, azkv_op_kind kind)
{
	pkcs1_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->md = azkv_mech_hash_md(mech);
	c->k = azkv_rsa_sig_len(key);
	azkv_sig_base_init(&c->base, &pkcs1_family, mech, key, kind, c->k);
	*out = c;
	return CKR_OK;
}

static CK_RV pkcs1_vault_input(void *p, const unsigned char *in, size_t in_len, const char **alg,
                               azkv_bytes *digest)
{
	pkcs1_ctx *c = p;
	const EVP_MD *md = c->md;
	if (md == NULL) {
		CK_RV rv = azkv_digestinfo_parse(in, in_len, &md, digest);
		if (rv != CKR_OK)
			return rv;
	} else if (azkv_bytes_set(digest, in, in_len) != 0) {
		return CKR_HOST_MEMORY;
	}
	*alg = azkv_rsa_sig_alg("RS", md);
	return CKR_OK;
}

static CK_RV pkcs1_from_vault(void *p, const unsigned char *sig, size_t sig_len, unsigned char *out)
{
	pkcs1_ctx *c = p;
	return azkv_rsa_sig_from_vault(sig, sig_len, c->k, out);
}

static int pkcs1_setup(void *p, EVP_PKEY_CTX *pctx)
{
	pkcs1_ctx *c = p;
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
	       (c->md == NULL || EVP_PKEY_CTX_set_signature_md(pctx, c->md) > 0);
}

static CK_RV pkcs1_verify(void *p, const unsigned char *in, size_t in_len, const unsigned char *sig,
                          size_t sig_len)
{
	pkcs1_ctx *c = p;
	if (sig_len != c->k) {
		azkv_error("%s: a signature is %zu bytes with this key, not %zu",
		           c->base.mech->name, c->k, sig_len);
		return CKR_SIGNATURE_LEN_RANGE;
	}
	/* CKM_RSA_PKCS verifies raw: the input is what was padded and signed. */
	if (c->md == NULL && in_len > c->k - 11) {
		azkv_error("CKM_RSA_PKCS: %zu bytes of data is more than a %zu-bit key signs",
		           in_len, c->k * 8);
		return CKR_DATA_LEN_RANGE;
	}
	return azkv_sig_verify_local(&c->base, pkcs1_setup, c, sig, sig_len, in, in_len);
}

static const azkv_sig_family pkcs1_family = {
        .vault_input = pkcs1_vault_input,
        .from_vault = pkcs1_from_vault,
        .verify = pkcs1_verify,
};

const azkv_op_ops azkv_rsa_pkcs1_sig_ops = {
        .init = pkcs1_init,
        .run = azkv_sig_run,
        .free = azkv_sig_free,
};
