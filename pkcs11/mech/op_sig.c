#include "internal.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>

#include "log.h"
#include "object.h"

void azkv_sig_base_init(azkv_sig_base *base, const azkv_sig_family *family, const azkv_mech *mech,
                        const azkv_object *key, azkv_op_kind kind, size_t sig_len)
{
	base->family = family;
	base->mech = mech;
	base->sign = kind == AZKV_OPER_SIGN;
	base->sig_len = sig_len;
	base->vk = key->vkey;
	azkv_vault_key_ref(base->vk);
}

void azkv_sig_free(void *ctx)
{
	azkv_sig_base *base = ctx;
	if (base == NULL)
		return;
	azkv_vault_key_unref(base->vk);
	free(base);
}

CK_RV azkv_sig_run(void *ctx, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                   CK_ULONG *out_len)
{
	azkv_sig_base *base = ctx;
	if (!base->sign)
		return base->family->verify(ctx, in, in_len, out, *out_len);
	azkv_bytes digest = {0}, vault_sig = {0};
	const char *alg = NULL;
	CK_RV rv = base->family->vault_input(ctx, in, in_len, &alg, &digest);
	if (rv != CKR_OK)
		goto out;
	if (out == NULL || *out_len < base->sig_len) {
		rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*out_len = base->sig_len;
		goto out;
	}
	if ((rv = azkv_op_vault_call(base->vk, "sign", alg, digest.data, digest.len, &vault_sig,
	                             AZKV_CTX_SIGN, "C_Sign")) != CKR_OK)
		goto out;
	if ((rv = base->family->from_vault(ctx, vault_sig.data, vault_sig.len, out)) != CKR_OK)
		goto out;
	*out_len = base->sig_len;
out:
	azkv_bytes_free(&digest);
	azkv_bytes_free(&vault_sig);
	return rv;
}

CK_RV azkv_sig_verify_local(const azkv_sig_base *base, int (*setup)(void *ctx, EVP_PKEY_CTX *pctx),
                            void *ctx, const unsigned char *sig, size_t sig_len,
                            const unsigned char *in, size_t in_len)
{
	CK_RV rv = CKR_FUNCTION_FAILED;
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(base->vk->pub, NULL);
	if (pctx == NULL || EVP_PKEY_verify_init(pctx) <= 0 ||
	    (setup != NULL && !setup(ctx, pctx))) {
		azkv_error("%s: OpenSSL failed", base->mech->name);
		goto out;
	}
	if (EVP_PKEY_verify(pctx, sig, sig_len, in, in_len) == 1) {
		rv = CKR_OK;
	} else {
		azkv_error("%s: the signature does not verify", base->mech->name);
		rv = CKR_SIGNATURE_INVALID;
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	return rv;
}

/* ---- the digesting signer ------------------------------------------------ */

typedef struct digest_ctx {
	const azkv_op_ops *inner; /* the pre-hashed signer */
	void *ictx;
	const EVP_MD *md;
	EVP_MD_CTX *mdctx; /* the data so far */
} digest_ctx;

static void digest_free(void *p)
{
	digest_ctx *c = p;
	if (c == NULL)
		return;
	if (c->inner != NULL)
		c->inner->free(c->ictx);
	EVP_MD_CTX_free(c->mdctx);
	free(c);
}

static CK_RV digest_init(void **out, const azkv_mech *mech, const CK_MECHANISM *m,
                         const azkv_object *key, azkv_op_kind kind)
{
	digest_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	CK_RV rv = mech->sig->init(&c->ictx, mech, m, key, kind);
	if (rv != CKR_OK)
		goto out;
	c->inner = mech->sig;
	c->md = azkv_mech_hash_md(mech);
	if (c->md == NULL || (c->mdctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(c->mdctx, c->md, NULL)) {
		azkv_error("%s: OpenSSL failed", mech->name);
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	*out = c;
	c = NULL;
out:
	digest_free(c);
	return rv;
}

/* The signer's answer for md (md_len bytes), which it then wipes. */
static CK_RV sign_digest(digest_ctx *c, unsigned char *md, unsigned int md_len, unsigned char *out,
                         CK_ULONG *out_len)
{
	CK_RV rv = c->inner->run(c->ictx, md, md_len, out, out_len);
	OPENSSL_cleanse(md, EVP_MAX_MD_SIZE);
	return rv;
}

static CK_RV digest_run(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                        CK_ULONG *out_len)
{
	digest_ctx *c = p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (!EVP_Digest(in, in_len, md, &md_len, c->md, NULL)) {
		azkv_error("OpenSSL failed to hash");
		return CKR_FUNCTION_FAILED;
	}
	return sign_digest(c, md, md_len, out, out_len);
}

static CK_RV digest_update(void *p, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                           CK_ULONG *out_len)
{
	digest_ctx *c = p;
	if (in_len > 0 && !EVP_DigestUpdate(c->mdctx, in, in_len)) {
		azkv_error("OpenSSL failed to hash");
		return CKR_FUNCTION_FAILED;
	}
	return CKR_OK;
}

/* On a copy of the digest so far, so that a length query or a short buffer
 * (which leave the operation going) keep the data. */
static CK_RV digest_final(void *p, unsigned char *out, CK_ULONG *out_len)
{
	digest_ctx *c = p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	int ok = copy != NULL && EVP_MD_CTX_copy_ex(copy, c->mdctx) &&
	         EVP_DigestFinal_ex(copy, md, &md_len);
	EVP_MD_CTX_free(copy);
	if (!ok) {
		azkv_error("OpenSSL failed to hash");
		return CKR_FUNCTION_FAILED;
	}
	return sign_digest(c, md, md_len, out, out_len);
}

const azkv_op_ops azkv_digest_sign_ops = {
        .init = digest_init,
        .run = digest_run,
        .update = digest_update,
        .final = digest_final,
        .free = digest_free,
        .wipe = NULL,
};
