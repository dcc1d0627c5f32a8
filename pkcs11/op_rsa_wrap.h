/* RSA key wrapping as Key Vault does it: RSA-OAEP (SHA-1), RSA-OAEP-256
 * (SHA-256 with MGF1-SHA-256) and RSA1_5 (PKCS#1 v1.5). */
#ifndef AZKV_P11_OP_RSA_WRAP_H
#define AZKV_P11_OP_RSA_WRAP_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "bytes.h"

typedef struct azkv_rsa_wrap_alg {
	const char *name; /* the vault's "alg": "RSA-OAEP", "RSA-OAEP-256", "RSA1_5" */
	int oaep;         /* 0 for PKCS#1 v1.5 */
	const EVP_MD *md; /* OAEP hash and MGF1 hash; NULL for v1.5 */
} azkv_rsa_wrap_alg;

/* Maps CKM_RSA_PKCS_OAEP (SHA-1/MGF1-SHA1 or SHA-256/MGF1-SHA256, no label)
 * and CKM_RSA_PKCS to the vault's algorithm. CKR_MECHANISM_INVALID or
 * CKR_MECHANISM_PARAM_INVALID, with the reason logged, otherwise. */
CK_RV azkv_rsa_wrap_alg_from_mech(const CK_MECHANISM *m, azkv_rsa_wrap_alg *out);

/* Encrypts key with the public key pub, locally. out owned by the caller. */
CK_RV azkv_rsa_wrap_local(EVP_PKEY *pub, const azkv_rsa_wrap_alg *alg, const unsigned char *key,
                          size_t key_len, azkv_bytes *out);

#endif
