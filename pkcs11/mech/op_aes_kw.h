/* AES key wrap with session AES keys, in software (OpenSSL):
 * CKM_AES_KEY_WRAP is RFC 3394 (NIST SP 800-38F KW); CKM_AES_KEY_WRAP_PAD
 * and CKM_AES_KEY_WRAP_KWP are RFC 5649 (KWP), as SoftHSMv2 and OpenSC
 * take CKM_AES_KEY_WRAP_PAD. For C_WrapKey/C_UnwrapKey (wrap.c) and as
 * single-part C_Encrypt/C_Decrypt. */
#ifndef AZKV_P11_OP_AES_KW_H
#define AZKV_P11_OP_AES_KW_H

#include "bytes.h"
#include "mech.h"

extern const azkv_op_ops azkv_aes_kw_ops;

/* 1 for the mechanisms above. */
int azkv_aes_kw_mech(CK_MECHANISM_TYPE m);

/* A mechanism's parameters: an optional IV (8 bytes for KW, the 4-byte
 * alternative IV for KWP; absent means the RFC's default). */
typedef struct azkv_aes_kw_params {
	int pad; /* 1: RFC 5649 */
	unsigned char iv[8];
	size_t iv_len; /* 0: the default */
} azkv_aes_kw_params;

/* CKR_MECHANISM_PARAM_INVALID (reason logged) for a bad IV. */
CK_RV azkv_aes_kw_params_from_mech(const CK_MECHANISM *m, azkv_aes_kw_params *out);

/* The wrapped length for in_len bytes: CKR_DATA_LEN_RANGE (logged) when KW
 * cannot take in_len (not a multiple of 8 of at least 16 bytes). */
CK_RV azkv_aes_kw_wrapped_len(const azkv_aes_kw_params *p, size_t in_len, size_t *out_len);

/* Whether in_len bytes can be a wrapped key (a multiple of 8, at least 24
 * for KW, 16 for KWP): else CKR_ENCRYPTED_DATA_LEN_RANGE (logged). */
CK_RV azkv_aes_kw_unwrap_len_check(const azkv_aes_kw_params *p, size_t in_len);

/* Wraps or unwraps in with the AES key kek. out owned by the caller and
 * secret when unwrapping (free with azkv_bytes_free). Unwrapping: a
 * length no wrapped value can have is CKR_ENCRYPTED_DATA_LEN_RANGE, a
 * failed integrity check CKR_ENCRYPTED_DATA_INVALID. */
CK_RV azkv_aes_kw(const azkv_aes_kw_params *p, int wrap, const unsigned char *kek, size_t kek_len,
                  const unsigned char *in, size_t in_len, azkv_bytes *out);

#endif
