/* C_GetAttributeValue, C_GetObjectSize and C_DestroyObject. */
#include "log.h"
#include "module.h"
#include "object.h"
#include "session.h"

/* The object, when the session is open and may see it; else *rv says why. */
static azkv_object *visible_object(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle, CK_RV *rv)
{
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		*rv = CKR_SESSION_HANDLE_INVALID;
		return NULL;
	}
	azkv_object *obj = azkv_objects_get(handle);
	if (obj == NULL || obj->slot != s->slot) {
		*rv = CKR_OBJECT_HANDLE_INVALID;
		return NULL;
	}
	*rv = CKR_OK;
	return obj;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count)
{
	AZKV_REQUIRE_INIT();
	if (tmpl == NULL && count > 0)
		return CKR_ARGUMENTS_BAD;
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_object *obj = visible_object(session, object, &rv);
	if (obj != NULL)
		rv = azkv_object_get_attributes(obj, tmpl, count);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG *size)
{
	AZKV_REQUIRE_INIT();
	if (size == NULL)
		return CKR_ARGUMENTS_BAD;
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_object *obj = visible_object(session, object, &rv);
	if (obj != NULL) {
		/* An approximation, as the specification permits: what the
		 * object holds in memory. */
		CK_ULONG total = obj->value.len;
		for (size_t i = 0; i < obj->attrs.n; i++)
			total += sizeof(CK_ATTRIBUTE) + obj->attrs.items[i].ulValueLen;
		*size = total;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_object *obj = visible_object(session, object, &rv);
	if (obj != NULL) {
		if (!azkv_attrs_bool(&obj->attrs, CKA_DESTROYABLE, CK_TRUE)) {
			/* Vault keys are deleted in the vault, not through PKCS#11. */
			azkv_error("C_DestroyObject: object %lu is a vault key and cannot be "
			           "destroyed here",
			           (unsigned long)object);
			rv = CKR_ACTION_PROHIBITED;
		} else {
			azkv_objects_destroy(object);
		}
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}
