/* Module-wide state: what C_Initialize builds and C_Finalize tears down
 * (module.c); defined in module_state.c. */
#ifndef AZKV_P11_MODULE_H
#define AZKV_P11_MODULE_H

#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <sys/types.h>

#include "config.h"
#include "credential.h"
#include "http.h"
#include "lock.h"
#include "log.h"

struct azkv_token;

typedef struct azkv_module {
	int initialized;
	pid_t pid; /* the process that initialised; a forked child must re-initialise */
	azkv_config *cfg;
	azkv_http *http;
	azkv_credential *cred;
	struct azkv_token *tokens; /* one per configured vault; slot id = index */
	size_t n_tokens;
	/* Guards the session and object tables and login state. Held for
	 * short critical sections only, never across network I/O. */
	azkv_lock *lock;
} azkv_module;

extern azkv_module azkv_g;
/* Serialises C_Initialize and C_Finalize against each other and fork
 * (fork.c holds it from the prepare handler to the parent's or child's). */
extern pthread_mutex_t azkv_init_mutex;

/* 1 when C_Initialize succeeded in this process. */
int azkv_module_ready(void);

/* The start of an entry point: its log context (log.h), named after the
 * function until the session lookup names the PKCS#11 call and its slot
 * (azkv_session_find), and ended when the function returns; then
 * CKR_CRYPTOKI_NOT_INITIALIZED unless C_Initialize succeeded. */
#define AZKV_REQUIRE_INIT()                                                                        \
	AZKV_LOG_CALL(__func__);                                                                   \
	do {                                                                                       \
		if (!azkv_module_ready())                                                          \
			return CKR_CRYPTOKI_NOT_INITIALIZED;                                       \
	} while (0)

/* Copies s into a blank-padded, unterminated PKCS#11 text field. */
void azkv_pad_field(unsigned char *field, size_t size, const char *s);

#endif
