/* tests/lib/p11_load.h: loading the module under test and finding one
 * object, for every C test program that drives it. */
#include "p11_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The module p11_load loaded: one per test program. */
static void *module;

CK_FUNCTION_LIST *p11_load(const char *prog)
{
	const char *path = getenv("AZKV_MODULE");
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST *list = NULL;

	if (path == NULL) {
		fprintf(stderr, "%s: cannot load AZKV_MODULE: it is not set\n", prog);
		return NULL;
	}
	module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (module == NULL) {
		fprintf(stderr, "%s: cannot load AZKV_MODULE=%s: %s\n", prog, path, dlerror());
		return NULL;
	}
	get = (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
	if (get == NULL || get(&list) != CKR_OK || list == NULL) {
		fprintf(stderr, "%s: AZKV_MODULE=%s gives no C_GetFunctionList list\n", prog, path);
		return NULL;
	}
	return list;
}

void *p11_load_symbol(const char *name)
{
	return module ? dlsym(module, name) : NULL;
}

AZKV_CMK_FUNCTION_LIST *p11_load_cmk(void)
{
	CK_C_GetInterface get = (CK_C_GetInterface)p11_load_symbol("C_GetInterface");
	CK_INTERFACE *iface = NULL;

	if (get == NULL || get((CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, NULL, &iface, 0) != CKR_OK)
		return NULL;
	return iface->pFunctionList;
}

void p11_unload(void)
{
	if (module)
		dlclose(module);
	module = NULL;
}

CK_RV p11_find(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
               CK_OBJECT_HANDLE *h)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_ULONG n = 0;
	CK_RV rv = f->C_FindObjectsInit(s, t, 2), fin;

	if (rv != CKR_OK)
		return rv;
	rv = f->C_FindObjects(s, h, 1, &n);
	fin = f->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		rv = fin;
	return rv == CKR_OK && n != 1 ? CKR_OBJECT_HANDLE_INVALID : rv;
}

CK_OBJECT_HANDLE p11_find_one(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                              const char *label)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	return p11_find(f, s, cls, label, &h) == CKR_OK ? h : CK_INVALID_HANDLE;
}

void p11_known_aes_init(p11_known_aes *k, const unsigned char *value, CK_ULONG len)
{
	k->cls = CKO_SECRET_KEY;
	k->type = CKK_AES;
	k->yes = CK_TRUE;
	k->no = CK_FALSE;
	k->create[0] = (CK_ATTRIBUTE){CKA_CLASS, &k->cls, sizeof(k->cls)};
	k->create[1] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &k->type, sizeof(k->type)};
	k->create[2] = (CK_ATTRIBUTE){CKA_VALUE, (void *)value, len};
	k->create[3] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &k->yes, sizeof(k->yes)};
	k->unwrap[0] = k->create[0];
	k->unwrap[1] = k->create[1];
	k->unwrap[2] = (CK_ATTRIBUTE){CKA_SENSITIVE, &k->no, sizeof(k->no)};
	k->unwrap[3] = k->create[3];
}
