/* Fork safety: a child inherits an initialised module but not its
 * connections or locks, so every call answers CKR_CRYPTOKI_NOT_INITIALIZED
 * until the child calls C_Initialize; then it works on its own, and the
 * parent keeps working. The child holds none of the parent's secrets: its
 * writable memory (heap, anonymous mappings, stacks, libraries' data) is
 * searched for the client secret of the configuration and for the value
 * of a session key the parent made with C_CreateObject and left in use by
 * active operations (whose states hold copies: see start_operations); the
 * same search
 * in the parent finds both first (so the search works). Every network
 * socket the module has open in the parent is close-on-exec, and the
 * child has none of them open (count_sockets says why unix ones are not
 * checked). Run by threads.sh with AZKV_MODULE and AZKV_PKCS11_CONFIG
 * set (vault 'demo' with the RSA key 'cmk'). */
#include <dirent.h>
#include <netinet/in.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p11_load.h"
#include "tap.h"

static CK_FUNCTION_LIST *p11;

/* The secrets searched for, XOR-masked: their plain bytes exist in this
 * program only while compared, so the search cannot find its own copy. */
#define MASK 0x5a
typedef struct {
	const char *name;
	unsigned char masked[128];
	size_t len;
} needle;
static needle client_secret = {.name = "the client secret"};
static needle session_key = {.name = "the session key's value"};

static void mask_into(needle *n, const unsigned char *plain, size_t len)
{
	n->len = len < sizeof(n->masked) ? len : sizeof(n->masked);
	for (size_t i = 0; i < n->len; i++)
		n->masked[i] = plain[i] ^ MASK;
}

/* The search reads all of this process's writable memory, freed and
 * unused parts included: not a race or an overflow, so sanitizers are
 * told not to check it. */
#define UNCHECKED_READS __attribute__((no_sanitize("address", "thread")))

UNCHECKED_READS static int matches(const unsigned char *p, const needle *n)
{
	for (size_t i = 0; i < n->len; i++)
		if ((p[i] ^ MASK) != n->masked[i])
			return 0;
	return 1;
}

/* The client secret of the configuration, read with read(2) into a
 * buffer that is wiped at once (no stdio buffer keeps a copy). */
static int load_client_secret(void)
{
	static const char key[] = "\"client_secret\":";
	char text[8192];
	const char *path = getenv("AZKV_PKCS11_CONFIG");
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	text[n] = 0;
	char *at = strstr(text, key), *start = at ? strchr(at + sizeof(key) - 1, '"') : NULL;
	char *end = start ? strchr(start + 1, '"') : NULL;
	if (end != NULL)
		mask_into(&client_secret, (unsigned char *)start + 1, (size_t)(end - start - 1));
	explicit_bzero(text, sizeof(text));
	return end != NULL && client_secret.len >= 8 ? 0 : -1;
}

/* AddressSanitizer's interface; weak, so NULL in other builds. */
size_t __asan_get_alloc_stack(void *addr, void **trace, size_t size, int *thread_id)
        __attribute__((weak));
size_t __asan_get_free_stack(void *addr, void **trace, size_t size, int *thread_id)
        __attribute__((weak));

/* Whether p lies in a block that libcurl allocated and has freed. libcurl
 * copies a request's body into buffers of its own (the request it builds,
 * and its TLS send buffer) and frees them unwiped; the module could wipe
 * them only by replacing the allocator of the whole host process, which a
 * module must not do (README, "Secrets"). With glibc's malloc those blocks
 * are reused by the next request (the normal build finds none); ASan's
 * quarantine keeps them intact, and ASan says who allocated each block,
 * so there they are counted apart. Without ASan it answers 0: every copy
 * counts. */
static int in_freed_libcurl_block(const unsigned char *p)
{
	void *trace[16];
	int tid;
	size_t n;
	if (__asan_get_free_stack == NULL || __asan_get_alloc_stack == NULL ||
	    __asan_get_free_stack((void *)p, trace, 16, &tid) == 0)
		return 0;
	n = __asan_get_alloc_stack((void *)p, trace, 16, &tid);
	for (size_t i = 0; i < n; i++) {
		Dl_info info;
		/* The first frame outside the sanitizer's runtime allocated it. */
		if (dladdr(trace[i], &info) == 0 || info.dli_fname == NULL ||
		    strstr(info.dli_fname, "libasan") != NULL)
			continue;
		return strstr(info.dli_fname, "libcurl") != NULL;
	}
	return 0;
}

/* Occurrences of n in this process's readable and writable mappings;
 * *in_curl counts those in_freed_libcurl_block (included in the result).
 * Mappings over 1 GiB are reservations (a sanitizer's shadow), not data
 * the module wrote, and are left out. */
UNCHECKED_READS static long count_in_memory(const needle *n, long *in_curl)
{
	char maps[65536];
	long hits = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t len = 0, r;
	*in_curl = 0;
	while (fd >= 0 && len < (ssize_t)sizeof(maps) - 1 &&
	       (r = read(fd, maps + len, sizeof(maps) - 1 - (size_t)len)) > 0)
		len += r;
	if (fd >= 0)
		close(fd);
	maps[len > 0 ? len : 0] = 0;
	for (char *line = strtok(maps, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		unsigned long lo, hi;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
		    perms[1] != 'w' || hi - lo > (1ul << 30) || strstr(line, "[vvar]") != NULL)
			continue;
		for (const unsigned char *p = (const unsigned char *)lo;
		     p + n->len <= (const unsigned char *)hi; p++)
			if (*p == (n->masked[0] ^ MASK) && matches(p, n)) {
				hits++;
				*in_curl += in_freed_libcurl_block(p);
			}
	}
	return hits;
}

/* Network (IPv4 and IPv6) sockets open in this process: the module's
 * connections; *inheritable counts those without FD_CLOEXEC. Unix
 * sockets are only counted, in *local: with libcurl 7.88 each pooled
 * easy handle keeps its internal multi handle's wakeup socketpair, made
 * without close-on-exec (curl fixed it in 8.8.0, commit fd0d2ed74a),
 * which the module cannot reach; it carries no request and no secret. */
static int count_sockets(int *inheritable, int *local)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	*inheritable = 0;
	*local = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char link[300], target[64];
		int fd = atoi(e->d_name), domain = 0;
		socklen_t dlen = sizeof(domain);
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (e->d_name[0] == '.' || len <= 0 || fd == dirfd(d))
			continue;
		target[len] = 0;
		if (strncmp(target, "socket:", 7) != 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0 &&
		    domain != AF_INET && domain != AF_INET6) {
			(*local)++;
			continue;
		}
		n++;
		if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			(*inheritable)++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

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

/* A session key of a known value, in session s. */
static CK_RV make_session_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key)
{
	unsigned char value[32];
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &sec, sizeof(sec)},
	                       {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                       {CKA_VALUE, value, sizeof(value)}};
	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (unsigned char)(0xa5 ^ (i * 37 + (size_t)getpid()));
	mask_into(&session_key, value, sizeof(value));
	CK_RV rv = p11->C_CreateObject(s, tmpl, 3, key);
	explicit_bzero(value, sizeof(value));
	return rv;
}

/* The handle of the one object of class cls labelled 'cmk'. */
static CK_RV find_cmk(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *h)
{
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "cmk", 3}};
	CK_ULONG n = 0;
	CK_RV rv = p11->C_FindObjectsInit(s, tmpl, 2);
	if (rv == CKR_OK && (rv = p11->C_FindObjects(s, h, 1, &n)) == CKR_OK)
		rv = p11->C_FindObjectsFinal(s);
	return rv == CKR_OK && n != 1 ? CKR_GENERAL_ERROR : rv;
}

/* Operations the parent leaves active at the fork, each holding its own
 * copy of the session key's value: in session s, an AES-CBC-PAD
 * encryption that has only been initialised and an AES-GCM decryption
 * one update in (neither has an OpenSSL context yet, see pkcs11/fork.c);
 * in session s2, an AES key wrap (RFC 5649) encryption initialised, and
 * an RSA-OAEP decryption by the vault of the key wrapped with 'cmk',
 * whose result did not fit the caller's buffer and is kept for the call
 * again; and the MACs, initialised: an HMAC-SHA256 signature in s (the
 * key's CKA_SIGN by default) and an AES-CMAC verification in s2. */
static CK_RV start_operations(CK_SESSION_HANDLE s, CK_SESSION_HANDLE s2, CK_OBJECT_HANDLE key)
{
	static unsigned char iv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	unsigned char in[32] = {0}, out[512];
	CK_ULONG out_len = sizeof(out), short_len = 1;
	CK_OBJECT_HANDLE pub, priv;
	CK_GCM_PARAMS gcm = {.pIv = iv, .ulIvLen = 12, .ulIvBits = 96, .ulTagBits = 128};
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM gcm_m = {CKM_AES_GCM, &gcm, sizeof(gcm)};
	CK_MECHANISM cbc_m = {CKM_AES_CBC_PAD, iv, sizeof(iv)};
	CK_MECHANISM oaep_m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_MECHANISM kwp_m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_MECHANISM hmac_m = {CKM_SHA256_HMAC, NULL, 0}, cmac_m = {CKM_AES_CMAC, NULL, 0};
	CK_RV rv = p11->C_EncryptInit(s, &cbc_m, key);
	if (rv == CKR_OK && (rv = p11->C_SignInit(s, &hmac_m, key)) == CKR_OK)
		rv = p11->C_VerifyInit(s2, &cmac_m, key);
	if (rv == CKR_OK && (rv = p11->C_DecryptInit(s, &gcm_m, key)) == CKR_OK)
		rv = p11->C_DecryptUpdate(s, in, sizeof(in), out, &out_len);
	out_len = sizeof(out);
	if (rv != CKR_OK || (rv = p11->C_EncryptInit(s2, &kwp_m, key)) != CKR_OK ||
	    (rv = find_cmk(s2, CKO_PUBLIC_KEY, &pub)) != CKR_OK ||
	    (rv = find_cmk(s2, CKO_PRIVATE_KEY, &priv)) != CKR_OK ||
	    (rv = p11->C_WrapKey(s2, &oaep_m, pub, key, out, &out_len)) != CKR_OK ||
	    (rv = p11->C_DecryptInit(s2, &oaep_m, priv)) != CKR_OK)
		return rv;
	rv = p11->C_Decrypt(s2, out, out_len, in, &short_len);
	return rv == CKR_BUFFER_TOO_SMALL && short_len == 32 ? CKR_OK : CKR_GENERAL_ERROR;
}

/* The child: runs the checks; its exit status says whether any failed. */
static int child(CK_C_INITIALIZE_ARGS *args)
{
	CK_ULONG n = 0;
	CK_INFO info;
	CK_SESSION_HANDLE s;
	int inheritable, local;
	tap_failures = 0; /* the parent's failures are the parent's */
	CHECK(p11->C_GetSlotList(CK_TRUE, NULL, &n) == CKR_CRYPTOKI_NOT_INITIALIZED &&
	              p11->C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED &&
	              p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) ==
	                      CKR_CRYPTOKI_NOT_INITIALIZED &&
	              p11->C_Finalize(NULL) == CKR_CRYPTOKI_NOT_INITIALIZED,
	      "child: calls before C_Initialize answer CKR_CRYPTOKI_NOT_INITIALIZED");
	long kc, cc, k = count_in_memory(&session_key, &kc),
	             c = count_in_memory(&client_secret, &cc);
	printf("# child: %ld copies of the session key's value, %ld of the client secret "
	       "(%ld of them in blocks libcurl freed)\n",
	       k, c, cc);
	CHECK(k == 0, "child: no copy of the parent's session key value in memory");
	CHECK(c - cc == 0, "child: no copy of the client secret in memory (besides "
	                   "libcurl's freed request buffers, under ASan)");
	CHECK(count_sockets(&inheritable, &local) == 0,
	      "child: none of the module's connections open");
	CK_RV rv = p11->C_Initialize(args);
	CHECK(rv == CKR_OK, "child: C_Initialize");
	CHECK(rv == CKR_OK && use_vault() == CKR_OK, "child: unwraps through the vault");
	p11->C_Finalize(NULL);
	return tap_status();
}

int main(void)
{
	if ((p11 = p11_load("p11_fork")) == NULL)
		return 2;
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_SESSION_HANDLE s, s2;
	CK_OBJECT_HANDLE key;
	int inheritable, local;
	if (load_client_secret() != 0) {
		printf("not ok - no client_secret in AZKV_PKCS11_CONFIG\n");
		return 2;
	}
	if (!CHECK(p11->C_Initialize(&args) == CKR_OK && use_vault() == CKR_OK &&
	                   p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) == CKR_OK &&
	                   p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s2) == CKR_OK &&
	                   make_session_key(s, &key) == CKR_OK &&
	                   start_operations(s, s2, key) == CKR_OK,
	           "the parent uses the vault, makes a session key and leaves operations "
	           "with it active before fork"))
		return 1;
	long kc, cc, k = count_in_memory(&session_key, &kc),
	             c = count_in_memory(&client_secret, &cc);
	printf("# parent: %ld copies of the session key's value, %ld of the client secret "
	       "(%ld of them in blocks libcurl freed)\n",
	       k, c, cc);
	/* The module's own live copies: so the search, and the count apart of
	 * libcurl's blocks, work. */
	CHECK(k > 0 && c - cc > 0, "the parent's memory holds both secrets (the search works)");
	int sockets = count_sockets(&inheritable, &local);
	printf("# parent: %d network socket(s) open, %d without FD_CLOEXEC; %d unix socket(s)\n",
	       sockets, inheritable, local);
	CHECK(sockets > 0 && inheritable == 0, "the module's pooled connections are close-on-exec");

	pid_t pid = fork();
	if (pid == 0)
		_exit(child(&args));
	int status = 1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks");
	CHECK(count_in_memory(&session_key, &kc) > 0, "the parent keeps its session key");
	CHECK(use_vault() == CKR_OK, "the parent still uses the vault after the child");
	p11->C_Finalize(NULL);
	return tap_status();
}
