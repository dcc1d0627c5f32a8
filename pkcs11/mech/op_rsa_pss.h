/* RSASSA-PSS with vault RSA keys: CKM_RSA_PKCS_PSS (the input is the
 * digest) and CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
 * CKM_SHA512_RSA_PKCS_PSS. The vault signs PS256/PS384/PS512: MGF1 with
 * the same hash and a salt as long as the digest; verification is local
 * and takes any parameters the key can check. */
#ifndef AZKV_P11_OP_RSA_PSS_H
#define AZKV_P11_OP_RSA_PSS_H

#include "mech.h"

extern const azkv_op_ops azkv_rsa_pss_sig_ops;

typedef struct azkv_pss_params {
	const EVP_MD *md;   /* hashAlg */
	const EVP_MD *mgf1; /* mgf */
	int salt_len;       /* sLen */
	const char *alg;    /* the vault's alg when signing: "PS256", ... */
} azkv_pss_params;

/* Checks the CK_RSA_PKCS_PSS_PARAMS of mechanism mech (CKM_RSA_PKCS_PSS or
 * a CKM_SHA*_RSA_PKCS_PSS, whose hashAlg must be its hash: mech->hash) for a k-byte
 * modulus: for signing, what the vault can do (SHA-256/384/512, MGF1 of
 * the same hash, sLen the digest length); for verifying, any SHA-1/SHA-2
 * hash and MGF1 with a salt that fits. CKR_MECHANISM_PARAM_INVALID with
 * the reason logged otherwise. */
CK_RV azkv_pss_params_check(const azkv_mech *mech, const void *param, CK_ULONG param_len, int sign,
                            size_t k, azkv_pss_params *out);

#endif
