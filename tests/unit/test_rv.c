/* Azure errors become the CK_RV that PKCS#11 callers expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rv.h"

static CK_RV map(azkv_rc rc, azkv_rv_ctx ctx)
{
	azkv_err err;
	memset(&err, 0, sizeof(err));
	err.rc = rc;
	return azkv_rv_map(&err, ctx);
}

static void test_forbidden_on_key_op_is_key_function_not_permitted(void **state)
{
	assert_int_equal(map(AZKV_ERR_FORBIDDEN, AZKV_CTX_UNWRAP), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(map(AZKV_ERR_FORBIDDEN, AZKV_CTX_KEY_OP), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

static void test_forbidden_while_listing_is_device_error(void **state)
{
	assert_int_equal(map(AZKV_ERR_FORBIDDEN, AZKV_CTX_TOKEN), CKR_DEVICE_ERROR);
}

static void test_bad_parameter_on_unwrap_is_wrapped_key_invalid(void **state)
{
	assert_int_equal(map(AZKV_ERR_BAD_PARAMETER, AZKV_CTX_UNWRAP), CKR_WRAPPED_KEY_INVALID);
	assert_int_equal(map(AZKV_ERR_BAD_PARAMETER, AZKV_CTX_KEY_OP), CKR_ENCRYPTED_DATA_INVALID);
}

/* A wrapkey the vault refuses as a bad parameter is a C_WrapKey error:
 * the key to wrap does not fit (as the local RSA wrap says), not
 * CKR_ENCRYPTED_DATA_INVALID, which C_WrapKey does not return. The other
 * answers are those of any vault key operation. */
static void test_bad_parameter_on_wrap_is_key_size_range(void **state)
{
	assert_int_equal(map(AZKV_ERR_BAD_PARAMETER, AZKV_CTX_WRAP), CKR_KEY_SIZE_RANGE);
	assert_int_equal(map(AZKV_ERR_FORBIDDEN, AZKV_CTX_WRAP), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(map(AZKV_ERR_NOT_FOUND, AZKV_CTX_WRAP), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(map(AZKV_ERR_THROTTLED, AZKV_CTX_WRAP), CKR_DEVICE_ERROR);
}

static void test_not_found_depends_on_context(void **state)
{
	assert_int_equal(map(AZKV_ERR_NOT_FOUND, AZKV_CTX_UNWRAP),
	                 CKR_UNWRAPPING_KEY_HANDLE_INVALID);
	assert_int_equal(map(AZKV_ERR_NOT_FOUND, AZKV_CTX_KEY_OP), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(map(AZKV_ERR_NOT_FOUND, AZKV_CTX_TOKEN), CKR_DEVICE_ERROR);
}

static void test_transport_and_service_failures_are_device_error(void **state)
{
	const azkv_rc rcs[] = {AZKV_ERR_NETWORK, AZKV_ERR_AUTH,     AZKV_ERR_THROTTLED,
	                       AZKV_ERR_SERVER,  AZKV_ERR_PROTOCOL, AZKV_ERR_CONFLICT};
	for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++)
		for (int ctx = AZKV_CTX_TOKEN; ctx <= AZKV_CTX_UNWRAP; ctx++)
			assert_int_equal(map(rcs[i], (azkv_rv_ctx)ctx), CKR_DEVICE_ERROR);
}

static void test_config_error_is_general_error(void **state)
{
	assert_int_equal(map(AZKV_ERR_CONFIG, AZKV_CTX_INIT), CKR_GENERAL_ERROR);
}

static void test_local_failures(void **state)
{
	assert_int_equal(map(AZKV_OK, AZKV_CTX_KEY_OP), CKR_OK);
	assert_int_equal(map(AZKV_ERR_NOMEM, AZKV_CTX_KEY_OP), CKR_HOST_MEMORY);
	assert_int_equal(map(AZKV_ERR_CRYPTO, AZKV_CTX_KEY_OP), CKR_FUNCTION_FAILED);
	assert_int_equal(map(AZKV_ERR_UNSUPPORTED, AZKV_CTX_KEY_OP), CKR_MECHANISM_INVALID);
}

static void test_sign_in_the_vault(void **state)
{
	assert_int_equal(map(AZKV_ERR_FORBIDDEN, AZKV_CTX_SIGN), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(map(AZKV_ERR_NOT_FOUND, AZKV_CTX_SIGN), CKR_KEY_HANDLE_INVALID);
	/* The module checks digest and alg first: a refusal is no data error. */
	assert_int_equal(map(AZKV_ERR_BAD_PARAMETER, AZKV_CTX_SIGN), CKR_FUNCTION_FAILED);
	assert_int_equal(map(AZKV_ERR_THROTTLED, AZKV_CTX_SIGN), CKR_DEVICE_ERROR);
	assert_string_equal(azkv_rv_name(CKR_SIGNATURE_INVALID), "CKR_SIGNATURE_INVALID");
	assert_string_equal(azkv_rv_name(CKR_SIGNATURE_LEN_RANGE), "CKR_SIGNATURE_LEN_RANGE");
}

/* C_GenerateKeyPair's codes: no key-permission code is one of its, so a
 * refused create (403) is a token this identity cannot write; a name held
 * by a deleted key (409) is the label's fault. */
static void test_create_in_the_vault(void **state)
{
	assert_int_equal(map(AZKV_ERR_FORBIDDEN, AZKV_CTX_KEYGEN), CKR_TOKEN_WRITE_PROTECTED);
	assert_int_equal(map(AZKV_ERR_CONFLICT, AZKV_CTX_KEYGEN), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(map(AZKV_ERR_BAD_PARAMETER, AZKV_CTX_KEYGEN), CKR_FUNCTION_FAILED);
	assert_int_equal(map(AZKV_ERR_THROTTLED, AZKV_CTX_KEYGEN), CKR_DEVICE_ERROR);
	/* Elsewhere a conflict stays a device error. */
	assert_int_equal(map(AZKV_ERR_CONFLICT, AZKV_CTX_KEY_OP), CKR_DEVICE_ERROR);
}

static void test_rv_names(void **state)
{
	assert_string_equal(azkv_rv_name(CKR_DEVICE_ERROR), "CKR_DEVICE_ERROR");
	assert_string_equal(azkv_rv_name(CKR_WRAPPED_KEY_INVALID), "CKR_WRAPPED_KEY_INVALID");
	assert_string_equal(azkv_rv_name(0x8000ABCDUL), "CKR_VENDOR_OR_UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_forbidden_on_key_op_is_key_function_not_permitted),
	        cmocka_unit_test(test_forbidden_while_listing_is_device_error),
	        cmocka_unit_test(test_bad_parameter_on_unwrap_is_wrapped_key_invalid),
	        cmocka_unit_test(test_bad_parameter_on_wrap_is_key_size_range),
	        cmocka_unit_test(test_not_found_depends_on_context),
	        cmocka_unit_test(test_transport_and_service_failures_are_device_error),
	        cmocka_unit_test(test_config_error_is_general_error),
	        cmocka_unit_test(test_local_failures),
	        cmocka_unit_test(test_sign_in_the_vault),
	        cmocka_unit_test(test_create_in_the_vault),
	        cmocka_unit_test(test_rv_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
