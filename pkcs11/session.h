/* Sessions and the operations active in them. */
#ifndef AZKV_P11_SESSION_H
#define AZKV_P11_SESSION_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "operation.h"

typedef struct azkv_find_state {
	int active;
	CK_OBJECT_HANDLE *handles;
	size_t n, pos;
} azkv_find_state;

typedef struct azkv_session {
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot;
	CK_FLAGS flags;
	azkv_find_state find;
	/* The active operations (crypt.c, sign.c). */
	azkv_op encrypt;
	azkv_op decrypt;
	azkv_op sign;
	azkv_op verify;
} azkv_session;

/* All need the module lock held. NULL when the handle is not open. */
azkv_session *azkv_sessions_get(CK_SESSION_HANDLE h);
/* Number of open sessions on slot; rw counts read/write ones only. */
void azkv_sessions_count(CK_SLOT_ID slot, CK_ULONG *all, CK_ULONG *rw);
/* Closes every session (and its objects) of every slot. */
void azkv_sessions_clear(void);
/* Drops the table without closing anything (in a forked child): the
 * active operations' secrets are wiped in place (azkv_op_wipe), nothing
 * is freed. */
void azkv_sessions_forget(void);

extern azkv_session **azkv_sessions_inherited;

#endif
