/* C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal. The first search
 * on a token reads its keys from the vault; later searches use the cache.
 * Matching handles are collected at init, as most modules do, so the
 * result does not change under the caller while it iterates. */
#include <stdlib.h>

#include "module.h"
#include "object.h"
#include "session.h"
#include "token.h"

typedef struct match_ctx {
	CK_SLOT_ID slot;
	const CK_ATTRIBUTE *tmpl;
	CK_ULONG n;
	CK_OBJECT_HANDLE *handles;
	size_t count, cap;
	int oom;
} match_ctx;

static int collect(azkv_object *obj, void *p)
{
	match_ctx *m = p;
	if (obj->slot != m->slot || !azkv_tmpl_matches(&obj->attrs, m->tmpl, m->n))
		return 0;
	if (m->count == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		CK_OBJECT_HANDLE *grown = realloc(m->handles, cap * sizeof(*grown));
		if (grown == NULL) {
			m->oom = 1;
			return 1;
		}
		m->handles = grown;
		m->cap = cap;
	}
	m->handles[m->count++] = obj->handle;
	return 0;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE session, CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv = azkv_tmpl_check(tmpl, count, "C_FindObjectsInit");
	if (rv != CKR_OK)
		return rv;

	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	rv = s == NULL        ? CKR_SESSION_HANDLE_INVALID
	     : s->find.active ? CKR_OPERATION_ACTIVE
	                      : CKR_OK;
	CK_SLOT_ID slot = s ? s->slot : 0;
	azkv_lock_release(azkv_g.lock);
	if (rv != CKR_OK)
		return rv;

	/* Network I/O, outside the module lock. */
	if ((rv = azkv_token_load(azkv_token_get(slot))) != CKR_OK)
		return rv;

	match_ctx m = {.slot = slot, .tmpl = tmpl, .n = count};
	azkv_lock_acquire(azkv_g.lock);
	s = azkv_sessions_get(session);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else if (s->find.active) {
		rv = CKR_OPERATION_ACTIVE;
	} else {
		azkv_objects_each(collect, &m);
		if (m.oom) {
			rv = CKR_HOST_MEMORY;
		} else {
			s->find.active = 1;
			s->find.handles = m.handles;
			s->find.n = m.count;
			s->find.pos = 0;
			m.handles = NULL;
		}
	}
	azkv_lock_release(azkv_g.lock);
	free(m.handles);
	return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE *objects, CK_ULONG max,
                    CK_ULONG *count)
{
	AZKV_REQUIRE_INIT();
	if ((objects == NULL && max > 0) || count == NULL)
		return CKR_ARGUMENTS_BAD;
	CK_RV rv = CKR_OK;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else if (!s->find.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		*count = 0;
		while (*count < max && s->find.pos < s->find.n) {
			CK_OBJECT_HANDLE h = s->find.handles[s->find.pos++];
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
	CK_RV rv = CKR_OK;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else if (!s->find.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		free(s->find.handles);
		s->find = (azkv_find_state){0};
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}
