/* JSON Web Keys as Key Vault returns them ("key" of a key bundle), and
 * their conversion to OpenSSL public keys. */
#ifndef AZKV_JWK_H
#define AZKV_JWK_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "bytes.h"
#include "status.h"

/* key_ops, as a bitmask. */
enum {
	AZKV_OP_ENCRYPT = 1u << 0,
	AZKV_OP_DECRYPT = 1u << 1,
	AZKV_OP_SIGN = 1u << 2,
	AZKV_OP_VERIFY = 1u << 3,
	AZKV_OP_WRAP_KEY = 1u << 4,
	AZKV_OP_UNWRAP_KEY = 1u << 5,
	AZKV_OP_IMPORT = 1u << 6,
	AZKV_OP_EXPORT = 1u << 7,
};

typedef enum azkv_kty {
	AZKV_KTY_UNKNOWN = 0,
	AZKV_KTY_RSA, /* "RSA" and "RSA-HSM" */
	AZKV_KTY_EC,  /* "EC" and "EC-HSM" */
	AZKV_KTY_OCT, /* "oct" and "oct-HSM" (Managed HSM) */
} azkv_kty;

/* An elliptic curve Key Vault has, one row each (jwk.c): what the JWK
 * names it, what OpenSSL and PKCS#11 (CKA_EC_PARAMS: the OID of nid) call
 * it, and how the vault signs on it. */
typedef struct azkv_curve {
	const char *crv;      /* JWK "crv": "P-256", "P-384", "P-521", "P-256K" */
	const char *group;    /* OpenSSL group name */
	int nid;              /* OpenSSL NID */
	size_t field_len;     /* bytes of a coordinate, and of r and of s */
	size_t order_bits;    /* bits of the group order */
	const char *sign_alg; /* the vault's JWS alg: "ES256", ... */
	size_t digest_len;    /* the digest length sign_alg takes */
} azkv_curve;

/* The row of a JWK "crv" (exact name); NULL for a curve Key Vault does not
 * have, and for NULL. */
const azkv_curve *azkv_curve_find(const char *crv);
/* The row of an OpenSSL NID (a CKA_EC_PARAMS OID); NULL for another. */
const azkv_curve *azkv_curve_find_nid(int nid);

typedef struct azkv_jwk {
	char *kid;      /* full key id with version */
	char *kty_name; /* as sent, e.g. "RSA-HSM" */
	azkv_kty kty;
	int hsm;          /* 1 for the -HSM types */
	char *crv;        /* "P-256", "P-384", "P-521", "P-256K"; NULL for RSA */
	azkv_bytes n, e;  /* RSA */
	azkv_bytes x, y;  /* EC */
	unsigned key_ops; /* AZKV_OP_* */
} azkv_jwk;

/* Parses a JWK object. Unknown key_ops are ignored; a missing or unknown
 * kty, or missing n/e (RSA) or crv/x/y (EC), is AZKV_ERR_PROTOCOL. */
azkv_rc azkv_jwk_parse(const cJSON *obj, azkv_jwk *out, azkv_err *err);
void azkv_jwk_free(azkv_jwk *jwk);

/* The public key of jwk (RSA or EC). *out owned by the caller. */
azkv_rc azkv_jwk_to_pkey(const azkv_jwk *jwk, EVP_PKEY **out, azkv_err *err);

/* "encrypt" -> AZKV_OP_ENCRYPT etc.; 0 if unknown. */
unsigned azkv_key_op_from_name(const char *name);
/* The key_ops name of one AZKV_OP_* bit ("wrapKey", as Key Vault writes
 * it); NULL for anything else. */
const char *azkv_key_op_name(unsigned op);

#endif
