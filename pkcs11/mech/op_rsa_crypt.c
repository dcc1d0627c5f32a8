#include "op_rsa_crypt.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"
#include "op_rsa_wrap.h"
#include "internal.h"
#include "rv.h"

typedef struct rsa_crypt_ctx {
	int encrypt;
	azkv_rsa_wrap_alg alg;
	const EVP_PKEY_CTX *prepared; /* encryption: vk's, for alg */
	azkv_vault_key *vk;           /* a reference, dropped under the module lock */
	size_t k;                     /* modulus bytes */
	/* Decryption: a result that did not fit the caller's buffer, kept
	 * with its ciphertext so that the call again costs no vault
	 * transaction. */
	azkv_bytes last_in, last_out;
} rsa_crypt_ctx;

size_t azkv_rsa_max_plaintext(size_t k, const EVP_MD *md)
{
	size_t overhead = md ? 2 * (size_t)EVP_MD_get_size(md) + 2 : 11;
	return k > overhead ? k - overhead : 0;
}

static void rsa_crypt_free(void *p)
{
	rsa_crypt_ctx *c = p;
	if (c == NULL)
		return;
	azkv_vault_key_unref(c->vk);
	azkv_bytes_free(&c->last_in);
	azkv_bytes_free(&c->last_out);
	free(c);
}

/* The plaintext kept for a call again. */
static void rsa_crypt_wipe(void *p)
{
	rsa_crypt_ctx *c = p;
	azkv_bytes_wipe(&c->last_out);
}

static CK_RV rsa_crypt_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                            const azkv_object *key, azkv_op_kind kind)
{
	int encrypt = kind == AZKV_OPER_ENCRYPT;
	azkv_rsa_wrap_alg alg;
	CK_RV rv = azkv_rsa_wrap_alg_from_mech(m, &alg);
	if (rv != CKR_OK)
		return rv;
	/* As C_WrapKey: no data is newly protected by a version the vault has
	 * disabled or that is outside its validity window. (Decryption is the
	 * vault's to refuse.) */
	if (encrypt && !azkv_vault_key_usable(key->vkey, "C_EncryptInit"))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	const EVP_PKEY_CTX *prepared = NULL;
	if (encrypt && (prepared = azkv_rsa_wrap_prepared(&key->vkey->wrap_ctxs, key->vkey->pub,
	                                                  &alg)) == NULL)
		return CKR_FUNCTION_FAILED;
	rsa_crypt_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->encrypt = encrypt;
	c->prepared = prepared;
	c->alg = alg;
	c->k = (size_t)EVP_PKEY_get_size(key->vkey->pub);
	c->vk = key->vkey;
	azkv_vault_key_ref(c->vk);
	*out = c;
	return CKR_OK;
}

static CK_RV rsa_encrypt(rsa_crypt_ctx *c, const unsigned char *in, CK_ULONG in_len,
                         unsigned char *out, CK_ULONG *out_len)
{
	size_t max = azkv_rsa_max_plaintext(c->k, c->alg.md);
	if (in_len > max) {
		azkv_error("%s: %lu bytes is more than a %zu-bit key encrypts (at most %zu)",
		           c->alg.name, (unsigned long)in_len, c->k * 8, max);
		return CKR_DATA_LEN_RANGE;
	}
	CK_RV rv;
	if (azkv_op_out_short(out, out_len, c->k, &rv))
		return rv;
	azkv_bytes res = {0};
	rv = azkv_rsa_wrap_local(c->prepared, &c->alg, in, in_len, &res);
	if (rv == CKR_KEY_SIZE_RANGE)
		rv = CKR_DATA_LEN_RANGE;
	if (rv == CKR_OK) {
		memcpy(out, res.data, res.len);
		*out_len = res.len;
	}
	azkv_bytes_free(&res);
	return rv;
}

static CK_RV rsa_decrypt(rsa_crypt_ctx *c, const unsigned char *in, CK_ULONG in_len,
                         unsigned char *out, CK_ULONG *out_len)
{
	if (in_len != c->k) {
		azkv_error("%s: ciphertext is %lu bytes; key '%s' needs %zu", c->alg.name,
		           (unsigned long)in_len, c->vk->key.name, c->k);
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	/* A length query costs no vault transaction: the plaintext is at
	 * most the modulus long. */
	if (out == NULL) {
		*out_len = c->k;
		return CKR_OK;
	}
	if (c->last_out.data == NULL || c->last_in.len != in_len ||
	    memcmp(c->last_in.data, in, in_len) != 0) {
		azkv_bytes_free(&c->last_in);
		azkv_bytes_free(&c->last_out);
		CK_RV rv = azkv_op_vault_call(c->vk, "decrypt", c->alg.name, in, in_len,
		                              &c->last_out, AZKV_CTX_KEY_OP, "C_Decrypt");
		if (rv != CKR_OK)
			return rv;
		if (azkv_bytes_set(&c->last_in, in, in_len) != 0) {
			azkv_bytes_free(&c->last_out);
			return CKR_HOST_MEMORY;
		}
	}
	if (*out_len < c->last_out.len) {
		*out_len = c->last_out.len;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(out, c->last_out.data, c->last_out.len);
	*out_len = c->last_out.len;
	return CKR_OK;
}

static CK_RV rsa_crypt_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                           CK_ULONG *out_len)
{
	rsa_crypt_ctx *c = p;
	return c->encrypt ? rsa_encrypt(c, in, in_len, out, out_len)
	                  : rsa_decrypt(c, in, in_len, out, out_len);
}

const azkv_op_ops azkv_rsa_crypt_ops = {
        .init = rsa_crypt_init,
        .run = rsa_crypt_run,
        .update = NULL,
        .final = NULL,
        .free = rsa_crypt_free,
        .wipe = rsa_crypt_wipe,
};
