#include "op_aes_kw.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"

int azkv_aes_kw_mech(CK_MECHANISM_TYPE m)
{
	const azkv_mech *mech = azkv_mech_find(m);
	return mech != NULL && mech->cipher == AZKV_FAMILY_AES_KW;
}

static const char *kw_name(int pad)
{
	return pad ? "AES key wrap with padding (RFC 5649)" : "AES key wrap (RFC 3394)";
}

CK_RV azkv_aes_kw_params_from_mech(const CK_MECHANISM *m, azkv_aes_kw_params *out)
{
	memset(out, 0, sizeof(*out));
	out->pad = m->mechanism != CKM_AES_KEY_WRAP;
	size_t iv_len = out->pad ? 4 : 8;
	if (m->pParameter == NULL && m->ulParameterLen == 0)
		return CKR_OK;
	if (m->pParameter == NULL || m->ulParameterLen != iv_len) {
		azkv_error("%s: the parameter is an optional %zu-byte IV, not %lu bytes",
		           kw_name(out->pad), iv_len, (unsigned long)m->ulParameterLen);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	memcpy(out->iv, m->pParameter, iv_len);
	out->iv_len = iv_len;
	return CKR_OK;
}

CK_RV azkv_aes_kw_wrapped_len(const azkv_aes_kw_params *p, size_t in_len, size_t *out_len)
{
	if (in_len > INT_MAX - 16 || in_len == 0 || (!p->pad && (in_len < 16 || in_len % 8))) {
		azkv_error("%s: cannot wrap %zu bytes%s", kw_name(p->pad), in_len,
		           p->pad ? "" : " (it takes a multiple of 8 bytes, at least 16)");
		return CKR_DATA_LEN_RANGE;
	}
	*out_len = (in_len + 7) / 8 * 8 + 8;
	return CKR_OK;
}

CK_RV azkv_aes_kw_unwrap_len_check(const azkv_aes_kw_params *p, size_t in_len)
{
	if (in_len > INT_MAX || in_len % 8 || in_len < (p->pad ? 16u : 24u)) {
		azkv_error("%s: %zu bytes is not a wrapped key's length", kw_name(p->pad), in_len);
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	return CKR_OK;
}

static const EVP_CIPHER *cipher_for(int pad, size_t key_len)
{
	switch (key_len) {
	case 16:
		return pad ? EVP_aes_128_wrap_pad() : EVP_aes_128_wrap();
	case 24:
		return pad ? EVP_aes_192_wrap_pad() : EVP_aes_192_wrap();
	case 32:
		return pad ? EVP_aes_256_wrap_pad() : EVP_aes_256_wrap();
	default:
		return NULL;
	}
}

CK_RV azkv_aes_kw(const azkv_aes_kw_params *p, int wrap, const unsigned char *kek, size_t kek_len,
                  const unsigned char *in, size_t in_len, azkv_bytes *out)
{
	CK_RV rv;
	size_t cap;
	out->data = NULL;
	out->len = 0;
	if (wrap) {
		if ((rv = azkv_aes_kw_wrapped_len(p, in_len, &cap)) != CKR_OK)
			return rv;
	} else {
		if ((rv = azkv_aes_kw_unwrap_len_check(p, in_len)) != CKR_OK)
			return rv;
		cap = in_len;
	}
	const EVP_CIPHER *cipher = cipher_for(p->pad, kek_len);
	if (cipher == NULL) {
		azkv_error("%s: a %zu-byte key is not an AES key", kw_name(p->pad), kek_len);
		return CKR_KEY_SIZE_RANGE;
	}
	int len = 0, fin = 0;
	rv = CKR_FUNCTION_FAILED;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	out->data = malloc(cap);
	if (ctx == NULL || out->data == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (!EVP_CipherInit_ex(ctx, cipher, NULL, kek, p->iv_len ? p->iv : NULL, wrap)) {
		azkv_error("%s: OpenSSL failed", kw_name(p->pad));
		goto out;
	}
	if (EVP_CipherUpdate(ctx, out->data, &len, in, (int)in_len) <= 0 || len < 0 ||
	    (size_t)len > cap || !EVP_CipherFinal_ex(ctx, out->data + len, &fin) || fin != 0) {
		if (wrap) {
			azkv_error("%s: OpenSSL failed", kw_name(p->pad));
		} else {
			azkv_error("%s: the integrity check failed (wrong key or corrupted data)",
			           kw_name(p->pad));
			rv = CKR_ENCRYPTED_DATA_INVALID;
		}
		goto out;
	}
	/* The room past the result (KWP's padding) is wiped too. */
	OPENSSL_cleanse(out->data + len, cap - (size_t)len);
	out->len = (size_t)len;
	rv = CKR_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rv != CKR_OK && out->data != NULL) {
		OPENSSL_cleanse(out->data, cap);
		free(out->data);
		out->data = NULL;
		out->len = 0;
	}
	return rv;
}

/* ---- single-part C_Encrypt / C_Decrypt -------------------------------- */

typedef struct kw_ctx {
	int encrypt;
	azkv_aes_kw_params params;
	unsigned char key[32];
	size_t key_len;
} kw_ctx;

static void kw_free(void *p)
{
	if (p != NULL)
		OPENSSL_clear_free(p, sizeof(kw_ctx));
}

static void kw_wipe(void *p)
{
	kw_ctx *c = p;
	OPENSSL_cleanse(c->key, sizeof(c->key));
}

static CK_RV kw_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                     const azkv_object *key, azkv_op_kind kind)
{
	azkv_aes_kw_params params;
	CK_RV rv = azkv_aes_kw_params_from_mech(m, &params);
	if (rv != CKR_OK)
		return rv;
	kw_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->encrypt = kind == AZKV_OPER_ENCRYPT;
	c->params = params;
	c->key_len = key->value.len;
	memcpy(c->key, key->value.data, key->value.len);
	*out = c;
	return CKR_OK;
}

static CK_RV kw_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                    CK_ULONG *out_len)
{
	kw_ctx *c = p;
	azkv_bytes res = {0};
	size_t need;
	CK_RV rv;
	if (c->encrypt) {
		/* Known in advance: a length query costs nothing. */
		if ((rv = azkv_aes_kw_wrapped_len(&c->params, in_len, &need)) != CKR_OK)
			return rv;
		if (azkv_op_out_short(out, out_len, need, &rv))
			return rv;
	}
	/* Unwrapping with padding: the exact length needs the unwrap. */
	if ((rv = azkv_aes_kw(&c->params, c->encrypt, c->key, c->key_len, in, in_len, &res)) !=
	    CKR_OK)
		return rv;
	if (!azkv_op_out_short(out, out_len, res.len, &rv)) {
		memcpy(out, res.data, res.len);
		*out_len = res.len;
	}
	azkv_bytes_free(&res);
	return rv;
}

const azkv_op_ops azkv_aes_kw_ops = {
        .init = kw_init,
        .run = kw_run,
        .update = NULL,
        .final = NULL,
        .free = kw_free,
        .wipe = kw_wipe,
};
