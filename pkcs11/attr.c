#include "attr.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static CK_ATTRIBUTE *find_mut(azkv_attrs *a, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->items[i].type == type)
			return &a->items[i];
	return NULL;
}

CK_RV azkv_attrs_set(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, const void *value, CK_ULONG len)
{
	void *copy = NULL;
	if (value == NULL && len > 0)
		return CKR_ATTRIBUTE_VALUE_INVALID; /* a caller's template: NULL with a length */
	if (len > 0) {
		copy = malloc(len);
		if (copy == NULL)
			return CKR_HOST_MEMORY;
		memcpy(copy, value, len);
	}
	CK_ATTRIBUTE *slot = find_mut(a, type);
	if (slot == NULL) {
		CK_ATTRIBUTE *items = realloc(a->items, (a->n + 1) * sizeof(*items));
		if (items == NULL) {
			free(copy);
			return CKR_HOST_MEMORY;
		}
		a->items = items;
		slot = &a->items[a->n++];
	} else {
		OPENSSL_clear_free(slot->pValue, slot->ulValueLen);
	}
	slot->type = type;
	slot->pValue = copy;
	slot->ulValueLen = len;
	return CKR_OK;
}

CK_RV azkv_attrs_set_bool(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, CK_BBOOL v)
{
	return azkv_attrs_set(a, type, &v, sizeof(v));
}

CK_RV azkv_attrs_set_ulong(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return azkv_attrs_set(a, type, &v, sizeof(v));
}

CK_RV azkv_attrs_set_string(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, const char *s)
{
	return azkv_attrs_set(a, type, s, s ? strlen(s) : 0);
}

const CK_ATTRIBUTE *azkv_attrs_find(const azkv_attrs *a, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->items[i].type == type)
			return &a->items[i];
	return NULL;
}

CK_BBOOL azkv_attrs_bool(const azkv_attrs *a, CK_ATTRIBUTE_TYPE type, CK_BBOOL dflt)
{
	const CK_ATTRIBUTE *attr = azkv_attrs_find(a, type);
	if (attr == NULL || attr->ulValueLen != sizeof(CK_BBOOL))
		return dflt;
	return *(const CK_BBOOL *)attr->pValue ? CK_TRUE : CK_FALSE;
}

void azkv_attrs_free(azkv_attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		OPENSSL_clear_free(a->items[i].pValue, a->items[i].ulValueLen);
	free(a->items);
	a->items = NULL;
	a->n = 0;
}

const CK_ATTRIBUTE *azkv_tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	/* The last occurrence wins, as in most tokens. */
	const CK_ATTRIBUTE *found = NULL;
	for (CK_ULONG i = 0; i < n; i++)
		if (t[i].type == type)
			found = &t[i];
	return found;
}

CK_RV azkv_tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_BBOOL *out,
                     int *present)
{
	const CK_ATTRIBUTE *attr = azkv_tmpl_find(t, n, type);
	*present = 0;
	if (attr == NULL)
		return CKR_OK;
	if (attr->pValue == NULL || attr->ulValueLen != sizeof(CK_BBOOL))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	*out = *(const CK_BBOOL *)attr->pValue ? CK_TRUE : CK_FALSE;
	*present = 1;
	return CKR_OK;
}

CK_RV azkv_tmpl_ulong(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_ULONG *out,
                      int *present)
{
	const CK_ATTRIBUTE *attr = azkv_tmpl_find(t, n, type);
	*present = 0;
	if (attr == NULL)
		return CKR_OK;
	if (attr->pValue == NULL || attr->ulValueLen != sizeof(CK_ULONG))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(out, attr->pValue, sizeof(CK_ULONG));
	*present = 1;
	return CKR_OK;
}

int azkv_tmpl_matches(const azkv_attrs *a, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const CK_ATTRIBUTE *have = azkv_attrs_find(a, tmpl[i].type);
		if (have == NULL || have->ulValueLen != tmpl[i].ulValueLen)
			return 0;
		if (have->ulValueLen > 0 &&
		    (tmpl[i].pValue == NULL ||
		     memcmp(have->pValue, tmpl[i].pValue, have->ulValueLen)))
			return 0;
	}
	return 1;
}

CK_RV azkv_attr_copy_out(CK_ATTRIBUTE *dst, const void *value, CK_ULONG len)
{
	if (dst->pValue == NULL) {
		dst->ulValueLen = len;
		return CKR_OK;
	}
	if (dst->ulValueLen < len) {
		dst->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (len > 0)
		memcpy(dst->pValue, value, len);
	dst->ulValueLen = len;
	return CKR_OK;
}
