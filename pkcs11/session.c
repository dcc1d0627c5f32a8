/* C_OpenSession, C_CloseSession, C_GetSessionInfo, C_Login, C_Logout.
 *
 * Login: the token has no PIN (CKF_LOGIN_REQUIRED is not set); access is
 * decided by the Azure identity in the configuration. C_Login as CKU_USER
 * is accepted with any PIN so that clients which always log in work; it
 * changes the session state as PKCS#11 describes and nothing else.
 * CKU_SO is refused: there is no security officer. */
#include "session.h"

#include <stdlib.h>

#include "log.h"
#include "module.h"
#include "object.h"
#include "token.h"

/* Handles are 1 + index and never reused while initialised. */
static azkv_session **table;
static size_t table_len, table_cap;

azkv_session *azkv_sessions_get(CK_SESSION_HANDLE h)
{
	if (h == CK_INVALID_HANDLE || h > table_len)
		return NULL;
	return table[h - 1];
}

void azkv_sessions_count(CK_SLOT_ID slot, CK_ULONG *all, CK_ULONG *rw)
{
	*all = *rw = 0;
	for (size_t i = 0; i < table_len; i++) {
		if (table[i] == NULL || table[i]->slot != slot)
			continue;
		(*all)++;
		if (table[i]->flags & CKF_RW_SESSION)
			(*rw)++;
	}
}

static void session_free(azkv_session *s)
{
	azkv_objects_destroy_session(s->handle);
	free(s->find.handles);
	azkv_op_end(&s->encrypt);
	azkv_op_end(&s->decrypt);
	azkv_op_end(&s->sign);
	azkv_op_end(&s->verify);
	free(s);
}

static void close_at(size_t i)
{
	azkv_session *s = table[i];
	table[i] = NULL;
	CK_SLOT_ID slot = s->slot;
	session_free(s);
	/* Closing the last session of a token logs it out. */
	CK_ULONG all, rw;
	azkv_sessions_count(slot, &all, &rw);
	azkv_token *tok = azkv_token_get(slot);
	if (all == 0 && tok != NULL)
		tok->logged_in = 0;
}

void azkv_sessions_clear(void)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i] != NULL)
			close_at(i);
	free(table);
	table = NULL;
	table_len = table_cap = 0;
}

CK_RV C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *application, CK_NOTIFY notify,
                    CK_SESSION_HANDLE *session)
{
	AZKV_REQUIRE_INIT();
	if (session == NULL)
		return CKR_ARGUMENTS_BAD;
	if (azkv_token_get(slot) == NULL)
		return CKR_SLOT_ID_INVALID;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;

	azkv_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return CKR_HOST_MEMORY;
	s->slot = slot;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);

	CK_RV rv = CKR_OK;
	azkv_lock_acquire(azkv_g.lock);
	if (table_len == table_cap) {
		size_t cap = table_cap ? table_cap * 2 : 16;
		azkv_session **grown = realloc(table, cap * sizeof(*grown));
		if (grown == NULL) {
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		table = grown;
		table_cap = cap;
	}
	table[table_len++] = s;
	s->handle = (CK_SESSION_HANDLE)table_len;
	*session = s->handle;
	s = NULL;
out:
	azkv_lock_release(azkv_g.lock);
	free(s);
	return rv;
}

CK_RV C_CloseSession(CK_SESSION_HANDLE session)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;
	azkv_lock_acquire(azkv_g.lock);
	if (azkv_sessions_get(session) != NULL) {
		close_at(session - 1);
		rv = CKR_OK;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slot)
{
	AZKV_REQUIRE_INIT();
	if (azkv_token_get(slot) == NULL)
		return CKR_SLOT_ID_INVALID;
	azkv_lock_acquire(azkv_g.lock);
	for (size_t i = 0; i < table_len; i++)
		if (table[i] != NULL && table[i]->slot == slot)
			close_at(i);
	azkv_lock_release(azkv_g.lock);
	return CKR_OK;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE session, CK_SESSION_INFO *info)
{
	AZKV_REQUIRE_INIT();
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
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
		rv = CKR_OK;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, unsigned char *pin,
              CK_ULONG pin_len)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv = CKR_OK;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
		goto out;
	}
	azkv_token *tok = azkv_token_get(s->slot);
	switch (user_type) {
	case CKU_USER:
		if (tok->logged_in)
			rv = CKR_USER_ALREADY_LOGGED_IN;
		else
			tok->logged_in = 1;
		break;
	case CKU_CONTEXT_SPECIFIC:
		/* No key needs re-authentication (CKA_ALWAYS_AUTHENTICATE is false). */
		rv = tok->logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
		break;
	case CKU_SO:
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
	CK_RV rv = CKR_OK;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL)
		rv = CKR_SESSION_HANDLE_INVALID;
	else if (!azkv_token_get(s->slot)->logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	else
		azkv_token_get(s->slot)->logged_in = 0;
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* Not static: a store the compiler must keep. */
azkv_session **azkv_sessions_inherited;

void azkv_sessions_forget(void)
{
	/* After fork(): the parent's sessions are not ours to close. Kept
	 * reachable so that leak checkers do not report them as lost; the
	 * child's copy of what their active operations hold is wiped. */
	for (size_t i = 0; i < table_len; i++) {
		if (table[i] == NULL)
			continue;
		azkv_op_wipe(&table[i]->encrypt);
		azkv_op_wipe(&table[i]->decrypt);
		azkv_op_wipe(&table[i]->sign);
		azkv_op_wipe(&table[i]->verify);
	}
	azkv_sessions_inherited = table;
	table = NULL;
	table_len = table_cap = 0;
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
	default:
		return &s->verify;
	}
}

CK_RV azkv_session_op_take(CK_SESSION_HANDLE session, azkv_op_kind kind, const char *fn, void **ctx)
{
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		azkv_error("%s: session %lu is not open", fn, (unsigned long)session);
		rv = CKR_SESSION_HANDLE_INVALID;
		goto out;
	}
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
	*s = azkv_sessions_get(session);
	if (*s == NULL) {
		azkv_error("%s: session %lu is not open", fn, (unsigned long)session);
		return CKR_SESSION_HANDLE_INVALID;
	}
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
