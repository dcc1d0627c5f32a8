/* The MACs with session secret keys, sign and verify, single- and
 * multi-part, in software (OpenSSL's EVP_MAC): HMAC over the row's hash
 * (CKM_SHA256_HMAC, ...) and AES-CMAC (CKM_AES_CMAC), each also in its
 * _GENERAL form (CK_MAC_GENERAL_PARAMS: the MAC's length in bytes). */
#ifndef AZKV_P11_OP_MAC_H
#define AZKV_P11_OP_MAC_H

#include "mech.h"

extern const azkv_op_ops azkv_mac_ops;

#endif
