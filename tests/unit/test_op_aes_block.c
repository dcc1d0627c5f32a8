/* CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD and CKM_AES_CTR: the NIST SP
 * 800-38A vectors (appendix F: F.1 ECB, F.2 CBC, F.5 CTR, AES-128 and
 * AES-256), multi-part equal to single-part for every split, PKCS#11's
 * length rules, CTR's parameters and counter wrap, bad padding and bad
 * lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aes_fixture.h"
#include "op_aes_block.h"

static const azkv_op_ops *ops = &azkv_aes_block_ops;
/* SP 800-38A: the AES-128 and AES-256 keys, the CBC IV, the CTR initial
 * counter block, the four plaintext blocks; CT is F.2.5's CBC-AES256. */
static unsigned char KEY[32], KEY128[16], IV[16], CTR0[16], PT[64], CT[64];

static int setup(void **state)
{
	unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", KEY);
	unhex("2b7e151628aed2a6abf7158809cf4f3c", KEY128);
	unhex("000102030405060708090a0b0c0d0e0f", IV);
	unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", CTR0);
	unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	      PT);
	unhex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	      "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
	      CT);
	return 0;
}

/* The operation the next start() makes: CBC_PAD with the AES-256 key and
 * IV unless a test says otherwise. */
static CK_MECHANISM mech;
static unsigned char *key_value = KEY;
static size_t key_len = 32;

static void use(CK_MECHANISM_TYPE type, void *param, CK_ULONG param_len, unsigned char *key,
                size_t len)
{
	mech.mechanism = type;
	mech.pParameter = param;
	mech.ulParameterLen = param_len;
	key_value = key;
	key_len = len;
}

static int reset(void **state)
{
	use(CKM_AES_CBC_PAD, IV, 16, KEY, 32);
	return 0;
}

static void *start(int encrypt)
{
	azkv_object key;
	void *ctx = NULL;
	aes_key(&key, key_value, key_len);
	assert_int_equal(family_init(ops, &ctx, &mech, &key, encrypt), CKR_OK);
	return ctx;
}

static CK_RV init_rv(void)
{
	azkv_object key;
	void *ctx = NULL;
	aes_key(&key, key_value, key_len);
	CK_RV rv = family_init(ops, &ctx, &mech, &key, 1);
	ops->free(ctx);
	return rv;
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

/* For every length of the plaintext up to 64 bytes, multi-part in every
 * split gives what single-part gives, both ways; padded: the ciphertext
 * is padded to the next block (else as long as the plaintext). */
static void multi_part_equals_single_part(int padded)
{
	static const CK_ULONG steps[] = {1, 3, 15, 16, 17, 33, 100};
	unsigned char one[200], many[200], back[200];
	for (CK_ULONG len = 0; len <= 64; len++) {
		CK_ULONG n = run(1, PT, len, one, CKR_OK);
		assert_int_equal(n, padded ? (len / 16 + 1) * 16 : len);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			assert_int_equal(parts(1, PT, len, steps[i], many), n);
			assert_memory_equal(many, one, n);
			assert_int_equal(parts(0, one, n, steps[i], back), len);
			assert_memory_equal(back, PT, len);
		}
	}
}

static void test_multi_part_equals_single_part(void **state)
{
	multi_part_equals_single_part(1);
}

/* In parts of step, each given in place: its input and output one buffer
 * (PKCS#11 allows it), with room for the pending bytes it releases. */
static CK_ULONG parts_in_place(int encrypt, const unsigned char *in, CK_ULONG len, CK_ULONG step,
                               unsigned char *out)
{
	void *ctx = start(encrypt);
	unsigned char io[200];
	CK_ULONG done = 0, n;
	for (CK_ULONG i = 0; i < len; i += step) {
		CK_ULONG part = len - i < step ? len - i : step;
		memcpy(io, in + i, part);
		n = sizeof(io);
		assert_int_equal(ops->update(ctx, io, part, io, &n), CKR_OK);
		memcpy(out + done, io, n);
		done += n;
	}
	n = 200;
	assert_int_equal(ops->final(ctx, out + done, &n), CKR_OK);
	ops->free(ctx);
	return done + n;
}

/* Every unpadded and padded mode, both ways, in place in parts that leave
 * bytes pending: what single-part gives (a pending block once made the
 * output overwrite input not yet read: CBC_PAD decryption in parts of 32
 * gave wrong plaintext with CKR_OK). */
static void test_multi_part_in_place(void **state)
{
	static const CK_MECHANISM_TYPE types[] = {CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD};
	static const CK_ULONG steps[] = {8, 24, 32, 40};
	unsigned char one[200], many[200], back[200];
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		use(types[t], types[t] == CKM_AES_ECB ? NULL : IV, types[t] == CKM_AES_ECB ? 0 : 16,
		    KEY, 32);
		CK_ULONG n = run(1, PT, 64, one, CKR_OK);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			assert_int_equal(parts_in_place(1, PT, 64, steps[i], many), n);
			assert_memory_equal(many, one, n);
			assert_int_equal(parts_in_place(0, one, n, steps[i], back), 64);
			assert_memory_equal(back, PT, 64);
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

	use(CKM_AES_CBC_PAD, IV, 8, KEY, 32);
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	/* The key's type is the frame's check: azkv_key_check (test_mech). */
}

/* SP 800-38A appendix F: each mode's four blocks, single- and
 * multi-part, both ways. */
static void test_sp800_38a_vectors(void **state)
{
	static const struct {
		const char *name;
		CK_MECHANISM_TYPE type;
		int aes256;
		const char *ct;
	} vectors[] = {
	        {"F.1.1 ECB-AES128", CKM_AES_ECB, 0,
	         "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
	         "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"},
	        {"F.1.5 ECB-AES256", CKM_AES_ECB, 1,
	         "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
	         "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7"},
	        {"F.2.1 CBC-AES128", CKM_AES_CBC, 0,
	         "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	         "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
	        {"F.2.5 CBC-AES256", CKM_AES_CBC, 1,
	         "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	         "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
	        {"F.5.1 CTR-AES128", CKM_AES_CTR, 0,
	         "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
	         "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"},
	        {"F.5.5 CTR-AES256", CKM_AES_CTR, 1,
	         "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
	         "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"},
	};
	static const CK_ULONG steps[] = {1, 5, 16, 17, 31, 64};
	CK_AES_CTR_PARAMS ctr = {128, {0}};
	memcpy(ctr.cb, CTR0, 16);
	unsigned char want[64], out[200], back[200];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		print_message("%s\n", vectors[i].name);
		assert_int_equal(unhex(vectors[i].ct, want), 64);
		unsigned char *key = vectors[i].aes256 ? KEY : KEY128;
		size_t len = vectors[i].aes256 ? 32 : 16;
		if (vectors[i].type == CKM_AES_ECB)
			use(CKM_AES_ECB, NULL, 0, key, len);
		else if (vectors[i].type == CKM_AES_CBC)
			use(CKM_AES_CBC, IV, 16, key, len);
		else
			use(CKM_AES_CTR, &ctr, sizeof(ctr), key, len);
		assert_int_equal(run(1, PT, 64, out, CKR_OK), 64);
		assert_memory_equal(out, want, 64);
		assert_int_equal(run(0, want, 64, back, CKR_OK), 64);
		assert_memory_equal(back, PT, 64);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			assert_int_equal(parts(1, PT, 64, steps[s], out), 64);
			assert_memory_equal(out, want, 64);
			assert_int_equal(parts(0, want, 64, steps[s], back), 64);
			assert_memory_equal(back, PT, 64);
		}
	}
}

/* CTR takes any length: multi-part equals single-part, every byte out at
 * once. */
static void test_ctr_any_length(void **state)
{
	CK_AES_CTR_PARAMS ctr = {64, {0}};
	memcpy(ctr.cb, CTR0, 16);
	use(CKM_AES_CTR, &ctr, sizeof(ctr), KEY, 32);
	multi_part_equals_single_part(0);
}

/* ECB and CBC without padding: whole blocks only, answered as SoftHSMv2
 * does (before a length query; at the final for multi-part). */
static void test_unpadded_modes_take_whole_blocks(void **state)
{
	unsigned char out[200];
	CK_ULONG n;
	for (int ecb = 0; ecb <= 1; ecb++) {
		use(ecb ? CKM_AES_ECB : CKM_AES_CBC, ecb ? NULL : IV, ecb ? 0 : 16, KEY, 32);
		run(1, PT, 17, out, CKR_DATA_LEN_RANGE);
		run(0, CT, 17, out, CKR_ENCRYPTED_DATA_LEN_RANGE);
		assert_int_equal(run(1, PT, 0, out, CKR_OK), 0);
		void *ctx = start(1);
		n = 0;
		assert_int_equal(ops->run(ctx, PT, 15, NULL, &n), CKR_DATA_LEN_RANGE);
		ops->free(ctx);
		for (int encrypt = 0; encrypt <= 1; encrypt++) {
			ctx = start(encrypt);
			n = sizeof(out);
			assert_int_equal(ops->update(ctx, PT, 20, out, &n), CKR_OK);
			assert_int_equal(n, 16);
			n = sizeof(out);
			assert_int_equal(ops->final(ctx, out, &n),
			                 encrypt ? CKR_DATA_LEN_RANGE
			                         : CKR_ENCRYPTED_DATA_LEN_RANGE);
			ops->free(ctx);
		}
	}
}

/* PKCS#11 3.0 (CK_AES_CTR_PARAMS): 0 < ulCounterBits <= 128, else
 * CKR_MECHANISM_PARAM_INVALID; CBC needs a 16-byte IV. */
static void test_bad_parameters(void **state)
{
	CK_AES_CTR_PARAMS ctr = {0, {0}};
	use(CKM_AES_CTR, &ctr, sizeof(ctr), KEY, 32);
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	ctr.ulCounterBits = 129;
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	ctr.ulCounterBits = 128;
	assert_int_equal(init_rv(), CKR_OK);
	use(CKM_AES_CTR, &ctr, sizeof(ctr) - 1, KEY, 32);
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	use(CKM_AES_CTR, NULL, 0, KEY, 32);
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	use(CKM_AES_CTR, IV, 16, KEY, 32);
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	static const CK_ULONG iv_lens[] = {0, 8, 15, 17, 32};
	for (size_t i = 0; i < sizeof(iv_lens) / sizeof(iv_lens[0]); i++) {
		use(CKM_AES_CBC, IV, iv_lens[i], KEY, 32);
		assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	}
	use(CKM_AES_CBC, NULL, 16, KEY, 32);
	assert_int_equal(init_rv(), CKR_MECHANISM_PARAM_INVALID);
	use(CKM_AES_ECB, NULL, 0, KEY, 32);
	assert_int_equal(init_rv(), CKR_OK);
}

/* Whether len bytes, in one part and in parts of 16 and 1 more, fit the
 * counter without wrapping: the last part is refused when they do not. */
static void ctr_fits(CK_AES_CTR_PARAMS *ctr, CK_ULONG len, int fits)
{
	unsigned char out[64];
	use(CKM_AES_CTR, ctr, sizeof(*ctr), KEY, 32);
	for (int encrypt = 0; encrypt <= 1; encrypt++) {
		CK_RV range = encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
		run(encrypt, PT, len, out, fits ? CKR_OK : range);
		void *ctx = start(encrypt);
		CK_ULONG n = sizeof(out);
		assert_int_equal(ops->update(ctx, PT, len - 1, out, &n), CKR_OK);
		n = sizeof(out);
		assert_int_equal(ops->update(ctx, PT, 1, out, &n), fits ? CKR_OK : range);
		ops->free(ctx);
	}
}

/* PKCS#11: only the low ulCounterBits of the counter block count, so a
 * counter that would wrap within them would repeat a counter block (and
 * the key stream); the data that would make it wrap is refused. */
static void test_ctr_counter_may_not_wrap(void **state)
{
	CK_AES_CTR_PARAMS ctr = {8, {0}};
	ctr.cb[15] = 0xfe; /* two blocks left */
	ctr_fits(&ctr, 32, 1);
	ctr_fits(&ctr, 33, 0);
	ctr.ulCounterBits = 9; /* 0x0fe of 0x200: 258 */
	ctr_fits(&ctr, 33, 1);
	memset(ctr.cb, 0xff, 16);
	ctr.ulCounterBits = 128; /* one block left */
	ctr_fits(&ctr, 16, 1);
	ctr_fits(&ctr, 17, 0);
	ctr.ulCounterBits = 72; /* the counter bits above the low 64 all ones: one block */
	ctr_fits(&ctr, 16, 1);
	ctr_fits(&ctr, 17, 0);
	ctr.cb[7] = 0xfe; /* not all ones: 2^64 + 1 blocks */
	ctr_fits(&ctr, 64, 1);
	/* F.5.1's counter with 16 counter bits: 0xfeff of 0x10000, the
	 * vector's four blocks fit. */
	unsigned char want[64], out[64];
	memcpy(ctr.cb, CTR0, 16);
	ctr.ulCounterBits = 16;
	use(CKM_AES_CTR, &ctr, sizeof(ctr), KEY128, 16);
	unhex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
	      "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
	      want);
	assert_int_equal(run(1, PT, 64, out, CKR_OK), 64);
	assert_memory_equal(out, want, 64);
}

/* wipe (a forked child's copy of the state) clears the key and the
 * pending data the state holds: what is encrypted after it is not the
 * key's. */
static void test_wipe_clears_the_key(void **state)
{
	unsigned char out[64];
	CK_ULONG n = sizeof(out);
	use(CKM_AES_ECB, NULL, 0, KEY, 32);
	void *ctx = start(1);
	ops->wipe(ctx);
	assert_int_equal(ops->run(ctx, PT, 16, out, &n), CKR_OK);
	assert_memory_not_equal(out, "\xf3\xee\xd1\xbd\xb5\xd2\xa0\x3c", 8); /* F.1.5 */
	ops->free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_known_answer, reset),
	        cmocka_unit_test_setup(test_multi_part_equals_single_part, reset),
	        cmocka_unit_test_setup(test_multi_part_in_place, reset),
	        cmocka_unit_test_setup(test_length_rules, reset),
	        cmocka_unit_test_setup(test_bad_input, reset),
	        cmocka_unit_test_setup(test_sp800_38a_vectors, reset),
	        cmocka_unit_test_setup(test_ctr_any_length, reset),
	        cmocka_unit_test_setup(test_unpadded_modes_take_whole_blocks, reset),
	        cmocka_unit_test_setup(test_bad_parameters, reset),
	        cmocka_unit_test_setup(test_ctr_counter_may_not_wrap, reset),
	        cmocka_unit_test_setup(test_wipe_clears_the_key, reset),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
