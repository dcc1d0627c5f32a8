/* JSON Web Keys (RFC 7517/7518 as Key Vault sends them) and their
 * OpenSSL public keys. */
#include "jwk.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "b64url.h"

static const struct {
	const char *name;
	unsigned op;
} key_op_names[] = {
        {"encrypt", AZKV_OP_ENCRYPT},  {"decrypt", AZKV_OP_DECRYPT},
        {"sign", AZKV_OP_SIGN},        {"verify", AZKV_OP_VERIFY},
        {"wrapKey", AZKV_OP_WRAP_KEY}, {"unwrapKey", AZKV_OP_UNWRAP_KEY},
        {"import", AZKV_OP_IMPORT},    {"export", AZKV_OP_EXPORT},
};

/* Key Vault and Managed HSM RSA keys are 2048, 3072 or 4096 bits, made or
 * imported (https://learn.microsoft.com/azure/key-vault/keys/about-keys);
 * a modulus outside that did not come from a vault. Public exponents are
 * small (65537); 8 bytes is generous. */
#define RSA_MIN_BITS    2048
#define RSA_MAX_BITS    4096
#define RSA_MAX_E_BYTES 8

/* One row per curve Key Vault has: the JWK "crv" names of API 7.4's
 * JsonWebKeyCurveName (P-256, P-384, P-521, P-256K; the recordings in
 * tests/recordings answer "P-256K" for secp256k1). The module reads this
 * table for CKA_EC_PARAMS (vault_object.c) and ECDSA (op_ecdsa.c), so a
 * curve is either usable everywhere or nowhere. */
static const azkv_curve curves[] = {
        {"P-256", "prime256v1", NID_X9_62_prime256v1, 32, 256, "ES256", 32},
        {"P-384", "secp384r1", NID_secp384r1, 48, 384, "ES384", 48},
        /* ES512 signs a 64-byte SHA-512 digest; the order is 521 bits. */
        {"P-521", "secp521r1", NID_secp521r1, 66, 521, "ES512", 64},
        {"P-256K", "secp256k1", NID_secp256k1, 32, 256, "ES256K", 32},
};

const azkv_curve *azkv_curve_find(const char *crv)
{
	for (size_t i = 0; crv != NULL && i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(crv, curves[i].crv) == 0)
			return &curves[i];
	return NULL;
}

const azkv_curve *azkv_curve_find_nid(int nid)
{
	for (size_t i = 0; nid != NID_undef && i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].nid == nid)
			return &curves[i];
	return NULL;
}

const char *azkv_key_op_name(unsigned op)
{
	for (size_t i = 0; i < sizeof(key_op_names) / sizeof(key_op_names[0]); i++)
		if (key_op_names[i].op == op)
			return key_op_names[i].name;
	return NULL;
}

unsigned azkv_key_op_from_name(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(key_op_names) / sizeof(key_op_names[0]); i++) {
		/* Key Vault writes wrapKey; some clients send wrapkey. */
		if (strcasecmp(name, key_op_names[i].name) == 0)
			return key_op_names[i].op;
	}
	return 0;
}

static azkv_rc copy_string(const cJSON *obj, const char *key, int required, char **out,
                           azkv_err *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!item || cJSON_IsNull(item)) {
		if (required)
			return azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK has no \"%s\"", key);
		return AZKV_OK;
	}
	if (!cJSON_IsString(item))
		return azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK \"%s\" is not a string", key);
	*out = strdup(item->valuestring);
	if (!*out)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
	return AZKV_OK;
}

static azkv_rc decode_member(const cJSON *obj, const char *key, azkv_bytes *out, azkv_err *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(item))
		return azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK has no \"%s\" string", key);
	if (azkv_b64url_decode(item->valuestring, out) != 0 || out->len == 0)
		return azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK \"%s\" is not base64url", key);
	return AZKV_OK;
}

azkv_rc azkv_jwk_parse(const cJSON *obj, azkv_jwk *out, azkv_err *err)
{
	azkv_jwk jwk = {0};
	const cJSON *ops, *op;
	const char *kty;
	size_t len;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK is not a JSON object");
		goto out;
	}
	rc = copy_string(obj, "kid", 0, &jwk.kid, err);
	if (rc == AZKV_OK)
		rc = copy_string(obj, "kty", 1, &jwk.kty_name, err);
	if (rc != AZKV_OK)
		goto out;

	kty = jwk.kty_name;
	len = strlen(kty);
	if (len > 4 && strcmp(kty + len - 4, "-HSM") == 0) {
		jwk.hsm = 1;
		len -= 4;
	}
	if (len == 3 && strncmp(kty, "RSA", 3) == 0)
		jwk.kty = AZKV_KTY_RSA;
	else if (len == 2 && strncmp(kty, "EC", 2) == 0)
		jwk.kty = AZKV_KTY_EC;
	else if (len == 3 && strncmp(kty, "oct", 3) == 0)
		jwk.kty = AZKV_KTY_OCT;
	if (jwk.kty == AZKV_KTY_UNKNOWN) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK kty \"%s\" is not RSA, EC or oct",
		                  kty);
		goto out;
	}

	ops = cJSON_GetObjectItemCaseSensitive(obj, "key_ops");
	if (ops && !cJSON_IsArray(ops) && !cJSON_IsNull(ops)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "JWK key_ops is not a list");
		goto out;
	}
	cJSON_ArrayForEach(op, ops)
	{
		if (cJSON_IsString(op))
			jwk.key_ops |= azkv_key_op_from_name(op->valuestring);
	}

	switch (jwk.kty) {
	case AZKV_KTY_RSA:
		/* "crv" on an RSA key (seen in real imports) is ignored. */
		rc = decode_member(obj, "n", &jwk.n, err);
		if (rc == AZKV_OK)
			rc = decode_member(obj, "e", &jwk.e, err);
		break;
	case AZKV_KTY_EC:
		rc = copy_string(obj, "crv", 1, &jwk.crv, err);
		if (rc == AZKV_OK)
			rc = decode_member(obj, "x", &jwk.x, err);
		if (rc == AZKV_OK)
			rc = decode_member(obj, "y", &jwk.y, err);
		break;
	default:
		break;
	}
	if (rc != AZKV_OK)
		goto out;
	*out = jwk;
	memset(&jwk, 0, sizeof(jwk));
out:
	azkv_jwk_free(&jwk);
	return rc;
}

void azkv_jwk_free(azkv_jwk *jwk)
{
	if (!jwk)
		return;
	free(jwk->kid);
	free(jwk->kty_name);
	free(jwk->crv);
	azkv_bytes_free(&jwk->n);
	azkv_bytes_free(&jwk->e);
	azkv_bytes_free(&jwk->x);
	azkv_bytes_free(&jwk->y);
	memset(jwk, 0, sizeof(*jwk));
}

/* Builds a public key of type name from params. The key type is looked up
 * by its OID (rsaEncryption, id-ecPublicKey), not "RSA"/"EC": when the host
 * program made an ENGINE the default for RSA or EC (openssl -engine pkcs11,
 * libp11), the short names resolve to the engine's legacy method, which
 * cannot import key data; the OIDs always reach the provider. */
static azkv_rc pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out, azkv_err *err)
{
	const char *type = !strcmp(name, "RSA") ? "1.2.840.113549.1.1.1" : "1.2.840.10045.2.1";
	int checked;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	EVP_PKEY *pkey = NULL;
	azkv_rc rc = AZKV_OK;

	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = azkv_err_set(err, AZKV_ERR_CRYPTO, "JWK: OpenSSL refused the %s public key",
		                  name);
		goto out;
	}
	/* -2: no check for this key's method; fromdata already checked that an
	 * EC point is on its curve. */
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	checked = check ? EVP_PKEY_public_check(check) : 0;
	if (checked <= 0 && checked != -2) {
		rc = azkv_err_set(err, AZKV_ERR_CRYPTO, "JWK: the %s public key is not valid",
		                  name);
		goto out;
	}
	*out = pkey;
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

static azkv_rc rsa_to_pkey(const azkv_jwk *jwk, EVP_PKEY **out, azkv_err *err)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = NULL, *e = NULL;
	azkv_rc rc;

	/* Checked before any arithmetic on them: a modulus of a megabyte is
	 * not worth OpenSSL's time. */
	if (jwk->n.len > RSA_MAX_BITS / 8 + 1 || jwk->e.len > RSA_MAX_E_BYTES) {
		rc = azkv_err_set(
		        err, AZKV_ERR_UNSUPPORTED,
		        "JWK: RSA modulus of %zu bytes or exponent of %zu bytes is larger "
		        "than Key Vault makes (%d bits at most)",
		        jwk->n.len, jwk->e.len, RSA_MAX_BITS);
		goto out;
	}
	n = BN_bin2bn(jwk->n.data, (int)jwk->n.len, NULL);
	e = BN_bin2bn(jwk->e.data, (int)jwk->e.len, NULL);
	if (n && e && (BN_num_bits(n) < RSA_MIN_BITS || BN_num_bits(n) > RSA_MAX_BITS)) {
		rc = azkv_err_set(err, AZKV_ERR_UNSUPPORTED,
		                  "JWK: RSA modulus of %d bits; Key Vault keys have %d to %d",
		                  BN_num_bits(n), RSA_MIN_BITS, RSA_MAX_BITS);
		goto out;
	}
	if (!bld || !n || !e || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "JWK: out of memory");
		goto out;
	}
	rc = pkey_fromdata("RSA", bld, out, err);
out:
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

static azkv_rc ec_to_pkey(const azkv_jwk *jwk, EVP_PKEY **out, azkv_err *err)
{
	OSSL_PARAM_BLD *bld = NULL;
	unsigned char *point = NULL;
	size_t flen = 0;
	const char *group = NULL;
	azkv_rc rc;

	const azkv_curve *curve = azkv_curve_find(jwk->crv);
	if (curve != NULL) {
		group = curve->group;
		flen = curve->field_len;
	}
	if (!group) {
		rc = azkv_err_set(err, AZKV_ERR_UNSUPPORTED, "JWK: curve \"%s\" is not supported",
		                  jwk->crv ? jwk->crv : "(none)");
		goto out;
	}
	if (jwk->x.len > flen || jwk->y.len > flen) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "JWK: EC coordinates longer than %zu bytes for %s", flen,
		                  jwk->crv);
		goto out;
	}
	/* Uncompressed point 04 || X || Y, coordinates left-padded. */
	point = calloc(1, 1 + 2 * flen);
	bld = OSSL_PARAM_BLD_new();
	if (!point || !bld) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "JWK: out of memory");
		goto out;
	}
	point[0] = 0x04;
	memcpy(point + 1 + flen - jwk->x.len, jwk->x.data, jwk->x.len);
	memcpy(point + 1 + 2 * flen - jwk->y.len, jwk->y.data, jwk->y.len);
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * flen)) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "JWK: out of memory");
		goto out;
	}
	rc = pkey_fromdata("EC", bld, out, err);
out:
	free(point);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

azkv_rc azkv_jwk_to_pkey(const azkv_jwk *jwk, EVP_PKEY **out, azkv_err *err)
{
	*out = NULL;
	switch (jwk->kty) {
	case AZKV_KTY_RSA:
		return rsa_to_pkey(jwk, out, err);
	case AZKV_KTY_EC:
		return ec_to_pkey(jwk, out, err);
	default:
		return azkv_err_set(err, AZKV_ERR_UNSUPPORTED, "JWK: kty \"%s\" has no public key",
		                    jwk->kty_name ? jwk->kty_name : "(none)");
	}
}
