#include "lock.h"

#include <pthread.h>
#include <stdlib.h>

struct azkv_lock {
	pthread_mutex_t mutex; /* used with OS locking */
	void *app_mutex;       /* used with the application's callbacks */
};

/* The application's callbacks, or all NULL for OS locking. Set once per
 * C_Initialize, before any lock is made. */
static CK_CREATEMUTEX app_create;
static CK_DESTROYMUTEX app_destroy;
static CK_LOCKMUTEX app_lock;
static CK_UNLOCKMUTEX app_unlock;

CK_RV azkv_lock_setup(const CK_C_INITIALIZE_ARGS *args)
{
	app_create = NULL;
	app_destroy = NULL;
	app_lock = NULL;
	app_unlock = NULL;
	if (args == NULL)
		return CKR_OK;

	int given = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) +
	            (args->LockMutex != NULL) + (args->UnlockMutex != NULL);
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	/* OS locking is preferred whenever the application allows it. */
	if (given == 0 || (args->flags & CKF_OS_LOCKING_OK))
		return CKR_OK;
	app_create = args->CreateMutex;
	app_destroy = args->DestroyMutex;
	app_lock = args->LockMutex;
	app_unlock = args->UnlockMutex;
	return CKR_OK;
}

CK_RV azkv_lock_new(azkv_lock **out)
{
	azkv_lock *lock = calloc(1, sizeof(*lock));
	if (lock == NULL)
		return CKR_HOST_MEMORY;
	if (app_create != NULL) {
		CK_RV rv = app_create(&lock->app_mutex);
		if (rv != CKR_OK) {
			free(lock);
			return rv;
		}
	} else if (pthread_mutex_init(&lock->mutex, NULL) != 0) {
		free(lock);
		return CKR_CANT_LOCK;
	}
	*out = lock;
	return CKR_OK;
}

void azkv_lock_free(azkv_lock *lock)
{
	if (lock == NULL)
		return;
	if (lock->app_mutex != NULL)
		app_destroy(lock->app_mutex);
	else
		pthread_mutex_destroy(&lock->mutex);
	free(lock);
}

void azkv_lock_acquire(azkv_lock *lock)
{
	if (lock->app_mutex != NULL)
		app_lock(lock->app_mutex);
	else
		pthread_mutex_lock(&lock->mutex);
}

void azkv_lock_release(azkv_lock *lock)
{
	if (lock->app_mutex != NULL)
		app_unlock(lock->app_mutex);
	else
		pthread_mutex_unlock(&lock->mutex);
}
