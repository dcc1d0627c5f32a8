/* PKCS#11 3.0 interface discovery: C_GetInterfaceList and C_GetInterface
 * give a 3.0 and a 2.40 function list; the 3.0-only functions answer as
 * the specification requires. Run by run.sh with AZKV_MODULE and
 * AZKV_PKCS11_CONFIG set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_load.h"
#include "pkcs11_v3.h"
#include "tap.h"

int main(void)
{
	if (p11_load("p11_interface") == NULL)
		return 2;
	CK_C_GetInterfaceList get_list =
	        (CK_C_GetInterfaceList)p11_load_symbol("C_GetInterfaceList");
	CK_C_GetInterface get_iface = (CK_C_GetInterface)p11_load_symbol("C_GetInterface");
	CHECK(get_list != NULL && get_iface != NULL,
	      "C_GetInterfaceList and C_GetInterface exported");
	if (get_list == NULL || get_iface == NULL)
		return 1;

	CK_ULONG n = 0;
	CHECK(get_list(NULL, &n) == CKR_OK && n == 3, "three interfaces, before C_Initialize");
	CK_INTERFACE list[3];
	CK_ULONG one = 1;
	CHECK(get_list(list, &one) == CKR_BUFFER_TOO_SMALL && one == 3, "too small a list");
	CHECK(get_list(list, &n) == CKR_OK && !strcmp((char *)list[0].pInterfaceName, "PKCS 11") &&
	              !strcmp((char *)list[1].pInterfaceName, "PKCS 11"),
	      "the first two are named \"PKCS 11\"");
	CHECK(!strcmp((char *)list[2].pInterfaceName, AZKV_CMK_INTERFACE_NAME) &&
	              ((CK_VERSION *)list[2].pFunctionList)->major == 1,
	      "the third is the vendor interface, version 1");
	CHECK(get_list(list, NULL) == CKR_ARGUMENTS_BAD, "NULL count");

	CK_INTERFACE *iface = NULL;
	CHECK(get_iface(NULL, NULL, &iface, 0) == CKR_OK &&
	              ((CK_VERSION *)iface->pFunctionList)->major == 3,
	      "the default interface is 3.0");
	CK_VERSION v240 = {2, 40};
	CK_INTERFACE *old = NULL;
	CHECK(get_iface((CK_UTF8CHAR *)"PKCS 11", &v240, &old, 0) == CKR_OK &&
	              ((CK_FUNCTION_LIST *)old->pFunctionList)->version.minor == 40,
	      "version 2.40 on request");
	CK_INTERFACE *none = NULL;
	CHECK(get_iface((CK_UTF8CHAR *)"Vendor X", NULL, &none, 0) == CKR_ARGUMENTS_BAD,
	      "an unknown interface name");
	CK_VERSION v99 = {9, 9};
	CHECK(get_iface(NULL, &v99, &none, 0) == CKR_ARGUMENTS_BAD, "an unknown version");
	CK_VERSION v10 = {1, 0};
	CHECK(get_iface(NULL, &v10, &none, 0) == CKR_ARGUMENTS_BAD,
	      "no name never means the vendor interface");
	CHECK(get_iface(NULL, NULL, &none, CKF_INTERFACE_FORK_SAFE) == CKR_ARGUMENTS_BAD,
	      "fork-safe semantics are not offered (a child must call C_Initialize)");

	CK_FUNCTION_LIST_3_0 *f3 = iface->pFunctionList;
	CK_FUNCTION_LIST *f2 = old->pFunctionList;
	CHECK(f3->C_Initialize == f2->C_Initialize && f3->C_WrapKey == f2->C_WrapKey,
	      "the 3.0 list starts with the same 2.40 functions");
	CHECK(f3->C_MessageEncryptInit(1, NULL, 0) == CKR_CRYPTOKI_NOT_INITIALIZED,
	      "3.0 function before C_Initialize");
	CHECK(f3->C_Initialize(NULL) == CKR_OK, "C_Initialize through the 3.0 list");
	CK_INFO info3, info2;
	CHECK(f3->C_GetInfo(&info3) == CKR_OK && info3.cryptokiVersion.major == 3 &&
	              f2->C_GetInfo(&info2) == CKR_OK && info2.cryptokiVersion.major == 2 &&
	              info2.cryptokiVersion.minor == 40,
	      "C_GetInfo reports the version of the list it is called through");
	CK_SESSION_HANDLE s;
	CHECK(f3->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) == CKR_OK, "C_OpenSession");
	CHECK(f3->C_MessageEncryptInit(s, NULL, 0) == CKR_FUNCTION_NOT_SUPPORTED &&
	              f3->C_MessageSignInit(s, NULL, 0) == CKR_FUNCTION_NOT_SUPPORTED &&
	              f3->C_SessionCancel(s, 0) == CKR_FUNCTION_NOT_SUPPORTED,
	      "message-based functions are not supported");
	CHECK(f3->C_LoginUser(s, CKU_USER, (CK_UTF8CHAR *)"x", 1, (CK_UTF8CHAR *)"u", 1) == CKR_OK,
	      "C_LoginUser logs in like C_Login");
	CK_SESSION_INFO info;
	CHECK(f3->C_GetSessionInfo(s, &info) == CKR_OK && info.state == CKS_RO_USER_FUNCTIONS,
	      "the session is in the user state");
	CHECK(f3->C_Finalize(NULL) == CKR_OK, "C_Finalize");
	return tap_status();
}
