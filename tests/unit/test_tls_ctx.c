/* The TLS context libcurl hands us gets SSL_OP_CLEANSE_PLAINTEXT, so
 * OpenSSL wipes the plaintext of each record (tokens, key bytes) once
 * used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "http.h"

static void tls_context_cleanses_plaintext(void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_options(ctx) & SSL_OP_CLEANSE_PLAINTEXT, 0);
	assert_int_equal(azkv_http_tls_ctx_setup(ctx), 0);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(tls_context_cleanses_plaintext),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
