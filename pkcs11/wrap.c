/* C_WrapKey and C_UnwrapKey with vault RSA keys, and with session AES
 * keys (AES key wrap).
 *
 * With a vault key, unwrap always happens in the vault (the private key
 * never leaves it) and yields a session secret key. Wrap uses the public
 * key locally by default (no vault transaction), or the vault's wrapkey
 * when the configuration says "wrap": "vault", so that the vault's audit
 * log sees it. With a session AES key (CKM_AES_KEY_WRAP, RFC 3394;
 * CKM_AES_KEY_WRAP_PAD, RFC 5649) both are local, so that one session key
 * can wrap another. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "op_aes_kw.h"
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

/* The AES key wrap mechanism and its parameters for a session AES key
 * (wrapping or unwrapping, usage CKA_WRAP or CKA_UNWRAP), checked in
 * PKCS#11's order; fn names the call. */
static CK_RV aes_kw_setup(const azkv_object *kek, CK_OBJECT_HANDLE handle, const CK_MECHANISM *m,
                          CK_ATTRIBUTE_TYPE usage, const char *fn, azkv_aes_kw_params *params)
{
	CK_RV rv;
	if (kek->key_type != CKK_AES) {
		azkv_error("%s: key %lu is a secret key but not an AES key", fn,
		           (unsigned long)handle);
		return usage == CKA_WRAP ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT
		                         : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
	}
	if ((rv = azkv_key_usage_check(kek, handle, usage, fn)) != CKR_OK)
		return rv;
	if (!azkv_aes_kw_mech(m->mechanism)) {
		azkv_error("%s: mechanism 0x%lx cannot wrap with an AES key (CKM_AES_KEY_WRAP, "
		           "CKM_AES_KEY_WRAP_PAD)",
		           fn, (unsigned long)m->mechanism);
		return CKR_MECHANISM_INVALID;
	}
	if ((rv = azkv_aes_kw_params_from_mech(m, params)) != CKR_OK)
		return rv;
	return azkv_key_mech_check(kek, handle, m->mechanism, fn);
}

/* C_WrapKey with a session AES key. Local and quick, so done under the
 * module lock, which the caller holds. */
static CK_RV wrap_with_secret(const azkv_session *s, const CK_MECHANISM *m, const azkv_object *wk,
                              CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key,
                              unsigned char *wrapped, CK_ULONG *wrapped_len)
{
	azkv_aes_kw_params params;
	azkv_bytes out = {0};
	size_t need;
	CK_RV rv = aes_kw_setup(wk, wrapping_key, m, CKA_WRAP, "C_WrapKey", &params);
	if (rv != CKR_OK)
		return rv;
	const azkv_object *k = azkv_objects_get(key);
	if (k == NULL || k->slot != s->slot) {
		azkv_error("C_WrapKey: key handle %lu is not valid", (unsigned long)key);
		return CKR_KEY_HANDLE_INVALID;
	}
	if ((rv = check_wrappable(wk, k, key)) != CKR_OK)
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
	azkv_object *obj = NULL;
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
	if (rv != CKR_OK)
		goto out;
	rv = azkv_secret_key_new(slot, session, tmpl, count, value.data, value.len, 0,
	                         CK_UNAVAILABLE_INFORMATION, &obj);
	if (rv != CKR_OK || (rv = azkv_objects_add(obj)) != CKR_OK)
		goto out;
	*key = obj->handle;
	obj = NULL;
	azkv_debug("C_UnwrapKey: AES key %lu unwrapped session key %lu",
	           (unsigned long)unwrapping_key, (unsigned long)*key);
out:
	azkv_object_free(obj);
	azkv_bytes_free(&value);
	return rv;
}

CK_RV C_WrapKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE wrapping_key,
                CK_OBJECT_HANDLE key, unsigned char *wrapped, CK_ULONG *wrapped_len)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_rsa_wrap_alg alg;
	azkv_vault_key *vk = NULL;
	azkv_bytes secret = {0}, out = {0};
	azkv_err err;

	if (mechanism == NULL || wrapped_len == NULL)
		return CKR_ARGUMENTS_BAD;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		azkv_error("C_WrapKey: session %lu is not open", (unsigned long)session);
		rv = CKR_SESSION_HANDLE_INVALID;
		goto locked_out;
	}
	const azkv_object *wk = azkv_objects_get(wrapping_key);
	if (wk == NULL || wk->slot != s->slot) {
		azkv_error("C_WrapKey: wrapping key handle %lu is not valid",
		           (unsigned long)wrapping_key);
		rv = CKR_WRAPPING_KEY_HANDLE_INVALID;
		goto locked_out;
	}
	if (wk->vkey == NULL && wk->cls == CKO_SECRET_KEY) {
		rv = wrap_with_secret(s, mechanism, wk, wrapping_key, key, wrapped, wrapped_len);
		goto locked_out;
	}
	if (wk->vkey == NULL || wk->cls != CKO_PUBLIC_KEY || wk->key_type != CKK_RSA) {
		azkv_error("C_WrapKey: wrapping key %lu is not a vault RSA public key",
		           (unsigned long)wrapping_key);
		rv = CKR_WRAPPING_KEY_TYPE_INCONSISTENT;
		goto locked_out;
	}
	if (!azkv_attrs_bool(&wk->attrs, CKA_WRAP, CK_FALSE)) {
		azkv_error("C_WrapKey: key '%s' does not allow wrapKey (key_ops)",
		           wk->vkey->key.name);
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto locked_out;
	}
	/* Data must not be newly protected by a version the vault has
	 * disabled or that is outside its validity window. */
	if (!azkv_vault_key_usable(wk->vkey, "C_WrapKey")) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto locked_out;
	}
	if ((rv = azkv_rsa_wrap_alg_from_mech(mechanism, &alg)) != CKR_OK ||
	    (rv = azkv_key_mech_check(wk, wrapping_key, mechanism->mechanism, "C_WrapKey")) !=
	            CKR_OK)
		goto locked_out;
	const azkv_object *k = azkv_objects_get(key);
	if (k == NULL || k->slot != s->slot) {
		azkv_error("C_WrapKey: key handle %lu is not valid", (unsigned long)key);
		rv = CKR_KEY_HANDLE_INVALID;
		goto locked_out;
	}
	if ((rv = check_wrappable(wk, k, key)) != CKR_OK)
		goto locked_out;
	size_t need = modulus_bytes(wk->vkey);
	if (wrapped == NULL || *wrapped_len < need) {
		rv = wrapped == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*wrapped_len = need;
		goto locked_out;
	}
	if (azkv_bytes_set(&secret, k->value.data, k->value.len) != 0) {
		rv = CKR_HOST_MEMORY;
		goto locked_out;
	}
	vk = wk->vkey;
	azkv_vault_key_ref(vk);
	azkv_lock_release(azkv_g.lock);

	if (azkv_g.cfg->wrap == AZKV_WRAP_VAULT) {
		azkv_token *tok = azkv_token_get(vk->slot);
		if (azkv_kv_wrap_key(tok->kv, vk->key.name, vk->key.version, alg.name, secret.data,
		                     secret.len, &out, &err) != AZKV_OK) {
			char what[256];
			snprintf(what, sizeof(what), "C_WrapKey with key '%s'", vk->key.name);
			rv = azkv_rv_from_err(&err, AZKV_CTX_KEY_OP, what);
			goto out;
		}
	} else if ((rv = azkv_rsa_wrap_local(vk->pub, &alg, secret.data, secret.len, &out)) !=
	           CKR_OK) {
		goto out;
	}
	if (out.len > *wrapped_len) {
		rv = CKR_BUFFER_TOO_SMALL;
		*wrapped_len = out.len;
		goto out;
	}
	memcpy(wrapped, out.data, out.len);
	*wrapped_len = out.len;
	azkv_debug("C_WrapKey: %s with '%s' version %s", alg.name, vk->key.name, vk->key.version);
	rv = CKR_OK;
out:
	azkv_lock_acquire(azkv_g.lock);
locked_out:
	azkv_vault_key_unref(vk);
	azkv_lock_release(azkv_g.lock);
	azkv_bytes_free(&secret);
	azkv_bytes_free(&out);
	return rv;
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
                  CK_OBJECT_HANDLE unwrapping_key, unsigned char *wrapped, CK_ULONG wrapped_len,
                  CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_rsa_wrap_alg alg;
	azkv_vault_key *vk = NULL;
	azkv_bytes value = {0};
	azkv_object *obj = NULL;
	azkv_err err;

	if (mechanism == NULL || wrapped == NULL || key == NULL || (tmpl == NULL && count > 0))
		return CKR_ARGUMENTS_BAD;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		azkv_error("C_UnwrapKey: session %lu is not open", (unsigned long)session);
		rv = CKR_SESSION_HANDLE_INVALID;
		goto locked_out;
	}
	CK_SLOT_ID slot = s->slot;
	const azkv_object *uk = azkv_objects_get(unwrapping_key);
	if (uk == NULL || uk->slot != slot) {
		azkv_error("C_UnwrapKey: unwrapping key handle %lu is not valid",
		           (unsigned long)unwrapping_key);
		rv = CKR_UNWRAPPING_KEY_HANDLE_INVALID;
		goto locked_out;
	}
	if (uk->vkey == NULL && uk->cls == CKO_SECRET_KEY) {
		rv = unwrap_with_secret(session, slot, mechanism, uk, unwrapping_key, wrapped,
		                        wrapped_len, tmpl, count, key);
		goto locked_out;
	}
	if (uk->vkey == NULL || uk->cls != CKO_PRIVATE_KEY || uk->key_type != CKK_RSA) {
		azkv_error("C_UnwrapKey: unwrapping key %lu is not a vault RSA private key",
		           (unsigned long)unwrapping_key);
		rv = CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
		goto locked_out;
	}
	if (!azkv_attrs_bool(&uk->attrs, CKA_UNWRAP, CK_FALSE)) {
		azkv_error("C_UnwrapKey: key '%s' does not allow unwrapKey (key_ops)",
		           uk->vkey->key.name);
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto locked_out;
	}
	if ((rv = azkv_rsa_wrap_alg_from_mech(mechanism, &alg)) != CKR_OK ||
	    (rv = azkv_key_mech_check(uk, unwrapping_key, mechanism->mechanism, "C_UnwrapKey")) !=
	            CKR_OK)
		goto locked_out;
	/* Checked here so that a wrong length costs no vault transaction. */
	if (wrapped_len != modulus_bytes(uk->vkey)) {
		azkv_error("C_UnwrapKey: wrapped key is %lu bytes; key '%s' needs %zu",
		           (unsigned long)wrapped_len, uk->vkey->key.name, modulus_bytes(uk->vkey));
		rv = CKR_WRAPPED_KEY_LEN_RANGE;
		goto locked_out;
	}
	/* A template that would be refused costs no vault transaction. */
	if ((rv = azkv_secret_template_check(tmpl, count)) != CKR_OK)
		goto locked_out;
	vk = uk->vkey;
	azkv_vault_key_ref(vk);
	azkv_lock_release(azkv_g.lock);

	azkv_token *tok = azkv_token_get(slot);
	if (azkv_kv_unwrap_key(tok->kv, vk->key.name, vk->key.version, alg.name, wrapped,
	                       wrapped_len, &value, &err) != AZKV_OK) {
		char what[256];
		snprintf(what, sizeof(what), "C_UnwrapKey with key '%s' version %s", vk->key.name,
		         vk->key.version);
		rv = azkv_rv_from_err(&err, AZKV_CTX_UNWRAP, what);
		azkv_lock_acquire(azkv_g.lock);
		goto locked_out;
	}

	azkv_lock_acquire(azkv_g.lock);
	if (azkv_sessions_get(session) == NULL) {
		rv = CKR_SESSION_CLOSED; /* closed by another thread meanwhile */
		goto locked_out;
	}
	rv = azkv_secret_key_new(slot, session, tmpl, count, value.data, value.len, 0,
	                         CK_UNAVAILABLE_INFORMATION, &obj);
	if (rv != CKR_OK)
		goto locked_out;
	if ((rv = azkv_objects_add(obj)) != CKR_OK)
		goto locked_out;
	*key = obj->handle;
	obj = NULL;
	azkv_debug("C_UnwrapKey: %s with '%s' version %s -> session key %lu", alg.name,
	           vk->key.name, vk->key.version, (unsigned long)*key);
locked_out:
	azkv_vault_key_unref(vk);
	azkv_lock_release(azkv_g.lock);
	azkv_object_free(obj);
	azkv_bytes_free(&value);
	return rv;
}
