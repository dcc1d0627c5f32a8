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
#include "rv.h"
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

azkv_session *azkv_session_find(CK_SESSION_HANDLE h, const char *fn, CK_RV *rv)
{
	azkv_session *s = azkv_sessions_get(h);
	*rv = s != NULL ? CKR_OK : CKR_SESSION_HANDLE_INVALID;
	if (s == NULL)
		azkv_error("%s: session %lu is not open", fn, (unsigned long)h);
	return s;
}

azkv_object *azkv_session_object(const azkv_session *s, CK_OBJECT_HANDLE h, CK_RV invalid,
                                 const char *fn, CK_RV *rv)
{
	azkv_object *obj = azkv_objects_get(h);
	if (obj == NULL || obj->slot != s->slot) {
		azkv_error("%s: handle %lu is no object of session %lu's token (%s)", fn,
		           (unsigned long)h, (unsigned long)s->handle, azkv_rv_name(invalid));
		*rv = invalid;
		return NULL;
	}
	*rv = CKR_OK;
	return obj;
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
	azkv_array_free(&s->find.handles);
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
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	if (azkv_session_find(session, "C_CloseSession", &rv) != NULL)
		close_at(session - 1);
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
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(session, "C_Logout", &rv);
	azkv_token *tok = s != NULL ? azkv_token_get(s->slot) : NULL;
	if (tok != NULL && !tok->logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (tok != NULL)
		tok->logged_in = 0;
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
