/* The unauthenticated AES modes with session AES keys, single- and
 * multi-part, in software (OpenSSL): CKM_AES_ECB, CKM_AES_CBC,
 * CKM_AES_CBC_PAD (PKCS#7 padding) and CKM_AES_CTR (CK_AES_CTR_PARAMS).
 * One family: the modes differ only by OpenSSL's cipher, the parameter
 * and the padding. */
#ifndef AZKV_P11_OP_AES_BLOCK_H
#define AZKV_P11_OP_AES_BLOCK_H

#include "mech.h"

extern const azkv_op_ops azkv_aes_block_ops;

#endif
