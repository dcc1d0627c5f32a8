/* Many threads meet an expired token: p11_threads KEY THREADS SECONDS
 * unwraps once with vault key KEY (the first token), waits SECONDS (the
 * emulator's short token lifetime runs out), then THREADS threads, each
 * with its own session, unwrap at the same moment. Every unwrap must
 * succeed; the caller counts the token requests the emulator saw (one
 * refresh for all of them). Run by credentials.sh with AZKV_MODULE and
 * AZKV_PKCS11_CONFIG set. */
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p11_load.h"

static CK_FUNCTION_LIST *p11;
static CK_OBJECT_HANDLE priv;
static unsigned char wrapped[1024];
static CK_ULONG wrapped_len = sizeof(wrapped);
static pthread_barrier_t start;
static CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
static CK_MECHANISM oaep_mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};

static CK_RV unwrap(CK_SESSION_HANDLE s)
{
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &sec, sizeof(sec)}, {CKA_KEY_TYPE, &aes, sizeof(aes)}};
	CK_OBJECT_HANDLE key;

	return p11->C_UnwrapKey(s, &oaep_mech, priv, wrapped, wrapped_len, tmpl, 2, &key);
}

static void *worker(void *arg)
{
	CK_RV *rv = arg;
	CK_SESSION_HANDLE s;

	*rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
	pthread_barrier_wait(&start);
	if (*rv == CKR_OK) {
		*rv = unwrap(s);
		p11->C_CloseSession(s);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE gen_tmpl[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
	                           {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE dek;
	pthread_t *threads;
	CK_RV *rvs, rv;
	int n, failed = 0;

	if (argc != 4 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: p11_threads KEY THREADS SECONDS\n");
		return 2;
	}
	if ((p11 = p11_load("p11_threads")) == NULL)
		return 2;
	if ((rv = p11->C_Initialize(&args)) != CKR_OK ||
	    (rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		printf("not ok - C_Initialize / C_OpenSession: 0x%lx\n", (unsigned long)rv);
		return 1;
	}
	priv = p11_find_one(p11, s, CKO_PRIVATE_KEY, argv[1]);
	if (priv == CK_INVALID_HANDLE) {
		printf("not ok - no private key %s\n", argv[1]);
		return 1;
	}
	if ((rv = p11->C_GenerateKey(s, &gen, gen_tmpl, 2, &dek)) != CKR_OK ||
	    (rv = p11->C_WrapKey(s, &oaep_mech, p11_find_one(p11, s, CKO_PUBLIC_KEY, argv[1]), dek,
	                         wrapped, &wrapped_len)) != CKR_OK ||
	    (rv = unwrap(s)) != CKR_OK) {
		printf("not ok - the first unwrap with %s: 0x%lx\n", argv[1], (unsigned long)rv);
		return 1;
	}
	printf("ok - the first unwrap (the first token)\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[3]));

	threads = calloc((size_t)n, sizeof(*threads));
	rvs = calloc((size_t)n, sizeof(*rvs));
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, worker, &rvs[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		if (rvs[i] != CKR_OK) {
			printf("not ok - thread %d: C_UnwrapKey 0x%lx\n", i, (unsigned long)rvs[i]);
			failed = 1;
		}
	}
	if (!failed)
		printf("ok - %d threads unwrapped after the token expired\n", n);
	pthread_barrier_destroy(&start);
	free(threads);
	free(rvs);
	p11->C_CloseSession(s);
	p11->C_Finalize(NULL);
	return failed;
}
