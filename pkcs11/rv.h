/* The one place where core errors become CK_RV. The context says what the
 * module was doing, because the same Azure answer means different things:
 * a 403 on unwrapkey is a key that may not be used so, a 403 on listing
 * keys is a token the identity cannot read. */
#ifndef AZKV_P11_RV_H
#define AZKV_P11_RV_H

#include <p11-kit/pkcs11.h>

#include "status.h"

typedef enum azkv_rv_ctx {
	AZKV_CTX_TOKEN,  /* listing or reading keys (C_FindObjectsInit) */
	AZKV_CTX_KEY_OP, /* an operation with a vault key */
	AZKV_CTX_UNWRAP, /* C_UnwrapKey in the vault */
	AZKV_CTX_INIT,   /* C_Initialize: config, HTTP, credential setup */
	AZKV_CTX_SIGN,   /* C_Sign in the vault */
	AZKV_CTX_WRAP,   /* C_WrapKey in the vault (wrapkey) */
	AZKV_CTX_KEYGEN, /* C_GenerateKeyPair in the vault (create) */
} azkv_rv_ctx;

/* Maps err to a CK_RV and logs, at error level, "what: cause (CKR_...)".
 * what names the call, e.g. "C_UnwrapKey with key 'cmk'". */
CK_RV azkv_rv_from_err(const azkv_err *err, azkv_rv_ctx ctx, const char *what);

/* As azkv_rv_from_err for a refused request on key key_name of the vault
 * at vault_url (operation: "wrapkey", "unwrapkey", ...). When a Managed
 * HSM refused it (403), a second line says which local role the identity
 * needs and how to grant it. */
CK_RV azkv_rv_from_vault_err(const azkv_err *err, azkv_rv_ctx ctx, const char *what,
                             const char *vault_url, const char *key_name, const char *operation);

/* Maps without logging (for tests and for callers that log themselves). */
CK_RV azkv_rv_map(const azkv_err *err, azkv_rv_ctx ctx);

/* "CKR_DEVICE_ERROR" etc.; "CKR_0x..." style names are not needed: an
 * unknown value gives "CKR_VENDOR_OR_UNKNOWN". */
const char *azkv_rv_name(CK_RV rv);

#endif
