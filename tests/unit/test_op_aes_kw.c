/* AES key wrap: the RFC 3394 and RFC 5649 vectors, IVs, the lengths each
 * takes, and integrity failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_fixture.h"
#include "op_aes_kw.h"

static const struct {
	int pad;
	const char *kek, *key, *wrapped;
} vectors[] = {
        /* RFC 3394 4.1 .. 4.6 */
        {0, "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
         "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
        {0, "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
         "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
        {0, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
         "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
        {0, "000102030405060708090A0B0C0D0E0F1011121314151617",
         "00112233445566778899AABBCCDDEEFF0001020304050607",
         "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
        {0, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
         "00112233445566778899AABBCCDDEEFF0001020304050607",
         "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
        {0, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
         "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
         "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
        /* RFC 5649 6 */
        {1, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
         "c37b7e6492584340bed12207808941155068f738",
         "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
        {1, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "466f7250617369",
         "afbeb0f07dfbf5419200f2ccb50bb24f"},
};

static void test_rfc_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned char kek[32], key[32], want[48];
		size_t kek_len = unhex(vectors[i].kek, kek), key_len = unhex(vectors[i].key, key);
		size_t want_len = unhex(vectors[i].wrapped, want), len;
		azkv_aes_kw_params p = {.pad = vectors[i].pad};
		azkv_bytes out = {0};
		assert_int_equal(azkv_aes_kw_wrapped_len(&p, key_len, &len), CKR_OK);
		assert_int_equal(len, want_len);
		assert_int_equal(azkv_aes_kw(&p, 1, kek, kek_len, key, key_len, &out), CKR_OK);
		assert_int_equal(out.len, want_len);
		assert_memory_equal(out.data, want, want_len);
		azkv_bytes_free(&out);
		assert_int_equal(azkv_aes_kw(&p, 0, kek, kek_len, want, want_len, &out), CKR_OK);
		assert_int_equal(out.len, key_len);
		assert_memory_equal(out.data, key, key_len);
		azkv_bytes_free(&out);
		want[0] ^= 1;
		assert_int_equal(azkv_aes_kw(&p, 0, kek, kek_len, want, want_len, &out),
		                 CKR_ENCRYPTED_DATA_INVALID);
		assert_null(out.data);
	}
}

static void test_parameters(void **state)
{
	azkv_aes_kw_params p;
	unsigned char iv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
	assert_int_equal(azkv_aes_kw_params_from_mech(&kw, &p), CKR_OK);
	assert_int_equal(p.pad, 0);
	assert_int_equal(p.iv_len, 0);
	kw.pParameter = iv;
	kw.ulParameterLen = 8;
	assert_int_equal(azkv_aes_kw_params_from_mech(&kw, &p), CKR_OK);
	assert_int_equal(p.iv_len, 8);
	kw.ulParameterLen = 4;
	assert_int_equal(azkv_aes_kw_params_from_mech(&kw, &p), CKR_MECHANISM_PARAM_INVALID);
	CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, iv, 4};
	assert_int_equal(azkv_aes_kw_params_from_mech(&kwp, &p), CKR_OK);
	assert_int_equal(p.pad, 1);
	kwp.ulParameterLen = 8;
	assert_int_equal(azkv_aes_kw_params_from_mech(&kwp, &p), CKR_MECHANISM_PARAM_INVALID);
	CK_MECHANISM kwp3 = {CKM_AES_KEY_WRAP_KWP, NULL, 0};
	assert_int_equal(azkv_aes_kw_params_from_mech(&kwp3, &p), CKR_OK);
	assert_int_equal(p.pad, 1);
	assert_true(azkv_aes_kw_mech(CKM_AES_KEY_WRAP_PAD));
	assert_false(azkv_aes_kw_mech(CKM_AES_GCM));
}

static void test_an_explicit_iv_changes_the_result(void **state)
{
	unsigned char kek[16] = {0}, key[16] = {1};
	azkv_aes_kw_params dflt = {0}, other = {.iv = {1, 2, 3, 4, 5, 6, 7, 8}, .iv_len = 8};
	azkv_bytes a = {0}, b = {0}, c = {0};
	assert_int_equal(azkv_aes_kw(&dflt, 1, kek, 16, key, 16, &a), CKR_OK);
	assert_int_equal(azkv_aes_kw(&other, 1, kek, 16, key, 16, &b), CKR_OK);
	assert_memory_not_equal(a.data, b.data, a.len);
	assert_int_equal(azkv_aes_kw(&other, 0, kek, 16, a.data, a.len, &c),
	                 CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(azkv_aes_kw(&other, 0, kek, 16, b.data, b.len, &c), CKR_OK);
	assert_memory_equal(c.data, key, 16);
	azkv_bytes_free(&a);
	azkv_bytes_free(&b);
	azkv_bytes_free(&c);
}

static void test_lengths(void **state)
{
	unsigned char kek[32] = {0}, in[64] = {0};
	azkv_aes_kw_params kw = {0}, kwp = {.pad = 1};
	azkv_bytes out = {0};
	size_t len;
	assert_int_equal(azkv_aes_kw_wrapped_len(&kw, 20, &len), CKR_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw_wrapped_len(&kw, 8, &len), CKR_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw_wrapped_len(&kw, 0, &len), CKR_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw_wrapped_len(&kwp, 1, &len), CKR_OK);
	assert_int_equal(len, 16);
	assert_int_equal(azkv_aes_kw_wrapped_len(&kwp, 9, &len), CKR_OK);
	assert_int_equal(len, 24);
	assert_int_equal(azkv_aes_kw(&kw, 1, kek, 32, in, 20, &out), CKR_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw(&kw, 0, kek, 32, in, 16, &out), CKR_ENCRYPTED_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw(&kw, 0, kek, 32, in, 28, &out), CKR_ENCRYPTED_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw(&kwp, 0, kek, 32, in, 8, &out), CKR_ENCRYPTED_DATA_LEN_RANGE);
	assert_int_equal(azkv_aes_kw(&kw, 1, kek, 20, in, 16, &out), CKR_KEY_SIZE_RANGE);
}

static void test_as_a_cipher(void **state)
{
	unsigned char kek[16], key[16], want[24], out[40];
	unhex(vectors[0].kek, kek);
	unhex(vectors[0].key, key);
	unhex(vectors[0].wrapped, want);
	azkv_object obj;
	aes_key(&obj, kek, 16);
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	void *ctx = NULL;
	assert_int_equal(family_init(&azkv_aes_kw_ops, &ctx, &m, &obj, 1), CKR_OK);
	CK_ULONG n = 0;
	assert_int_equal(azkv_aes_kw_ops.run(ctx, key, 16, NULL, &n), CKR_OK);
	assert_int_equal(n, 24);
	n = 23;
	assert_int_equal(azkv_aes_kw_ops.run(ctx, key, 16, out, &n), CKR_BUFFER_TOO_SMALL);
	n = sizeof(out);
	assert_int_equal(azkv_aes_kw_ops.run(ctx, key, 16, out, &n), CKR_OK);
	assert_int_equal(n, 24);
	assert_memory_equal(out, want, 24);
	azkv_aes_kw_ops.free(ctx);
	assert_int_equal(family_init(&azkv_aes_kw_ops, &ctx, &m, &obj, 0), CKR_OK);
	n = 0;
	assert_int_equal(azkv_aes_kw_ops.run(ctx, want, 24, NULL, &n), CKR_OK);
	assert_int_equal(n, 16);
	n = sizeof(out);
	assert_int_equal(azkv_aes_kw_ops.run(ctx, want, 24, out, &n), CKR_OK);
	assert_memory_equal(out, key, 16);
	azkv_aes_kw_ops.free(ctx);
	assert_null(azkv_aes_kw_ops.update);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc_vectors),
	        cmocka_unit_test(test_parameters),
	        cmocka_unit_test(test_an_explicit_iv_changes_the_result),
	        cmocka_unit_test(test_lengths),
	        cmocka_unit_test(test_as_a_cipher),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
