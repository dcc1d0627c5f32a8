/* CKM_AES_GCM with session AES keys, in software (OpenSSL). */
#ifndef AZKV_P11_OP_AES_GCM_H
#define AZKV_P11_OP_AES_GCM_H

#include "mech.h"

extern const azkv_op_ops azkv_aes_gcm_ops;

#endif
