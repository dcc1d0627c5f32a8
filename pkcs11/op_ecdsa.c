#include "op_ecdsa.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"

int azkv_ecdsa_curve_of(const char *crv, azkv_ecdsa_curve *out)
{
	static const struct {
		const char *crv;
		azkv_ecdsa_curve curve;
	} curves[] = {
	        {"P-256", {"ES256", 32, 256, 32}},      {"P-384", {"ES384", 48, 384, 48}},
	        {"P-521", {"ES512", 66, 521, 64}},      {"P-256K", {"ES256K", 32, 256, 32}},
	        {"SECP256K1", {"ES256K", 32, 256, 32}},
	};
	for (size_t i = 0; crv != NULL && i < sizeof(curves) / sizeof(curves[0]); i++)
		if (!strcmp(crv, curves[i].crv)) {
			*out = curves[i].curve;
			return 1;
		}
	return 0;
}

CK_RV azkv_ecdsa_vault_digest(const azkv_ecdsa_curve *crv, const unsigned char *in, size_t in_len,
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
		           in_len, crv->alg, n);
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
	CK_RV rv = CKR_HOST_MEMORY;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)field_len, NULL);
	BIGNUM *s = BN_bin2bn(sig + field_len, (int)field_len, NULL);
	*der = NULL;
	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL; /* owned by es */
	int len = i2d_ECDSA_SIG(es, der);
	if (len <= 0) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	*der_len = (size_t)len;
	rv = CKR_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rv;
}

typedef struct ecdsa_ctx {
	azkv_ecdsa_curve curve;
	const char *name; /* the mechanism, for the log */
} ecdsa_ctx;

static CK_RV ecdsa_init(void **out, const CK_MECHANISM *m, const azkv_object *key, int sign,
                        const EVP_MD **md, size_t *sig_len)
{
	const EVP_MD *hash = NULL;
	const char *name = "CKM_ECDSA";
	azkv_ecdsa_curve curve;
	if (m->mechanism == CKM_ECDSA_SHA256) {
		hash = EVP_sha256();
		name = "CKM_ECDSA_SHA256";
	} else if (m->mechanism == CKM_ECDSA_SHA384) {
		hash = EVP_sha384();
		name = "CKM_ECDSA_SHA384";
	} else if (m->mechanism == CKM_ECDSA_SHA512) {
		hash = EVP_sha512();
		name = "CKM_ECDSA_SHA512";
	}
	if (key->vkey == NULL || key->key_type != CKK_EC ||
	    key->cls != (sign ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY)) {
		azkv_error("%s: the key is not a vault EC %s key", name,
		           sign ? "private" : "public");
		return CKR_KEY_TYPE_INCONSISTENT;
	}
	if (!azkv_ecdsa_curve_of(key->vkey->key.jwk.crv, &curve)) {
		azkv_error("%s: no ECDSA on curve %s", name,
		           key->vkey->key.jwk.crv ? key->vkey->key.jwk.crv : "(none)");
		return CKR_KEY_TYPE_INCONSISTENT;
	}
	ecdsa_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->curve = curve;
	c->name = name;
	*md = hash;
	*sig_len = 2 * curve.field_len;
	*out = c;
	return CKR_OK;
}

static CK_RV ecdsa_vault_input(void *p, const unsigned char *in, size_t in_len, const char **alg,
                               azkv_bytes *digest)
{
	ecdsa_ctx *c = p;
	unsigned char buf[EVP_MAX_MD_SIZE];
	CK_RV rv = azkv_ecdsa_vault_digest(&c->curve, in, in_len, buf);
	if (rv != CKR_OK)
		return rv;
	if (azkv_bytes_set(digest, buf, c->curve.digest_len) != 0)
		return CKR_HOST_MEMORY;
	*alg = c->curve.alg;
	return CKR_OK;
}

static CK_RV ecdsa_from_vault(void *p, const unsigned char *sig, size_t sig_len, unsigned char *out)
{
	ecdsa_ctx *c = p;
	return azkv_ecdsa_sig_normalise(sig, sig_len, c->curve.field_len, out);
}

static CK_RV ecdsa_verify(void *p, EVP_PKEY *pub, const unsigned char *in, size_t in_len,
                          const unsigned char *sig, size_t sig_len)
{
	ecdsa_ctx *c = p;
	unsigned char *der = NULL;
	size_t der_len = 0;
	if (sig_len != 2 * c->curve.field_len) {
		azkv_error("%s: a signature is %zu bytes on this curve, not %zu", c->name,
		           2 * c->curve.field_len, sig_len);
		return CKR_SIGNATURE_LEN_RANGE;
	}
	if (in_len == 0) {
		azkv_error("%s: the digest is empty", c->name);
		return CKR_DATA_LEN_RANGE;
	}
	CK_RV rv = azkv_ecdsa_sig_to_der(sig, c->curve.field_len, &der, &der_len);
	if (rv != CKR_OK)
		return rv;
	rv = CKR_FUNCTION_FAILED;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0) {
		azkv_error("%s: OpenSSL failed", c->name);
		goto out;
	}
	/* OpenSSL takes the digest's leftmost bits as ECDSA says. */
	if (EVP_PKEY_verify(ctx, der, der_len, in, in_len) == 1) {
		rv = CKR_OK;
	} else {
		azkv_error("%s: the signature does not verify", c->name);
		rv = CKR_SIGNATURE_INVALID;
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	return rv;
}

static void ecdsa_free(void *p)
{
	free(p);
}

const azkv_sig_ops azkv_ecdsa_sig_ops = {
        .mechs = {CKM_ECDSA, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512},
        .n_mechs = 4,
        .init = ecdsa_init,
        .vault_input = ecdsa_vault_input,
        .from_vault = ecdsa_from_vault,
        .verify = ecdsa_verify,
        .free = ecdsa_free,
};
