/* What the attribute-table tests of the session object kinds share
 * (test_secret_key.c, test_data_object.c): every attribute type there is,
 * and the properties every kind's table must have. Include after cmocka.h
 * and object.h. */
#ifndef AZKV_TEST_OBJ_FIXTURE_H
#define AZKV_TEST_OBJ_FIXTURE_H

/* Every attribute type PKCS#11 defines lies below 0x1000, alone or with
 * CKF_ARRAY_ATTRIBUTE: the tests try them all. */
#define N_TYPES 0x2000

static CK_ATTRIBUTE_TYPE type_at(size_t i)
{
	return (CK_ATTRIBUTE_TYPE)(i & 0xfff) | (i & 0x1000 ? CKF_ARRAY_ATTRIBUTE : 0);
}

/* A value of type's layout that is valid on obj (the test's own). */
typedef CK_ATTRIBUTE (*valid_value_fn)(const azkv_object *obj, CK_ATTRIBUTE_TYPE type);
/* A new object of the kind from a base template and extra (the test's own). */
typedef azkv_object *(*make_fn)(const CK_ATTRIBUTE *extra, CK_ULONG n_extra, CK_RV *rv);

/* How many attribute types C_SetAttributeValue (copy 0) or C_CopyObject
 * (copy 1) may change on obj. With make, also fails when one of them could
 * not be given to a new object: whatever a copy may change, a new object
 * may be given. */
static size_t count_changeable(const azkv_object *obj, valid_value_fn valid, int copy, make_fn make)
{
	size_t n = 0;
	for (size_t i = 0; i < N_TYPES; i++) {
		CK_ATTRIBUTE v = valid(obj, type_at(i));
		CK_RV rv;
		if (azkv_object_check_changes(obj, &v, 1, copy) != CKR_OK)
			continue;
		n++;
		azkv_object *made = make != NULL ? make(&v, 1, &rv) : NULL;
		if (make != NULL && rv != CKR_OK)
			fail_msg("attribute 0x%lx: a copy may change it, a new object may not be "
			         "given it (0x%lx)",
			         (unsigned long)v.type, (unsigned long)rv);
		azkv_object_free(made);
	}
	return n;
}

/* Fails when an attribute obj has is unknown to set or to copy. */
static void assert_every_attribute_known(const azkv_object *obj, valid_value_fn valid)
{
	for (size_t i = 0; i < obj->attrs.n; i++) {
		CK_ATTRIBUTE v = valid(obj, obj->attrs.items[i].type);
		for (int copy = 0; copy < 2; copy++)
			if (azkv_object_check_changes(obj, &v, 1, copy) ==
			    CKR_ATTRIBUTE_TYPE_INVALID)
				fail_msg("attribute 0x%lx is on the object but unknown to %s",
				         (unsigned long)v.type, copy ? "copy" : "set");
	}
}

#endif
