/* CKM_AES_CBC_PAD: the NIST SP 800-38A vectors, multi-part equal to
 * single-part for every split, PKCS#11's length rules, bad padding and
 * bad lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_fixture.h"
#include "op_aes_cbc.h"

static const azkv_op_ops *ops = &azkv_aes_cbc_pad_ops;
static unsigned char KEY[32], IV[16], PT[64], CT[64];

static int setup(void **state)
{
	unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", KEY);
	unhex("000102030405060708090a0b0c0d0e0f", IV);
	unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	      PT);
	unhex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	      "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
	      CT);
	return 0;
}

static void *start(int encrypt)
{
	azkv_object key;
	CK_MECHANISM m = {CKM_AES_CBC_PAD, IV, 16};
	void *ctx = NULL;
	aes_key(&key, KEY, 32);
	assert_int_equal(family_init(ops, &ctx, &m, &key, encrypt), CKR_OK);
	return ctx;
}

static CK_ULONG run(int encrypt, const unsigned char *in, CK_ULONG len, unsigned char *out,
                    CK_RV want)
{
	void *ctx = start(encrypt);
	CK_ULONG out_len = 200;
	assert_int_equal(ops->run(ctx, in, len, out, &out_len), want);
	ops->free(ctx);
	return out_len;
}

static void test_known_answer(void **state)
{
	unsigned char out[200], back[200];
	assert_int_equal(run(1, PT, 64, out, CKR_OK), 80);
	assert_memory_equal(out, CT, 64);
	assert_int_equal(run(0, out, 80, back, CKR_OK), 64);
	assert_memory_equal(back, PT, 64);
}

/* In parts of step, with a length query before each. */
static CK_ULONG parts(int encrypt, const unsigned char *in, CK_ULONG len, CK_ULONG step,
                      unsigned char *out)
{
	void *ctx = start(encrypt);
	CK_ULONG done = 0, n, want;
	for (CK_ULONG i = 0; i < len; i += step) {
		CK_ULONG part = len - i < step ? len - i : step;
		assert_int_equal(ops->update(ctx, in + i, part, NULL, &want), CKR_OK);
		if (want > 0) {
			n = want - 1;
			assert_int_equal(ops->update(ctx, in + i, part, out + done, &n),
			                 CKR_BUFFER_TOO_SMALL);
			assert_int_equal(n, want);
		}
		n = want;
		assert_int_equal(ops->update(ctx, in + i, part, out + done, &n), CKR_OK);
		assert_int_equal(n, want);
		done += n;
	}
	assert_int_equal(ops->final(ctx, NULL, &want), CKR_OK);
	n = 200;
	assert_int_equal(ops->final(ctx, out + done, &n), CKR_OK);
	assert_int_equal(n, want);
	ops->free(ctx);
	return done + n;
}

static void test_multi_part_equals_single_part(void **state)
{
	static const CK_ULONG steps[] = {1, 3, 15, 16, 17, 33, 100};
	unsigned char one[200], many[200], back[200];
	for (CK_ULONG len = 0; len <= 64; len++) {
		CK_ULONG n = run(1, PT, len, one, CKR_OK);
		assert_int_equal(n, (len / 16 + 1) * 16);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			assert_int_equal(parts(1, PT, len, steps[i], many), n);
			assert_memory_equal(many, one, n);
			assert_int_equal(parts(0, one, n, steps[i], back), len);
			assert_memory_equal(back, PT, len);
		}
	}
}

static void test_length_rules(void **state)
{
	unsigned char out[200];
	void *ctx = start(1);
	CK_ULONG n = 0;
	assert_int_equal(ops->run(ctx, PT, 33, NULL, &n), CKR_OK);
	assert_int_equal(n, 48);
	n = 47;
	assert_int_equal(ops->run(ctx, PT, 33, out, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 48);
	ops->free(ctx);

	/* Decryption: the exact length, even from a query. */
	CK_ULONG ct_len = run(1, PT, 20, out, CKR_OK);
	unsigned char back[200];
	ctx = start(0);
	n = 0;
	assert_int_equal(ops->run(ctx, out, ct_len, NULL, &n), CKR_OK);
	assert_int_equal(n, 20);
	n = 19;
	assert_int_equal(ops->run(ctx, out, ct_len, back, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 20);
	n = 20;
	assert_int_equal(ops->run(ctx, out, ct_len, back, &n), CKR_OK);
	assert_memory_equal(back, PT, 20);
	ops->free(ctx);
}

static void test_bad_input(void **state)
{
	unsigned char out[200], back[200];
	run(0, CT, 17, back, CKR_ENCRYPTED_DATA_LEN_RANGE);
	run(0, CT, 0, back, CKR_ENCRYPTED_DATA_LEN_RANGE);
	/* The first block of a two-block encryption of 16 bytes ends in 0x0f
	 * after a non-0x0f byte: bad padding, deterministically. */
	unsigned char sixteen[16];
	for (int i = 0; i < 16; i++)
		sixteen[i] = (unsigned char)i;
	run(1, sixteen, 16, out, CKR_OK);
	run(0, out, 16, back, CKR_ENCRYPTED_DATA_INVALID);

	void *ctx = start(0);
	CK_ULONG n = 200;
	assert_int_equal(ops->update(ctx, CT, 20, back, &n), CKR_OK);
	assert_int_equal(n, 16);
	n = 200;
	assert_int_equal(ops->final(ctx, back, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
	ops->free(ctx);
	ctx = start(0);
	n = 200;
	assert_int_equal(ops->final(ctx, back, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
	ops->free(ctx);

	azkv_object key;
	CK_MECHANISM m = {CKM_AES_CBC_PAD, IV, 8};
	aes_key(&key, KEY, 32);
	assert_int_equal(family_init(ops, &ctx, &m, &key, 1), CKR_MECHANISM_PARAM_INVALID);
	/* The key's type is the frame's check: azkv_key_check (test_mech). */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_answer),
	        cmocka_unit_test(test_multi_part_equals_single_part),
	        cmocka_unit_test(test_length_rules),
	        cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
