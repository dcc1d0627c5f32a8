/* C_Encrypt/C_Decrypt with vault RSA keys: CKM_RSA_PKCS_OAEP (SHA-1 or
 * SHA-256, the vault's RSA-OAEP and RSA-OAEP-256) and CKM_RSA_PKCS
 * (RSA1_5). Encryption is local with the public key; decryption is the
 * vault's decrypt with the private key. Single-part. */
#ifndef AZKV_P11_OP_RSA_CRYPT_H
#define AZKV_P11_OP_RSA_CRYPT_H

#include "mech.h"

extern const azkv_op_ops azkv_rsa_crypt_ops;

/* The most plaintext a k-byte modulus takes with md (OAEP) or PKCS#1
 * v1.5 (md NULL); 0 when none. */
size_t azkv_rsa_max_plaintext(size_t k, const EVP_MD *md);

#endif
