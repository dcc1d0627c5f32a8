/* C_DigestInit .. C_DigestFinal and C_DigestKey (pkcs11/digest.c), through
 * the entry points on a session of a module state made by hand (one token,
 * no vault): published vectors, single- and multi-part, and the operation
 * rules of PKCS#11 3.0 section 5.10.
 *
 * Vectors:
 *   SHA-1 and SHA-2: NIST's examples for FIPS 180-4 (csrc.nist.gov,
 *   Cryptographic Standards and Guidelines, Example Values: SHA1.pdf,
 *   SHA224.pdf, SHA256.pdf, SHA384.pdf, SHA512.pdf): "abc" (one block) and
 *   "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" (448 bits,
 *   two blocks); the empty message as in NIST CAVP's SHAByteShortMsg
 *   vectors (Len = 0).
 *   SHA-3: NIST's examples for FIPS 202 (same page: SHA3-224_Msg0.pdf,
 *   SHA3-256_Msg0.pdf, ..., and SHA3-*_1600.pdf: 200 bytes of 0xA3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mech.h"
#include "module.h"
#include "object.h"
#include "session.h"
#include "token.h"

#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
/* The digests the state tests below check, from the table. */
#define SHA1_EMPTY   "da39a3ee5e6b4b0d3255bfef95601890afd80709"
#define SHA256_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_448   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

static azkv_token token;
static CK_SESSION_HANDLE session;
static unsigned char a3_1600[200];

/* A module state with one token (slot 0) and no vault, as C_Initialize
 * leaves it, and a session on it. */
static int setup(void **state)
{
	memset(a3_1600, 0xa3, sizeof(a3_1600));
	if (azkv_lock_setup(NULL) != CKR_OK || azkv_lock_new(&azkv_g.lock) != CKR_OK)
		return -1;
	memset(&token, 0, sizeof(token));
	azkv_g.tokens = &token;
	azkv_g.n_tokens = 1;
	azkv_g.pid = getpid();
	azkv_g.initialized = 1;
	return C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session) == CKR_OK
	               ? 0
	               : -1;
}

static int teardown(void **state)
{
	azkv_lock_acquire(azkv_g.lock);
	azkv_sessions_clear();
	azkv_objects_clear();
	azkv_lock_release(azkv_g.lock);
	azkv_lock_free(azkv_g.lock);
	memset(&azkv_g, 0, sizeof(azkv_g));
	return 0;
}

static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

static void assert_digest(const unsigned char *got, CK_ULONG len, const char *hex)
{
	unsigned char want[64];
	size_t n = unhex(hex, want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static CK_RV init(CK_MECHANISM_TYPE type)
{
	CK_MECHANISM m = {type, NULL, 0};
	return C_DigestInit(session, &m);
}

typedef struct vector {
	CK_MECHANISM_TYPE mech;
	const unsigned char *msg;
	size_t len;
	const char *digest;
} vector;

#define TEXT(s) (const unsigned char *)(s), sizeof(s) - 1

static const vector vectors[] = {
        /* FIPS 180-4 examples */
        {CKM_SHA_1, TEXT("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {CKM_SHA_1, TEXT(""), SHA1_EMPTY},
        {CKM_SHA_1, TEXT(MSG_448), "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {CKM_SHA224, TEXT("abc"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
        {CKM_SHA224, TEXT(""), "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"},
        {CKM_SHA224, TEXT(MSG_448), "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525"},
        {CKM_SHA256, TEXT("abc"), SHA256_ABC},
        {CKM_SHA256, TEXT(""), SHA256_EMPTY},
        {CKM_SHA256, TEXT(MSG_448), SHA256_448},
        {CKM_SHA384, TEXT("abc"),
         "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baec"
         "a134c825a7"},
        {CKM_SHA384, TEXT(""),
         "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2"
         "f14898b95b"},
        {CKM_SHA384, TEXT(MSG_448),
         "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b"
         "1fe3c8452b"},
        {CKM_SHA512, TEXT("abc"),
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c"
         "23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
        {CKM_SHA512, TEXT(""),
         "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318"
         "d2877eec2f63b931bd47417a81a538327af927da3e"},
        {CKM_SHA512, TEXT(MSG_448),
         "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3b"
         "ea57789ca031ad85c7a71dd70354ec631238ca3445"},
        /* FIPS 202 examples */
        {CKM_SHA3_224, TEXT(""), "6b4e03423667dbb73b6e15454f0eb1abd4597f9a1b078e3f5b5a6bc7"},
        {CKM_SHA3_224, a3_1600, sizeof(a3_1600),
         "9376816aba503f72f96ce7eb65ac095deee3be4bf9bbc2a1cb7e11e0"},
        {CKM_SHA3_256, TEXT(""),
         "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"},
        {CKM_SHA3_256, a3_1600, sizeof(a3_1600),
         "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787"},
        {CKM_SHA3_384, TEXT(""),
         "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2ac3713831264adb47fb6bd1"
         "e058d5f004"},
        {CKM_SHA3_384, a3_1600, sizeof(a3_1600),
         "1881de2ca7e41ef95dc4732b8f5f002b189cc1e42b74168ed1732649ce1dbcdd76197a31fd55ee989f2d70"
         "50dd473e8f"},
        {CKM_SHA3_512, TEXT(""),
         "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9"
         "402c3ac558f500199d95b6d3e301758586281dcd26"},
        {CKM_SHA3_512, a3_1600, sizeof(a3_1600),
         "e76dfad22084a8b1467fcf2ffa58361bec7628edf5f3fdc0e4805dc48caeeca81b7c13c30adf52a3659584"
         "739a2df46be589c51ca1a4a8416df6545a1ce8ba00"},
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* C_Digest, after asking the length. */
static void test_single_part_gives_the_published_digests(void **state)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		unsigned char out[64];
		CK_ULONG len = 0;
		assert_int_equal(init(vectors[i].mech), CKR_OK);
		assert_int_equal(C_Digest(session, (unsigned char *)vectors[i].msg, vectors[i].len,
		                          NULL, &len),
		                 CKR_OK);
		assert_int_equal(len, strlen(vectors[i].digest) / 2);
		assert_int_equal(C_Digest(session, (unsigned char *)vectors[i].msg, vectors[i].len,
		                          out, &len),
		                 CKR_OK);
		assert_digest(out, len, vectors[i].digest);
	}
}

/* The same messages in parts of 1, 0, 27 bytes and the rest (the 448-bit
 * message's parts straddle its 64-byte block: SHA-2's buffering is
 * exercised), then C_DigestFinal. */
static void test_multi_part_in_odd_parts_gives_the_same(void **state)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		unsigned char out[64];
		CK_ULONG len = sizeof(out);
		unsigned char *msg = (unsigned char *)vectors[i].msg;
		size_t at = 0, sizes[] = {1, 0, 27};
		assert_int_equal(init(vectors[i].mech), CKR_OK);
		for (size_t p = 0; p < 3 && at < vectors[i].len; p++) {
			size_t n = sizes[p] < vectors[i].len - at ? sizes[p] : vectors[i].len - at;
			assert_int_equal(C_DigestUpdate(session, msg + at, n), CKR_OK);
			at += n;
		}
		assert_int_equal(C_DigestUpdate(session, msg + at, vectors[i].len - at), CKR_OK);
		assert_int_equal(C_DigestFinal(session, out, &len), CKR_OK);
		assert_digest(out, len, vectors[i].digest);
	}
}

/* A length query and a short buffer leave the operation going; the call
 * that gives the digest ends it. */
static void test_length_query_and_short_buffer_keep_the_operation(void **state)
{
	unsigned char out[64];
	CK_ULONG len = 31;
	assert_int_equal(init(CKM_SHA256), CKR_OK);
	assert_int_equal(C_Digest(session, (unsigned char *)"abc", 3, out, &len),
	                 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 32);
	len = 0;
	assert_int_equal(C_Digest(session, (unsigned char *)"abc", 3, NULL, &len), CKR_OK);
	assert_int_equal(len, 32);
	len = sizeof(out);
	assert_int_equal(C_Digest(session, (unsigned char *)"abc", 3, out, &len), CKR_OK);
	assert_digest(out, len, SHA256_ABC);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);

	/* The same at C_DigestFinal, whose data is not digested twice. */
	assert_int_equal(init(CKM_SHA256), CKR_OK);
	assert_int_equal(C_DigestUpdate(session, (unsigned char *)"abc", 3), CKR_OK);
	len = 20;
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 32);
	assert_int_equal(C_DigestFinal(session, NULL, &len), CKR_OK);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OK);
	assert_digest(out, len, SHA256_ABC);
	assert_int_equal(C_DigestUpdate(session, out, 1), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_operation_states(void **state)
{
	unsigned char out[64];
	CK_ULONG len = sizeof(out);
	/* None active. */
	assert_int_equal(C_DigestUpdate(session, out, 1), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_Digest(session, out, 1, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_DigestKey(session, 1), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* One active: a second C_DigestInit is refused and the first goes on. */
	assert_int_equal(init(CKM_SHA256), CKR_OK);
	assert_int_equal(init(CKM_SHA384), CKR_OPERATION_ACTIVE);
	assert_int_equal(C_DigestUpdate(session, (unsigned char *)"abc", 3), CKR_OK);
	/* C_Digest cannot end a multi-part operation (3.0 5.10.2); the call
	 * ends it, as every C_Digest but a length query or a short buffer. */
	assert_int_equal(C_Digest(session, out, 1, out, &len), CKR_OPERATION_ACTIVE);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* A NULL mechanism ends the active operation (3.0), or does nothing. */
	assert_int_equal(init(CKM_SHA256), CKR_OK);
	assert_int_equal(C_DigestInit(session, NULL), CKR_OK);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_DigestInit(session, NULL), CKR_OK);
	/* Another session's handle, or none. */
	assert_int_equal(init(CKM_SHA256), CKR_OK);
	assert_int_equal(C_DigestUpdate(session + 1, out, 1), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OK);
	assert_digest(out, len, SHA256_EMPTY);
}

static void test_bad_arguments(void **state)
{
	unsigned char out[64];
	CK_ULONG len = sizeof(out);
	/* NULL data with a length: refused, and the operation ended. */
	assert_int_equal(init(CKM_SHA_1), CKR_OK);
	assert_int_equal(C_Digest(session, NULL, 3, out, &len), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(init(CKM_SHA_1), CKR_OK);
	assert_int_equal(C_DigestUpdate(session, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(init(CKM_SHA_1), CKR_OK);
	assert_int_equal(C_DigestFinal(session, out, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* NULL data of length 0 is the empty message. */
	assert_int_equal(init(CKM_SHA_1), CKR_OK);
	assert_int_equal(C_Digest(session, NULL, 0, out, &len), CKR_OK);
	assert_digest(out, len, SHA1_EMPTY);
	assert_int_equal(init(CKM_SHA_1), CKR_OK);
	assert_int_equal(C_DigestUpdate(session, NULL, 0), CKR_OK);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OK);
	assert_digest(out, len, SHA1_EMPTY);
}

static void test_only_digest_mechanisms_without_parameter(void **state)
{
	CK_ULONG param = 0;
	CK_MECHANISM with_param = {CKM_SHA256, &param, sizeof(param)};
	assert_int_equal(init(CKM_MD5), CKR_MECHANISM_INVALID);
	assert_int_equal(init(CKM_SHA256_RSA_PKCS), CKR_MECHANISM_INVALID);
	assert_int_equal(init(CKM_AES_GCM), CKR_MECHANISM_INVALID);
	assert_int_equal(C_DigestInit(session, &with_param), CKR_MECHANISM_PARAM_INVALID);
	/* Nothing was started. */
	assert_int_equal(C_DigestUpdate(session, NULL, 0), CKR_OPERATION_NOT_INITIALIZED);
}

/* Every digest row: CKF_DIGEST, no key sizes, the one hash table's
 * digest; no MGF1 generator answers for 0 (the SHA-3 rows' generator when
 * the header has none). */
static void test_table_rows(void **state)
{
	static const CK_MECHANISM_TYPE digests[] = {
	        CKM_SHA_1,    CKM_SHA224,   CKM_SHA256,   CKM_SHA384,   CKM_SHA512,
	        CKM_SHA3_224, CKM_SHA3_256, CKM_SHA3_384, CKM_SHA3_512,
	};
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		CK_MECHANISM_INFO info;
		assert_int_equal(azkv_mech_info(digests[i], &info), CKR_OK);
		assert_int_equal(info.flags, CKF_DIGEST);
		assert_int_equal(info.ulMinKeySize, 0);
		assert_int_equal(info.ulMaxKeySize, 0);
		assert_non_null(azkv_mech_md(digests[i]));
	}
	assert_ptr_equal(azkv_mech_md(CKM_SHA3_384), EVP_sha3_384());
	assert_null(azkv_mgf_md(0));
}

static CK_OBJECT_HANDLE create_aes(const char *value)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                    {CKA_VALUE, (void *)value, strlen(value)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	assert_int_equal(C_CreateObject(session, t, 3, &h), CKR_OK);
	return h;
}

/* The 448-bit message as a 32-byte AES key's value (C_DigestKey) and 24
 * bytes of data: the published digest. A refused C_DigestKey digests
 * nothing and the operation goes on. */
static void test_digest_key_digests_the_value(void **state)
{
	CK_OBJECT_HANDLE k = create_aes("abcdbcdecdefdefgefghfghighijhijk");
	unsigned char out[64];
	CK_ULONG len = sizeof(out);
	assert_int_equal(init(CKM_SHA256), CKR_OK);
	assert_int_equal(C_DigestKey(session, k), CKR_OK);
	assert_int_equal(C_DigestKey(session, k + 1000), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(C_DigestKey(session, CK_INVALID_HANDLE), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(C_DigestUpdate(session, (unsigned char *)MSG_448 + 32, 24), CKR_OK);
	assert_int_equal(C_DigestFinal(session, out, &len), CKR_OK);
	assert_digest(out, len, SHA256_448);
	/* Also first thing, then C_Digest is refused: the digest is multi-part. */
	assert_int_equal(init(CKM_SHA_1), CKR_OK);
	assert_int_equal(C_DigestKey(session, k), CKR_OK);
	assert_int_equal(C_Digest(session, NULL, 0, out, &len), CKR_OPERATION_ACTIVE);
}

/* A session closed with a digest under way frees it (valgrind sees no
 * leak); the session's handle is then refused. */
static void test_closing_the_session_ends_the_operation(void **state)
{
	CK_SESSION_HANDLE other;
	CK_MECHANISM m = {CKM_SHA512, NULL, 0};
	assert_int_equal(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &other), CKR_OK);
	assert_int_equal(C_DigestInit(other, &m), CKR_OK);
	assert_int_equal(C_DigestUpdate(other, (unsigned char *)"abc", 3), CKR_OK);
	assert_int_equal(C_CloseSession(other), CKR_OK);
	assert_int_equal(C_DigestUpdate(other, (unsigned char *)"abc", 3),
	                 CKR_SESSION_HANDLE_INVALID);
	/* A digest in another session is its own. */
	assert_int_equal(init(CKM_SHA512), CKR_OK);
	assert_int_equal(C_DigestInit(other, &m), CKR_SESSION_HANDLE_INVALID);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_single_part_gives_the_published_digests),
	        T(test_multi_part_in_odd_parts_gives_the_same),
	        T(test_length_query_and_short_buffer_keep_the_operation),
	        T(test_operation_states),
	        T(test_bad_arguments),
	        T(test_only_digest_mechanisms_without_parameter),
	        T(test_table_rows),
	        T(test_digest_key_digests_the_value),
	        T(test_closing_the_session_ends_the_operation),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
