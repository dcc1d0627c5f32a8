/* What C_SetAttributeValue and C_CopyObject may do to an object, decided
 * by the attribute table of its kind (internal.h): apart from object.c,
 * which the kinds use, so that no file calls back into one that calls it. */
#include <stdlib.h>

#include "internal.h"
#include "log.h"

/* The attribute table of obj's kind; NULL for a vault object, which
 * changes in the vault only. */
static const azkv_attr_rules *rules_of(const azkv_object *obj)
{
	if (obj->vkey != NULL)
		return NULL;
	switch (obj->cls) {
	case CKO_SECRET_KEY:
		return &azkv_secret_key_rules;
	case CKO_DATA:
		return &azkv_data_object_rules;
	default:
		return NULL;
	}
}

CK_RV azkv_object_check_changes(const azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                int copy)
{
	const azkv_attr_rules *r = rules_of(obj);
	if (r == NULL) {
		azkv_error("%s: object %lu comes from the vault and changes there only",
		           copy ? "C_CopyObject" : "C_SetAttributeValue",
		           (unsigned long)obj->handle);
		return CKR_ACTION_PROHIBITED;
	}
	return azkv_rules_check_changes(r, &obj->attrs, tmpl, n, copy);
}

static CK_RV apply_changes(azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		CK_RV rv = azkv_attrs_set(&obj->attrs, tmpl[i].type, tmpl[i].pValue,
		                          tmpl[i].ulValueLen);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

CK_RV azkv_object_set_attributes(azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_RV rv = azkv_object_check_changes(obj, tmpl, n, 0);
	return rv != CKR_OK ? rv : apply_changes(obj, tmpl, n);
}

CK_RV azkv_object_copy(const azkv_object *obj, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                       CK_ULONG n, azkv_object **out)
{
	CK_RV rv = azkv_object_check_changes(obj, tmpl, n, 1);
	if (rv != CKR_OK)
		return rv;
	azkv_object *copy = azkv_obj_alloc(obj->slot, session, obj->cls, obj->key_type);
	if (copy == NULL)
		return CKR_HOST_MEMORY;
	rv = CKR_HOST_MEMORY;
	if (azkv_bytes_set(&copy->value, obj->value.data, obj->value.len) != 0)
		goto out;
	for (size_t i = 0; i < obj->attrs.n; i++)
		if ((rv = azkv_attrs_set(&copy->attrs, obj->attrs.items[i].type,
		                         obj->attrs.items[i].pValue,
		                         obj->attrs.items[i].ulValueLen)) != CKR_OK)
			goto out;
	/* A copy is another object: its own CKA_UNIQUE_ID (3.0, 4.4.1). */
	if ((rv = apply_changes(copy, tmpl, n)) != CKR_OK ||
	    (rv = azkv_obj_set_unique_id(&copy->attrs)) != CKR_OK)
		goto out;
	*out = copy;
	copy = NULL;
out:
	azkv_object_free(copy);
	return rv;
}
