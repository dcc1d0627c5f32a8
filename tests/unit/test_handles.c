/* The handle table (handles.h) that sessions and objects share, and the
 * growable array (array.h) beneath it: handles are never 0, freed slots
 * are reused so that the table stays the size of the most items alive at
 * once, and a stale handle stays invalid after its slot is reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "array.h"
#include "handles.h"

static int items[8];

static void test_add_get_remove(void **state)
{
	azkv_handles t = {0};
	CK_ULONG a, b;
	assert_int_equal(azkv_handles_add(&t, &items[0], &a), CKR_OK);
	assert_int_equal(azkv_handles_add(&t, &items[1], &b), CKR_OK);
	assert_int_not_equal(a, CK_INVALID_HANDLE);
	assert_int_not_equal(b, CK_INVALID_HANDLE);
	assert_int_not_equal(a, b);
	assert_ptr_equal(azkv_handles_get(&t, a), &items[0]);
	assert_ptr_equal(azkv_handles_get(&t, b), &items[1]);
	assert_null(azkv_handles_get(&t, CK_INVALID_HANDLE));
	assert_null(azkv_handles_get(&t, b + 1)); /* never given */

	assert_ptr_equal(azkv_handles_remove(&t, a), &items[0]);
	assert_null(azkv_handles_get(&t, a));
	assert_null(azkv_handles_remove(&t, a)); /* twice */
	assert_ptr_equal(azkv_handles_get(&t, b), &items[1]);
	azkv_handles_free(&t);
	assert_null(azkv_handles_get(&t, b));
}

/* Closing and opening one at a time, 10,000 times: one slot, reused, and
 * every handle given out is new, so none of the old ones is valid. */
static void test_slots_reused_and_stale_handles_invalid(void **state)
{
	azkv_handles t = {0};
	CK_ULONG first, h, prev = CK_INVALID_HANDLE;
	assert_int_equal(azkv_handles_add(&t, &items[0], &first), CKR_OK);
	assert_non_null(azkv_handles_remove(&t, first));
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(azkv_handles_add(&t, &items[1], &h), CKR_OK);
		assert_int_not_equal(h, first);
		assert_int_not_equal(h, prev);
		assert_null(azkv_handles_get(&t, first));
		assert_null(azkv_handles_get(&t, prev));
		assert_ptr_equal(azkv_handles_remove(&t, h), &items[1]);
		prev = h;
	}
	assert_int_equal(t.slots.n, 1);
	azkv_handles_free(&t);
}

/* The table holds the most items alive at once: 3 live, churned. */
static void test_table_stays_size_of_most_alive(void **state)
{
	azkv_handles t = {0};
	CK_ULONG h[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(azkv_handles_add(&t, &items[i], &h[i]), CKR_OK);
	for (int round = 0; round < 1000; round++) {
		int i = round % 3;
		assert_ptr_equal(azkv_handles_remove(&t, h[i]), &items[i]);
		assert_int_equal(azkv_handles_add(&t, &items[i], &h[i]), CKR_OK);
	}
	assert_int_equal(t.slots.n, 3);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(azkv_handles_get(&t, h[i]), &items[i]);
	azkv_handles_free(&t);
}

/* A walk sees every live item once, in slot order, and may remove the
 * item it is at (as closing every session of a slot does). */
static void test_walk_with_removal(void **state)
{
	azkv_handles t = {0};
	CK_ULONG h[8];
	for (int i = 0; i < 8; i++)
		assert_int_equal(azkv_handles_add(&t, &items[i], &h[i]), CKR_OK);
	assert_non_null(azkv_handles_remove(&t, h[2]));
	int seen = 0;
	size_t pos = 0;
	int *it;
	while ((it = azkv_handles_next(&t, &pos)) != NULL) {
		int i = (int)(it - items);
		assert_int_not_equal(i, 2);
		seen |= 1 << i;
		if (i % 2 == 0)
			assert_ptr_equal(azkv_handles_remove(&t, h[i]), it);
	}
	assert_int_equal(seen, 0xff & ~(1 << 2));
	pos = 0;
	seen = 0;
	while ((it = azkv_handles_next(&t, &pos)) != NULL)
		seen |= 1 << (int)(it - items);
	assert_int_equal(seen, 0xaa); /* the odd ones are left */
	azkv_handles_free(&t);
}

static void test_abandon_empties_without_freeing(void **state)
{
	azkv_handles t = {0};
	CK_ULONG h;
	assert_int_equal(azkv_handles_add(&t, &items[0], &h), CKR_OK);
	void *storage = azkv_handles_abandon(&t);
	assert_non_null(storage);
	assert_null(azkv_handles_get(&t, h));
	assert_int_equal(t.slots.n, 0);
	free(storage); /* the caller's now */
}

static void test_array_push_grows_and_keeps(void **state)
{
	AZKV_ARRAY(CK_ULONG) a = {0};
	for (CK_ULONG i = 0; i < 1000; i++)
		assert_int_equal(azkv_array_push(&a, i * 3), CKR_OK);
	assert_int_equal(a.n, 1000);
	assert_true(a.cap >= 1000 && a.cap <= 2048);
	for (CK_ULONG i = 0; i < 1000; i++)
		assert_int_equal(a.items[i], i * 3);
	azkv_array_free(&a);
	assert_null(a.items);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.cap, 0);
}

/* A size that cannot be allocated is refused and leaves the array as it
 * was, its elements still there. */
static void test_array_overflow_refused_unchanged(void **state)
{
	AZKV_ARRAY(CK_ULONG) a = {0};
	assert_int_equal(azkv_array_push(&a, 7), CKR_OK);
	CK_ULONG *items_before = a.items;
	size_t cap_before = a.cap;
	assert_int_equal(azkv_array_reserve(&a, SIZE_MAX / 2), CKR_HOST_MEMORY);
	assert_ptr_equal(a.items, items_before);
	assert_int_equal(a.cap, cap_before);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.items[0], 7);
	azkv_array_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_add_get_remove),
	        cmocka_unit_test(test_slots_reused_and_stale_handles_invalid),
	        cmocka_unit_test(test_table_stays_size_of_most_alive),
	        cmocka_unit_test(test_walk_with_removal),
	        cmocka_unit_test(test_abandon_empties_without_freeing),
	        cmocka_unit_test(test_array_push_grows_and_keeps),
	        cmocka_unit_test(test_array_overflow_refused_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
