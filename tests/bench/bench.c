/* The bench's driver (tests/bench/run.sh starts the emulator, makes the
 * keys, gets one bearer token and runs this):
 *
 *   bench --port P --ca CA.pem --vault URL --token-file F
 *         --unwrap LABEL,KID,PUB.pem --rs256 LABEL,KID,PUB.pem --es256 LABEL,KID,PUB.pem
 *         [--threads 1,4,16] [--rounds 5] [--seconds 1.5] [--wrap-ops 2000]
 *         [--count-ops 20] [--parts cold,counts,rss,wrap,remote,find,limits,js]
 *         [--many-vault URL --many-slot N --many-keys N] [--rss-ops N]
 *         [--limits-threads N --limits-seconds S] [--js-unwrap tests/bench/js-unwrap.mjs]
 *
 * loads AZKV_MODULE (configured by AZKV_PKCS11_CONFIG) and, in this one
 * process, compares the module with what it is built on, each comparison
 * in rounds that alternate the two sides, printing each side's median and
 * the ratio module / raw:
 *
 *   cold start  C_Initialize to the first C_UnwrapKey, with the requests
 *               the emulator logged on the way (by host);
 *   a. wrap     local C_WrapKey (RSA-2048 OAEP-SHA256 of a session AES
 *               key) vs EVP_PKEY_encrypt with the same public key (PUB.pem,
 *               exported from the emulator), its context prepared once;
 *               also vs EVP_PKEY_encrypt with a context made per call, to
 *               show what a context per call costs; one thread, a fixed
 *               count per round;
 *   b. remote   C_UnwrapKey (+ C_DestroyObject of the key it made), C_Sign
 *               RS256 (CKM_SHA256_RSA_PKCS) and ES256 (CKM_ECDSA over a
 *               SHA-256 digest) vs libcurl POSTs of the identical Key Vault
 *               request (KID's URL, the same JSON body, the token read once
 *               from F), one easy handle per thread kept over every round;
 *               at each thread count, a fixed duration per round. The
 *               libcurl side is also the emulator's own ceiling at that
 *               concurrency. CPU time (getrusage user+sys) per operation is
 *               printed for both sides;
 *   c. count    vault requests per operation from the emulator's request
 *               log (GET /_emulator/requests): wrap 0, unwrap 1, sign 1,
 *               and the module's unwrap request has the raw one's path;
 *   d. find     C_FindObjects over the slot of a vault of --many-keys keys:
 *               the requests of the first listing (by kind: listing pages,
 *               key reads, version listings), then of the same listing
 *               while cached (0 is checked, and the pages once);
 *   e. memory   the peak RSS after 1,000 envelope round trips (C_WrapKey,
 *               then C_UnwrapKey of the result) and after --rss-ops, over
 *               8 threads;
 *   f. limits   --limits-threads threads unwrapping through the module for
 *               --limits-seconds with the emulator enforcing Key Vault's
 *               transaction limits: the module's rate and the 429s it met;
 *   g. JS SDK   with --js-unwrap: C_UnwrapKey vs the official Azure SDK for
 *               JavaScript's CryptographyClient.unwrapKey (in a Node
 *               process this one drives, tests/bench/js-unwrap.mjs) of the
 *               same wrapped key, at 1 in flight and at the highest thread
 *               count, a fixed duration per round; CPU time per operation
 *               of each process.
 *
 * --parts picks what runs and is reported (default: all; the cold start,
 * C_Initialize and the keys found, always runs), and d, e, f and g also
 * need their options. run.sh runs b, e and g on their own against the
 * emulator's --workers mode, and checks with --parts counts that c finds a
 * request too many.
 * Timings are reported, never judged. Exit status: 0 when every operation
 * succeeded (f aside: it reports its failures) and every count in c and d
 * is right; 1 when not; 2 for bad usage or a setup that failed. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "p11_load.h"
#include "pem.h"

#define MAX_THREADS 64
#define MAX_ROUNDS  32
#define AES_LEN     32

enum kind { K_UNWRAP, K_RS256, K_ES256, K_COUNT };
static const char *const kind_names[K_COUNT] = {"unwrap", "sign_rs256", "sign_es256"};
static const char *const kind_options[K_COUNT] = {"--unwrap", "--rs256", "--es256"};
static const char *const kind_paths[K_COUNT] = {"unwrapkey", "sign", "sign"};
static const char *const kind_algs[K_COUNT] = {"RSA-OAEP-256", "RS256", "ES256"};

enum side { MODULE, RAW };

/* What --parts names, in the order they run. */
enum part { P_COLD, P_COUNTS, P_RSS, P_WRAP, P_REMOTE, P_FIND, P_LIMITS, P_JS, P_COUNT };
static const char *const part_names[P_COUNT] = {"cold",   "counts", "rss",    "wrap",
                                                "remote", "find",   "limits", "js"};

struct key {
	char *label, *kid;
	EVP_PKEY *pub;
	CK_OBJECT_HANDLE priv;
	char *url, *body; /* the raw request: kid/operation?api-version, JSON */
};

static struct {
	int port;
	const char *ca, *vault_host;
	char token_header[8192];
	struct key keys[K_COUNT];
	int threads[8], nthreads;
	int rounds;
	double seconds;
	unsigned long wrap_ops, count_ops;
	unsigned parts;        /* 1 << enum part */
	const char *many_host; /* d: a vault of many keys, its slot and how many */
	int many_slot, many_keys;
	unsigned long rss_ops; /* e: wrap+unwrap operations of the memory phase */
	int limits_threads;    /* f: threads pushing against the vault's limits */
	double limits_seconds;
	const char *js_script; /* g: tests/bench/js-unwrap.mjs */
} cfg;

static CK_FUNCTION_LIST *p11;
static unsigned char wrapped[512]; /* an AES key wrapped with the unwrap key */
static size_t wrapped_len;
static unsigned char sign_data[64], digest[32];
static CURL *raw_handle[MAX_THREADS]; /* kept over the rounds: keep-alive */
static struct curl_slist *raw_headers, *raw_connect_to;
static int failed; /* an operation failed or a count was wrong */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------------- the raw side */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static CURL *raw_easy(void)
{
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CAINFO, cfg.ca);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, raw_connect_to);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	return e;
}

/* One POST of kind's request on thread i's handle; 0 on HTTP 200. */
static int raw_op(int i, enum kind kind)
{
	CURL *e = raw_handle[i];
	long status = 0;

	curl_easy_setopt(e, CURLOPT_URL, cfg.keys[kind].url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, raw_headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, cfg.keys[kind].body);
	if (curl_easy_perform(e) != CURLE_OK)
		return -1;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	return status == 200 ? 0 : -1;
}

/* A response body as it arrives, NUL-terminated. */
struct growbuf {
	char *p;
	size_t len;
};

static size_t grow(char *p, size_t size, size_t n, void *ud)
{
	struct growbuf *b = ud;
	char *q = realloc(b->p, b->len + size * n + 1);
	if (!q)
		return 0;
	memcpy(q + b->len, p, size * n);
	b->p = q;
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* method https://127.0.0.1:PORT/_emulator/PATH with the JSON body (NULL:
 * none); the parsed answer (owned; NULL when there is none or on failure,
 * which is said on stderr). */
static cJSON *admin_call(const char *method, const char *path, const char *body)
{
	char url[128];
	struct growbuf b = {0};
	struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *e = curl_easy_init();
	long status = 0;
	cJSON *root = NULL;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/_emulator%s", cfg.port, path);
	if (!e || !json) {
		curl_easy_cleanup(e);
		curl_slist_free_all(json);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, cfg.ca);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, json);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, grow);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(e) != CURLE_OK ||
	    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status >= 300)
		fprintf(stderr, "bench: %s %s failed (HTTP %ld)\n", method, url, status);
	else if (b.p)
		root = cJSON_Parse(b.p);
	curl_easy_cleanup(e);
	curl_slist_free_all(json);
	free(b.p);
	return root;
}

/* GET (the parsed log, owned) or DELETE (NULL) the emulator's request log. */
static cJSON *request_log(const char *method)
{
	return admin_call(method, "/requests", NULL);
}

/* One entry of the emulator's request log (azkvemu's /_emulator/requests):
 * the strings are NULL when absent, status 0. */
struct logged_request {
	const char *host, *method, *path;
	int status, authorized;
};

/* Calls visit on every entry of the emulator's request log, in order; the
 * number of entries, or -1 when the log is not read. */
static int walk_request_log(void (*visit)(const struct logged_request *r, void *ctx), void *ctx)
{
	cJSON *root = request_log("GET");
	const cJSON *e, *list = cJSON_GetObjectItemCaseSensitive(root, "value");
	int n = 0;

	if (!cJSON_IsArray(list)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(e, list)
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
		struct logged_request r = {
		        .host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "host")),
		        .method =
		                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "method")),
		        .path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "path")),
		        .status = cJSON_IsNumber(st) ? st->valueint : 0,
		        .authorized =
		                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "authorization")),
		};
		visit(&r, ctx);
		n++;
	}
	cJSON_Delete(root);
	return n;
}

struct vault_requests {
	int vault, show;
	char *path;
	size_t path_len;
};

static void count_vault_request(const struct logged_request *r, void *ctx)
{
	struct vault_requests *n = ctx;

	if (n->show && r->host && r->path)
		printf("  %s %s%s\n", r->method, r->host, r->path);
	if (r->host && strcmp(r->host, cfg.vault_host) == 0) {
		n->vault++;
		if (n->path && r->path)
			snprintf(n->path, n->path_len, "%s", r->path);
	}
}

/* The log's entries: how many in all, how many to the vault; path, when
 * not NULL, gets the last vault entry's path; show prints every entry.
 * -1 when the log is not read. */
static int count_requests(int *vault, char *path, size_t path_len, int show)
{
	struct vault_requests n = {.show = show, .path = path, .path_len = path_len};
	int all = walk_request_log(count_vault_request, &n);

	*vault = n.vault;
	return all;
}

/* ---------------------------------------------------------------- the module's side */

static CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};

static int module_op(CK_SESSION_HANDLE s, enum kind kind)
{
	CK_BYTE sig[512];
	CK_ULONG sig_len = sizeof(sig);
	CK_RV rv;

	if (kind == K_UNWRAP) {
		CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
		CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
		CK_KEY_TYPE kt = CKK_AES;
		CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
		                    {CKA_KEY_TYPE, &kt, sizeof(kt)}};
		CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
		rv = p11->C_UnwrapKey(s, &m, cfg.keys[kind].priv, wrapped, (CK_ULONG)wrapped_len, t,
		                      2, &h);
		if (rv == CKR_OK)
			rv = p11->C_DestroyObject(s, h);
	} else {
		CK_MECHANISM m = {kind == K_RS256 ? CKM_SHA256_RSA_PKCS : CKM_ECDSA, NULL, 0};
		rv = p11->C_SignInit(s, &m, cfg.keys[kind].priv);
		if (rv == CKR_OK && kind == K_RS256)
			rv = p11->C_Sign(s, sign_data, sizeof(sign_data), sig, &sig_len);
		else if (rv == CKR_OK)
			rv = p11->C_Sign(s, digest, sizeof(digest), sig, &sig_len);
	}
	if (rv != CKR_OK)
		fprintf(stderr, "bench: %s through the module: CK_RV 0x%lx\n", kind_names[kind],
		        (unsigned long)rv);
	return rv == CKR_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- timed phases */

struct worker {
	enum side side;
	enum kind kind;
	int index;
	unsigned long ops, fails;
};

static pthread_barrier_t start_line;
static double deadline;
static int keep_going; /* f: a failed operation does not end the thread */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	if (w->side == MODULE &&
	    p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		w->fails++;
	pthread_barrier_wait(&start_line);
	while ((!w->fails || keep_going) && now_s() < deadline) {
		int rc = w->side == MODULE ? module_op(s, w->kind) : raw_op(w->index, w->kind);
		if (rc == 0)
			w->ops++;
		else
			w->fails++;
	}
	if (s != CK_INVALID_HANDLE)
		p11->C_CloseSession(s);
	return NULL;
}

/* threads threads doing kind on side for seconds; ops/s. *cpu gets the
 * process's CPU seconds, *ops the operations, *fails the failures. */
static double run_phase(enum side side, enum kind kind, int threads, double seconds, double *cpu,
                        unsigned long *ops, unsigned long *fails)
{
	pthread_t tid[MAX_THREADS];
	struct worker w[MAX_THREADS];
	double t0, c0;
	int started;

	pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
	deadline = now_s() + 3600; /* set for real once every thread is ready */
	for (started = 0; started < threads; started++) {
		w[started] = (struct worker){side, kind, started, 0, 0};
		if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
			fprintf(stderr, "bench: cannot start thread %d\n", started);
			exit(2);
		}
	}
	c0 = cpu_s();
	t0 = now_s();
	deadline = t0 + seconds;
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		*ops += w[i].ops;
		*fails += w[i].fails;
	}
	*cpu += cpu_s() - c0;
	pthread_barrier_destroy(&start_line);
	{
		double elapsed = now_s() - t0;
		unsigned long n = 0;
		for (int i = 0; i < threads; i++)
			n += w[i].ops;
		return elapsed > 0 ? (double)n / elapsed : 0;
	}
}

static void print_ratio(const char *what, const char *a, double ma, const char *b, double mb,
                        const char *target)
{
	printf("%s: %s %.0f/s, %s %.0f/s, ratio %.2f (target %s)\n", what, a, ma, b, mb,
	       mb > 0 ? ma / mb : 0, target);
}

static void bench_remote(void)
{
	printf("# b. the module vs raw libcurl keep-alive POSTs of the same requests, %d rounds "
	       "of %.1f s per side, alternating; medians. The libcurl figure is the emulator's "
	       "own ceiling at that concurrency.\n",
	       cfg.rounds, cfg.seconds);
	for (int k = 0; k < K_COUNT; k++) {
		for (int ti = 0; ti < cfg.nthreads; ti++) {
			int t = cfg.threads[ti];
			double rate[2][MAX_ROUNDS], cpu[2] = {0}, m[2];
			unsigned long ops[2] = {0}, fails[2] = {0};
			char what[64];

			for (int r = 0; r < cfg.rounds; r++) {
				/* Alternate which side goes first, so neither always
				 * follows the other's load. */
				enum side first = r % 2 ? RAW : MODULE;
				rate[first][r] = run_phase(first, (enum kind)k, t, cfg.seconds,
				                           &cpu[first], &ops[first], &fails[first]);
				rate[!first][r] =
				        run_phase(!first, (enum kind)k, t, cfg.seconds,
				                  &cpu[!first], &ops[!first], &fails[!first]);
			}
			m[MODULE] = median(rate[MODULE], cfg.rounds);
			m[RAW] = median(rate[RAW], cfg.rounds);
			snprintf(what, sizeof(what), "%s, %d thread%s", kind_names[k], t,
			         t == 1 ? "" : "s");
			print_ratio(what, "module", m[MODULE], "libcurl", m[RAW],
			            t == 1    ? ">= 0.9"
			            : t >= 16 ? ">= 0.8"
			                      : "none");
			printf("  cpu_us_per_op: module %.0f, libcurl %.0f; operations: "
			       "module %lu, libcurl %lu; failures: module %lu, libcurl %lu\n",
			       ops[MODULE] ? cpu[MODULE] * 1e6 / (double)ops[MODULE] : 0,
			       ops[RAW] ? cpu[RAW] * 1e6 / (double)ops[RAW] : 0, ops[MODULE],
			       ops[RAW], fails[MODULE], fails[RAW]);
			if (fails[MODULE] || fails[RAW] || !ops[MODULE] || !ops[RAW])
				failed = 1;
		}
	}
}

/* ---------------------------------------------------------------- a. local wrap */

/* The unwrap key's public half as OpenSSL wraps with it (RSA-OAEP-256);
 * owned, NULL on failure. */
static EVP_PKEY_CTX *oaep_ctx(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(cfg.keys[K_UNWRAP].pub, NULL);
	if (c && EVP_PKEY_encrypt_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1)
		return c;
	EVP_PKEY_CTX_free(c);
	return NULL;
}

/* The module's side of a wrap: the unwrap key's public object and a new
 * session AES key to wrap with it (destroyed by the caller). */
static void module_wrap_keys(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *aes)
{
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ULONG len = AES_LEN;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
	                    {CKA_EXTRACTABLE, &yes, sizeof(yes)}};

	*pub = p11_find_one(p11, s, CKO_PUBLIC_KEY, cfg.keys[K_UNWRAP].label);
	if (*pub == CK_INVALID_HANDLE || p11->C_GenerateKey(s, &gen, t, 2, aes) != CKR_OK) {
		fprintf(stderr, "bench: no public key %s, or no AES key generated\n",
		        cfg.keys[K_UNWRAP].label);
		exit(2);
	}
}

/* One OpenSSL wrap of key: with the prepared context c, or (c NULL) with a
 * context made for it, as a caller without a cache would; 0 on success. */
static int openssl_wrap(EVP_PKEY_CTX *c, const unsigned char *key, unsigned char *out,
                        size_t out_len)
{
	EVP_PKEY_CTX *own = c ? NULL : oaep_ctx();
	int ok = (c || own) && EVP_PKEY_encrypt(c ? c : own, out, &out_len, key, AES_LEN) == 1;
	EVP_PKEY_CTX_free(own);
	return ok ? 0 : -1;
}

/* The sides of the wrap comparison: the module, OpenSSL with its context
 * prepared once (the reference), and OpenSSL with a context per call (what
 * a module that prepares none could at best do). */
enum wrap_side { W_MODULE, W_PREPARED, W_PER_CALL, W_SIDES };

static void bench_wrap(CK_SESSION_HANDLE s)
{
	static const char *const names[W_SIDES] = {"C_WrapKey", "EVP_PKEY_encrypt",
	                                           "EVP_PKEY_encrypt (a new context per call)"};
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_OBJECT_HANDLE pub, aes;
	EVP_PKEY_CTX *c = oaep_ctx();
	unsigned char key[AES_LEN], out[512];
	double rate[W_SIDES][MAX_ROUNDS], cpu[W_SIDES] = {0}, med[W_SIDES];
	unsigned long fails = 0, per_side = cfg.wrap_ops * (unsigned long)cfg.rounds;

	module_wrap_keys(s, &pub, &aes);
	if (!c || RAND_bytes(key, AES_LEN) != 1) {
		fprintf(stderr, "bench: cannot set up the wrap comparison\n");
		exit(2);
	}
	for (int r = 0; r < cfg.rounds; r++) {
		for (int i = 0; i < W_SIDES; i++) {
			enum wrap_side side = (enum wrap_side)((r + i) % W_SIDES); /* rotate */
			double t0 = now_s(), c0 = cpu_s();
			for (unsigned long n = 0; n < cfg.wrap_ops; n++) {
				CK_ULONG wlen = sizeof(out);
				if (side == W_MODULE
				            ? p11->C_WrapKey(s, &m, pub, aes, out, &wlen) != CKR_OK
				            : openssl_wrap(side == W_PREPARED ? c : NULL, key, out,
				                           sizeof(out)) != 0)
					fails++;
			}
			cpu[side] += cpu_s() - c0;
			rate[side][r] = (double)cfg.wrap_ops / (now_s() - t0);
		}
	}
	EVP_PKEY_CTX_free(c);
	OPENSSL_cleanse(key, sizeof(key));
	p11->C_DestroyObject(s, aes);
	for (int i = 0; i < W_SIDES; i++)
		med[i] = median(rate[i], cfg.rounds);
	printf("# a. local wrap, RSA-2048 OAEP-SHA256 of a 32-byte AES key, 1 thread, %d rounds of "
	       "%lu per side, rotating; medians\n",
	       cfg.rounds, cfg.wrap_ops);
	print_ratio("wrap", names[W_MODULE], med[W_MODULE], names[W_PREPARED], med[W_PREPARED],
	            ">= 0.9");
	print_ratio("wrap, what bounds it", names[W_MODULE], med[W_MODULE], names[W_PER_CALL],
	            med[W_PER_CALL], "none");
	printf("  cpu_us_per_op: C_WrapKey %.1f, EVP_PKEY_encrypt %.1f, with a context per call "
	       "%.1f; failures: %lu\n",
	       cpu[W_MODULE] * 1e6 / (double)per_side, cpu[W_PREPARED] * 1e6 / (double)per_side,
	       cpu[W_PER_CALL] * 1e6 / (double)per_side, fails);
	if (fails)
		failed = 1;
}

/* ---------------------------------------------------------------- c. counts */

static void check_count(const char *what, int all, int vault, unsigned long want)
{
	int ok = all >= 0 && (unsigned long)all == want && (unsigned long)vault == want;
	printf("%s: %d vault request%s for %lu operations (want %lu per operation; requests to "
	       "any host %d) %s\n",
	       what, vault, vault == 1 ? "" : "s", cfg.count_ops, want / cfg.count_ops, all,
	       ok ? "ok" : "WRONG");
	if (!ok)
		failed = 1;
}

static void bench_counts(CK_SESSION_HANDLE s)
{
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_OBJECT_HANDLE pub, aes;
	unsigned char out[512];
	char path[512] = "", want_path[512];
	int vault, all;
	unsigned long fails = 0;

	printf("# c. vault requests per operation, from the emulator's request log, %lu of each\n",
	       cfg.count_ops);
	module_wrap_keys(s, &pub, &aes);
	cJSON_Delete(request_log("DELETE"));
	for (unsigned long n = 0; n < cfg.count_ops; n++) {
		CK_ULONG wlen = sizeof(out);
		if (p11->C_WrapKey(s, &m, pub, aes, out, &wlen) != CKR_OK)
			fails++;
	}
	all = count_requests(&vault, NULL, 0, 0);
	check_count("wrap", all, vault, 0);
	p11->C_DestroyObject(s, aes);
	for (int k = 0; k < K_COUNT; k++) {
		cJSON_Delete(request_log("DELETE"));
		for (unsigned long n = 0; n < cfg.count_ops; n++)
			if (module_op(s, (enum kind)k) != 0)
				fails++;
		all = count_requests(&vault, path, sizeof(path), 0);
		check_count(kind_names[k], all, vault, cfg.count_ops);
		/* The raw side asks for the very request the module sends. */
		snprintf(want_path, sizeof(want_path), "%s/%s",
		         strchr(cfg.keys[k].kid + strlen("https://"), '/'), kind_paths[k]);
		if (strcmp(path, want_path) != 0) {
			printf("  the module's path %s is not the raw request's %s: WRONG\n", path,
			       want_path);
			failed = 1;
		}
	}
	if (fails)
		failed = 1;
}

/* ---------------------------------------------------------------- d. a vault of many keys */

/* The request log's entries to host, by kind: the challenge (the first
 * request, sent without a token, an empty GET /keys), listing pages (GET
 * /keys), key reads (GET /keys/NAME[/VERSION]), version listings (GET
 * /keys/NAME/versions) and anything else. -1 when the log is not read. */
struct listing_requests {
	int challenges, pages, key_reads, version_lists, other;
};

struct listing_count {
	const char *host;
	struct listing_requests *n;
};

static void count_listing_request(const struct logged_request *r, void *ctx)
{
	struct listing_count *c = ctx;
	struct listing_requests *n = c->n;
	const char *p = r->path;
	const char *tail = p && strncmp(p, "/keys/", 6) == 0 ? strrchr(p, '/') : NULL;

	if (!r->host || strcmp(r->host, c->host) != 0)
		return;
	if (!r->method || !p || strcmp(r->method, "GET") != 0)
		n->other++;
	else if (strcmp(p, "/keys") == 0 && !r->authorized)
		n->challenges++;
	else if (strcmp(p, "/keys") == 0)
		n->pages++;
	else if (tail && strcmp(tail, "/versions") == 0)
		n->version_lists++;
	else if (tail)
		n->key_reads++;
	else
		n->other++;
}

static int count_listing(const char *host, struct listing_requests *n)
{
	struct listing_count c = {host, n};

	*n = (struct listing_requests){0};
	return walk_request_log(count_listing_request, &c) < 0 ? -1 : 0;
}

/* Every object of the slot, by C_FindObjects in batches of 100; -1 on failure. */
static long find_all(CK_SESSION_HANDLE s)
{
	CK_OBJECT_HANDLE batch[100];
	CK_ULONG got = 0;
	long total = 0;

	if (p11->C_FindObjectsInit(s, NULL, 0) != CKR_OK)
		return -1;
	do {
		if (p11->C_FindObjects(s, batch, 100, &got) != CKR_OK) {
			p11->C_FindObjectsFinal(s);
			return -1;
		}
		total += (long)got;
	} while (got > 0);
	return p11->C_FindObjectsFinal(s) == CKR_OK ? total : -1;
}

/* C_FindObjects over the slot of cfg.many_keys keys: the first listing
 * (which reads the vault), then the same listing again (from the cache). */
static void bench_find(void)
{
	CK_SESSION_HANDLE s;
	struct listing_requests n[2];
	long found[2];
	double ms[2];
	int expect_pages = (cfg.many_keys + 24) / 25; /* maxresults=25, the vault's page */

	printf("# d. C_FindObjects over a vault of %d keys (%s, slot %d): the first listing, "
	       "then again while cached\n",
	       cfg.many_keys, cfg.many_host, cfg.many_slot);
	if (p11->C_OpenSession((CK_SLOT_ID)cfg.many_slot, CKF_SERIAL_SESSION, NULL, NULL, &s) !=
	    CKR_OK) {
		printf("find: no session on slot %d: WRONG\n", cfg.many_slot);
		failed = 1;
		return;
	}
	for (int i = 0; i < 2; i++) {
		double t0;
		cJSON_Delete(request_log("DELETE"));
		t0 = now_s();
		found[i] = find_all(s);
		ms[i] = (now_s() - t0) * 1e3;
		if (count_listing(cfg.many_host, &n[i]) != 0)
			n[i].other = -1;
	}
	p11->C_CloseSession(s);
	for (int i = 0; i < 2; i++)
		printf("find_%s: %ld objects in %.0f ms; vault requests: %d challenge, %d listing "
		       "pages, %d key reads, %d version listings, %d other\n",
		       i ? "cached" : "first", found[i], ms[i], n[i].challenges, n[i].pages,
		       n[i].key_reads, n[i].version_lists, n[i].other);
	if (found[0] != 2L * cfg.many_keys || found[1] != found[0] || n[0].pages != expect_pages ||
	    n[1].challenges + n[1].pages + n[1].key_reads + n[1].version_lists + n[1].other != 0) {
		printf("find: want %d objects both times, %d listing pages the first time and no "
		       "request while cached: WRONG\n",
		       2 * cfg.many_keys, expect_pages);
		failed = 1;
	}
}

/* ---------------------------------------------------------------- e. memory */

/* This process's peak resident set (VmHWM), KiB; -1 when unknown. */
static long peak_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static atomic_ulong rss_next;    /* operations handed out in this phase */
static unsigned long rss_target; /* ... up to this many */

/* One envelope round trip per operation until rss_target: C_WrapKey of a
 * session AES key with the unwrap key's public object, C_UnwrapKey of the
 * result with its private key (the vault), C_DestroyObject of the copy. */
static void *rss_worker(void *arg)
{
	unsigned long *fails = arg;
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE pub, aes;

	if (p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
		(*fails)++;
		return NULL;
	}
	module_wrap_keys(s, &pub, &aes);
	while (atomic_fetch_add(&rss_next, 1) < rss_target) {
		unsigned char out[512];
		CK_ULONG len = sizeof(out);
		CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
		if (p11->C_WrapKey(s, &m, pub, aes, out, &len) != CKR_OK ||
		    p11->C_UnwrapKey(s, &m, cfg.keys[K_UNWRAP].priv, out, len, t, 2, &h) !=
		            CKR_OK ||
		    p11->C_DestroyObject(s, h) != CKR_OK)
			(*fails)++;
	}
	p11->C_DestroyObject(s, aes);
	p11->C_CloseSession(s);
	return NULL;
}

/* ops more operations over threads threads; the failures. */
static unsigned long rss_run(unsigned long ops, int threads)
{
	pthread_t tid[MAX_THREADS];
	unsigned long fails[MAX_THREADS] = {0}, all = 0;

	atomic_store(&rss_next, 0);
	rss_target = ops;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, rss_worker, &fails[i]) != 0) {
			fprintf(stderr, "bench: cannot start thread %d\n", i);
			exit(2);
		}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		all += fails[i];
	}
	return all;
}

/* The peak RSS after 1,000 wrap+unwrap operations, after a tenth of
 * cfg.rss_ops (past the warm-up: the pool of handles, the allocator's
 * arenas) and after cfg.rss_ops. */
static void bench_rss(void)
{
	const int threads = 8; /* over the emulator's processes, evenly enough */
	unsigned long at[3] = {1000, cfg.rss_ops / 10, cfg.rss_ops}, done = 0, fails = 0;
	long kib[3];
	double t0 = now_s();

	if (at[1] < at[0])
		at[0] = at[1] = cfg.rss_ops < 1000 ? cfg.rss_ops : 1000;
	printf("# e. peak RSS (VmHWM) after %lu, %lu and %lu wrap+unwrap round trips, %d "
	       "threads\n",
	       at[0], at[1], at[2], threads);
	for (int i = 0; i < 3; i++) {
		fails += rss_run(at[i] - done, threads);
		done = at[i];
		kib[i] = peak_rss_kib();
	}
	printf("rss: %ld KiB after %lu, %ld KiB after %lu, %ld KiB after %lu (%+ld KiB from "
	       "the first, %+ld from the second; target flat); %.0f operations/s; failures: %lu\n",
	       kib[0], at[0], kib[1], at[1], kib[2], at[2], kib[2] - kib[0], kib[2] - kib[1],
	       (double)done / (now_s() - t0), fails);
	if (fails || kib[0] < 0)
		failed = 1;
}

/* ---------------------------------------------------------------- f. the vault's limits */

struct status_count {
	int ok, throttled, other;
};

static void count_status(const struct logged_request *r, void *ctx)
{
	struct status_count *n = ctx;

	if (!r->host || strcmp(r->host, cfg.vault_host) != 0)
		return;
	if (r->status == 200)
		n->ok++;
	else if (r->status == 429)
		n->throttled++;
	else
		n->other++;
}

/* The statuses the emulator answered to the vault's unwrap requests since
 * the log was emptied: *ok 200, *throttled 429, *other the rest. */
static void count_statuses(int *ok, int *throttled, int *other)
{
	struct status_count n = {0};

	walk_request_log(count_status, &n);
	*ok = n.ok;
	*throttled = n.throttled;
	*other = n.other;
}

/* cfg.limits_threads threads unwrapping through the module for
 * cfg.limits_seconds with the emulator enforcing Key Vault's limits
 * (RSA-2048 software key: 4,000 transactions per 10 s per vault). */
static void bench_limits(void)
{
	double cpu = 0, rate;
	unsigned long ops = 0, fails = 0;
	int ok, throttled, other;
	cJSON *on = admin_call("PUT", "/limits", "{\"enabled\": true}");

	printf("# f. %d threads unwrapping through the module for %.0f s against the vault's "
	       "limits (the emulator's --kv-limits: 4,000 RSA-2048 transactions per 10 s, "
	       "400/s)\n",
	       cfg.limits_threads, cfg.limits_seconds);
	if (!on) {
		failed = 1;
		return;
	}
	cJSON_Delete(on);
	cJSON_Delete(request_log("DELETE"));
	keep_going = 1;
	rate = run_phase(MODULE, K_UNWRAP, cfg.limits_threads, cfg.limits_seconds, &cpu, &ops,
	                 &fails);
	keep_going = 0;
	count_statuses(&ok, &throttled, &other);
	cJSON_Delete(admin_call("PUT", "/limits", "{\"enabled\": false}"));
	printf("limits: module %.0f unwraps/s (limit 400/s); operations %lu, failed %lu; vault "
	       "answers: 200 x%d, 429 x%d (%.1f%% of requests), other x%d\n",
	       rate, ops, fails, ok, throttled,
	       ok + throttled + other ? 100.0 * throttled / (ok + throttled + other) : 0, other);
}

/* ---------------------------------------------------------------- setup */

static char *b64url(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	size_t n;

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	for (n = 0; out[n] && out[n] != '='; n++)
		out[n] = out[n] == '+' ? '-' : out[n] == '/' ? '_' : out[n];
	out[n] = '\0';
	return out;
}

/* The raw request of key k: URL and JSON body, as the module builds them
 * (keyvault.c: kid + "/" + operation + "?api-version=7.4",
 * {"alg": ..., "value": base64url}). */
static int raw_request(struct key *k, enum kind kind)
{
	const unsigned char *in = kind == K_UNWRAP ? wrapped : digest;
	size_t in_len = kind == K_UNWRAP ? wrapped_len : sizeof(digest);
	char *value = b64url(in, in_len);
	cJSON *body = cJSON_CreateObject();
	size_t url_len = strlen(k->kid) + 64;

	k->url = malloc(url_len);
	if (!value || !body || !k->url || !cJSON_AddStringToObject(body, "alg", kind_algs[kind]) ||
	    !cJSON_AddStringToObject(body, "value", value) ||
	    !(k->body = cJSON_PrintUnformatted(body)))
		return -1;
	snprintf(k->url, url_len, "%s/%s?api-version=7.4", k->kid, kind_paths[kind]);
	free(value);
	cJSON_Delete(body);
	return 0;
}

static int read_token(const char *file)
{
	FILE *f = fopen(file, "r");
	char tok[sizeof(cfg.token_header) - 32];
	size_t n = f ? fread(tok, 1, sizeof(tok) - 1, f) : 0;

	if (f)
		fclose(f);
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
		n--;
	tok[n] = '\0';
	if (!n)
		return -1;
	snprintf(cfg.token_header, sizeof(cfg.token_header), "Authorization: Bearer %s", tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return 0;
}

/* The host of a vault URL, into host. */
static void host_of(const char *url, char *host, size_t len)
{
	const char *h = strstr(url, "://");
	snprintf(host, len, "%s", h ? h + 3 : url);
	host[strcspn(host, "/:")] = '\0';
}

static int parse_args(int argc, char **argv)
{
	static char vault_host[256], many_host[256];
	cfg.rounds = 5;
	cfg.seconds = 1.5;
	cfg.wrap_ops = 2000;
	cfg.count_ops = 20;
	cfg.parts = (1u << P_COUNT) - 1;
	cfg.threads[0] = 1;
	cfg.nthreads = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *opt = argv[i];
		char *val = argv[i + 1];
		int k;
		if (strcmp(opt, "--port") == 0)
			cfg.port = atoi(val);
		else if (strcmp(opt, "--ca") == 0)
			cfg.ca = val;
		else if (strcmp(opt, "--vault") == 0) {
			host_of(val, vault_host, sizeof(vault_host));
			cfg.vault_host = vault_host;
		} else if (strcmp(opt, "--many-vault") == 0) {
			host_of(val, many_host, sizeof(many_host));
			cfg.many_host = many_host;
		} else if (strcmp(opt, "--many-slot") == 0)
			cfg.many_slot = atoi(val);
		else if (strcmp(opt, "--many-keys") == 0)
			cfg.many_keys = atoi(val);
		else if (strcmp(opt, "--rss-ops") == 0)
			cfg.rss_ops = strtoul(val, NULL, 10);
		else if (strcmp(opt, "--limits-threads") == 0)
			cfg.limits_threads = atoi(val);
		else if (strcmp(opt, "--limits-seconds") == 0)
			cfg.limits_seconds = atof(val);
		else if (strcmp(opt, "--token-file") == 0) {
			if (read_token(val) != 0)
				return -1;
		} else if (strcmp(opt, "--threads") == 0) {
			cfg.nthreads = 0;
			for (char *t = strtok(val, ","); t && cfg.nthreads < 8;
			     t = strtok(NULL, ","))
				cfg.threads[cfg.nthreads++] = atoi(t);
		} else if (strcmp(opt, "--rounds") == 0)
			cfg.rounds = atoi(val);
		else if (strcmp(opt, "--seconds") == 0)
			cfg.seconds = atof(val);
		else if (strcmp(opt, "--wrap-ops") == 0)
			cfg.wrap_ops = strtoul(val, NULL, 10);
		else if (strcmp(opt, "--count-ops") == 0)
			cfg.count_ops = strtoul(val, NULL, 10);
		else if (strcmp(opt, "--parts") == 0) {
			cfg.parts = 0;
			for (char *t = strtok(val, ","); t; t = strtok(NULL, ",")) {
				int p;
				for (p = 0; p < P_COUNT && strcmp(t, part_names[p]) != 0; p++)
					;
				if (p == P_COUNT)
					return -1;
				cfg.parts |= 1u << p;
			}
		} else if (strcmp(opt, "--js-unwrap") == 0)
			cfg.js_script = val;
		else {
			char *kid = strchr(val, ','), *pem = kid ? strchr(kid + 1, ',') : NULL;
			for (k = 0; k < K_COUNT && strcmp(opt, kind_options[k]) != 0; k++)
				;
			if (k == K_COUNT || !pem || strncmp(kid + 1, "https://", 8) != 0)
				return -1;
			*kid++ = '\0';
			*pem++ = '\0';
			cfg.keys[k].label = val;
			cfg.keys[k].kid = kid;
			if (!strchr(kid + 8, '/'))
				return -1;
			if (!(cfg.keys[k].pub = test_read_public_pem("bench", pem)))
				return -1;
		}
	}
	for (int i = 0; i < cfg.nthreads; i++)
		if (cfg.threads[i] < 1 || cfg.threads[i] > MAX_THREADS)
			return -1;
	for (int k = 0; k < K_COUNT; k++)
		if (!cfg.keys[k].label)
			return -1;
	if ((cfg.many_keys && (!cfg.many_host || cfg.many_keys < 1 || cfg.many_slot < 0)) ||
	    cfg.limits_threads < 0 || cfg.limits_threads > MAX_THREADS ||
	    (cfg.limits_threads && cfg.limits_seconds <= 0))
		return -1;
	return argc % 2 == 1 && cfg.port > 0 && cfg.ca && cfg.vault_host && cfg.token_header[0] &&
	                       cfg.rounds >= 1 && cfg.rounds <= MAX_ROUNDS && cfg.seconds > 0 &&
	                       cfg.wrap_ops > 0 && cfg.count_ops > 0 && cfg.nthreads > 0
	               ? 0
	               : -1;
}

/* The unwrap key's wrapped AES key, the data and digest signed, and the
 * raw requests and handles. */
static int setup_requests(void)
{
	EVP_PKEY_CTX *c = oaep_ctx();
	unsigned char key[AES_LEN];
	char connect_to[64];
	int ok = c && RAND_bytes(key, AES_LEN) == 1 &&
	         RAND_bytes(sign_data, sizeof(sign_data)) == 1 &&
	         (wrapped_len = sizeof(wrapped),
	          EVP_PKEY_encrypt(c, wrapped, &wrapped_len, key, AES_LEN) == 1) &&
	         EVP_Digest(sign_data, sizeof(sign_data), digest, NULL, EVP_sha256(), NULL) == 1;

	EVP_PKEY_CTX_free(c);
	OPENSSL_cleanse(key, sizeof(key));
	for (int k = 0; ok && k < K_COUNT; k++)
		ok = raw_request(&cfg.keys[k], (enum kind)k) == 0;
	snprintf(connect_to, sizeof(connect_to), "::127.0.0.1:%d", cfg.port);
	ok = ok && (raw_connect_to = curl_slist_append(NULL, connect_to)) &&
	     (raw_headers = curl_slist_append(NULL, cfg.token_header)) &&
	     curl_slist_append(raw_headers, "Accept: application/json") &&
	     curl_slist_append(raw_headers, "Content-Type: application/json");
	for (int i = 0; ok && i < MAX_THREADS; i++)
		ok = (raw_handle[i] = raw_easy()) != NULL;
	return ok ? 0 : -1;
}

/* C_Initialize to the first unwrap; with --parts cold, the time and the
 * requests it took (not against serve --workers, whose request log is each
 * process's own). */
static CK_SESSION_HANDLE cold_start(void)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	int report = cfg.parts & 1u << P_COLD;
	double t0;
	int all, vault;

	if (report)
		cJSON_Delete(request_log("DELETE"));
	t0 = now_s();
	if (p11->C_Initialize(&args) != CKR_OK ||
	    p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
		fprintf(stderr, "bench: C_Initialize / C_OpenSession failed\n");
		exit(2);
	}
	for (int k = 0; k < K_COUNT; k++)
		if ((cfg.keys[k].priv = p11_find_one(p11, s, CKO_PRIVATE_KEY, cfg.keys[k].label)) ==
		    CK_INVALID_HANDLE) {
			fprintf(stderr, "bench: no private key labelled %s\n", cfg.keys[k].label);
			exit(2);
		}
	if (module_op(s, K_UNWRAP) != 0)
		failed = 1;
	if (!report)
		return s;
	printf("# cold start: C_Initialize, C_OpenSession, find the 3 keys, first C_UnwrapKey\n");
	printf("cold_start_ms: %.1f\n", (now_s() - t0) * 1e3);
	printf("# the requests it took:\n");
	all = count_requests(&vault, NULL, 0, 1);
	printf("cold_start_requests: %d (vault %d, other hosts (the token) %d)\n", all, vault,
	       all - vault);
	return s;
}

/* ---------------------------------------------------------------- g. the JS SDK */

/* The other side of g: `node SCRIPT` (tests/bench/js-unwrap.mjs, which says
 * its protocol), its stdin and stdout as pipes to this process. */
static struct {
	pid_t pid;
	FILE *to, *from;
} js = {.pid = -1};

static int js_start(void)
{
	int in[2], out[2];
	posix_spawn_file_actions_t fa;
	char *argv[] = {"node", (char *)cfg.js_script, NULL};
	extern char **environ;
	int rc;

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	/* Not the module's connections or anything else of this process. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	/* A Node that died is an answer missing, not the end of this process. */
	signal(SIGPIPE, SIG_IGN);
	rc = posix_spawnp(&js.pid, "node", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc != 0)
		js.pid = -1;
	if (!(js.to = fdopen(in[1], "w")))
		close(in[1]);
	if (!(js.from = fdopen(out[0], "r")))
		close(out[0]);
	return rc == 0 && js.to && js.from ? 0 : -1;
}

/* Sends one command line and reads the answer into line; 0 when it
 * starts with want. */
static int js_ask(const char *command, const char *want, char *line, size_t len)
{
	if (fprintf(js.to, "%s\n", command) < 0 || fflush(js.to) != 0 ||
	    !fgets(line, (int)len, js.from) || strncmp(line, want, strlen(want)) != 0) {
		fprintf(stderr, "bench: the JS SDK side gave no \"%s\" answer\n", want);
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

/* One round of the JS side: n unwraps in flight for cfg.seconds; ops/s. */
static double js_phase(int n, double *cpu, unsigned long *ops, unsigned long *fails)
{
	char command[64], line[256];
	unsigned long done = 0, failures = 0;
	double elapsed = 0, cpu_s = 0;

	snprintf(command, sizeof(command), "run %d %.3f", n, cfg.seconds);
	if (js_ask(command, "done ", line, sizeof(line)) != 0 ||
	    sscanf(line, "done %lu %lf %lf %lu", &done, &elapsed, &cpu_s, &failures) != 4) {
		(*fails)++;
		return 0;
	}
	*ops += done;
	*fails += failures;
	*cpu += cpu_s;
	return elapsed > 0 ? (double)done / elapsed : 0;
}

/* g. C_UnwrapKey against CryptographyClient.unwrapKey of the Azure SDK for
 * JavaScript: the same key and wrapped key on the same emulator, at 1 in
 * flight and at the highest thread count, rounds alternating between this
 * process's threads and Node's promises (each side timed in its own
 * process; Node's start-up, first challenge and token, and a round at
 * each concurrency are left out). The JS side's figures go where b puts
 * the raw side's. */
#define JS RAW
static void bench_js(void)
{
	char *value = b64url(wrapped, wrapped_len);
	char *command = value ? malloc(strlen(cfg.keys[K_UNWRAP].kid) + strlen(value) + 16) : NULL;
	char line[256], node[64] = "", sdk[64] = "";
	int levels[2] = {1, cfg.threads[cfg.nthreads - 1]};
	/* At most 3 rounds (about 21 s at 1.5 s a round): make bench must end
	 * within 5 minutes on 2 cores, and b takes most of them. */
	int rounds = cfg.rounds < 3 ? cfg.rounds : 3;

	if (!command || js_start() != 0) {
		fprintf(stderr, "bench: cannot start node %s\n", cfg.js_script);
		failed = 1;
		free(value);
		free(command);
		return;
	}
	sprintf(command, "setup %s %s", cfg.keys[K_UNWRAP].kid, value);
	free(value);
	if (js_ask(command, "ready ", line, sizeof(line)) != 0) {
		failed = 1;
		free(command);
		return;
	}
	free(command);
	sscanf(line, "ready %63s %63s", node, sdk);
	printf("# g. the module vs the Azure SDK for JavaScript (Node %s, @azure/keyvault-keys "
	       "%s, CryptographyClient.unwrapKey RSA-OAEP-256), the same key and wrapped key, %d "
	       "rounds of %.1f s per side, alternating; medians. n in flight: n module threads, "
	       "n promises in one Node process.\n",
	       node, sdk, rounds, cfg.seconds);
	for (int li = 0; li < (levels[1] > 1 ? 2 : 1); li++) {
		int n = levels[li];
		double rate[2][MAX_ROUNDS], cpu[2] = {0}, m[2];
		unsigned long ops[2] = {0}, fails[2] = {0};
		char what[64];

		/* Untimed: Node's JIT and connections at n (the module's are
		 * warm from b). */
		js_phase(n, &cpu[JS], &ops[JS], &fails[JS]);
		cpu[JS] = 0;
		ops[JS] = 0;
		for (int r = 0; r < rounds; r++) {
			enum side first = r % 2 ? JS : MODULE;
			for (int i = 0; i < 2; i++) {
				enum side side = i ? !first : first;
				rate[side][r] =
				        side == MODULE
				                ? run_phase(MODULE, K_UNWRAP, n, cfg.seconds,
				                            &cpu[MODULE], &ops[MODULE],
				                            &fails[MODULE])
				                : js_phase(n, &cpu[JS], &ops[JS], &fails[JS]);
			}
		}
		m[MODULE] = median(rate[MODULE], rounds);
		m[JS] = median(rate[JS], rounds);
		snprintf(what, sizeof(what), "unwrap vs JS SDK, %d in flight", n);
		print_ratio(what, "module", m[MODULE], "js_sdk", m[JS], ">= 3");
		printf("  cpu_us_per_op: module %.0f, node %.0f; operations: module %lu, "
		       "js_sdk %lu; failures: module %lu, js_sdk %lu\n",
		       ops[MODULE] ? cpu[MODULE] * 1e6 / (double)ops[MODULE] : 0,
		       ops[JS] ? cpu[JS] * 1e6 / (double)ops[JS] : 0, ops[MODULE], ops[JS],
		       fails[MODULE], fails[JS]);
		if (fails[MODULE] || fails[JS] || !ops[MODULE] || !ops[JS])
			failed = 1;
	}
}

static void js_stop(void)
{
	int status;

	if (js.to)
		fclose(js.to); /* its input ends: Node exits */
	if (js.from)
		fclose(js.from);
	if (js.pid > 0 && (waitpid(js.pid, &status, 0) != js.pid || !WIFEXITED(status) ||
	                   WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "bench: node %s did not exit cleanly\n", cfg.js_script);
		failed = 1;
	}
}

int main(int argc, char **argv)
{
	CK_SESSION_HANDLE s;

	setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as it comes, through a pipe too */
	if (parse_args(argc, argv) != 0) {
		fprintf(stderr,
		        "usage: bench --port P --ca CA --vault URL --token-file F\n"
		        "       --unwrap LABEL,KID,PUB.pem --rs256 LABEL,KID,PUB.pem --es256 "
		        "LABEL,KID,PUB.pem\n"
		        "       [--threads 1,4,16 (1-%d)] [--rounds 5 (1-%d)] [--seconds 1.5]\n"
		        "       [--wrap-ops 2000] [--count-ops 20] [--parts "
		        "cold,counts,rss,wrap,remote,find,limits,js]\n"
		        "       [--many-vault URL --many-slot N --many-keys N] [--rss-ops N]\n"
		        "       [--limits-threads N (1-%d) --limits-seconds S]\n"
		        "       [--js-unwrap tests/bench/js-unwrap.mjs]\n",
		        MAX_THREADS, MAX_ROUNDS, MAX_THREADS);
		return 2;
	}
	/* Bounded whatever the module or the emulator does: the timed phases'
	 * own length, 10 ms per round trip of e (100/s) and 3 minutes for the
	 * rest; SIGALRM's default ends the run (and g's Node's input with it). */
	alarm((unsigned)((K_COUNT * cfg.nthreads + (cfg.js_script ? 2 : 0)) * cfg.rounds * 2 *
	                         cfg.seconds +
	                 cfg.limits_seconds) +
	      (unsigned)(cfg.rss_ops / 100) + 180);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (setup_requests() != 0) {
		fprintf(stderr, "bench: cannot prepare the raw requests\n");
		return 2;
	}
	if ((p11 = p11_load("bench")) == NULL)
		return 2;
	s = cold_start();
	if (cfg.parts & 1u << P_COUNTS)
		bench_counts(s);
	if (cfg.parts & 1u << P_RSS && cfg.rss_ops)
		bench_rss();
	if (cfg.parts & 1u << P_WRAP)
		bench_wrap(s);
	if (cfg.parts & 1u << P_REMOTE)
		bench_remote();
	if (cfg.parts & 1u << P_FIND && cfg.many_keys)
		bench_find();
	if (cfg.parts & 1u << P_LIMITS && cfg.limits_threads)
		bench_limits();
	if (cfg.parts & 1u << P_JS && cfg.js_script) {
		bench_js();
		js_stop();
	}
	p11->C_CloseSession(s);
	p11->C_Finalize(NULL);
	p11_unload();
	for (int i = 0; i < MAX_THREADS; i++)
		curl_easy_cleanup(raw_handle[i]);
	curl_slist_free_all(raw_headers);
	curl_slist_free_all(raw_connect_to);
	for (int k = 0; k < K_COUNT; k++) {
		EVP_PKEY_free(cfg.keys[k].pub);
		free(cfg.keys[k].url);
		cJSON_free(cfg.keys[k].body);
	}
	OPENSSL_cleanse(cfg.token_header, sizeof(cfg.token_header));
	curl_global_cleanup();
	printf("result: %s\n", failed ? "FAIL" : "PASS");
	return failed ? 1 : 0;
}
