/* CKM_RSA_PKCS signing input: a DER DigestInfo of SHA-256/384/512, as the
 * vault (RS256/RS384/RS512) will encode it, or a reasoned refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "digestinfo.h"

static const unsigned char P256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const unsigned char P384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const unsigned char P512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
static const unsigned char P_SHA1[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                       0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
static const unsigned char P_MD5[] = {0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                      0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10};
/* SHA-256 without the NULL parameters (RFC 8017 allows reading it; the
 * vault writes NULL). */
static const unsigned char P256_ABSENT[] = {0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48,
                                            0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20};
/* An OID that is no hash (1.2.3.4), NULL parameters, 32 bytes. */
static const unsigned char P_UNKNOWN[] = {0x30, 0x2b, 0x30, 0x07, 0x06, 0x03, 0x2a,
                                          0x03, 0x04, 0x05, 0x00, 0x04, 0x20};

static size_t build(unsigned char *out, const unsigned char *prefix, size_t plen, size_t dlen)
{
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < dlen; i++)
		out[plen + i] = (unsigned char)(0x40 + i);
	return plen + dlen;
}

static CK_RV parse(const unsigned char *in, size_t len, const EVP_MD **md, azkv_bytes *digest)
{
	*md = NULL;
	return azkv_digestinfo_parse(in, len, md, digest);
}

static void test_sha2_digestinfos_give_hash_and_digest(void **state)
{
	const struct {
		const unsigned char *prefix;
		size_t plen, dlen;
		int nid;
	} ok[] = {{P256, sizeof(P256), 32, NID_sha256},
	          {P384, sizeof(P384), 48, NID_sha384},
	          {P512, sizeof(P512), 64, NID_sha512}};
	for (size_t i = 0; i < 3; i++) {
		unsigned char in[128];
		const EVP_MD *md;
		azkv_bytes d = {0};
		size_t n = build(in, ok[i].prefix, ok[i].plen, ok[i].dlen);
		assert_int_equal(parse(in, n, &md, &d), CKR_OK);
		assert_int_equal(EVP_MD_get_type(md), ok[i].nid);
		assert_int_equal(d.len, ok[i].dlen);
		assert_memory_equal(d.data, in + ok[i].plen, ok[i].dlen);
		azkv_bytes_free(&d);
	}
}

/* CKM_RSA_PKCS itself is one the vault signs with (RS256/384/512): only
 * the data says which hash, so a hash the vault has no algorithm for is
 * the data's fault, found at C_Sign (issue 18: pkcs11-tool --test's
 * SHA-1 DigestInfo). */
static void test_hashes_the_vault_cannot_sign_are_data_invalid(void **state)
{
	unsigned char in[128];
	const EVP_MD *md;
	azkv_bytes d = {0};
	size_t n = build(in, P_SHA1, sizeof(P_SHA1), 20);
	assert_int_equal(parse(in, n, &md, &d), CKR_DATA_INVALID);
	n = build(in, P_MD5, sizeof(P_MD5), 16);
	assert_int_equal(parse(in, n, &md, &d), CKR_DATA_INVALID);
	assert_null(d.data);
}

static void test_malformed_input_is_data_invalid(void **state)
{
	unsigned char in[128];
	const EVP_MD *md;
	azkv_bytes d = {0};
	size_t n = build(in, P256, sizeof(P256), 32);
	assert_int_equal(parse(in, n - 1, &md, &d), CKR_DATA_INVALID); /* truncated */
	in[n] = 0;
	assert_int_equal(parse(in, n + 1, &md, &d), CKR_DATA_INVALID); /* trailing byte */
	assert_int_equal(parse(in + sizeof(P256), 32, &md, &d), CKR_DATA_INVALID); /* bare */
	assert_int_equal(parse(in, 0, &md, &d), CKR_DATA_INVALID);
	assert_int_equal(parse(NULL, 0, &md, &d), CKR_DATA_INVALID);

	/* SHA-256 named, but a 20-byte digest (lengths adjusted: valid DER). */
	n = build(in, P256, sizeof(P256), 20);
	in[1] = 0x1d;
	in[sizeof(P256) - 1] = 0x14;
	assert_int_equal(parse(in, n, &md, &d), CKR_DATA_INVALID);

	n = build(in, P256_ABSENT, sizeof(P256_ABSENT), 32);
	assert_int_equal(parse(in, n, &md, &d), CKR_DATA_INVALID);
	n = build(in, P_UNKNOWN, sizeof(P_UNKNOWN), 32);
	assert_int_equal(parse(in, n, &md, &d), CKR_DATA_INVALID);
	assert_null(d.data);
}

static void test_non_der_encoding_is_data_invalid(void **state)
{
	/* The outer length in long form (0x81 0x31): valid BER, not DER. */
	unsigned char in[128];
	const EVP_MD *md;
	azkv_bytes d = {0};
	in[0] = 0x30;
	in[1] = 0x81;
	size_t n = 2 + build(in + 2, P256 + 1, sizeof(P256) - 1, 32);
	assert_int_equal(parse(in, n, &md, &d), CKR_DATA_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sha2_digestinfos_give_hash_and_digest),
	        cmocka_unit_test(test_hashes_the_vault_cannot_sign_are_data_invalid),
	        cmocka_unit_test(test_malformed_input_is_data_invalid),
	        cmocka_unit_test(test_non_der_encoding_is_data_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
