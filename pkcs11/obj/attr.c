#include "attr.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "azkv/azkv-pkcs11.h"
#include "log.h"
#include "pkcs11_v3.h"

/* How a value of each attribute type is laid out, where the specification
 * fixes it; one row per attribute. */
typedef enum value_kind {
	VALUE_BYTES = 0, /* any length: strings, DER, byte arrays */
	VALUE_BBOOL,
	VALUE_ULONG,
	VALUE_DATE,       /* a CK_DATE, or empty */
	VALUE_ULONG_LIST, /* CK_MECHANISM_TYPE[] */
	VALUE_ATTR_LIST,  /* CK_ATTRIBUTE[] (wrap/unwrap/derive templates) */
} value_kind;

static const struct {
	CK_ATTRIBUTE_TYPE type;
	const char *name;
	value_kind kind;
} known_attrs[] = {
        {CKA_CLASS, "CKA_CLASS", VALUE_ULONG},
        {CKA_TOKEN, "CKA_TOKEN", VALUE_BBOOL},
        {CKA_PRIVATE, "CKA_PRIVATE", VALUE_BBOOL},
        {CKA_LABEL, "CKA_LABEL", VALUE_BYTES},
        {CKA_UNIQUE_ID, "CKA_UNIQUE_ID", VALUE_BYTES},
        {CKA_APPLICATION, "CKA_APPLICATION", VALUE_BYTES},
        {CKA_VALUE, "CKA_VALUE", VALUE_BYTES},
        {CKA_OBJECT_ID, "CKA_OBJECT_ID", VALUE_BYTES},
        {CKA_CERTIFICATE_TYPE, "CKA_CERTIFICATE_TYPE", VALUE_ULONG},
        {CKA_ISSUER, "CKA_ISSUER", VALUE_BYTES},
        {CKA_SERIAL_NUMBER, "CKA_SERIAL_NUMBER", VALUE_BYTES},
        {CKA_TRUSTED, "CKA_TRUSTED", VALUE_BBOOL},
        {CKA_CERTIFICATE_CATEGORY, "CKA_CERTIFICATE_CATEGORY", VALUE_ULONG},
        {CKA_JAVA_MIDP_SECURITY_DOMAIN, "CKA_JAVA_MIDP_SECURITY_DOMAIN", VALUE_ULONG},
        {CKA_CHECK_VALUE, "CKA_CHECK_VALUE", VALUE_BYTES},
        {CKA_KEY_TYPE, "CKA_KEY_TYPE", VALUE_ULONG},
        {CKA_SUBJECT, "CKA_SUBJECT", VALUE_BYTES},
        {CKA_ID, "CKA_ID", VALUE_BYTES},
        {CKA_SENSITIVE, "CKA_SENSITIVE", VALUE_BBOOL},
        {CKA_ENCRYPT, "CKA_ENCRYPT", VALUE_BBOOL},
        {CKA_DECRYPT, "CKA_DECRYPT", VALUE_BBOOL},
        {CKA_WRAP, "CKA_WRAP", VALUE_BBOOL},
        {CKA_UNWRAP, "CKA_UNWRAP", VALUE_BBOOL},
        {CKA_SIGN, "CKA_SIGN", VALUE_BBOOL},
        {CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER", VALUE_BBOOL},
        {CKA_VERIFY, "CKA_VERIFY", VALUE_BBOOL},
        {CKA_VERIFY_RECOVER, "CKA_VERIFY_RECOVER", VALUE_BBOOL},
        {CKA_DERIVE, "CKA_DERIVE", VALUE_BBOOL},
        {CKA_START_DATE, "CKA_START_DATE", VALUE_DATE},
        {CKA_END_DATE, "CKA_END_DATE", VALUE_DATE},
        {CKA_MODULUS, "CKA_MODULUS", VALUE_BYTES},
        {CKA_MODULUS_BITS, "CKA_MODULUS_BITS", VALUE_ULONG},
        {CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT", VALUE_BYTES},
        {CKA_PUBLIC_KEY_INFO, "CKA_PUBLIC_KEY_INFO", VALUE_BYTES},
        {CKA_VALUE_LEN, "CKA_VALUE_LEN", VALUE_ULONG},
        {CKA_EXTRACTABLE, "CKA_EXTRACTABLE", VALUE_BBOOL},
        {CKA_LOCAL, "CKA_LOCAL", VALUE_BBOOL},
        {CKA_NEVER_EXTRACTABLE, "CKA_NEVER_EXTRACTABLE", VALUE_BBOOL},
        {CKA_ALWAYS_SENSITIVE, "CKA_ALWAYS_SENSITIVE", VALUE_BBOOL},
        {CKA_KEY_GEN_MECHANISM, "CKA_KEY_GEN_MECHANISM", VALUE_ULONG},
        {CKA_MODIFIABLE, "CKA_MODIFIABLE", VALUE_BBOOL},
        {CKA_COPYABLE, "CKA_COPYABLE", VALUE_BBOOL},
        {CKA_DESTROYABLE, "CKA_DESTROYABLE", VALUE_BBOOL},
        {CKA_EC_PARAMS, "CKA_EC_PARAMS", VALUE_BYTES},
        {CKA_EC_POINT, "CKA_EC_POINT", VALUE_BYTES},
        {CKA_ALWAYS_AUTHENTICATE, "CKA_ALWAYS_AUTHENTICATE", VALUE_BBOOL},
        {CKA_WRAP_WITH_TRUSTED, "CKA_WRAP_WITH_TRUSTED", VALUE_BBOOL},
        {CKA_WRAP_TEMPLATE, "CKA_WRAP_TEMPLATE", VALUE_ATTR_LIST},
        {CKA_UNWRAP_TEMPLATE, "CKA_UNWRAP_TEMPLATE", VALUE_ATTR_LIST},
        {CKA_DERIVE_TEMPLATE, "CKA_DERIVE_TEMPLATE", VALUE_ATTR_LIST},
        {CKA_ALLOWED_MECHANISMS, "CKA_ALLOWED_MECHANISMS", VALUE_ULONG_LIST},
        {CKA_NAME_HASH_ALGORITHM, "CKA_NAME_HASH_ALGORITHM", VALUE_ULONG},
        {CKA_HW_FEATURE_TYPE, "CKA_HW_FEATURE_TYPE", VALUE_ULONG},
        {CKA_MECHANISM_TYPE, "CKA_MECHANISM_TYPE", VALUE_ULONG},
        {CKA_AZKV_KEY_ID, "CKA_AZKV_KEY_ID", VALUE_BYTES},
        {CKA_AZKV_KEY_VERSION, "CKA_AZKV_KEY_VERSION", VALUE_BYTES},
        {CKA_AZKV_CURRENT_VERSION, "CKA_AZKV_CURRENT_VERSION", VALUE_BBOOL},
        {CKA_AZKV_VAULT_URI, "CKA_AZKV_VAULT_URI", VALUE_BYTES},
        {CKA_AZKV_KEY_NAME, "CKA_AZKV_KEY_NAME", VALUE_BYTES},
        {CKA_AZKV_ENABLED, "CKA_AZKV_ENABLED", VALUE_BBOOL},
        {CKA_AZKV_TAGS, "CKA_AZKV_TAGS", VALUE_BYTES},
        {CKA_AZKV_KEY_OPS, "CKA_AZKV_KEY_OPS", VALUE_ULONG},
};

#define N_KNOWN_ATTRS (sizeof(known_attrs) / sizeof(known_attrs[0]))

static value_kind kind_of(CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < N_KNOWN_ATTRS; i++)
		if (known_attrs[i].type == type)
			return known_attrs[i].kind;
	return VALUE_BYTES;
}

const char *azkv_attr_name(CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < N_KNOWN_ATTRS; i++)
		if (known_attrs[i].type == type)
			return known_attrs[i].name;
	return NULL;
}

/* Why value v is not a valid value of its type; NULL when it is. */
static const char *value_problem(const CK_ATTRIBUTE *v)
{
	if (v->pValue == NULL && v->ulValueLen != 0)
		return "pValue is NULL but ulValueLen is not 0";
	if (v->ulValueLen > AZKV_ATTR_VALUE_MAX)
		return "ulValueLen is out of range";
	switch (kind_of(v->type)) {
	case VALUE_BBOOL:
		return v->ulValueLen == sizeof(CK_BBOOL) ? NULL : "a CK_BBOOL has another length";
	case VALUE_ULONG:
		return v->ulValueLen == sizeof(CK_ULONG) ? NULL : "a CK_ULONG has another length";
	case VALUE_ULONG_LIST:
		return v->ulValueLen % sizeof(CK_ULONG) == 0 ? NULL
		                                             : "not a whole number of CK_ULONGs";
	case VALUE_ATTR_LIST:
		return v->ulValueLen % sizeof(CK_ATTRIBUTE) == 0
		               ? NULL
		               : "not a whole number of CK_ATTRIBUTEs";
	case VALUE_DATE:
		if (v->ulValueLen == 0)
			return NULL; /* "no date" */
		if (v->ulValueLen != sizeof(CK_DATE))
			return "a CK_DATE is 8 characters (YYYYMMDD) or empty";
		for (size_t i = 0; i < sizeof(CK_DATE); i++) {
			unsigned char c = ((const unsigned char *)v->pValue)[i];
			if (c < '0' || c > '9')
				return "a CK_DATE is 8 digits (YYYYMMDD)";
		}
		return NULL;
	default:
		return NULL;
	}
}

CK_RV azkv_tmpl_check(const CK_ATTRIBUTE *t, CK_ULONG n, const char *fn)
{
	if (t == NULL && n > 0) {
		azkv_error("%s: the template is NULL but its count is %lu", fn, (unsigned long)n);
		return CKR_ARGUMENTS_BAD;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		const char *problem = value_problem(&t[i]);
		if (problem == NULL)
			continue;
		const char *name = azkv_attr_name(t[i].type);
		azkv_error("%s: template entry %lu, attribute %s (0x%lx), length %lu: %s", fn,
		           (unsigned long)i, name ? name : "unknown", (unsigned long)t[i].type,
		           (unsigned long)t[i].ulValueLen, problem);
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

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
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (len > 0) {
		copy = malloc(len);
		if (copy == NULL)
			return CKR_HOST_MEMORY;
		memcpy(copy, value, len);
	}
	CK_ATTRIBUTE *slot = find_mut(a, type);
	/* Room for a key's usual thirty attributes at once, not one realloc
	 * each: every C_UnwrapKey makes a key. */
	if (slot == NULL && azkv_array_reserve(a, a->cap == 0 ? 32 : 1) != CKR_OK) {
		free(copy);
		return CKR_HOST_MEMORY;
	}
	if (slot == NULL) {
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
	azkv_array_free(a);
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
