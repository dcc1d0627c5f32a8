/* C_WrapKey and C_UnwrapKey with vault keys (RSA, and Managed HSM AES
 * keys) and with session AES keys (AES key wrap).
 *
 * With a vault RSA key, unwrap always happens in the vault (the private key
 * never leaves it) and yields a session secret key. Wrap uses the public
 * key locally by default (no vault transaction), or the vault's wrapkey
 * when the configuration says "wrap": "vault", so that the vault's audit
 * log sees it. With a Managed HSM AES key (CKM_AES_KEY_WRAP, RFC 3394;
 * CKM_AES_KEY_WRAP_PAD and CKM_AES_KEY_WRAP_KWP, RFC 5649) both happen in
 * the HSM (op_hsm_aes_kw.h). With a session AES key both are local, so
 * that one session key can wrap another. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "op_aes_kw.h"
#include "op_hsm_aes_kw.h"
#include "op_rsa_wrap.h"
#include "rv.h"
#include "session.h"
#include "token.h"

static size_t modulus_bytes(const azkv_vault_key *vk)
{
	return (size_t)(EVP_PKEY_get_bits(vk->pub) + 7) / 8;
}

/* Whether k may be wrapped with wk, as PKCS#11 says: only extractable
 * keys leave the token, and one with CKA_WRAP_WITH_TRUSTED only under a
 * trusted key. Secret keys only: a vault private key is never extractable. */
static CK_RV check_wrappable(const azkv_object *wk, const azkv_object *k, CK_OBJECT_HANDLE key)
{
	if (k->cls != CKO_SECRET_KEY && k->cls != CKO_PRIVATE_KEY) {
		azkv_error("C_WrapKey: object %lu is not a secret key", (unsigned long)key);
		return CKR_KEY_NOT_WRAPPABLE;
	}
	if (!azkv_attrs_bool(&k->attrs, CKA_EXTRACTABLE, CK_FALSE)) {
		azkv_error("C_WrapKey: key %lu has CKA_EXTRACTABLE=FALSE", (unsigned long)key);
		return CKR_KEY_UNEXTRACTABLE;
	}
	if (k->cls != CKO_SECRET_KEY) {
		azkv_error("C_WrapKey: only secret keys can be wrapped");
		return CKR_KEY_NOT_WRAPPABLE;
	}
	if (azkv_attrs_bool(&k->attrs, CKA_WRAP_WITH_TRUSTED, CK_FALSE) &&
	    !azkv_attrs_bool(&wk->attrs, CKA_TRUSTED, CK_FALSE)) {
		azkv_error("C_WrapKey: key %lu may only be wrapped with a trusted key",
		           (unsigned long)key);
		return CKR_KEY_NOT_WRAPPABLE;
	}
	return CKR_OK;
}

/* The key to wrap, checked: on the session's token and wrappable with wk. */
static CK_RV wrap_target(const azkv_session *s, const azkv_object *wk, CK_OBJECT_HANDLE key,
                         const azkv_object **out)
{
	CK_RV rv = azkv_key_lookup(s->slot, key, 0, "C_WrapKey", out);
	return rv != CKR_OK ? rv : check_wrappable(wk, *out, key);
}

/* The row of m, a mechanism that wraps (usage CKA_WRAP) or unwraps
 * (CKA_UNWRAP) with keys of type kt; else CKR_MECHANISM_INVALID. */
static CK_RV wrap_mech(const CK_MECHANISM *m, CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE usage,
                       const char *fn, const azkv_mech **out)
{
	*out = azkv_mech_find(m->mechanism);
	CK_FLAGS flag = usage == CKA_WRAP ? CKF_WRAP : CKF_UNWRAP;
	if (*out != NULL && (*out)->key_type == kt && ((*out)->info.flags & flag))
		return CKR_OK;
	azkv_error("%s: mechanism 0x%lx cannot %s with %s key", fn, (unsigned long)m->mechanism,
	           usage == CKA_WRAP ? "wrap" : "unwrap", kt == CKK_AES ? "an AES" : "an RSA");
	return CKR_MECHANISM_INVALID;
}

/* The mechanism's row for a key of type kt, and the key's checks
 * (azkv_key_check) for usage. */
static CK_RV wrap_key_check(const azkv_object *key, CK_OBJECT_HANDLE handle, const CK_MECHANISM *m,
                            CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE usage, const char *fn)
{
	const azkv_mech *mech;
	CK_RV rv = wrap_mech(m, kt, usage, fn, &mech);
	return rv != CKR_OK ? rv : azkv_key_check(key, handle, mech, usage, fn);
}

/* The AES key wrap mechanism and its parameters for an AES key (session
 * or vault; wrapping or unwrapping, usage CKA_WRAP or CKA_UNWRAP); fn
 * names the call. */
static CK_RV aes_kw_setup(const azkv_object *kek, CK_OBJECT_HANDLE handle, const CK_MECHANISM *m,
                          CK_ATTRIBUTE_TYPE usage, const char *fn, azkv_aes_kw_params *params)
{
	CK_RV rv = wrap_key_check(kek, handle, m, CKK_AES, usage, fn);
	if (rv != CKR_OK || (rv = azkv_aes_kw_params_from_mech(m, params)) != CKR_OK)
		return rv;
	if (kek->vkey != NULL && params->iv_len != 0) {
		azkv_error("%s: key '%s' wraps in the HSM, whose AES key wrap takes no IV (only "
		           "the RFC's default)",
		           fn, kek->vkey->key.name);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	return CKR_OK;
}

/* A session secret key of value, from the caller's template, into the
 * handle table: what every C_UnwrapKey ends with. Under the module lock. */
static CK_RV add_unwrapped_key(CK_SESSION_HANDLE session, CK_SLOT_ID slot, const CK_ATTRIBUTE *tmpl,
                               CK_ULONG count, const azkv_bytes *value, CK_OBJECT_HANDLE *key)
{
	azkv_object *obj = NULL;
	CK_RV rv = azkv_secret_key_new(slot, session, tmpl, count, value->data, value->len, 0,
	                               CK_UNAVAILABLE_INFORMATION, &obj);
	if (rv == CKR_OK && (rv = azkv_session_object_add(obj, "C_UnwrapKey")) == CKR_OK) {
		*key = obj->handle;
		obj = NULL;
	}
	azkv_object_free(obj);
	return rv;
}

/* C_WrapKey with a session AES key. Local and quick, so done under the
 * module lock, which the caller holds. */
static CK_RV wrap_with_secret(const azkv_session *s, const CK_MECHANISM *m, const azkv_object *wk,
                              CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key,
                              unsigned char *wrapped, CK_ULONG *wrapped_len)
{
	azkv_aes_kw_params params;
	azkv_bytes out = {0};
	const azkv_object *k;
	size_t need;
	CK_RV rv = aes_kw_setup(wk, wrapping_key, m, CKA_WRAP, "C_WrapKey", &params);
	if (rv != CKR_OK || (rv = wrap_target(s, wk, key, &k)) != CKR_OK)
		return rv;
	if (azkv_aes_kw_wrapped_len(&params, k->value.len, &need) != CKR_OK)
		return CKR_KEY_SIZE_RANGE;
	if (wrapped == NULL || *wrapped_len < need) {
		*wrapped_len = need;
		return wrapped == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
	}
	rv = azkv_aes_kw(&params, 1, wk->value.data, wk->value.len, k->value.data, k->value.len,
	                 &out);
	if (rv == CKR_OK) {
		memcpy(wrapped, out.data, out.len);
		*wrapped_len = out.len;
		azkv_debug("C_WrapKey: key %lu wrapped with AES key %lu", (unsigned long)key,
		           (unsigned long)wrapping_key);
	}
	azkv_bytes_free(&out);
	return rv;
}

/* C_UnwrapKey with a session AES key, under the module lock (local). */
static CK_RV unwrap_with_secret(CK_SESSION_HANDLE session, CK_SLOT_ID slot, const CK_MECHANISM *m,
                                const azkv_object *uk, CK_OBJECT_HANDLE unwrapping_key,
                                const unsigned char *wrapped, CK_ULONG wrapped_len,
                                const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	azkv_aes_kw_params params;
	azkv_bytes value = {0};
	CK_RV rv = aes_kw_setup(uk, unwrapping_key, m, CKA_UNWRAP, "C_UnwrapKey", &params);
	if (rv != CKR_OK)
		return rv;
	/* The template first, as with a vault key. */
	if ((rv = azkv_secret_template_check(tmpl, count)) != CKR_OK)
		return rv;
	rv = azkv_aes_kw(&params, 0, uk->value.data, uk->value.len, wrapped, wrapped_len, &value);
	if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
		rv = CKR_WRAPPED_KEY_LEN_RANGE;
	else if (rv == CKR_ENCRYPTED_DATA_INVALID)
		rv = CKR_WRAPPED_KEY_INVALID;
	if (rv == CKR_OK &&
	    (rv = add_unwrapped_key(session, slot, tmpl, count, &value, key)) == CKR_OK)
		azkv_debug("C_UnwrapKey: AES key %lu unwrapped session key %lu",
		           (unsigned long)unwrapping_key, (unsigned long)*key);
	azkv_bytes_free(&value);
	return rv;
}

/* A wrapkey or unwrapkey in the vault, set up under the module lock and
 * made without it. */
typedef struct vault_call {
	azkv_vault_key *vk; /* referenced */
	const char *alg;    /* RSA: the alg; an AES key: chosen by vault_call_run */
	int aes;            /* a Managed HSM AES key */
	int padded;         /* its mechanism is RFC 5649 */
} vault_call;

static CK_RV vault_call_run(vault_call *c, int wrap, const unsigned char *in, size_t in_len,
                            azkv_bytes *out)
{
	const azkv_key *k = &c->vk->key;
	azkv_token *tok = azkv_token_get(c->vk->slot);
	azkv_err err;
	CK_RV rv;
	if (c->aes && (rv = azkv_hsm_aes_alg(c->vk, c->padded, wrap, &c->alg)) != CKR_OK)
		return rv;
	azkv_rc rc =
	        wrap ? azkv_kv_wrap_key(tok->kv, k->name, k->version, c->alg, in, in_len, out, &err)
	             : azkv_kv_unwrap_key(tok->kv, k->name, k->version, c->alg, in, in_len, out,
	                                  &err);
	if (rc == AZKV_OK)
		return CKR_OK;
	char what[256];
	snprintf(what, sizeof(what), "%s with key '%s' version %s (%s)",
	         wrap ? "C_WrapKey" : "C_UnwrapKey", k->name, k->version, c->alg);
	return azkv_rv_from_vault_err(&err, wrap ? AZKV_CTX_WRAP : AZKV_CTX_UNWRAP, what,
	                              tok->vault->url, k->name, wrap ? "wrapkey" : "unwrapkey");
}

/* The checks of a vault RSA key for C_WrapKey (usage CKA_WRAP: the public
 * key) or C_UnwrapKey (CKA_UNWRAP: the private key); the alg into *alg. */
static CK_RV rsa_setup(const azkv_object *key, CK_OBJECT_HANDLE handle, const CK_MECHANISM *m,
                       CK_ATTRIBUTE_TYPE usage, azkv_rsa_wrap_alg *alg)
{
	CK_RV rv = wrap_key_check(key, handle, m, CKK_RSA, usage,
	                          usage == CKA_WRAP ? "C_WrapKey" : "C_UnwrapKey");
	return rv != CKR_OK ? rv : azkv_rsa_wrap_alg_from_mech(m, alg);
}

CK_RV C_WrapKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE wrapping_key,
                CK_OBJECT_HANDLE key, unsigned char *wrapped, CK_ULONG *wrapped_len)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_rsa_wrap_alg alg;
	azkv_aes_kw_params params;
	vault_call c = {0};
	azkv_bytes secret = {0}, out = {0};
	const azkv_object *k;
	const EVP_PKEY_CTX *prepared = NULL;
	size_t need;

	if (mechanism == NULL || wrapped_len == NULL)
		return azkv_session_precedes(session, "C_WrapKey", CKR_ARGUMENTS_BAD);
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_session_find(session, "C_WrapKey", &rv);
	if (s == NULL)
		goto locked_out;
	const azkv_object *wk;
	if ((rv = azkv_key_lookup(s->slot, wrapping_key, CKA_WRAP, "C_WrapKey", &wk)) != CKR_OK)
		goto locked_out;
	if (wk->vkey == NULL && wk->cls == CKO_SECRET_KEY) {
		rv = wrap_with_secret(s, mechanism, wk, wrapping_key, key, wrapped, wrapped_len);
		goto locked_out;
	}
	if (wk->vkey == NULL) {
		azkv_error("C_WrapKey: wrapping key %lu is not a key", (unsigned long)wrapping_key);
		rv = CKR_WRAPPING_KEY_TYPE_INCONSISTENT;
		goto locked_out;
	}
	c.aes = azkv_hsm_aes_key(wk);
	rv = c.aes ? aes_kw_setup(wk, wrapping_key, mechanism, CKA_WRAP, "C_WrapKey", &params)
	           : rsa_setup(wk, wrapping_key, mechanism, CKA_WRAP, &alg);
	if (rv != CKR_OK)
		goto locked_out;
	/* Data must not be newly protected by a version the vault has
	 * disabled or that is outside its validity window. */
	if (!azkv_vault_key_usable(wk->vkey, "C_WrapKey")) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto locked_out;
	}
	if ((rv = wrap_target(s, wk, key, &k)) != CKR_OK)
		goto locked_out;
	/* The length is known without the vault: a length query costs nothing. */
	if (c.aes) {
		c.padded = params.pad;
		if (azkv_aes_kw_wrapped_len(&params, k->value.len, &need) != CKR_OK) {
			rv = CKR_KEY_SIZE_RANGE;
			goto locked_out;
		}
	} else {
		c.alg = alg.name;
		need = modulus_bytes(wk->vkey);
	}
	if (wrapped == NULL || *wrapped_len < need) {
		rv = wrapped == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*wrapped_len = need;
		goto locked_out;
	}
	int local = !c.aes && azkv_g.cfg->wrap != AZKV_WRAP_VAULT;
	if (local && (prepared = azkv_rsa_wrap_prepared(&wk->vkey->wrap_ctxs, wk->vkey->pub,
	                                                &alg)) == NULL) {
		rv = CKR_FUNCTION_FAILED;
		goto locked_out;
	}
	if (azkv_bytes_set(&secret, k->value.data, k->value.len) != 0) {
		rv = CKR_HOST_MEMORY;
		goto locked_out;
	}
	c.vk = wk->vkey;
	azkv_vault_key_ref(c.vk);
	azkv_lock_release(azkv_g.lock);

	if (local)
		rv = azkv_rsa_wrap_local(prepared, &alg, secret.data, secret.len, &out);
	else
		rv = vault_call_run(&c, 1, secret.data, secret.len, &out);
	if (rv != CKR_OK)
		goto out;
	if (out.len > *wrapped_len) {
		rv = CKR_BUFFER_TOO_SMALL;
		*wrapped_len = out.len;
		goto out;
	}
	memcpy(wrapped, out.data, out.len);
	*wrapped_len = out.len;
	azkv_debug("C_WrapKey: %s with '%s' version %s", c.alg, c.vk->key.name, c.vk->key.version);
	rv = CKR_OK;
out:
	azkv_lock_acquire(azkv_g.lock);
locked_out:
	azkv_vault_key_unref(c.vk);
	azkv_lock_release(azkv_g.lock);
	azkv_bytes_free(&secret);
	azkv_bytes_free(&out);
	return rv;
}

/* C_UnwrapKey's checks of a vault RSA private key; the alg into *alg. */
static CK_RV rsa_unwrap_setup(const azkv_object *uk, CK_OBJECT_HANDLE unwrapping_key,
                              const CK_MECHANISM *m, CK_ULONG wrapped_len, azkv_rsa_wrap_alg *alg)
{
	CK_RV rv = rsa_setup(uk, unwrapping_key, m, CKA_UNWRAP, alg);
	if (rv != CKR_OK)
		return rv;
	/* Checked here so that a wrong length costs no vault transaction. */
	if (wrapped_len != modulus_bytes(uk->vkey)) {
		azkv_error("C_UnwrapKey: wrapped key is %lu bytes; key '%s' needs %zu",
		           (unsigned long)wrapped_len, uk->vkey->key.name, modulus_bytes(uk->vkey));
		return CKR_WRAPPED_KEY_LEN_RANGE;
	}
	return CKR_OK;
}

/* The same for a Managed HSM AES key. */
static CK_RV hsm_unwrap_setup(const azkv_object *uk, CK_OBJECT_HANDLE unwrapping_key,
                              const CK_MECHANISM *m, CK_ULONG wrapped_len, int *padded)
{
	azkv_aes_kw_params params;
	CK_RV rv = aes_kw_setup(uk, unwrapping_key, m, CKA_UNWRAP, "C_UnwrapKey", &params);
	if (rv != CKR_OK)
		return rv;
	*padded = params.pad;
	/* A length no wrapped key can have costs no vault transaction. */
	if (azkv_aes_kw_unwrap_len_check(&params, wrapped_len) != CKR_OK) {
		azkv_error("C_UnwrapKey: key '%s' cannot unwrap %lu bytes", uk->vkey->key.name,
		           (unsigned long)wrapped_len);
		return CKR_WRAPPED_KEY_LEN_RANGE;
	}
	return CKR_OK;
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
                  CK_OBJECT_HANDLE unwrapping_key, unsigned char *wrapped, CK_ULONG wrapped_len,
                  CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_rsa_wrap_alg alg;
	vault_call c = {0};
	azkv_bytes value = {0};

	rv = mechanism == NULL || wrapped == NULL || key == NULL
	             ? CKR_ARGUMENTS_BAD
	             : azkv_tmpl_check(tmpl, count, "C_UnwrapKey");
	if (rv != CKR_OK)
		return azkv_session_precedes(session, "C_UnwrapKey", rv);
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_session_find(session, "C_UnwrapKey", &rv);
	if (s == NULL)
		goto locked_out;
	CK_SLOT_ID slot = s->slot;
	if ((rv = azkv_mech_vault_allows(azkv_token_get(slot)->vault, mechanism->mechanism,
	                                 CKA_UNWRAP, "C_UnwrapKey")) != CKR_OK)
		goto locked_out;
	const azkv_object *uk;
	if ((rv = azkv_key_lookup(slot, unwrapping_key, CKA_UNWRAP, "C_UnwrapKey", &uk)) != CKR_OK)
		goto locked_out;
	if (uk->vkey == NULL && uk->cls == CKO_SECRET_KEY) {
		rv = unwrap_with_secret(session, slot, mechanism, uk, unwrapping_key, wrapped,
		                        wrapped_len, tmpl, count, key);
		goto locked_out;
	}
	if (uk->vkey == NULL) {
		azkv_error("C_UnwrapKey: unwrapping key %lu is not a key",
		           (unsigned long)unwrapping_key);
		rv = CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
		goto locked_out;
	}
	c.aes = azkv_hsm_aes_key(uk);
	rv = c.aes ? hsm_unwrap_setup(uk, unwrapping_key, mechanism, wrapped_len, &c.padded)
	           : rsa_unwrap_setup(uk, unwrapping_key, mechanism, wrapped_len, &alg);
	if (rv != CKR_OK)
		goto locked_out;
	if (!c.aes)
		c.alg = alg.name;
	/* A template that would be refused costs no vault transaction. */
	if ((rv = azkv_secret_template_check(tmpl, count)) != CKR_OK)
		goto locked_out;
	c.vk = uk->vkey;
	azkv_vault_key_ref(c.vk);
	azkv_lock_release(azkv_g.lock);

	rv = vault_call_run(&c, 0, wrapped, wrapped_len, &value);

	azkv_lock_acquire(azkv_g.lock);
	if (rv != CKR_OK)
		goto locked_out;
	if (azkv_sessions_get(session) == NULL) {
		rv = CKR_SESSION_CLOSED; /* closed by another thread meanwhile */
		goto locked_out;
	}
	if ((rv = add_unwrapped_key(session, slot, tmpl, count, &value, key)) != CKR_OK)
		goto locked_out;
	azkv_debug("C_UnwrapKey: %s with '%s' version %s -> session key %lu", c.alg, c.vk->key.name,
	           c.vk->key.version, (unsigned long)*key);
locked_out:
	azkv_vault_key_unref(c.vk);
	azkv_lock_release(azkv_g.lock);
	azkv_bytes_free(&value);
	return rv;
}
