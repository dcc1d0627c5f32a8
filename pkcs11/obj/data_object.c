/* Session data objects (CKO_DATA, PKCS#11 3.0 4.5): what an application
 * keeps beside its keys (CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE), made
 * with C_CreateObject and living as long as the session that made them.
 * Token objects cannot be created: the token is the vault, which keeps no
 * data objects. The value is not secret; it is wiped on free all the same,
 * as every attribute value is (azkv_attrs_free). */
#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "internal.h"
#include "log.h"
#include "pkcs11_v3.h"

/* The attribute table of a data object (internal.h), one line per row,
 * after the storage rows every session object has (attr_rules.c).
 * CKA_APPLICATION, CKA_OBJECT_ID and CKA_VALUE are fixed once the object is
 * made: 4.5 does not mark them modifiable (footnote 8), unlike CKA_LABEL. */
/* clang-format off */
static const azkv_attr_rule data_attrs[] = {
        {CKA_APPLICATION, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        /* DER of an OBJECT IDENTIFIER, or empty: checked below. */
        {CKA_OBJECT_ID, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_VALUE, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
};
/* clang-format on */

const azkv_attr_rules azkv_data_object_rules = {
        .kind = "data object",
        .session_only = "only session data objects can be created; the token is the vault, "
                        "which keeps no data objects",
        .rows = data_attrs,
        .n = sizeof(data_attrs) / sizeof(data_attrs[0]),
};

/* CKA_OBJECT_ID must be the DER of one OBJECT IDENTIFIER, nothing after
 * it (an empty one says "no type"). */
static CK_RV check_object_id(const CK_ATTRIBUTE *oid)
{
	if (oid == NULL || oid->ulValueLen == 0)
		return CKR_OK;
	const unsigned char *p = oid->pValue;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)oid->ulValueLen);
	int whole = obj != NULL && p == (const unsigned char *)oid->pValue + oid->ulValueLen;
	ASN1_OBJECT_free(obj);
	if (whole)
		return CKR_OK;
	azkv_error("data object template: CKA_OBJECT_ID (%lu bytes) is not the DER of an object "
	           "identifier",
	           (unsigned long)oid->ulValueLen);
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

CK_RV azkv_data_object_new(CK_SLOT_ID slot, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                           CK_ULONG n, azkv_object **out)
{
	CK_ULONG cls = CKO_DATA;
	int present;
	CK_RV rv = azkv_rules_check_create(&azkv_data_object_rules, tmpl, n);
	if (rv != CKR_OK || (rv = azkv_tmpl_ulong(tmpl, n, CKA_CLASS, &cls, &present)) != CKR_OK)
		return rv;
	if (cls != CKO_DATA) {
		azkv_error("data object template: CKA_CLASS 0x%lx is not CKO_DATA",
		           (unsigned long)cls);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if ((rv = check_object_id(azkv_tmpl_find(tmpl, n, CKA_OBJECT_ID))) != CKR_OK)
		return rv;
	azkv_object *obj = azkv_obj_alloc(slot, session, CKO_DATA, CK_UNAVAILABLE_INFORMATION);
	if (obj == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = azkv_rules_fill(&azkv_data_object_rules, &obj->attrs, tmpl, n)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(&obj->attrs, CKA_CLASS, CKO_DATA)) != CKR_OK ||
	    (rv = azkv_obj_set_unique_id(&obj->attrs)) != CKR_OK) {
		azkv_object_free(obj);
		return rv;
	}
	*out = obj;
	return CKR_OK;
}
