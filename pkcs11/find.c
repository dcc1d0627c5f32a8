/* C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal. The first search
 * on a token reads its keys from the vault; later searches use the cache.
 * Matching handles are collected at init, as most modules do, so the
 * result does not change under the caller while it iterates. */
#include "array.h"
#include "log.h"
#include "login.h"
#include "module.h"
#include "object.h"
#include "session.h"
#include "token.h"

typedef struct match_ctx {
	CK_SLOT_ID slot;
	const CK_ATTRIBUTE *tmpl;
	CK_ULONG n;
	azkv_find_state found;
} match_ctx;

static CK_RV collect(azkv_object *obj, void *p)
{
	match_ctx *m = p;
	if (obj->slot != m->slot || !azkv_login_shows(obj) ||
	    !azkv_tmpl_matches(&obj->attrs, m->tmpl, m->n))
		return CKR_OK;
	return azkv_array_push(&m->found.handles, obj->handle);
}

/* The session's search, under the module lock: NULL, with *rv saying why
 * (logged, naming fn), when the session is not open or its search is not
 * as the call needs (active: C_FindObjects, C_FindObjectsFinal; idle:
 * C_FindObjectsInit). */
static azkv_find_state *search_of(CK_SESSION_HANDLE session, int active, const char *fn,
                                  CK_SLOT_ID *slot, CK_RV *rv)
{
	azkv_session *s = azkv_session_find(session, fn, rv);
	if (s == NULL)
		return NULL;
	if (s->find.active != active) {
		*rv = active ? CKR_OPERATION_NOT_INITIALIZED : CKR_OPERATION_ACTIVE;
		azkv_error("%s: session %lu %s", fn, (unsigned long)session,
		           active ? "has no search (C_FindObjectsInit)" : "is already searching");
		return NULL;
	}
	*slot = s->slot;
	return &s->find;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE session, CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv = azkv_tmpl_check(tmpl, count, "C_FindObjectsInit");
	if (rv != CKR_OK)
		return azkv_session_precedes(session, "C_FindObjectsInit", rv);

	CK_SLOT_ID slot = 0;
	azkv_lock_acquire(azkv_g.lock);
	search_of(session, 0, "C_FindObjectsInit", &slot, &rv);
	azkv_lock_release(azkv_g.lock);
	if (rv != CKR_OK)
		return rv;

	/* Network I/O, outside the module lock. */
	if ((rv = azkv_token_load(azkv_token_get(slot))) != CKR_OK)
		return rv;

	match_ctx m = {.slot = slot, .tmpl = tmpl, .n = count};
	azkv_lock_acquire(azkv_g.lock);
	azkv_find_state *find = search_of(session, 0, "C_FindObjectsInit", &slot, &rv);
	if (find != NULL && (rv = azkv_objects_each(collect, &m)) == CKR_OK) {
		*find = m.found;
		find->active = 1;
		m.found = (azkv_find_state){0};
	}
	azkv_lock_release(azkv_g.lock);
	azkv_array_free(&m.found.handles);
	return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE *objects, CK_ULONG max,
                    CK_ULONG *count)
{
	AZKV_REQUIRE_INIT();
	if ((objects == NULL && max > 0) || count == NULL)
		return azkv_session_precedes(session, "C_FindObjects", CKR_ARGUMENTS_BAD);
	CK_RV rv;
	CK_SLOT_ID slot;
	azkv_lock_acquire(azkv_g.lock);
	azkv_find_state *find = search_of(session, 1, "C_FindObjects", &slot, &rv);
	if (find != NULL) {
		*count = 0;
		while (*count < max && find->pos < find->handles.n) {
			CK_OBJECT_HANDLE h = find->handles.items[find->pos++];
			/* Skip objects destroyed since the search began. */
			if (azkv_objects_get(h) != NULL)
				objects[(*count)++] = h;
		}
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE session)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	CK_SLOT_ID slot;
	azkv_lock_acquire(azkv_g.lock);
	azkv_find_state *find = search_of(session, 1, "C_FindObjectsFinal", &slot, &rv);
	if (find != NULL) {
		azkv_array_free(&find->handles);
		find->active = 0;
		find->pos = 0;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}
