#include "op_hsm_aes_kw.h"

#include <stdio.h>

#include "log.h"
#include "mhsm.h"
#include "module.h"
#include "rv.h"
#include "token.h"

int azkv_hsm_aes_key(const azkv_object *obj)
{
	return obj->vkey != NULL && obj->cls == CKO_SECRET_KEY;
}

static int size_known_or_unknowable(azkv_vault_key *vk, unsigned *bits)
{
	azkv_lock_acquire(azkv_g.lock);
	int done = vk->aes_bits != 0 || vk->aes_bits_unknowable;
	if (bits != NULL)
		*bits = vk->aes_bits;
	azkv_lock_release(azkv_g.lock);
	return done;
}

azkv_rc azkv_hsm_aes_learn_size(azkv_vault_key *vk, azkv_err *err)
{
	/* The commonest size first: one transaction for AES-256. */
	static const unsigned sizes[] = {256, 128, 192};
	static const unsigned char zero[16];
	const azkv_key *k = &vk->key;
	azkv_err_clear(err);
	if (size_known_or_unknowable(vk, NULL))
		return AZKV_OK;
	if (!(k->jwk.key_ops & AZKV_OP_WRAP_KEY)) {
		azkv_debug("key '%s' version %s: key_ops do not allow wrapKey, so its AES key size "
		           "cannot be learned",
		           k->name, k->version);
		return AZKV_OK;
	}
	azkv_token *tok = azkv_token_get(vk->slot);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *alg = azkv_mhsm_aes_wrap_alg(sizes[i], 0);
		azkv_bytes out = {0};
		azkv_rc rc = azkv_kv_wrap_key(tok->kv, k->name, k->version, alg, zero, sizeof(zero),
		                              &out, err);
		azkv_bytes_free(&out);
		if (rc == AZKV_OK) {
			azkv_lock_acquire(azkv_g.lock);
			vk->aes_bits = sizes[i];
			azkv_lock_release(azkv_g.lock);
			azkv_info(
			        "key '%s' version %s is AES-%u (learned from the HSM with %s: %zu "
			        "transaction(s))",
			        k->name, k->version, sizes[i], alg, i + 1);
			azkv_err_clear(err);
			return AZKV_OK;
		}
		if (rc != AZKV_ERR_BAD_PARAMETER)
			return rc;
	}
	azkv_lock_acquire(azkv_g.lock);
	vk->aes_bits_unknowable = 1;
	azkv_lock_release(azkv_g.lock);
	azkv_warn("key '%s' version %s: the HSM refused A128KW, A192KW and A256KW (last: %s); its "
	          "size stays unknown and CKM_AES_KEY_WRAP is used",
	          k->name, k->version, err->message);
	azkv_err_clear(err);
	return AZKV_OK;
}

int azkv_hsm_aes_size_wanted(const azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	if (!azkv_hsm_aes_key(obj) || obj->vkey->aes_bits != 0 || obj->vkey->aes_bits_unknowable)
		return 0;
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == CKA_VALUE_LEN)
			return 1;
	return 0;
}

CK_RV azkv_hsm_aes_alg(azkv_vault_key *vk, int padded, int wrap, const char **alg)
{
	azkv_err err;
	unsigned bits = 0;
	if (padded) {
		*alg = azkv_mhsm_aes_wrap_alg(0, 1);
		return CKR_OK;
	}
	if (azkv_hsm_aes_learn_size(vk, &err) != AZKV_OK) {
		const azkv_key *k = &vk->key;
		char what[256];
		if (wrap) {
			snprintf(what, sizeof(what), "C_WrapKey with key '%s' version %s", k->name,
			         k->version);
			return azkv_rv_from_vault_err(&err, AZKV_CTX_WRAP, what,
			                              azkv_token_get(vk->slot)->vault->url, k->name,
			                              "wrapkey");
		}
		azkv_info("key '%s' version %s: AES key size not learned (%s); unwrapping with "
		          "CKM_AES_KEY_WRAP",
		          k->name, k->version, err.message);
	}
	size_known_or_unknowable(vk, &bits);
	*alg = azkv_mhsm_aes_wrap_alg(bits, 0);
	return CKR_OK;
}
