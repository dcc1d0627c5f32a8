/* fork(): what a forked child does with its parent's module state (fork.c). */
#ifndef AZKV_P11_FORK_H
#define AZKV_P11_FORK_H

#include <p11-kit/pkcs11.h>

#include "module.h"

/* A forked child's copy of its parent's state (azkv_g): abandoned, not
 * freed, and kept reachable for leak checkers. */
extern azkv_module azkv_g_inherited;

/* Registers the pthread_atfork handlers, once per process (C_Initialize).
 * CKR_HOST_MEMORY when they cannot be. */
CK_RV azkv_fork_handlers_register(void);

/* Abandons azkv_g, the state of another process (the parent's), wiping
 * its secrets in place and freeing nothing; azkv_g is left empty. With
 * azkv_init_mutex held. locked: the fork handlers hold the state's locks
 * (see fork.c); C_Initialize passes 0 for a child the handlers did not
 * see. */
void azkv_fork_abandon_parent_state(int locked);

#endif
