/* C_GetAttributeValue, C_GetObjectSize, C_DestroyObject, C_SetAttributeValue,
 * C_CopyObject and C_CreateObject (session secret keys and data objects).
 * Each checks its session before anything else it is given (5.1.7). */
#include <stdlib.h>

#include "log.h"
#include "module.h"
#include "object.h"
#include "op_hsm_aes_kw.h"
#include "session.h"

/* The object, when the session is open and may see it; else *rv says why
 * (logged, naming fn). */
static azkv_object *visible_object(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle,
                                   const char *fn, CK_RV *rv)
{
	const azkv_session *s = azkv_session_find(session, fn, rv);
	return s != NULL ? azkv_session_object(s, handle, CKR_OBJECT_HANDLE_INVALID, fn, rv) : NULL;
}

/* The size of a Managed HSM AES key, which its bundle does not state, is
 * learned from the HSM the first time CKA_VALUE_LEN is asked for (without
 * the module lock); a failure leaves it unrevealed. */
static CK_RV learn_aes_size(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                            const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	CK_RV rv;
	azkv_err err;
	azkv_vault_key *vk = NULL;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_object *obj = visible_object(session, object, "C_GetAttributeValue", &rv);
	if (obj != NULL && azkv_hsm_aes_size_wanted(obj, tmpl, count)) {
		vk = obj->vkey;
		azkv_vault_key_ref(vk);
	}
	azkv_lock_release(azkv_g.lock);
	if (vk == NULL)
		return rv;
	if (azkv_hsm_aes_learn_size(vk, &err) != AZKV_OK)
		azkv_warn("CKA_VALUE_LEN of key '%s' version %s stays unknown: %s", vk->key.name,
		          vk->key.version, err.message);
	azkv_lock_acquire(azkv_g.lock);
	azkv_vault_key_unref(vk);
	azkv_lock_release(azkv_g.lock);
	return CKR_OK;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count)
{
	AZKV_REQUIRE_INIT();
	if (tmpl == NULL && count > 0)
		return azkv_session_precedes(session, "C_GetAttributeValue", CKR_ARGUMENTS_BAD);
	/* The handles are checked (and a bad one logged) here first. */
	CK_RV rv = learn_aes_size(session, object, tmpl, count);
	if (rv != CKR_OK)
		return rv;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_object *obj = visible_object(session, object, "C_GetAttributeValue", &rv);
	if (obj != NULL)
		rv = azkv_object_get_attributes(obj, tmpl, count);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG *size)
{
	AZKV_REQUIRE_INIT();
	if (size == NULL)
		return azkv_session_precedes(session, "C_GetObjectSize", CKR_ARGUMENTS_BAD);
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_object *obj = visible_object(session, object, "C_GetObjectSize", &rv);
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
	azkv_object *obj = visible_object(session, object, "C_DestroyObject", &rv);
	if (obj != NULL) {
		if (!azkv_attrs_bool(&obj->attrs, CKA_DESTROYABLE, CK_TRUE)) {
			/* Vault keys are deleted in the vault, not through PKCS#11. */
			azkv_error("C_DestroyObject: object %lu has CKA_DESTROYABLE=FALSE%s",
			           (unsigned long)object,
			           obj->session == CK_INVALID_HANDLE
			                   ? " (it is kept in the vault, and deleted there)"
			                   : "");
			rv = CKR_ACTION_PROHIBITED;
		} else {
			azkv_objects_destroy(object);
		}
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *tmpl,
                          CK_ULONG count)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv = azkv_tmpl_check(tmpl, count, "C_SetAttributeValue");
	if (rv != CKR_OK)
		return azkv_session_precedes(session, "C_SetAttributeValue", rv);
	azkv_lock_acquire(azkv_g.lock);
	azkv_object *obj = visible_object(session, object, "C_SetAttributeValue", &rv);
	if (obj == NULL)
		goto out;
	if (!azkv_attrs_bool(&obj->attrs, CKA_MODIFIABLE, CK_FALSE)) {
		azkv_error("C_SetAttributeValue: object %lu is not modifiable%s",
		           (unsigned long)object,
		           obj->vkey ? " (vault keys change in the vault, not through PKCS#11)"
		                     : "");
		rv = CKR_ACTION_PROHIBITED;
		goto out;
	}
	rv = azkv_object_set_attributes(obj, tmpl, count);
out:
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_CopyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *tmpl,
                   CK_ULONG count, CK_OBJECT_HANDLE *new_object)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv = new_object == NULL ? CKR_ARGUMENTS_BAD
	                              : azkv_tmpl_check(tmpl, count, "C_CopyObject");
	if (rv != CKR_OK)
		return azkv_session_precedes(session, "C_CopyObject", rv);
	azkv_object *copy = NULL;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_object *obj = visible_object(session, object, "C_CopyObject", &rv);
	if (obj == NULL)
		goto out;
	if (!azkv_attrs_bool(&obj->attrs, CKA_COPYABLE, CK_FALSE)) {
		azkv_error("C_CopyObject: object %lu has CKA_COPYABLE=FALSE",
		           (unsigned long)object);
		rv = CKR_ACTION_PROHIBITED;
		goto out;
	}
	if ((rv = azkv_object_copy(obj, session, tmpl, count, &copy)) != CKR_OK ||
	    (rv = azkv_session_object_add(copy, "C_CopyObject")) != CKR_OK)
		goto out;
	*new_object = copy->handle;
	copy = NULL;
out:
	azkv_lock_release(azkv_g.lock);
	azkv_object_free(copy);
	return rv;
}

/* The checks of a C_CreateObject template that need no lock: the class,
 * and for a secret key its value and type, whose value travels apart from
 * the other attributes (*rest, n_rest: the caller frees *rest). */
static CK_RV create_request(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_CLASS *cls,
                            const CK_ATTRIBUTE **value, CK_ATTRIBUTE **rest, CK_ULONG *n_rest)
{
	static const char fn[] = "C_CreateObject";
	int present;
	CK_RV rv = azkv_tmpl_check(tmpl, count, fn);
	if (rv != CKR_OK || (rv = azkv_tmpl_ulong(tmpl, count, CKA_CLASS, cls, &present)) != CKR_OK)
		return rv;
	if (!present) {
		azkv_error("%s: the template needs CKA_CLASS", fn);
		return CKR_TEMPLATE_INCOMPLETE;
	}
	if (*cls == CKO_DATA)
		return CKR_OK;
	if (*cls != CKO_SECRET_KEY) {
		azkv_error("%s: only secret keys and data objects can be created (class 0x%lx); "
		           "vault keys are created in the vault",
		           fn, (unsigned long)*cls);
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	*value = azkv_tmpl_find(tmpl, count, CKA_VALUE);
	if (*value == NULL || (*value)->pValue == NULL || (*value)->ulValueLen == 0) {
		azkv_error("%s: the template needs CKA_VALUE", fn);
		return CKR_TEMPLATE_INCOMPLETE;
	}
	if (azkv_tmpl_find(tmpl, count, CKA_KEY_TYPE) == NULL) {
		azkv_error("%s: the template needs CKA_KEY_TYPE", fn);
		return CKR_TEMPLATE_INCOMPLETE;
	}
	*rest = calloc(count, sizeof(**rest));
	if (*rest == NULL)
		return CKR_HOST_MEMORY;
	for (CK_ULONG i = 0; i < count; i++)
		if (tmpl[i].type != CKA_VALUE)
			(*rest)[(*n_rest)++] = tmpl[i];
	return CKR_OK;
}

CK_RV C_CreateObject(CK_SESSION_HANDLE session, CK_ATTRIBUTE *tmpl, CK_ULONG count,
                     CK_OBJECT_HANDLE *object)
{
	AZKV_REQUIRE_INIT();
	CK_OBJECT_CLASS cls = CK_UNAVAILABLE_INFORMATION;
	const CK_ATTRIBUTE *value = NULL;
	CK_ATTRIBUTE *rest = NULL;
	CK_ULONG n_rest = 0;
	azkv_object *obj = NULL;
	CK_RV rv = object == NULL ? CKR_ARGUMENTS_BAD
	                          : create_request(tmpl, count, &cls, &value, &rest, &n_rest);
	if (rv != CKR_OK) {
		free(rest);
		return azkv_session_precedes(session, "C_CreateObject", rv);
	}

	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(session, "C_CreateObject", &rv);
	if (s == NULL)
		goto out;
	if (cls == CKO_DATA)
		rv = azkv_data_object_new(s->slot, session, tmpl, count, &obj);
	else
		rv = azkv_secret_key_new(s->slot, session, rest, n_rest, value->pValue,
		                         value->ulValueLen, 0, CK_UNAVAILABLE_INFORMATION, &obj);
	if (rv != CKR_OK || (rv = azkv_session_object_add(obj, "C_CreateObject")) != CKR_OK)
		goto out;
	*object = obj->handle;
	obj = NULL;
out:
	azkv_lock_release(azkv_g.lock);
	azkv_object_free(obj);
	free(rest);
	return rv;
}
