/* Mutexes for the module's shared tables. With CKF_OS_LOCKING_OK (or no
 * C_Initialize arguments) these are pthread mutexes; when the application
 * supplies its own mutex callbacks without that flag, they are used
 * instead, as PKCS#11 requires. */
#ifndef AZKV_P11_LOCK_H
#define AZKV_P11_LOCK_H

#include <p11-kit/pkcs11.h>

typedef struct azkv_lock azkv_lock;

/* Chooses the implementation from C_Initialize's arguments (may be NULL).
 * CKR_ARGUMENTS_BAD when only some callbacks are given. */
CK_RV azkv_lock_setup(const CK_C_INITIALIZE_ARGS *args);

CK_RV azkv_lock_new(azkv_lock **out);
void azkv_lock_free(azkv_lock *lock);
void azkv_lock_acquire(azkv_lock *lock);
void azkv_lock_release(azkv_lock *lock);

#endif
