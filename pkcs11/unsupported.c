/* Every PKCS#11 function the module does not implement, 2.40 and 3.0, in
 * one place, one line each: the function, what it answers, its
 * parameters. Each answers CKR_CRYPTOKI_NOT_INITIALIZED before
 * C_Initialize, as every function must, and its answer after. The
 * message-based functions of 3.0 and C_SessionCancel are not implemented
 * and say so. */
#include "module.h"
#include "pkcs11_v3.h"

#define REFUSED(name, rv, params)                                                                  \
	CK_RV name params                                                                          \
	{                                                                                          \
		AZKV_REQUIRE_INIT();                                                               \
		return rv;                                                                         \
	}

#define NO CKR_FUNCTION_NOT_SUPPORTED
/* Functions that run in parallel with others: this module has none. */
#define NOT_PARALLEL CKR_FUNCTION_NOT_PARALLEL

typedef CK_SESSION_HANDLE S;
typedef CK_ULONG UL;
typedef unsigned char B;

/* One line each, not as clang-format would fold them. */
/* clang-format off */
REFUSED(C_InitToken, NO, (CK_SLOT_ID slot, B *pin, UL pin_len, B *label))
REFUSED(C_InitPIN, NO, (S session, B *pin, UL pin_len))
REFUSED(C_SetPIN, NO, (S session, B *old_pin, UL old_len, B *new_pin, UL new_len))
REFUSED(C_GetOperationState, NO, (S session, B *state, UL *state_len))
REFUSED(C_SetOperationState, NO, (S session, B *state, UL state_len, CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key))
REFUSED(C_SignRecoverInit, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
REFUSED(C_SignRecover, NO, (S session, B *data, UL data_len, B *sig, UL *sig_len))
REFUSED(C_VerifyRecoverInit, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
REFUSED(C_VerifyRecover, NO, (S session, B *sig, UL sig_len, B *data, UL *data_len))
REFUSED(C_DigestEncryptUpdate, NO, (S session, B *part, UL part_len, B *out, UL *out_len))
REFUSED(C_DecryptDigestUpdate, NO, (S session, B *part, UL part_len, B *out, UL *out_len))
REFUSED(C_SignEncryptUpdate, NO, (S session, B *part, UL part_len, B *out, UL *out_len))
REFUSED(C_DecryptVerifyUpdate, NO, (S session, B *part, UL part_len, B *out, UL *out_len))
REFUSED(C_DeriveKey, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE base, CK_ATTRIBUTE *tmpl, UL count, CK_OBJECT_HANDLE *key))
REFUSED(C_WaitForSlotEvent, NO, (CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved))
REFUSED(C_GetFunctionStatus, NOT_PARALLEL, (S session))
REFUSED(C_CancelFunction, NOT_PARALLEL, (S session))
/* PKCS#11 3.0 */
REFUSED(C_SessionCancel, NO, (S session, CK_FLAGS flags))
REFUSED(C_MessageEncryptInit, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
REFUSED(C_MessageDecryptInit, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
REFUSED(C_MessageSignInit, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
REFUSED(C_MessageVerifyInit, NO, (S session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key))
REFUSED(C_EncryptMessage, NO, (S session, void *param, UL param_len, B *aad, UL aad_len, B *in, UL in_len, B *out, UL *out_len))
REFUSED(C_DecryptMessage, NO, (S session, void *param, UL param_len, B *aad, UL aad_len, B *in, UL in_len, B *out, UL *out_len))
REFUSED(C_SignMessage, NO, (S session, void *param, UL param_len, B *data, UL data_len, B *sig, UL *sig_len))
REFUSED(C_VerifyMessage, NO, (S session, void *param, UL param_len, B *data, UL data_len, B *sig, UL sig_len))
REFUSED(C_EncryptMessageBegin, NO, (S session, void *param, UL param_len, B *aad, UL aad_len))
REFUSED(C_DecryptMessageBegin, NO, (S session, void *param, UL param_len, B *aad, UL aad_len))
REFUSED(C_SignMessageBegin, NO, (S session, void *param, UL param_len))
REFUSED(C_VerifyMessageBegin, NO, (S session, void *param, UL param_len))
REFUSED(C_EncryptMessageNext, NO, (S session, void *param, UL param_len, B *in, UL in_len, B *out, UL *out_len, CK_FLAGS flags))
REFUSED(C_DecryptMessageNext, NO, (S session, void *param, UL param_len, B *in, UL in_len, B *out, UL *out_len, CK_FLAGS flags))
REFUSED(C_SignMessageNext, NO, (S session, void *param, UL param_len, B *data, UL data_len, B *sig, UL *sig_len))
REFUSED(C_VerifyMessageNext, NO, (S session, void *param, UL param_len, B *data, UL data_len, B *sig, UL sig_len))
REFUSED(C_MessageEncryptFinal, NO, (S session))
REFUSED(C_MessageDecryptFinal, NO, (S session))
REFUSED(C_MessageSignFinal, NO, (S session))
REFUSED(C_MessageVerifyFinal, NO, (S session))
/* clang-format on */
