/* A key's versions as AZKV_KEY_VERSION_INFO entries, from the objects the
 * token holds: what AZKV_ListKeyVersions and AZKV_GetKeyVersionInfo
 * answer. Pure: no lock, no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk_ext.h"

static int has_name(const azkv_object *obj, CK_SLOT_ID slot, const char *name, size_t name_len)
{
	const char *have = obj->vkey->key.name;
	return obj->slot == slot && obj->session == 0 && have != NULL && strlen(have) == name_len &&
	       memcmp(have, name, name_len) == 0;
}

static void fill(AZKV_KEY_VERSION_INFO *info, const azkv_object *obj)
{
	const azkv_key *k = &obj->vkey->key;
	memset(info, 0, sizeof(*info));
	/* Key Vault versions are 32 characters; a longer one is cut. */
	snprintf(info->version, sizeof(info->version), "%s", k->version ? k->version : "");
	info->current = azkv_attrs_bool(&obj->attrs, CKA_AZKV_CURRENT_VERSION, CK_FALSE);
	info->enabled = k->enabled ? CK_TRUE : CK_FALSE;
	info->created = k->created > 0 ? (CK_ULONG)k->created : 0;
	info->not_before = k->nbf > 0 ? (CK_ULONG)k->nbf : 0;
	info->expires = k->exp > 0 ? (CK_ULONG)k->exp : 0;
}

static int newest_first(const void *pa, const void *pb)
{
	const AZKV_KEY_VERSION_INFO *a = pa, *b = pb;
	if (a->current != b->current)
		return a->current ? -1 : 1;
	if (a->created != b->created)
		return a->created > b->created ? -1 : 1;
	return -strcmp(a->version, b->version);
}

CK_RV azkv_cmk_versions(azkv_object *const *objs, size_t n, CK_SLOT_ID slot, const char *name,
                        size_t name_len, AZKV_KEY_VERSION_INFO **out, size_t *n_out)
{
	AZKV_KEY_VERSION_INFO *v = NULL;
	const char **kids = NULL;
	size_t count = 0;
	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
		if (objs[i]->vkey != NULL && has_name(objs[i], slot, name, name_len))
			count++;
	if (count == 0)
		return CKR_OK;
	v = calloc(count, sizeof(*v));
	kids = calloc(count, sizeof(*kids));
	if (v == NULL || kids == NULL) {
		free(v);
		free(kids);
		return CKR_HOST_MEMORY;
	}
	size_t nv = 0;
	for (size_t i = 0; i < n; i++) {
		const azkv_object *obj = objs[i];
		if (obj->vkey == NULL || !has_name(obj, slot, name, name_len))
			continue;
		/* The public and private objects of a version share its kid. */
		const char *kid = obj->vkey->key.jwk.kid;
		size_t at = 0;
		while (at < nv && strcmp(kids[at], kid) != 0)
			at++;
		if (at == nv) {
			fill(&v[nv], obj);
			kids[nv++] = kid;
		}
		if (obj->cls == CKO_PUBLIC_KEY)
			v[at].public_key = obj->handle;
		else if (obj->cls == CKO_PRIVATE_KEY || obj->cls == CKO_SECRET_KEY)
			v[at].private_key = obj->handle; /* an AES key's one object */
	}
	free(kids);
	qsort(v, nv, sizeof(*v), newest_first);
	*out = v;
	*n_out = nv;
	return CKR_OK;
}
