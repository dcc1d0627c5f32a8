/* CKF_LIBRARY_CANT_CREATE_OS_THREADS: p11_nothreads KEY flag|noflag
 *
 * Initialises the module (AZKV_MODULE, config AZKV_PKCS11_CONFIG) with
 * CKF_OS_LOCKING_OK, plus CKF_LIBRARY_CANT_CREATE_OS_THREADS for "flag",
 * finds the vault RSA key KEY, wraps a known AES key with its public key,
 * unwraps it through the vault (the value must come back) and signs
 * through the vault, counting the threads created in the process meanwhile.
 * "flag": every operation succeeds and no thread was created; "noflag":
 * every operation succeeds and threads were created (libcurl's threaded
 * resolver), which proves the count sees the module's threads.
 *
 * pthread_create is defined here and the program is linked with
 * --export-dynamic, so the module's libcurl binds to it; it counts and
 * forwards to the C library's. getaddrinfo is defined here too: the
 * config's connect_to names the reserved host EMULATOR_HOST (RFC 6761
 * .test), answered as 127.0.0.1, so that libcurl has a real host name to
 * resolve (it resolves IP literals and "localhost" without a thread,
 * lib/hostip.c Curl_resolv in 7.88) and no lookup leaves the machine. */
#include <dlfcn.h>
#include <netdb.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "p11_load.h"
#include "tap.h"

#define EMULATOR_HOST "azkv-emulator.test"

/* The build hides symbols by default (-fvisibility=hidden). */
#define EXPORTED __attribute__((visibility("default")))

static atomic_int threads_created, emulator_lookups;

EXPORTED int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                            void *arg)
{
	typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
	atomic_fetch_add(&threads_created, 1);
	return real ? real(thread, attr, start, arg) : -1;
}

EXPORTED int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                         struct addrinfo **res)
{
	typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
	                      struct addrinfo **);
	gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	if (real == NULL)
		return EAI_FAIL;
	if (node != NULL && strcasecmp(node, EMULATOR_HOST) == 0) {
		atomic_fetch_add(&emulator_lookups, 1);
		node = "127.0.0.1";
	}
	return real(node, service, hints, res);
}

static CK_FUNCTION_LIST *p11;

/* 1 if the call answered CKR_OK, else a failure ("not ok" only: the
 * single "ok" line sums up at the end). */
static int check(const char *what, CK_RV rv)
{
	return rv == CKR_OK || TAP_FAIL("%s: 0x%lx", what, (unsigned long)rv);
}

static CK_RV find(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *h)
{
	return p11_find(p11, s, cls, label, h);
}

/* Find, wrap locally, unwrap and sign through the vault. */
static void operations(const char *label)
{
	static const unsigned char known[32] = "p11_nothreads: a known AES key";
	static const unsigned char data[] = "p11_nothreads: data to sign";
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM oaep_mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_MECHANISM sign_mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	p11_known_aes k;
	unsigned char wrapped[512], value[64], sig[512];
	CK_ULONG wlen = sizeof(wrapped), slen = sizeof(sig);
	CK_ATTRIBUTE val = {CKA_VALUE, value, sizeof(value)};
	CK_OBJECT_HANDLE pub, priv, dek, back;
	CK_SESSION_HANDLE s;

	p11_known_aes_init(&k, known, sizeof(known));
	if (!check("C_OpenSession",
	           p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)))
		return;
	if (check("find the public key", find(s, label, CKO_PUBLIC_KEY, &pub)) &&
	    check("find the private key", find(s, label, CKO_PRIVATE_KEY, &priv)) &&
	    check("C_CreateObject", p11->C_CreateObject(s, k.create, 4, &dek)) &&
	    check("C_WrapKey", p11->C_WrapKey(s, &oaep_mech, pub, dek, wrapped, &wlen)) &&
	    check("C_UnwrapKey",
	          p11->C_UnwrapKey(s, &oaep_mech, priv, wrapped, wlen, k.unwrap, 4, &back)) &&
	    check("C_GetAttributeValue(CKA_VALUE)", p11->C_GetAttributeValue(s, back, &val, 1))) {
		if (val.ulValueLen != sizeof(known) || memcmp(value, known, sizeof(known)) != 0) {
			TAP_FAIL("the unwrapped key is not the wrapped one");
		}
		if (check("C_SignInit", p11->C_SignInit(s, &sign_mech, priv)) &&
		    check("C_Sign", p11->C_Sign(s, (CK_BYTE *)data, sizeof(data), sig, &slen)) &&
		    check("C_VerifyInit", p11->C_VerifyInit(s, &sign_mech, pub)))
			check("C_Verify",
			      p11->C_Verify(s, (CK_BYTE *)data, sizeof(data), sig, slen));
	}
	p11->C_CloseSession(s);
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	int flag, created;

	if (argc != 3 || (strcmp(argv[2], "flag") != 0 && strcmp(argv[2], "noflag") != 0)) {
		fprintf(stderr, "usage: p11_nothreads KEY flag|noflag\n");
		return 2;
	}
	flag = strcmp(argv[2], "flag") == 0;
	if (flag)
		args.flags |= CKF_LIBRARY_CANT_CREATE_OS_THREADS;
	if ((p11 = p11_load("p11_nothreads")) == NULL)
		return 2;
	atomic_store(&threads_created, 0);
	if (check(flag ? "C_Initialize(CKF_LIBRARY_CANT_CREATE_OS_THREADS)" : "C_Initialize",
	          p11->C_Initialize(&args))) {
		operations(argv[1]);
		check("C_Finalize", p11->C_Finalize(NULL));
	}
	created = atomic_load(&threads_created);
	printf("# %s: %d thread(s) created, %d lookup(s) of %s\n", argv[2], created,
	       atomic_load(&emulator_lookups), EMULATOR_HOST);
	if (atomic_load(&emulator_lookups) == 0) {
		TAP_FAIL("%s was never looked up: is connect_to set to it?", EMULATOR_HOST);
	}
	if (flag && created != 0) {
		TAP_FAIL("the module created %d thread(s) although the application set "
		         "CKF_LIBRARY_CANT_CREATE_OS_THREADS",
		         created);
	}
	if (!flag && created == 0) {
		TAP_FAIL("no thread created without the flag: the count sees nothing, the "
		         "test cannot tell");
	}
	if (tap_failures == 0)
		CHECK(1, "%s: operations succeeded, %d thread(s) created", argv[2], created);
	return tap_status();
}
