#include "rv.h"

#include <string.h>

#include "log.h"
#include "mhsm.h"

CK_RV azkv_rv_map(const azkv_err *err, azkv_rv_ctx ctx)
{
	switch (err->rc) {
	case AZKV_OK:
		return CKR_OK;
	case AZKV_ERR_NOMEM:
		return CKR_HOST_MEMORY;
	case AZKV_ERR_INVALID_ARG:
		return CKR_ARGUMENTS_BAD;
	case AZKV_ERR_CONFIG:
		/* C_Initialize has no better code for an unusable setup. */
		return CKR_GENERAL_ERROR;
	case AZKV_ERR_FORBIDDEN:
		/* The identity may not create keys in this vault: to it the
		 * token is read-only (a C_GenerateKeyPair code, which
		 * CKR_KEY_FUNCTION_NOT_PERMITTED is not). */
		if (ctx == AZKV_CTX_KEYGEN)
			return CKR_TOKEN_WRITE_PROTECTED;
		/* The identity may not use this key for this operation. */
		return ctx == AZKV_CTX_TOKEN ? CKR_DEVICE_ERROR : CKR_KEY_FUNCTION_NOT_PERMITTED;
	case AZKV_ERR_NOT_FOUND:
		/* The key went away in the vault since we listed it. */
		if (ctx == AZKV_CTX_UNWRAP)
			return CKR_UNWRAPPING_KEY_HANDLE_INVALID;
		return ctx == AZKV_CTX_KEY_OP || ctx == AZKV_CTX_SIGN || ctx == AZKV_CTX_WRAP
		               ? CKR_KEY_HANDLE_INVALID
		               : CKR_DEVICE_ERROR;
	case AZKV_ERR_BAD_PARAMETER:
		/* The vault could not decrypt what it was given. */
		if (ctx == AZKV_CTX_UNWRAP)
			return CKR_WRAPPED_KEY_INVALID;
		/* The module checks the digest and alg before it asks, so a
		 * refused sign is a failure, not bad data. */
		if (ctx == AZKV_CTX_SIGN)
			return CKR_FUNCTION_FAILED;
		/* C_WrapKey: the module has checked the mechanism, its
		 * parameters and the wrapping key, so what the vault refuses
		 * is the key to wrap (a value too long for RSA-OAEP, say):
		 * CKR_KEY_SIZE_RANGE, as the local RSA wrap answers the same
		 * input. CKR_ENCRYPTED_DATA_INVALID is not a C_WrapKey code. */
		if (ctx == AZKV_CTX_WRAP)
			return CKR_KEY_SIZE_RANGE;
		/* C_GenerateKeyPair: the module has checked the size, curve
		 * and key_ops, so a refusal is the vault's (an -HSM type on a
		 * standard vault, say), logged with its message. */
		if (ctx == AZKV_CTX_KEYGEN)
			return CKR_FUNCTION_FAILED;
		return ctx == AZKV_CTX_KEY_OP ? CKR_ENCRYPTED_DATA_INVALID : CKR_DEVICE_ERROR;
	case AZKV_ERR_UNSUPPORTED:
		return CKR_MECHANISM_INVALID;
	case AZKV_ERR_CONFLICT:
		/* C_GenerateKeyPair: the name is taken by a deleted key the
		 * vault keeps for recovery (ObjectIsDeletedButRecoverable). */
		if (ctx == AZKV_CTX_KEYGEN)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		return CKR_DEVICE_ERROR;
	case AZKV_ERR_NETWORK:
	case AZKV_ERR_AUTH:
	case AZKV_ERR_UNAVAILABLE:
	case AZKV_ERR_THROTTLED:
	case AZKV_ERR_SERVER:
	case AZKV_ERR_PROTOCOL:
		return CKR_DEVICE_ERROR;
	case AZKV_ERR_CRYPTO:
		return CKR_FUNCTION_FAILED;
	}
	return CKR_GENERAL_ERROR;
}

CK_RV azkv_rv_from_err(const azkv_err *err, azkv_rv_ctx ctx, const char *what)
{
	/* The core's message already names the HTTP status and Azure code. */
	CK_RV rv = azkv_rv_map(err, ctx);
	azkv_error("%s: %s -> %s", what, err->message, azkv_rv_name(rv));
	return rv;
}

/* A 403 about the key itself (innererror KeyDisabled, KeyExpired,
 * KeyNotYetValid, KeyOperationForbidden) is not a missing role. */
static int key_state_refusal(const azkv_err *err)
{
	return strncmp(err->inner_code, "Key", 3) == 0;
}

CK_RV azkv_rv_from_vault_err(const azkv_err *err, azkv_rv_ctx ctx, const char *what,
                             const char *vault_url, const char *key_name, const char *operation)
{
	char hint[512];
	CK_RV rv = azkv_rv_from_err(err, ctx, what);
	if (err->rc == AZKV_ERR_FORBIDDEN && !key_state_refusal(err) &&
	    azkv_mhsm_grant_hint(vault_url, key_name, operation, hint, sizeof(hint)))
		azkv_error("%s: %s", what, hint);
	return rv;
}

const char *azkv_rv_name(CK_RV rv)
{
	switch (rv) {
#define NAME(x)                                                                                    \
	case x:                                                                                    \
		return #x
		NAME(CKR_OK);
		NAME(CKR_HOST_MEMORY);
		NAME(CKR_SLOT_ID_INVALID);
		NAME(CKR_GENERAL_ERROR);
		NAME(CKR_FUNCTION_FAILED);
		NAME(CKR_ARGUMENTS_BAD);
		NAME(CKR_CANT_LOCK);
		NAME(CKR_ATTRIBUTE_READ_ONLY);
		NAME(CKR_ATTRIBUTE_SENSITIVE);
		NAME(CKR_ATTRIBUTE_TYPE_INVALID);
		NAME(CKR_ATTRIBUTE_VALUE_INVALID);
		NAME(CKR_ACTION_PROHIBITED);
		NAME(CKR_DATA_INVALID);
		NAME(CKR_DATA_LEN_RANGE);
		NAME(CKR_DEVICE_ERROR);
		NAME(CKR_ENCRYPTED_DATA_INVALID);
		NAME(CKR_ENCRYPTED_DATA_LEN_RANGE);
		NAME(CKR_FUNCTION_NOT_SUPPORTED);
		NAME(CKR_KEY_HANDLE_INVALID);
		NAME(CKR_KEY_SIZE_RANGE);
		NAME(CKR_KEY_TYPE_INCONSISTENT);
		NAME(CKR_KEY_NOT_WRAPPABLE);
		NAME(CKR_KEY_UNEXTRACTABLE);
		NAME(CKR_KEY_FUNCTION_NOT_PERMITTED);
		NAME(CKR_MECHANISM_INVALID);
		NAME(CKR_MECHANISM_PARAM_INVALID);
		NAME(CKR_OBJECT_HANDLE_INVALID);
		NAME(CKR_OPERATION_ACTIVE);
		NAME(CKR_OPERATION_NOT_INITIALIZED);
		NAME(CKR_SESSION_HANDLE_INVALID);
		NAME(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
		NAME(CKR_SESSION_READ_ONLY);
		NAME(CKR_TEMPLATE_INCOMPLETE);
		NAME(CKR_TEMPLATE_INCONSISTENT);
		NAME(CKR_UNWRAPPING_KEY_HANDLE_INVALID);
		NAME(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
		NAME(CKR_USER_ALREADY_LOGGED_IN);
		NAME(CKR_USER_NOT_LOGGED_IN);
		NAME(CKR_USER_TYPE_INVALID);
		NAME(CKR_WRAPPED_KEY_INVALID);
		NAME(CKR_WRAPPED_KEY_LEN_RANGE);
		NAME(CKR_WRAPPING_KEY_HANDLE_INVALID);
		NAME(CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
		NAME(CKR_BUFFER_TOO_SMALL);
		NAME(CKR_CRYPTOKI_NOT_INITIALIZED);
		NAME(CKR_CRYPTOKI_ALREADY_INITIALIZED);
		NAME(CKR_RANDOM_SEED_NOT_SUPPORTED);
		NAME(CKR_TOKEN_WRITE_PROTECTED);
		NAME(CKR_SIGNATURE_INVALID);
		NAME(CKR_SIGNATURE_LEN_RANGE);
		NAME(CKR_SESSION_CLOSED);
		NAME(CKR_FUNCTION_NOT_PARALLEL);
		NAME(CKR_PIN_INCORRECT);
#undef NAME
	}
	return "CKR_VENDOR_OR_UNKNOWN";
}
