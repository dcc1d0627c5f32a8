/* CKM_AES_CBC_PAD. Multi-part streams: each update returns every whole
 * block it can, and the operation keeps the rest (decryption keeps back
 * the last block, whose padding only C_DecryptFinal may judge). OpenSSL
 * runs without padding over whole blocks, so every output length is known
 * before anything is consumed; the final block is padded or unpadded by
 * OpenSSL, on a copy of the context, so that a length query changes
 * nothing. */
#include "op_aes_cbc.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"

#define BLOCK 16

typedef struct cbc_ctx {
	int encrypt;
	unsigned char key[32];
	size_t key_len;
	unsigned char iv[BLOCK];
	EVP_CIPHER_CTX *evp;       /* multi-part, from the first update; no padding */
	unsigned char pend[BLOCK]; /* input not yet given to evp */
	size_t pend_len;
} cbc_ctx;

static void cbc_free(void *p)
{
	cbc_ctx *c = p;
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->evp);
	OPENSSL_clear_free(c, sizeof(*c));
}

static void cbc_wipe(void *p)
{
	cbc_ctx *c = p;
	OPENSSL_cleanse(c->key, sizeof(c->key));
	OPENSSL_cleanse(c->pend, sizeof(c->pend));
}

static CK_RV cbc_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                      const azkv_object *key, azkv_op_kind kind)
{
	if (m->pParameter == NULL || m->ulParameterLen != BLOCK) {
		azkv_error("CKM_AES_CBC_PAD: the parameter must be a 16-byte IV");
		return CKR_MECHANISM_PARAM_INVALID;
	}
	cbc_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->encrypt = kind == AZKV_OPER_ENCRYPT;
	c->key_len = key->value.len;
	memcpy(c->key, key->value.data, key->value.len);
	memcpy(c->iv, m->pParameter, BLOCK);
	*out = c;
	return CKR_OK;
}

static const EVP_CIPHER *cipher_for(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_cbc();
	case 24:
		return EVP_aes_192_cbc();
	default:
		return EVP_aes_256_cbc();
	}
}

static EVP_CIPHER_CTX *cbc_start(const cbc_ctx *c, int padding)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    !EVP_CipherInit_ex(ctx, cipher_for(c->key_len), NULL, c->key, c->iv, c->encrypt) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, padding)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static CK_RV failed(void)
{
	azkv_error("CKM_AES_CBC_PAD: OpenSSL failed");
	return CKR_FUNCTION_FAILED;
}

/* OpenSSL counts in int. */
static CK_RV too_long(const cbc_ctx *c, CK_ULONG in_len)
{
	azkv_error("CKM_AES_CBC_PAD: %lu bytes is more than one call can take",
	           (unsigned long)in_len);
	return c->encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
}

/* Runs the padded cipher over in into out (room for in_len + BLOCK);
 * *n is what it wrote. CKR_ENCRYPTED_DATA_INVALID for bad padding. */
static CK_RV cbc_oneshot(const cbc_ctx *c, const unsigned char *in, size_t in_len,
                         unsigned char *out, size_t *n)
{
	CK_RV rv = CKR_OK;
	int len = 0, fin = 0;
	EVP_CIPHER_CTX *ctx = cbc_start(c, 1);
	if (ctx == NULL || (in_len > 0 && !EVP_CipherUpdate(ctx, out, &len, in, (int)in_len))) {
		rv = failed();
	} else if (!EVP_CipherFinal_ex(ctx, out + len, &fin)) {
		azkv_error("CKM_AES_CBC_PAD: the padding of the last block is not valid");
		rv = CKR_ENCRYPTED_DATA_INVALID;
	}
	*n = (size_t)len + (size_t)fin;
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

static CK_RV cbc_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                     CK_ULONG *out_len)
{
	cbc_ctx *c = p;
	if (in_len > INT_MAX - 2 * BLOCK)
		return too_long(c, in_len);
	if (c->encrypt) {
		size_t need = (in_len / BLOCK + 1) * BLOCK, n = 0;
		if (out == NULL || *out_len < need) {
			CK_RV rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
			*out_len = need;
			return rv;
		}
		CK_RV rv = cbc_oneshot(c, in, in_len, out, &n);
		if (rv == CKR_OK)
			*out_len = n;
		return rv;
	}
	if (in_len == 0 || in_len % BLOCK != 0) {
		azkv_error("CKM_AES_CBC_PAD: %lu bytes of ciphertext is not a positive number of "
		           "16-byte blocks",
		           (unsigned long)in_len);
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	/* The exact length needs the padding: decrypt into a scratch buffer. */
	size_t n = 0;
	unsigned char *plain = OPENSSL_malloc(in_len + BLOCK);
	if (plain == NULL)
		return CKR_HOST_MEMORY;
	CK_RV rv = cbc_oneshot(c, in, in_len, plain, &n);
	if (rv == CKR_OK) {
		if (out == NULL || *out_len < n)
			rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		else
			memcpy(out, plain, n);
		*out_len = n;
	}
	OPENSSL_clear_free(plain, in_len + BLOCK);
	return rv;
}

/* How many bytes an update with in_len more input releases: every whole
 * block, except that decryption keeps one back. */
static size_t releasable(const cbc_ctx *c, size_t in_len)
{
	size_t total = c->pend_len + in_len;
	if (c->encrypt)
		return total - total % BLOCK;
	return total == 0 ? 0 : (total - 1) / BLOCK * BLOCK;
}

static CK_RV cbc_update(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                        CK_ULONG *out_len)
{
	cbc_ctx *c = p;
	if (in_len > INT_MAX - 2 * BLOCK)
		return too_long(c, in_len);
	size_t n = releasable(c, in_len), used = 0;
	if (out == NULL || *out_len < n) {
		CK_RV rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*out_len = n;
		return rv;
	}
	if (c->evp == NULL && (c->evp = cbc_start(c, 0)) == NULL)
		return failed();
	int len = 0;
	size_t left = n;
	if (left > 0 && c->pend_len > 0) {
		/* Complete the pending block from the input. */
		size_t take = BLOCK - c->pend_len;
		memcpy(c->pend + c->pend_len, in, take);
		if (!EVP_CipherUpdate(c->evp, out, &len, c->pend, BLOCK) || len != BLOCK)
			return failed();
		used = take;
		out += BLOCK;
		left -= BLOCK;
		c->pend_len = 0;
	}
	if (left > 0) {
		if (!EVP_CipherUpdate(c->evp, out, &len, in + used, (int)left) ||
		    (size_t)len != left)
			return failed();
		used += left;
	}
	memcpy(c->pend + c->pend_len, in + used, in_len - used);
	c->pend_len += in_len - used;
	*out_len = n;
	return CKR_OK;
}

static CK_RV cbc_final(void *p, unsigned char *out, CK_ULONG *out_len)
{
	cbc_ctx *c = p;
	unsigned char last[2 * BLOCK];
	int len = 0, fin = 0;
	CK_RV rv = CKR_OK;
	if (!c->encrypt && c->pend_len != BLOCK) {
		azkv_error("CKM_AES_CBC_PAD: the ciphertext is not a positive number of 16-byte "
		           "blocks");
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	if (c->evp == NULL && (c->evp = cbc_start(c, 0)) == NULL)
		return failed();
	/* On a copy, with OpenSSL's padding, so that nothing changes until
	 * the result is handed out. */
	EVP_CIPHER_CTX *copy = EVP_CIPHER_CTX_new();
	if (copy == NULL || !EVP_CIPHER_CTX_copy(copy, c->evp) ||
	    !EVP_CIPHER_CTX_set_padding(copy, 1) ||
	    (c->pend_len > 0 && !EVP_CipherUpdate(copy, last, &len, c->pend, (int)c->pend_len)) ||
	    len != 0) {
		rv = failed();
		goto out;
	}
	if (!EVP_CipherFinal_ex(copy, last, &fin)) {
		azkv_error("CKM_AES_CBC_PAD: the padding of the last block is not valid");
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out;
	}
	if (out == NULL || *out_len < (CK_ULONG)fin)
		rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
	else
		memcpy(out, last, (size_t)fin);
	*out_len = (CK_ULONG)fin;
out:
	OPENSSL_cleanse(last, sizeof(last));
	EVP_CIPHER_CTX_free(copy);
	return rv;
}

const azkv_op_ops azkv_aes_cbc_pad_ops = {
        .init = cbc_init,
        .run = cbc_run,
        .update = cbc_update,
        .final = cbc_final,
        .free = cbc_free,
        .wipe = cbc_wipe,
};
