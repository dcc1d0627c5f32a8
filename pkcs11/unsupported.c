/* Every PKCS#11 function the module does not implement, in one place.
 * Each answers CKR_CRYPTOKI_NOT_INITIALIZED before C_Initialize, as every
 * function must, and CKR_FUNCTION_NOT_SUPPORTED after. */
#include "module.h"

#define UNSUPPORTED                                                                                \
	do {                                                                                       \
		AZKV_REQUIRE_INIT();                                                               \
		return CKR_FUNCTION_NOT_SUPPORTED;                                                 \
	} while (0)

CK_RV C_InitToken(CK_SLOT_ID slot, unsigned char *pin, CK_ULONG pin_len, unsigned char *label)
{
	UNSUPPORTED;
}

CK_RV C_InitPIN(CK_SESSION_HANDLE session, unsigned char *pin, CK_ULONG pin_len)
{
	UNSUPPORTED;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE session, unsigned char *old_pin, CK_ULONG old_len,
               unsigned char *new_pin, CK_ULONG new_len)
{
	UNSUPPORTED;
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE session, unsigned char *state, CK_ULONG *state_len)
{
	UNSUPPORTED;
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE session, unsigned char *state, CK_ULONG state_len,
                          CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key)
{
	UNSUPPORTED;
}

CK_RV C_DigestInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism)
{
	UNSUPPORTED;
}

CK_RV C_Digest(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
               unsigned char *digest, CK_ULONG *digest_len)
{
	UNSUPPORTED;
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len)
{
	UNSUPPORTED;
}

CK_RV C_DigestKey(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE session, unsigned char *digest, CK_ULONG *digest_len)
{
	UNSUPPORTED;
}

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_SignRecover(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
                    unsigned char *sig, CK_ULONG *sig_len)
{
	UNSUPPORTED;
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE session, unsigned char *sig, CK_ULONG sig_len,
                      unsigned char *data, CK_ULONG *data_len)
{
	UNSUPPORTED;
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len,
                            unsigned char *out, CK_ULONG *out_len)
{
	UNSUPPORTED;
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len,
                            unsigned char *out, CK_ULONG *out_len)
{
	UNSUPPORTED;
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len,
                          unsigned char *out, CK_ULONG *out_len)
{
	UNSUPPORTED;
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len,
                            unsigned char *out, CK_ULONG *out_len)
{
	UNSUPPORTED;
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *pub_tmpl,
                        CK_ULONG pub_count, CK_ATTRIBUTE *priv_tmpl, CK_ULONG priv_count,
                        CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	UNSUPPORTED;
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE base,
                  CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	UNSUPPORTED;
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved)
{
	UNSUPPORTED;
}

/* Functions that run in parallel with others: this module has none. */
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE session)
{
	AZKV_REQUIRE_INIT();
	return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE session)
{
	AZKV_REQUIRE_INIT();
	return CKR_FUNCTION_NOT_PARALLEL;
}
