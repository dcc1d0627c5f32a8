/* The log's filter for text from elsewhere (azkv_text_escape): one line,
 * no control character reaches a log or a terminal, readable UTF-8 kept;
 * and the log sink applies it to every message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static const char *esc(const char *in)
{
	static char out[512];

	return azkv_text_escape(in, out, sizeof(out));
}

static void plain_text_and_utf8_are_kept(void **state)
{
	(void)state;
	assert_string_equal(esc("Vault 'demo' not found (request id 1-2)"),
	                    "Vault 'demo' not found (request id 1-2)");
	/* é, the euro sign, an emoji, a back slash: readable as they are. */
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 C:\\x"),
	                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 C:\\x");
	assert_string_equal(esc(""), "");
	assert_string_equal(esc(NULL), "");
}

static void c0_and_del_are_escaped(void **state)
{
	(void)state;
	assert_string_equal(esc("a\nb\rc\td"), "a\\nb\\rc\\td");
	/* A forged log line and a terminal's "clear screen". */
	assert_string_equal(esc("Denied.\n[fake] azkv-pkcs11 error: ok\x1b[2J"),
	                    "Denied.\\n[fake] azkv-pkcs11 error: ok\\x1b[2J");
	assert_string_equal(esc("\x01\x07\x1f\x7f"), "\\x01\\x07\\x1f\\x7f");
}

static void c1_separators_and_bidi_are_escaped(void **state)
{
	(void)state;
	/* U+009B is CSI, U+0085 NEL (a line break to some viewers). */
	assert_string_equal(esc("x\xc2\x9b"
	                        "2Jy\xc2\x85z"),
	                    "x\\u009b2Jy\\u0085z");
	assert_string_equal(esc("\xc2\x80\xc2\x9f\xc2\xa0"), "\\u0080\\u009f\xc2\xa0");
	assert_string_equal(esc("a\xe2\x80\xa8"
	                        "b\xe2\x80\xa9"),
	                    "a\\u2028b\\u2029");
	/* RLO ... PDF, and the isolates. */
	assert_string_equal(esc("\xe2\x80\xae"
	                        "cba\xe2\x80\xac"),
	                    "\\u202ecba\\u202c");
	assert_string_equal(esc("\xe2\x81\xa6\xe2\x81\xa9"), "\\u2066\\u2069");
}

static void invalid_utf8_bytes_are_escaped(void **state)
{
	(void)state;
	/* A lone continuation byte, a cut sequence, an overlong '/', a
	 * surrogate, a code point above U+10FFFF, 0xFF. */
	assert_string_equal(esc("\x80"), "\\x80");
	assert_string_equal(esc("a\xe2\x82"), "a\\xe2\\x82");
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	assert_string_equal(esc("\xff"), "\\xff");
	/* An 8-bit CSI on its own (not UTF-8) is a bad byte too. */
	assert_string_equal(esc("\x9b"), "\\x9b");
}

static void output_is_cut_short_to_fit_never_mid_escape(void **state)
{
	char out[6];

	(void)state;
	assert_string_equal(azkv_text_escape("abcdefgh", out, sizeof(out)), "abcde");
	/* After "abc" one byte is left: the two of "\\n" do not fit. */
	assert_string_equal(azkv_text_escape("abc\n", out, 5), "abc");
	assert_string_equal(azkv_text_escape("\xe2\x82\xac\xe2\x82\xac", out, 6), "\xe2\x82\xac");
	/* 4 * length + 1 is always enough. */
	{
		char big[4 * 4 + 1];

		assert_string_equal(azkv_text_escape("\x01\x02\x03\x04", big, sizeof(big)),
		                    "\\x01\\x02\\x03\\x04");
	}
}

static void log_sink_escapes_every_message(void **state)
{
	char path[] = "/tmp/azkv-test-log.XXXXXX";
	char line[2048];
	FILE *f;
	int fd, lines = 0;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	azkv_log_configure("warn", path);
	azkv_warn("keyvault: HTTP 403: %s", "Denied.\n[fake] azkv-pkcs11 error: ok\x1b[2J");
	azkv_log_shutdown();
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		assert_non_null(
		        strstr(line, "HTTP 403: Denied.\\n[fake] azkv-pkcs11 error: ok\\x1b[2J\n"));
		assert_null(strchr(line, '\x1b'));
	}
	fclose(f);
	unlink(path);
	assert_int_equal(lines, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(plain_text_and_utf8_are_kept),
	        cmocka_unit_test(c0_and_del_are_escaped),
	        cmocka_unit_test(c1_separators_and_bidi_are_escaped),
	        cmocka_unit_test(invalid_utf8_bytes_are_escaped),
	        cmocka_unit_test(output_is_cut_short_to_fit_never_mid_escape),
	        cmocka_unit_test(log_sink_escapes_every_message),
	};

	/* The environment must not move the log elsewhere. */
	unsetenv("AZKV_PKCS11_LOG_FILE");
	unsetenv("AZKV_PKCS11_LOG_LEVEL");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
