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
 * trailing bytes); *md is its hash, digest (owned) its digest. With the
 * reason logged: CKR_DATA_INVALID when in is not such a DigestInfo,
 * CKR_MECHANISM_INVALID when it is one of a hash the vault cannot sign
 * with (SHA-1, SHA-224, MD5, SHA-3, ...). */
CK_RV azkv_digestinfo_parse(const unsigned char *in, size_t in_len, const EVP_MD **md,
                            azkv_bytes *digest);

#endif
