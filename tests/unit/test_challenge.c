/* The Key Vault 401 challenge (WWW-Authenticate: Bearer ...): the header
 * forms recorded from the real service, and the variants RFC 7235 allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "challenge.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"

/* Verbatim from tests/recordings/keyvault-keys-2018 (every 401 there). */
#define RECORDED_2018                                                                              \
	"Bearer authorization=\"https://login.windows.net/" TENANT "\", "                          \
	"resource=\"https://vault.azure.net\""

static void parse_ok(const char *header, azkv_challenge *c)
{
	azkv_err err;

	azkv_err_clear(&err);
	if (azkv_challenge_parse(header, c, &err) != AZKV_OK)
		fail_msg("\"%s\" refused: %s", header, err.message);
}

static void expect_protocol_error(const char *header)
{
	azkv_challenge c = {.scope = (char *)0x1};
	azkv_err err;

	azkv_err_clear(&err);
	if (azkv_challenge_parse(header, &c, &err) != AZKV_ERR_PROTOCOL)
		fail_msg("\"%s\" was accepted", header ? header : "(null)");
	assert_int_equal(err.rc, AZKV_ERR_PROTOCOL);
	assert_true(err.message[0] != '\0');
	assert_null(c.scope);
	assert_null(c.authorization);
	azkv_challenge_free(&c);
}

static void recorded_login_windows_net_challenge_gives_tenant_and_scope(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok(RECORDED_2018, &c);
	assert_string_equal(c.authorization, "https://login.windows.net/" TENANT);
	assert_string_equal(c.tenant_id, TENANT);
	assert_string_equal(c.resource, "https://vault.azure.net");
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	azkv_challenge_free(&c);
	assert_null(c.scope);
}

static void scope_parameter_is_used_as_is(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("Bearer authorization=\"https://login.microsoftonline.com/" TENANT "\", "
	         "scope=\"https://vault.azure.net/.default\"",
	         &c);
	assert_null(c.resource);
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	assert_string_equal(c.tenant_id, TENANT);
	azkv_challenge_free(&c);
}

static void scope_wins_over_resource_when_both_are_given(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("Bearer authorization=\"https://login.windows.net/" TENANT "\", "
	         "resource=\"https://vault.azure.net\", "
	         "scope=\"https://vault.azure.net/user_impersonation\"",
	         &c);
	assert_string_equal(c.resource, "https://vault.azure.net");
	assert_string_equal(c.scope, "https://vault.azure.net/user_impersonation");
	azkv_challenge_free(&c);
}

static void unquoted_values_are_accepted(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("Bearer authorization=https://login.windows.net/" TENANT
	         ", resource=https://vault.azure.net",
	         &c);
	assert_string_equal(c.authorization, "https://login.windows.net/" TENANT);
	assert_string_equal(c.tenant_id, TENANT);
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	azkv_challenge_free(&c);
}

static void reversed_order_and_space_separators_are_accepted(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("  bearer   resource=\"https://managedhsm.azure.net\"   "
	         "authorization=\"https://login.microsoftonline.com/" TENANT "/\"",
	         &c);
	assert_string_equal(c.resource, "https://managedhsm.azure.net");
	assert_string_equal(c.scope, "https://managedhsm.azure.net/.default");
	/* A trailing '/' on the authority does not hide the tenant. */
	assert_string_equal(c.tenant_id, TENANT);
	azkv_challenge_free(&c);
}

static void other_parameters_and_a_following_challenge_are_ignored(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("Bearer realm=\"\", error=\"invalid_token\", error_description=\"The access "
	         "token expired, renew it\", authorization_uri=\"https://login.windows.net/" TENANT
	         "\", resource=\"https://vault.azure.net/\", PoP nonce=\"abc=\"",
	         &c);
	assert_string_equal(c.authorization, "https://login.windows.net/" TENANT);
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	azkv_challenge_free(&c);
}

static void escaped_quotes_in_values_are_unescaped(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("Bearer error_description=\"say \\\"hi\\\", then go\", "
	         "resource=\"https://vault.azure.net\"",
	         &c);
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	azkv_challenge_free(&c);
}

static void missing_authorization_leaves_tenant_null(void **state)
{
	azkv_challenge c;

	(void)state;
	parse_ok("Bearer resource=\"https://vault.azure.net\"", &c);
	assert_null(c.authorization);
	assert_null(c.tenant_id);
	assert_string_equal(c.scope, "https://vault.azure.net/.default");
	azkv_challenge_free(&c);
}

static void non_bearer_challenges_are_refused(void **state)
{
	(void)state;
	expect_protocol_error("Basic realm=\"vault\"");
	expect_protocol_error("PoP nonce=\"abc\", resource=\"https://vault.azure.net\"");
	expect_protocol_error("Bearerx resource=\"https://vault.azure.net\"");
	expect_protocol_error("Negotiate");
	expect_protocol_error("");
	expect_protocol_error(NULL);
}

static void bearer_without_resource_or_scope_is_refused(void **state)
{
	(void)state;
	expect_protocol_error("Bearer");
	expect_protocol_error("Bearer   ");
	expect_protocol_error("Bearer authorization=\"https://login.windows.net/" TENANT "\"");
	expect_protocol_error("Bearer resource=\"\"");
}

static void unterminated_quote_is_refused(void **state)
{
	(void)state;
	expect_protocol_error("Bearer resource=\"https://vault.azure.net");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(recorded_login_windows_net_challenge_gives_tenant_and_scope),
	        cmocka_unit_test(scope_parameter_is_used_as_is),
	        cmocka_unit_test(scope_wins_over_resource_when_both_are_given),
	        cmocka_unit_test(unquoted_values_are_accepted),
	        cmocka_unit_test(reversed_order_and_space_separators_are_accepted),
	        cmocka_unit_test(other_parameters_and_a_following_challenge_are_ignored),
	        cmocka_unit_test(escaped_quotes_in_values_are_unescaped),
	        cmocka_unit_test(missing_authorization_leaves_tenant_null),
	        cmocka_unit_test(non_bearer_challenges_are_refused),
	        cmocka_unit_test(bearer_without_resource_or_scope_is_refused),
	        cmocka_unit_test(unterminated_quote_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
