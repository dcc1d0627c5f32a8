#include "object.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "log.h"

/* The handle table: slots reused once freed, so that it and every scan of
 * it (C_FindObjectsInit, closing a session) stay the size of the most
 * objects alive at once, not of all ever made (an unwrap makes one). A
 * handle is the slot's index + 1 in its low SLOT_BITS and the slot's
 * generation above them; freeing a slot moves its generation on, so a stale
 * handle stays invalid after its slot is reused. */
#define SLOT_BITS 24
#define MAX_SLOTS (((size_t)1 << SLOT_BITS) - 1)

typedef struct {
	azkv_object *obj; /* NULL: free */
	CK_ULONG gen;
	size_t next_free; /* index + 1 of the next free slot; 0: none */
} slot;

static slot *table;
static size_t table_len, table_cap; /* slots used at least once, allocated */
static size_t first_free;           /* index + 1; 0: none */

static CK_OBJECT_HANDLE handle_of(size_t i)
{
	return (CK_OBJECT_HANDLE)(table[i].gen << SLOT_BITS | (CK_ULONG)(i + 1));
}

CK_RV azkv_objects_add(azkv_object *obj)
{
	size_t i;
	if (first_free != 0) {
		i = first_free - 1;
		first_free = table[i].next_free;
	} else {
		if (table_len == MAX_SLOTS)
			return CKR_HOST_MEMORY;
		if (table_len == table_cap) {
			size_t cap = table_cap ? table_cap * 2 : 64;
			slot *grown = realloc(table, cap * sizeof(*grown));
			if (grown == NULL)
				return CKR_HOST_MEMORY;
			table = grown;
			table_cap = cap;
		}
		i = table_len++;
		table[i].gen = 0;
	}
	table[i].obj = obj;
	table[i].next_free = 0;
	obj->handle = handle_of(i);
	return CKR_OK;
}

azkv_object *azkv_objects_get(CK_OBJECT_HANDLE h)
{
	size_t i = (size_t)(h & MAX_SLOTS);
	if (i == 0 || i > table_len || table[i - 1].obj == NULL || handle_of(i - 1) != h)
		return NULL;
	return table[i - 1].obj;
}

/* Frees slot i's object and the slot. */
static void free_slot(size_t i)
{
	azkv_object_free(table[i].obj);
	table[i].obj = NULL;
	table[i].gen++;
	table[i].next_free = first_free;
	first_free = i + 1;
}

void azkv_objects_destroy(CK_OBJECT_HANDLE h)
{
	if (azkv_objects_get(h) != NULL)
		free_slot((size_t)(h & MAX_SLOTS) - 1);
}

void azkv_objects_destroy_session(CK_SESSION_HANDLE s)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i].obj != NULL && table[i].obj->session == s)
			free_slot(i);
}

CK_RV azkv_objects_each(CK_RV (*fn)(azkv_object *obj, void *ctx), void *ctx)
{
	CK_RV rv = CKR_OK;
	for (size_t i = 0; i < table_len && rv == CKR_OK; i++)
		if (table[i].obj != NULL)
			rv = fn(table[i].obj, ctx);
	return rv;
}

void azkv_objects_clear(void)
{
	for (size_t i = 0; i < table_len; i++)
		azkv_object_free(table[i].obj);
	free(table);
	table = NULL;
	table_len = table_cap = first_free = 0;
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
	for (size_t i = 0; i < table_len; i++)
		if (table[i].obj != NULL && table[i].obj->value.data != NULL)
			OPENSSL_cleanse(table[i].obj->value.data, table[i].obj->value.len);
	azkv_objects_inherited = table;
	table = NULL;
	table_len = table_cap = first_free = 0;
}
