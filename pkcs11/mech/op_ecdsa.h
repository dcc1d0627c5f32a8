/* ECDSA with vault EC keys: CKM_ECDSA (the input is a digest) and
 * CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512, on P-256, P-384,
 * P-521 and secp256k1 (JWK "P-256K"). The vault signs with the curve's
 * JWS alg (ES256, ES384, ES512, ES256K); the signature is r || s, each as
 * long as the curve's field, in PKCS#11 as in JWS. */
#ifndef AZKV_P11_OP_ECDSA_H
#define AZKV_P11_OP_ECDSA_H

#include "jwk.h"
#include "mech.h"

extern const azkv_op_ops azkv_ecdsa_sig_ops;

/* The curves, their JWS algs and lengths: azkv_curve (jwk.h), one row
 * each. */

/* What the vault must sign for a digest of in_len bytes: ECDSA uses the
 * leftmost order_bits bits of a digest, so a longer digest is cut and a
 * shorter one left-padded with zeros to digest_len bytes (out), which
 * gives the same signature. CKR_DATA_LEN_RANGE (logged) when that cannot
 * be done (empty, or longer than 64 bytes on P-521). */
CK_RV azkv_ecdsa_vault_digest(const azkv_curve *crv, const unsigned char *in, size_t in_len,
                              unsigned char *out);

/* The vault's signature (r || s, two equal halves) as PKCS#11's: each
 * half left-padded or stripped of leading zeros to field_len bytes, into
 * out (2 * field_len). CKR_DEVICE_ERROR (logged) when it is not such a
 * signature. */
CK_RV azkv_ecdsa_sig_normalise(const unsigned char *sig, size_t len, size_t field_len,
                               unsigned char *out);

/* r || s (2 * field_len bytes) as a DER ECDSA-Sig-Value; *der owned
 * (OPENSSL_free). CKR_HOST_MEMORY or CKR_FUNCTION_FAILED. */
CK_RV azkv_ecdsa_sig_to_der(const unsigned char *sig, size_t field_len, unsigned char **der,
                            size_t *der_len);

#endif
