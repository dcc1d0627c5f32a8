/* CKM_AES_GCM: a NIST vector, multi-part equal to single-part, and
 * decryption that releases nothing before the tag is checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_fixture.h"
#include "op_aes_gcm.h"

static const azkv_op_ops *ops = &azkv_aes_gcm_ops;

/* The GCM specification's test case 4 (AES-128, 60 bytes, 20 bytes of
 * AAD). */
static unsigned char KEY[16], IV[12], PT[60], AAD[20], CT[60], TAG[16];

static int setup(void **state)
{
	unhex("feffe9928665731c6d6a8f9467308308", KEY);
	unhex("cafebabefacedbaddecaf888", IV);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	      PT);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", AAD);
	unhex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	      "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	      CT);
	unhex("5bc94fbc3221a5db94fae95ae7121a47", TAG);
	return 0;
}

static void *start(int encrypt)
{
	azkv_object key;
	CK_GCM_PARAMS gp = {IV, 12, 96, AAD, 20, 128};
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
	void *ctx = NULL;
	aes_key(&key, KEY, 16);
	assert_int_equal(family_init(ops, &ctx, &m, &key, encrypt), CKR_OK);
	return ctx;
}

static void test_known_answer_single_and_multi_part(void **state)
{
	unsigned char out[100];
	void *ctx = start(1);
	CK_ULONG n = sizeof(out);
	assert_int_equal(ops->run(ctx, PT, 60, out, &n), CKR_OK);
	assert_int_equal(n, 76);
	assert_memory_equal(out, CT, 60);
	assert_memory_equal(out + 60, TAG, 16);
	ops->free(ctx);

	for (CK_ULONG step = 1; step <= 61; step += 6) {
		ctx = start(1);
		CK_ULONG done = 0;
		for (CK_ULONG i = 0; i < 60; i += step) {
			CK_ULONG part = 60 - i < step ? 60 - i : step;
			n = 0;
			assert_int_equal(ops->update(ctx, PT + i, part, NULL, &n), CKR_OK);
			assert_int_equal(n, part);
			n = sizeof(out) - done;
			assert_int_equal(ops->update(ctx, PT + i, part, out + done, &n), CKR_OK);
			done += n;
		}
		n = 3;
		assert_int_equal(ops->final(ctx, out + done, &n), CKR_BUFFER_TOO_SMALL);
		assert_int_equal(n, 16);
		assert_int_equal(ops->final(ctx, out + done, &n), CKR_OK);
		assert_int_equal(done + n, 76);
		assert_memory_equal(out, CT, 60);
		assert_memory_equal(out + 60, TAG, 16);
		ops->free(ctx);
	}
}

static void test_decryption_waits_for_the_tag(void **state)
{
	unsigned char in[76], out[100];
	memcpy(in, CT, 60);
	memcpy(in + 60, TAG, 16);
	void *ctx = start(0);
	CK_ULONG n = sizeof(out);
	assert_int_equal(ops->update(ctx, in, 50, out, &n), CKR_OK);
	assert_int_equal(n, 0);
	n = sizeof(out);
	assert_int_equal(ops->update(ctx, in + 50, 26, out, &n), CKR_OK);
	assert_int_equal(n, 0);
	n = 0;
	assert_int_equal(ops->final(ctx, NULL, &n), CKR_OK);
	assert_int_equal(n, 60);
	n = sizeof(out);
	assert_int_equal(ops->final(ctx, out, &n), CKR_OK);
	assert_int_equal(n, 60);
	assert_memory_equal(out, PT, 60);
	ops->free(ctx);

	in[75] ^= 1;
	ctx = start(0);
	n = sizeof(out);
	assert_int_equal(ops->update(ctx, in, 76, out, &n), CKR_OK);
	n = sizeof(out);
	assert_int_equal(ops->final(ctx, out, &n), CKR_ENCRYPTED_DATA_INVALID);
	ops->free(ctx);

	ctx = start(0);
	n = sizeof(out);
	assert_int_equal(ops->update(ctx, in, 10, out, &n), CKR_OK);
	n = sizeof(out);
	assert_int_equal(ops->final(ctx, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
	ops->free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_answer_single_and_multi_part),
	        cmocka_unit_test(test_decryption_waits_for_the_tag),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
