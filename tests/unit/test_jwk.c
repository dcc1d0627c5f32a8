/* JWKs as Key Vault returns them: recorded keys and keys generated here
 * with OpenSSL become the right EVP_PKEY; key_ops parse; bad JWKs fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "jwk.h"

/* Recorded keys (tests/recordings), verbatim. */
static const char rsa_2018[] =
        "{\"kid\":\"https://tifchen-keyvault-fancy.vault.azure.net/keys/javaKey/"
        "455c7272682d4de689881f179e63e20b\",\"kty\":\"RSA\",\"key_ops\":[\"encrypt\",\"decrypt\","
        "\"sign\",\"verify\",\"wrapKey\",\"unwrapKey\"],\"n\":\"qku3i9yaW1__0KD9WU8RYfR8BNea95TPuoE"
        "YwMQwp6iiPjS7UeVJIkbRskI_9A9S54xK-t8eZbCNGnTgEF4fFWu6s1CSxnAx3iOvxwpoB5nxgMWuMIHsjUfDbG"
        "GqHLrf7wH_nFpXyt_W5PqR095ujz4967fOoVwY04SXa3tTxGAxRve4sABMi5sZ2lT1sSaf-ItwEjs9ntCL5eV4P"
        "YAF4xzqUgWxZc0pjUegCqnfNDnmTGM88t7TH72EqjCoB2tkcSoETer107aGteEmzGOEERFVFVvzyrSRsoiBmvCj"
        "sYkyv4gnicnE1-tZeW6-7GU5cxMm_f-RMGJwdsgH6yZVxQ\",\"e\":\"AQAB\"}";

static const char rsa_hsm_2018[] =
        "{\"kid\":\"https://tifchen-keyvault-fancy.vault.azure.net/keys/javaKey/"
        "67e41a759268430385285661e21cd3d8\",\"kty\":\"RSA-HSM\",\"key_ops\":[\"encrypt\","
        "\"decrypt\"],\"n\":\"1_6ZtP288hEkKML-L6nFyZh1PD1rmAgwbbwjEvTSDK_008BYWhjp_6ULy9BhWtRIytN"
        "kPkm9gzaBTrCpp-vyDXPGa836Htp-w8u5JmxoUZchJh576m3m-8ZYWTmZSAp5SpruyKAmLSxPJHEWPXQntnmuT"
        "Mjb9HBT9Ltrwc0ZDk-jsMLYunDJrNmrRUxQgb0zQ_Tl5fJjj8j-0KVx2RXtbfWFvf5fRdBYyP3m0aUpoopQPwt"
        "XszD2LcSKMJ_TnmnvMWr8MOA5aRlBaGdBk7zBgRafvDPam3Q2AvFA9mfcAVncpfZ3JFm73VARw6MofXtRqOHtZ"
        "7y4oNbY95xXwU2r6w\",\"e\":\"AQAB\"}";

/* ImportKey.json: an RSA key that also carries a stray "crv". */
static const char rsa_with_crv_2022[] =
        "{\"kid\":\"https://cpp-recordings.vault.azure.net/keys/ImportKey/"
        "de3ffb37989c48daac7588c3b424cc07\",\"kty\":\"RSA\",\"key_ops\":[\"sign\"],\"n\":\"nKAwarT"
        "rOpzd1hhH4cQNdVTgRF-b0ubPD8ZNVf0UXjb62QuAk3Dn68ESThcF7SoDYRx2QVcfoMC9WCcuQUQDieJF-lvJTS"
        "er1TwH72NBovwKlHvrXqEI0a6_uVYY5n-soGt7qFZNbwQLdWWA6PrbqTLIkv6r01dcuhTiQQAn6OWEa0JbFvWfF"
        "1kILQIaSBBBaaQ4R7hZs7-VQTHGD7J1xGteof4gw2VTiwNdcE8p5UG5b6S9KQwAeET4yB4KFPwQ3TDdzxJQ89mw"
        "YVi_sgAIggN54hTq4oEKYJHBOMtFGIN0_HQ60ZSUnpOi87xNC-8VFqnv4rfTQ7nkK6XMvjMVfw\",\"e\":"
        "\"AQAB\",\"crv\":\"P-521\"}";

static const char ec_p256_2022[] =
        "{\"kid\":\"https://cpp-recordings.vault.azure.net/keys/BackupKey/"
        "67f92ccfe2604da68380647d043143e2\",\"kty\":\"EC\",\"key_ops\":[\"sign\",\"verify\"],"
        "\"crv\":\"P-256\",\"x\":\"syOqDVICauAXpT5ztl70OJ4WdW-l6OVzKnmxygBV62U\",\"y\":"
        "\"XqCXgFJx9OXWCx3QiCIkuyYHKbTtmtZiCbX3Z5wA1RM\"}";

static const char ec_hsm_p256_2022[] =
        "{\"crv\":\"P-256\",\"key_ops\":[\"sign\"],\"kid\":\"https://REDACTED.managedhsm.azure.net/"
        "keys/CreateEcHsmKey/35e07b4fbcdd0260137ee5100b599ff8\",\"kty\":\"EC-HSM\",\"x\":"
        "\"kPFWxfwG14icL_Xhy0YB_mlVUgbuxQgS_c9xVlNd-vk\",\"y\":\"G1T3lEneG7ZyQi0gxYJU5ezJt9u8DtKyh"
        "JYqxyg78X0\"}";

static const char ec_p384_2022[] =
        "{\"kid\":\"https://cpp-recordings.vault.azure.net/keys/CreateEcKeyWithCurve/"
        "382a72313962425cafa61038727600a5\",\"kty\":\"EC\",\"key_ops\":[\"sign\",\"verify\"],"
        "\"crv\":\"P-384\",\"x\":\"7j5WN1Ja3yQ7qaSK7bl40cHHctzE_vW7XUk4BCO6isvpqAyzlFuKWm1G-yz6e12"
        "2\",\"y\":\"ZsUc8xxUObR7dH3jSqhgm6Q-VgQe78QjNTOUHgHLhNmr3dw20VNMyo9Sl53SFhmL\"}";

static const char ec_p256k_2022[] =
        "{\"kid\":\"https://REDACTED.vault.azure.net/keys/RemoteSignVerifyES256/"
        "968f11d1b2bc49cf944757c585fe2002\",\"kty\":\"EC\",\"key_ops\":[\"sign\",\"verify\"],"
        "\"crv\":\"P-256K\",\"x\":\"DD0oKGw3EmYdj_rQiqMZ8AETTwkUum8oueB_nXPB8RI\",\"y\":"
        "\"6C186Xwwl1byO1yFW8DzJC9mI0_r7lLj_qIoOpvDFB4\"}";

static void parse_text(const char *json, azkv_jwk *jwk)
{
	cJSON *obj = cJSON_Parse(json);
	azkv_err err;

	assert_non_null(obj);
	if (azkv_jwk_parse(obj, jwk, &err) != AZKV_OK)
		fail_msg("JWK refused: %s", err.message);
	cJSON_Delete(obj);
}

static EVP_PKEY *to_pkey(const azkv_jwk *jwk)
{
	EVP_PKEY *pkey = NULL;
	azkv_err err;

	if (azkv_jwk_to_pkey(jwk, &pkey, &err) != AZKV_OK)
		fail_msg("to_pkey failed: %s", err.message);
	assert_non_null(pkey);
	return pkey;
}

static void assert_group(EVP_PKEY *pkey, const char *group, int bits)
{
	char name[64];

	assert_true(EVP_PKEY_is_a(pkey, "EC"));
	assert_int_equal(EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name,
	                                                sizeof(name), NULL),
	                 1);
	assert_string_equal(name, group);
	assert_int_equal(EVP_PKEY_get_bits(pkey), bits);
}

static void recorded_rsa_key_becomes_rsa_2048_with_all_ops(void **state)
{
	azkv_jwk jwk;
	EVP_PKEY *pkey;

	(void)state;
	parse_text(rsa_2018, &jwk);
	assert_int_equal(jwk.kty, AZKV_KTY_RSA);
	assert_int_equal(jwk.hsm, 0);
	assert_string_equal(jwk.kty_name, "RSA");
	assert_string_equal(jwk.kid, "https://tifchen-keyvault-fancy.vault.azure.net/keys/"
	                             "javaKey/455c7272682d4de689881f179e63e20b");
	assert_null(jwk.crv);
	assert_int_equal(jwk.n.len, 256);
	assert_int_equal(jwk.e.len, 3);
	assert_int_equal(jwk.key_ops, AZKV_OP_ENCRYPT | AZKV_OP_DECRYPT | AZKV_OP_SIGN |
	                                      AZKV_OP_VERIFY | AZKV_OP_WRAP_KEY |
	                                      AZKV_OP_UNWRAP_KEY);
	pkey = to_pkey(&jwk);
	assert_true(EVP_PKEY_is_a(pkey, "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(pkey), 2048);
	EVP_PKEY_free(pkey);
	azkv_jwk_free(&jwk);
	assert_null(jwk.kid);
}

static void recorded_rsa_hsm_key_is_rsa_with_hsm_flag(void **state)
{
	azkv_jwk jwk;
	EVP_PKEY *pkey;

	(void)state;
	parse_text(rsa_hsm_2018, &jwk);
	assert_int_equal(jwk.kty, AZKV_KTY_RSA);
	assert_int_equal(jwk.hsm, 1);
	assert_string_equal(jwk.kty_name, "RSA-HSM");
	assert_int_equal(jwk.key_ops, AZKV_OP_ENCRYPT | AZKV_OP_DECRYPT);
	pkey = to_pkey(&jwk);
	assert_int_equal(EVP_PKEY_get_bits(pkey), 2048);
	EVP_PKEY_free(pkey);
	azkv_jwk_free(&jwk);
}

static void stray_crv_on_an_rsa_key_is_ignored(void **state)
{
	azkv_jwk jwk;
	EVP_PKEY *pkey;

	(void)state;
	parse_text(rsa_with_crv_2022, &jwk);
	assert_int_equal(jwk.kty, AZKV_KTY_RSA);
	assert_null(jwk.crv);
	assert_int_equal(jwk.key_ops, AZKV_OP_SIGN);
	pkey = to_pkey(&jwk);
	assert_true(EVP_PKEY_is_a(pkey, "RSA"));
	EVP_PKEY_free(pkey);
	azkv_jwk_free(&jwk);
}

static void recorded_ec_keys_get_the_right_curve(void **state)
{
	static const struct {
		const char *json;
		const char *crv, *group;
		int bits, hsm;
	} keys[] = {
	        {ec_p256_2022, "P-256", "prime256v1", 256, 0},
	        {ec_hsm_p256_2022, "P-256", "prime256v1", 256, 1},
	        {ec_p384_2022, "P-384", "secp384r1", 384, 0},
	        {ec_p256k_2022, "P-256K", "secp256k1", 256, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		azkv_jwk jwk;
		EVP_PKEY *pkey;

		parse_text(keys[i].json, &jwk);
		assert_int_equal(jwk.kty, AZKV_KTY_EC);
		assert_int_equal(jwk.hsm, keys[i].hsm);
		assert_string_equal(jwk.crv, keys[i].crv);
		assert_true(jwk.key_ops & AZKV_OP_SIGN);
		pkey = to_pkey(&jwk);
		assert_group(pkey, keys[i].group, keys[i].bits);
		EVP_PKEY_free(pkey);
		azkv_jwk_free(&jwk);
	}
}

/* Builds the JWK text of a generated public key; strip drops leading
 * zero bytes of the numbers as a lax producer would. */
static char *jwk_of(EVP_PKEY *pkey, const char *crv, int strip)
{
	char *json = malloc(4096);
	char *a = NULL, *b = NULL;

	assert_non_null(json);
	if (!crv) {
		BIGNUM *n = NULL, *e = NULL;
		unsigned char nb[1024], eb[16];
		int nl, el;

		assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e), 1);
		nl = BN_bn2bin(n, nb);
		el = BN_bn2bin(e, eb);
		a = azkv_b64url_encode(nb, (size_t)nl);
		b = azkv_b64url_encode(eb, (size_t)el);
		snprintf(json, 4096,
		         "{\"kty\":\"RSA-HSM\",\"key_ops\":[\"wrapKey\"],\"n\":\"%s\","
		         "\"e\":\"%s\"}",
		         a, b);
		BN_free(n);
		BN_free(e);
	} else {
		unsigned char pub[200];
		size_t len = 0, flen, xo = 0, yo = 0;

		assert_int_equal(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub,
		                                                 sizeof(pub), &len),
		                 1);
		assert_int_equal(pub[0], 0x04);
		flen = (len - 1) / 2;
		while (strip && xo < flen - 1 && pub[1 + xo] == 0)
			xo++;
		while (strip && yo < flen - 1 && pub[1 + flen + yo] == 0)
			yo++;
		a = azkv_b64url_encode(pub + 1 + xo, flen - xo);
		b = azkv_b64url_encode(pub + 1 + flen + yo, flen - yo);
		snprintf(json, 4096,
		         "{\"kty\":\"EC\",\"key_ops\":[\"sign\",\"verify\"],\"crv\":\"%s\","
		         "\"x\":\"%s\",\"y\":\"%s\"}",
		         crv, a, b);
	}
	free(a);
	free(b);
	return json;
}

static void generated_keys_round_trip_to_the_same_public_key(void **state)
{
	static const struct {
		const char *type;
		const char *group; /* NULL for RSA */
		const char *crv;
		int bits;
	} gens[] = {
	        {"RSA", NULL, NULL, 2048},     {"RSA", NULL, NULL, 3072},
	        {"EC", "P-256", "P-256", 256}, {"EC", "P-384", "P-384", 384},
	        {"EC", "P-521", "P-521", 521}, {"EC", "secp256k1", "P-256K", 256},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		for (int strip = 0; strip < 2; strip++) {
			EVP_PKEY *gen = gens[i].group
			                        ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", gens[i].group)
			                        : EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
			                                            (size_t)gens[i].bits);
			char *text;
			azkv_jwk jwk;
			EVP_PKEY *pkey;

			assert_non_null(gen);
			text = jwk_of(gen, gens[i].crv, strip);
			parse_text(text, &jwk);
			pkey = to_pkey(&jwk);
			assert_int_equal(EVP_PKEY_get_bits(pkey), gens[i].bits);
			if (EVP_PKEY_eq(pkey, gen) != 1)
				fail_msg("%s %d: public key differs", gens[i].type, gens[i].bits);
			EVP_PKEY_free(pkey);
			EVP_PKEY_free(gen);
			azkv_jwk_free(&jwk);
			free(text);
		}
	}
}

static void key_ops_parse_known_names_and_ignore_unknown_ones(void **state)
{
	azkv_jwk jwk;

	(void)state;
	parse_text("{\"kty\":\"oct-HSM\",\"key_ops\":[\"wrapkey\",\"unwrapKey\",\"import\","
	           "\"export\",\"frobnicate\",42]}",
	           &jwk);
	assert_int_equal(jwk.kty, AZKV_KTY_OCT);
	assert_int_equal(jwk.hsm, 1);
	assert_int_equal(jwk.key_ops,
	                 AZKV_OP_WRAP_KEY | AZKV_OP_UNWRAP_KEY | AZKV_OP_IMPORT | AZKV_OP_EXPORT);
	azkv_jwk_free(&jwk);

	parse_text("{\"kty\":\"oct\"}", &jwk);
	assert_int_equal(jwk.key_ops, 0);
	assert_int_equal(jwk.hsm, 0);
	azkv_jwk_free(&jwk);

	assert_int_equal(azkv_key_op_from_name("encrypt"), AZKV_OP_ENCRYPT);
	assert_int_equal(azkv_key_op_from_name("decrypt"), AZKV_OP_DECRYPT);
	assert_int_equal(azkv_key_op_from_name("sign"), AZKV_OP_SIGN);
	assert_int_equal(azkv_key_op_from_name("verify"), AZKV_OP_VERIFY);
	assert_int_equal(azkv_key_op_from_name("wrapKey"), AZKV_OP_WRAP_KEY);
	assert_int_equal(azkv_key_op_from_name("unwrapKey"), AZKV_OP_UNWRAP_KEY);
	assert_int_equal(azkv_key_op_from_name("deriveKey"), 0);
	assert_int_equal(azkv_key_op_from_name(NULL), 0);
}

static void expect_parse_error(const char *json, const char *mention)
{
	cJSON *obj = json ? cJSON_Parse(json) : NULL;
	azkv_jwk jwk = {.kid = (char *)0x1};
	azkv_err err;

	assert_true(!json || obj);
	assert_int_equal(azkv_jwk_parse(obj, &jwk, &err), AZKV_ERR_PROTOCOL);
	assert_null(jwk.kid);
	assert_null(jwk.n.data);
	if (mention && !strstr(err.message, mention))
		fail_msg("\"%s\" does not mention %s", err.message, mention);
	cJSON_Delete(obj);
}

static void missing_or_bad_fields_are_protocol_errors(void **state)
{
	(void)state;
	expect_parse_error(NULL, "object");
	expect_parse_error("[]", "object");
	expect_parse_error("{\"n\":\"AQAB\",\"e\":\"AQAB\"}", "kty");
	expect_parse_error("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AQAB\"}", "OKP");
	expect_parse_error("{\"kty\":\"RSA-SOFT\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "RSA-SOFT");
	expect_parse_error("{\"kty\":7}", "kty");
	expect_parse_error("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", "\"n\"");
	expect_parse_error("{\"kty\":\"RSA\",\"n\":\"AQAB\"}", "\"e\"");
	expect_parse_error("{\"kty\":\"RSA\",\"n\":\"AQ+B\",\"e\":\"AQAB\"}", "base64url");
	expect_parse_error("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}", "\"n\"");
	expect_parse_error("{\"kty\":\"RSA\",\"n\":12,\"e\":\"AQAB\"}", "\"n\"");
	expect_parse_error("{\"kty\":\"EC\",\"x\":\"AQAB\",\"y\":\"AQAB\"}", "crv");
	expect_parse_error("{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"AQAB\"}", "\"x\"");
	expect_parse_error("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\"}", "\"y\"");
	expect_parse_error("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"key_ops\":\"sign\"}",
	                   "key_ops");
	expect_parse_error("{\"kty\":\"RSA\",\"kid\":5,\"n\":\"AQAB\",\"e\":\"AQAB\"}", "kid");
}

/* A JWK of an RSA key of the given modulus size, e = 65537. */
static char *rsa_jwk_of_bits(int bits)
{
	size_t len = (size_t)(bits + 7) / 8;
	unsigned char *n = calloc(1, len);
	char *b64, *json;
	size_t jlen;

	assert_non_null(n);
	n[0] = 0x80 >> ((8 - bits % 8) % 8); /* exactly bits bits */
	n[len - 1] |= 1;                     /* odd */
	b64 = azkv_b64url_encode(n, len);
	assert_non_null(b64);
	jlen = strlen(b64) + 64;
	json = malloc(jlen);
	assert_non_null(json);
	snprintf(json, jlen, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", b64);
	free(b64);
	free(n);
	return json;
}

static void rsa_modulus_outside_key_vault_sizes_is_refused(void **state)
{
	static const int bits[] = {512, 1024, 2047, 4097, 8192, 16384};
	azkv_jwk jwk;
	azkv_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		char *json = rsa_jwk_of_bits(bits[i]);
		EVP_PKEY *pkey = (EVP_PKEY *)0x1;

		parse_text(json, &jwk);
		if (azkv_jwk_to_pkey(&jwk, &pkey, &err) != AZKV_ERR_UNSUPPORTED)
			fail_msg("%d bits: want UNSUPPORTED, got %s (%s)", bits[i],
			         azkv_rc_name(err.rc), err.message);
		assert_null(pkey);
		assert_non_null(strstr(err.message, "RSA modulus"));
		azkv_jwk_free(&jwk);
		free(json);
	}
	/* A huge exponent is refused before any arithmetic. */
	parse_text("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQABAQABAQAB\"}", &jwk);
	assert_int_equal(azkv_jwk_to_pkey(&jwk, &(EVP_PKEY *){NULL}, &err), AZKV_ERR_UNSUPPORTED);
	azkv_jwk_free(&jwk);
}

static void to_pkey_refuses_what_it_cannot_build(void **state)
{
	static const struct {
		const char *json;
		azkv_rc rc;
	} cases[] = {
	        /* No public key for a symmetric key. */
	        {"{\"kty\":\"oct-HSM\"}", AZKV_ERR_UNSUPPORTED},
	        {"{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AQAB\",\"y\":\"AQAB\"}",
	         AZKV_ERR_UNSUPPORTED},
	        /* The recorded P-256 key with its y changed: not on the curve. */
	        {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"syOqDVICauAXpT5ztl70OJ4WdW-"
	         "l6OVzKnmxygBV62U\","
	         "\"y\":\"XqCXgFJx9OXWCx3QiCIkuyYHKbTtmtZiCbX3Z5wA1RQ\"}",
	         AZKV_ERR_CRYPTO},
	        /* A coordinate longer than the field. */
	        {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAsyOqDVICauAXpT5ztl70OJ4WdW-"
	         "l6OVzKnmxygBV62U\","
	         "\"y\":\"XqCXgFJx9OXWCx3QiCIkuyYHKbTtmtZiCbX3Z5wA1RM\"}",
	         AZKV_ERR_PROTOCOL},
	};
	char even[sizeof(rsa_2018)];
	azkv_jwk jwk;
	EVP_PKEY *pkey = (EVP_PKEY *)0x1;
	azkv_err err;

	(void)state;
	/* The recorded RSA key with the modulus's lowest bit cleared. */
	memcpy(even, rsa_2018, sizeof(even));
	memcpy(strstr(even, "6yZVxQ"), "6yZVxA", 6);
	parse_text(even, &jwk);
	assert_int_equal(azkv_jwk_to_pkey(&jwk, &pkey, &err), AZKV_ERR_CRYPTO);
	assert_null(pkey);
	azkv_jwk_free(&jwk);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pkey = (EVP_PKEY *)0x1;
		parse_text(cases[i].json, &jwk);
		if (azkv_jwk_to_pkey(&jwk, &pkey, &err) != cases[i].rc)
			fail_msg("case %zu: want %s, got %s (%s)", i, azkv_rc_name(cases[i].rc),
			         azkv_rc_name(err.rc), err.message);
		assert_null(pkey);
		azkv_jwk_free(&jwk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(recorded_rsa_key_becomes_rsa_2048_with_all_ops),
	        cmocka_unit_test(recorded_rsa_hsm_key_is_rsa_with_hsm_flag),
	        cmocka_unit_test(stray_crv_on_an_rsa_key_is_ignored),
	        cmocka_unit_test(recorded_ec_keys_get_the_right_curve),
	        cmocka_unit_test(generated_keys_round_trip_to_the_same_public_key),
	        cmocka_unit_test(key_ops_parse_known_names_and_ignore_unknown_ones),
	        cmocka_unit_test(missing_or_bad_fields_are_protocol_errors),
	        cmocka_unit_test(to_pkey_refuses_what_it_cannot_build),
	        cmocka_unit_test(rsa_modulus_outside_key_vault_sizes_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
