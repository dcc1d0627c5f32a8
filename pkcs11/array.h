/* One growable array for the module (the idea of p11-kit's
 * common/array.c): a struct with members items (T *), n (used) and cap
 * (allocated), such as AZKV_ARRAY(T) or azkv_attrs, grown by doubling.
 * No lock: the owner's. */
#ifndef AZKV_P11_ARRAY_H
#define AZKV_P11_ARRAY_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

/* An empty array of T: AZKV_ARRAY(T) a = {0}; */
#define AZKV_ARRAY(T)                                                                              \
	struct {                                                                                   \
		T *items;                                                                          \
		size_t n, cap;                                                                     \
	}

/* Room for at least `more` elements after the a->n in use; CKR_OK, or
 * CKR_HOST_MEMORY with a unchanged. */
#define azkv_array_reserve(a, more)                                                                \
	azkv_array_reserve_(&(a)->items, (a)->n, (more), &(a)->cap, sizeof(*(a)->items))

/* Appends v; CKR_OK, or CKR_HOST_MEMORY with a unchanged. a is evaluated
 * more than once. */
#define azkv_array_push(a, v)                                                                      \
	(azkv_array_reserve((a), 1) != CKR_OK ? CKR_HOST_MEMORY                                    \
	                                      : ((a)->items[(a)->n++] = (v), CKR_OK))

/* Frees the storage (not what the elements point to); a is empty again. */
#define azkv_array_free(a) azkv_array_free_(&(a)->items, &(a)->n, &(a)->cap)

/* The functions behind the macros: items_ptr is the address of the
 * array's items pointer. */
CK_RV azkv_array_reserve_(void *items_ptr, size_t n, size_t more, size_t *cap, size_t size);
void azkv_array_free_(void *items_ptr, size_t *n, size_t *cap);

#endif
