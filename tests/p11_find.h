/* What the C test programs that drive the module (tests/bench,
 * tests/soak, tests/integration) share: finding one object. */
#ifndef AZKV_TEST_P11_FIND_H
#define AZKV_TEST_P11_FIND_H

#include <p11-kit/pkcs11.h>
#include <string.h>

/* The one object of class cls labelled label in session s, through f;
 * CK_INVALID_HANDLE when there is none, or the search
 * fails. */
static inline CK_OBJECT_HANDLE p11_find_one(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                                            CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;

	if (f->C_FindObjectsInit(s, t, 2) == CKR_OK) {
		f->C_FindObjects(s, &h, 1, &n);
		f->C_FindObjectsFinal(s);
	}
	return n == 1 ? h : CK_INVALID_HANDLE;
}

#endif
