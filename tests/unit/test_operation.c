/* The locking contract operation.h states: the slot functions take no
 * lock (the caller holds the module lock, or, for azkv_op_wipe, is a
 * forked child with no other thread); of the functions by session handle,
 * azkv_session_op and azkv_op_init_begin need the lock held and
 * azkv_session_op_take and azkv_session_op_return take it. Counted
 * through the application's mutex callbacks, as C_Initialize installs
 * them; a lock taken while held would deadlock a real caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lock.h"
#include "module.h"
#include "operation.h"
#include "session.h"

static int locks, unlocks, held, relocked;
static int app_mutex; /* its address is the one mutex */

static CK_RV create(void **m)
{
	*m = &app_mutex;
	return CKR_OK;
}

static CK_RV destroy(void *m)
{
	return CKR_OK;
}

static CK_RV lock(void *m)
{
	locks++;
	relocked |= held;
	held = 1;
	return CKR_OK;
}

static CK_RV unlock(void *m)
{
	unlocks++;
	held = 0;
	return CKR_OK;
}

static int setup(void **state)
{
	CK_C_INITIALIZE_ARGS args = {create, destroy, lock, unlock, 0, NULL};
	assert_int_equal(azkv_lock_setup(&args), CKR_OK);
	assert_int_equal(azkv_lock_new(&azkv_g.lock), CKR_OK);
	locks = unlocks = held = relocked = 0;
	return 0;
}

static int teardown(void **state)
{
	azkv_lock_free(azkv_g.lock);
	azkv_g.lock = NULL;
	return azkv_lock_setup(NULL) == CKR_OK ? 0 : -1;
}

static int freed;
static void count_free(void *ctx)
{
	freed++;
	free(ctx);
}
static const azkv_op_state_ops counted = {.free = count_free, .wipe = NULL};

static void test_slot_functions_take_no_lock(void **state)
{
	azkv_op op;
	void *ctx = NULL;
	memset(&op, 0, sizeof(op));
	azkv_lock_acquire(azkv_g.lock);
	assert_int_equal(azkv_op_check_idle(&op), CKR_OK);
	azkv_op_start(&op, malloc(1), &counted);
	assert_int_equal(azkv_op_check_idle(&op), CKR_OPERATION_ACTIVE);
	assert_int_equal(azkv_op_take(&op, &ctx), CKR_OK);
	assert_int_equal(azkv_op_take(&op, &ctx), CKR_OPERATION_ACTIVE);
	azkv_op_return(&op, ctx, &counted, 1);
	azkv_op_wipe(&op);
	azkv_op_end(&op);
	azkv_lock_release(azkv_g.lock);
	assert_int_equal(freed, 1);
	assert_int_equal(locks, 1);
	assert_false(relocked);
}

static void test_by_handle_lookups_need_the_lock_held(void **state)
{
	azkv_session s;
	azkv_session *found = NULL;
	azkv_op *op = NULL;
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	memset(&s, 0, sizeof(s));
	azkv_lock_acquire(azkv_g.lock);
	assert_ptr_equal(azkv_session_op(&s, AZKV_OPER_SIGN), &s.sign);
	assert_ptr_equal(azkv_session_op(&s, AZKV_OPER_DECRYPT), &s.decrypt);
	assert_int_equal(azkv_op_init_begin(4242, AZKV_OPER_SIGN, &m, "test", &found, &op),
	                 CKR_SESSION_HANDLE_INVALID);
	azkv_lock_release(azkv_g.lock);
	assert_null(op);
	assert_int_equal(locks, 1);
	assert_false(relocked);
}

static void test_take_and_return_take_the_lock(void **state)
{
	void *ctx = NULL;
	assert_int_equal(azkv_session_op_take(4242, AZKV_OPER_VERIFY, "test", &ctx),
	                 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(locks, 1);
	assert_int_equal(unlocks, 1);
	/* The session went away: the state is freed, and the call told. */
	freed = 0;
	assert_int_equal(
	        azkv_session_op_return(4242, AZKV_OPER_VERIFY, malloc(1), &counted, 1, CKR_OK),
	        CKR_SESSION_CLOSED);
	assert_int_equal(freed, 1);
	assert_int_equal(locks, 2);
	assert_int_equal(unlocks, 2);
	assert_false(held);
	assert_false(relocked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_slot_functions_take_no_lock, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_by_handle_lookups_need_the_lock_held, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_take_and_return_take_the_lock, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
