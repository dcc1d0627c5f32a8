#include "token.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "module.h"
#include "object.h"
#include "retry.h"
#include "rv.h"

CK_RV azkv_token_init(azkv_token *tok, CK_SLOT_ID id, const azkv_vault_config *vault)
{
	azkv_err err;
	tok->id = id;
	tok->vault = vault;
	CK_RV rv = azkv_lock_new(&tok->load_lock);
	if (rv != CKR_OK)
		return rv;
	if (azkv_kv_client_new(vault->url, azkv_g.cfg->api_version,
	                       azkv_g.cfg->http.retry.max_retries, azkv_g.http, azkv_g.cred,
	                       &tok->kv, &err) != AZKV_OK)
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

/* Appends obj to l (owned). */
static CK_RV loaded_add(azkv_token_read *l, azkv_object *obj)
{
	CK_RV rv = azkv_array_push(&l->objs, obj);
	if (rv != CKR_OK)
		azkv_object_free(obj);
	return rv;
}

int azkv_token_read_has_kid(const azkv_token_read *l, const char *kid)
{
	for (size_t i = 0; kid != NULL && i < l->objs.n; i++) {
		const azkv_vault_key *vk = l->objs.items[i]->vkey;
		if (vk != NULL && vk->key.jwk.kid != NULL && !strcmp(vk->key.jwk.kid, kid))
			return 1;
	}
	return 0;
}

/* Before each key version read: the bounds of token.h
 * (AZKV_TOKEN_MAX_KEY_VERSIONS, AZKV_TOKEN_READ_DEADLINE_MS), so that a
 * vault listing endless keys or versions, or answering slowly, ends the
 * read with a logged CKR_DEVICE_ERROR. */
static CK_RV within_bounds(const azkv_token *tok, azkv_token_read *l)
{
	long now = azkv_now_ms();
	if (l->started_ms == 0)
		l->started_ms = now;
	if (l->versions_read >= AZKV_TOKEN_MAX_KEY_VERSIONS) {
		azkv_error("%s: more than %d key versions; refused (name the keys to use in the "
		           "vault's \"keys\" list) -> CKR_DEVICE_ERROR",
		           tok->vault->url, AZKV_TOKEN_MAX_KEY_VERSIONS);
		return CKR_DEVICE_ERROR;
	}
	if (now - l->started_ms > AZKV_TOKEN_READ_DEADLINE_MS) {
		azkv_error("%s: reading the keys took more than %ld s (%zu versions read); given "
		           "up -> CKR_DEVICE_ERROR",
		           tok->vault->url, AZKV_TOKEN_READ_DEADLINE_MS / 1000, l->versions_read);
		return CKR_DEVICE_ERROR;
	}
	l->versions_read++;
	return CKR_OK;
}

void azkv_token_read_free(azkv_token_read *l)
{
	for (size_t i = 0; i < l->objs.n; i++)
		azkv_object_free(l->objs.items[i]);
	azkv_array_free(&l->objs);
	memset(l, 0, sizeof(*l));
}

/* Fetches one key version (version NULL: the latest) and adds its two
 * objects to l, unless already there. *version_out, when not NULL,
 * receives the version read (owned). A key named in the configuration that
 * the vault does not have is skipped with a warning. */
static CK_RV load_version(azkv_token *tok, azkv_token_read *l, const char *name,
                          const char *version, int current, char **version_out)
{
	azkv_key key = {0};
	azkv_err err;
	char what[256];
	azkv_object *pub = NULL, *priv = NULL;
	CK_RV rv = within_bounds(tok, l);
	if (rv != CKR_OK)
		return rv;
	if (azkv_kv_get_key(tok->kv, name, version, &key, &err) != AZKV_OK) {
		if (err.rc == AZKV_ERR_NOT_FOUND && tok->vault->n_keys > 0) {
			azkv_warn("key '%s%s%s' (in the configuration) is not in %s: %s", name,
			          version ? "/" : "", version ? version : "", tok->vault->url,
			          err.message);
			return CKR_OK;
		}
		snprintf(what, sizeof(what), "reading key '%s' in %s", name, tok->vault->url);
		return azkv_rv_from_err(&err, AZKV_CTX_TOKEN, what);
	}
	/* azkv_kv_get_key checked the kid; a bundle without one is a bug. */
	if (key.version == NULL || key.jwk.kid == NULL) {
		azkv_error("reading key '%s' in %s: the answer names no key version -> "
		           "CKR_DEVICE_ERROR",
		           name, tok->vault->url);
		azkv_key_free(&key);
		return CKR_DEVICE_ERROR;
	}
	if (version_out != NULL && (*version_out = strdup(key.version)) == NULL) {
		azkv_key_free(&key);
		return CKR_HOST_MEMORY;
	}
	if (azkv_token_read_has_kid(l, key.jwk.kid)) {
		azkv_key_free(&key);
		return CKR_OK;
	}
	rv = azkv_vault_objects_new(tok->id, tok->vault, &key, current, &pub, &priv);
	azkv_key_free(&key);
	if (rv == CKR_KEY_TYPE_INCONSISTENT)
		return CKR_OK; /* a key type we do not expose; logged */
	if (rv != CKR_OK)
		return rv;
	/* A Managed HSM AES key has one object, no public one. */
	if (pub != NULL && (rv = loaded_add(l, pub)) != CKR_OK) {
		azkv_object_free(priv);
		return rv;
	}
	return loaded_add(l, priv);
}

/* The latest version of name, then every older version the vault lists
 * (data wrapped before a rotation needs them). Without permission to list
 * versions only the latest is loaded, with a warning; in a refresh
 * (l->strict) that is an error, so that no version is dropped unseen. */
static CK_RV load_key_versions(azkv_token *tok, azkv_token_read *l, const char *name)
{
	char *latest = NULL;
	azkv_key_item *items = NULL;
	size_t n_items = 0;
	azkv_err err;
	CK_RV rv = load_version(tok, l, name, NULL, 1, &latest);
	if (rv != CKR_OK || latest == NULL)
		goto out;
	if (azkv_kv_list_key_versions(tok->kv, name, &items, &n_items, &err) != AZKV_OK) {
		if (l->strict) {
			char what[256];
			snprintf(what, sizeof(what), "listing versions of key '%s' in %s", name,
			         tok->vault->url);
			rv = azkv_rv_from_err(&err, AZKV_CTX_TOKEN, what);
			goto out;
		}
		azkv_warn("key '%s': older versions not loaded: %s", name, err.message);
		goto out;
	}
	for (size_t i = 0; i < n_items && rv == CKR_OK; i++)
		if (items[i].version != NULL && strcmp(items[i].version, latest) != 0)
			rv = load_version(tok, l, name, items[i].version, 0, NULL);
out:
	free(latest);
	azkv_key_items_free(items, n_items);
	return rv;
}

/* Keys named in the configuration: "name" (its latest version) or
 * "name/version" (a pinned older version, e.g. one that still protects
 * data), read with "get" alone. */
static CK_RV load_named_keys(azkv_token *tok, azkv_token_read *l)
{
	CK_RV rv = CKR_OK;
	for (size_t i = 0; i < tok->vault->n_keys && rv == CKR_OK; i++) {
		const char *entry = tok->vault->keys[i];
		const char *slash = strchr(entry, '/');
		if (slash == NULL) {
			rv = load_version(tok, l, entry, NULL, 1, NULL);
			continue;
		}
		char *name = strndup(entry, (size_t)(slash - entry));
		if (name == NULL)
			return CKR_HOST_MEMORY;
		rv = load_version(tok, l, name, slash + 1, 0, NULL);
		free(name);
	}
	return rv;
}

/* Every key the vault lists, with all their versions. */
static CK_RV load_listed_keys(azkv_token *tok, azkv_token_read *l)
{
	azkv_key_item *items = NULL;
	size_t n_items = 0;
	azkv_err err;
	if (azkv_kv_list_keys(tok->kv, &items, &n_items, &err) != AZKV_OK) {
		char what[256];
		snprintf(what, sizeof(what), "listing keys in %s", tok->vault->url);
		return azkv_rv_from_err(&err, AZKV_CTX_TOKEN, what);
	}
	CK_RV rv = CKR_OK;
	for (size_t i = 0; i < n_items && rv == CKR_OK; i++)
		rv = load_key_versions(tok, l, items[i].name);
	azkv_key_items_free(items, n_items);
	return rv;
}

/* The certificates the configuration shows beside keys, each matched to
 * the private key object labelled as its entry ("name" is the latest
 * version, "name/version" an older one). A certificate that cannot be
 * shown is logged and skipped: the keys work without it. */
static CK_RV attach_certificates(azkv_token *tok, azkv_token_read *l)
{
	size_t n_keys = l->objs.n;
	for (size_t c = 0; c < tok->vault->n_certs; c++) {
		const char *want = tok->vault->cert_keys[c];
		const azkv_object *key = NULL;
		for (size_t i = 0; i < n_keys && key == NULL; i++) {
			const azkv_object *o = l->objs.items[i];
			const CK_ATTRIBUTE *label = azkv_attrs_find(&o->attrs, CKA_LABEL);
			if (o->cls == CKO_PRIVATE_KEY && label != NULL &&
			    label->ulValueLen == strlen(want) &&
			    memcmp(label->pValue, want, label->ulValueLen) == 0)
				key = o;
		}
		if (key == NULL) {
			azkv_warn("certificate %s: no key '%s' in %s", tok->vault->cert_files[c],
			          want, tok->vault->url);
			continue;
		}
		azkv_object *cert = NULL;
		if (azkv_cert_object_new(key, tok->vault->cert_files[c], &cert) != CKR_OK)
			continue;
		CK_RV rv = loaded_add(l, cert);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

CK_RV azkv_token_read_keys(azkv_token *tok, azkv_token_read *l)
{
	return tok->vault->n_keys > 0 ? load_named_keys(tok, l) : load_listed_keys(tok, l);
}

CK_RV azkv_token_read_version(azkv_token *tok, azkv_token_read *l, const char *name,
                              const char *version)
{
	return load_version(tok, l, name, version, 0, NULL);
}

CK_RV azkv_token_load(azkv_token *tok)
{
	CK_RV rv = CKR_OK;
	azkv_token_read l = {0};

	azkv_lock_acquire(tok->load_lock);
	azkv_lock_acquire(azkv_g.lock);
	int done = tok->loaded;
	azkv_lock_release(azkv_g.lock);
	if (done)
		goto out;

	azkv_debug("loading keys of %s", tok->vault->url);
	rv = azkv_token_read_keys(tok, &l);
	if (rv == CKR_OK)
		rv = attach_certificates(tok, &l);
	if (rv != CKR_OK)
		goto out;

	azkv_lock_acquire(azkv_g.lock);
	for (size_t i = 0; i < l.objs.n && rv == CKR_OK; i++) {
		rv = azkv_objects_add(l.objs.items[i]);
		if (rv == CKR_OK)
			l.objs.items[i] = NULL;
	}
	if (rv == CKR_OK)
		tok->loaded = 1;
	azkv_lock_release(azkv_g.lock);
	azkv_info("%s: %zu object(s) loaded", tok->vault->url, l.objs.n);
out:
	azkv_lock_release(tok->load_lock);
	azkv_token_read_free(&l);
	return rv;
}
