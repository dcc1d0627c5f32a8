/* CKM_AES_GCM. Single-part, and multi-part: encryption streams (the tag
 * comes from C_EncryptFinal); decryption buffers the ciphertext and
 * releases the plaintext from C_DecryptFinal only once the tag checked,
 * so unauthenticated plaintext never leaves the module. */
#include "op_aes_gcm.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"

/* The parameters and key copied at init, so the operation outlives any
 * change to the key object. */
typedef struct gcm_ctx {
	int encrypt;
	unsigned char key[32];
	size_t key_len;
	unsigned char *iv;
	size_t iv_len;
	unsigned char *aad;
	size_t aad_len;
	size_t tag_len;
	EVP_CIPHER_CTX *evp; /* multi-part encryption, from the first update */
	unsigned char *buf;  /* multi-part decryption: the ciphertext so far */
	size_t buf_len, buf_cap;
} gcm_ctx;

static void gcm_free(void *p)
{
	gcm_ctx *c = p;
	if (c == NULL)
		return;
	free(c->iv);
	free(c->aad);
	EVP_CIPHER_CTX_free(c->evp);
	OPENSSL_clear_free(c->buf, c->buf_cap);
	OPENSSL_clear_free(c, sizeof(*c));
}

static void gcm_wipe(void *p)
{
	gcm_ctx *c = p;
	OPENSSL_cleanse(c->key, sizeof(c->key));
	if (c->buf != NULL)
		OPENSSL_cleanse(c->buf, c->buf_cap);
}

static CK_RV gcm_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                      const azkv_object *key, azkv_op_kind kind)
{
	const CK_GCM_PARAMS *p = m->pParameter;
	if (p == NULL || m->ulParameterLen != sizeof(CK_GCM_PARAMS)) {
		azkv_error("CKM_AES_GCM: parameter must be a CK_GCM_PARAMS");
		return CKR_MECHANISM_PARAM_INVALID;
	}
	/* 96..128-bit tags in 8-bit steps; what GCM and OpenSSL accept. */
	if (p->ulTagBits < 96 || p->ulTagBits > 128 || p->ulTagBits % 8 != 0 || p->ulIvLen == 0 ||
	    p->ulIvLen > INT_MAX || p->ulAADLen > INT_MAX || p->pIv == NULL ||
	    (p->ulAADLen > 0 && p->pAAD == NULL)) {
		azkv_error("CKM_AES_GCM: unsupported parameters (tag %lu bits, IV %lu bytes)",
		           (unsigned long)p->ulTagBits, (unsigned long)p->ulIvLen);
		return CKR_MECHANISM_PARAM_INVALID;
	}

	gcm_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->encrypt = kind == AZKV_OPER_ENCRYPT;
	c->key_len = key->value.len;
	memcpy(c->key, key->value.data, key->value.len);
	c->iv_len = p->ulIvLen;
	c->aad_len = p->ulAADLen;
	c->tag_len = p->ulTagBits / 8;
	c->iv = malloc(c->iv_len);
	c->aad = malloc(c->aad_len ? c->aad_len : 1);
	if (c->iv == NULL || c->aad == NULL) {
		gcm_free(c);
		return CKR_HOST_MEMORY;
	}
	memcpy(c->iv, p->pIv, c->iv_len);
	if (c->aad_len)
		memcpy(c->aad, p->pAAD, c->aad_len);
	*out = c;
	return CKR_OK;
}

static const EVP_CIPHER *cipher_for(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_gcm();
	case 24:
		return EVP_aes_192_gcm();
	default:
		return EVP_aes_256_gcm();
	}
}

/* A cipher context keyed, with IV and AAD given. */
static EVP_CIPHER_CTX *gcm_start(const gcm_ctx *c)
{
	int len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return NULL;
	if (!EVP_CipherInit_ex(ctx, cipher_for(c->key_len), NULL, NULL, NULL, c->encrypt) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)c->iv_len, NULL) ||
	    !EVP_CipherInit_ex(ctx, NULL, NULL, c->key, c->iv, c->encrypt) ||
	    (c->aad_len && !EVP_CipherUpdate(ctx, NULL, &len, c->aad, (int)c->aad_len))) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static CK_RV gcm_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                     CK_ULONG *out_len)
{
	gcm_ctx *c = p;
	CK_ULONG need;
	if (in_len > INT_MAX - 16) {
		azkv_error("CKM_AES_GCM: %lu bytes is more than one call can take",
		           (unsigned long)in_len);
		return c->encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	if (c->encrypt) {
		need = in_len + c->tag_len;
	} else {
		if (in_len < c->tag_len) {
			azkv_error("CKM_AES_GCM: %lu bytes of ciphertext is shorter than the "
			           "%zu-byte tag",
			           (unsigned long)in_len, c->tag_len);
			return CKR_ENCRYPTED_DATA_LEN_RANGE;
		}
		need = in_len - c->tag_len;
	}
	CK_RV rv;
	if (azkv_op_out_short(out, out_len, need, &rv))
		return rv;

	rv = CKR_FUNCTION_FAILED;
	int len = 0, fin = 0;
	size_t body = c->encrypt ? in_len : in_len - c->tag_len;
	EVP_CIPHER_CTX *ctx = gcm_start(c);
	if (ctx == NULL)
		goto out;
	if (!c->encrypt &&
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)c->tag_len, (void *)(in + body)))
		goto out;
	if (body > 0 && !EVP_CipherUpdate(ctx, out, &len, in, (int)body))
		goto out;
	if (!EVP_CipherFinal_ex(ctx, out + len, &fin)) {
		if (!c->encrypt) {
			/* Do not hand back plaintext that failed authentication. */
			OPENSSL_cleanse(out, need);
			azkv_error("CKM_AES_GCM: authentication tag mismatch");
			rv = CKR_ENCRYPTED_DATA_INVALID;
		}
		goto out;
	}
	if (c->encrypt &&
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)c->tag_len, out + len + fin))
		goto out;
	*out_len = need;
	rv = CKR_OK;
out:
	if (rv == CKR_FUNCTION_FAILED)
		azkv_error("CKM_AES_GCM: OpenSSL failed");
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

/* Decryption: keeps the ciphertext for the final call. */
static CK_RV gcm_buffer(gcm_ctx *c, const unsigned char *in, size_t in_len)
{
	if (in_len > INT_MAX - 16 - c->buf_len) {
		azkv_error("CKM_AES_GCM: more ciphertext than one operation can take");
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	if (c->buf_len + in_len > c->buf_cap) {
		size_t cap = c->buf_cap ? c->buf_cap : 256;
		while (cap < c->buf_len + in_len)
			cap *= 2;
		unsigned char *grown = OPENSSL_malloc(cap);
		if (grown == NULL)
			return CKR_HOST_MEMORY;
		if (c->buf_len)
			memcpy(grown, c->buf, c->buf_len);
		OPENSSL_clear_free(c->buf, c->buf_cap);
		c->buf = grown;
		c->buf_cap = cap;
	}
	if (in_len)
		memcpy(c->buf + c->buf_len, in, in_len);
	c->buf_len += in_len;
	return CKR_OK;
}

static CK_RV gcm_update(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                        CK_ULONG *out_len)
{
	gcm_ctx *c = p;
	if (!c->encrypt) {
		/* Nothing is released before the tag is checked. */
		*out_len = 0;
		return out == NULL ? CKR_OK : gcm_buffer(c, in, in_len);
	}
	if (in_len > INT_MAX) {
		azkv_error("CKM_AES_GCM: %lu bytes is more than one call can take",
		           (unsigned long)in_len);
		return CKR_DATA_LEN_RANGE;
	}
	CK_RV rv;
	if (azkv_op_out_short(out, out_len, in_len, &rv))
		return rv;
	if (c->evp == NULL && (c->evp = gcm_start(c)) == NULL) {
		azkv_error("CKM_AES_GCM: OpenSSL failed");
		return CKR_FUNCTION_FAILED;
	}
	int len = 0;
	if (in_len > 0 &&
	    (!EVP_EncryptUpdate(c->evp, out, &len, in, (int)in_len) || (CK_ULONG)len != in_len)) {
		azkv_error("CKM_AES_GCM: OpenSSL failed");
		return CKR_FUNCTION_FAILED;
	}
	*out_len = in_len;
	return CKR_OK;
}

static CK_RV gcm_final(void *p, unsigned char *out, CK_ULONG *out_len)
{
	gcm_ctx *c = p;
	if (!c->encrypt)
		return gcm_run(c, c->buf, c->buf_len, out, out_len);
	CK_RV rv;
	if (azkv_op_out_short(out, out_len, c->tag_len, &rv))
		return rv;
	unsigned char tail[16];
	int len = 0;
	if ((c->evp == NULL && (c->evp = gcm_start(c)) == NULL) ||
	    !EVP_EncryptFinal_ex(c->evp, tail, &len) || len != 0 ||
	    !EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_GCM_GET_TAG, (int)c->tag_len, out)) {
		azkv_error("CKM_AES_GCM: OpenSSL failed");
		return CKR_FUNCTION_FAILED;
	}
	*out_len = c->tag_len;
	return CKR_OK;
}

const azkv_op_ops azkv_aes_gcm_ops = {
        .init = gcm_init,
        .run = gcm_run,
        .update = gcm_update,
        .final = gcm_final,
        .free = gcm_free,
        .wipe = gcm_wipe,
};
