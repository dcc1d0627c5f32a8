/* Attribute storage, template reading and matching, C_GetAttributeValue
 * semantics and secret-key template rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "attr.h"
#include "azkv/azkv-pkcs11.h"
#include "object.h"

static void test_set_replaces_and_find_returns_copy(void **state)
{
	azkv_attrs a = {0};
	char label[] = "first";
	assert_int_equal(azkv_attrs_set_string(&a, CKA_LABEL, label), CKR_OK);
	label[0] = 'X'; /* the stored value is a copy */
	assert_int_equal(azkv_attrs_set_string(&a, CKA_LABEL, "second!"), CKR_OK);
	assert_int_equal(a.n, 1);
	const CK_ATTRIBUTE *got = azkv_attrs_find(&a, CKA_LABEL);
	assert_non_null(got);
	assert_int_equal(got->ulValueLen, 7);
	assert_memory_equal(got->pValue, "second!", 7);
	assert_null(azkv_attrs_find(&a, CKA_ID));
	azkv_attrs_free(&a);
}

/* Past the first allocation (azkv_attrs_set grows it by doubling):
 * every attribute kept, each findable with its own value. */
static void test_many_attributes_all_kept(void **state)
{
	azkv_attrs a = {0};
	for (CK_ULONG i = 0; i < 100; i++)
		assert_int_equal(azkv_attrs_set_ulong(&a, CKA_VENDOR_DEFINED + i, i * 7), CKR_OK);
	assert_int_equal(azkv_attrs_set_ulong(&a, CKA_VENDOR_DEFINED + 50, 1), CKR_OK);
	assert_int_equal(a.n, 100);
	for (CK_ULONG i = 0; i < 100; i++) {
		const CK_ATTRIBUTE *got = azkv_attrs_find(&a, CKA_VENDOR_DEFINED + i);
		assert_non_null(got);
		assert_int_equal(*(const CK_ULONG *)got->pValue, i == 50 ? 1 : i * 7);
	}
	azkv_attrs_free(&a);
	assert_int_equal(a.n, 0);
	assert_int_equal(azkv_attrs_set_bool(&a, CKA_TOKEN, CK_TRUE), CKR_OK);
	assert_int_equal(a.n, 1);
	azkv_attrs_free(&a);
}

static void test_bool_default_when_absent_or_malformed(void **state)
{
	azkv_attrs a = {0};
	assert_int_equal(azkv_attrs_bool(&a, CKA_TOKEN, CK_TRUE), CK_TRUE);
	azkv_attrs_set_ulong(&a, CKA_TOKEN, 0); /* wrong size for a CK_BBOOL */
	assert_int_equal(azkv_attrs_bool(&a, CKA_TOKEN, CK_TRUE), CK_TRUE);
	azkv_attrs_set_bool(&a, CKA_TOKEN, CK_FALSE);
	assert_int_equal(azkv_attrs_bool(&a, CKA_TOKEN, CK_TRUE), CK_FALSE);
	azkv_attrs_free(&a);
}

static void test_tmpl_reads_typed_values_and_rejects_bad_sizes(void **state)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG len = 32;
	CK_ULONG bad = 1;
	CK_ATTRIBUTE t[] = {{CKA_SENSITIVE, &yes, sizeof(yes)},
	                    {CKA_VALUE_LEN, &len, sizeof(len)},
	                    {CKA_EXTRACTABLE, &bad, sizeof(bad)},
	                    {CKA_KEY_TYPE, NULL, sizeof(CK_ULONG)}};
	CK_BBOOL b = CK_FALSE;
	CK_ULONG u = 0;
	int present;
	assert_int_equal(azkv_tmpl_bool(t, 4, CKA_SENSITIVE, &b, &present), CKR_OK);
	assert_true(present);
	assert_int_equal(b, CK_TRUE);
	assert_int_equal(azkv_tmpl_ulong(t, 4, CKA_VALUE_LEN, &u, &present), CKR_OK);
	assert_int_equal(u, 32);
	assert_int_equal(azkv_tmpl_bool(t, 4, CKA_EXTRACTABLE, &b, &present),
	                 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(azkv_tmpl_ulong(t, 4, CKA_KEY_TYPE, &u, &present),
	                 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(azkv_tmpl_bool(t, 4, CKA_TOKEN, &b, &present), CKR_OK);
	assert_false(present);
}

static void test_template_matching(void **state)
{
	azkv_attrs a = {0};
	azkv_attrs_set_ulong(&a, CKA_CLASS, CKO_PRIVATE_KEY);
	azkv_attrs_set_string(&a, CKA_LABEL, "cmk");
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, pub = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE match[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_LABEL, "cmk", 3}};
	CK_ATTRIBUTE other_class[] = {{CKA_CLASS, &pub, sizeof(pub)}};
	CK_ATTRIBUTE prefix[] = {{CKA_LABEL, "cm", 2}};
	CK_ATTRIBUTE absent[] = {{CKA_ID, "x", 1}};
	assert_true(azkv_tmpl_matches(&a, NULL, 0));
	assert_true(azkv_tmpl_matches(&a, match, 2));
	assert_false(azkv_tmpl_matches(&a, other_class, 1));
	assert_false(azkv_tmpl_matches(&a, prefix, 1));
	assert_false(azkv_tmpl_matches(&a, absent, 1));
	azkv_attrs_free(&a);
}

static void test_copy_out_follows_two_call_convention(void **state)
{
	unsigned char buf[4];
	CK_ATTRIBUTE query = {CKA_LABEL, NULL, 0};
	assert_int_equal(azkv_attr_copy_out(&query, "abcdef", 6), CKR_OK);
	assert_int_equal(query.ulValueLen, 6);
	CK_ATTRIBUTE small = {CKA_LABEL, buf, sizeof(buf)};
	assert_int_equal(azkv_attr_copy_out(&small, "abcdef", 6), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(small.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	CK_ATTRIBUTE fits = {CKA_LABEL, buf, sizeof(buf)};
	assert_int_equal(azkv_attr_copy_out(&fits, "abc", 3), CKR_OK);
	assert_int_equal(fits.ulValueLen, 3);
	assert_memory_equal(buf, "abc", 3);
}

static const unsigned char KEY32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                        12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                        23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A caller's template with a NULL pValue and a length (found by
 * tests/fuzz/fuzz_templates through C_UnwrapKey: the label was copied
 * from NULL) is refused, not read. */
static void test_unwrapped_key_defaults_to_sensitive(void **state)
{
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}};
	azkv_object *obj = NULL;
	assert_int_equal(
	        azkv_secret_key_new(0, 1, t, 1, KEY32, 32, 0, CK_UNAVAILABLE_INFORMATION, &obj),
	        CKR_OK);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_SENSITIVE, CK_FALSE), CK_TRUE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_ALWAYS_SENSITIVE, CK_TRUE), CK_FALSE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_LOCAL, CK_TRUE), CK_FALSE);

	/* Reading the value is refused; other attributes in the same call
	 * are still answered, and unknown ones are flagged. */
	unsigned char value[32];
	CK_ULONG len = 0;
	CK_ATTRIBUTE get[] = {{CKA_VALUE, value, sizeof(value)},
	                      {CKA_VALUE_LEN, &len, sizeof(len)},
	                      {CKA_MODULUS, NULL, 0}};
	CK_RV rv = azkv_object_get_attributes(obj, get, 3);
	assert_true(rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(get[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(len, 32);
	assert_int_equal(get[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	azkv_object_free(obj);
}

static void test_non_sensitive_extractable_value_is_readable(void **state)
{
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)},
	                    {CKA_SENSITIVE, &no, sizeof(no)},
	                    {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	azkv_object *obj = NULL;
	assert_int_equal(
	        azkv_secret_key_new(0, 1, t, 3, KEY32, 32, 0, CK_UNAVAILABLE_INFORMATION, &obj),
	        CKR_OK);
	unsigned char value[32];
	CK_ATTRIBUTE get = {CKA_VALUE, value, sizeof(value)};
	assert_int_equal(azkv_object_get_attributes(obj, &get, 1), CKR_OK);
	assert_memory_equal(value, KEY32, 32);
	azkv_object_free(obj);
}

static CK_RV make(CK_ATTRIBUTE *t, CK_ULONG n, CK_ULONG value_len)
{
	azkv_object *obj = NULL;
	CK_RV rv = azkv_secret_key_new(0, 1, t, n, KEY32, value_len, 0, CK_UNAVAILABLE_INFORMATION,
	                               &obj);
	azkv_object_free(obj);
	return rv;
}

static void test_secret_template_rules(void **state)
{
	CK_KEY_TYPE aes = CKK_AES, rsa = CKK_RSA;
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG sixteen = 16;
	CK_OBJECT_CLASS pub = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE no_type[] = {{CKA_SENSITIVE, &yes, sizeof(yes)}};
	CK_ATTRIBUTE token[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_TOKEN, &yes, sizeof(yes)}};
	CK_ATTRIBUTE read_only[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)},
	                            {CKA_LOCAL, &yes, sizeof(yes)}};
	CK_ATTRIBUTE wrong_len[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)},
	                            {CKA_VALUE_LEN, &sixteen, sizeof(sixteen)}};
	CK_ATTRIBUTE wrong_type[] = {{CKA_KEY_TYPE, &rsa, sizeof(rsa)}};
	CK_ATTRIBUTE wrong_class[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)},
	                              {CKA_CLASS, &pub, sizeof(pub)}};
	CK_ATTRIBUTE foreign[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_MODULUS, "x", 1}};
	CK_ATTRIBUTE value[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_VALUE, "x", 1}};
	CK_ATTRIBUTE ok[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}};

	assert_int_equal(make(no_type, 1, 32), CKR_TEMPLATE_INCOMPLETE);
	assert_int_equal(make(token, 2, 32), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(make(read_only, 2, 32), CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(make(wrong_len, 2, 32), CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(make(wrong_type, 1, 32), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(make(wrong_class, 2, 32), CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(make(foreign, 2, 32), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(make(value, 2, 32), CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(make(ok, 1, 20), CKR_KEY_SIZE_RANGE);
	assert_int_equal(make(ok, 1, 24), CKR_OK);
}

static void test_generated_key_records_its_history(void **state)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_EXTRACTABLE, &no, sizeof(no)}};
	azkv_object *obj = NULL;
	assert_int_equal(azkv_secret_key_new(0, 1, t, 1, KEY32, 32, 1, CKM_AES_KEY_GEN, &obj),
	                 CKR_OK);
	assert_int_equal(obj->key_type, CKK_AES);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_LOCAL, CK_FALSE), CK_TRUE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_NEVER_EXTRACTABLE, CK_FALSE), CK_TRUE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_ALWAYS_SENSITIVE, CK_FALSE), CK_TRUE);
	azkv_object_free(obj);
}

/* Issue 15: a NULL pValue with a length crashed the module in
 * azkv_attrs_set's memcpy (C_GenerateKey, C_CreateObject, C_UnwrapKey). */
static void test_secret_key_with_null_label_value_is_refused(void **state)
{
	CK_KEY_TYPE aes = CKK_AES;
	static const CK_ATTRIBUTE_TYPE copied[] = {CKA_LABEL, CKA_ID, CKA_START_DATE, CKA_END_DATE};
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}, {copied[i], NULL, 8}};
		assert_int_equal(make(t, 2, 32), CKR_ATTRIBUTE_VALUE_INVALID);
	}
	azkv_attrs a = {0};
	assert_int_equal(azkv_attrs_set(&a, CKA_LABEL, NULL, 5), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(a.n, 0);
	assert_int_equal(azkv_attrs_set(&a, CKA_LABEL, NULL, 0), CKR_OK);
	assert_int_equal(a.n, 1);
	azkv_attrs_free(&a);
}

static void test_tmpl_check_null_template(void **state)
{
	assert_int_equal(azkv_tmpl_check(NULL, 0, "test"), CKR_OK);
	assert_int_equal(azkv_tmpl_check(NULL, 1, "test"), CKR_ARGUMENTS_BAD);
}

/* One entry at a time: what azkv_tmpl_check answers for it. */
static CK_RV check_one(CK_ATTRIBUTE_TYPE type, const void *value, CK_ULONG len)
{
	CK_ATTRIBUTE t = {type, (void *)value, len};
	return azkv_tmpl_check(&t, 1, "test");
}

static void test_tmpl_check_values(void **state)
{
	CK_BBOOL b = CK_TRUE;
	CK_ULONG u = 1;
	CK_MECHANISM_TYPE mechs[2] = {CKM_AES_GCM, CKM_AES_KEY_WRAP};
	const CK_RV bad = CKR_ATTRIBUTE_VALUE_INVALID;
	/* NULL with a length, whatever the type; NULL with none is "empty". */
	assert_int_equal(check_one(CKA_LABEL, NULL, 5), bad);
	assert_int_equal(check_one(CKA_ID, NULL, 1), bad);
	assert_int_equal(check_one(CKA_VALUE, NULL, 32), bad);
	assert_int_equal(check_one(0x80001234UL, NULL, 1), bad); /* unknown vendor type */
	assert_int_equal(check_one(CKA_LABEL, NULL, 0), CKR_OK);
	assert_int_equal(check_one(CKA_LABEL, "x", 1), CKR_OK);
	/* A wild length never reaches a copy. */
	assert_int_equal(check_one(CKA_LABEL, "x", CK_UNAVAILABLE_INFORMATION), bad);
	assert_int_equal(check_one(CKA_ID, "x", AZKV_ATTR_VALUE_MAX + 1), bad);
	/* CK_BBOOL and CK_ULONG have their size. */
	assert_int_equal(check_one(CKA_SENSITIVE, &b, sizeof(b)), CKR_OK);
	assert_int_equal(check_one(CKA_SENSITIVE, &u, sizeof(u)), bad);
	assert_int_equal(check_one(CKA_TOKEN, NULL, 0), bad);
	assert_int_equal(check_one(CKA_CLASS, &u, sizeof(u)), CKR_OK);
	assert_int_equal(check_one(CKA_KEY_TYPE, &b, sizeof(b)), bad);
	assert_int_equal(check_one(CKA_VALUE_LEN, &u, 4), bad);
	assert_int_equal(check_one(CKA_AZKV_KEY_OPS, &u, sizeof(u)), CKR_OK);
	assert_int_equal(check_one(CKA_AZKV_ENABLED, &u, sizeof(u)), bad);
	/* CK_DATE: 8 digits or empty. */
	assert_int_equal(check_one(CKA_START_DATE, "20261205", 8), CKR_OK);
	assert_int_equal(check_one(CKA_END_DATE, NULL, 0), CKR_OK);
	assert_int_equal(check_one(CKA_END_DATE, "2026", 4), bad);
	assert_int_equal(check_one(CKA_END_DATE, "2026-12-05", 10), bad);
	assert_int_equal(check_one(CKA_START_DATE, "2026120x", 8), bad);
	/* Arrays: whole elements. */
	assert_int_equal(check_one(CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs)), CKR_OK);
	assert_int_equal(check_one(CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs) - 1), bad);
	assert_int_equal(check_one(CKA_WRAP_TEMPLATE, NULL, 0), CKR_OK);
	assert_int_equal(check_one(CKA_WRAP_TEMPLATE, mechs, 3), bad);
}

static void test_tmpl_check_stops_at_the_first_bad_entry(void **state)
{
	CK_BBOOL b = CK_TRUE;
	CK_ATTRIBUTE t[] = {{CKA_LABEL, "ok", 2}, {CKA_ENCRYPT, &b, sizeof(b)}, {CKA_ID, NULL, 4}};
	assert_int_equal(azkv_tmpl_check(t, 2, "test"), CKR_OK);
	assert_int_equal(azkv_tmpl_check(t, 3, "test"), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_string_equal(azkv_attr_name(CKA_START_DATE), "CKA_START_DATE");
	assert_null(azkv_attr_name(0x80001234UL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_set_replaces_and_find_returns_copy),
	        cmocka_unit_test(test_many_attributes_all_kept),
	        cmocka_unit_test(test_bool_default_when_absent_or_malformed),
	        cmocka_unit_test(test_tmpl_reads_typed_values_and_rejects_bad_sizes),
	        cmocka_unit_test(test_template_matching),
	        cmocka_unit_test(test_copy_out_follows_two_call_convention),
	        cmocka_unit_test(test_unwrapped_key_defaults_to_sensitive),
	        cmocka_unit_test(test_non_sensitive_extractable_value_is_readable),
	        cmocka_unit_test(test_secret_template_rules),
	        cmocka_unit_test(test_generated_key_records_its_history),
	        cmocka_unit_test(test_secret_key_with_null_label_value_is_refused),
	        cmocka_unit_test(test_tmpl_check_null_template),
	        cmocka_unit_test(test_tmpl_check_values),
	        cmocka_unit_test(test_tmpl_check_stops_at_the_first_bad_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
