/* The family table: one row per operation family, giving the ops a
 * mechanism row names by its azkv_family. Above the families (it points at
 * their ops) and below the digesting signer and the frame, which look the
 * ops up here, so that the mechanism table (mech.c) calls no family. */
#include "mech.h"

#include "op_aes_block.h"
#include "op_aes_gcm.h"
#include "op_aes_kw.h"
#include "op_ecdsa.h"
#include "op_mac.h"
#include "op_rsa_crypt.h"
#include "op_rsa_pkcs1.h"
#include "op_rsa_pss.h"

static const azkv_op_ops *const families[AZKV_FAMILY_COUNT] = {
        [AZKV_FAMILY_NONE] = NULL,
        [AZKV_FAMILY_RSA_CRYPT] = &azkv_rsa_crypt_ops,
        [AZKV_FAMILY_AES_GCM] = &azkv_aes_gcm_ops,
        [AZKV_FAMILY_AES_BLOCK] = &azkv_aes_block_ops,
        [AZKV_FAMILY_AES_KW] = &azkv_aes_kw_ops,
        [AZKV_FAMILY_RSA_PKCS1_SIG] = &azkv_rsa_pkcs1_sig_ops,
        [AZKV_FAMILY_RSA_PSS_SIG] = &azkv_rsa_pss_sig_ops,
        [AZKV_FAMILY_ECDSA_SIG] = &azkv_ecdsa_sig_ops,
        [AZKV_FAMILY_MAC] = &azkv_mac_ops,
};

const azkv_op_ops *azkv_family_ops(azkv_family family)
{
	if ((unsigned)family >= AZKV_FAMILY_COUNT)
		return NULL;
	return families[family];
}
