/* The PKCS#11 3.0 functions beyond 2.40. C_LoginUser is C_Login (a vault
 * token has no named users); the message-based functions and
 * C_SessionCancel are not implemented and say so, after the
 * initialisation check every function makes. */
#include "module.h"
#include "pkcs11_v3.h"

CK_RV C_LoginUser(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_UTF8CHAR *pin,
                  CK_ULONG pin_len, CK_UTF8CHAR *username, CK_ULONG username_len)
{
	return C_Login(session, user_type, pin, pin_len);
}

#define UNSUPPORTED                                                                                \
	do {                                                                                       \
		AZKV_REQUIRE_INIT();                                                               \
		return CKR_FUNCTION_NOT_SUPPORTED;                                                 \
	} while (0)

CK_RV C_SessionCancel(CK_SESSION_HANDLE session, CK_FLAGS flags)
{
	UNSUPPORTED;
}

CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_EncryptMessage(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *aad,
                       CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                       CK_ULONG *out_len)
{
	UNSUPPORTED;
}

CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len,
                            CK_BYTE *aad, CK_ULONG aad_len)
{
	UNSUPPORTED;
}

CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len, CK_FLAGS flags)
{
	UNSUPPORTED;
}

CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE session)
{
	UNSUPPORTED;
}

CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_DecryptMessage(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *aad,
                       CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                       CK_ULONG *out_len)
{
	UNSUPPORTED;
}

CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len,
                            CK_BYTE *aad, CK_ULONG aad_len)
{
	UNSUPPORTED;
}

CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len, CK_FLAGS flags)
{
	UNSUPPORTED;
}

CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE session)
{
	UNSUPPORTED;
}

CK_RV C_MessageSignInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_SignMessage(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *data,
                    CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
	UNSUPPORTED;
}

CK_RV C_SignMessageBegin(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len)
{
	UNSUPPORTED;
}

CK_RV C_SignMessageNext(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *data,
                        CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
	UNSUPPORTED;
}

CK_RV C_MessageSignFinal(CK_SESSION_HANDLE session)
{
	UNSUPPORTED;
}

CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	UNSUPPORTED;
}

CK_RV C_VerifyMessage(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *data,
                      CK_ULONG data_len, CK_BYTE *sig, CK_ULONG sig_len)
{
	UNSUPPORTED;
}

CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len)
{
	UNSUPPORTED;
}

CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE session, void *param, CK_ULONG param_len, CK_BYTE *data,
                          CK_ULONG data_len, CK_BYTE *sig, CK_ULONG sig_len)
{
	UNSUPPORTED;
}

CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE session)
{
	UNSUPPORTED;
}
