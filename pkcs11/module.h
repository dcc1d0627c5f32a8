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

/* The start of entry point name (a static string: "C_Sign"): its log
 * context (log.h), whose slot the slot's or session's lookup names
 * (azkv_slot_token, azkv_session_find), ended when the function returns;
 * then CKR_CRYPTOKI_NOT_INITIALIZED unless C_Initialize succeeded. */
#define AZKV_REQUIRE_INIT_AS(name)                                                                 \
	AZKV_LOG_CALL(name);                                                                       \
	do {                                                                                       \
		if (!azkv_module_ready())                                                          \
			return CKR_CRYPTOKI_NOT_INITIALIZED;                                       \
	} while (0)

/* The same in a function named as the PKCS#11 call it is (C_*). */
#define AZKV_REQUIRE_INIT() AZKV_REQUIRE_INIT_AS(__func__)

/* Copies s into a blank-padded, unterminated PKCS#11 text field. */
void azkv_pad_field(unsigned char *field, size_t size, const char *s);

#endif
