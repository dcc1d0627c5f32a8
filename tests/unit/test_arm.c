/* The ARM client's offline parts: error bodies into azkv_err, the status
 * of a long-running operation, Retry-After, and argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arm.h"
#include "retry.h"

/* ARM's answer for a missing vault (shape of the real service). */
#define NOT_FOUND_BODY                                                                             \
	"{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The Resource "                    \
	"'Microsoft.KeyVault/vaults/nosuch' under resource group 'rg' was not found.\"}}"

static void error_body_maps_status_and_code(void **state)
{
	static const struct {
		long status;
		azkv_rc rc;
	} cases[] = {
	        {400, AZKV_ERR_BAD_PARAMETER}, {401, AZKV_ERR_AUTH},
	        {403, AZKV_ERR_FORBIDDEN},     {404, AZKV_ERR_NOT_FOUND},
	        {409, AZKV_ERR_CONFLICT},      {429, AZKV_ERR_THROTTLED},
	        {503, AZKV_ERR_SERVER},        {412, AZKV_ERR_BAD_PARAMETER},
	};
	azkv_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		azkv_err_clear(&err);
		assert_int_equal(azkv_arm_error_from_response(cases[i].status, NOT_FOUND_BODY,
		                                              "ARM GET /x", &err),
		                 cases[i].rc);
		assert_int_equal(err.rc, cases[i].rc);
		assert_int_equal(err.http_status, cases[i].status);
		assert_string_equal(err.code, "ResourceNotFound");
		assert_non_null(strstr(err.message, "ARM GET /x"));
		assert_non_null(strstr(err.message, "was not found"));
	}
}

static void error_without_body_keeps_status(void **state)
{
	azkv_err err;

	(void)state;
	azkv_err_clear(&err);
	assert_int_equal(azkv_arm_error_from_response(502, "<html>bad gateway</html>", NULL, &err),
	                 AZKV_ERR_SERVER);
	assert_int_equal(err.http_status, 502);
	assert_string_equal(err.code, "");
	assert_non_null(strstr(err.message, "ARM"));
}

static void op_status_succeeded_and_running(void **state)
{
	azkv_arm_op_state st;
	azkv_err err;

	(void)state;
	azkv_err_clear(&err);
	assert_int_equal(
	        azkv_arm_op_status_parse("{\"id\":\"/x\",\"status\":\"Succeeded\"}", &st, &err),
	        AZKV_OK);
	assert_int_equal(st, AZKV_ARM_OP_SUCCEEDED);
	assert_int_equal(err.rc, AZKV_OK);
	assert_int_equal(azkv_arm_op_status_parse("{\"status\":\"InProgress\"}", &st, &err),
	                 AZKV_OK);
	assert_int_equal(st, AZKV_ARM_OP_RUNNING);
	assert_int_equal(azkv_arm_op_status_parse("{\"status\":\"Accepted\"}", &st, &err), AZKV_OK);
	assert_int_equal(st, AZKV_ARM_OP_RUNNING);
	assert_int_equal(err.rc, AZKV_OK);
}

static void op_status_failed_carries_error(void **state)
{
	azkv_arm_op_state st;
	azkv_err err;

	(void)state;
	azkv_err_clear(&err);
	assert_int_equal(
	        azkv_arm_op_status_parse("{\"status\":\"Failed\",\"error\":{\"code\":"
	                                 "\"KeyVaultAccessForbidden\",\"message\":\"no wrapKey\"}}",
	                                 &st, &err),
	        AZKV_OK);
	assert_int_equal(st, AZKV_ARM_OP_FAILED);
	assert_int_equal(err.rc, AZKV_ERR_SERVER);
	assert_string_equal(err.code, "KeyVaultAccessForbidden");
	assert_non_null(strstr(err.message, "no wrapKey"));

	azkv_err_clear(&err);
	assert_int_equal(azkv_arm_op_status_parse("{\"status\":\"Canceled\"}", &st, &err), AZKV_OK);
	assert_int_equal(st, AZKV_ARM_OP_CANCELED);
	assert_int_equal(err.rc, AZKV_ERR_CONFLICT);
	assert_string_equal(err.code, "");
}

static void op_status_malformed_is_protocol_error(void **state)
{
	static const char *bad[] = {NULL, "", "not json", "{}", "{\"status\":3}", "[]"};
	azkv_arm_op_state st;
	azkv_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		azkv_err_clear(&err);
		assert_int_equal(azkv_arm_op_status_parse(bad[i], &st, &err), AZKV_ERR_PROTOCOL);
		assert_int_equal(st, AZKV_ARM_OP_RUNNING);
	}
}

static void retry_after_seconds_capped(void **state)
{
	(void)state;
	assert_int_equal(azkv_retry_after_ms(NULL, 1000, 60000), 1000);
	assert_int_equal(azkv_retry_after_ms("2", 1000, 60000), 2000);
	assert_int_equal(azkv_retry_after_ms("0", 1000, 60000), 0);
	assert_int_equal(azkv_retry_after_ms("3600", 1000, 60000), 60000);
	assert_int_equal(azkv_retry_after_ms("-1", 1000, 60000), 1000);
	/* An HTTP date: the time left until it (none when past). */
	assert_int_equal(azkv_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1000, 60000), 0);
	assert_int_equal(azkv_retry_after_ms("not a date", 1000, 60000), 1000);
	assert_int_equal(azkv_retry_after_ms("99999999999999999999", 1000, 60000), 1000);
	assert_int_equal(azkv_retry_after_ms(NULL, 90000, 60000), 60000);
}

/* The token goes with nextLink, Location and Azure-AsyncOperation URLs
 * only when they are on the endpoint, compared parsed. */
static void poll_and_next_urls_must_be_on_the_endpoint(void **state)
{
	static const char *const ep = "https://management.azure.com";

	(void)state;
	assert_true(azkv_http_same_origin(ep, "https://management.azure.com/subscriptions/x"));
	assert_true(azkv_http_same_origin(ep, "https://MANAGEMENT.azure.com:443/x?a=b"));
	assert_false(azkv_http_same_origin(ep, "https://management.azure.com.evil.net/x"));
	assert_false(azkv_http_same_origin(ep, "https://management.azure.com@evil.net/x"));
	assert_false(azkv_http_same_origin(ep, "https://user@management.azure.com/x"));
	assert_false(azkv_http_same_origin(ep, "http://management.azure.com/x"));
	assert_false(azkv_http_same_origin(ep, "https://management.azure.com:8443/x"));
	assert_false(azkv_http_same_origin(ep, "https://evil.net/https://management.azure.com/"));
	assert_false(azkv_http_same_origin(ep, "/relative/path"));
	assert_false(azkv_http_same_origin(ep, NULL));
}

static void request_refuses_bad_arguments(void **state)
{
	cJSON *resp = (cJSON *)0x1;
	azkv_arm_client *arm = (azkv_arm_client *)0x1;
	long status = -1;
	azkv_err err;

	(void)state;
	azkv_err_clear(&err);
	assert_int_equal(azkv_arm_request(NULL, "GET", "/subscriptions/x", "2024-01-01", NULL,
	                                  &resp, &status, &err),
	                 AZKV_ERR_INVALID_ARG);
	assert_null(resp);
	assert_int_equal(status, 0);
	assert_int_equal(azkv_arm_client_new(NULL, NULL, 3, NULL, NULL, &arm, &err),
	                 AZKV_ERR_INVALID_ARG);
	assert_null(arm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(error_body_maps_status_and_code),
	        cmocka_unit_test(error_without_body_keeps_status),
	        cmocka_unit_test(op_status_succeeded_and_running),
	        cmocka_unit_test(op_status_failed_carries_error),
	        cmocka_unit_test(op_status_malformed_is_protocol_error),
	        cmocka_unit_test(retry_after_seconds_capped),
	        cmocka_unit_test(poll_and_next_urls_must_be_on_the_endpoint),
	        cmocka_unit_test(request_refuses_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
