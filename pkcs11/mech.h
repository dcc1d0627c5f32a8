/* The mechanisms of the module and the small interface each cipher
 * mechanism family implements (one file per family: op_*.c). */
#ifndef AZKV_P11_MECH_H
#define AZKV_P11_MECH_H

#include <p11-kit/pkcs11.h>

struct azkv_object;

/* C_GetMechanismList / C_GetMechanismInfo. */
CK_RV azkv_mech_list(CK_MECHANISM_TYPE *list, CK_ULONG *count);
CK_RV azkv_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);

/* A cipher operation in a session. init copies what it needs from the
 * mechanism and key (under the module lock), so the operation never
 * touches the object again. */
typedef CK_RV azkv_cipher_init_fn(void **ctx, const CK_MECHANISM *m, const struct azkv_object *key,
                                  int encrypt);
/* Single-part. out NULL asks for the length (*out_len set, CKR_OK). */
typedef CK_RV azkv_cipher_run_fn(void *ctx, const unsigned char *in, CK_ULONG in_len,
                                 unsigned char *out, CK_ULONG *out_len);

typedef struct azkv_cipher_ops {
	CK_MECHANISM_TYPE mech;
	azkv_cipher_init_fn *init;
	azkv_cipher_run_fn *run;
	void (*free)(void *ctx);
} azkv_cipher_ops;

typedef struct azkv_cipher_op {
	const azkv_cipher_ops *ops; /* NULL when no operation is active */
	void *ctx;
} azkv_cipher_op;

/* The cipher family for m, or NULL (CKR_MECHANISM_INVALID). */
const azkv_cipher_ops *azkv_cipher_find(CK_MECHANISM_TYPE m);

/* Ends op, freeing its context. */
void azkv_cipher_op_end(azkv_cipher_op *op);

#endif
