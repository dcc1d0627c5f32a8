#include "op_ecdsa.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"
#include "internal.h"

CK_RV azkv_ecdsa_vault_digest(const azkv_curve *crv, const unsigned char *in, size_t in_len,
                              unsigned char *out)
{
	size_t n = crv->digest_len;
	if (in_len == 0) {
		azkv_error("CKM_ECDSA: the digest is empty");
		return CKR_DATA_LEN_RANGE;
	}
	if (in_len <= n) {
		/* Shorter than the order: the same integer, left-padded. */
		memset(out, 0, n - in_len);
		memcpy(out + (n - in_len), in, in_len);
		return CKR_OK;
	}
	if (n * 8 != crv->order_bits) {
		/* P-521: the leftmost 521 bits of a longer digest do not fit
		 * ES512's 64 bytes. */
		azkv_error("CKM_ECDSA: a %zu-byte digest is longer than %s takes (%zu bytes)",
		           in_len, crv->sign_alg, n);
		return CKR_DATA_LEN_RANGE;
	}
	/* Longer: ECDSA uses its leftmost order_bits bits. */
	memcpy(out, in, n);
	return CKR_OK;
}

CK_RV azkv_ecdsa_sig_normalise(const unsigned char *sig, size_t len, size_t field_len,
                               unsigned char *out)
{
	if (len == 0 || len % 2 != 0) {
		azkv_error("the vault answered a %zu-byte ECDSA signature, not r || s", len);
		return CKR_DEVICE_ERROR;
	}
	size_t half = len / 2;
	for (int i = 0; i < 2; i++) {
		const unsigned char *v = sig + i * half;
		size_t vlen = half;
		while (vlen > 0 && v[0] == 0) {
			v++;
			vlen--;
		}
		if (vlen > field_len) {
			azkv_error("the vault answered a %zu-byte ECDSA signature for a %zu-byte "
			           "curve",
			           len, field_len);
			return CKR_DEVICE_ERROR;
		}
		unsigned char *o = out + i * field_len;
		memset(o, 0, field_len - vlen);
		memcpy(o + (field_len - vlen), v, vlen);
	}
	return CKR_OK;
}

CK_RV azkv_ecdsa_sig_to_der(const unsigned char *sig, size_t field_len, unsigned char **der,
                            size_t *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)field_len, NULL);
	BIGNUM *s = BN_bin2bn(sig + field_len, (int)field_len, NULL);
	*der = NULL;
	/* ECDSA_SIG_set0 fails only for a NULL r or s, so es owns both
	 * exactly when it succeeds. */
	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return CKR_HOST_MEMORY;
	}
	int len = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	if (len <= 0)
		return CKR_FUNCTION_FAILED;
	*der_len = (size_t)len;
	return CKR_OK;
}

typedef struct ecdsa_ctx {
	azkv_sig_base base;
	const azkv_curve *curve;
} ecdsa_ctx;

static const azkv_sig_family ecdsa_family;

static CK_RV ecdsa_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                        const azkv_object *key, azkv_op_kind kind)
{
	/* Every curve a vault key can have (vault_object.c takes no other). */
	const azkv_curve *curve = azkv_curve_find(key->vkey->key.jwk.crv);
	if (curve == NULL) {
		azkv_error("%s: no ECDSA on curve %s", mech->name,
		           key->vkey->key.jwk.crv ? key->vkey->key.jwk.crv : "(none)");
		return CKR_KEY_TYPE_INCONSISTENT;
	}
	ecdsa_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->curve = curve;
	azkv_sig_base_init(&c->base, &ecdsa_family, mech, key, kind, 2 * curve->field_len);
	*out = c;
	return CKR_OK;
}

static CK_RV ecdsa_vault_input(void *p, const unsigned char *in, size_t in_len, const char **alg,
                               azkv_bytes *digest)
{
	ecdsa_ctx *c = p;
	unsigned char buf[EVP_MAX_MD_SIZE];
	CK_RV rv = azkv_ecdsa_vault_digest(c->curve, in, in_len, buf);
	if (rv != CKR_OK)
		return rv;
	if (azkv_bytes_set(digest, buf, c->curve->digest_len) != 0)
		return CKR_HOST_MEMORY;
	*alg = c->curve->sign_alg;
	return CKR_OK;
}

static CK_RV ecdsa_from_vault(void *p, const unsigned char *sig, size_t sig_len, unsigned char *out)
{
	ecdsa_ctx *c = p;
	return azkv_ecdsa_sig_normalise(sig, sig_len, c->curve->field_len, out);
}

static CK_RV ecdsa_verify(void *p, const unsigned char *in, size_t in_len, const unsigned char *sig,
                          size_t sig_len)
{
	ecdsa_ctx *c = p;
	unsigned char *der = NULL;
	size_t der_len = 0;
	if (sig_len != 2 * c->curve->field_len) {
		azkv_error("%s: a signature is %zu bytes on this curve, not %zu",
		           c->base.mech->name, 2 * c->curve->field_len, sig_len);
		return CKR_SIGNATURE_LEN_RANGE;
	}
	if (in_len == 0) {
		azkv_error("%s: the digest is empty", c->base.mech->name);
		return CKR_DATA_LEN_RANGE;
	}
	CK_RV rv = azkv_ecdsa_sig_to_der(sig, c->curve->field_len, &der, &der_len);
	if (rv != CKR_OK)
		return rv;
	/* OpenSSL takes the digest's leftmost bits as ECDSA says. */
	rv = azkv_sig_verify_local(&c->base, NULL, c, der, der_len, in, in_len);
	OPENSSL_free(der);
	return rv;
}

static const azkv_sig_family ecdsa_family = {
        .vault_input = ecdsa_vault_input,
        .from_vault = ecdsa_from_vault,
        .verify = ecdsa_verify,
};

const azkv_op_ops azkv_ecdsa_sig_ops = {
        .init = ecdsa_init,
        .run = azkv_sig_run,
        .free = azkv_sig_free,
};
