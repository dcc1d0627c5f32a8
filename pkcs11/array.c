#include "array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation's size, in elements: most arrays of the module
 * (search results, a vault's keys, a session key's attributes) hold a few
 * dozen, so that they grow once or twice at most. */
#define FIRST_CAP 16

/* The items pointer is read and written through memcpy: items_ptr is the
 * address of a T *, whatever T is. */
CK_RV azkv_array_reserve_(void *items_ptr, size_t n, size_t more, size_t *cap, size_t size)
{
	if (more <= *cap - n)
		return CKR_OK;
	if (more > SIZE_MAX / size - n)
		return CKR_HOST_MEMORY;
	size_t want = *cap ? *cap : FIRST_CAP;
	while (want < n + more && want <= SIZE_MAX / size / 2)
		want *= 2;
	if (want < n + more)
		want = n + more;
	void *items;
	memcpy(&items, items_ptr, sizeof(items));
	void *grown = realloc(items, want * size);
	if (grown == NULL)
		return CKR_HOST_MEMORY;
	memcpy(items_ptr, &grown, sizeof(grown));
	*cap = want;
	return CKR_OK;
}

void azkv_array_free_(void *items_ptr, size_t *n, size_t *cap)
{
	void *items;
	memcpy(&items, items_ptr, sizeof(items));
	free(items);
	items = NULL;
	memcpy(items_ptr, &items, sizeof(items));
	*n = *cap = 0;
}
