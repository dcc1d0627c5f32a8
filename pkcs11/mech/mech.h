/* The mechanisms of the module, one row each (mech.c), and the one
 * interface every operation family implements (one file per family:
 * op_*.c): azkv_op_ops, for encryption, decryption, signatures and
 * verification alike.
 *
 * The layers, each calling only those below it (no call cycle between
 * the module's files, issue 17):
 *   mech.c         the table as data and its lookups; it calls no family,
 *                  so that the families, the token's key loading
 *                  (CKA_ALLOWED_MECHANISMS) and the vault objects can all
 *                  read it;
 *   op_*.c         the families (op_sig.c: what the pre-hashed signers
 *                  share), which read the table;
 *   families.c     the family table: a row's azkv_family to its ops;
 *   digest_sign.c  the digesting signer, which finds its pre-hashed
 *                  signer through the family table, and azkv_mech_ops;
 *   frame.c, wrap.c, which run them. */
#ifndef AZKV_P11_MECH_H
#define AZKV_P11_MECH_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "bytes.h"
#include "operation.h"

struct azkv_object;

/* PKCS#11 3.0's name for RFC 5649 (AES key wrap with padding); not in
 * every pkcs11.h. CKM_AES_KEY_WRAP_PAD is RFC 5649 here too, as in
 * SoftHSMv2 and OpenSC. */
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP 0x210bUL
#endif

/* PKCS#11 3.0's SHA-3 digests (FIPS 202), not in p11-kit's 2.40 header.
 * Their MGF1 generators (CKG_MGF1_SHA3_*) are used only where the header
 * defines them (mech.c's hashes[]). */
#ifndef CKM_SHA3_256
#define CKM_SHA3_256 0x2b0UL
#define CKM_SHA3_224 0x2b5UL
#define CKM_SHA3_384 0x2c0UL
#define CKM_SHA3_512 0x2d0UL
#endif

struct azkv_vault_config;
typedef struct azkv_mech azkv_mech;

/* ---- operation families (C_Encrypt*, C_Decrypt*, C_Sign*, C_Verify*) ---
 *
 * Every function but init and free runs without the module lock: init
 * copies what the operation needs from the mechanism and key (and takes a
 * reference on a vault key), so the operation never touches the object
 * again. A family that needs the vault makes its own request (through
 * azkv_op_vault_call, op_vault.h). The frame (frame.c) has taken the operation out
 * of its session for the call and checked the arguments.
 *
 * run, update and final: encrypt, decrypt and sign write out; out NULL
 * asks for the length (*out_len set, CKR_OK, nothing consumed) and a short
 * *out_len gives CKR_BUFFER_TOO_SMALL with the length needed, nothing
 * consumed. Verify reads the signature from out (*out_len its length) and
 * answers CKR_OK, CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE or
 * CKR_DATA_LEN_RANGE. Sign and verify updates take no out (NULL). */
typedef struct azkv_op_ops {
	/* Under the module lock. The caller has checked the key against the
	 * mechanism's row (azkv_key_for_op: usage, class and type, vault or
	 * session, CKA_ALLOWED_MECHANISMS); init checks the parameters and
	 * what else the family needs of the key. */
	CK_RV(*init)
	(void **ctx, const azkv_mech *mech, const CK_MECHANISM *m, const struct azkv_object *key,
	 azkv_op_kind kind);
	/* Single-part. */
	CK_RV(*run)
	(void *ctx, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
	 CK_ULONG *out_len);
	/* Multi-part; update NULL for single-part mechanisms. */
	CK_RV(*update)
	(void *ctx, const unsigned char *in, CK_ULONG in_len, unsigned char *out,
	 CK_ULONG *out_len);
	CK_RV (*final)(void *ctx, unsigned char *out, CK_ULONG *out_len);
	/* Under the module lock. NULL-safe. */
	void (*free)(void *ctx);
	/* In a forked child (azkv_op_state_ops.wipe): wipes in place the key
	 * bytes and data ctx holds, freeing, allocating and locking nothing.
	 * An OpenSSL context ctx holds is left as it is (fork.c). NULL when
	 * the state holds no secret (signatures: the vault holds the key). */
	void (*wipe)(void *ctx);
} azkv_op_ops;

/* ---- the mechanism table ------------------------------------------------
 *
 * One row per mechanism: C_GetMechanismList/Info, the families,
 * CKA_ALLOWED_MECHANISMS of vault keys and the key checks all read it, so
 * adding a mechanism is adding a row. */

/* A row's operation family, by name and not by pointer to its ops: the
 * table stays data that calls no family, and the family table
 * (azkv_family_ops, families.c, one row per family) above the families
 * gives the ops. */
typedef enum azkv_family {
	AZKV_FAMILY_NONE = 0,      /* the mechanism has no such operation */
	AZKV_FAMILY_RSA_CRYPT,     /* op_rsa_crypt.c: RSA OAEP and PKCS#1 v1.5 */
	AZKV_FAMILY_AES_GCM,       /* op_aes_gcm.c */
	AZKV_FAMILY_AES_BLOCK,     /* op_aes_block.c: ECB, CBC, CBC_PAD, CTR */
	AZKV_FAMILY_AES_KW,        /* op_aes_kw.c: RFC 3394 and RFC 5649 */
	AZKV_FAMILY_RSA_PKCS1_SIG, /* op_rsa_pkcs1.c, a pre-hashed signer */
	AZKV_FAMILY_RSA_PSS_SIG,   /* op_rsa_pss.c, a pre-hashed signer */
	AZKV_FAMILY_ECDSA_SIG,     /* op_ecdsa.c, a pre-hashed signer */
	AZKV_FAMILY_MAC,           /* op_mac.c: HMAC and CMAC; hashes the data itself */
	AZKV_FAMILY_COUNT
} azkv_family;

struct azkv_mech {
	CK_MECHANISM_TYPE type;
	const char *name; /* "CKM_SHA256_RSA_PKCS", for the log */
	CK_MECHANISM_INFO info;
	azkv_family cipher; /* C_Encrypt*, C_Decrypt*; AZKV_FAMILY_NONE when none */
	/* C_Sign*, C_Verify*: the pre-hashed signer; with a hash, the frame
	 * wraps it in the digesting signer (azkv_digest_sign_ops), except
	 * a MAC (AZKV_FAMILY_MAC), whose hash is its own (HMAC's digest). */
	azkv_family sig;
	CK_MECHANISM_TYPE hash; /* what the mechanism hashes data with (CKM_SHA256, ...); 0 */
	CK_KEY_TYPE key_type;   /* the keys it takes: a key type, or a set (AZKV_KEYS_*) */
	int vault; /* 1: also with vault keys of key_type (their CKA_ALLOWED_MECHANISMS) */
};

/* A row's key_type that stands for several key types (mech.c's key_sets
 * lists them): HMAC takes generic secret and AES keys. */
#define AZKV_KEYS_HMAC (CKK_VENDOR_DEFINED | 0x617a01UL)

/* ---- above the families ---------------------------------------------- */

/* What Key Vault signs, for the log line of a signature mechanism the
 * module refuses (README, "What Key Vault can sign"). */
#define AZKV_VAULT_SIGNS                                                                           \
	"Key Vault signs RS256/384/512 (CKM_SHA256/384/512_RSA_PKCS, CKM_RSA_PKCS over a "         \
	"SHA-256/384/512 DigestInfo), PS256/384/512 (CKM_RSA_PKCS_PSS and "                        \
	"CKM_SHA256/384/512_RSA_PKCS_PSS, salt = digest length) and ES256/384/512/256K "           \
	"(CKM_ECDSA, CKM_ECDSA_SHA256/384/512) only"

/* The ops of family (families.c); NULL for AZKV_FAMILY_NONE. */
const azkv_op_ops *azkv_family_ops(azkv_family family);

/* The digesting signer (digest_sign.c): hashes the data of a hashing
 * mechanism (one or many parts) and hands the digest to the pre-hashed
 * signer of mech->sig. */
extern const azkv_op_ops azkv_digest_sign_ops;

/* The operation family of mech for kind (the digesting signer for a
 * hashing signature mechanism); NULL when mech has none for kind
 * (digest_sign.c, as it picks the digesting signer). */
const azkv_op_ops *azkv_mech_ops(const azkv_mech *mech, azkv_op_kind kind);

/* ---- the table's lookups (mech.c) --------------------------------------- */

/* The row of type, or NULL. */
const azkv_mech *azkv_mech_find(CK_MECHANISM_TYPE type);

/* The digest of mech's hash (azkv_mech_md(mech->hash)); NULL for none. */
const EVP_MD *azkv_mech_hash_md(const azkv_mech *mech);

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
 * with (the rows with vault set). *n 0 and *list NULL for other types. */
void azkv_mech_allowed(CK_KEY_TYPE kt, const CK_MECHANISM_TYPE **list, size_t *n);

/* ---- key preconditions (as kmsp11's CheckKeyPreconditions) --------------
 *
 * The one place that turns a key handle into a key for a use and decides
 * whether the key may be used so; all need the module lock and log the
 * reason, fn naming the call. usage (CKA_ENCRYPT, CKA_SIGN, CKA_WRAP,
 * CKA_UNWRAP, ...) also picks the codes: a wrapping key gets
 * CKR_WRAPPING_KEY_*, an unwrapping key CKR_UNWRAPPING_KEY_*, others
 * CKR_KEY_*. */

/* The key of handle on slot: CKR_*_HANDLE_INVALID when there is none
 * there. usage 0 for the key a call acts on (the key to wrap). */
CK_RV azkv_key_lookup(CK_SLOT_ID slot, CK_OBJECT_HANDLE handle, CK_ATTRIBUTE_TYPE usage,
                      const char *fn, const struct azkv_object **key);

/* Whether key may be used with mech for usage, in this order: for a
 * wrapping or unwrapping key first its class and type; then the usage
 * attribute (CKA_ENCRYPT, ...) must be true (else
 * CKR_KEY_FUNCTION_NOT_PERMITTED); for other uses then the class and type:
 * one of mech's key types, a vault key where the row says only vault keys can do
 * it, a session secret key's length within the row's sizes (in bytes;
 * else CKR_KEY_SIZE_RANGE), the private half to decrypt, sign and unwrap and the public one to
 * encrypt, verify and wrap (else CKR_KEY_TYPE_INCONSISTENT, or the
 * wrapping and unwrapping codes); last mech must be in
 * CKA_ALLOWED_MECHANISMS when that is not empty (else
 * CKR_MECHANISM_INVALID). */
CK_RV azkv_key_check(const struct azkv_object *key, CK_OBJECT_HANDLE handle, const azkv_mech *mech,
                     CK_ATTRIBUTE_TYPE usage, const char *fn);

/* Both: the key of a C_*Init, C_WrapKey or C_UnwrapKey. */
CK_RV azkv_key_for_op(CK_SLOT_ID slot, CK_OBJECT_HANDLE handle, const azkv_mech *mech,
                      CK_ATTRIBUTE_TYPE usage, const char *fn, const struct azkv_object **key);

/* The parts of azkv_key_check, for tests and for wrap.c's session keys. */
CK_RV azkv_key_usage_check(const struct azkv_object *key, CK_OBJECT_HANDLE handle,
                           CK_ATTRIBUTE_TYPE usage, const char *fn);
CK_RV azkv_key_mech_check(const struct azkv_object *key, CK_OBJECT_HANDLE handle,
                          CK_MECHANISM_TYPE mech, const char *fn);

/* The digest of a PKCS#11 hash mechanism (CKM_SHA_1, CKM_SHA256, ...) or
 * MGF1 generator (CKG_MGF1_SHA1, ...); NULL when unknown. */
const EVP_MD *azkv_mech_md(CK_MECHANISM_TYPE hash);
const EVP_MD *azkv_mgf_md(CK_RSA_PKCS_MGF_TYPE mgf);

#endif
