/* What is particular to Managed HSM (https://NAME.managedhsm.azure.net):
 * the AES key wrap algorithms of its oct-HSM keys, and the local RBAC role
 * an identity needs, for the message that says how to grant it. No I/O. */
#ifndef AZKV_MHSM_H
#define AZKV_MHSM_H

#include <stddef.h>

/* 1 when vault_url is a Managed HSM's (".managedhsm." in the host). */
int azkv_mhsm_is_hsm(const char *vault_url);

/* The wrapkey/unwrapkey alg for an oct-HSM key: padded, "CKM_AES_KEY_WRAP_PAD"
 * (RFC 5649); else "A128KW", "A192KW" or "A256KW" (RFC 3394) for a key of
 * that many bits, and "CKM_AES_KEY_WRAP" (RFC 3394 with a key of any size)
 * when bits is 0 (not known: bundles do not state an AES key's size) or
 * not an AES size. */
const char *azkv_mhsm_aes_wrap_alg(unsigned bits, int padded);

/* The AES key size an alg of azkv_mhsm_aes_wrap_alg names: 128, 192, 256;
 * 0 for the others. */
unsigned azkv_mhsm_aes_alg_bits(const char *alg);

/* The least-privilege built-in role for operation ("wrapkey", "unwrapkey",
 * "encrypt", "decrypt", "sign", "verify", "get"): "Managed HSM Crypto
 * Service Encryption User" for wrapkey, unwrapkey and get, else "Managed
 * HSM Crypto User". */
const char *azkv_mhsm_role_for(const char *operation);

/* How to grant that role at the key's scope, for a log line: "grant ...
 * at scope /keys/KEY, e.g. az keyvault role assignment create ...". 0
 * with buf empty when vault_url is not a Managed HSM (n > 0). */
int azkv_mhsm_grant_hint(const char *vault_url, const char *key_name, const char *operation,
                         char *buf, size_t n);

#endif
