/* The "Vendor AZKV CMK" interface: AZKV_RefreshToken, AZKV_ListKeyVersions
 * and AZKV_GetKeyVersionInfo. Thin: sessions and the handle table are
 * read under the module lock, the vault only through the token's load and
 * refresh (token.c, token_refresh.c), never under that lock. */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cmk_ext.h"
#include "log.h"
#include "login.h"
#include "module.h"
#include "session.h"
#include "token.h"

static CK_RV refresh_token(CK_SLOT_ID slot)
{
	AZKV_REQUIRE_INIT_AS("AZKV_RefreshToken");
	azkv_token *tok = azkv_slot_token(slot);
	if (tok == NULL)
		return CKR_SLOT_ID_INVALID;
	return azkv_token_refresh(tok);
}

/* The table's objects, for azkv_cmk_versions. */
typedef AZKV_ARRAY(azkv_object *) all_objects;

/* Those the application may see (login.h): a private key's handle is
 * no more given before login than a search finds it. */
static CK_RV collect(azkv_object *obj, void *p)
{
	return azkv_login_shows(obj) ? azkv_array_push((all_objects *)p, obj) : CKR_OK;
}

/* Under the module lock: the versions of name on slot. */
static CK_RV versions_locked(CK_SLOT_ID slot, const char *name, size_t name_len,
                             AZKV_KEY_VERSION_INFO **out, size_t *n_out)
{
	all_objects a = {0};
	CK_RV rv = azkv_objects_each(collect, &a);
	if (rv == CKR_OK)
		rv = azkv_cmk_versions(a.items, a.n, slot, name, name_len, out, n_out);
	azkv_array_free(&a);
	return rv;
}

/* The session's slot, its token read from the vault if it never was. */
static CK_RV session_token(CK_SESSION_HANDLE session, const char *fn, CK_SLOT_ID *slot)
{
	CK_RV rv = azkv_session_slot(session, fn, slot);
	if (rv != CKR_OK)
		return rv;
	return azkv_token_load(azkv_token_get(*slot)); /* network I/O, outside the lock */
}

static CK_RV list_key_versions(CK_SESSION_HANDLE session, const CK_UTF8CHAR *key_name,
                               CK_ULONG key_name_len, AZKV_KEY_VERSION_INFO *versions,
                               CK_ULONG *count)
{
	AZKV_REQUIRE_INIT_AS("AZKV_ListKeyVersions");
	if (key_name == NULL || key_name_len == 0 || count == NULL)
		return CKR_ARGUMENTS_BAD;
	CK_SLOT_ID slot = 0;
	AZKV_KEY_VERSION_INFO *v = NULL;
	size_t n = 0;
	CK_RV rv = session_token(session, "AZKV_ListKeyVersions", &slot);
	if (rv != CKR_OK)
		return rv;
	azkv_lock_acquire(azkv_g.lock);
	/* Looked up again: the session may have been closed meanwhile. */
	if (azkv_session_find(session, "AZKV_ListKeyVersions", &rv) != NULL)
		rv = versions_locked(slot, (const char *)key_name, key_name_len, &v, &n);
	azkv_lock_release(azkv_g.lock);
	if (rv != CKR_OK)
		goto out;
	if (versions != NULL && *count < n)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (versions != NULL && n > 0)
		memcpy(versions, v, n * sizeof(*v));
	*count = (CK_ULONG)n;
out:
	free(v);
	return rv;
}

static CK_RV get_key_version_info(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                                  AZKV_KEY_VERSION_INFO *info)
{
	static const char fn[] = "AZKV_GetKeyVersionInfo";
	AZKV_REQUIRE_INIT_AS(fn);
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	CK_RV rv;
	AZKV_KEY_VERSION_INFO *v = NULL;
	size_t n = 0;
	azkv_lock_acquire(azkv_g.lock);
	const azkv_session *s = azkv_session_find(session, fn, &rv);
	const azkv_object *obj =
	        s ? azkv_session_object(s, key, CKR_OBJECT_HANDLE_INVALID, fn, &rv) : NULL;
	if (obj != NULL && obj->vkey == NULL) {
		azkv_error("%s: object %lu is not a vault key", fn, (unsigned long)key);
		rv = CKR_KEY_HANDLE_INVALID;
	} else if (obj != NULL) {
		const char *name = obj->vkey->key.name;
		rv = versions_locked(obj->slot, name, strlen(name), &v, &n);
		for (size_t i = 0; rv == CKR_OK && i < n; i++)
			if (v[i].public_key == key || v[i].private_key == key) {
				*info = v[i];
				break;
			}
	}
	azkv_lock_release(azkv_g.lock);
	free(v);
	return rv;
}

AZKV_CMK_FUNCTION_LIST azkv_cmk_function_list = {
        .version = {AZKV_CMK_INTERFACE_VERSION_MAJOR, AZKV_CMK_INTERFACE_VERSION_MINOR},
        .AZKV_RefreshToken = refresh_token,
        .AZKV_ListKeyVersions = list_key_versions,
        .AZKV_GetKeyVersionInfo = get_key_version_info,
};
