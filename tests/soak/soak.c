/* The soak's workload (tests/soak/run.sh starts the emulator, sets its
 * faults and runs this):
 *
 *   soak --ops N --threads T --seconds S [--grace G]
 *        [--unwrap LABEL=PUB.pem] [--rs256 LABEL=PUB.pem] [--es256 LABEL=PUB.pem]
 *
 * loads AZKV_MODULE (configured by AZKV_PKCS11_CONFIG) and runs N
 * operations over T threads, each thread with its own session, taking
 * turns over the kinds given: C_UnwrapKey with RSA-OAEP-256 of a fresh
 * AES key wrapped here with the vault key's public half; C_Sign with
 * CKM_SHA256_RSA_PKCS (RS256) or CKM_ECDSA_SHA256 (ES256). Every result
 * is checked against what the vault cannot fake: the unwrapped key's
 * value against the key that was wrapped, every signature against the
 * public key (PUB.pem, exported from the emulator, not read through the
 * module). After S seconds no new operation starts (the figures say so).
 *
 * The workload runs in a child process, its figures in memory shared
 * with the parent, so that a crash of the module is reported (with the
 * figures up to then) rather than taking the report with it; a child
 * still running G seconds (default 120) after the cap is killed and
 * reported as hung. The report, one "name: value" line each:
 *
 *   requested, operations (per kind), successes, clean_failures (by
 *   CKR_* name), unclean_failures (by name), wrong_results, crashes,
 *   hung, workload_exit (the child's exit status: a sanitizer's or
 *   valgrind's report makes it non-zero), latency_ms (p50, p99, max, of
 *   every finished operation), wall_s, time_capped
 *
 * Exit status: 0 when wrong_results, unclean_failures, crashes, hung and
 * workload_exit are all 0; 1 when not; 2 for bad usage or a setup that
 * failed (module, keys, public key files). */
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "p11_load.h"
#include "pem.h"

#define MAX_THREADS 64
#define MAX_CODES   16 /* distinct CK_RVs counted per thread */
#define AES_LEN     32

/* A failure that an injected fault may cause once the module's retries
 * are spent: the vault could not be reached or did not answer properly,
 * which PKCS#11 calls CKR_DEVICE_ERROR ("some problem has occurred with
 * the token and/or slot"). Any other failure is unclean: CKR_GENERAL_ERROR
 * (the module's own unrecoverable error), CKR_FUNCTION_FAILED (no reason,
 * where the module knows it), CKR_DEVICE_MEMORY (the token's memory, not
 * what happened), CKR_HOST_MEMORY, and codes that blame the caller's input
 * or key (CKR_WRAPPED_KEY_INVALID, CKR_KEY_HANDLE_INVALID, ...), which
 * would be false here: every request is valid. */
static const CK_RV clean_codes[] = {CKR_DEVICE_ERROR};

enum kind { K_UNWRAP, K_RS256, K_ES256, K_COUNT };
static const char *const kind_names[K_COUNT] = {"unwrap", "sign_rs256", "sign_es256"};
static const char *const kind_options[K_COUNT] = {"--unwrap", "--rs256", "--es256"};

struct code_count {
	CK_RV rv;
	unsigned long n;
};

/* One per thread, written by that thread only; read by the parent after
 * the child has ended. */
struct tally {
	unsigned long ops[K_COUNT];
	unsigned long ok;
	unsigned long wrong;
	struct code_count failed[MAX_CODES];
	unsigned long failed_other; /* beyond MAX_CODES distinct codes */
};

/* Shared between the parent and the child (MAP_SHARED). */
struct shared {
	atomic_ulong next;   /* the next operation's index */
	atomic_int capped;   /* the time cap stopped the run */
	atomic_int setup_ok; /* the child got as far as the workload */
	struct tally t[MAX_THREADS];
	uint32_t latency_us[]; /* per operation: 0 not finished, else microseconds + 1 */
};

struct key {
	const char *label;
	EVP_PKEY *pub;
	CK_OBJECT_HANDLE priv;
};

static struct {
	unsigned long ops;
	int threads;
	double seconds;
	double grace; /* after the cap: longer than one call may take (retries included) */
	struct key keys[K_COUNT]; /* label NULL: kind not run */
	int kinds[K_COUNT];
	int nkinds;
} cfg;

static CK_FUNCTION_LIST *p11;
static struct shared *sh;
static struct timespec t0;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0.tv_sec) + (double)(ts.tv_nsec - t0.tv_nsec) / 1e9;
}

static const char *rv_name(CK_RV rv, char *buf, size_t len)
{
	static const struct {
		CK_RV rv;
		const char *name;
	} names[] = {
#define N(x) {x, #x}
	        N(CKR_OK),
	        N(CKR_HOST_MEMORY),
	        N(CKR_GENERAL_ERROR),
	        N(CKR_FUNCTION_FAILED),
	        N(CKR_ARGUMENTS_BAD),
	        N(CKR_CANT_LOCK),
	        N(CKR_ATTRIBUTE_VALUE_INVALID),
	        N(CKR_DATA_INVALID),
	        N(CKR_DATA_LEN_RANGE),
	        N(CKR_DEVICE_ERROR),
	        N(CKR_DEVICE_MEMORY),
	        N(CKR_DEVICE_REMOVED),
	        N(CKR_ENCRYPTED_DATA_INVALID),
	        N(CKR_FUNCTION_CANCELED),
	        N(CKR_KEY_HANDLE_INVALID),
	        N(CKR_KEY_TYPE_INCONSISTENT),
	        N(CKR_KEY_FUNCTION_NOT_PERMITTED),
	        N(CKR_MECHANISM_INVALID),
	        N(CKR_MECHANISM_PARAM_INVALID),
	        N(CKR_OBJECT_HANDLE_INVALID),
	        N(CKR_OPERATION_ACTIVE),
	        N(CKR_OPERATION_NOT_INITIALIZED),
	        N(CKR_SESSION_HANDLE_INVALID),
	        N(CKR_TEMPLATE_INCOMPLETE),
	        N(CKR_TEMPLATE_INCONSISTENT),
	        N(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
	        N(CKR_WRAPPED_KEY_INVALID),
	        N(CKR_WRAPPED_KEY_LEN_RANGE),
	        N(CKR_BUFFER_TOO_SMALL),
	        N(CKR_CRYPTOKI_NOT_INITIALIZED),
#undef N
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(buf, len, "CKR_0x%08lx", (unsigned long)rv);
	return buf;
}

static int is_clean(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(clean_codes) / sizeof(clean_codes[0]); i++)
		if (clean_codes[i] == rv)
			return 1;
	return 0;
}

static void count_failure(struct tally *t, CK_RV rv)
{
	for (int i = 0; i < MAX_CODES; i++) {
		if (t->failed[i].n == 0)
			t->failed[i].rv = rv;
		if (t->failed[i].rv == rv) {
			t->failed[i].n++;
			return;
		}
	}
	t->failed_other++;
}

/* ---------------------------------------------------------------- operations */

enum outcome { OUT_OK, OUT_WRONG, OUT_FAILED };

/* The module's calls of one operation, timed. */
struct op {
	CK_SESSION_HANDLE s;
	CK_RV rv;
	double call_s;
};

static int oaep_encrypt(EVP_PKEY *pub, const unsigned char *in, size_t in_len, unsigned char *out,
                        size_t *out_len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pub, NULL);
	int ok = c && EVP_PKEY_encrypt_init(c) == 1 &&
	         EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
	         EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
	         EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
	         EVP_PKEY_encrypt(c, out, out_len, in, in_len) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

static enum outcome do_unwrap(struct op *op, const struct key *k)
{
	static CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
	                                       NULL, 0};
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                       {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                       {CKA_SENSITIVE, &no, sizeof(no)},
	                       {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	unsigned char key[AES_LEN], value[64], wrapped[1024];
	size_t wrapped_len = sizeof(wrapped);
	CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	enum outcome out = OUT_WRONG;
	double start;

	if (RAND_bytes(key, sizeof(key)) != 1 ||
	    !oaep_encrypt(k->pub, key, sizeof(key), wrapped, &wrapped_len)) {
		fprintf(stderr, "soak: OpenSSL could not wrap a key\n");
		_exit(2);
	}
	start = now_s();
	op->rv = p11->C_UnwrapKey(op->s, &m, k->priv, wrapped, (CK_ULONG)wrapped_len, tmpl, 4, &h);
	op->call_s = now_s() - start;
	if (op->rv != CKR_OK) {
		out = OUT_FAILED;
	} else {
		if (p11->C_GetAttributeValue(op->s, h, &v, 1) == CKR_OK &&
		    v.ulValueLen == sizeof(key) && CRYPTO_memcmp(value, key, sizeof(key)) == 0)
			out = OUT_OK;
		else
			fprintf(stderr,
			        "soak: WRONG: an unwrap gave another key than the one wrapped\n");
		p11->C_DestroyObject(op->s, h);
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(value, sizeof(value));
	return out;
}

/* PKCS#11's r || s as the DER ECDSA-Sig-Value OpenSSL verifies; owned. */
static unsigned char *ecdsa_der(const unsigned char *sig, size_t len, int *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	unsigned char *der = NULL;

	*der_len = 0;
	if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL; /* owned by es */
		*der_len = i2d_ECDSA_SIG(es, &der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return *der_len > 0 ? der : NULL;
}

static int verify(EVP_PKEY *pub, const unsigned char *data, size_t data_len,
                  const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, pub) == 1 &&
	         EVP_DigestVerify(c, sig, sig_len, data, data_len) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

static enum outcome do_sign(struct op *op, const struct key *k, enum kind kind)
{
	CK_MECHANISM m = {kind == K_RS256 ? CKM_SHA256_RSA_PKCS : CKM_ECDSA_SHA256, NULL, 0};
	unsigned char data[64], sig[1024], *der = NULL;
	CK_ULONG sig_len = sizeof(sig);
	int der_len = 0, ok;
	double start;

	if (RAND_bytes(data, sizeof(data)) != 1) {
		fprintf(stderr, "soak: OpenSSL has no random bytes\n");
		_exit(2);
	}
	start = now_s();
	op->rv = p11->C_SignInit(op->s, &m, k->priv);
	if (op->rv == CKR_OK)
		op->rv = p11->C_Sign(op->s, data, sizeof(data), sig, &sig_len);
	op->call_s = now_s() - start;
	if (op->rv != CKR_OK)
		return OUT_FAILED;
	if (kind == K_ES256) {
		der = sig_len == 64 ? ecdsa_der(sig, sig_len, &der_len) : NULL;
		ok = der && verify(k->pub, data, sizeof(data), der, (size_t)der_len);
		OPENSSL_free(der);
	} else {
		ok = verify(k->pub, data, sizeof(data), sig, sig_len);
	}
	if (!ok)
		fprintf(stderr, "soak: WRONG: a %s signature does not verify\n", kind_names[kind]);
	return ok ? OUT_OK : OUT_WRONG;
}

/* ---------------------------------------------------------------- the child */

static void *worker(void *arg)
{
	struct tally *t = arg;
	struct op op = {0};
	char name[32];
	CK_RV rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &op.s);

	if (rv != CKR_OK) {
		fprintf(stderr, "soak: C_OpenSession: %s\n", rv_name(rv, name, sizeof(name)));
		count_failure(t, rv);
		return NULL;
	}
	for (;;) {
		unsigned long i;
		enum kind kind;
		enum outcome out;

		if (now_s() >= cfg.seconds) {
			atomic_store(&sh->capped, 1);
			break;
		}
		i = atomic_fetch_add(&sh->next, 1);
		if (i >= cfg.ops)
			break;
		kind = (enum kind)cfg.kinds[i % (unsigned long)cfg.nkinds];
		out = kind == K_UNWRAP ? do_unwrap(&op, &cfg.keys[kind])
		                       : do_sign(&op, &cfg.keys[kind], kind);
		t->ops[kind]++;
		if (out == OUT_OK)
			t->ok++;
		else if (out == OUT_WRONG)
			t->wrong++;
		else
			count_failure(t, op.rv);
		sh->latency_us[i] = (uint32_t)(op.call_s * 1e6) + 1;
	}
	p11->C_CloseSession(op.s);
	return NULL;
}

/* Loads the module and finds the keys; 0 on success. */
static int child_setup(void)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_SESSION_HANDLE s;
	char name[32];
	CK_RV rv;

	if ((p11 = p11_load("soak")) == NULL)
		return -1;
	if ((rv = p11->C_Initialize(&args)) != CKR_OK ||
	    (rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		fprintf(stderr, "soak: C_Initialize / C_OpenSession: %s\n",
		        rv_name(rv, name, sizeof(name)));
		return -1;
	}
	for (int i = 0; i < cfg.nkinds; i++) {
		struct key *k = &cfg.keys[cfg.kinds[i]];
		k->priv = p11_find_one(p11, s, CKO_PRIVATE_KEY, k->label);
		if (k->priv == CK_INVALID_HANDLE) {
			fprintf(stderr, "soak: no private key labelled %s\n", k->label);
			p11->C_CloseSession(s);
			return -1;
		}
	}
	p11->C_CloseSession(s);
	return 0;
}

static int child_main(void)
{
	pthread_t threads[MAX_THREADS];
	int started = 0, rc = 2;

	if (child_setup() == 0) {
		atomic_store(&sh->setup_ok, 1);
		for (; started < cfg.threads; started++)
			if (pthread_create(&threads[started], NULL, worker, &sh->t[started]) != 0)
				break;
		for (int i = 0; i < started; i++)
			pthread_join(threads[i], NULL);
		rc = started == cfg.threads ? 0 : 2;
		if (rc)
			fprintf(stderr, "soak: could start only %d threads\n", started);
	}
	if (p11)
		p11->C_Finalize(NULL);
	p11_unload();
	return rc;
}

/* ---------------------------------------------------------------- the parent */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void print_codes(const char *label, const struct code_count *codes, int n,
                        unsigned long total)
{
	char name[32];
	printf("%s: %lu", label, total);
	for (int i = 0; i < n; i++)
		printf("%s%s %lu", i ? ", " : " (", rv_name(codes[i].rv, name, sizeof(name)),
		       codes[i].n);
	printf("%s\n", n ? ")" : "");
}

/* Adds t's failures into the clean or unclean list (room for MAX_CODES per
 * thread); the count of those added. */
static unsigned long merge_failures(struct code_count *into, int *n, int want_clean,
                                    const struct tally *t)
{
	unsigned long added = 0;
	for (int i = 0; i < MAX_CODES && t->failed[i].n; i++) {
		int j;
		if (is_clean(t->failed[i].rv) != want_clean)
			continue;
		for (j = 0; j < *n && into[j].rv != t->failed[i].rv; j++)
			;
		if (j == *n)
			into[(*n)++] = (struct code_count){t->failed[i].rv, 0};
		into[j].n += t->failed[i].n;
		added += t->failed[i].n;
	}
	return added;
}

/* Prints the figures; returns whether the run passed. exit_status: the
 * workload's, when it ended by itself (not 0: LeakSanitizer or valgrind
 * reported something at its exit). */
static int report(int crashed, int hung, int exit_status, double wall)
{
	static struct code_count clean[MAX_CODES * MAX_THREADS], unclean[MAX_CODES * MAX_THREADS];
	int nclean = 0, nunclean = 0;
	unsigned long ops[K_COUNT] = {0}, total = 0, ok = 0, wrong = 0, nclean_f = 0,
	              nunclean_f = 0;
	uint32_t *lat = calloc(cfg.ops ? cfg.ops : 1, sizeof(*lat));
	size_t nlat = 0;

	for (int i = 0; i < cfg.threads; i++) {
		const struct tally *t = &sh->t[i];
		for (int k = 0; k < K_COUNT; k++)
			ops[k] += t->ops[k];
		ok += t->ok;
		wrong += t->wrong;
		nclean_f += merge_failures(clean, &nclean, 1, t);
		nunclean_f += merge_failures(unclean, &nunclean, 0, t) + t->failed_other;
	}
	for (int k = 0; k < K_COUNT; k++)
		total += ops[k];
	for (unsigned long i = 0; lat && i < cfg.ops; i++)
		if (sh->latency_us[i])
			lat[nlat++] = sh->latency_us[i] - 1;
	if (lat)
		qsort(lat, nlat, sizeof(*lat), cmp_u32);

	printf("requested: %lu over %d threads\n", cfg.ops, cfg.threads);
	printf("operations: %lu (", total);
	for (int i = 0; i < cfg.nkinds; i++)
		printf("%s%s %lu", i ? ", " : "", kind_names[cfg.kinds[i]], ops[cfg.kinds[i]]);
	printf(")\n");
	printf("successes: %lu\n", ok);
	print_codes("clean_failures", clean, nclean, nclean_f);
	print_codes("unclean_failures", unclean, nunclean, nunclean_f);
	printf("wrong_results: %lu\n", wrong);
	if (crashed)
		printf("crashes: 1 (signal %d, %s)\n", crashed, strsignal(crashed));
	else
		printf("crashes: 0\n");
	printf("hung: %d\n", hung);
	printf("workload_exit: %d\n", exit_status);
	if (nlat)
		printf("latency_ms: p50 %.1f p99 %.1f max %.1f\n", lat[(nlat - 1) / 2] / 1e3,
		       lat[(nlat * 99 + 99) / 100 - 1] / 1e3, lat[nlat - 1] / 1e3);
	else
		printf("latency_ms: none\n");
	printf("wall_s: %.1f\n", wall);
	printf("time_capped: %s\n", atomic_load(&sh->capped) ? "yes" : "no");
	free(lat);
	return wrong == 0 && nunclean_f == 0 && !crashed && !hung && !exit_status;
}

/* Waits for the child until the cap plus the grace; kills it after that.
 * Returns the child's exit status, or -1 when it crashed (*crashed: the
 * signal) or hung (*hung). */
static int wait_child(pid_t pid, int *crashed, int *hung)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};
	int status = 0;
	pid_t got;

	while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
		if (now_s() > cfg.seconds + cfg.grace) {
			fprintf(stderr,
			        "soak: the workload still runs %.0f s after the cap; killed\n",
			        cfg.grace);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*hung = 1;
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	if (got < 0) {
		perror("soak: waitpid");
		return -1;
	}
	if (WIFSIGNALED(status)) {
		*crashed = WTERMSIG(status);
		fprintf(stderr, "soak: the workload died of signal %d (%s)\n", *crashed,
		        strsignal(*crashed));
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---------------------------------------------------------------- usage */

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];
		int k;
		if (strcmp(opt, "--ops") == 0)
			cfg.ops = strtoul(val, NULL, 10);
		else if (strcmp(opt, "--threads") == 0)
			cfg.threads = atoi(val);
		else if (strcmp(opt, "--seconds") == 0)
			cfg.seconds = atof(val);
		else if (strcmp(opt, "--grace") == 0)
			cfg.grace = atof(val);
		else {
			char *eq = strchr(val, '=');
			for (k = 0; k < K_COUNT && strcmp(opt, kind_options[k]) != 0; k++)
				;
			if (k == K_COUNT || !eq || cfg.keys[k].label)
				return -1;
			*eq = '\0';
			cfg.keys[k].label = val;
			if (!(cfg.keys[k].pub = test_read_public_pem("soak", eq + 1)))
				return -1;
			cfg.kinds[cfg.nkinds++] = k;
		}
	}
	return argc % 2 == 1 && cfg.ops > 0 && cfg.threads >= 1 && cfg.threads <= MAX_THREADS &&
	                       cfg.seconds > 0 && cfg.grace >= 0 && cfg.nkinds > 0
	               ? 0
	               : -1;
}

int main(int argc, char **argv)
{
	size_t size;
	pid_t pid;
	int crashed = 0, hung = 0, status, rc, passed;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cfg.grace = 120;
	if (parse_args(argc, argv) != 0) {
		fprintf(stderr,
		        "usage: soak --ops N --threads T (1-%d) --seconds S [--grace 120]\n"
		        "       [--unwrap LABEL=PUB.pem] [--rs256 LABEL=PUB.pem] "
		        "[--es256 LABEL=PUB.pem]   (at least one)\n",
		        MAX_THREADS);
		rc = 2;
		goto out;
	}
	size = sizeof(*sh) + cfg.ops * sizeof(sh->latency_us[0]);
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("soak: mmap");
		sh = NULL;
		rc = 2;
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("soak: fork");
		rc = 2;
		goto out;
	}
	if (pid == 0) {
		rc = child_main();
		for (int k = 0; k < K_COUNT; k++)
			EVP_PKEY_free(cfg.keys[k].pub);
		munmap(sh, size);
		/* exit(), not _exit(): the leak checkers (LeakSanitizer's atexit) run. The
		 * parent forked before any thread started, so the child may. */
		exit(rc);
	}
	status = wait_child(pid, &crashed, &hung);
	if (status == 2 || (status == 0 && !atomic_load(&sh->setup_ok))) {
		fprintf(stderr, "soak: the workload could not start (see above)\n");
		rc = 2;
	} else {
		passed = report(crashed, hung, status > 0 ? status : 0, now_s());
		rc = passed ? 0 : 1;
	}
	munmap(sh, size);
out:
	for (int k = 0; k < K_COUNT; k++)
		EVP_PKEY_free(cfg.keys[k].pub);
	return rc;
}
