#include "internal.h"

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
	if (azkv_op_out_short(out, out_len, base->sig_len, &rv))
		goto out;
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
