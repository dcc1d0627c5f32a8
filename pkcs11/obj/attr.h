/* Attribute storage for objects and the template logic of PKCS#11:
 * reading typed values out of a caller's template, matching templates
 * against objects, and copying values out with the two-call length
 * convention of C_GetAttributeValue. */
#ifndef AZKV_P11_ATTR_H
#define AZKV_P11_ATTR_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

/* An owned list of attributes; each value is a private copy. Grown as an
 * array of array.h. */
typedef struct azkv_attrs {
	CK_ATTRIBUTE *items;
	size_t n, cap; /* used, allocated */
} azkv_attrs;

/* Adds or replaces type with a copy of value. CKR_HOST_MEMORY on failure;
 * CKR_ATTRIBUTE_VALUE_INVALID for a NULL value with a length (callers
 * check templates with azkv_tmpl_check first; this is the last guard). */
CK_RV azkv_attrs_set(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, const void *value, CK_ULONG len);
CK_RV azkv_attrs_set_bool(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, CK_BBOOL v);
CK_RV azkv_attrs_set_ulong(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v);
CK_RV azkv_attrs_set_string(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, const char *s);

/* NULL when absent. */
const CK_ATTRIBUTE *azkv_attrs_find(const azkv_attrs *a, CK_ATTRIBUTE_TYPE type);
/* The boolean value of type, or dflt when absent or not a CK_BBOOL. */
CK_BBOOL azkv_attrs_bool(const azkv_attrs *a, CK_ATTRIBUTE_TYPE type, CK_BBOOL dflt);

/* Wipes every value (some are secret) and frees. */
void azkv_attrs_free(azkv_attrs *a);

/* The longest attribute value a caller's template may hold (1 MiB): more
 * than any certificate or key this module handles, and it keeps a wild
 * length (CK_UNAVAILABLE_INFORMATION, say) from reaching malloc/memcpy. */
#define AZKV_ATTR_VALUE_MAX (1UL << 20)

/* The one check of a caller's input template, made at the boundary of
 * every call that reads one (C_CreateObject, C_CopyObject,
 * C_SetAttributeValue, C_GenerateKey, C_UnwrapKey, C_FindObjectsInit)
 * before anything else reads it. PKCS#11 3.0/3.1 (5.1, 4.1):
 *  - t NULL with n > 0: CKR_ARGUMENTS_BAD;
 *  - an entry with pValue NULL and ulValueLen not 0, a length over
 *    AZKV_ATTR_VALUE_MAX, or a fixed-size type (CK_BBOOL, CK_ULONG,
 *    CK_DATE, an array of CK_ULONG or CK_ATTRIBUTE) given another length,
 *    or a CK_DATE of non-digits: CKR_ATTRIBUTE_VALUE_INVALID.
 * An empty CK_DATE (length 0) is valid: "no date". The log line names fn
 * and the attribute. */
CK_RV azkv_tmpl_check(const CK_ATTRIBUTE *t, CK_ULONG n, const char *fn);

/* "CKA_LABEL" and the like for the attributes the module knows; NULL for
 * others (log them by number). */
const char *azkv_attr_name(CK_ATTRIBUTE_TYPE type);

/* Finds type in a caller's template; NULL when absent. */
const CK_ATTRIBUTE *azkv_tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type);

/* Reads a CK_BBOOL / CK_ULONG from the template. Returns CKR_OK with
 * *present 0 when absent; CKR_ATTRIBUTE_VALUE_INVALID when the value has
 * the wrong size or is NULL. */
CK_RV azkv_tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_BBOOL *out,
                     int *present);
CK_RV azkv_tmpl_ulong(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_ULONG *out,
                      int *present);

/* 1 if every attribute of tmpl is on the object with an equal value.
 * Secret values are not kept in azkv_attrs, so a search cannot probe
 * them. */
int azkv_tmpl_matches(const azkv_attrs *a, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* Copies value into dst following C_GetAttributeValue: NULL dst->pValue
 * asks for the length; a too-small buffer gives CKR_BUFFER_TOO_SMALL and
 * sets value_len to CK_UNAVAILABLE_INFORMATION. */
CK_RV azkv_attr_copy_out(CK_ATTRIBUTE *dst, const void *value, CK_ULONG len);

#endif
