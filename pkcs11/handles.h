/* A table of items by PKCS#11 handle: the sessions' (session.c) and the
 * objects' (object.c). Freed slots are reused, so that the table and
 * every scan of it (closing sessions, C_FindObjectsInit) stay the size of
 * the most items alive at once, not of all ever made. A handle is its
 * slot's index + 1 in the low AZKV_HANDLE_SLOT_BITS and the slot's
 * generation above them; freeing a slot moves its generation on, so a
 * stale handle stays invalid after its slot is reused. Never 0
 * (CK_INVALID_HANDLE). No lock: the owner's (the module lock). */
#ifndef AZKV_P11_HANDLES_H
#define AZKV_P11_HANDLES_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "array.h"

#define AZKV_HANDLE_SLOT_BITS 24
/* The most items a table holds at once: adding one more is refused. */
#define AZKV_HANDLE_MAX_SLOTS (((size_t)1 << AZKV_HANDLE_SLOT_BITS) - 1)

typedef struct azkv_handle_slot {
	void *item; /* NULL: free */
	CK_ULONG gen;
	size_t next_free; /* index + 1 of the next free slot; 0: none */
} azkv_handle_slot;

/* An empty table: azkv_handles t = {0}; */
typedef struct azkv_handles {
	AZKV_ARRAY(azkv_handle_slot) slots; /* every slot used at least once */
	size_t first_free;                  /* index + 1 of a free slot; 0: none */
} azkv_handles;

/* Adds item (not NULL) and gives its handle; CKR_HOST_MEMORY when the
 * table cannot grow (or holds AZKV_HANDLE_MAX_SLOTS items). */
CK_RV azkv_handles_add(azkv_handles *t, void *item, CK_ULONG *handle);

/* The item of handle; NULL when handle is not in the table (never was,
 * or was removed: a stale handle). */
void *azkv_handles_get(const azkv_handles *t, CK_ULONG handle);

/* Takes handle's item out of the table (its slot free for reuse) and
 * returns it; NULL when handle is not in the table. */
void *azkv_handles_remove(azkv_handles *t, CK_ULONG handle);

/* The next item at or after slot *pos, which moves past it; NULL at the
 * end. Walks the table in slot order: size_t pos = 0; while ((it =
 * azkv_handles_next(t, &pos)) != NULL) ... Removing the item just
 * returned is allowed during the walk. */
void *azkv_handles_next(const azkv_handles *t, size_t *pos);

/* Frees the table's storage (not the items); t is empty again. */
void azkv_handles_free(azkv_handles *t);

/* Empties t without freeing anything (in a forked child, fork.c) and
 * returns its storage, for the caller to keep reachable. */
void *azkv_handles_abandon(azkv_handles *t);

#endif
