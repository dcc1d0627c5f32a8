/* What the C test programs that drive the module (tests/integration,
 * tests/soak, tests/bench) share: loading the module named by AZKV_MODULE
 * and finding one object. Linked from tests/lib/libazkvtest.la. */
#ifndef AZKV_TEST_P11_LOAD_H
#define AZKV_TEST_P11_LOAD_H

#include <p11-kit/pkcs11.h>

#include "azkv/azkv-pkcs11.h"

/* dlopen()s AZKV_MODULE and returns its C_GetFunctionList's list; NULL,
 * after a line on stderr that starts with prog, when the variable is
 * unset, the module does not load or has no function list. */
CK_FUNCTION_LIST *p11_load(const char *prog);

/* A symbol of the module p11_load loaded (C_GetInterface, ...); NULL if
 * it has none or nothing is loaded. */
void *p11_load_symbol(const char *name);

/* The "Vendor AZKV CMK" function list of the loaded module; NULL if it is
 * not offered. */
AZKV_CMK_FUNCTION_LIST *p11_load_cmk(void);

/* dlclose()s the module p11_load loaded. */
void p11_unload(void);

/* The one object of class cls labelled label in session s, through f:
 * CKR_OK with *h set, CKR_OBJECT_HANDLE_INVALID when there is none, or
 * what C_FindObjectsInit, C_FindObjects or C_FindObjectsFinal answered. */
CK_RV p11_find(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
               CK_OBJECT_HANDLE *h);

/* The same, or CK_INVALID_HANDLE for anything but CKR_OK. */
CK_OBJECT_HANDLE p11_find_one(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                              const char *label);

/* The templates of a known AES key's round trip: create makes a session
 * key of the value (extractable, so that it wraps), unwrap makes the
 * unwrapped copy readable (not sensitive) so its value can be compared.
 * The templates point into the struct: fill it where it stays. */
typedef struct {
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE type;
	CK_BBOOL yes, no;
	CK_ATTRIBUTE create[4], unwrap[4];
} p11_known_aes;
void p11_known_aes_init(p11_known_aes *k, const unsigned char *value, CK_ULONG len);

#endif
