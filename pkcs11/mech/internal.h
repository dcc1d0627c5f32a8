/* What only the mechanism families (pkcs11/mech/op_*.c) share; nothing
 * outside pkcs11/mech/ includes it.
 *
 * ---- the signature families ---------------------------------------------
 *
 * op_rsa_pkcs1.c, op_rsa_pss.c and op_ecdsa.c are each a pre-hashed
 * signer (op_sig.c runs them): its input is a digest (or, for
 * CKM_RSA_PKCS, a DigestInfo), signed in the vault (its sign operation
 * with a digest and a JWS alg: the private key never leaves it) and
 * verified locally with the public key (no vault transaction). The
 * hashing mechanisms (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA384, ...) are the
 * digesting signer (digest_sign.c) around them, as in Google's kmsp11; it
 * sits above them and finds them through the family table (families.c),
 * so nothing here calls up into it.
 *
 * PKCS#11's length rules hold: a NULL signature buffer asks the length
 * and a short one gives CKR_BUFFER_TOO_SMALL, neither ending the
 * operation nor costing a vault transaction (the length is known from the
 * key). The state holds no secret, so there is nothing to wipe in a
 * forked child. */
#ifndef AZKV_P11_MECH_INTERNAL_H
#define AZKV_P11_MECH_INTERNAL_H

#include "mech.h"
#include "rv.h"

struct azkv_vault_key;

/* A family's part. */
typedef struct azkv_sig_family {
	/* Sign: the vault's alg and the digest to send it for in (a digest,
	 * or the raw mechanism's input); digest owned by the caller. */
	CK_RV(*vault_input)
	(void *ctx, const unsigned char *in, size_t in_len, const char **alg, azkv_bytes *digest);
	/* Sign: the vault's signature in PKCS#11 form, sig_len bytes into out. */
	CK_RV(*from_vault)
	(void *ctx, const unsigned char *sig, size_t sig_len, unsigned char *out);
	/* Verify sig over in (as for vault_input) with the public key:
	 * the family's checks, then azkv_sig_verify_local. */
	CK_RV(*verify)
	(void *ctx, const unsigned char *in, size_t in_len, const unsigned char *sig,
	 size_t sig_len);
} azkv_sig_family;

/* The first member of every family's state. */
typedef struct azkv_sig_base {
	const azkv_sig_family *family;
	const azkv_mech *mech;
	int sign;                  /* else verify */
	size_t sig_len;            /* the signature's length */
	struct azkv_vault_key *vk; /* a reference, dropped by azkv_sig_base_free */
} azkv_sig_base;

/* Under the module lock: fills base for key (a vault key; azkv_key_check
 * has seen to that) and takes a reference on it. */
void azkv_sig_base_init(azkv_sig_base *base, const azkv_sig_family *family, const azkv_mech *mech,
                        const struct azkv_object *key, azkv_op_kind kind, size_t sig_len);

/* Under the module lock: drops the reference and frees ctx (an
 * azkv_sig_base first). NULL-safe. The families' free. */
void azkv_sig_free(void *ctx);

/* The families' run: signs in (vault_input, the length rules, the vault's
 * sign, from_vault) or verifies it, as azkv_op_ops.run says. */
CK_RV azkv_sig_run(void *ctx, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                   CK_ULONG *out_len);

/* Verifies sig over in with base's public key, setup (NULL for none)
 * having set the family's padding and hashes on the OpenSSL context (1
 * when it did): CKR_OK, CKR_SIGNATURE_INVALID, or CKR_FUNCTION_FAILED when
 * OpenSSL failed; logged with the mechanism's name. */
CK_RV azkv_sig_verify_local(const azkv_sig_base *base, int (*setup)(void *ctx, EVP_PKEY_CTX *pctx),
                            void *ctx, const unsigned char *sig, size_t sig_len,
                            const unsigned char *in, size_t in_len);

/* ---- the vault request -------------------------------------------------
 *
 * The one vault request of the families: a key operation (decrypt in
 * op_rsa_crypt.c, sign in op_sig.c) with a vault key. Here and not in
 * mech.c, which the token's key loading reads (CKA_ALLOWED_MECHANISMS), so
 * that mech.c calls nothing back in token.c (op_vault.c). */

/* The key operation op ("sign", "decrypt") with alg on in, with vk (the
 * caller holds a reference), without the module lock. out owned by the
 * caller. On failure the error is mapped in context ctx (rv.h) and
 * logged as "<fn> with key '<name>' version <version> (<alg>)". */
CK_RV azkv_op_vault_call(const struct azkv_vault_key *vk, const char *op, const char *alg,
                         const unsigned char *in, size_t in_len, azkv_bytes *out, azkv_rv_ctx ctx,
                         const char *fn);

#endif
