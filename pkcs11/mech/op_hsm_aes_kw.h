/* AES key wrap in a Managed HSM with its oct-HSM keys (vault secret-key
 * objects, CKK_AES): the HSM's wrapkey/unwrapkey alg for a PKCS#11
 * mechanism, and the key's size, which its bundle does not state.
 * CKM_AES_KEY_WRAP is RFC 3394: "A128KW", "A192KW" or "A256KW" by the key's
 * size, "CKM_AES_KEY_WRAP" while the size is unknown. CKM_AES_KEY_WRAP_PAD
 * and CKM_AES_KEY_WRAP_KWP are RFC 5649 here as for session keys
 * (op_aes_kw.h), and the HSM's "CKM_AES_KEY_WRAP_PAD" is RFC 5649 too. The
 * C_WrapKey/C_UnwrapKey side is in wrap.c. */
#ifndef AZKV_P11_OP_HSM_AES_KW_H
#define AZKV_P11_OP_HSM_AES_KW_H

#include <p11-kit/pkcs11.h>

#include "object.h"
#include "status.h"

/* 1 for a Managed HSM AES key object. */
int azkv_hsm_aes_key(const azkv_object *obj);

/* Learns vk's size unless known: wrapkey of a zero block with A256KW, then
 * A128KW, then A192KW, until the HSM accepts one (it answers another size
 * with 400). At most three transactions, once per key version; none when
 * key_ops do not allow wrapKey (the size then stays unknown). When every
 * size is refused the size is unknowable and not asked again. Network I/O:
 * call without the module lock, holding a reference on vk. AZKV_OK, or the
 * HSM's refusal (403, 404, ...) in err, not logged. */
azkv_rc azkv_hsm_aes_learn_size(azkv_vault_key *vk, azkv_err *err);

/* Whether a C_GetAttributeValue template asks for the size of a Managed HSM
 * AES key that is not learned yet. Under the module lock. */
int azkv_hsm_aes_size_wanted(const azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* The HSM's alg for wrapping (wrap 1) or unwrapping with vk: padded (RFC
 * 5649) "CKM_AES_KEY_WRAP_PAD"; else the size is learned first and the alg
 * is "A<bits>KW", or "CKM_AES_KEY_WRAP" when the size stays unknown. A
 * refusal while learning fails a wrap (rv and log say why, with the role
 * to grant); an unwrap goes on with "CKM_AES_KEY_WRAP", as the identity
 * may be allowed to unwrap only. Without the module lock. */
CK_RV azkv_hsm_aes_alg(azkv_vault_key *vk, int padded, int wrap, const char **alg);

#endif
