/* RSASSA-PKCS1-v1_5 with vault RSA keys: CKM_RSA_PKCS (the input is a
 * DigestInfo, signed in the vault as RS256/RS384/RS512; verified raw) and
 * CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS. */
#ifndef AZKV_P11_OP_RSA_PKCS1_H
#define AZKV_P11_OP_RSA_PKCS1_H

#include "mech.h"

struct azkv_object;

extern const azkv_op_ops azkv_rsa_pkcs1_sig_ops;

/* Shared by the RSA signature families. */

/* The signature length of a vault RSA key: its modulus in bytes. */
size_t azkv_rsa_sig_len(const struct azkv_object *key);

/* The vault's RSA signature as PKCS#11's: exactly k bytes (left-padded
 * with zeros). CKR_DEVICE_ERROR (logged) when longer than k. */
CK_RV azkv_rsa_sig_from_vault(const unsigned char *sig, size_t len, size_t k, unsigned char *out);

/* The JWS alg for family ("RS" or "PS") and md (SHA-256/384/512), or
 * NULL. */
const char *azkv_rsa_sig_alg(const char *family, const EVP_MD *md);

#endif
