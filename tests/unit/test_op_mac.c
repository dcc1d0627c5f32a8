/* HMAC and AES-CMAC (op_mac.c) with published vectors: RFC 4493 section 4
 * (AES-128 CMAC, examples 1-4) and NIST SP 800-38B appendix D.3 (AES-256
 * CMAC, examples 9-12); RFC 4231 section 4 (HMAC-SHA-224/256/384/512, test
 * cases 1, 2, 6 and the truncated case 5 with the _GENERAL mechanisms)
 * and RFC 2202 section 3 (HMAC-SHA-1, test case 1). Signing single- and
 * multi-part, verifying (constant-time compare, wrong MAC, wrong length),
 * PKCS#11's length rules and the _GENERAL parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_fixture.h"
#include "op_mac.h"

static const azkv_op_ops *ops = &azkv_mac_ops;

/* A test vector: mechanism, key and data in hex (data as text when
 * text), the MAC in hex (its length is the MAC's). */
typedef struct vector {
	const char *source;
	CK_MECHANISM_TYPE type;
	CK_KEY_TYPE key_type;
	const char *key;
	const char *data;
	int text;
	const char *mac;
} vector;

#define AES128 "2b7e151628aed2a6abf7158809cf4f3c"
#define AES256 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
#define MSG64                                                                                      \
	"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"                         \
	"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
#define K0B20 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define K0C20 "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
#define KAA131                                                                                     \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                         \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                         \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                         \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                         \
	"aaaaaa" /* 131 bytes */
#define CASE6 "Test Using Larger Than Block-Size Key - Hash Key First"

static const vector vectors[] = {
        {"RFC 4493 example 1", CKM_AES_CMAC, CKK_AES, AES128, "", 0,
         "bb1d6929e95937287fa37d129b756746"},
        {"RFC 4493 example 2", CKM_AES_CMAC, CKK_AES, AES128, "6bc1bee22e409f96e93d7e117393172a", 0,
         "070a16b46b4d4144f79bdd9dd04a287c"},
        {"RFC 4493 example 3", CKM_AES_CMAC, CKK_AES, AES128,
         "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411", 0,
         "dfa66747de9ae63030ca32611497c827"},
        {"RFC 4493 example 4", CKM_AES_CMAC, CKK_AES, AES128, MSG64, 0,
         "51f0bebf7e3b9d92fc49741779363cfe"},
        {"SP 800-38B D.3 example 9", CKM_AES_CMAC, CKK_AES, AES256, "", 0,
         "028962f61b7bf89efc6b551f4667d983"},
        {"SP 800-38B D.3 example 10", CKM_AES_CMAC, CKK_AES, AES256,
         "6bc1bee22e409f96e93d7e117393172a", 0, "28a7023f452e8f82bd4bf28d8c37c35c"},
        {"SP 800-38B D.3 example 12", CKM_AES_CMAC, CKK_AES, AES256, MSG64, 0,
         "e1992190549f6ed5696a2c056c315410"},
        {"RFC 2202 HMAC-SHA-1 test case 1", CKM_SHA_1_HMAC, CKK_GENERIC_SECRET, K0B20, "Hi There",
         1, "b617318655057264e28bc0b6fb378c8ef146be00"},
        {"RFC 4231 test case 1 SHA-224", CKM_SHA224_HMAC, CKK_GENERIC_SECRET, K0B20, "Hi There", 1,
         "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"},
        {"RFC 4231 test case 1 SHA-256", CKM_SHA256_HMAC, CKK_GENERIC_SECRET, K0B20, "Hi There", 1,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"RFC 4231 test case 1 SHA-384", CKM_SHA384_HMAC, CKK_GENERIC_SECRET, K0B20, "Hi There", 1,
         "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
         "faea9ea9076ede7f4af152e8b2fa9cb6"},
        {"RFC 4231 test case 1 SHA-512", CKM_SHA512_HMAC, CKK_GENERIC_SECRET, K0B20, "Hi There", 1,
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
         "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
        {"RFC 4231 test case 2 SHA-256", CKM_SHA256_HMAC, CKK_GENERIC_SECRET, "4a656665",
         "what do ya want for nothing?", 1,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"RFC 4231 test case 5 SHA-256 (128 bits)", CKM_SHA256_HMAC_GENERAL, CKK_GENERIC_SECRET,
         K0C20, "Test With Truncation", 1, "a3b6167473100ee06e0c796c2955552b"},
        {"RFC 4231 test case 5 SHA-384 (128 bits)", CKM_SHA384_HMAC_GENERAL, CKK_GENERIC_SECRET,
         K0C20, "Test With Truncation", 1, "3abf34c3503b2a23a46efc619baef897"},
        {"RFC 4231 test case 5 SHA-512 (128 bits)", CKM_SHA512_HMAC_GENERAL, CKK_GENERIC_SECRET,
         K0C20, "Test With Truncation", 1, "415fad6271580a531d4179bc891d87a6"},
        {"RFC 4231 test case 6 SHA-256", CKM_SHA256_HMAC, CKK_GENERIC_SECRET, KAA131, CASE6, 1,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"RFC 4231 test case 6 SHA-384", CKM_SHA384_HMAC, CKK_GENERIC_SECRET, KAA131, CASE6, 1,
         "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
         "0c2ef6ab4030fe8296248df163f44952"},
        {"RFC 4231 test case 6 SHA-512", CKM_SHA512_HMAC, CKK_GENERIC_SECRET, KAA131, CASE6, 1,
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
         "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
};

/* One vector's bytes. */
typedef struct loaded {
	unsigned char key[256], data[256], mac[64];
	size_t key_len, data_len, mac_len;
	azkv_object obj;
	CK_ULONG general; /* CK_MAC_GENERAL_PARAMS */
	CK_MECHANISM m;
} loaded;

static void load(const vector *v, loaded *l)
{
	l->key_len = unhex(v->key, l->key);
	if (v->text) {
		l->data_len = strlen(v->data);
		memcpy(l->data, v->data, l->data_len);
	} else {
		l->data_len = unhex(v->data, l->data);
	}
	l->mac_len = unhex(v->mac, l->mac);
	aes_key(&l->obj, l->key, l->key_len);
	l->obj.key_type = v->key_type;
	l->general = l->mac_len;
	l->m.mechanism = v->type;
	l->m.pParameter = &l->general;
	l->m.ulParameterLen = sizeof(l->general);
}

static void *start(const loaded *l, azkv_op_kind kind)
{
	void *ctx = NULL;
	assert_int_equal(ops->init(&ctx, azkv_mech_find(l->m.mechanism), &l->m, &l->obj, kind),
	                 CKR_OK);
	return ctx;
}

/* Signs in parts of step (0: single-part), with a length query and a
 * short buffer before the final; returns the MAC's length. */
static CK_ULONG sign(const loaded *l, size_t step, unsigned char *out)
{
	void *ctx = start(l, AZKV_OPER_SIGN);
	CK_ULONG n = 0;
	CK_RV (*finish)(void *, unsigned char *, CK_ULONG *) = ops->final;
	if (step == 0) {
		assert_int_equal(ops->run(ctx, l->data, l->data_len, NULL, &n), CKR_OK);
		assert_int_equal(n, l->mac_len);
		n--;
		assert_int_equal(ops->run(ctx, l->data, l->data_len, out, &n),
		                 CKR_BUFFER_TOO_SMALL);
		n = 64;
		assert_int_equal(ops->run(ctx, l->data, l->data_len, out, &n), CKR_OK);
		ops->free(ctx);
		return n;
	}
	for (size_t i = 0; i < l->data_len; i += step) {
		size_t part = l->data_len - i < step ? l->data_len - i : step;
		assert_int_equal(ops->update(ctx, l->data + i, part, NULL, NULL), CKR_OK);
	}
	assert_int_equal(finish(ctx, NULL, &n), CKR_OK);
	assert_int_equal(n, l->mac_len);
	n--;
	assert_int_equal(finish(ctx, out, &n), CKR_BUFFER_TOO_SMALL);
	n = 64;
	assert_int_equal(finish(ctx, out, &n), CKR_OK);
	ops->free(ctx);
	return n;
}

/* Verifies sig (sig_len bytes) over the vector's data, single-part or in
 * parts of step. */
static CK_RV verify(const loaded *l, size_t step, const unsigned char *sig, CK_ULONG sig_len)
{
	void *ctx = start(l, AZKV_OPER_VERIFY);
	unsigned char copy[64];
	memcpy(copy, sig, sig_len);
	CK_RV rv;
	if (step == 0) {
		rv = ops->run(ctx, l->data, l->data_len, copy, &sig_len);
	} else {
		for (size_t i = 0; i < l->data_len; i += step) {
			size_t part = l->data_len - i < step ? l->data_len - i : step;
			assert_int_equal(ops->update(ctx, l->data + i, part, NULL, NULL), CKR_OK);
		}
		rv = ops->final(ctx, copy, &sig_len);
	}
	ops->free(ctx);
	return rv;
}

static void test_published_vectors(void **state)
{
	static const size_t steps[] = {0, 1, 7, 16, 17, 100};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		loaded l;
		unsigned char out[64];
		print_message("%s\n", vectors[i].source);
		load(&vectors[i], &l);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			memset(out, 0, sizeof(out));
			assert_int_equal(sign(&l, steps[s], out), l.mac_len);
			assert_memory_equal(out, l.mac, l.mac_len);
			assert_int_equal(verify(&l, steps[s], l.mac, l.mac_len), CKR_OK);
		}
	}
}

/* A MAC off by one bit anywhere is invalid; one of the wrong length is
 * CKR_SIGNATURE_LEN_RANGE, single- and multi-part. */
static void test_verify_refuses_wrong_macs(void **state)
{
	loaded l;
	load(&vectors[9], &l); /* RFC 4231 test case 1, SHA-256 */
	unsigned char bad[64];
	for (size_t bit = 0; bit < 8 * l.mac_len; bit += 13) {
		memcpy(bad, l.mac, l.mac_len);
		bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		assert_int_equal(verify(&l, 0, bad, l.mac_len), CKR_SIGNATURE_INVALID);
		assert_int_equal(verify(&l, 3, bad, l.mac_len), CKR_SIGNATURE_INVALID);
	}
	assert_int_equal(verify(&l, 0, l.mac, l.mac_len - 1), CKR_SIGNATURE_LEN_RANGE);
	assert_int_equal(verify(&l, 5, l.mac, l.mac_len - 1), CKR_SIGNATURE_LEN_RANGE);
	assert_int_equal(verify(&l, 0, l.mac, 0), CKR_SIGNATURE_LEN_RANGE);
	/* The _GENERAL form checks the length it was given. */
	load(&vectors[13], &l); /* RFC 4231 test case 5, SHA-256, 16 bytes */
	assert_int_equal(verify(&l, 0, l.mac, 16), CKR_OK);
	assert_int_equal(verify(&l, 0, l.mac, 32), CKR_SIGNATURE_LEN_RANGE);
}

/* CK_MAC_GENERAL_PARAMS: 1 to the MAC's full length. */
static void test_general_length_parameter(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE type;
		CK_ULONG full;
	} general[] = {{CKM_AES_CMAC_GENERAL, 16},    {CKM_SHA_1_HMAC_GENERAL, 20},
	               {CKM_SHA224_HMAC_GENERAL, 28}, {CKM_SHA256_HMAC_GENERAL, 32},
	               {CKM_SHA384_HMAC_GENERAL, 48}, {CKM_SHA512_HMAC_GENERAL, 64}};
	unsigned char key[32] = {0};
	azkv_object obj;
	aes_key(&obj, key, 32);
	for (size_t i = 0; i < sizeof(general) / sizeof(general[0]); i++) {
		const azkv_mech *mech = azkv_mech_find(general[i].type);
		CK_ULONG len = 0;
		CK_MECHANISM m = {general[i].type, &len, sizeof(len)};
		void *ctx = NULL;
		assert_non_null(mech);
		assert_int_equal(ops->init(&ctx, mech, &m, &obj, AZKV_OPER_SIGN),
		                 CKR_MECHANISM_PARAM_INVALID);
		len = general[i].full + 1;
		assert_int_equal(ops->init(&ctx, mech, &m, &obj, AZKV_OPER_SIGN),
		                 CKR_MECHANISM_PARAM_INVALID);
		m.ulParameterLen = sizeof(len) - 1;
		len = 1;
		assert_int_equal(ops->init(&ctx, mech, &m, &obj, AZKV_OPER_SIGN),
		                 CKR_MECHANISM_PARAM_INVALID);
		m.pParameter = NULL;
		m.ulParameterLen = 0;
		assert_int_equal(ops->init(&ctx, mech, &m, &obj, AZKV_OPER_SIGN),
		                 CKR_MECHANISM_PARAM_INVALID);
		/* 1 and the full length: the MAC's first bytes. */
		for (CK_ULONG want = 1; want <= general[i].full; want += general[i].full - 1) {
			unsigned char out[64];
			CK_ULONG n = sizeof(out);
			len = want;
			m.pParameter = &len;
			m.ulParameterLen = sizeof(len);
			assert_int_equal(ops->init(&ctx, mech, &m, &obj, AZKV_OPER_SIGN), CKR_OK);
			assert_int_equal(ops->run(ctx, key, 5, out, &n), CKR_OK);
			assert_int_equal(n, want);
			ops->free(ctx);
		}
	}
}

/* wipe (a forked child's copy of the state) clears the key the state
 * holds: a MAC made after it is not the key's. */
static void test_wipe_clears_the_key(void **state)
{
	loaded l;
	unsigned char out[64];
	CK_ULONG n = sizeof(out);
	load(&vectors[17], &l); /* RFC 4231 test case 6: a 131-byte key */
	void *ctx = start(&l, AZKV_OPER_SIGN);
	ops->wipe(ctx);
	assert_int_equal(ops->run(ctx, l.data, l.data_len, out, &n), CKR_OK);
	assert_int_equal(n, l.mac_len);
	assert_memory_not_equal(out, l.mac, l.mac_len);
	ops->free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_published_vectors),
	        cmocka_unit_test(test_verify_refuses_wrong_macs),
	        cmocka_unit_test(test_general_length_parameter),
	        cmocka_unit_test(test_wipe_clears_the_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
