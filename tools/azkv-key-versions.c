/* azkv-key-versions: the versions of a vault key, through the module's
 * "Vendor AZKV CMK" interface. A sample of that interface for third
 * parties: it needs only a PKCS#11 header and <azkv/azkv-pkcs11.h>
 *   cc $(pkg-config --cflags azkv-pkcs11) -o azkv-key-versions \
 *      azkv-key-versions.c -ldl
 *
 *   azkv-key-versions MODULE.so [--slot N] [--refresh] KEY_NAME
 *
 * --refresh calls AZKV_RefreshToken first, so a rotation made since the
 * module read the vault shows. Exit status: 0 listed, 1 an error, 2 usage,
 * 3 the module does not offer the interface. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, with -std=c11 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <azkv/azkv-pkcs11.h>

static CK_FUNCTION_LIST *p11;

static int fail(const char *what, CK_RV rv)
{
	fprintf(stderr, "azkv-key-versions: %s failed: CKR 0x%lx\n", what, (unsigned long)rv);
	return 1;
}

static void print_time(const char *name, CK_ULONG t)
{
	char buf[32] = "-";
	time_t tt = (time_t)t;
	struct tm tm;
	if (t != 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("  %-10s %s\n", name, buf);
}

/* A string attribute of the object, or "?". */
static void print_string(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const char *name,
                         CK_ATTRIBUTE_TYPE type)
{
	char buf[1024];
	CK_ATTRIBUTE t = {type, buf, sizeof(buf) - 1};
	if (p11->C_GetAttributeValue(s, h, &t, 1) != CKR_OK)
		snprintf(buf, sizeof(buf), "?");
	else
		buf[t.ulValueLen] = '\0';
	printf("  %-10s %s\n", name, buf);
}

static void print_ops(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
	static const struct {
		CK_ULONG bit;
		const char *name;
	} ops[] = {{AZKV_KEY_OP_ENCRYPT, "encrypt"},  {AZKV_KEY_OP_DECRYPT, "decrypt"},
	           {AZKV_KEY_OP_SIGN, "sign"},        {AZKV_KEY_OP_VERIFY, "verify"},
	           {AZKV_KEY_OP_WRAP_KEY, "wrapKey"}, {AZKV_KEY_OP_UNWRAP_KEY, "unwrapKey"},
	           {AZKV_KEY_OP_IMPORT, "import"},    {AZKV_KEY_OP_EXPORT, "export"}};
	CK_ULONG mask = 0;
	CK_ATTRIBUTE t = {CKA_AZKV_KEY_OPS, &mask, sizeof(mask)};
	printf("  %-10s", "key_ops");
	if (p11->C_GetAttributeValue(s, h, &t, 1) != CKR_OK) {
		printf(" ?\n");
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (mask & ops[i].bit)
			printf(" %s", ops[i].name);
	printf("\n");
}

static int list_versions(AZKV_CMK_FUNCTION_LIST *cmk, CK_SESSION_HANDLE s, const char *name)
{
	CK_ULONG n = 0;
	CK_RV rv = cmk->AZKV_ListKeyVersions(s, (const CK_UTF8CHAR *)name, strlen(name), NULL, &n);
	if (rv != CKR_OK)
		return fail("AZKV_ListKeyVersions", rv);
	if (n == 0) {
		fprintf(stderr, "azkv-key-versions: no key '%s' on this token\n", name);
		return 1;
	}
	AZKV_KEY_VERSION_INFO *v = calloc(n, sizeof(*v));
	if (v == NULL)
		return fail("calloc", CKR_HOST_MEMORY);
	/* The count may have grown since (another thread refreshed). */
	while ((rv = cmk->AZKV_ListKeyVersions(s, (const CK_UTF8CHAR *)name, strlen(name), v,
	                                       &n)) == CKR_BUFFER_TOO_SMALL) {
		AZKV_KEY_VERSION_INFO *grown = realloc(v, n * sizeof(*v));
		if (grown == NULL)
			break;
		v = grown;
	}
	if (rv != CKR_OK) {
		free(v);
		return fail("AZKV_ListKeyVersions", rv);
	}
	printf("%s: %lu version(s), newest first\n", name, (unsigned long)n);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_OBJECT_HANDLE h = v[i].private_key ? v[i].private_key : v[i].public_key;
		printf("%s%s\n", v[i].version, v[i].current ? " (current)" : "");
		printf("  %-10s %s\n", "enabled", v[i].enabled ? "yes" : "no");
		print_time("created", v[i].created);
		print_time("not before", v[i].not_before);
		print_time("expires", v[i].expires);
		printf("  %-10s public %lu, private %lu\n", "objects",
		       (unsigned long)v[i].public_key, (unsigned long)v[i].private_key);
		print_string(s, h, "key id", CKA_AZKV_KEY_ID);
		print_string(s, h, "vault", CKA_AZKV_VAULT_URI);
		print_ops(s, h);
	}
	free(v);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: azkv-key-versions MODULE.so [--slot N] [--refresh] KEY_NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *module = NULL, *name = NULL;
	CK_SLOT_ID slot = 0;
	int refresh = 0, status = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--slot") && i + 1 < argc) {
			/* Digits only: strtoul alone reads "x" as slot 0. (The
			 * other tools share whole_number.h; this sample needs
			 * nothing but the two headers.) */
			char *end;
			const char *v = argv[++i];
			slot = strtoul(v, &end, 10);
			if (v[0] < '0' || v[0] > '9' || *end != '\0') {
				fprintf(stderr,
				        "azkv-key-versions: --slot \"%.100s\" is not a slot "
				        "number (0, 1, ...)\n",
				        v);
				return 2;
			}
		} else if (!strcmp(argv[i], "--refresh"))
			refresh = 1;
		else if (argv[i][0] == '-')
			return usage();
		else if (module == NULL)
			module = argv[i];
		else if (name == NULL)
			name = argv[i];
		else
			return usage();
	}
	if (module == NULL || name == NULL)
		return usage();

	void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "azkv-key-versions: %s\n", dlerror());
		return 1;
	}
	CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	CK_C_GetInterface get_iface = (CK_C_GetInterface)dlsym(dl, "C_GetInterface");
	CK_INTERFACE *iface = NULL;
	if (get_list == NULL || get_list(&p11) != CKR_OK) {
		fprintf(stderr, "azkv-key-versions: %s is not a PKCS#11 module\n", module);
		goto out;
	}
	/* A 2.40 module has no C_GetInterface; another 3.0 module has no
	 * interface of this name. */
	if (get_iface == NULL ||
	    get_iface((CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, NULL, &iface, 0) != CKR_OK) {
		fprintf(stderr,
		        "azkv-key-versions: %s does not offer the \"%s\" interface "
		        "(it is not azkv-pkcs11)\n",
		        module, AZKV_CMK_INTERFACE_NAME);
		status = 3;
		goto out;
	}
	AZKV_CMK_FUNCTION_LIST *cmk = iface->pFunctionList;
	if (cmk->version.major != AZKV_CMK_INTERFACE_VERSION_MAJOR) {
		fprintf(stderr, "azkv-key-versions: interface version %u.%u, expected %d.x\n",
		        cmk->version.major, cmk->version.minor, AZKV_CMK_INTERFACE_VERSION_MAJOR);
		status = 3;
		goto out;
	}

	CK_RV rv = p11->C_Initialize(NULL);
	if (rv != CKR_OK) {
		status = fail("C_Initialize", rv);
		goto out;
	}
	CK_SESSION_HANDLE s;
	if ((rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		status = fail("C_OpenSession", rv);
	} else if (refresh && (rv = cmk->AZKV_RefreshToken(slot)) != CKR_OK) {
		status = fail("AZKV_RefreshToken", rv);
	} else {
		status = list_versions(cmk, s, name);
	}
	p11->C_Finalize(NULL);
out:
	dlclose(dl);
	return status;
}
