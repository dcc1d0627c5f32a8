/* base64url: RFC 4648 vectors, padding rules, rejection of bad input,
 * and round trips of binary data of many lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"
#include "bytes.h"

/* RFC 4648 section 10 test vectors (same in base64 and base64url). */
static const struct {
	const char *plain;
	const char *encoded;
} rfc4648[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void encode_matches_rfc4648_vectors_without_padding(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		char *enc = azkv_b64url_encode((const unsigned char *)rfc4648[i].plain,
		                               strlen(rfc4648[i].plain));

		assert_non_null(enc);
		assert_string_equal(enc, rfc4648[i].encoded);
		assert_null(strchr(enc, '='));
		free(enc);
	}
}

static void decode_matches_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		azkv_bytes out;

		assert_int_equal(azkv_b64url_decode(rfc4648[i].encoded, &out), 0);
		assert_non_null(out.data);
		assert_int_equal(out.len, strlen(rfc4648[i].plain));
		assert_memory_equal(out.data, rfc4648[i].plain, out.len);
		azkv_bytes_free(&out);
	}
}

static void decode_accepts_padding(void **state)
{
	static const char *const padded[] = {"Zg==", "Zm8=", "Zm9vYg==", "Zm9vYmE="};
	static const char *const plain[] = {"f", "fo", "foob", "fooba"};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		azkv_bytes out;

		assert_int_equal(azkv_b64url_decode(padded[i], &out), 0);
		assert_int_equal(out.len, strlen(plain[i]));
		assert_memory_equal(out.data, plain[i], out.len);
		azkv_bytes_free(&out);
	}
}

static void url_alphabet_is_used_both_ways(void **state)
{
	/* "++++////" in standard base64. */
	static const unsigned char bin[] = {0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff};
	azkv_bytes out;
	char *enc;

	(void)state;
	enc = azkv_b64url_encode(bin, sizeof(bin));
	assert_non_null(enc);
	assert_string_equal(enc, "----____");
	assert_int_equal(azkv_b64url_decode(enc, &out), 0);
	assert_int_equal(out.len, sizeof(bin));
	assert_memory_equal(out.data, bin, sizeof(bin));
	azkv_bytes_free(&out);
	free(enc);
}

static void decode_rejects_standard_alphabet_and_bad_characters(void **state)
{
	static const char *const bad[] = {
	        "Zm9v+A", "Zm9v/A", "Zm9v YmFy", "Zm9v\nYmFy", "Zm9v.mFy",
	        "Zm9v*",  "Zg=A",   "=Zg",       "Zm\x80v",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		azkv_bytes out = {(unsigned char *)"x", 1};

		assert_int_equal(azkv_b64url_decode(bad[i], &out), -1);
		assert_null(out.data);
		assert_int_equal(out.len, 0);
	}
}

static void decode_rejects_impossible_lengths_and_bad_padding(void **state)
{
	static const char *const bad[] = {
	        "Z",     /* one char cannot encode a byte */
	        "Zm9vY", /* 4n+1 */
	        "Zg=",   /* padding that does not complete the quantum */
	        "Zg===", /* too much padding */
	        "Zm8==", "Zm9v=", "====", "Z===",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		azkv_bytes out;

		assert_int_equal(azkv_b64url_decode(bad[i], &out), -1);
	}
	assert_int_equal(azkv_b64url_decode(NULL, &(azkv_bytes){0}), -1);
}

static void binary_round_trips_for_lengths_0_to_600(void **state)
{
	unsigned char buf[600];
	uint32_t x = 0x12345678;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t len = 0; len <= sizeof(buf); len++) {
		char *enc = azkv_b64url_encode(buf, len);
		azkv_bytes out;

		assert_non_null(enc);
		assert_int_equal(strlen(enc), (len * 4 + 2) / 3);
		assert_int_equal(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                             "0123456789-_"),
		                 strlen(enc));
		assert_int_equal(azkv_b64url_decode(enc, &out), 0);
		assert_int_equal(out.len, len);
		if (len)
			assert_memory_equal(out.data, buf, len);
		azkv_bytes_free(&out);
		free(enc);
	}
}

static void decodes_key_vault_rsa_exponent_and_zero_block(void **state)
{
	/* "e" of every recorded RSA key, and an unwrapkey result of 32 zero
	 * bytes from the 2018 recordings (AAAA... without padding). */
	static const unsigned char e[] = {0x01, 0x00, 0x01};
	azkv_bytes out;

	(void)state;
	assert_int_equal(azkv_b64url_decode("AQAB", &out), 0);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.data, e, 3);
	azkv_bytes_free(&out);

	assert_int_equal(azkv_b64url_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &out),
	                 0);
	assert_int_equal(out.len, 32);
	for (size_t i = 0; i < out.len; i++)
		assert_int_equal(out.data[i], 0);
	azkv_bytes_free(&out);
}

static void bytes_free_is_null_safe_and_empties(void **state)
{
	azkv_bytes b;
	char *s = strdup("secret");

	(void)state;
	assert_int_equal(azkv_bytes_set(&b, "abc", 3), 0);
	assert_int_equal(b.len, 3);
	azkv_bytes_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	azkv_bytes_free(&b);
	azkv_bytes_free(NULL);
	assert_int_equal(azkv_bytes_set(&b, NULL, 0), 0);
	assert_non_null(b.data);
	azkv_bytes_free(&b);
	azkv_secret_str_free(s);
	azkv_secret_str_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(encode_matches_rfc4648_vectors_without_padding),
	        cmocka_unit_test(decode_matches_rfc4648_vectors),
	        cmocka_unit_test(decode_accepts_padding),
	        cmocka_unit_test(url_alphabet_is_used_both_ways),
	        cmocka_unit_test(decode_rejects_standard_alphabet_and_bad_characters),
	        cmocka_unit_test(decode_rejects_impossible_lengths_and_bad_padding),
	        cmocka_unit_test(binary_round_trips_for_lengths_0_to_600),
	        cmocka_unit_test(decodes_key_vault_rsa_exponent_and_zero_block),
	        cmocka_unit_test(bytes_free_is_null_safe_and_empties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
