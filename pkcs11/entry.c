/* The module's only exported symbols. Everything else is hidden
 * (-fvisibility=hidden), so the module never clashes with another copy of
 * OpenSSL, curl or cJSON symbols in the host program. */
#include <p11-kit/pkcs11.h>
#include <string.h>

#include "cmk_ext.h"
#include "pkcs11_v3.h"

#define AZKV_EXPORT __attribute__((visibility("default")))

/* The 2.40 members, shared by both lists; get_info differs (each list
 * reports its own Cryptoki version). */
#define FUNCTIONS_2_40(get_info)                                                                   \
	.C_Initialize = C_Initialize, .C_Finalize = C_Finalize, .C_GetInfo = get_info,             \
	.C_GetFunctionList = C_GetFunctionList, .C_GetSlotList = C_GetSlotList,                    \
	.C_GetSlotInfo = C_GetSlotInfo, .C_GetTokenInfo = C_GetTokenInfo,                          \
	.C_GetMechanismList = C_GetMechanismList, .C_GetMechanismInfo = C_GetMechanismInfo,        \
	.C_InitToken = C_InitToken, .C_InitPIN = C_InitPIN, .C_SetPIN = C_SetPIN,                  \
	.C_OpenSession = C_OpenSession, .C_CloseSession = C_CloseSession,                          \
	.C_CloseAllSessions = C_CloseAllSessions, .C_GetSessionInfo = C_GetSessionInfo,            \
	.C_GetOperationState = C_GetOperationState, .C_SetOperationState = C_SetOperationState,    \
	.C_Login = C_Login, .C_Logout = C_Logout, .C_CreateObject = C_CreateObject,                \
	.C_CopyObject = C_CopyObject, .C_DestroyObject = C_DestroyObject,                          \
	.C_GetObjectSize = C_GetObjectSize, .C_GetAttributeValue = C_GetAttributeValue,            \
	.C_SetAttributeValue = C_SetAttributeValue, .C_FindObjectsInit = C_FindObjectsInit,        \
	.C_FindObjects = C_FindObjects, .C_FindObjectsFinal = C_FindObjectsFinal,                  \
	.C_EncryptInit = C_EncryptInit, .C_Encrypt = C_Encrypt,                                    \
	.C_EncryptUpdate = C_EncryptUpdate, .C_EncryptFinal = C_EncryptFinal,                      \
	.C_DecryptInit = C_DecryptInit, .C_Decrypt = C_Decrypt,                                    \
	.C_DecryptUpdate = C_DecryptUpdate, .C_DecryptFinal = C_DecryptFinal,                      \
	.C_DigestInit = C_DigestInit, .C_Digest = C_Digest, .C_DigestUpdate = C_DigestUpdate,      \
	.C_DigestKey = C_DigestKey, .C_DigestFinal = C_DigestFinal, .C_SignInit = C_SignInit,      \
	.C_Sign = C_Sign, .C_SignUpdate = C_SignUpdate, .C_SignFinal = C_SignFinal,                \
	.C_SignRecoverInit = C_SignRecoverInit, .C_SignRecover = C_SignRecover,                    \
	.C_VerifyInit = C_VerifyInit, .C_Verify = C_Verify, .C_VerifyUpdate = C_VerifyUpdate,      \
	.C_VerifyFinal = C_VerifyFinal, .C_VerifyRecoverInit = C_VerifyRecoverInit,                \
	.C_VerifyRecover = C_VerifyRecover, .C_DigestEncryptUpdate = C_DigestEncryptUpdate,        \
	.C_DecryptDigestUpdate = C_DecryptDigestUpdate,                                            \
	.C_SignEncryptUpdate = C_SignEncryptUpdate,                                                \
	.C_DecryptVerifyUpdate = C_DecryptVerifyUpdate, .C_GenerateKey = C_GenerateKey,            \
	.C_GenerateKeyPair = C_GenerateKeyPair, .C_WrapKey = C_WrapKey,                            \
	.C_UnwrapKey = C_UnwrapKey, .C_DeriveKey = C_DeriveKey, .C_SeedRandom = C_SeedRandom,      \
	.C_GenerateRandom = C_GenerateRandom, .C_GetFunctionStatus = C_GetFunctionStatus,          \
	.C_CancelFunction = C_CancelFunction, .C_WaitForSlotEvent = C_WaitForSlotEvent,

static CK_FUNCTION_LIST function_list = {.version = {2, 40}, FUNCTIONS_2_40(C_GetInfo)};

/* Not formatted: the macro ends with a comma that clang-format cannot see. */
/* clang-format off */
static CK_FUNCTION_LIST_3_0 function_list_3_0 = {
	.version = {3, 0},
	FUNCTIONS_2_40(azkv_get_info_v3)
	.C_GetInterfaceList = C_GetInterfaceList,
	.C_GetInterface = C_GetInterface,
	.C_LoginUser = C_LoginUser,
	.C_SessionCancel = C_SessionCancel,
	.C_MessageEncryptInit = C_MessageEncryptInit,
	.C_EncryptMessage = C_EncryptMessage,
	.C_EncryptMessageBegin = C_EncryptMessageBegin,
	.C_EncryptMessageNext = C_EncryptMessageNext,
	.C_MessageEncryptFinal = C_MessageEncryptFinal,
	.C_MessageDecryptInit = C_MessageDecryptInit,
	.C_DecryptMessage = C_DecryptMessage,
	.C_DecryptMessageBegin = C_DecryptMessageBegin,
	.C_DecryptMessageNext = C_DecryptMessageNext,
	.C_MessageDecryptFinal = C_MessageDecryptFinal,
	.C_MessageSignInit = C_MessageSignInit,
	.C_SignMessage = C_SignMessage,
	.C_SignMessageBegin = C_SignMessageBegin,
	.C_SignMessageNext = C_SignMessageNext,
	.C_MessageSignFinal = C_MessageSignFinal,
	.C_MessageVerifyInit = C_MessageVerifyInit,
	.C_VerifyMessage = C_VerifyMessage,
	.C_VerifyMessageBegin = C_VerifyMessageBegin,
	.C_VerifyMessageNext = C_VerifyMessageNext,
	.C_MessageVerifyFinal = C_MessageVerifyFinal,
};
/* clang-format on */

/* Both lists under the standard name, the newest first: C_GetInterface
 * with no name or version gives 3.0. Then the vendor interface (see
 * include/azkv/azkv-pkcs11.h), found only by its name. */
static CK_INTERFACE interfaces[] = {
        {(CK_UTF8CHAR *)"PKCS 11", &function_list_3_0, 0},
        {(CK_UTF8CHAR *)"PKCS 11", &function_list, 0},
        {(CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, &azkv_cmk_function_list, 0},
};

#define N_INTERFACES (sizeof(interfaces) / sizeof(interfaces[0]))

AZKV_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE *list, CK_ULONG *count)
{
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	if (list == NULL) {
		*count = N_INTERFACES;
		return CKR_OK;
	}
	if (*count < N_INTERFACES) {
		*count = N_INTERFACES;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(list, interfaces, sizeof(interfaces));
	*count = N_INTERFACES;
	return CKR_OK;
}

AZKV_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR *name, CK_VERSION *version, CK_INTERFACE **interface,
                                 CK_FLAGS flags)
{
	if (interface == NULL)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < N_INTERFACES; i++) {
		const CK_VERSION *v = interfaces[i].pFunctionList;
		/* No name means the standard interface, never a vendor's. */
		const char *want = name != NULL ? (const char *)name : "PKCS 11";
		if (strcmp(want, (const char *)interfaces[i].pInterfaceName))
			continue;
		if (version != NULL && (version->major != v->major || version->minor != v->minor))
			continue;
		if ((interfaces[i].flags & flags) != flags)
			continue;
		*interface = &interfaces[i];
		return CKR_OK;
	}
	return CKR_ARGUMENTS_BAD;
}

AZKV_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &function_list;
	return CKR_OK;
}
