/* C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo,
 * C_Login, C_Logout and C_LoginUser.
 *
 * Login: the Azure identity in the configuration decides what the vault
 * allows. By default a token has no PIN (CKF_LOGIN_REQUIRED is not set):
 * C_Login as CKU_USER is accepted with any PIN so that clients which
 * always log in work, and changes the session state and nothing else.
 * A vault with a "pin" (or "pin_file") in the configuration gives its
 * token CKF_LOGIN_REQUIRED: C_Login(CKU_USER) checks the PIN
 * (CKR_PIN_INCORRECT, logged without it), and the token's private objects
 * (its private and secret keys, private session objects) show only while
 * the application is logged in: login.h has the one rule, which
 * azkv_session_object, mech.c's azkv_key_lookup, searches and
 * azkv_session_object_add ask. C_Logout, or closing the token's last
 * session, hides them again, destroys the private session objects and
 * leaves the handles held to private objects stale (3.0 5.6, as
 * SoftHSMv2). Login is per token, for every session of the application.
 * CKU_SO is refused, there being no security officer: as SoftHSMv2
 * orders it, CKR_SESSION_READ_ONLY_EXISTS while a read-only session is
 * open, CKR_USER_ANOTHER_ALREADY_LOGGED_IN while the user is logged in,
 * else CKR_PIN_INCORRECT. */
#include "session.h"

#include <stdlib.h>

#include "handles.h"
#include "log.h"
#include "login.h"
#include "module.h"
#include "object.h"
#include "pkcs11_v3.h"
#include "rv.h"
#include "token.h"

/* The sessions' handle table (handles.h): a closed session's slot is
 * reused, with a generation so that its old handle stays invalid. */
static azkv_handles table;

azkv_session *azkv_sessions_get(CK_SESSION_HANDLE h)
{
	return azkv_handles_get(&table, h);
}

azkv_session *azkv_session_find(CK_SESSION_HANDLE h, const char *fn, CK_RV *rv)
{
	azkv_session *s = azkv_sessions_get(h);
	*rv = s != NULL ? CKR_OK : CKR_SESSION_HANDLE_INVALID;
	if (s == NULL)
		azkv_error("%s: session %lu is not open", fn, (unsigned long)h);
	else
		azkv_log_call_set(fn, s->slot);
	return s;
}

azkv_object *azkv_session_object(const azkv_session *s, CK_OBJECT_HANDLE h, CK_RV invalid,
                                 const char *fn, CK_RV *rv)
{
	azkv_object *obj = azkv_objects_get(h);
	if (obj == NULL || obj->slot != s->slot || !azkv_login_shows(obj)) {
		azkv_error("%s: handle %lu is no object of session %lu's token%s (%s)", fn,
		           (unsigned long)h, (unsigned long)s->handle,
		           obj != NULL && obj->slot == s->slot ? " that shows before C_Login" : "",
		           azkv_rv_name(invalid));
		*rv = invalid;
		return NULL;
	}
	*rv = CKR_OK;
	return obj;
}

CK_RV azkv_session_object_add(azkv_object *obj, const char *fn)
{
	if (!azkv_login_shows(obj)) {
		azkv_error("%s: a private object needs the user logged in on this token (C_Login)",
		           fn);
		return CKR_USER_NOT_LOGGED_IN;
	}
	return azkv_objects_add(obj);
}

CK_RV azkv_session_slot(CK_SESSION_HANDLE h, const char *fn, CK_SLOT_ID *slot)
{
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(h, fn, &rv);
	if (s != NULL)
		*slot = s->slot;
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV azkv_session_precedes(CK_SESSION_HANDLE h, const char *fn, CK_RV rv)
{
	CK_SLOT_ID slot;
	CK_RV session_rv = azkv_session_slot(h, fn, &slot);
	return session_rv != CKR_OK ? session_rv : rv;
}

void azkv_sessions_count(CK_SLOT_ID slot, CK_ULONG *all, CK_ULONG *rw)
{
	const azkv_token *tok = azkv_token_get(slot);
	*all = tok != NULL ? tok->sessions : 0;
	*rw = tok != NULL ? tok->rw_sessions : 0;
}

/* Takes s out of the table and frees it, and what its operations hold;
 * its objects are the caller's to destroy. Closing the last session of a
 * token logs it out. */
static void close_session(azkv_session *s)
{
	azkv_handles_remove(&table, s->handle);
	azkv_token *tok = azkv_token_get(s->slot);
	if (tok != NULL) {
		tok->sessions--;
		if (s->flags & CKF_RW_SESSION)
			tok->rw_sessions--;
		if (tok->sessions == 0 && tok->logged_in)
			azkv_login_end(tok);
	}
	azkv_array_free(&s->find.handles);
	azkv_op_end(&s->encrypt);
	azkv_op_end(&s->decrypt);
	azkv_op_end(&s->sign);
	azkv_op_end(&s->verify);
	azkv_op_end(&s->digest);
	free(s);
}

/* Closes the sessions of *slot (of every slot when slot is NULL), then
 * destroys their objects in one pass over the object table: closing n
 * sessions costs one walk of each table, not n. */
static void close_all(const CK_SLOT_ID *slot)
{
	azkv_session *s;
	size_t pos = 0;
	while ((s = azkv_handles_next(&table, &pos)) != NULL)
		if (slot == NULL || s->slot == *slot)
			close_session(s);
	azkv_objects_destroy_session_objects(slot);
}

void azkv_sessions_clear(void)
{
	close_all(NULL);
	azkv_handles_free(&table);
}

CK_RV C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *application, CK_NOTIFY notify,
                    CK_SESSION_HANDLE *session)
{
	AZKV_REQUIRE_INIT();
	if (session == NULL) {
		azkv_error("C_OpenSession: phSession is NULL");
		return CKR_ARGUMENTS_BAD;
	}
	if (azkv_slot_token(slot) == NULL)
		return CKR_SLOT_ID_INVALID;
	if (!(flags & CKF_SERIAL_SESSION)) {
		azkv_error("C_OpenSession: flags 0x%lx lack CKF_SERIAL_SESSION, which PKCS#11 "
		           "requires of every session (CKR_SESSION_PARALLEL_NOT_SUPPORTED)",
		           (unsigned long)flags);
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	}

	azkv_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return CKR_HOST_MEMORY;
	s->slot = slot;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);

	azkv_lock_acquire(azkv_g.lock);
	CK_RV rv = azkv_handles_add(&table, s, &s->handle);
	if (rv == CKR_OK) {
		azkv_token *tok = azkv_token_get(slot);
		tok->sessions++;
		if (s->flags & CKF_RW_SESSION)
			tok->rw_sessions++;
		*session = s->handle;
		s = NULL;
	}
	azkv_lock_release(azkv_g.lock);
	free(s);
	return rv;
}

CK_RV C_CloseSession(CK_SESSION_HANDLE session)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_session_find(session, "C_CloseSession", &rv);
	if (s != NULL) {
		azkv_objects_destroy_session(session);
		close_session(s);
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slot)
{
	AZKV_REQUIRE_INIT();
	if (azkv_slot_token(slot) == NULL)
		return CKR_SLOT_ID_INVALID;
	azkv_lock_acquire(azkv_g.lock);
	close_all(&slot);
	azkv_lock_release(azkv_g.lock);
	return CKR_OK;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE session, CK_SESSION_INFO *info)
{
	AZKV_REQUIRE_INIT();
	if (info == NULL)
		return azkv_session_precedes(session, "C_GetSessionInfo", CKR_ARGUMENTS_BAD);
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(session, "C_GetSessionInfo", &rv);
	if (s != NULL) {
		int rw = (s->flags & CKF_RW_SESSION) != 0;
		int user = azkv_token_get(s->slot)->logged_in;
		info->slotID = s->slot;
		info->flags = s->flags;
		info->ulDeviceError = 0;
		if (user)
			info->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
		else
			info->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* C_Login as CKU_USER on tok, under the module lock. */
static CK_RV login_user(azkv_token *tok, const unsigned char *pin, CK_ULONG pin_len)
{
	if (tok->logged_in)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (azkv_login_required(tok) && !azkv_login_pin_matches(tok, pin, pin_len)) {
		azkv_error("C_Login: wrong PIN for token '%s' (the vault's \"pin\" in %s)",
		           tok->vault->label, azkv_g.cfg->source);
		return CKR_PIN_INCORRECT;
	}
	tok->logged_in = 1;
	return CKR_OK;
}

CK_RV C_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, unsigned char *pin,
              CK_ULONG pin_len)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(session, "C_Login", &rv);
	if (s == NULL)
		goto out;
	azkv_token *tok = azkv_token_get(s->slot);
	if (pin == NULL && azkv_login_required(tok)) {
		azkv_error("C_Login: no PIN given (pPin is NULL)");
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	switch (user_type) {
	case CKU_USER:
		rv = login_user(tok, pin, pin_len);
		break;
	case CKU_CONTEXT_SPECIFIC:
		/* No key needs re-authentication (CKA_ALWAYS_AUTHENTICATE is false). */
		rv = tok->logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
		break;
	case CKU_SO:
		/* 3.0 5.6: no SO login while a read-only session is open. */
		if (tok->sessions > tok->rw_sessions) {
			azkv_error(
			        "C_Login: CKU_SO while a read-only session is open on the token");
			rv = CKR_SESSION_READ_ONLY_EXISTS;
			break;
		}
		if (tok->logged_in) {
			azkv_error("C_Login: CKU_SO while the user is logged in on the token");
			rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
			break;
		}
		azkv_error("C_Login: there is no security officer on a vault token; access "
		           "comes from the Azure identity in the configuration");
		rv = CKR_PIN_INCORRECT;
		break;
	default:
		rv = CKR_USER_TYPE_INVALID;
	}
out:
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE session)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(session, "C_Logout", &rv);
	azkv_token *tok = s != NULL ? azkv_token_get(s->slot) : NULL;
	if (tok != NULL && !tok->logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (tok != NULL)
		azkv_login_end(tok);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* PKCS#11 3.0: C_Login, as a vault token has no named users. */
CK_RV C_LoginUser(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_UTF8CHAR *pin,
                  CK_ULONG pin_len, CK_UTF8CHAR *username, CK_ULONG username_len)
{
	return C_Login(session, user_type, pin, pin_len);
}

/* Not static: a store the compiler must keep. */
void *azkv_sessions_inherited;

void azkv_sessions_forget(void)
{
	/* After fork(): the parent's sessions are not ours to close. Kept
	 * reachable so that leak checkers do not report them as lost; the
	 * child's copy of what their active operations hold is wiped. */
	azkv_session *s;
	size_t pos = 0;
	while ((s = azkv_handles_next(&table, &pos)) != NULL) {
		azkv_op_wipe(&s->encrypt);
		azkv_op_wipe(&s->decrypt);
		azkv_op_wipe(&s->sign);
		azkv_op_wipe(&s->verify);
		azkv_op_wipe(&s->digest);
	}
	azkv_sessions_inherited = azkv_handles_abandon(&table);
}

/* ---- the operation slots of a session, by handle (operation.h) ---------
 * Here and not in operation.c, which knows only slots, so that no call
 * goes from operation.c back to session.c. */

azkv_op *azkv_session_op(azkv_session *s, azkv_op_kind kind)
{
	switch (kind) {
	case AZKV_OPER_ENCRYPT:
		return &s->encrypt;
	case AZKV_OPER_DECRYPT:
		return &s->decrypt;
	case AZKV_OPER_SIGN:
		return &s->sign;
	case AZKV_OPER_DIGEST:
		return &s->digest;
	default:
		return &s->verify;
	}
}

CK_RV azkv_session_op_take(CK_SESSION_HANDLE session, azkv_op_kind kind, const char *fn, void **ctx)
{
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_session_find(session, fn, &rv);
	if (s == NULL)
		goto out;
	rv = azkv_op_take(azkv_session_op(s, kind), ctx);
	if (rv == CKR_OPERATION_NOT_INITIALIZED)
		azkv_error("%s: no operation was initialised in session %lu", fn,
		           (unsigned long)session);
	else if (rv == CKR_OPERATION_ACTIVE)
		azkv_error("%s: another call is using the operation of session %lu", fn,
		           (unsigned long)session);
out:
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV azkv_session_op_return(CK_SESSION_HANDLE session, azkv_op_kind kind, void *ctx,
                             const azkv_op_state_ops *state_ops, int keep, CK_RV rv)
{
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	azkv_op_return(s != NULL ? azkv_session_op(s, kind) : NULL, ctx, state_ops, keep);
	if (s == NULL && rv == CKR_OK) {
		azkv_error("session %lu was closed during the call", (unsigned long)session);
		rv = CKR_SESSION_CLOSED;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV azkv_op_init_begin(CK_SESSION_HANDLE session, azkv_op_kind kind,
                         const CK_MECHANISM *mechanism, const char *fn, azkv_session **s,
                         azkv_op **op)
{
	CK_RV rv;
	*op = NULL;
	if ((*s = azkv_session_find(session, fn, &rv)) == NULL)
		return rv;
	azkv_op *slot = azkv_session_op(*s, kind);
	if (mechanism == NULL) {
		/* PKCS#11 3.0: a NULL mechanism ends the active operation. */
		azkv_op_end(slot);
		return CKR_OK;
	}
	if ((rv = azkv_op_check_idle(slot)) != CKR_OK) {
		azkv_error("%s: an operation is already active in session %lu", fn,
		           (unsigned long)session);
		return rv;
	}
	*op = slot;
	return CKR_OK;
}
