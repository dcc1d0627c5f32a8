/* CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD and CKM_AES_CTR: one family,
 * each mode a row (its OpenSSL ciphers, its parameter, its padding).
 *
 * Multi-part streams: each update returns every whole block it can (CTR:
 * every byte), and the operation keeps the rest (CBC_PAD decryption keeps
 * back the last block, whose padding only C_DecryptFinal may judge).
 * OpenSSL runs without padding over whole blocks, so every output length
 * is known before anything is consumed; CBC_PAD's final block is padded or
 * unpadded by OpenSSL, on a copy of the context, so that a length query
 * changes nothing. Lengths the mode cannot take are answered as SoftHSMv2
 * does: ECB and CBC data that is not whole blocks when the operation ends
 * (C_Encrypt, C_EncryptFinal) is CKR_DATA_LEN_RANGE, ciphertext
 * CKR_ENCRYPTED_DATA_LEN_RANGE, checked before a length query. */
#include "op_aes_block.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"

#define BLOCK 16

typedef enum {
	PARAM_NONE, /* ECB: none (a parameter given is ignored, as SoftHSMv2 does) */
	PARAM_IV,   /* CBC: a 16-byte IV */
	PARAM_CTR,  /* CTR: CK_AES_CTR_PARAMS */
} param_kind;

/* One row per mode. */
/* clang-format off */
static const struct aes_mode {
	CK_MECHANISM_TYPE type;
	const char *name;
	const EVP_CIPHER *(*cipher[3])(void); /* AES-128, AES-192, AES-256 */
	param_kind param;
	int pad;    /* PKCS#7 padding */
	int stream; /* any length, every byte out at once */
} modes[] = {
        {CKM_AES_ECB, "CKM_AES_ECB", {EVP_aes_128_ecb, EVP_aes_192_ecb, EVP_aes_256_ecb}, PARAM_NONE, 0, 0},
        {CKM_AES_CBC, "CKM_AES_CBC", {EVP_aes_128_cbc, EVP_aes_192_cbc, EVP_aes_256_cbc}, PARAM_IV, 0, 0},
        {CKM_AES_CBC_PAD, "CKM_AES_CBC_PAD", {EVP_aes_128_cbc, EVP_aes_192_cbc, EVP_aes_256_cbc}, PARAM_IV, 1, 0},
        {CKM_AES_CTR, "CKM_AES_CTR", {EVP_aes_128_ctr, EVP_aes_192_ctr, EVP_aes_256_ctr}, PARAM_CTR, 0, 1},
};
/* clang-format on */

typedef struct block_ctx {
	const struct aes_mode *mode;
	int encrypt;
	unsigned char key[32];
	size_t key_len;
	unsigned char iv[BLOCK]; /* the IV, or CTR's counter block */
	/* CTR: counter blocks left before the counter bits wrap (UINT64_MAX:
	 * at least that many), and the bytes run so far. */
	uint64_t ctr_room, ctr_done;
	EVP_CIPHER_CTX *evp;       /* multi-part, from the first update; no padding */
	unsigned char pend[BLOCK]; /* input not yet given to evp */
	size_t pend_len;
} block_ctx;

static void block_free(void *p)
{
	block_ctx *c = p;
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->evp);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static void block_wipe(void *p)
{
	block_ctx *c = p;
	OPENSSL_cleanse(c->key, sizeof(c->key));
	OPENSSL_cleanse(c->pend, sizeof(c->pend));
}

/* The counter blocks cb leaves before its low bits (1..128) wrap:
 * 2^bits - counter, at most UINT64_MAX. */
static uint64_t ctr_room(const unsigned char cb[BLOCK], CK_ULONG bits)
{
	uint64_t lo = 0;
	for (int i = 8; i < BLOCK; i++)
		lo = lo << 8 | cb[i];
	if (bits < 64)
		return (UINT64_C(1) << bits) - (lo & ((UINT64_C(1) << bits) - 1));
	/* 2^64 or more left unless the counter bits above the low 64 are all
	 * ones; then 2^64 - lo. */
	for (CK_ULONG b = 64; b < bits; b++)
		if (!(cb[BLOCK - 1 - b / 8] >> (b % 8) & 1))
			return UINT64_MAX;
	return lo == 0 ? UINT64_MAX : (uint64_t)0 - lo;
}

static CK_RV param_invalid(const struct aes_mode *mode, const char *why)
{
	azkv_error("%s: %s", mode->name, why);
	return CKR_MECHANISM_PARAM_INVALID;
}

/* Fills c's IV and counter from m's parameter. */
static CK_RV take_param(block_ctx *c, const CK_MECHANISM *m)
{
	const struct aes_mode *mode = c->mode;
	if (mode->param == PARAM_IV) {
		if (m->pParameter == NULL || m->ulParameterLen != BLOCK)
			return param_invalid(mode, "the parameter must be a 16-byte IV");
		memcpy(c->iv, m->pParameter, BLOCK);
	} else if (mode->param == PARAM_CTR) {
		const CK_AES_CTR_PARAMS *p = m->pParameter;
		if (p == NULL || m->ulParameterLen != sizeof(*p))
			return param_invalid(mode, "the parameter must be a CK_AES_CTR_PARAMS");
		/* PKCS#11 3.0 (CK_AES_CTR_PARAMS): 0 < ulCounterBits <= 128. */
		if (p->ulCounterBits == 0 || p->ulCounterBits > 8 * BLOCK)
			return param_invalid(mode, "ulCounterBits must be 1 to 128");
		memcpy(c->iv, p->cb, BLOCK);
		c->ctr_room = ctr_room(p->cb, p->ulCounterBits);
	}
	return CKR_OK;
}

static CK_RV block_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                        const azkv_object *key, azkv_op_kind kind)
{
	const struct aes_mode *mode = NULL;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i].type == mech->type)
			mode = &modes[i];
	if (mode == NULL || key->value.len > sizeof(((block_ctx *)NULL)->key))
		return CKR_MECHANISM_INVALID;
	block_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->mode = mode;
	c->encrypt = kind == AZKV_OPER_ENCRYPT;
	c->key_len = key->value.len;
	memcpy(c->key, key->value.data, key->value.len);
	CK_RV rv = take_param(c, m);
	if (rv != CKR_OK) {
		block_free(c);
		return rv;
	}
	*out = c;
	return CKR_OK;
}

static EVP_CIPHER_CTX *block_start(const block_ctx *c, int padding)
{
	const EVP_CIPHER *cipher = c->mode->cipher[c->key_len == 16   ? 0
	                                           : c->key_len == 24 ? 1
	                                                              : 2]();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    !EVP_CipherInit_ex(ctx, cipher, NULL, c->key,
	                       c->mode->param == PARAM_NONE ? NULL : c->iv, c->encrypt) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, padding)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static CK_RV failed(const block_ctx *c)
{
	azkv_error("%s: OpenSSL failed", c->mode->name);
	return CKR_FUNCTION_FAILED;
}

/* The code for input of a length the mode cannot take. */
static CK_RV len_range(const block_ctx *c)
{
	return c->encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
}

/* CKR_OK when one call can take in_len more bytes: OpenSSL counts in int,
 * and CTR's counter may not wrap within ulCounterBits (PKCS#11: the
 * counter bits alone are incremented, so a wrap would reuse a counter
 * block, and the key stream with it). */
static CK_RV input_check(const block_ctx *c, CK_ULONG in_len)
{
	if (in_len > INT_MAX - 2 * BLOCK) {
		azkv_error("%s: %lu bytes is more than one call can take", c->mode->name,
		           (unsigned long)in_len);
		return len_range(c);
	}
	if (c->mode->param != PARAM_CTR)
		return CKR_OK;
	uint64_t total = c->ctr_done + in_len;
	if (total / BLOCK + (total % BLOCK != 0) <= c->ctr_room)
		return CKR_OK;
	azkv_error("%s: %llu bytes would wrap the counter (%llu blocks left before its "
	           "ulCounterBits wrap)",
	           c->mode->name, (unsigned long long)total, (unsigned long long)c->ctr_room);
	return len_range(c);
}

/* Whether a total of n bytes can end the operation: whole blocks for ECB
 * and CBC, and a positive number of them to decrypt CBC_PAD. */
static int whole(const block_ctx *c, size_t n)
{
	if (c->mode->stream || (c->mode->pad && c->encrypt))
		return 1;
	return n % BLOCK == 0 && (n > 0 || !c->mode->pad);
}

/* n bytes in all (run), or left over when the operation ends (final). */
static CK_RV not_whole(const block_ctx *c, size_t n, const char *which)
{
	azkv_error("%s: the %s is not a %s number of 16-byte blocks (%zu bytes %s)", c->mode->name,
	           c->encrypt ? "data" : "ciphertext", c->mode->pad ? "positive" : "whole", n,
	           which);
	return len_range(c);
}

/* Runs the cipher, padded as the mode says, over in into out (room for
 * in_len + BLOCK); *n is what it wrote. CKR_ENCRYPTED_DATA_INVALID for bad
 * padding. */
static CK_RV block_oneshot(const block_ctx *c, const unsigned char *in, size_t in_len,
                           unsigned char *out, size_t *n)
{
	CK_RV rv = CKR_OK;
	int len = 0, fin = 0;
	EVP_CIPHER_CTX *ctx = block_start(c, c->mode->pad);
	if (ctx == NULL || (in_len > 0 && !EVP_CipherUpdate(ctx, out, &len, in, (int)in_len))) {
		rv = failed(c);
	} else if (!EVP_CipherFinal_ex(ctx, out + len, &fin)) {
		azkv_error("%s: the padding of the last block is not valid", c->mode->name);
		rv = CKR_ENCRYPTED_DATA_INVALID;
	}
	*n = (size_t)len + (size_t)fin;
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

static CK_RV block_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                       CK_ULONG *out_len)
{
	block_ctx *c = p;
	CK_RV rv = input_check(c, in_len);
	if (rv == CKR_OK && !whole(c, in_len))
		rv = not_whole(c, in_len, "in all");
	if (rv != CKR_OK)
		return rv;
	size_t n = 0;
	if (c->encrypt || !c->mode->pad) {
		size_t need = c->mode->pad ? (in_len / BLOCK + 1) * BLOCK : in_len;
		if (azkv_op_out_short(out, out_len, need, &rv))
			return rv;
		if ((rv = block_oneshot(c, in, in_len, out, &n)) == CKR_OK)
			*out_len = n;
		return rv;
	}
	/* The exact length needs the padding: decrypt into a scratch buffer. */
	unsigned char *plain = OPENSSL_malloc(in_len + BLOCK);
	if (plain == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = block_oneshot(c, in, in_len, plain, &n)) == CKR_OK) {
		if (!azkv_op_out_short(out, out_len, n, &rv)) {
			memcpy(out, plain, n);
			*out_len = n;
		}
	}
	OPENSSL_clear_free(plain, in_len + BLOCK);
	return rv;
}

/* How many bytes an update with in_len more input releases: every byte
 * (CTR), else every whole block, except that CBC_PAD decryption keeps one
 * back. */
static size_t releasable(const block_ctx *c, size_t in_len)
{
	size_t total = c->pend_len + in_len;
	if (c->mode->stream)
		return total;
	if (!c->mode->pad || c->encrypt)
		return total - total % BLOCK;
	return total == 0 ? 0 : (total - 1) / BLOCK * BLOCK;
}

/* Gives n bytes of output for in: first the pending block completed
 * from the input, then whole blocks of the rest; keeps what is left. */
static CK_RV block_feed(block_ctx *c, const unsigned char *in, size_t in_len, unsigned char *out,
                        size_t n)
{
	int len = 0;
	size_t left = n, used = 0;
	if (left > 0 && c->pend_len > 0) {
		/* Complete the pending block from the input. */
		size_t take = BLOCK - c->pend_len;
		memcpy(c->pend + c->pend_len, in, take);
		if (!EVP_CipherUpdate(c->evp, out, &len, c->pend, BLOCK) || len != BLOCK)
			return failed(c);
		used = take;
		out += BLOCK;
		left -= BLOCK;
		c->pend_len = 0;
	}
	if (left > 0) {
		if (!EVP_CipherUpdate(c->evp, out, &len, in + used, (int)left) ||
		    (size_t)len != left)
			return failed(c);
		used += left;
	}
	memcpy(c->pend + c->pend_len, in + used, in_len - used);
	c->pend_len += in_len - used;
	c->ctr_done += in_len;
	return CKR_OK;
}

static CK_RV block_update(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                          CK_ULONG *out_len)
{
	block_ctx *c = p;
	CK_RV rv;
	if ((rv = input_check(c, in_len)) != CKR_OK)
		return rv;
	size_t n = releasable(c, in_len);
	if (azkv_op_out_short(out, out_len, n, &rv))
		return rv;
	if (c->evp == NULL && (c->evp = block_start(c, 0)) == NULL)
		return failed(c);
	/* The input and output may be one buffer (PKCS#11 allows it). With
	 * a pending block the output runs ahead of the input by the pending
	 * bytes, so the input is read from a copy (wiped: it may be
	 * plaintext). */
	unsigned char *copy = NULL;
	if (c->pend_len > 0 && n > 0 && out < in + in_len && in < out + n) {
		if ((copy = OPENSSL_malloc(in_len)) == NULL)
			return CKR_HOST_MEMORY;
		memcpy(copy, in, in_len);
	}
	rv = block_feed(c, copy != NULL ? copy : in, in_len, out, n);
	OPENSSL_clear_free(copy, in_len);
	if (rv == CKR_OK)
		*out_len = n;
	return rv;
}

/* CBC_PAD's last block: padded or unpadded on a copy of the context, so
 * that nothing changes until the result is handed out. */
static CK_RV pad_final(block_ctx *c, unsigned char *out, CK_ULONG *out_len)
{
	unsigned char last[2 * BLOCK];
	int len = 0, fin = 0;
	CK_RV rv = CKR_OK;
	if (c->evp == NULL && (c->evp = block_start(c, 0)) == NULL)
		return failed(c);
	EVP_CIPHER_CTX *copy = EVP_CIPHER_CTX_new();
	if (copy == NULL || !EVP_CIPHER_CTX_copy(copy, c->evp) ||
	    !EVP_CIPHER_CTX_set_padding(copy, 1) ||
	    (c->pend_len > 0 && !EVP_CipherUpdate(copy, last, &len, c->pend, (int)c->pend_len)) ||
	    len != 0) {
		rv = failed(c);
		goto out;
	}
	if (!EVP_CipherFinal_ex(copy, last, &fin)) {
		azkv_error("%s: the padding of the last block is not valid", c->mode->name);
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out;
	}
	if (!azkv_op_out_short(out, out_len, (size_t)fin, &rv)) {
		memcpy(out, last, (size_t)fin);
		*out_len = (CK_ULONG)fin;
	}
out:
	OPENSSL_cleanse(last, sizeof(last));
	EVP_CIPHER_CTX_free(copy);
	return rv;
}

static CK_RV block_final(void *p, unsigned char *out, CK_ULONG *out_len)
{
	block_ctx *c = p;
	/* Decrypting CBC_PAD, the block kept back must be whole; ECB and CBC
	 * must have nothing left over (CTR never has). */
	if (c->mode->pad ? !c->encrypt && c->pend_len != BLOCK : c->pend_len != 0)
		return not_whole(c, c->pend_len, "after the last whole block");
	if (c->mode->pad)
		return pad_final(c, out, out_len);
	/* Every byte has been handed out. */
	*out_len = 0;
	return CKR_OK;
}

const azkv_op_ops azkv_aes_block_ops = {
        .init = block_init,
        .run = block_run,
        .update = block_update,
        .final = block_final,
        .free = block_free,
        .wipe = block_wipe,
};
