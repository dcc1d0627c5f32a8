/* Session data objects (data_object.c): the attribute table decides what
 * C_CreateObject may be given, what C_SetAttributeValue and C_CopyObject
 * may change afterwards (PKCS#11 3.0 4.4 and 4.5: only CKA_LABEL and, one
 * way, CKA_COPYABLE by a set; the storage booleans in a copy too), and
 * that CKA_OBJECT_ID is the DER of an object identifier. */
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

static CK_OBJECT_CLASS data_class = CKO_DATA;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
/* id-data, 1.2.840.113549.1.7.1 (RFC 5652, 4), DER-encoded. */
static const unsigned char ID_DATA[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                        0xf7, 0x0d, 0x01, 0x07, 0x01};

static azkv_object *make(const CK_ATTRIBUTE *extra, CK_ULONG n_extra, CK_RV *rv)
{
	CK_ATTRIBUTE tmpl[8] = {{CKA_CLASS, &data_class, sizeof(data_class)}};
	for (CK_ULONG i = 0; i < n_extra; i++)
		tmpl[1 + i] = extra[i];
	azkv_object *obj = NULL;
	*rv = azkv_data_object_new(0, 1, tmpl, 1 + n_extra, &obj);
	return obj;
}

/* A value of type's layout that is valid on a new data object. */
static CK_ATTRIBUTE valid_value(const azkv_object *obj, CK_ATTRIBUTE_TYPE type)
{
	const CK_ATTRIBUTE *have = azkv_attrs_find(&obj->attrs, type);
	if (type == CKA_TOKEN || type == CKA_COPYABLE)
		return (CK_ATTRIBUTE){type, &no, sizeof(no)};
	if (have != NULL && have->ulValueLen == sizeof(CK_BBOOL))
		return (CK_ATTRIBUTE){type, &yes, sizeof(yes)};
	if (type == CKA_OBJECT_ID)
		return (CK_ATTRIBUTE){type, (void *)ID_DATA, sizeof(ID_DATA)};
	if (have != NULL && have->ulValueLen > 0)
		return *have;
	return (CK_ATTRIBUTE){type, "x", 1};
}

/* Most tests start from a bare data object (class only), in *state. */
static int bare_object(void **state)
{
	CK_RV rv;
	*state = make(NULL, 0, &rv);
	return rv == CKR_OK ? 0 : -1;
}

static int free_object(void **state)
{
	azkv_object_free(*state);
	return 0;
}

static void test_defaults_of_a_bare_data_object(void **state)
{
	azkv_object *obj = *state;
	assert_int_equal(obj->cls, CKO_DATA);
	assert_int_equal(obj->session, 1);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_TOKEN, CK_TRUE), CK_FALSE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_PRIVATE, CK_TRUE), CK_FALSE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_MODIFIABLE, CK_FALSE), CK_TRUE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_COPYABLE, CK_FALSE), CK_TRUE);
	assert_int_equal(azkv_attrs_bool(&obj->attrs, CKA_DESTROYABLE, CK_FALSE), CK_TRUE);
	/* 4.5: CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE default to empty. */
	const CK_ATTRIBUTE_TYPE empty[] = {CKA_LABEL, CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE};
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		const CK_ATTRIBUTE *a = azkv_attrs_find(&obj->attrs, empty[i]);
		assert_non_null(a);
		assert_int_equal(a->ulValueLen, 0);
	}
	const CK_ATTRIBUTE *id = azkv_attrs_find(&obj->attrs, CKA_UNIQUE_ID);
	assert_non_null(id);
	assert_int_equal(id->ulValueLen, 32);
}

static void test_value_reads_back_through_get_attributes(void **state)
{
	CK_RV rv;
	CK_ATTRIBUTE given[] = {{CKA_APPLICATION, "app", 3},
	                        {CKA_VALUE, "payload", 7},
	                        {CKA_OBJECT_ID, (void *)ID_DATA, sizeof(ID_DATA)}};
	azkv_object *obj = make(given, 3, &rv);
	assert_int_equal(rv, CKR_OK);
	unsigned char value[16], oid[16];
	CK_ATTRIBUTE get[] = {{CKA_VALUE, value, sizeof(value)}, {CKA_OBJECT_ID, oid, sizeof(oid)}};
	assert_int_equal(azkv_object_get_attributes(obj, get, 2), CKR_OK);
	assert_int_equal(get[0].ulValueLen, 7);
	assert_memory_equal(value, "payload", 7);
	assert_int_equal(get[1].ulValueLen, sizeof(ID_DATA));
	assert_memory_equal(oid, ID_DATA, sizeof(ID_DATA));
	azkv_object_free(obj);
}

static void test_set_changes_the_label_and_copyable_only(void **state)
{
	azkv_object *obj = *state;
	assert_int_equal(count_changeable(obj, valid_value, 0, NULL), 2);
	CK_ATTRIBUTE label = {CKA_LABEL, "renamed", 7};
	assert_int_equal(azkv_object_set_attributes(obj, &label, 1), CKR_OK);
	const CK_ATTRIBUTE *now = azkv_attrs_find(&obj->attrs, CKA_LABEL);
	assert_int_equal(now->ulValueLen, 7);
	assert_memory_equal(now->pValue, "renamed", 7);
	/* Fixed once made (4.5 marks none of them modifiable). */
	const CK_ATTRIBUTE_TYPE fixed[] = {CKA_CLASS, CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE,
	                                   CKA_UNIQUE_ID};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		CK_ATTRIBUTE v = valid_value(obj, fixed[i]);
		for (int copy = 0; copy < 2; copy++)
			assert_int_equal(azkv_object_check_changes(obj, &v, 1, copy),
			                 CKR_ATTRIBUTE_READ_ONLY);
	}
	/* Copyable only one way. */
	CK_ATTRIBUTE uncopyable = {CKA_COPYABLE, &no, 1}, copyable = {CKA_COPYABLE, &yes, 1};
	assert_int_equal(azkv_object_set_attributes(obj, &uncopyable, 1), CKR_OK);
	assert_int_equal(azkv_object_check_changes(obj, &copyable, 1, 0), CKR_ATTRIBUTE_READ_ONLY);
}

static void test_copy_changes_only_what_a_new_object_may_be_given(void **state)
{
	azkv_object *obj = *state;
	/* Label and copyable, and token, private, modifiable, destroyable. */
	assert_int_equal(count_changeable(obj, valid_value, 1, make), 6);
}

static void test_every_attribute_of_a_data_object_is_known_to_changes(void **state)
{
	azkv_object *obj = *state;
	assert_every_attribute_known(obj, valid_value);
}

static void test_attributes_of_keys_refused_everywhere(void **state)
{
	azkv_object *obj = *state;
	CK_RV rv;
	CK_KEY_TYPE aes = CKK_AES;
	const CK_ATTRIBUTE foreign[] = {
	        {CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_ID, "x", 1}, {CKA_SENSITIVE, &yes, 1}};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		assert_null(make(&foreign[i], 1, &rv));
		assert_int_equal(rv, CKR_ATTRIBUTE_TYPE_INVALID);
		for (int copy = 0; copy < 2; copy++)
			assert_int_equal(azkv_object_check_changes(obj, &foreign[i], 1, copy),
			                 CKR_ATTRIBUTE_TYPE_INVALID);
	}
}

static void test_session_objects_only(void **state)
{
	CK_RV rv;
	CK_ATTRIBUTE to_token = {CKA_TOKEN, &yes, 1};
	assert_null(make(&to_token, 1, &rv));
	assert_int_equal(rv, CKR_ATTRIBUTE_VALUE_INVALID);
	azkv_object *obj = make(NULL, 0, &rv);
	assert_int_equal(rv, CKR_OK);
	assert_int_equal(azkv_object_check_changes(obj, &to_token, 1, 1),
	                 CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE unique = {CKA_UNIQUE_ID, "mine", 4};
	assert_null(make(&unique, 1, &rv));
	assert_int_equal(rv, CKR_ATTRIBUTE_READ_ONLY);
	CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	CK_ATTRIBUTE other_class = {CKA_CLASS, &secret, sizeof(secret)};
	assert_null(make(&other_class, 1, &rv));
	assert_int_equal(rv, CKR_TEMPLATE_INCONSISTENT);
	azkv_object_free(obj);
}

static void test_object_id_is_der_of_an_oid(void **state)
{
	CK_RV rv;
	unsigned char trailing[sizeof(ID_DATA) + 1];
	memcpy(trailing, ID_DATA, sizeof(ID_DATA));
	trailing[sizeof(ID_DATA)] = 0;
	/* An OCTET STRING of the same bytes, a length past the end, a
	 * trailing byte: none is an OBJECT IDENTIFIER. */
	unsigned char octets[sizeof(ID_DATA)];
	memcpy(octets, ID_DATA, sizeof(ID_DATA));
	octets[0] = 0x04;
	const CK_ATTRIBUTE bad[] = {{CKA_OBJECT_ID, octets, sizeof(octets)},
	                            {CKA_OBJECT_ID, (void *)ID_DATA, sizeof(ID_DATA) - 1},
	                            {CKA_OBJECT_ID, trailing, sizeof(trailing)},
	                            {CKA_OBJECT_ID, "1.2.3", 5}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(make(&bad[i], 1, &rv));
		assert_int_equal(rv, CKR_ATTRIBUTE_VALUE_INVALID);
	}
	const CK_ATTRIBUTE good[] = {{CKA_OBJECT_ID, (void *)ID_DATA, sizeof(ID_DATA)},
	                             {CKA_OBJECT_ID, NULL, 0}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		azkv_object *obj = make(&good[i], 1, &rv);
		assert_int_equal(rv, CKR_OK);
		azkv_object_free(obj);
	}
}

static void test_copy_is_another_object(void **state)
{
	CK_RV rv;
	CK_ATTRIBUTE given[] = {{CKA_VALUE, "payload", 7}, {CKA_LABEL, "original", 8}};
	azkv_object *obj = make(given, 2, &rv);
	assert_int_equal(rv, CKR_OK);
	CK_ATTRIBUTE change[] = {{CKA_LABEL, "copy", 4}, {CKA_MODIFIABLE, &no, 1}};
	azkv_object *copy = NULL;
	assert_int_equal(azkv_object_copy(obj, 2, change, 2, &copy), CKR_OK);
	assert_int_equal(copy->session, 2);
	assert_int_equal(copy->cls, CKO_DATA);
	const CK_ATTRIBUTE *value = azkv_attrs_find(&copy->attrs, CKA_VALUE);
	assert_int_equal(value->ulValueLen, 7);
	assert_memory_equal(value->pValue, "payload", 7);
	const CK_ATTRIBUTE *label = azkv_attrs_find(&copy->attrs, CKA_LABEL);
	assert_int_equal(label->ulValueLen, 4);
	assert_memory_equal(label->pValue, "copy", 4);
	assert_int_equal(azkv_attrs_bool(&copy->attrs, CKA_MODIFIABLE, CK_TRUE), CK_FALSE);
	/* Its own CKA_UNIQUE_ID (3.0, 4.4.1). */
	const CK_ATTRIBUTE *a = azkv_attrs_find(&obj->attrs, CKA_UNIQUE_ID);
	const CK_ATTRIBUTE *b = azkv_attrs_find(&copy->attrs, CKA_UNIQUE_ID);
	assert_int_equal(a->ulValueLen, b->ulValueLen);
	assert_memory_not_equal(a->pValue, b->pValue, a->ulValueLen);
	azkv_object_free(copy);
	azkv_object_free(obj);
}

int main(void)
{
	/* The refusals tried here are logged; not to the test's output. */
	azkv_log_configure("error", "/dev/null", NULL);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_defaults_of_a_bare_data_object, bare_object,
	                                        free_object),
	        cmocka_unit_test(test_value_reads_back_through_get_attributes),
	        cmocka_unit_test_setup_teardown(test_set_changes_the_label_and_copyable_only,
	                                        bare_object, free_object),
	        cmocka_unit_test_setup_teardown(
	                test_copy_changes_only_what_a_new_object_may_be_given, bare_object,
	                free_object),
	        cmocka_unit_test_setup_teardown(
	                test_every_attribute_of_a_data_object_is_known_to_changes, bare_object,
	                free_object),
	        cmocka_unit_test_setup_teardown(test_attributes_of_keys_refused_everywhere,
	                                        bare_object, free_object),
	        cmocka_unit_test(test_session_objects_only),
	        cmocka_unit_test(test_object_id_is_der_of_an_oid),
	        cmocka_unit_test(test_copy_is_another_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
