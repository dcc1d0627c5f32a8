/* PKCS#11 API misuse: every call made wrongly on purpose, and the CK_RV that
 * the PKCS#11 specification (base specification 2.40 and 3.0, section 5) has
 * the module answer. The same program runs against azkv-pkcs11 and against
 * SoftHSMv2, so that run.sh can compare the two module by module.
 *
 *   misuse MODULE TOKEN_LABEL PIN RSA_LABEL
 *
 * MODULE is loaded with dlopen; TOKEN_LABEL names the token; PIN is the user
 * PIN (any for azkv-pkcs11); RSA_LABEL is an RSA-2048 key pair on the token
 * (public and private objects with that CKA_LABEL).
 *
 * Output: one line per check,
 *   ok - ID = CKR_X
 *   not ok - ID = CKR_X (spec: CKR_Y|CKR_Z)
 * and, where a module may legitimately answer differently from SoftHSMv2,
 * " # may differ from SoftHSM: WHY" after it. Exit status: the number of
 * checks that failed (capped), 0 when every answer is one the spec allows.
 *
 * When the spec lists several errors that all apply to one call, it leaves
 * the choice to the module (3.0, 5.1.8 "relative priorities": the order is
 * not specified beyond the general classes), so such checks accept each of
 * them. Built by run.sh at test time: cc misuse.c $(pkg-config --cflags
 * p11-kit-1) -ldl. */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The note of a check SoftHSMv2 2.6 cannot run: it has no 3.0 interface. */
#define V3_ONLY "PKCS#11 3.0 only: SoftHSM 2.6 implements 2.40"

static CK_FUNCTION_LIST *p11;

static CK_RV dummy_mutex(void *m)
{
	(void)m;
	return CKR_OK;
}

static CK_RV dummy_create_mutex(void **m)
{
	*m = NULL;
	return CKR_OK;
}

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	if (p11->C_FindObjectsInit(s, t, 2) != CKR_OK)
		return CK_INVALID_HANDLE;
	if (p11->C_FindObjects(s, &h, 1, &n) != CKR_OK || n != 1)
		h = CK_INVALID_HANDLE;
	p11->C_FindObjectsFinal(s);
	return h;
}

/* C_GetInterfaceList (3.0), called without p11-kit 0.24's header knowing
 * CK_INTERFACE: the list is only passed through. */
typedef CK_RV (*get_interface_list_fn)(void *list, CK_ULONG *count);

/* A handle no module hands out in a short test. */
#define BAD_HANDLE ((CK_ULONG)0x7ead0bad)
/* Unassigned in the standard ranges (not vendor-defined). */
#define UNKNOWN_MECHANISM ((CK_MECHANISM_TYPE)0x00000fffUL)
#define UNKNOWN_ATTRIBUTE ((CK_ATTRIBUTE_TYPE)0x00000ffeUL)

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: misuse MODULE TOKEN_LABEL PIN RSA_LABEL\n");
		return 2;
	}
	const char *token_label = argv[2];
	CK_UTF8CHAR *pin = (CK_UTF8CHAR *)argv[3];
	CK_ULONG pin_len = strlen(argv[3]);
	const char *rsa_label = argv[4];

	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
		return 2;
	}
	CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
	if (get == NULL) {
		fprintf(stderr, "%s has no C_GetFunctionList\n", argv[1]);
		return 2;
	}

	/* ---------------------------------------------------------- before C_Initialize */
	/* 5.2: C_GetFunctionList(NULL_PTR) is CKR_ARGUMENTS_BAD. */
	EXPECT("C_GetFunctionList(NULL)", get(NULL), CKR_ARGUMENTS_BAD);
	if (get(&p11) != CKR_OK || p11 == NULL) {
		fprintf(stderr, "C_GetFunctionList failed\n");
		return 2;
	}
	/* 5.1.3/5.4: every function but C_Initialize, C_GetFunctionList (and
	 * 3.0's C_GetInterface*) answers CKR_CRYPTOKI_NOT_INITIALIZED. */
	CK_INFO info;
	CK_ULONG n = 0;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	EXPECT("before-init C_GetInfo", p11->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("before-init C_GetSlotList", p11->C_GetSlotList(CK_TRUE, NULL, &n),
	       CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("before-init C_OpenSession",
	       p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s),
	       CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("before-init C_Finalize", p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);

	/* 5.4 C_Initialize: pReserved must be NULL_PTR, else CKR_ARGUMENTS_BAD;
	 * the four mutex functions are all given or none. */
	CK_C_INITIALIZE_ARGS args;
	int reserved = 0;
	memset(&args, 0, sizeof(args));
	args.pReserved = &reserved;
	EXPECT("C_Initialize(pReserved != NULL)", p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	memset(&args, 0, sizeof(args));
	args.CreateMutex = dummy_create_mutex;
	args.LockMutex = dummy_mutex;
	EXPECT("C_Initialize(2 of 4 mutex functions)", p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	EXPECT("C_Initialize(CKF_OS_LOCKING_OK)", p11->C_Initialize(&args), CKR_OK);
	EXPECT("C_Initialize twice", p11->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);

	/* ---------------------------------------------------------- general */
	EXPECT("C_GetInfo(NULL)", p11->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
	/* 5.4 C_Finalize: pReserved must be NULL_PTR, else CKR_ARGUMENTS_BAD
	 * (and the library stays initialized). */
	EXPECT("C_Finalize(pReserved != NULL)", p11->C_Finalize(&reserved), CKR_ARGUMENTS_BAD);
	EXPECT("C_GetInfo after refused C_Finalize", p11->C_GetInfo(&info), CKR_OK);
	/* Which edition of the spec the module follows, where they differ: a
	 * module with the 3.0 interfaces follows 3.0, whichever version its
	 * C_GetInfo reports for the 2.40 function list. */
	const int v3 = dlsym(lib, "C_GetInterfaceList") != NULL;
	printf("# C_GetInfo cryptokiVersion %u.%u, 3.0 interfaces: %s\n",
	       info.cryptokiVersion.major, info.cryptokiVersion.minor, v3 ? "yes" : "no");

	/* 5.5 C_GetSlotList and the two-call convention (5.2). */
	EXPECT("C_GetSlotList(count NULL)", p11->C_GetSlotList(CK_TRUE, NULL, NULL),
	       CKR_ARGUMENTS_BAD);
	n = 0;
	EXPECT("C_GetSlotList(list NULL) length", p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CK_ULONG nslots = n;
	check_true("C_GetSlotList length >= 1", nslots >= 1, "count %lu", (unsigned long)nslots);
	CK_SLOT_ID slots[64];
	n = 0;
	EXPECT("C_GetSlotList(count 0) too small", p11->C_GetSlotList(CK_TRUE, slots, &n),
	       CKR_BUFFER_TOO_SMALL);
	check_true("C_GetSlotList too small sets count", n == nslots, "count %lu, want %lu",
	           (unsigned long)n, (unsigned long)nslots);
	n = nslots < 64 ? nslots : 64;
	EXPECT("C_GetSlotList exact", p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);

	CK_SLOT_ID slot = (CK_SLOT_ID)-1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		size_t l = strlen(token_label);
		if (l <= sizeof(ti.label) && memcmp(ti.label, token_label, l) == 0 &&
		    (l == sizeof(ti.label) || ti.label[l] == ' ')) {
			slot = slots[i];
			break;
		}
	}
	if (slot == (CK_SLOT_ID)-1) {
		fprintf(stderr, "no token labelled %s\n", token_label);
		return 2;
	}
	/* An id that no slot has: the largest id seen plus a margin. */
	CK_SLOT_ID bad_slot = 0;
	for (CK_ULONG i = 0; i < n; i++)
		if (slots[i] >= bad_slot)
			bad_slot = slots[i] + 1000;

	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	EXPECT("C_GetSlotInfo(bad slot)", p11->C_GetSlotInfo(bad_slot, &si), CKR_SLOT_ID_INVALID);
	EXPECT("C_GetSlotInfo(NULL)", p11->C_GetSlotInfo(slot, NULL), CKR_ARGUMENTS_BAD);
	EXPECT("C_GetTokenInfo(bad slot)", p11->C_GetTokenInfo(bad_slot, &ti), CKR_SLOT_ID_INVALID);
	EXPECT("C_GetTokenInfo(NULL)", p11->C_GetTokenInfo(slot, NULL), CKR_ARGUMENTS_BAD);

	/* 5.5 C_GetMechanismList: the two-call convention. */
	EXPECT("C_GetMechanismList(count NULL)", p11->C_GetMechanismList(slot, NULL, NULL),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_GetMechanismList(bad slot)", p11->C_GetMechanismList(bad_slot, NULL, &n),
	       CKR_SLOT_ID_INVALID);
	n = 0;
	EXPECT("C_GetMechanismList(list NULL) length", p11->C_GetMechanismList(slot, NULL, &n),
	       CKR_OK);
	CK_ULONG nmech = n;
	CK_MECHANISM_TYPE mechs[256];
	n = 1;
	EXPECT("C_GetMechanismList(count 1) too small", p11->C_GetMechanismList(slot, mechs, &n),
	       nmech > 1 ? CKR_BUFFER_TOO_SMALL : CKR_OK);
	check_true("C_GetMechanismList too small sets count", n == nmech, "count %lu, want %lu",
	           (unsigned long)n, (unsigned long)nmech);
	CK_MECHANISM_INFO mi;
	EXPECT("C_GetMechanismInfo(unknown mechanism)",
	       p11->C_GetMechanismInfo(slot, UNKNOWN_MECHANISM, &mi), CKR_MECHANISM_INVALID);
	EXPECT("C_GetMechanismInfo(NULL)", p11->C_GetMechanismInfo(slot, CKM_RSA_PKCS, NULL),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_GetMechanismInfo(bad slot)", p11->C_GetMechanismInfo(bad_slot, CKM_RSA_PKCS, &mi),
	       CKR_SLOT_ID_INVALID);
	/* 5.5: a library that does not support slot events says so. */
	CK_SLOT_ID ev;
	EXPECT_NOTE("C_WaitForSlotEvent(CKF_DONT_BLOCK)",
	            "a vault token is never inserted or removed: azkv-pkcs11 has no slot events "
	            "(CKR_FUNCTION_NOT_SUPPORTED), SoftHSM has them and none is pending",
	            p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_NO_EVENT,
	            CKR_FUNCTION_NOT_SUPPORTED);

	/* ---------------------------------------------------------- sessions (5.6) */
	EXPECT("C_OpenSession(without CKF_SERIAL_SESSION)",
	       p11->C_OpenSession(slot, 0, NULL, NULL, &s), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	EXPECT("C_OpenSession(phSession NULL)",
	       p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	EXPECT("C_OpenSession(bad slot)",
	       p11->C_OpenSession(bad_slot, CKF_SERIAL_SESSION, NULL, NULL, &s),
	       CKR_SLOT_ID_INVALID);
	CK_SESSION_HANDLE rw = CK_INVALID_HANDLE, ro = CK_INVALID_HANDLE;
	EXPECT("C_OpenSession(R/W)",
	       p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &rw),
	       CKR_OK);
	CK_SESSION_INFO sinfo;
	EXPECT("C_GetSessionInfo(NULL)", p11->C_GetSessionInfo(rw, NULL), CKR_ARGUMENTS_BAD);
	EXPECT("C_GetSessionInfo(bad session)", p11->C_GetSessionInfo(BAD_HANDLE, &sinfo),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CloseSession(bad session)", p11->C_CloseSession(BAD_HANDLE),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CloseAllSessions(bad slot)", p11->C_CloseAllSessions(bad_slot),
	       CKR_SLOT_ID_INVALID);

	/* ---------------------------------------------------------- login (5.6) */
	EXPECT("C_Login(bad user type)", p11->C_Login(rw, 7, pin, pin_len), CKR_USER_TYPE_INVALID);
	EXPECT("C_Logout(not logged in)", p11->C_Logout(rw), CKR_USER_NOT_LOGGED_IN);
	EXPECT("C_Login(CKU_SO, wrong PIN)",
	       p11->C_Login(rw, CKU_SO, (CK_UTF8CHAR *)"not-the-so-pin", 14), CKR_PIN_INCORRECT);
	/* 5.6 C_Login: an SO login while any read-only session is open on the
	 * token is CKR_SESSION_READ_ONLY_EXISTS (the SO has read/write
	 * sessions only), whatever the PIN: the state of the token decides
	 * before the credentials are looked at. */
	CK_SESSION_HANDLE ro_early = CK_INVALID_HANDLE;
	EXPECT("C_OpenSession(R/O) before an SO login",
	       p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro_early), CKR_OK);
	EXPECT("C_Login(CKU_SO) while a R/O session is open",
	       p11->C_Login(rw, CKU_SO, (CK_UTF8CHAR *)"not-the-so-pin", 14),
	       CKR_SESSION_READ_ONLY_EXISTS);
	EXPECT("C_CloseSession(R/O) after the SO login", p11->C_CloseSession(ro_early), CKR_OK);
	EXPECT("C_Login(CKU_USER)", p11->C_Login(rw, CKU_USER, pin, pin_len), CKR_OK);
	EXPECT("C_Login(CKU_USER) twice", p11->C_Login(rw, CKU_USER, pin, pin_len),
	       CKR_USER_ALREADY_LOGGED_IN);
	EXPECT("C_GetSessionInfo(R/W, logged in)", p11->C_GetSessionInfo(rw, &sinfo), CKR_OK);
	check_true("session state is CKS_RW_USER_FUNCTIONS", sinfo.state == CKS_RW_USER_FUNCTIONS,
	           "state %lu", (unsigned long)sinfo.state);
	/* Login state is per token (5.6): a session opened now is logged in. */
	EXPECT("C_OpenSession(R/O) while logged in",
	       p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
	EXPECT("C_GetSessionInfo(R/O, logged in)", p11->C_GetSessionInfo(ro, &sinfo), CKR_OK);
	check_true("session state is CKS_RO_USER_FUNCTIONS", sinfo.state == CKS_RO_USER_FUNCTIONS,
	           "state %lu", (unsigned long)sinfo.state);

	/* ---------------------------------------------------------- objects (5.7) */
	CK_OBJECT_HANDLE pub = find_one(rw, CKO_PUBLIC_KEY, rsa_label);
	CK_OBJECT_HANDLE priv = find_one(rw, CKO_PRIVATE_KEY, rsa_label);
	check_true("RSA key pair found", pub != CK_INVALID_HANDLE && priv != CK_INVALID_HANDLE,
	           "label %s", rsa_label);
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE by_class = {CKA_CLASS, &cls, sizeof(cls)};
	CK_OBJECT_HANDLE found[4];
	EXPECT("C_FindObjectsInit(template NULL, count 1)", p11->C_FindObjectsInit(rw, NULL, 1),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_FindObjects without C_FindObjectsInit", p11->C_FindObjects(rw, found, 4, &n),
	       CKR_OPERATION_NOT_INITIALIZED);
	EXPECT("C_FindObjectsFinal without C_FindObjectsInit", p11->C_FindObjectsFinal(rw),
	       CKR_OPERATION_NOT_INITIALIZED);
	EXPECT("C_FindObjectsInit", p11->C_FindObjectsInit(rw, &by_class, 1), CKR_OK);
	EXPECT("C_FindObjectsInit while active", p11->C_FindObjectsInit(rw, &by_class, 1),
	       CKR_OPERATION_ACTIVE);
	EXPECT("C_FindObjects(phObject NULL)", p11->C_FindObjects(rw, NULL, 4, &n),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_FindObjects(pulObjectCount NULL)", p11->C_FindObjects(rw, found, 4, NULL),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_FindObjectsFinal", p11->C_FindObjectsFinal(rw), CKR_OK);

	/* C_GetAttributeValue (5.7): per-attribute lengths and errors. */
	CK_ATTRIBUTE a = {CKA_MODULUS, NULL, 0};
	EXPECT("C_GetAttributeValue(bad object)", p11->C_GetAttributeValue(rw, BAD_HANDLE, &a, 1),
	       CKR_OBJECT_HANDLE_INVALID);
	EXPECT("C_GetAttributeValue(template NULL)", p11->C_GetAttributeValue(rw, pub, NULL, 1),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_GetAttributeValue(bad session)", p11->C_GetAttributeValue(BAD_HANDLE, pub, &a, 1),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GetAttributeValue(CKA_MODULUS, pValue NULL) length",
	       p11->C_GetAttributeValue(rw, pub, &a, 1), CKR_OK);
	check_true("CKA_MODULUS length is 256", a.ulValueLen == 256, "length %lu",
	           (unsigned long)a.ulValueLen);
	unsigned char small[8];
	a.pValue = small;
	a.ulValueLen = sizeof(small);
	EXPECT("C_GetAttributeValue(CKA_MODULUS, 8-byte buffer)",
	       p11->C_GetAttributeValue(rw, pub, &a, 1), CKR_BUFFER_TOO_SMALL);
	check_true("too-small attribute length is CK_UNAVAILABLE_INFORMATION",
	           a.ulValueLen == CK_UNAVAILABLE_INFORMATION, "length %lu",
	           (unsigned long)a.ulValueLen);
	CK_ULONG bits = 0;
	CK_ATTRIBUTE mixed[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
	                        {UNKNOWN_ATTRIBUTE, small, sizeof(small)}};
	EXPECT("C_GetAttributeValue(valid + unknown attribute)",
	       p11->C_GetAttributeValue(rw, pub, mixed, 2), CKR_ATTRIBUTE_TYPE_INVALID);
	check_true("valid attribute still returned",
	           bits == 2048 && mixed[0].ulValueLen == sizeof(bits), "CKA_MODULUS_BITS %lu",
	           (unsigned long)bits);
	check_true("unknown attribute length is CK_UNAVAILABLE_INFORMATION",
	           mixed[1].ulValueLen == CK_UNAVAILABLE_INFORMATION, "length %lu",
	           (unsigned long)mixed[1].ulValueLen);
	unsigned char big[512];
	CK_ATTRIBUTE secret = {CKA_PRIVATE_EXPONENT, big, sizeof(big)};
	EXPECT("C_GetAttributeValue(CKA_PRIVATE_EXPONENT of a sensitive key)",
	       p11->C_GetAttributeValue(rw, priv, &secret, 1), CKR_ATTRIBUTE_SENSITIVE);
	check_true("sensitive attribute length is CK_UNAVAILABLE_INFORMATION",
	           secret.ulValueLen == CK_UNAVAILABLE_INFORMATION, "length %lu",
	           (unsigned long)secret.ulValueLen);
	EXPECT("C_DestroyObject(bad object)", p11->C_DestroyObject(rw, BAD_HANDLE),
	       CKR_OBJECT_HANDLE_INVALID);

	/* ---------------------------------------------------------- key generation (5.14) */
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ULONG len32 = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE token_key[] = {
	        {CKA_CLASS, &secret_class, sizeof(secret_class)},
	        {CKA_KEY_TYPE, &aes, sizeof(aes)},
	        {CKA_VALUE_LEN, &len32, sizeof(len32)},
	        {CKA_TOKEN, &yes, sizeof(yes)},
	        {CKA_ENCRYPT, &yes, sizeof(yes)},
	        {CKA_DECRYPT, &yes, sizeof(yes)},
	        {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	};
	CK_ATTRIBUTE session_key[] = {
	        {CKA_CLASS, &secret_class, sizeof(secret_class)},
	        {CKA_KEY_TYPE, &aes, sizeof(aes)},
	        {CKA_VALUE_LEN, &len32, sizeof(len32)},
	        {CKA_TOKEN, &no, sizeof(no)},
	        {CKA_ENCRYPT, &yes, sizeof(yes)},
	        {CKA_DECRYPT, &yes, sizeof(yes)},
	        {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	        {CKA_SENSITIVE, &no, sizeof(no)},
	};
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE, k_ro = CK_INVALID_HANDLE;
	EXPECT("C_GenerateKey(pMechanism NULL)", p11->C_GenerateKey(rw, NULL, session_key, 8, &k),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_GenerateKey(phKey NULL)", p11->C_GenerateKey(rw, &gen, session_key, 8, NULL),
	       CKR_ARGUMENTS_BAD);
	/* A token object in a read-only session: CKR_SESSION_READ_ONLY (5.7). */
	EXPECT_NOTE("C_GenerateKey(CKA_TOKEN=TRUE) in an R/O session",
	            "azkv-pkcs11 creates no token object in any session and says so with "
	            "CKR_ATTRIBUTE_VALUE_INVALID (README); both errors apply, 5.1.8 leaves the "
	            "choice to the module",
	            p11->C_GenerateKey(ro, &gen, token_key, 7, &k), CKR_SESSION_READ_ONLY,
	            CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT);
	/* Session objects may be created in R/O sessions (5.7). */
	EXPECT("C_GenerateKey(session key) in an R/O session",
	       p11->C_GenerateKey(ro, &gen, session_key, 8, &k_ro), CKR_OK);
	EXPECT("C_GenerateKey(session key)", p11->C_GenerateKey(rw, &gen, session_key, 8, &k),
	       CKR_OK);

	/* ---------------------------------------------------------- order of checks (5.1.7) */
	/* The session is checked first: CKR_SESSION_HANDLE_INVALID (5.1.2)
	 * takes precedence over every error of 5.1.6 (a bad mechanism,
	 * template, argument), even when those apply too. */
	CK_MECHANISM m_nokey = {UNKNOWN_MECHANISM, NULL, 0};
	CK_ULONG len_short = 32;
	/* A CK_ULONG given one byte long: CKR_ATTRIBUTE_VALUE_INVALID. */
	CK_ATTRIBUTE bad_tmpl[] = {{CKA_CLASS, &secret_class, 1}, {CKA_VALUE_LEN, &len_short, 1}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, h2 = CK_INVALID_HANDLE;
	EXPECT("C_GenerateKey(bad session, unknown mechanism)",
	       p11->C_GenerateKey(BAD_HANDLE, &m_nokey, session_key, 8, &h),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GenerateKey(bad session, bad template)",
	       p11->C_GenerateKey(BAD_HANDLE, &gen, bad_tmpl, 2, &h), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GenerateKey(bad session, pMechanism NULL)",
	       p11->C_GenerateKey(BAD_HANDLE, NULL, session_key, 8, &h),
	       CKR_SESSION_HANDLE_INVALID);
	CK_OBJECT_CLASS no_class = 0x0ffe;
	CK_ATTRIBUTE unknown_class[] = {{CKA_CLASS, &no_class, sizeof(no_class)}};
	EXPECT("C_CreateObject(bad session, bad template)",
	       p11->C_CreateObject(BAD_HANDLE, bad_tmpl, 2, &h), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CreateObject(bad session, unknown class)",
	       p11->C_CreateObject(BAD_HANDLE, unknown_class, 1, &h), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CreateObject(bad session, template NULL)",
	       p11->C_CreateObject(BAD_HANDLE, NULL, 1, &h), CKR_SESSION_HANDLE_INVALID);
	CK_MECHANISM m_rsa_gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	EXPECT("C_GenerateKeyPair(bad session, unknown mechanism)",
	       p11->C_GenerateKeyPair(BAD_HANDLE, &m_nokey, NULL, 0, NULL, 0, &h, &h2),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GenerateKeyPair(bad session, bad template)",
	       p11->C_GenerateKeyPair(BAD_HANDLE, &m_rsa_gen, bad_tmpl, 2, bad_tmpl, 2, &h, &h2),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CopyObject(bad session, bad template)",
	       p11->C_CopyObject(BAD_HANDLE, k, bad_tmpl, 2, &h), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_SetAttributeValue(bad session, bad template)",
	       p11->C_SetAttributeValue(BAD_HANDLE, k, bad_tmpl, 2), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_FindObjectsInit(bad session, bad template)",
	       p11->C_FindObjectsInit(BAD_HANDLE, bad_tmpl, 2), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_FindObjects(bad session, pulObjectCount NULL)",
	       p11->C_FindObjects(BAD_HANDLE, &h, 1, NULL), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GetAttributeValue(bad session, template NULL)",
	       p11->C_GetAttributeValue(BAD_HANDLE, k, NULL, 1), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GetObjectSize(bad session, pulSize NULL)",
	       p11->C_GetObjectSize(BAD_HANDLE, k, NULL), CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GetSessionInfo(bad session, pInfo NULL)", p11->C_GetSessionInfo(BAD_HANDLE, NULL),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_WrapKey(bad session, pMechanism NULL)",
	       p11->C_WrapKey(BAD_HANDLE, NULL, pub, k, NULL, &n), CKR_SESSION_HANDLE_INVALID);
	unsigned char wrapped_junk[256] = {0};
	EXPECT("C_UnwrapKey(bad session, bad template)",
	       p11->C_UnwrapKey(BAD_HANDLE, &m_nokey, priv, wrapped_junk, sizeof(wrapped_junk),
	                        bad_tmpl, 2, &h),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GenerateRandom(bad session, NULL)", p11->C_GenerateRandom(BAD_HANDLE, NULL, 16),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_SeedRandom(bad session, NULL)", p11->C_SeedRandom(BAD_HANDLE, NULL, 16),
	       CKR_SESSION_HANDLE_INVALID);

	/* ---------------------------------------------------------- encryption (5.8) */
	unsigned char iv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	CK_GCM_PARAMS gcm;
	memset(&gcm, 0, sizeof(gcm));
	gcm.pIv = iv;
	gcm.ulIvLen = sizeof(iv);
	gcm.ulIvBits = 8 * sizeof(iv);
	gcm.ulTagBits = 128;
	CK_MECHANISM m_gcm = {CKM_AES_GCM, &gcm, sizeof(gcm)};
	CK_MECHANISM m_unknown = {UNKNOWN_MECHANISM, NULL, 0};
	unsigned char plain[40], out[512];
	memset(plain, 0x5a, sizeof(plain));
	CK_ULONG out_len = sizeof(out);
	EXPECT("C_Encrypt without C_EncryptInit",
	       p11->C_Encrypt(rw, plain, sizeof(plain), out, &out_len),
	       CKR_OPERATION_NOT_INITIALIZED);
	out_len = sizeof(out);
	EXPECT("C_Decrypt without C_DecryptInit",
	       p11->C_Decrypt(rw, out, sizeof(plain) + 16, plain, &out_len),
	       CKR_OPERATION_NOT_INITIALIZED);
	/* pMechanism NULL: CKR_ARGUMENTS_BAD in 2.40; in 3.0 (5.8) it ends the
	 * active operation, and is CKR_OK (with nothing to end, either answer
	 * is taken: a module may serve 2.40 and 3.0 callers alike). */
	EXPECT_NOTE("C_EncryptInit(pMechanism NULL), nothing active",
	            "PKCS#11 3.0 makes a NULL mechanism end the active operation (CKR_OK); "
	            "SoftHSM 2.6 implements 2.40, where it is CKR_ARGUMENTS_BAD",
	            p11->C_EncryptInit(rw, NULL, k), CKR_OK, CKR_ARGUMENTS_BAD);
	EXPECT("C_EncryptInit(bad key)", p11->C_EncryptInit(rw, &m_gcm, BAD_HANDLE),
	       CKR_KEY_HANDLE_INVALID);
	EXPECT("C_EncryptInit(unknown mechanism)", p11->C_EncryptInit(rw, &m_unknown, k),
	       CKR_MECHANISM_INVALID);
	EXPECT("C_EncryptInit(bad session)", p11->C_EncryptInit(BAD_HANDLE, &m_gcm, k),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_EncryptInit(AES-GCM)", p11->C_EncryptInit(rw, &m_gcm, k), CKR_OK);
	EXPECT("C_EncryptInit while active", p11->C_EncryptInit(rw, &m_gcm, k),
	       CKR_OPERATION_ACTIVE);
	if (v3) {
		/* 3.0, 5.8: C_EncryptInit(NULL) cancels the active operation. */
		EXPECT_NOTE("C_EncryptInit(pMechanism NULL) cancels (3.0)", V3_ONLY,
		            p11->C_EncryptInit(rw, NULL, k), CKR_OK);
		out_len = sizeof(out);
		EXPECT_NOTE("C_Encrypt after the cancel (3.0)", V3_ONLY,
		            p11->C_Encrypt(rw, plain, sizeof(plain), out, &out_len),
		            CKR_OPERATION_NOT_INITIALIZED);
		EXPECT_NOTE("C_EncryptInit after the cancel (3.0)", V3_ONLY,
		            p11->C_EncryptInit(rw, &m_gcm, k), CKR_OK);
	}
	/* 5.2 two-call convention: length query, then too small, then right. */
	out_len = 0;
	EXPECT("C_Encrypt(pEncryptedData NULL) length",
	       p11->C_Encrypt(rw, plain, sizeof(plain), NULL, &out_len), CKR_OK);
	CK_ULONG need = out_len;
	check_true("C_Encrypt length covers data and tag", need >= sizeof(plain) + 16, "length %lu",
	           (unsigned long)need);
	out_len = 1;
	EXPECT("C_Encrypt(1-byte buffer) too small",
	       p11->C_Encrypt(rw, plain, sizeof(plain), out, &out_len), CKR_BUFFER_TOO_SMALL);
	check_true("C_Encrypt too small sets the length", out_len >= sizeof(plain) + 16,
	           "length %lu", (unsigned long)out_len);
	out_len = sizeof(out);
	EXPECT("C_Encrypt after length query and short buffer",
	       p11->C_Encrypt(rw, plain, sizeof(plain), out, &out_len), CKR_OK);
	check_true("C_Encrypt output is data + 16-byte tag", out_len == sizeof(plain) + 16,
	           "length %lu", (unsigned long)out_len);
	CK_ULONG ct_len = out_len;
	EXPECT("C_Encrypt after the operation ended",
	       p11->C_Encrypt(rw, plain, sizeof(plain), out, &out_len),
	       CKR_OPERATION_NOT_INITIALIZED);
	/* 5.8: an error other than CKR_BUFFER_TOO_SMALL ends the operation. */
	EXPECT("C_EncryptInit (again)", p11->C_EncryptInit(rw, &m_gcm, k), CKR_OK);
	EXPECT("C_Encrypt(pulEncryptedDataLen NULL)",
	       p11->C_Encrypt(rw, plain, sizeof(plain), out, NULL), CKR_ARGUMENTS_BAD);
	out_len = sizeof(out);
	EXPECT("C_Encrypt after an error ended the operation",
	       p11->C_Encrypt(rw, plain, sizeof(plain), out + 256, &out_len),
	       CKR_OPERATION_NOT_INITIALIZED);
	/* Decrypt: the same convention in the other direction. */
	unsigned char back[512];
	CK_ULONG back_len = 0;
	EXPECT("C_DecryptInit(AES-GCM)", p11->C_DecryptInit(rw, &m_gcm, k), CKR_OK);
	EXPECT("C_DecryptInit while active", p11->C_DecryptInit(rw, &m_gcm, k),
	       CKR_OPERATION_ACTIVE);
	EXPECT("C_Decrypt(pData NULL) length", p11->C_Decrypt(rw, out, ct_len, NULL, &back_len),
	       CKR_OK);
	check_true("C_Decrypt length covers the data", back_len >= sizeof(plain), "length %lu",
	           (unsigned long)back_len);
	back_len = sizeof(back);
	EXPECT("C_Decrypt", p11->C_Decrypt(rw, out, ct_len, back, &back_len), CKR_OK);
	check_true("C_Decrypt gives the plaintext back",
	           back_len == sizeof(plain) && memcmp(back, plain, sizeof(plain)) == 0,
	           "length %lu", (unsigned long)back_len);

	/* ---------------------------------------------------------- wrapping (5.14) */
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM m_oaep = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_ULONG wlen = sizeof(out);
	EXPECT("C_WrapKey(pMechanism NULL)", p11->C_WrapKey(rw, NULL, pub, k, out, &wlen),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_WrapKey(pulWrappedKeyLen NULL)", p11->C_WrapKey(rw, &m_oaep, pub, k, out, NULL),
	       CKR_ARGUMENTS_BAD);
	wlen = sizeof(out);
	EXPECT("C_WrapKey(bad wrapping key)",
	       p11->C_WrapKey(rw, &m_oaep, BAD_HANDLE, k, out, &wlen),
	       CKR_WRAPPING_KEY_HANDLE_INVALID);
	wlen = sizeof(out);
	EXPECT("C_WrapKey(bad key)", p11->C_WrapKey(rw, &m_oaep, pub, BAD_HANDLE, out, &wlen),
	       CKR_KEY_HANDLE_INVALID);
	wlen = sizeof(out);
	EXPECT("C_WrapKey(with the private key)", p11->C_WrapKey(rw, &m_oaep, priv, k, out, &wlen),
	       CKR_WRAPPING_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED,
	       CKR_KEY_TYPE_INCONSISTENT);
	wlen = 0;
	EXPECT("C_WrapKey(pWrappedKey NULL) length",
	       p11->C_WrapKey(rw, &m_oaep, pub, k, NULL, &wlen), CKR_OK);
	check_true("C_WrapKey length is the modulus size", wlen == 256, "length %lu",
	           (unsigned long)wlen);
	wlen = 16;
	EXPECT("C_WrapKey(16-byte buffer) too small",
	       p11->C_WrapKey(rw, &m_oaep, pub, k, out, &wlen), CKR_BUFFER_TOO_SMALL);
	check_true("C_WrapKey too small sets the length", wlen == 256, "length %lu",
	           (unsigned long)wlen);
	wlen = sizeof(out);
	EXPECT("C_WrapKey", p11->C_WrapKey(rw, &m_oaep, pub, k, out, &wlen), CKR_OK);

	/* ---------------------------------------------------------- signing (5.11, 5.12) */
	CK_MECHANISM m_sign = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_ULONG sig_len = sizeof(out);
	EXPECT("C_Sign without C_SignInit", p11->C_Sign(rw, plain, sizeof(plain), out, &sig_len),
	       CKR_OPERATION_NOT_INITIALIZED);
	EXPECT("C_SignInit(bad key)", p11->C_SignInit(rw, &m_sign, BAD_HANDLE),
	       CKR_KEY_HANDLE_INVALID);
	EXPECT_NOTE("C_SignInit(pMechanism NULL), nothing active",
	            "PKCS#11 3.0 makes a NULL mechanism end the active operation (CKR_OK); "
	            "SoftHSM 2.6 implements 2.40, where it is CKR_ARGUMENTS_BAD",
	            p11->C_SignInit(rw, NULL, priv), CKR_OK, CKR_ARGUMENTS_BAD);
	EXPECT_NOTE("C_SignInit(with the public key)",
	            "both codes apply to a public key (wrong class; CKA_SIGN absent), and 5.1.8 "
	            "leaves the choice to the module",
	            p11->C_SignInit(rw, &m_sign, pub), CKR_KEY_TYPE_INCONSISTENT,
	            CKR_KEY_FUNCTION_NOT_PERMITTED);
	EXPECT("C_SignInit(SHA256-RSA-PKCS)", p11->C_SignInit(rw, &m_sign, priv), CKR_OK);
	EXPECT("C_SignInit while active", p11->C_SignInit(rw, &m_sign, priv), CKR_OPERATION_ACTIVE);
	sig_len = 0;
	EXPECT("C_Sign(pSignature NULL) length",
	       p11->C_Sign(rw, plain, sizeof(plain), NULL, &sig_len), CKR_OK);
	check_true("C_Sign length is the modulus size", sig_len == 256, "length %lu",
	           (unsigned long)sig_len);
	sig_len = 16;
	EXPECT("C_Sign(16-byte buffer) too small",
	       p11->C_Sign(rw, plain, sizeof(plain), out, &sig_len), CKR_BUFFER_TOO_SMALL);
	check_true("C_Sign too small sets the length", sig_len == 256, "length %lu",
	           (unsigned long)sig_len);
	sig_len = sizeof(out);
	EXPECT("C_Sign", p11->C_Sign(rw, plain, sizeof(plain), out, &sig_len), CKR_OK);
	EXPECT("C_Sign after the operation ended",
	       p11->C_Sign(rw, plain, sizeof(plain), out + 256, &sig_len),
	       CKR_OPERATION_NOT_INITIALIZED);
	EXPECT("C_Verify without C_VerifyInit", p11->C_Verify(rw, plain, sizeof(plain), out, 256),
	       CKR_OPERATION_NOT_INITIALIZED);
	EXPECT("C_VerifyInit", p11->C_VerifyInit(rw, &m_sign, pub), CKR_OK);
	EXPECT("C_Verify", p11->C_Verify(rw, plain, sizeof(plain), out, 256), CKR_OK);
	out[10] ^= 1;
	EXPECT("C_VerifyInit (again)", p11->C_VerifyInit(rw, &m_sign, pub), CKR_OK);
	EXPECT("C_Verify(altered signature)", p11->C_Verify(rw, plain, sizeof(plain), out, 256),
	       CKR_SIGNATURE_INVALID);
	EXPECT("C_VerifyInit (short signature)", p11->C_VerifyInit(rw, &m_sign, pub), CKR_OK);
	EXPECT("C_Verify(signature 1 byte short)",
	       p11->C_Verify(rw, plain, sizeof(plain), out, 255), CKR_SIGNATURE_LEN_RANGE,
	       CKR_SIGNATURE_INVALID);

	/* ---------------------------------------------------------- random (5.15) */
	EXPECT("C_GenerateRandom(NULL, 16)", p11->C_GenerateRandom(rw, NULL, 16),
	       CKR_ARGUMENTS_BAD);
	EXPECT("C_GenerateRandom(bad session)", p11->C_GenerateRandom(BAD_HANDLE, out, 16),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_GenerateRandom(0 bytes)", p11->C_GenerateRandom(rw, out, 0), CKR_OK);
	/* 5.15 C_SeedRandom: a NULL seed with a length is bad arguments; a
	 * seed is mixed in, or refused by a token whose generator takes none. */
	EXPECT("C_SeedRandom(NULL, 16)", p11->C_SeedRandom(rw, NULL, 16), CKR_ARGUMENTS_BAD);
	EXPECT("C_SeedRandom(16 bytes)", p11->C_SeedRandom(rw, out, 16), CKR_OK,
	       CKR_RANDOM_SEED_NOT_SUPPORTED);

	/* ---------------------------------------------------------- closing sessions (5.6) */
	/* A session object lives as long as the session that made it. */
	EXPECT("C_CloseSession(R/O)", p11->C_CloseSession(ro), CKR_OK);
	CK_ATTRIBUTE c_attr = {CKA_CLASS, &cls, sizeof(cls)};
	EXPECT("session key of a closed session", p11->C_GetAttributeValue(rw, k_ro, &c_attr, 1),
	       CKR_OBJECT_HANDLE_INVALID);
	EXPECT("C_GetSessionInfo(closed session)", p11->C_GetSessionInfo(ro, &sinfo),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CloseSession(closed session)", p11->C_CloseSession(ro),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_CloseAllSessions", p11->C_CloseAllSessions(slot), CKR_OK);
	EXPECT("C_GetSessionInfo after C_CloseAllSessions", p11->C_GetSessionInfo(rw, &sinfo),
	       CKR_SESSION_HANDLE_INVALID);

	/* ---------------------------------------------------------- 3.0 interfaces (5.4) */
	get_interface_list_fn get_interfaces =
	        (get_interface_list_fn)dlsym(lib, "C_GetInterfaceList");
	if (get_interfaces != NULL) {
		/* CK_INTERFACE is three pointer-sized members. */
		void *list[3 * 8];
		EXPECT_NOTE("C_GetInterfaceList(count NULL)", V3_ONLY, get_interfaces(NULL, NULL),
		            CKR_ARGUMENTS_BAD);
		n = 0;
		EXPECT_NOTE("C_GetInterfaceList(list NULL) length", V3_ONLY,
		            get_interfaces(NULL, &n), CKR_OK);
		CK_ULONG nif = n;
		check_true_note("C_GetInterfaceList length >= 1", V3_ONLY, nif >= 1 && nif <= 8,
		                "count %lu", (unsigned long)nif);
		n = 0;
		EXPECT_NOTE("C_GetInterfaceList(count 0) too small", V3_ONLY,
		            get_interfaces(list, &n), CKR_BUFFER_TOO_SMALL);
		check_true_note("C_GetInterfaceList too small sets count", V3_ONLY, n == nif,
		                "count %lu", (unsigned long)n);
	} else {
		printf("# C_GetInterfaceList is not exported (a PKCS#11 2.40 module)\n");
	}

	/* ---------------------------------------------------------- after C_Finalize */
	CK_SESSION_HANDLE last = CK_INVALID_HANDLE;
	EXPECT("C_OpenSession (before C_Finalize)",
	       p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &last), CKR_OK);
	/* C_CloseAllSessions logged the token out; SoftHSM's secret keys are
	 * private objects by default. */
	EXPECT("C_Login(CKU_USER) (before C_Finalize)", p11->C_Login(last, CKU_USER, pin, pin_len),
	       CKR_OK);
	EXPECT("C_GenerateKey (before C_Finalize)",
	       p11->C_GenerateKey(last, &gen, session_key, 8, &k), CKR_OK);
	EXPECT("C_EncryptInit (left active at C_Finalize)", p11->C_EncryptInit(last, &m_gcm, k),
	       CKR_OK);
	EXPECT("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	out_len = sizeof(out);
	EXPECT("after-finalize C_GetSlotList", p11->C_GetSlotList(CK_TRUE, NULL, &n),
	       CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("after-finalize C_OpenSession",
	       p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s),
	       CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("after-finalize C_Encrypt",
	       p11->C_Encrypt(last, plain, sizeof(plain), out, &out_len),
	       CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("after-finalize C_GetAttributeValue",
	       p11->C_GetAttributeValue(last, pub, &c_attr, 1), CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("after-finalize C_CloseSession", p11->C_CloseSession(last),
	       CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("after-finalize C_Finalize", p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	EXPECT("C_Initialize after C_Finalize", p11->C_Initialize(NULL), CKR_OK);
	EXPECT("session of the previous initialization", p11->C_GetSessionInfo(last, &sinfo),
	       CKR_SESSION_HANDLE_INVALID);
	EXPECT("C_Finalize (last)", p11->C_Finalize(NULL), CKR_OK);

	printf("# %d check(s) failed\n", failures);
	return failures > 100 ? 100 : failures;
}
