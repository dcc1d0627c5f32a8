/* The retry schedule of the Key Vault and ARM request loops (retry.c):
 * which statuses are retried, the full-jitter backoff and its bounds, the
 * server's hints (Retry-After in seconds or as an HTTP date,
 * x-ms-retry-after-ms / retry-after-ms), and the per-operation deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "retry.h"

static const azkv_retry_policy policy = {
        .max_retries = 5, .base_delay_ms = 800, .max_delay_ms = 30000, .deadline_ms = 120000};

static void transient_statuses_only_are_retried(void **state)
{
	static const long yes[] = {429, 500, 502, 503, 504};
	static const long no[] = {200, 400, 401, 403, 404, 409, 501, 505, 599};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(azkv_retry_status(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(azkv_retry_status(no[i]));
}

/* Without a hint: a uniform draw in [0, min(cap, base * 2^attempt)]. */
static void backoff_is_full_jitter_doubling_to_the_cap(void **state)
{
	(void)state;
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, NULL, 0.0), 0);
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, NULL, 0.5), 400);
	assert_in_range(azkv_retry_delay_ms(&policy, 0, NULL, 0.999999), 799, 800);
	assert_in_range(azkv_retry_delay_ms(&policy, 1, NULL, 0.999999), 1599, 1600);
	assert_in_range(azkv_retry_delay_ms(&policy, 3, NULL, 0.999999), 6399, 6400);
	/* 800 * 2^6 = 51200 is past the cap. */
	assert_in_range(azkv_retry_delay_ms(&policy, 6, NULL, 0.999999), 29999, 30000);
	assert_in_range(azkv_retry_delay_ms(&policy, 60, NULL, 0.999999), 29999, 30000);
	assert_int_equal(azkv_retry_delay_ms(&policy, 60, NULL, 0.5), 15000);
	/* Out-of-range draws do not stretch the bound. */
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, NULL, 7.0), 0);
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, NULL, -1.0), 0);
}

static void random_draws_fall_in_range_and_spread(void **state)
{
	long lo = 1000000, hi = -1, d;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		double r = azkv_retry_random();

		assert_true(r >= 0.0 && r < 1.0);
		d = azkv_retry_delay_ms(&policy, 2, NULL, r);
		assert_in_range(d, 0, 3200);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* 2000 draws cover most of [0, 3200]: jitter, not a constant. */
	assert_true(lo < 400);
	assert_true(hi > 2800);
}

static void server_hints_win_and_are_capped(void **state)
{
	azkv_http_response resp = {.status = 429};
	char date[64];
	long d;

	(void)state;
	resp.retry_after = "2";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.9), 2000);
	resp.retry_after = "0";
	assert_int_equal(azkv_retry_delay_ms(&policy, 4, &resp, 0.9), 0);
	resp.retry_after = "86400";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.9), 30000);
	/* A date in the past: no wait; garbage: the backoff. */
	resp.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.9), 0);
	resp.retry_after = "soon";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.5), 400);
	/* A date 10 s ahead: some of it is left. */
	{
		time_t t = time(NULL) + 10;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	resp.retry_after = date;
	d = azkv_retry_delay_ms(&policy, 0, &resp, 0.9);
	assert_in_range(d, 1000, 10000);
	/* Milliseconds (the SDKs' x-ms-retry-after-ms) win over Retry-After. */
	resp.retry_after = "5";
	resp.retry_after_ms = "250";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.9), 250);
	resp.retry_after_ms = "9999999";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.9), 30000);
	resp.retry_after_ms = "-3";
	assert_int_equal(azkv_retry_delay_ms(&policy, 0, &resp, 0.9), 5000);
}

/* azkv_retry_wait stops at the count and at the deadline, without
 * sleeping then, and leaves the response to the caller. */
static void wait_stops_at_the_count_and_the_deadline(void **state)
{
	azkv_retry_policy p = policy;
	azkv_http_response resp = {.status = 503};
	azkv_err err;
	long t0;

	(void)state;
	azkv_err_clear(&err);
	p.max_retries = 2;
	assert_int_equal(azkv_retry_wait(&p, 2, 0, "test", &resp, &err), 0);
	assert_int_equal(resp.status, 503);
	/* The next delay (Retry-After 5 s) would pass a deadline 1 s away. */
	resp.retry_after = strdup("5");
	t0 = azkv_now_ms();
	assert_int_equal(azkv_retry_wait(&p, 0, t0 + 1000, "test", &resp, &err), 0);
	assert_int_equal(resp.status, 503);
	assert_string_equal(resp.retry_after, "5");
	/* A connection failure at the deadline says so. */
	free(resp.retry_after);
	memset(&resp, 0, sizeof(resp));
	azkv_err_set(&err, AZKV_ERR_NETWORK, "connect refused");
	assert_int_equal(azkv_retry_wait(&p, 0, azkv_now_ms() - 1, "test", &resp, &err), 0);
	assert_int_equal(err.rc, AZKV_ERR_NETWORK);
	assert_non_null(strstr(err.message, "connect refused"));
	assert_non_null(strstr(err.message, "retry.deadline_ms"));
	/* Within the deadline: it sleeps (Retry-After 0) and frees resp. */
	resp.status = 429;
	resp.retry_after = strdup("0");
	assert_int_equal(azkv_retry_wait(&p, 0, azkv_now_ms() + 60000, "test", &resp, &err), 1);
	assert_int_equal(resp.status, 0);
	assert_null(resp.retry_after);
	assert_int_equal(azkv_retry_time_left(0), 0);
	assert_in_range(azkv_retry_time_left(azkv_now_ms() + 5000), 1, 5000);
	assert_int_equal(azkv_retry_time_left(azkv_now_ms() - 5000), 1);
}

/* The warning of a retry quotes the refused answer's x-ms-request-id, so
 * that a support ticket can name it. */
static void a_retry_names_the_request_id(void **state)
{
	azkv_http_response resp = {.status = 503};
	char path[] = "/tmp/azkv-test-retry.XXXXXX";
	char line[1024] = "";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	azkv_log_configure("warn", path, NULL);
	resp.retry_after = strdup("0");
	resp.request_id = strdup("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	assert_int_equal(azkv_retry_wait(&policy, 0, 0, "sign", &resp, NULL), 1);
	azkv_log_shutdown();
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	assert_non_null(strstr(line, "sign: HTTP 503; retry 1 of 5 in 0 ms (request id "
	                             "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(transient_statuses_only_are_retried),
	        cmocka_unit_test(backoff_is_full_jitter_doubling_to_the_cap),
	        cmocka_unit_test(random_draws_fall_in_range_and_spread),
	        cmocka_unit_test(server_hints_win_and_are_capped),
	        cmocka_unit_test(wait_stops_at_the_count_and_the_deadline),
	        cmocka_unit_test(a_retry_names_the_request_id),
	};

	unsetenv("AZKV_PKCS11_LOG_FILE");
	unsetenv("AZKV_PKCS11_LOG_LEVEL");
	unsetenv("AZKV_PKCS11_LOG_FORMAT");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
