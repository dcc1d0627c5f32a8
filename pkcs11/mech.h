/* The mechanisms of the module and the small interfaces each mechanism
 * family implements (one file per family: op_*.c): azkv_cipher_ops for
 * encryption and decryption, azkv_sig_ops for signatures. */
#ifndef AZKV_P11_MECH_H
#define AZKV_P11_MECH_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "bytes.h"

struct azkv_object;

/* PKCS#11 3.0's name for RFC 5649 (AES key wrap with padding); not in
 * every pkcs11.h. CKM_AES_KEY_WRAP_PAD is RFC 5649 here too, as in
 * SoftHSMv2 and OpenSC. */
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP 0x210bUL
#endif

struct azkv_vault_config;

/* C_GetMechanismList / C_GetMechanismInfo. azkv_mech_info is what the
 * module can do; azkv_mech_vault_info what it does with a vault's keys,
 * after the vault's policy (azkv_mech_vault_allows). */
CK_RV azkv_mech_list(CK_MECHANISM_TYPE *list, CK_ULONG *count);
CK_RV azkv_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
CK_RV azkv_mech_vault_info(const struct azkv_vault_config *vault, CK_MECHANISM_TYPE type,
                           CK_MECHANISM_INFO *info);

/* Whether the vault's configuration lets mech be used for usage
 * (CKA_DECRYPT, CKA_UNWRAP, ...): CKM_RSA_PKCS decryption and unwrap
 * (Key Vault's RSA1_5) only with "allow_rsa_pkcs1_v15_decrypt": true, as
 * each such call would ask the vault to check PKCS#1 v1.5 padding, a
 * padding oracle (Bleichenbacher) for whoever may call. Else
 * CKR_MECHANISM_INVALID, logged with the key that allows it; fn names the
 * call. Encryption, wrap and signing with CKM_RSA_PKCS are not affected. */
CK_RV azkv_mech_vault_allows(const struct azkv_vault_config *vault, CK_MECHANISM_TYPE mech,
                             CK_ATTRIBUTE_TYPE usage, const char *fn);

/* CKA_ALLOWED_MECHANISMS of a vault key of type kt (CKK_RSA, CKK_EC, and
 * CKK_AES for a Managed HSM key): every mechanism the module can use it
 * with. *n 0 for other types. */
void azkv_mech_allowed(CK_KEY_TYPE kt, const CK_MECHANISM_TYPE **list, size_t *n);

/* The checks every C_*Init makes on its key, with the reason logged; fn
 * names the call. Both need the module lock. First the usage attribute
 * (CKA_ENCRYPT, CKA_SIGN, ...) must be true: else
 * CKR_KEY_FUNCTION_NOT_PERMITTED. Last (after the mechanism's own key
 * type and parameter checks) mech must be in CKA_ALLOWED_MECHANISMS when
 * that is not empty: else CKR_MECHANISM_INVALID. */
CK_RV azkv_key_usage_check(const struct azkv_object *key, CK_OBJECT_HANDLE handle,
                           CK_ATTRIBUTE_TYPE usage, const char *fn);
CK_RV azkv_key_mech_check(const struct azkv_object *key, CK_OBJECT_HANDLE handle,
                          CK_MECHANISM_TYPE mech, const char *fn);

/* The digest of a PKCS#11 hash mechanism (CKM_SHA_1, CKM_SHA256, ...) or
 * MGF1 generator (CKG_MGF1_SHA1, ...); NULL when unknown. */
const EVP_MD *azkv_mech_md(CK_MECHANISM_TYPE hash);
const EVP_MD *azkv_mgf_md(CK_RSA_PKCS_MGF_TYPE mgf);

/* ---- cipher mechanisms (C_Encrypt*, C_Decrypt*) -------------------------
 *
 * Every function but init and free runs without the module lock: init
 * copies what the operation needs from the mechanism and key (and takes a
 * reference on a vault key), so the operation never touches the object
 * again. For run, update and final: out NULL asks for the length (*out_len
 * set, CKR_OK, nothing consumed); a short *out_len gives
 * CKR_BUFFER_TOO_SMALL with the length needed, nothing consumed. */
typedef struct azkv_cipher_ops {
	CK_MECHANISM_TYPE mechs[4];
	size_t n_mechs;
	/* Under the module lock. The caller has checked CKA_ENCRYPT/DECRYPT
	 * and CKA_ALLOWED_MECHANISMS; init checks the parameters and key type. */
	CK_RV(*init)
	(void **ctx, const CK_MECHANISM *m, const struct azkv_object *key, int encrypt);
	/* Single-part. */
	CK_RV(*run)
	(void *ctx, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
	 CK_ULONG *out_len);
	/* Multi-part; NULL for single-part mechanisms. */
	CK_RV(*update)
	(void *ctx, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
	 CK_ULONG *out_len);
	CK_RV (*final)(void *ctx, unsigned char *out, CK_ULONG *out_len);
	/* Under the module lock. NULL-safe. */
	void (*free)(void *ctx);
	/* In a forked child (azkv_op_state_ops.wipe): wipes in place the key
	 * bytes and data ctx holds, freeing, allocating and locking nothing.
	 * An OpenSSL context ctx holds is left as it is (fork.c). */
	void (*wipe)(void *ctx);
} azkv_cipher_ops;

/* The cipher family for m, or NULL. */
const azkv_cipher_ops *azkv_cipher_find(CK_MECHANISM_TYPE m);

/* ---- signature mechanisms (C_Sign*, C_Verify*) --------------------------
 *
 * Signing happens in the vault (sign with a digest and a JWS alg),
 * verification locally with the public key. The session side (sign.c)
 * hashes the data of the hashing mechanisms (multi-part); a family turns
 * a digest (or the raw mechanism's input) into what the vault signs, the
 * vault's signature into PKCS#11's form, and verifies. Their state holds
 * no secret (the private key stays in the vault), so there is nothing to
 * wipe in a forked child. */
typedef struct azkv_sig_ops {
	CK_MECHANISM_TYPE mechs[4];
	size_t n_mechs;
	/* Under the module lock: checks m and the key (sign: what the vault
	 * can do; verify: what the public key can check) and makes the
	 * family's state. *md is the hash the mechanism applies to data (NULL
	 * when the input is a digest or DigestInfo: single-part only),
	 * *sig_len the signature length. */
	CK_RV(*init)
	(void **ctx, const CK_MECHANISM *m, const struct azkv_object *key, int sign,
	 const EVP_MD **md, size_t *sig_len);
	/* Sign: the vault's alg and the digest to send it for in (the digest
	 * computed with *md, or the raw mechanism's input). digest owned by
	 * the caller. */
	CK_RV(*vault_input)
	(void *ctx, const unsigned char *in, size_t in_len, const char **alg, azkv_bytes *digest);
	/* Sign: the vault's signature in PKCS#11 form, sig_len bytes into out. */
	CK_RV(*from_vault)
	(void *ctx, const unsigned char *sig, size_t sig_len, unsigned char *out);
	/* Verify sig over in (as for vault_input) with the public key:
	 * CKR_OK, CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE or
	 * CKR_DATA_LEN_RANGE. */
	CK_RV(*verify)
	(void *ctx, EVP_PKEY *pub, const unsigned char *in, size_t in_len, const unsigned char *sig,
	 size_t sig_len);
	void (*free)(void *ctx);
} azkv_sig_ops;

/* The signature family for m, or NULL. */
const azkv_sig_ops *azkv_sig_find(CK_MECHANISM_TYPE m);

#endif
