/* The PKCS#11 side of tests/integration/hostile.sh: one call sequence
 * against the module (AZKV_MODULE, configured by AZKV_PKCS11_CONFIG with
 * one vault, slot 0), printing what each call returned, so that the
 * script can say which CKR_* a hostile vault's answer becomes.
 *
 *   p11_hostile find          C_FindObjectsInit over every object, then
 *                             the objects' labels
 *   p11_hostile sign LABEL    C_SignInit + C_Sign with the private key LABEL
 *   p11_hostile usage LABEL   CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP of that key
 *
 * Output lines: "C_FindObjectsInit CKR_OK", "object LABEL CLASS", ...
 * Exit status: 0 when the module answered every call (whatever it
 * answered), 2 on a usage or loading error. A crash is a signal. */
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_load.h"
#include "rv.h"

static CK_FUNCTION_LIST *p11;

static CK_RV report(const char *fn, CK_RV rv)
{
	printf("%s %s\n", fn, azkv_rv_name(rv));
	fflush(stdout);
	return rv;
}

/* The private key labelled label, or CK_INVALID_HANDLE (reported). */
static CK_OBJECT_HANDLE find_private(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	if (report("C_FindObjectsInit", p11->C_FindObjectsInit(s, t, 2)) != CKR_OK)
		return CK_INVALID_HANDLE;
	p11->C_FindObjects(s, &h, 1, &n);
	p11->C_FindObjectsFinal(s);
	if (n == 0) {
		printf("no private key %s\n", label);
		return CK_INVALID_HANDLE;
	}
	return h;
}

static void find_all(CK_SESSION_HANDLE s)
{
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n = 0;
	if (report("C_FindObjectsInit", p11->C_FindObjectsInit(s, NULL, 0)) != CKR_OK)
		return;
	p11->C_FindObjects(s, h, 64, &n);
	p11->C_FindObjectsFinal(s);
	printf("objects %lu\n", (unsigned long)n);
	for (CK_ULONG i = 0; i < n; i++) {
		char label[256] = "";
		CK_OBJECT_CLASS cls = 0;
		CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label) - 1},
		                    {CKA_CLASS, &cls, sizeof(cls)}};
		if (p11->C_GetAttributeValue(s, h[i], t, 2) == CKR_OK)
			printf("object %.*s %lu\n", (int)t[0].ulValueLen, label,
			       (unsigned long)cls);
	}
}

static void sign(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_HANDLE key = find_private(s, label);
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}};
	unsigned char data[] = "hostile", sig[1024];
	CK_ULONG len = sizeof(sig);
	if (key == CK_INVALID_HANDLE || p11->C_GetAttributeValue(s, key, t, 1) != CKR_OK)
		return;
	CK_MECHANISM m = {kt == CKK_EC ? CKM_ECDSA_SHA256 : CKM_SHA256_RSA_PKCS, NULL, 0};
	if (report("C_SignInit", p11->C_SignInit(s, &m, key)) != CKR_OK)
		return;
	report("C_Sign", p11->C_Sign(s, data, sizeof(data) - 1, sig, &len));
}

static void usage_of(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_HANDLE key = find_private(s, label);
	CK_BBOOL sig = 0, dec = 0, unw = 0;
	CK_ATTRIBUTE t[] = {{CKA_SIGN, &sig, 1}, {CKA_DECRYPT, &dec, 1}, {CKA_UNWRAP, &unw, 1}};
	if (key == CK_INVALID_HANDLE ||
	    report("C_GetAttributeValue", p11->C_GetAttributeValue(s, key, t, 3)) != CKR_OK)
		return;
	printf("CKA_SIGN %d CKA_DECRYPT %d CKA_UNWRAP %d\n", sig, dec, unw);
}

int main(int argc, char **argv)
{
	CK_SESSION_HANDLE s;
	if (argc < 2 || (strcmp(argv[1], "find") != 0 && argc < 3)) {
		fprintf(stderr, "usage: p11_hostile find | sign LABEL | usage LABEL\n");
		return 2;
	}
	if ((p11 = p11_load("p11_hostile")) == NULL)
		return 2;
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	if (report("C_Initialize", p11->C_Initialize(&args)) != CKR_OK)
		return 0;
	if (report("C_OpenSession", p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s)) ==
	    CKR_OK) {
		if (strcmp(argv[1], "find") == 0)
			find_all(s);
		else if (strcmp(argv[1], "sign") == 0)
			sign(s, argv[2]);
		else
			usage_of(s, argv[2]);
		p11->C_CloseSession(s);
	}
	p11->C_Finalize(NULL);
	p11_unload();
	return 0;
}
