/* RSA key wrapping as Key Vault does it: RSA-OAEP (SHA-1), RSA-OAEP-256
 * (SHA-256 with MGF1-SHA-256) and RSA1_5 (PKCS#1 v1.5). */
#ifndef AZKV_P11_OP_RSA_WRAP_H
#define AZKV_P11_OP_RSA_WRAP_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "bytes.h"

/* The algorithms, each with its own prepared context per key. Key Vault
 * takes no OAEP label, so hash and MGF1 hash are the whole parameter set. */
typedef enum azkv_rsa_wrap_id {
	AZKV_RSA_WRAP_OAEP,
	AZKV_RSA_WRAP_OAEP_256,
	AZKV_RSA_WRAP_V15,
	AZKV_RSA_WRAP_ALGS
} azkv_rsa_wrap_id;

typedef struct azkv_rsa_wrap_alg {
	const char *name;    /* the vault's "alg": "RSA-OAEP", "RSA-OAEP-256", "RSA1_5" */
	int oaep;            /* 0 for PKCS#1 v1.5 */
	const EVP_MD *md;    /* OAEP hash and MGF1 hash; NULL for v1.5 */
	azkv_rsa_wrap_id id; /* its context in azkv_rsa_wrap_ctxs */
} azkv_rsa_wrap_alg;

/* One key version's encryption contexts, one per algorithm: each made and
 * set up on first use (about 4 us, a fifth of an RSA-2048 encryption) and
 * from then on only read. A context is not safe to use from two threads,
 * but a const one may be duplicated from several at once (openssl-threads(7):
 * read-only use of a shared object), and EVP_PKEY_CTX_dup costs about
 * 0.1 us: so each wrap encrypts with its own copy. A key version's public
 * key never changes, and a new version is a new azkv_vault_key with its own
 * contexts: nothing to invalidate. */
typedef struct azkv_rsa_wrap_ctxs {
	EVP_PKEY_CTX *by_alg[AZKV_RSA_WRAP_ALGS];
} azkv_rsa_wrap_ctxs;

/* Maps CKM_RSA_PKCS_OAEP (SHA-1/MGF1-SHA1 or SHA-256/MGF1-SHA256, no label)
 * and CKM_RSA_PKCS to the vault's algorithm. CKR_MECHANISM_INVALID or
 * CKR_MECHANISM_PARAM_INVALID, with the reason logged, otherwise. */
CK_RV azkv_rsa_wrap_alg_from_mech(const CK_MECHANISM *m, azkv_rsa_wrap_alg *out);

/* The context of alg for pub in ctxs, prepared on the first call. Under
 * the module lock (which guards ctxs). NULL, logged, if OpenSSL failed. */
const EVP_PKEY_CTX *azkv_rsa_wrap_prepared(azkv_rsa_wrap_ctxs *ctxs, EVP_PKEY *pub,
                                           const azkv_rsa_wrap_alg *alg);

/* Frees the contexts (with the key version they belong to). */
void azkv_rsa_wrap_ctxs_free(azkv_rsa_wrap_ctxs *ctxs);

/* Encrypts key locally with a copy of prepared (from azkv_rsa_wrap_prepared;
 * no lock needed). out owned by the caller. */
CK_RV azkv_rsa_wrap_local(const EVP_PKEY_CTX *prepared, const azkv_rsa_wrap_alg *alg,
                          const unsigned char *key, size_t key_len, azkv_bytes *out);

#endif
