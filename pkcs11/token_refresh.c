/* AZKV_RefreshToken: a token read again after a rotation. The vault is
 * read in full first (without the module lock); only then, under the
 * lock, do the token's key objects change, so a failed read loses
 * nothing. An object whose version the vault still has keeps its handle
 * and takes the fresh attributes (label, current flag, enabled, dates,
 * tags); operations in flight keep the key version they referenced. */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "log.h"
#include "module.h"
#include "object.h"
#include "token.h"

/* The token's vault key objects, to be matched against a fresh read. */
typedef struct known {
	CK_SLOT_ID slot;
	AZKV_ARRAY(azkv_object *) objs; /* not owned: the handle table's */
} known;

static CK_RV collect_known(azkv_object *obj, void *p)
{
	known *k = p;
	if (obj->slot != k->slot || obj->vkey == NULL || obj->session != 0)
		return CKR_OK;
	return azkv_array_push(&k->objs, obj);
}

/* Name and version of each known version, copied: the configuration
 * names only the latest version of a key, so the older ones the token
 * already shows are read again one by one. */
typedef struct version_ref {
	char *name, *version;
} version_ref;

static void refs_free(version_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(refs[i].name);
		free(refs[i].version);
	}
	free(refs);
}

static CK_RV refs_of(const known *k, version_ref **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (k->objs.n == 0)
		return CKR_OK;
	version_ref *refs = calloc(k->objs.n, sizeof(*refs));
	if (refs == NULL)
		return CKR_HOST_MEMORY;
	size_t n = 0;
	for (size_t i = 0; i < k->objs.n; i++) {
		const azkv_object *o = k->objs.items[i];
		const azkv_key *key = &o->vkey->key;
		/* One per version: the private key, or an AES key's one object. */
		if ((o->cls != CKO_PRIVATE_KEY && o->cls != CKO_SECRET_KEY) || key->name == NULL ||
		    key->version == NULL)
			continue;
		refs[n].name = strdup(key->name);
		refs[n].version = strdup(key->version);
		n++;
		if (refs[n - 1].name == NULL || refs[n - 1].version == NULL) {
			refs_free(refs, n);
			return CKR_HOST_MEMORY;
		}
	}
	*out = refs;
	*n_out = n;
	return CKR_OK;
}

#define NONE ((size_t)-1)

/* Both set and equal: a bundle always has a kid, name and version
 * (keyvault.c checks), but a NULL here must never reach strcmp. */
static int same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The index in r of the fresh read of old's version and class, or NONE. */
static size_t find_fresh(const azkv_token_read *r, const azkv_object *old)
{
	for (size_t i = 0; i < r->objs.n; i++)
		if (r->objs.items[i]->cls == old->cls &&
		    same(r->objs.items[i]->vkey->key.jwk.kid, old->vkey->key.jwk.kid))
			return i;
	return NONE;
}

/* Under the module lock. The only step that can fail (adding the new
 * versions to the table) comes first and is undone on failure. */
static CK_RV commit(azkv_token *tok, azkv_token_read *r, const known *k)
{
	CK_RV rv = CKR_OK;
	size_t added = 0, updated = 0, removed = 0;
	size_t *fresh_of = calloc(k->objs.n ? k->objs.n : 1, sizeof(*fresh_of));
	char *is_update = calloc(r->objs.n ? r->objs.n : 1, 1);
	if (fresh_of == NULL || is_update == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < k->objs.n; i++)
		if ((fresh_of[i] = find_fresh(r, k->objs.items[i])) != NONE)
			is_update[fresh_of[i]] = 1;
	for (size_t j = 0; j < r->objs.n; j++) {
		if (is_update[j])
			continue;
		if ((rv = azkv_objects_add(r->objs.items[j])) != CKR_OK) {
			for (size_t u = 0; u < j; u++)
				if (!is_update[u]) {
					azkv_objects_destroy(r->objs.items[u]->handle);
					r->objs.items[u] = NULL;
				}
			goto out;
		}
		added++;
	}
	/* Nothing can fail from here on. */
	for (size_t j = 0; j < r->objs.n; j++)
		if (!is_update[j])
			r->objs.items[j] = NULL; /* the table's now */
	for (size_t i = 0; i < k->objs.n; i++) {
		azkv_object *old = k->objs.items[i];
		if (fresh_of[i] == NONE) {
			azkv_debug(
			        "refresh: key '%s' version %s is no longer in %s; object %lu gone",
			        old->vkey->key.name, old->vkey->key.version, tok->vault->url,
			        (unsigned long)old->handle);
			azkv_objects_destroy(old->handle);
			removed++;
			continue;
		}
		/* Swap contents: the old object keeps its handle and takes the
		 * fresh attributes and key version; the fresh object takes the
		 * old ones and is freed here, under the lock that guards the
		 * key version's reference count (operations in flight hold
		 * their own reference). */
		azkv_object *fresh = r->objs.items[fresh_of[i]];
		/* An AES key's size learned from the vault is the version's. */
		if (fresh->vkey->aes_bits == 0)
			fresh->vkey->aes_bits = old->vkey->aes_bits;
		azkv_attrs attrs = old->attrs;
		azkv_vault_key *vkey = old->vkey;
		old->attrs = fresh->attrs;
		old->vkey = fresh->vkey;
		fresh->attrs = attrs;
		fresh->vkey = vkey;
		azkv_object_free(fresh);
		r->objs.items[fresh_of[i]] = NULL;
		updated++;
	}
	/* Every entry was added or swapped. */
	r->objs.n = 0;
	azkv_info("%s refreshed: %zu object(s) new, %zu kept, %zu gone", tok->vault->url, added,
	          updated, removed);
out:
	free(fresh_of);
	free(is_update);
	return rv;
}

CK_RV azkv_token_refresh(azkv_token *tok)
{
	CK_RV rv;
	known k = {.slot = tok->id};
	version_ref *refs = NULL;
	size_t n_refs = 0;
	azkv_token_read r = {.strict = 1};

	azkv_lock_acquire(tok->load_lock);
	azkv_lock_acquire(azkv_g.lock);
	int loaded = tok->loaded;
	rv = loaded ? azkv_objects_each(collect_known, &k) : CKR_OK;
	if (rv == CKR_OK)
		rv = refs_of(&k, &refs, &n_refs);
	azkv_lock_release(azkv_g.lock);
	azkv_array_free(&k.objs); /* pointers into the table are not kept across I/O */
	if (rv != CKR_OK)
		goto out;
	if (!loaded) {
		/* Never read: the first load is the refresh. */
		azkv_lock_release(tok->load_lock);
		return azkv_token_load(tok);
	}

	azkv_debug("refreshing keys of %s", tok->vault->url);
	rv = azkv_token_read_keys(tok, &r);
	for (size_t i = 0; i < n_refs && rv == CKR_OK && tok->vault->n_keys > 0; i++) {
		int have = 0;
		for (size_t j = 0; j < r.objs.n && !have; j++)
			have = same(r.objs.items[j]->vkey->key.name, refs[i].name) &&
			       same(r.objs.items[j]->vkey->key.version, refs[i].version);
		if (!have)
			rv = azkv_token_read_version(tok, &r, refs[i].name, refs[i].version);
	}
	if (rv != CKR_OK) {
		azkv_error("refresh of %s failed (0x%lx); its objects are unchanged",
		           tok->vault->url, (unsigned long)rv);
		goto out;
	}

	azkv_lock_acquire(azkv_g.lock);
	if ((rv = azkv_objects_each(collect_known, &k)) == CKR_OK)
		rv = commit(tok, &r, &k);
	azkv_lock_release(azkv_g.lock);
out:
	azkv_lock_release(tok->load_lock);
	azkv_array_free(&k.objs);
	refs_free(refs, n_refs);
	azkv_token_read_free(&r);
	return rv;
}
