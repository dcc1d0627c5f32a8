/* Sessions and the operations active in them. */
#ifndef AZKV_P11_SESSION_H
#define AZKV_P11_SESSION_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "array.h"
#include "operation.h"

/* A search (find.c): the handles that matched at C_FindObjectsInit, and
 * how many C_FindObjects has returned. */
typedef struct azkv_find_state {
	int active;
	AZKV_ARRAY(CK_OBJECT_HANDLE) handles;
	size_t pos;
} azkv_find_state;

typedef struct azkv_session {
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot;
	CK_FLAGS flags;
	azkv_find_state find;
	/* The active operations (crypt.c, sign.c, digest.c). */
	azkv_op encrypt;
	azkv_op decrypt;
	azkv_op sign;
	azkv_op verify;
	azkv_op digest;
} azkv_session;

/* All need the module lock held. NULL when the handle is not open. */
azkv_session *azkv_sessions_get(CK_SESSION_HANDLE h);

/* The lookups every PKCS#11 call starts with (as kmsp11's GetSession and
 * GetKey): the one place that turns a caller's handles into a session and
 * the objects it may see, and logs why not. Both need the module lock. */

/* The open session h; NULL when it is not open, with *rv
 * CKR_SESSION_HANDLE_INVALID and a log line naming fn (CKR_OK when found). */
azkv_session *azkv_session_find(CK_SESSION_HANDLE h, const char *fn, CK_RV *rv);

struct azkv_object;

/* The object h as seen from s: one on s's token (a session object of
 * another session on it too, as PKCS#11 lets sessions share them). NULL
 * when h is no such object, with *rv invalid (the CKR_*_HANDLE_INVALID of
 * the caller's argument: CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID,
 * ...) and a log line naming fn; also when h is a private object hidden
 * until login (login.h). Usage and key type are the caller's checks. */
struct azkv_object *azkv_session_object(const azkv_session *s, CK_OBJECT_HANDLE h, CK_RV invalid,
                                        const char *fn, CK_RV *rv);

/* Adds obj, a session object just made, to the handle table (assigning
 * its handle, taking ownership) unless the application could not see it:
 * a private object on a token with a PIN before login is
 * CKR_USER_NOT_LOGGED_IN (logged, naming fn), as SoftHSMv2 answers, and
 * obj stays the caller's. C_CreateObject, C_CopyObject, C_GenerateKey and
 * C_UnwrapKey end with it. Needs the module lock. */
CK_RV azkv_session_object_add(struct azkv_object *obj, const char *fn);

/* The token (slot) of the open session h, for a call that goes on without
 * the module lock: takes and releases it. CKR_SESSION_HANDLE_INVALID
 * (logged, naming fn) when h is not open. */
CK_RV azkv_session_slot(CK_SESSION_HANDLE h, const char *fn, CK_SLOT_ID *slot);
/* The answer of a call refused for its arguments, mechanism or template
 * (rv): CKR_SESSION_HANDLE_INVALID instead, logged naming fn, when the
 * session h is not open either. PKCS#11 3.0 (5.1.7) ranks the session's
 * errors before every other, so a call checks its session first; one that
 * checks its arguments before taking the module lock asks here when they
 * fail, and so pays nothing for the order when they do not. */
CK_RV azkv_session_precedes(CK_SESSION_HANDLE h, const char *fn, CK_RV rv);
/* Number of open sessions on slot; rw counts read/write ones only. Kept
 * as counts on the token, so that asking costs no walk of the table. */
void azkv_sessions_count(CK_SLOT_ID slot, CK_ULONG *all, CK_ULONG *rw);
/* Closes every session (and its objects) of every slot. */
void azkv_sessions_clear(void);
/* Drops the table without closing anything (in a forked child): the
 * active operations' secrets are wiped in place (azkv_op_wipe), nothing
 * is freed. */
void azkv_sessions_forget(void);

extern void *azkv_sessions_inherited; /* the parent's table, after fork() */

#endif
