#include "token.h"

#include <stdlib.h>

#include "log.h"
#include "module.h"
#include "object.h"
#include "rv.h"

azkv_token *azkv_token_get(CK_SLOT_ID slot)
{
	if (slot >= azkv_g.n_tokens)
		return NULL;
	return &azkv_g.tokens[slot];
}

CK_RV azkv_token_init(azkv_token *tok, CK_SLOT_ID id, const azkv_vault_config *vault)
{
	azkv_err err;
	tok->id = id;
	tok->vault = vault;
	CK_RV rv = azkv_lock_new(&tok->load_lock);
	if (rv != CKR_OK)
		return rv;
	if (azkv_kv_client_new(vault->url, azkv_g.cfg->api_version, azkv_g.cfg->http.max_retries,
	                       azkv_g.http, azkv_g.cred, &tok->kv, &err) != AZKV_OK)
		return azkv_rv_from_err(&err, AZKV_CTX_INIT, "vault client");
	return CKR_OK;
}

void azkv_token_cleanup(azkv_token *tok)
{
	azkv_kv_client_free(tok->kv);
	azkv_lock_free(tok->load_lock);
	tok->kv = NULL;
	tok->load_lock = NULL;
}

/* Fetches one key (latest version) and turns it into two objects. A key
 * named in the configuration that the vault does not have is skipped with
 * a warning (CKR_KEY_TYPE_INCONSISTENT tells the caller to skip). */
static CK_RV load_key(azkv_token *tok, const char *name, azkv_object **pub, azkv_object **priv)
{
	azkv_key key = {0};
	azkv_err err;
	char what[256];
	if (azkv_kv_get_key(tok->kv, name, NULL, &key, &err) != AZKV_OK) {
		if (err.rc == AZKV_ERR_NOT_FOUND && tok->vault->n_keys > 0) {
			azkv_warn("key '%s' (in the configuration) is not in %s: %s", name,
			          tok->vault->url, err.message);
			return CKR_KEY_TYPE_INCONSISTENT;
		}
		snprintf(what, sizeof(what), "reading key '%s' in %s", name, tok->vault->url);
		return azkv_rv_from_err(&err, AZKV_CTX_TOKEN, what);
	}
	CK_RV rv = azkv_vault_objects_new(tok->id, tok->vault->url, &key, pub, priv);
	azkv_key_free(&key);
	return rv;
}

/* The names of the keys to expose: from the configuration when it names
 * them (no "list" permission needed), else by listing the vault. */
static CK_RV key_names(azkv_token *tok, char ***names, size_t *n)
{
	azkv_key_item *items = NULL;
	size_t n_items = 0;
	azkv_err err;
	*names = NULL;
	*n = 0;
	if (tok->vault->n_keys > 0) {
		*names = tok->vault->keys;
		*n = tok->vault->n_keys;
		return CKR_OK;
	}
	if (azkv_kv_list_keys(tok->kv, &items, &n_items, &err) != AZKV_OK) {
		char what[256];
		snprintf(what, sizeof(what), "listing keys in %s", tok->vault->url);
		return azkv_rv_from_err(&err, AZKV_CTX_TOKEN, what);
	}
	CK_RV rv = CKR_OK;
	*names = calloc(n_items + 1, sizeof(**names));
	for (size_t i = 0; *names != NULL && i < n_items; i++) {
		(*names)[i] = items[i].name; /* moved */
		items[i].name = NULL;
		*n = i + 1;
	}
	if (*names == NULL)
		rv = CKR_HOST_MEMORY;
	azkv_key_items_free(items, n_items);
	return rv;
}

static void key_names_free(azkv_token *tok, char **names, size_t n)
{
	if (names == tok->vault->keys)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

CK_RV azkv_token_load(azkv_token *tok)
{
	CK_RV rv = CKR_OK;
	char **names = NULL;
	size_t n_names = 0;
	azkv_object **objs = NULL;
	size_t n_objs = 0;

	azkv_lock_acquire(tok->load_lock);
	azkv_lock_acquire(azkv_g.lock);
	int loaded = tok->loaded;
	azkv_lock_release(azkv_g.lock);
	if (loaded)
		goto out;

	azkv_debug("loading keys of %s", tok->vault->url);
	if ((rv = key_names(tok, &names, &n_names)) != CKR_OK)
		goto out;
	objs = calloc(2 * n_names + 1, sizeof(*objs));
	if (objs == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < n_names; i++) {
		CK_RV krv = load_key(tok, names[i], &objs[n_objs], &objs[n_objs + 1]);
		if (krv == CKR_KEY_TYPE_INCONSISTENT)
			continue; /* not exposed; logged */
		if (krv != CKR_OK) {
			rv = krv;
			goto out;
		}
		n_objs += 2;
	}

	azkv_lock_acquire(azkv_g.lock);
	for (size_t i = 0; i < n_objs && rv == CKR_OK; i++) {
		rv = azkv_objects_add(objs[i]);
		if (rv == CKR_OK)
			objs[i] = NULL;
	}
	if (rv == CKR_OK)
		tok->loaded = 1;
	azkv_lock_release(azkv_g.lock);
	azkv_info("%s: %zu key(s) loaded", tok->vault->url, n_objs / 2);
out:
	azkv_lock_release(tok->load_lock);
	for (size_t i = 0; objs != NULL && i < 2 * n_names; i++)
		azkv_object_free(objs[i]);
	free(objs);
	key_names_free(tok, names, n_names);
	return rv;
}
