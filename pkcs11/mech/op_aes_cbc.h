/* CKM_AES_CBC_PAD (PKCS#7 padding) with session AES keys, single- and
 * multi-part, in software (OpenSSL). */
#ifndef AZKV_P11_OP_AES_CBC_H
#define AZKV_P11_OP_AES_CBC_H

#include "mech.h"

extern const azkv_op_ops azkv_aes_cbc_pad_ops;

#endif
