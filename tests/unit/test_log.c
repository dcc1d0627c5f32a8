/* The log's filter for text from elsewhere (azkv_text_escape): one line,
 * no control character reaches a log or a terminal, readable UTF-8 kept;
 * and the log sink applies it to every message. The line forms: text with
 * the PKCS#11 call's slot and op, one HTTP request per line, and JSON
 * (log.format, AZKV_PKCS11_LOG_FORMAT) with the same fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
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
	azkv_log_configure("warn", path, NULL);
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

/* ---------------------------------------------------------------- line forms */

#define MAX_LINES 24

typedef struct captured {
	char path[32];
	int n;
	char lines[MAX_LINES][2048];
} captured;

/* Sends the log to a new file at level, in format (config value). */
static void capture_start(captured *c, const char *level, const char *format)
{
	int fd;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "/tmp/azkv-test-log.XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	close(fd);
	azkv_log_configure(level, c->path, format);
}

/* Reads the lines back (newline cut, each checked to end in one). */
static void capture_end(captured *c)
{
	FILE *f;
	size_t len;

	azkv_log_shutdown();
	f = fopen(c->path, "r");
	assert_non_null(f);
	while (c->n < MAX_LINES && fgets(c->lines[c->n], sizeof(c->lines[0]), f)) {
		len = strlen(c->lines[c->n]);
		assert_true(len > 0 && c->lines[c->n][len - 1] == '\n');
		c->lines[c->n][len - 1] = '\0';
		c->n++;
	}
	fclose(f);
	unlink(c->path);
}

static const azkv_log_http unwrap_200 = {.method = "POST",
                                         .host = "myvault.vault.azure.net",
                                         .path = "/keys/k/0a1b/unwrapkey",
                                         .status = 200,
                                         .latency_ms = 12,
                                         .request_id = "5b2d3c1e-0000-4000-8000-00000000abcd",
                                         .attempt = 2};

/* A call made within another: when it ends, the outer one is back. */
static void inner_call(void)
{
	AZKV_LOG_CALL("C_GetSlotList");
	azkv_warn("inner");
}

static void text_lines_carry_the_calls_slot_and_op(void **state)
{
	captured c;

	(void)state;
	capture_start(&c, "info", NULL);
	/* A lookup outside any call names nothing: nothing would end it. */
	azkv_log_call_set("C_Sign", 3);
	azkv_info("before any call");
	{
		AZKV_LOG_CALL("C_UnwrapKey");
		azkv_info("no session looked up yet");
		azkv_log_call_set(NULL, 1);
		azkv_log_http_event(AZKV_LOG_INFO, &unwrap_200);
		inner_call();
		azkv_error("outer again");
	}
	azkv_info("after the call");
	capture_end(&c);

	assert_int_equal(c.n, 6);
	assert_non_null(strstr(c.lines[0], "] info: before any call"));
	assert_non_null(strstr(c.lines[1], "] info op=C_UnwrapKey: no session looked up yet"));
	assert_non_null(strstr(c.lines[2],
	                       "] info slot=1 op=C_UnwrapKey: http: POST "
	                       "myvault.vault.azure.net/keys/k/0a1b/unwrapkey status=200 "
	                       "latency_ms=12 request_id=5b2d3c1e-0000-4000-8000-"
	                       "00000000abcd attempt=2"));
	assert_non_null(strstr(c.lines[3], "] warn op=C_GetSlotList: inner"));
	assert_non_null(strstr(c.lines[4], "] error slot=1 op=C_UnwrapKey: outer again"));
	assert_non_null(strstr(c.lines[5], "] info: after the call"));
	/* azkv-pkcs11 2026-12-06T16:20:01.123Z [pid:tid] */
	for (int i = 0; i < c.n; i++) {
		assert_int_equal(strncmp(c.lines[i], "azkv-pkcs11 ", 12), 0);
		assert_int_equal(c.lines[i][12 + 23], 'Z');
		assert_int_equal(c.lines[i][12 + 19], '.');
	}
}

static void http_failures_say_why_and_omit_what_is_unknown(void **state)
{
	captured c;

	(void)state;
	capture_start(&c, "info", "text");
	azkv_log_http_event(AZKV_LOG_INFO,
	                    &(azkv_log_http){.method = "GET",
	                                     .host = "login.microsoftonline.com",
	                                     .path = "/t/oauth2/v2.0/token",
	                                     .latency_ms = 5003,
	                                     .new_connection = 1,
	                                     .error = "Timeout was reached\nforged line"});
	azkv_log_http_event(AZKV_LOG_INFO, &(azkv_log_http){.method = "GET",
	                                                    .host = "a.vault.azure.net",
	                                                    .path = "/keys",
	                                                    .status = 401,
	                                                    .latency_ms = 3});
	capture_end(&c);

	assert_int_equal(c.n, 2);
	assert_non_null(strstr(c.lines[0], "] info: http: GET login.microsoftonline.com/t/oauth2/"
	                                   "v2.0/token failed latency_ms=5003 new_connection=1: "
	                                   "Timeout was reached\\nforged line"));
	assert_non_null(strstr(c.lines[1], "] info: http: GET a.vault.azure.net/keys status=401 "
	                                   "latency_ms=3"));
	assert_null(strstr(c.lines[1], "request_id"));
	assert_null(strstr(c.lines[1], "attempt"));
}

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double json_num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void json_lines_are_one_object_each_with_the_fields(void **state)
{
	captured c;
	cJSON *o;

	(void)state;
	capture_start(&c, "info", "json");
	{
		AZKV_LOG_CALL("C_UnwrapKey");
		azkv_log_call_set(NULL, 1);
		azkv_log_http_event(AZKV_LOG_INFO, &unwrap_200);
		/* A server's text: still one line, valid JSON and UTF-8. */
		azkv_warn("keyvault: HTTP 403: %s", "Denied.\n{\"level\":\"info\"}\x1b[2J\xff");
	}
	azkv_info("outside");
	capture_end(&c);

	assert_int_equal(c.n, 3);
	o = cJSON_Parse(c.lines[0]);
	assert_non_null(o);
	assert_int_equal(strlen(json_str(o, "time")), 24);
	assert_string_equal(json_str(o, "level"), "info");
	assert_int_equal((long)json_num(o, "pid"), (long)getpid());
	assert_true(json_num(o, "tid") > 0);
	assert_int_equal((int)json_num(o, "slot"), 1);
	assert_string_equal(json_str(o, "op"), "C_UnwrapKey");
	assert_non_null(strstr(json_str(o, "msg"), "http: POST myvault.vault.azure.net/keys/k/"));
	assert_string_equal(json_str(o, "method"), "POST");
	assert_string_equal(json_str(o, "host"), "myvault.vault.azure.net");
	assert_string_equal(json_str(o, "path"), "/keys/k/0a1b/unwrapkey");
	assert_int_equal((int)json_num(o, "status"), 200);
	assert_int_equal((int)json_num(o, "latency_ms"), 12);
	assert_string_equal(json_str(o, "request_id"), "5b2d3c1e-0000-4000-8000-00000000abcd");
	assert_int_equal((int)json_num(o, "attempt"), 2);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "error"));
	cJSON_Delete(o);

	o = cJSON_Parse(c.lines[1]);
	assert_non_null(o);
	assert_string_equal(json_str(o, "level"), "warn");
	assert_string_equal(json_str(o, "msg"),
	                    "keyvault: HTTP 403: Denied.\\n{\"level\":\"info\"}\\x1b[2J\\xff");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "status"));
	cJSON_Delete(o);

	o = cJSON_Parse(c.lines[2]);
	assert_non_null(o);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "slot"));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "op"));
	assert_string_equal(json_str(o, "msg"), "outside");
	cJSON_Delete(o);
}

static void environment_format_wins_and_a_bad_one_is_named(void **state)
{
	captured c;

	(void)state;
	setenv("AZKV_PKCS11_LOG_FORMAT", "json", 1);
	capture_start(&c, "info", "text");
	azkv_info("from the environment");
	capture_end(&c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.lines[0][0], '{');

	setenv("AZKV_PKCS11_LOG_FORMAT", "xml", 1);
	capture_start(&c, "info", "json");
	capture_end(&c);
	unsetenv("AZKV_PKCS11_LOG_FORMAT");
	/* Ignored, said once, and the config's form used. */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.lines[0][0], '{');
	assert_non_null(strstr(c.lines[0], "AZKV_PKCS11_LOG_FORMAT is not one of text, json"));
}

static void nothing_is_written_below_the_level(void **state)
{
	captured c;

	(void)state;
	capture_start(&c, "warn", "json");
	azkv_log_http_event(AZKV_LOG_INFO, &unwrap_200);
	azkv_info("quiet");
	capture_end(&c);
	assert_int_equal(c.n, 0);
}

/* The module holds what reading its configuration logs, so that it goes
 * where and as that configuration says (a JSON log with no text line). */
static void held_lines_follow_the_settings_configured_next(void **state)
{
	captured c;

	(void)state;
	azkv_log_configure("warn", "/dev/null", "text");
	azkv_log_hold();
	azkv_warn("config: read while held");
	azkv_debug("below the level configured next: dropped");
	capture_start(&c, "info", "json");
	azkv_info("after");
	capture_end(&c);

	assert_int_equal(c.n, 2);
	assert_non_null(strstr(c.lines[0], "\"level\":\"warn\""));
	assert_non_null(strstr(c.lines[0], "\"msg\":\"config: read while held\""));
	assert_non_null(strstr(c.lines[1], "\"msg\":\"after\""));
}

/* "log.level": "debug" in the configuration shows what reading it logged
 * at debug, though the level in force then was warn; trace stays out. */
static void held_lines_pass_the_level_configured_next(void **state)
{
	captured c;

	(void)state;
	azkv_log_configure("warn", "/dev/null", "text");
	azkv_log_hold();
	assert_true(azkv_log_enabled(AZKV_LOG_DEBUG));
	azkv_debug("config: read at debug");
	azkv_trace("config: read at trace");
	capture_start(&c, "debug", "text");
	capture_end(&c);

	assert_int_equal(c.n, 1);
	assert_non_null(strstr(c.lines[0], " debug: config: read at debug"));
	/* Released: the level in force decides again. */
	azkv_log_configure("warn", "/dev/null", "text");
	assert_false(azkv_log_enabled(AZKV_LOG_DEBUG));
	azkv_log_shutdown();
}

/* Beyond the 16 held lines, the rest are dropped, not written at once to
 * the old destination ahead of the held ones; a warning counts them. */
static void lines_beyond_the_held_ones_are_dropped_and_counted(void **state)
{
	captured before, after;
	char want[64];

	(void)state;
	capture_start(&before, "warn", "text");
	azkv_log_hold();
	for (int i = 0; i < 20; i++)
		azkv_warn("config: held %d", i);
	capture_start(&after, "warn", "text");
	capture_end(&after);
	capture_end(&before);

	assert_int_equal(before.n, 0);
	assert_int_equal(after.n, 17);
	for (int i = 0; i < 16; i++) {
		snprintf(want, sizeof(want), " warn: config: held %d", i);
		assert_non_null(strstr(after.lines[i], want));
	}
	assert_non_null(strstr(after.lines[16],
	                       " warn: log: 4 lines dropped while the configuration was read"));
}

/* The choices that messages list come from the names the parsers take. */
static void the_lists_of_names_are_those_parsed(void **state)
{
	azkv_log_level level;
	azkv_log_format format;

	(void)state;
	assert_string_equal(azkv_log_level_names(), "error, warn, info, debug, trace");
	assert_string_equal(azkv_log_format_names(), "text, json");
	assert_int_equal(azkv_log_level_parse("trace", &level), 0);
	assert_int_equal(level, AZKV_LOG_TRACE);
	assert_int_equal(azkv_log_format_parse("json", &format), 0);
	assert_int_equal(format, AZKV_LOG_JSON);
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
	        cmocka_unit_test(text_lines_carry_the_calls_slot_and_op),
	        cmocka_unit_test(http_failures_say_why_and_omit_what_is_unknown),
	        cmocka_unit_test(json_lines_are_one_object_each_with_the_fields),
	        cmocka_unit_test(environment_format_wins_and_a_bad_one_is_named),
	        cmocka_unit_test(nothing_is_written_below_the_level),
	        cmocka_unit_test(held_lines_follow_the_settings_configured_next),
	        cmocka_unit_test(held_lines_pass_the_level_configured_next),
	        cmocka_unit_test(lines_beyond_the_held_ones_are_dropped_and_counted),
	        cmocka_unit_test(the_lists_of_names_are_those_parsed),
	};

	/* The environment must not move the log elsewhere. */
	unsetenv("AZKV_PKCS11_LOG_FILE");
	unsetenv("AZKV_PKCS11_LOG_LEVEL");
	unsetenv("AZKV_PKCS11_LOG_FORMAT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
