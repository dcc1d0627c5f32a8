#include "internal.h"

#include <stdio.h>

#include "log.h"
#include "object.h"
#include "token.h"

CK_RV azkv_op_vault_call(const azkv_vault_key *vk, const char *op, const char *alg,
                         const unsigned char *in, size_t in_len, azkv_bytes *out, azkv_rv_ctx ctx,
                         const char *fn)
{
	azkv_err err;
	azkv_token *tok = azkv_token_get(vk->slot);
	if (azkv_kv_key_operation(tok->kv, vk->key.name, vk->key.version, op, alg, in, in_len, out,
	                          &err) != AZKV_OK) {
		char what[256];
		snprintf(what, sizeof(what), "%s with key '%s' version %s (%s)", fn, vk->key.name,
		         vk->key.version, alg);
		return azkv_rv_from_err(&err, ctx, what);
	}
	azkv_debug("%s: %s with '%s' version %s", fn, alg, vk->key.name, vk->key.version);
	return CKR_OK;
}
