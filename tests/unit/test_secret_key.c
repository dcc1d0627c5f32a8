/* Session secret keys (secret_key.c): one attribute table decides what a
 * template may give when a key is made and what C_SetAttributeValue and
 * C_CopyObject may change afterwards, so the three agree: whatever a copy
 * may change a new key may be given, every attribute a key has is one
 * they know, and protections only grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "object.h"
#include "obj_fixture.h"
#include "pkcs11_v3.h"

static const unsigned char KEY[16] = "0123456789abcdef";
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static azkv_object *make_key(const CK_ATTRIBUTE *extra, CK_ULONG n_extra, CK_RV *rv)
{
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE tmpl[4] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}};
	for (CK_ULONG i = 0; i < n_extra; i++)
		tmpl[1 + i] = extra[i];
	azkv_object *obj = NULL;
	*rv = azkv_secret_key_new(0, 1, tmpl, 1 + n_extra, KEY, sizeof(KEY), 1, CKM_AES_KEY_GEN,
	                          &obj);
	return obj;
}

/* A value of type's layout that is valid on a new AES key of KEY. */
static CK_ATTRIBUTE valid_value(const azkv_object *key, CK_ATTRIBUTE_TYPE type)
{
	const CK_ATTRIBUTE *have = azkv_attrs_find(&key->attrs, type);
	if (type == CKA_TOKEN)
		return (CK_ATTRIBUTE){type, &no, sizeof(no)};
	if (have != NULL && have->ulValueLen == sizeof(CK_BBOOL))
		return (CK_ATTRIBUTE){type, &yes, sizeof(yes)};
	if (type == CKA_START_DATE || type == CKA_END_DATE)
		return (CK_ATTRIBUTE){type, "20300101", 8};
	if (have != NULL && have->ulValueLen > 0)
		return *have;
	return (CK_ATTRIBUTE){type, "x", 1};
}

static void test_copy_changes_only_what_a_new_key_may_be_given(void **state)
{
	CK_RV rv;
	azkv_object *key = make_key(NULL, 0, &rv);
	assert_int_equal(rv, CKR_OK);
	/* Label, id, two dates, eleven booleans and the four kept for a copy. */
	assert_int_equal(count_changeable(key, valid_value, 1, make_key), 19);
	azkv_object_free(key);
}

static void test_every_attribute_of_a_key_is_known_to_changes(void **state)
{
	CK_RV rv;
	azkv_object *key = make_key(NULL, 0, &rv);
	assert_int_equal(rv, CKR_OK);
	assert_every_attribute_known(key, valid_value);
	/* The value is on the key, apart from its attributes. */
	CK_ATTRIBUTE value = {CKA_VALUE, (void *)KEY, sizeof(KEY)};
	assert_int_equal(azkv_object_check_changes(key, &value, 1, 0), CKR_ATTRIBUTE_READ_ONLY);
	azkv_object_free(key);
}

static void test_attribute_of_no_secret_key_refused_everywhere(void **state)
{
	CK_RV rv;
	azkv_object *key = make_key(NULL, 0, &rv);
	assert_int_equal(rv, CKR_OK);
	CK_ATTRIBUTE modulus = {CKA_MODULUS, "x", 1};
	assert_null(make_key(&modulus, 1, &rv));
	assert_int_equal(rv, CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(azkv_object_check_changes(key, &modulus, 1, 0),
	                 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(azkv_object_check_changes(key, &modulus, 1, 1),
	                 CKR_ATTRIBUTE_TYPE_INVALID);
	azkv_object_free(key);
}

static void test_protections_only_grow(void **state)
{
	CK_RV rv;
	CK_ATTRIBUTE locked[] = {{CKA_SENSITIVE, &yes, 1}, {CKA_EXTRACTABLE, &no, 1}};
	azkv_object *key = make_key(locked, 2, &rv);
	assert_int_equal(rv, CKR_OK);
	CK_ATTRIBUTE readable = {CKA_SENSITIVE, &no, 1};
	CK_ATTRIBUTE extractable = {CKA_EXTRACTABLE, &yes, 1};
	CK_ATTRIBUTE to_token = {CKA_TOKEN, &yes, 1};
	CK_ATTRIBUTE private = {CKA_PRIVATE, &yes, 1};
	for (int copy = 0; copy < 2; copy++) {
		assert_int_equal(azkv_object_check_changes(key, &readable, 1, copy),
		                 CKR_ATTRIBUTE_READ_ONLY);
		assert_int_equal(azkv_object_check_changes(key, &extractable, 1, copy),
		                 CKR_ATTRIBUTE_READ_ONLY);
		assert_int_equal(azkv_object_check_changes(key, &locked[0], 1, copy), CKR_OK);
	}
	assert_int_equal(azkv_object_check_changes(key, &to_token, 1, 1),
	                 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(azkv_object_check_changes(key, &private, 1, 0), CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(azkv_object_check_changes(key, &private, 1, 1), CKR_OK);
	assert_null(make_key(&to_token, 1, &rv));
	assert_int_equal(rv, CKR_ATTRIBUTE_VALUE_INVALID);
	azkv_object_free(key);
}

/* A template that names no use gets every use but derivation, as in
 * SoftHSMv2 (C_CreateObject there; the MACs need CKA_SIGN and
 * CKA_VERIFY), and a use the template names is as given. */
static void test_uses_default_to_all_but_derive(void **state)
{
	static const CK_ATTRIBUTE_TYPE on[] = {CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,
	                                       CKA_VERIFY,  CKA_WRAP,    CKA_UNWRAP};
	CK_RV rv;
	azkv_object *key = make_key(NULL, 0, &rv);
	assert_int_equal(rv, CKR_OK);
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		assert_true(azkv_attrs_bool(&key->attrs, on[i], CK_FALSE));
	assert_false(azkv_attrs_bool(&key->attrs, CKA_DERIVE, CK_TRUE));
	azkv_object_free(key);
	CK_ATTRIBUTE no_sign[] = {{CKA_SIGN, &no, sizeof(no)}};
	key = make_key(no_sign, 1, &rv);
	assert_int_equal(rv, CKR_OK);
	assert_false(azkv_attrs_bool(&key->attrs, CKA_SIGN, CK_TRUE));
	assert_true(azkv_attrs_bool(&key->attrs, CKA_VERIFY, CK_FALSE));
	azkv_object_free(key);
}

int main(void)
{
	/* The refusals tried here are logged; not to the test's output. */
	azkv_log_configure("error", "/dev/null", NULL);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_copy_changes_only_what_a_new_key_may_be_given),
	        cmocka_unit_test(test_every_attribute_of_a_key_is_known_to_changes),
	        cmocka_unit_test(test_attribute_of_no_secret_key_refused_everywhere),
	        cmocka_unit_test(test_protections_only_grow),
	        cmocka_unit_test(test_uses_default_to_all_but_derive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
