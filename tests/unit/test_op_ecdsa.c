/* ECDSA: curves and their vault algs, the digest the vault signs (cut or
 * left-padded as ECDSA itself does), the vault's r || s in PKCS#11's
 * form, and verification through the family. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>

#include "object.h"
#include "op_ecdsa.h"

static void test_curves_and_algs(void **state)
{
	const azkv_curve *c = azkv_curve_find("P-256");
	assert_non_null(c);
	assert_string_equal(c->sign_alg, "ES256");
	assert_int_equal(c->field_len, 32);
	assert_non_null(c = azkv_curve_find("P-384"));
	assert_string_equal(c->sign_alg, "ES384");
	assert_int_equal(c->digest_len, 48);
	assert_non_null(c = azkv_curve_find("P-521"));
	assert_string_equal(c->sign_alg, "ES512");
	assert_int_equal(c->field_len, 66);
	assert_int_equal(c->digest_len, 64);
	assert_non_null(c = azkv_curve_find("P-256K"));
	assert_string_equal(c->sign_alg, "ES256K");
	assert_int_equal(c->nid, NID_secp256k1);
	assert_null(azkv_curve_find("P-192"));
	assert_null(azkv_curve_find(NULL));
}

/* A vault EC key whose JWK has crv, with a point of P-256K (taken from
 * the 2022 recording): whether the module loads it as a key (the JWK
 * becomes a public key) and has ECDSA for it must be the same answer. */
static int jwk_loads(const char *crv)
{
	char json[512];
	snprintf(json, sizeof(json),
	         "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":"
	         "\"DD0oKGw3EmYdj_rQiqMZ8AETTwkUum8oueB_nXPB8RI\",\"y\":"
	         "\"6C186Xwwl1byO1yFW8DzJC9mI0_r7lLj_qIoOpvDFB4\"}",
	         crv);
	cJSON *obj = cJSON_Parse(json);
	azkv_jwk jwk;
	azkv_err err;
	EVP_PKEY *pkey = NULL;
	memset(&jwk, 0, sizeof(jwk));
	int ok = obj != NULL && azkv_jwk_parse(obj, &jwk, &err) == AZKV_OK &&
	         azkv_jwk_to_pkey(&jwk, &pkey, &err) == AZKV_OK;
	EVP_PKEY_free(pkey);
	azkv_jwk_free(&jwk);
	cJSON_Delete(obj);
	return ok;
}

/* Key Vault (API 7.4, JsonWebKeyCurveName) names secp256k1 "P-256K";
 * "SECP256K1" was API 2016-10-01's name. op_ecdsa.c and vault_object.c
 * used to take both while src/jwk.c took only "P-256K", so their
 * "SECP256K1" branches were dead: one curve table now answers for all. */
static void test_secp256k1_is_one_row_everywhere(void **state)
{
	assert_true(jwk_loads("P-256K"));
	assert_non_null(azkv_curve_find("P-256K"));
	static const char *const others[] = {"SECP256K1", "secp256k1", "P-256k"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_false(jwk_loads(others[i]));
		assert_null(azkv_curve_find(others[i]));
	}
}

static void test_vault_digest_is_cut_or_padded(void **state)
{
	const azkv_curve *p256 = azkv_curve_find("P-256"), *p521 = azkv_curve_find("P-521");
	unsigned char in[70], out[64];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i + 1);
	assert_int_equal(azkv_ecdsa_vault_digest(p256, in, 32, out), CKR_OK);
	assert_memory_equal(out, in, 32);
	assert_int_equal(azkv_ecdsa_vault_digest(p256, in, 48, out), CKR_OK);
	assert_memory_equal(out, in, 32); /* the leftmost 256 bits */
	assert_int_equal(azkv_ecdsa_vault_digest(p256, in, 20, out), CKR_OK);
	for (size_t i = 0; i < 12; i++)
		assert_int_equal(out[i], 0);
	assert_memory_equal(out + 12, in, 20);
	assert_int_equal(azkv_ecdsa_vault_digest(p521, in, 64, out), CKR_OK);
	assert_int_equal(azkv_ecdsa_vault_digest(p521, in, 32, out), CKR_OK);
	assert_memory_equal(out + 32, in, 32);
	assert_int_equal(azkv_ecdsa_vault_digest(p521, in, 66, out), CKR_DATA_LEN_RANGE);
	assert_int_equal(azkv_ecdsa_vault_digest(p256, in, 0, out), CKR_DATA_LEN_RANGE);
}

static void test_vault_signature_is_normalised(void **state)
{
	unsigned char sig[140], out[132];
	for (size_t i = 0; i < sizeof(sig); i++)
		sig[i] = (unsigned char)(0x80 | i);
	/* Already r || s of 32 bytes each. */
	assert_int_equal(azkv_ecdsa_sig_normalise(sig, 64, 32, out), CKR_OK);
	assert_memory_equal(out, sig, 64);
	/* Halves of 31 bytes: each left-padded. */
	assert_int_equal(azkv_ecdsa_sig_normalise(sig, 62, 32, out), CKR_OK);
	assert_int_equal(out[0], 0);
	assert_memory_equal(out + 1, sig, 31);
	assert_int_equal(out[32], 0);
	assert_memory_equal(out + 33, sig + 31, 31);
	/* Halves of 33 bytes with a leading zero: stripped. */
	unsigned char wide[66];
	wide[0] = 0;
	memcpy(wide + 1, sig, 32);
	wide[33] = 0;
	memcpy(wide + 34, sig + 32, 32);
	assert_int_equal(azkv_ecdsa_sig_normalise(wide, 66, 32, out), CKR_OK);
	assert_memory_equal(out, sig, 64);
	/* Not r || s for this curve. */
	assert_int_equal(azkv_ecdsa_sig_normalise(sig, 66, 32, out), CKR_DEVICE_ERROR);
	assert_int_equal(azkv_ecdsa_sig_normalise(sig, 63, 32, out), CKR_DEVICE_ERROR);
	assert_int_equal(azkv_ecdsa_sig_normalise(sig, 0, 32, out), CKR_DEVICE_ERROR);
	/* P-521: 132 bytes. */
	assert_int_equal(azkv_ecdsa_sig_normalise(sig, 132, 66, out), CKR_OK);
	assert_memory_equal(out, sig, 132);
}

static void test_der_round_trip(void **state)
{
	unsigned char sig[64], *der = NULL;
	size_t der_len = 0;
	memset(sig, 0, sizeof(sig));
	sig[31] = 5;    /* r = 5 */
	sig[32] = 0x80; /* s has its top bit set */
	sig[63] = 1;
	assert_int_equal(azkv_ecdsa_sig_to_der(sig, 32, &der, &der_len), CKR_OK);
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(es);
	assert_true(BN_is_word(ECDSA_SIG_get0_r(es), 5));
	assert_int_equal(BN_num_bytes(ECDSA_SIG_get0_s(es)), 32);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
}

/* ECDSA signs the leftmost order bits of a digest: what the vault signs
 * (the cut or padded digest) verifies against the caller's digest. */
static size_t raw_sign(EVP_PKEY *key, const unsigned char *digest, size_t len, unsigned char *der)
{
	size_t out = 200;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, der, &out, digest, len), 1);
	EVP_PKEY_CTX_free(ctx);
	return out;
}

static CK_RV family_verify(EVP_PKEY *key, const char *crv, const unsigned char *in, size_t len,
                           const unsigned char *sig, size_t sig_len)
{
	azkv_vault_key vk;
	azkv_object pub;
	memset(&vk, 0, sizeof(vk));
	memset(&pub, 0, sizeof(pub));
	vk.refs = 1;
	vk.pub = key;
	vk.key.jwk.crv = (char *)crv;
	pub.cls = CKO_PUBLIC_KEY;
	pub.key_type = CKK_EC;
	pub.vkey = &vk;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	void *ctx = NULL;
	CK_ULONG n = sig_len;
	CK_RV rv = azkv_ecdsa_sig_ops.init(&ctx, azkv_mech_find(CKM_ECDSA), &m, &pub,
	                                   AZKV_OPER_VERIFY);
	if (rv == CKR_OK)
		rv = azkv_ecdsa_sig_ops.run(ctx, in, len, (unsigned char *)sig, &n);
	azkv_ecdsa_sig_ops.free(ctx);
	return rv;
}

static void to_raw(const unsigned char *der, size_t der_len, size_t field, unsigned char *raw)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(es);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)field), (int)field);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + field, (int)field), (int)field);
	ECDSA_SIG_free(es);
}

static void test_cut_and_padded_digests_sign_the_same(void **state)
{
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *p521 = EVP_EC_gen("P-521");
	assert_non_null(p256);
	assert_non_null(p521);
	const azkv_curve *c256 = azkv_curve_find("P-256"), *c521 = azkv_curve_find("P-521");
	unsigned char d48[48], d20[20], vault[64], der[200], raw[132];
	for (size_t i = 0; i < 48; i++)
		d48[i] = (unsigned char)(0xc0 ^ i);
	memcpy(d20, d48 + 5, 20);

	/* The vault signs the cut digest; the signature verifies against the
	 * 48-byte one. */
	assert_int_equal(azkv_ecdsa_vault_digest(c256, d48, 48, vault), CKR_OK);
	size_t n = raw_sign(p256, vault, 32, der);
	to_raw(der, n, 32, raw);
	assert_int_equal(family_verify(p256, "P-256", d48, 48, raw, 64), CKR_OK);
	/* The padded 20-byte digest, on P-256 and P-521. */
	assert_int_equal(azkv_ecdsa_vault_digest(c256, d20, 20, vault), CKR_OK);
	n = raw_sign(p256, vault, 32, der);
	to_raw(der, n, 32, raw);
	assert_int_equal(family_verify(p256, "P-256", d20, 20, raw, 64), CKR_OK);
	assert_int_equal(azkv_ecdsa_vault_digest(c521, d20, 20, vault), CKR_OK);
	n = raw_sign(p521, vault, 64, der);
	to_raw(der, n, 66, raw);
	assert_int_equal(family_verify(p521, "P-521", d20, 20, raw, 132), CKR_OK);

	assert_int_equal(family_verify(p521, "P-521", d20, 20, raw, 131), CKR_SIGNATURE_LEN_RANGE);
	raw[10] ^= 1;
	assert_int_equal(family_verify(p521, "P-521", d20, 20, raw, 132), CKR_SIGNATURE_INVALID);
	assert_int_equal(family_verify(p521, "P-192", d20, 20, raw, 132),
	                 CKR_KEY_TYPE_INCONSISTENT);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p521);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_curves_and_algs),
	        cmocka_unit_test(test_secp256k1_is_one_row_everywhere),
	        cmocka_unit_test(test_vault_digest_is_cut_or_padded),
	        cmocka_unit_test(test_vault_signature_is_normalised),
	        cmocka_unit_test(test_der_round_trip),
	        cmocka_unit_test(test_cut_and_padded_digests_sign_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
