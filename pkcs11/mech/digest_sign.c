/* The digesting signer: the hashing signature mechanisms
 * (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA384, ...) hash the data here, in one
 * or many parts, and hand the digest to the row's pre-hashed signer
 * (internal.h), as in Google's kmsp11. Above the family table, through
 * which it finds that signer, so that neither the table nor the signers
 * call back up here. */
#include "mech.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "log.h"

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
                         const struct azkv_object *key, azkv_op_kind kind)
{
	digest_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	const azkv_op_ops *inner = azkv_family_ops(mech->sig);
	CK_RV rv = inner->init(&c->ictx, mech, m, key, kind);
	if (rv != CKR_OK)
		goto out;
	c->inner = inner;
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

const azkv_op_ops *azkv_mech_ops(const azkv_mech *mech, azkv_op_kind kind)
{
	if (kind == AZKV_OPER_ENCRYPT || kind == AZKV_OPER_DECRYPT)
		return azkv_family_ops(mech->cipher);
	if (mech->sig == AZKV_FAMILY_NONE)
		return NULL;
	/* A MAC's hash is part of it (HMAC): the family hashes the data. */
	if (mech->hash == 0 || mech->sig == AZKV_FAMILY_MAC)
		return azkv_family_ops(mech->sig);
	return &azkv_digest_sign_ops;
}
