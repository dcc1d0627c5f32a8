/* The one vault request of the mechanism families: a key operation
 * (decrypt in op_rsa_crypt.c, sign in op_sig.c) with a vault key. Here
 * and not in mech.c, which the token's key loading reads (CKA_ALLOWED_
 * MECHANISMS), so that mech.c calls nothing back in token.c. */
#ifndef AZKV_P11_OP_VAULT_H
#define AZKV_P11_OP_VAULT_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "bytes.h"
#include "rv.h"

struct azkv_vault_key;

/* The key operation op ("sign", "decrypt") with alg on in, with vk (the
 * caller holds a reference), without the module lock. out owned by the
 * caller. On failure the error is mapped in context ctx (rv.h) and
 * logged as "<fn> with key '<name>' version <version> (<alg>)". */
CK_RV azkv_op_vault_call(const struct azkv_vault_key *vk, const char *op, const char *alg,
                         const unsigned char *in, size_t in_len, azkv_bytes *out, azkv_rv_ctx ctx,
                         const char *fn);

#endif
