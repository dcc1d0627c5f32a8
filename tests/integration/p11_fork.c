/* Fork safety: a child inherits an initialised module but not its
 * connections or locks, so every call answers CKR_CRYPTOKI_NOT_INITIALIZED
 * until the child calls C_Initialize; then it works on its own, and the
 * parent keeps working. Run by run.sh with AZKV_MODULE and
 * AZKV_PKCS11_CONFIG set (vault 'demo' with the RSA key 'cmk'). */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static CK_FUNCTION_LIST *p11;

/* Finds 'cmk' and unwraps a key wrapped with it: the network path. */
static CK_RV use_vault(void)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY, sec = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ULONG len = 32, n = 0;
	CK_OBJECT_HANDLE pub, priv, dek, back;
	unsigned char wrapped[512];
	CK_ULONG wlen = sizeof(wrapped);
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ATTRIBUTE find_pub[] = {{CKA_CLASS, &pub_cls, sizeof(pub_cls)}, {CKA_LABEL, "cmk", 3}};
	CK_ATTRIBUTE find_priv[] = {{CKA_CLASS, &priv_cls, sizeof(priv_cls)},
	                            {CKA_LABEL, "cmk", 3}};
	CK_ATTRIBUTE gen_tmpl[] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
	CK_ATTRIBUTE unwrap_tmpl[] = {{CKA_CLASS, &sec, sizeof(sec)},
	                              {CKA_KEY_TYPE, &aes, sizeof(aes)}};
	CK_RV rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rv;
	if ((rv = p11->C_FindObjectsInit(s, find_pub, 2)) != CKR_OK ||
	    (rv = p11->C_FindObjects(s, &pub, 1, &n)) != CKR_OK ||
	    (rv = p11->C_FindObjectsFinal(s)) != CKR_OK ||
	    (rv = p11->C_FindObjectsInit(s, find_priv, 2)) != CKR_OK ||
	    (rv = p11->C_FindObjects(s, &priv, 1, &n)) != CKR_OK ||
	    (rv = p11->C_FindObjectsFinal(s)) != CKR_OK ||
	    (rv = p11->C_GenerateKey(s, &gen, gen_tmpl, 1, &dek)) != CKR_OK ||
	    (rv = p11->C_WrapKey(s, &m, pub, dek, wrapped, &wlen)) != CKR_OK)
		return rv;
	rv = p11->C_UnwrapKey(s, &m, priv, wrapped, wlen, unwrap_tmpl, 2, &back);
	p11->C_CloseSession(s);
	return rv;
}

int main(void)
{
	const char *path = getenv("AZKV_MODULE");
	void *dl = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	CK_C_GetFunctionList get = dl ? (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList") : NULL;
	if (get == NULL || get(&p11) != CKR_OK) {
		fprintf(stderr, "p11_fork: cannot load AZKV_MODULE\n");
		return 2;
	}
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	if (p11->C_Initialize(&args) != CKR_OK || use_vault() != CKR_OK) {
		printf("not ok - the parent uses the vault before fork\n");
		return 1;
	}
	printf("ok - the parent uses the vault before fork\n");
	fflush(stdout);

	pid_t pid = fork();
	if (pid == 0) {
		CK_ULONG n = 0;
		int bad = 0;
		CK_RV rv = p11->C_GetSlotList(CK_TRUE, NULL, &n);
		bad |= rv != CKR_CRYPTOKI_NOT_INITIALIZED;
		printf("%s - child: calls before C_Initialize: 0x%lx\n", bad ? "not ok" : "ok",
		       (unsigned long)rv);
		rv = p11->C_Initialize(&args);
		bad |= rv != CKR_OK;
		printf("%s - child: C_Initialize: 0x%lx\n", rv == CKR_OK ? "ok" : "not ok",
		       (unsigned long)rv);
		rv = use_vault();
		bad |= rv != CKR_OK;
		printf("%s - child: unwraps through the vault: 0x%lx\n",
		       rv == CKR_OK ? "ok" : "not ok", (unsigned long)rv);
		p11->C_Finalize(NULL);
		fflush(stdout);
		_exit(bad);
	}
	int status = 1;
	waitpid(pid, &status, 0);
	int child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	CK_RV rv = use_vault();
	printf("%s - the parent still uses the vault after the child: 0x%lx\n",
	       rv == CKR_OK ? "ok" : "not ok", (unsigned long)rv);
	p11->C_Finalize(NULL);
	return child_ok && rv == CKR_OK ? 0 : 1;
}
