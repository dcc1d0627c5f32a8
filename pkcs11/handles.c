#include "handles.h"

static CK_ULONG handle_of(const azkv_handles *t, size_t i)
{
	return t->slots.items[i].gen << AZKV_HANDLE_SLOT_BITS | (CK_ULONG)(i + 1);
}

CK_RV azkv_handles_add(azkv_handles *t, void *item, CK_ULONG *handle)
{
	size_t i;
	if (t->first_free != 0) {
		i = t->first_free - 1;
		t->first_free = t->slots.items[i].next_free;
	} else {
		if (t->slots.n == AZKV_HANDLE_MAX_SLOTS ||
		    azkv_array_reserve(&t->slots, 1) != CKR_OK)
			return CKR_HOST_MEMORY;
		i = t->slots.n++;
		t->slots.items[i].gen = 0;
	}
	t->slots.items[i].item = item;
	t->slots.items[i].next_free = 0;
	*handle = handle_of(t, i);
	return CKR_OK;
}

/* The slot index of handle, or (size_t)-1 when handle is not in t. */
static size_t index_of(const azkv_handles *t, CK_ULONG handle)
{
	size_t i = (size_t)(handle & AZKV_HANDLE_MAX_SLOTS);
	if (i == 0 || i > t->slots.n || t->slots.items[i - 1].item == NULL ||
	    handle_of(t, i - 1) != handle)
		return (size_t)-1;
	return i - 1;
}

void *azkv_handles_get(const azkv_handles *t, CK_ULONG handle)
{
	size_t i = index_of(t, handle);
	return i == (size_t)-1 ? NULL : t->slots.items[i].item;
}

void *azkv_handles_remove(azkv_handles *t, CK_ULONG handle)
{
	size_t i = index_of(t, handle);
	if (i == (size_t)-1)
		return NULL;
	azkv_handle_slot *slot = &t->slots.items[i];
	void *item = slot->item;
	slot->item = NULL;
	slot->gen++;
	slot->next_free = t->first_free;
	t->first_free = i + 1;
	return item;
}

void *azkv_handles_next(const azkv_handles *t, size_t *pos)
{
	while (*pos < t->slots.n) {
		void *item = t->slots.items[(*pos)++].item;
		if (item != NULL)
			return item;
	}
	return NULL;
}

void azkv_handles_free(azkv_handles *t)
{
	azkv_array_free(&t->slots);
	t->first_free = 0;
}

void *azkv_handles_abandon(azkv_handles *t)
{
	void *storage = t->slots.items;
	*t = (azkv_handles){0};
	return storage;
}
