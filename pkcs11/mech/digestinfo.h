/* The DigestInfo (RFC 8017, 9.2) a CKM_RSA_PKCS signer passes: which hash,
 * and the digest, so that the vault (which signs a digest with RS256,
 * RS384 or RS512) can sign it. */
#ifndef AZKV_P11_DIGESTINFO_H
#define AZKV_P11_DIGESTINFO_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "bytes.h"

/* Parses in as the DER DigestInfo of a SHA-256, SHA-384 or SHA-512
 * digest, exactly as the vault will encode it (parameters NULL, DER, no
 * trailing bytes); *md is its hash, digest (owned) its digest. Else
 * CKR_DATA_INVALID, with the reason logged: in is not such a DigestInfo,
 * or is one of a hash the vault cannot sign (SHA-1, SHA-224, MD5, SHA-3,
 * ...). Not CKR_MECHANISM_INVALID: C_SignInit accepted CKM_RSA_PKCS,
 * which the vault signs with; only the data decides. */
CK_RV azkv_digestinfo_parse(const unsigned char *in, size_t in_len, const EVP_MD **md,
                            azkv_bytes *digest);

#endif
