#include "object.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "handles.h"
#include "internal.h"
#include "log.h"

/* The objects' handle table (handles.h): freed slots are reused, so that
 * it and every scan of it (C_FindObjectsInit, closing a session) stay the
 * size of the most objects alive at once, not of all ever made (an unwrap
 * makes one); a stale handle stays invalid. */
static azkv_handles table;

CK_RV azkv_objects_add(azkv_object *obj)
{
	return azkv_handles_add(&table, obj, &obj->handle);
}

azkv_object *azkv_objects_get(CK_OBJECT_HANDLE h)
{
	return azkv_handles_get(&table, h);
}

void azkv_objects_destroy(CK_OBJECT_HANDLE h)
{
	azkv_object_free(azkv_handles_remove(&table, h));
}

void azkv_objects_destroy_session(CK_SESSION_HANDLE s)
{
	azkv_object *obj;
	size_t pos = 0;
	while ((obj = azkv_handles_next(&table, &pos)) != NULL)
		if (obj->session == s)
			azkv_objects_destroy(obj->handle);
}

void azkv_objects_destroy_session_objects(const CK_SLOT_ID *slot)
{
	azkv_object *obj;
	size_t pos = 0;
	while ((obj = azkv_handles_next(&table, &pos)) != NULL)
		if (obj->session != CK_INVALID_HANDLE && (slot == NULL || obj->slot == *slot))
			azkv_objects_destroy(obj->handle);
}

void azkv_objects_private_logged_out(CK_SLOT_ID slot)
{
	azkv_object *obj;
	size_t pos = 0;
	while ((obj = azkv_handles_next(&table, &pos)) != NULL) {
		if (obj->slot != slot || !azkv_attrs_bool(&obj->attrs, CKA_PRIVATE, CK_FALSE))
			continue;
		if (obj->session != CK_INVALID_HANDLE) {
			azkv_objects_destroy(obj->handle);
			continue;
		}
		/* The slot just freed heads the free list: the add takes it
		 * back, with the next generation, and allocates nothing. */
		azkv_handles_remove(&table, obj->handle);
		azkv_handles_add(&table, obj, &obj->handle);
	}
}

CK_RV azkv_objects_each(CK_RV (*fn)(azkv_object *obj, void *ctx), void *ctx)
{
	CK_RV rv = CKR_OK;
	azkv_object *obj;
	size_t pos = 0;
	while (rv == CKR_OK && (obj = azkv_handles_next(&table, &pos)) != NULL)
		rv = fn(obj, ctx);
	return rv;
}

void azkv_objects_clear(void)
{
	azkv_object *obj;
	size_t pos = 0;
	while ((obj = azkv_handles_next(&table, &pos)) != NULL)
		azkv_object_free(obj);
	azkv_handles_free(&table);
}

CK_RV azkv_obj_set_vault_storage(azkv_attrs *a, CK_BBOOL private)
{
	CK_RV rv;
	if ((rv = azkv_attrs_set_bool(a, CKA_TOKEN, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_PRIVATE, private)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_MODIFIABLE, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_COPYABLE, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_DESTROYABLE, CK_FALSE)) != CKR_OK)
		return rv;
	return CKR_OK;
}

void azkv_vault_key_ref(azkv_vault_key *vk)
{
	vk->refs++;
}

void azkv_vault_key_unref(azkv_vault_key *vk)
{
	if (vk == NULL || --vk->refs > 0)
		return;
	azkv_key_free(&vk->key);
	azkv_rsa_wrap_ctxs_free(&vk->wrap_ctxs);
	EVP_PKEY_free(vk->pub);
	free(vk);
}

azkv_object *azkv_obj_alloc(CK_SLOT_ID slot, CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
                            CK_KEY_TYPE kt)
{
	azkv_object *obj = calloc(1, sizeof(*obj));
	if (obj != NULL)
		*obj = (azkv_object){.slot = slot, .session = session, .cls = cls, .key_type = kt};
	return obj;
}

void azkv_object_free(azkv_object *obj)
{
	if (obj == NULL)
		return;
	azkv_attrs_free(&obj->attrs);
	azkv_bytes_free(&obj->value);
	azkv_vault_key_unref(obj->vkey);
	free(obj);
}

/* Attributes that exist on the object but whose values never leave it. */
static int is_hidden_value(const azkv_object *obj, CK_ATTRIBUTE_TYPE type)
{
	if (obj->cls == CKO_PRIVATE_KEY) {
		switch (type) {
		case CKA_PRIVATE_EXPONENT:
		case CKA_PRIME_1:
		case CKA_PRIME_2:
		case CKA_EXPONENT_1:
		case CKA_EXPONENT_2:
		case CKA_COEFFICIENT:
			return obj->key_type == CKK_RSA;
		case CKA_VALUE:
			return obj->key_type == CKK_EC;
		default:
			return 0;
		}
	}
	return 0;
}

CK_RV azkv_object_get_attributes(const azkv_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	/* Every entry is processed; the result reports the last problem seen,
	 * as the specification allows any of them to be returned. */
	CK_RV result = CKR_OK;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_ATTRIBUTE *t = &tmpl[i];
		CK_RV rv;
		if (obj->cls == CKO_SECRET_KEY && obj->vkey != NULL && t->type == CKA_VALUE_LEN) {
			/* A Managed HSM AES key: its size once learned (op_hsm_aes_kw.c);
			 * until then the vault has not revealed it. */
			CK_ULONG len = obj->vkey->aes_bits / 8;
			if (len != 0) {
				rv = azkv_attr_copy_out(t, &len, sizeof(len));
			} else {
				t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
				rv = CKR_ATTRIBUTE_SENSITIVE;
			}
		} else if (obj->cls == CKO_SECRET_KEY && t->type == CKA_VALUE) {
			int readable = !azkv_attrs_bool(&obj->attrs, CKA_SENSITIVE, CK_TRUE) &&
			               azkv_attrs_bool(&obj->attrs, CKA_EXTRACTABLE, CK_FALSE);
			if (readable) {
				rv = azkv_attr_copy_out(t, obj->value.data, obj->value.len);
			} else {
				t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
				rv = CKR_ATTRIBUTE_SENSITIVE;
			}
		} else if (is_hidden_value(obj, t->type)) {
			t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
		} else {
			const CK_ATTRIBUTE *have = azkv_attrs_find(&obj->attrs, t->type);
			if (have == NULL) {
				t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
				rv = CKR_ATTRIBUTE_TYPE_INVALID;
			} else {
				rv = azkv_attr_copy_out(t, have->pValue, have->ulValueLen);
			}
		}
		if (rv != CKR_OK) {
			azkv_trace("C_GetAttributeValue: object %lu attribute 0x%lx: %s",
			           (unsigned long)obj->handle, (unsigned long)t->type,
			           rv == CKR_ATTRIBUTE_SENSITIVE ? "sensitive"
			           : rv == CKR_BUFFER_TOO_SMALL  ? "buffer too small"
			                                         : "not on this object");
			result = rv;
		}
	}
	return result;
}

/* Not static: a store the compiler must keep. */
void *azkv_objects_inherited;

void azkv_objects_forget(void)
{
	/* After fork(): the parent's objects are not ours to free. Kept
	 * reachable so that leak checkers do not report them as lost; the
	 * child's copy of their secret values is wiped. */
	const azkv_object *obj;
	size_t pos = 0;
	while ((obj = azkv_handles_next(&table, &pos)) != NULL)
		if (obj->value.data != NULL)
			OPENSSL_cleanse(obj->value.data, obj->value.len);
	azkv_objects_inherited = azkv_handles_abandon(&table);
}
