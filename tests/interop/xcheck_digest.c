/* Message digests, azkv-pkcs11 against SoftHSMv2: the same calls on both
 * modules, loaded side by side, and their answers compared line by line.
 *
 *   xcheck_digest AZKV_MODULE SOFTHSM_MODULE TOKEN_LABEL PIN RSA_LABEL
 *
 * TOKEN_LABEL names the token on both; PIN is its user PIN, given where
 * the token sets CKF_LOGIN_REQUIRED (SoftHSMv2's); RSA_LABEL is an RSA
 * private key on both (a vault key on the module's token), which
 * C_DigestKey must refuse on both. An AES key of one value is made on both
 * with C_CreateObject for C_DigestKey.
 *
 * Each case is a short run of calls in a session of its own (closing it
 * ends whatever the case left going); its answers (each CK_RV, a length,
 * the digest in hex) become one line of text. A case passes when the
 * module's text is the expected one (digests computed with OpenSSL here,
 * the CK_RVs PKCS#11 3.0 section 5.10 gives) and SoftHSMv2's text is the
 * same, unless SoftHSMv2 lacks the mechanism (SHA-3: the module's line
 * only, said so) or the case documents why the two differ. Output is TAP;
 * the exit status is 1 when any case failed. Built by run.sh:
 *   cc xcheck_digest.c tests/lib/p11_load.c -ldl -lcrypto */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_load.h"
#include "tap.h"

#ifndef CKM_SHA3_256
#define CKM_SHA3_256 0x2b0UL
#define CKM_SHA3_224 0x2b5UL
#define CKM_SHA3_384 0x2c0UL
#define CKM_SHA3_512 0x2d0UL
#endif

#define BAD_HANDLE ((CK_OBJECT_HANDLE)0x7ead0bad)

static const struct {
	CK_MECHANISM_TYPE type;
	const char *name; /* OpenSSL's, for the expected digest */
} mechs[] = {
        {CKM_SHA_1, "SHA1"},        {CKM_SHA224, "SHA224"},     {CKM_SHA256, "SHA256"},
        {CKM_SHA384, "SHA384"},     {CKM_SHA512, "SHA512"},     {CKM_SHA3_224, "SHA3-224"},
        {CKM_SHA3_256, "SHA3-256"}, {CKM_SHA3_384, "SHA3-384"}, {CKM_SHA3_512, "SHA3-512"},
};
#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

/* One module: its functions, the token's slot, the keys made or found. */
typedef struct side {
	const char *name;
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE keeper; /* holds the AES key, a session object, for the run */
	CK_OBJECT_HANDLE aes, rsa;
} side;

/* What a case's calls answered, as text. */
typedef struct text {
	char s[1024];
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
	size_t n = strlen(t->s);
	va_list ap;
	if (n > 0 && n + 1 < sizeof(t->s))
		t->s[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(t->s + n, sizeof(t->s) - n, fmt, ap);
	va_end(ap);
}

static const char *rv_name(CK_RV rv)
{
	static char other[32];
	switch (rv) {
	case CKR_OK:
		return "CKR_OK";
	case CKR_ARGUMENTS_BAD:
		return "CKR_ARGUMENTS_BAD";
	case CKR_MECHANISM_INVALID:
		return "CKR_MECHANISM_INVALID";
	case CKR_MECHANISM_PARAM_INVALID:
		return "CKR_MECHANISM_PARAM_INVALID";
	case CKR_OPERATION_ACTIVE:
		return "CKR_OPERATION_ACTIVE";
	case CKR_OPERATION_NOT_INITIALIZED:
		return "CKR_OPERATION_NOT_INITIALIZED";
	case CKR_BUFFER_TOO_SMALL:
		return "CKR_BUFFER_TOO_SMALL";
	case CKR_KEY_HANDLE_INVALID:
		return "CKR_KEY_HANDLE_INVALID";
	case CKR_KEY_INDIGESTIBLE:
		return "CKR_KEY_INDIGESTIBLE";
	case CKR_FUNCTION_NOT_SUPPORTED:
		return "CKR_FUNCTION_NOT_SUPPORTED";
	default:
		snprintf(other, sizeof(other), "0x%lx", (unsigned long)rv);
		return other;
	}
}

static void put_rv(text *t, CK_RV rv)
{
	put(t, "%s", rv_name(rv));
}

static void put_hex(text *t, const unsigned char *p, size_t n)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
	for (size_t i = 0; i < n && i < EVP_MAX_MD_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	put(t, "%s", hex);
}

/* An answer with a digest: the CK_RV, the length and, with CKR_OK, the
 * digest. */
static void put_out(text *t, CK_RV rv, const unsigned char *out, CK_ULONG len)
{
	put_rv(t, rv);
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		put(t, "len=%lu", (unsigned long)len);
	if (rv == CKR_OK && out != NULL)
		put_hex(t, out, len);
}

/* The test data: messages and the AES key's value. */
static unsigned char long_msg[1000];
static const unsigned char aes_value[32] = "0123456789abcdef0123456789ABCDEF";
#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

/* A digest OpenSSL computes here, of the parts: pointer and length pairs,
 * ending with a NULL pointer. n is 0 when OpenSSL has no md_name. */
typedef struct digest {
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n;
} digest;

static digest expect(const char *md_name, ...)
{
	digest r = {{0}, 0};
	EVP_MD *md = EVP_MD_fetch(NULL, md_name, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	va_list ap;
	int ok = md != NULL && ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL);
	va_start(ap, md_name);
	for (const unsigned char *p; ok && (p = va_arg(ap, const unsigned char *)) != NULL;)
		ok = EVP_DigestUpdate(ctx, p, va_arg(ap, size_t));
	va_end(ap);
	if (!ok || !EVP_DigestFinal_ex(ctx, r.d, &r.n))
		r.n = 0;
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return r;
}

#define END ((const unsigned char *)NULL)

/* The answers to a length query (len) and to a call that gives the
 * digest (out). */
static void put_len(text *t, const digest *e)
{
	put_out(t, CKR_OK, NULL, e->n);
}

static void put_digest(text *t, const digest *e)
{
	put_out(t, CKR_OK, e->d, e->n);
}

/* ---- the cases ----------------------------------------------------------
 * Each runs on one side in session s, with mechanism m, and writes what
 * came back into t. */
typedef void case_fn(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t);

static CK_RV init(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m)
{
	CK_MECHANISM mech = {m, NULL, 0};
	return sd->f->C_DigestInit(s, &mech);
}

/* C_DigestInit and C_DigestUpdate of "abc"; a failure is put in t. */
static CK_RV start_abc(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	CK_RV rv = init(sd, s, m);
	if (rv == CKR_OK)
		rv = sd->f->C_DigestUpdate(s, (unsigned char *)"abc", 3);
	if (rv != CKR_OK)
		put_rv(t, rv);
	return rv;
}

/* C_DigestFinal into a buffer that holds any digest. */
static void put_final(const side *sd, CK_SESSION_HANDLE s, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = sizeof(out);
	CK_RV rv = sd->f->C_DigestFinal(s, out, &n);
	put_out(t, rv, out, n);
}

/* C_Digest of msg after a length query. */
static void single(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t,
                   const unsigned char *msg, CK_ULONG len)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = 0;
	CK_RV rv = init(sd, s, m);
	if (rv != CKR_OK) {
		put_rv(t, rv);
		return;
	}
	rv = sd->f->C_Digest(s, (unsigned char *)msg, len, NULL, &n);
	put_out(t, rv, NULL, n);
	n = sizeof(out);
	rv = sd->f->C_Digest(s, (unsigned char *)msg, len, out, &n);
	put_out(t, rv, out, n);
}

static void single_abc(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	single(sd, s, m, t, (const unsigned char *)"abc", 3);
}

static void single_448(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	single(sd, s, m, t, (const unsigned char *)MSG_448, sizeof(MSG_448) - 1);
}

static void single_1000(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	single(sd, s, m, t, long_msg, sizeof(long_msg));
}

/* The empty message, with a buffer that holds it (SoftHSMv2 refuses a
 * NULL one even of length 0). */
static void single_empty(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	single(sd, s, m, t, long_msg, 0);
}

/* The 1000 bytes in parts that straddle every block size (64 and 128
 * bytes for SHA-1/2; 72 to 144 for SHA-3), one of them empty. */
static void multi_odd_parts(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	static const CK_ULONG parts[] = {1, 0, 63, 64, 65, 7, 143, 145, 3};
	CK_ULONG at = 0;
	CK_RV rv = init(sd, s, m);
	for (size_t i = 0; rv == CKR_OK && i < sizeof(parts) / sizeof(parts[0]); i++) {
		rv = sd->f->C_DigestUpdate(s, long_msg + at, parts[i]);
		at += parts[i];
	}
	if (rv == CKR_OK)
		rv = sd->f->C_DigestUpdate(s, long_msg + at, sizeof(long_msg) - at);
	if (rv != CKR_OK)
		put_rv(t, rv);
	else
		put_final(sd, s, t);
}

/* C_DigestFinal: a length query and a short buffer leave the operation
 * going; the digest ends it. */
static void final_lengths(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = 0;
	if (start_abc(sd, s, m, t) != CKR_OK)
		return;
	CK_RV rv = sd->f->C_DigestFinal(s, NULL, &n);
	put_out(t, rv, NULL, n);
	/* (each rv stored before n is read: a call's arguments are
	 * evaluated in no set order) */
	n = n > 0 ? n - 1 : 0;
	rv = sd->f->C_DigestFinal(s, out, &n);
	put_out(t, rv, out, n);
	n = sizeof(out);
	rv = sd->f->C_DigestFinal(s, out, &n);
	put_out(t, rv, out, n);
	put_rv(t, sd->f->C_DigestFinal(s, out, &n));
}

/* "abc", the AES key's value, "xyz". */
static void digest_key(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	if (start_abc(sd, s, m, t) != CKR_OK)
		return;
	CK_RV rv = sd->f->C_DigestKey(s, sd->aes);
	if (rv == CKR_OK)
		rv = sd->f->C_DigestUpdate(s, (unsigned char *)"xyz", 3);
	if (rv != CKR_OK)
		put_rv(t, rv);
	else
		put_final(sd, s, t);
}

/* Every call without C_DigestInit. */
static void not_initialized(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = sizeof(out);
	put_rv(t, sd->f->C_Digest(s, (unsigned char *)"abc", 3, out, &n));
	put_rv(t, sd->f->C_DigestUpdate(s, (unsigned char *)"abc", 3));
	put_rv(t, sd->f->C_DigestKey(s, sd->aes));
	put_rv(t, sd->f->C_DigestFinal(s, out, &n));
}

/* A second C_DigestInit is refused and the first operation goes on. */
static void init_twice(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = sizeof(out);
	put_rv(t, init(sd, s, m));
	put_rv(t, init(sd, s, CKM_SHA_1));
	CK_RV rv = sd->f->C_Digest(s, (unsigned char *)"abc", 3, out, &n);
	put_out(t, rv, out, n);
}

/* C_Digest: a short buffer answers the length and keeps the operation. */
static void digest_short(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = 4;
	CK_RV rv = init(sd, s, m);
	if (rv != CKR_OK) {
		put_rv(t, rv);
		return;
	}
	rv = sd->f->C_Digest(s, (unsigned char *)"abc", 3, out, &n);
	put_out(t, rv, out, n);
	n = sizeof(out);
	rv = sd->f->C_Digest(s, (unsigned char *)"abc", 3, out, &n);
	put_out(t, rv, out, n);
}

/* C_DigestKey refused (a bad handle, a vault or other private key), the
 * operation going on: its digest is of "abc" alone. */
static void digest_key_refused(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	if (start_abc(sd, s, m, t) != CKR_OK)
		return;
	put_rv(t, sd->f->C_DigestKey(s, BAD_HANDLE));
	put_rv(t, sd->f->C_DigestKey(s, sd->rsa));
	put_final(sd, s, t);
}

static void not_a_digest(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	put_rv(t, init(sd, s, CKM_SHA256_RSA_PKCS));
	put_rv(t, init(sd, s, CKM_AES_GCM));
}

/* C_Digest after C_DigestUpdate: PKCS#11 3.0 5.10.2, "C_Digest cannot be
 * used to terminate a multi-part operation". */
static void digest_after_update(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = sizeof(out);
	if (start_abc(sd, s, m, t) == CKR_OK)
		put_rv(t, sd->f->C_Digest(s, (unsigned char *)"abc", 3, out, &n));
}

static void null_data(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	put_rv(t, init(sd, s, m));
	put_rv(t, sd->f->C_DigestUpdate(s, NULL, 5));
}

static void null_empty_data(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = sizeof(out);
	CK_RV rv = init(sd, s, m);
	if (rv != CKR_OK) {
		put_rv(t, rv);
		return;
	}
	rv = sd->f->C_Digest(s, NULL, 0, out, &n);
	put_out(t, rv, out, n);
}

static void with_parameter(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	CK_ULONG param = 0;
	CK_MECHANISM mech = {m, &param, sizeof(param)};
	put_rv(t, sd->f->C_DigestInit(s, &mech));
}

static void null_mechanism(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	CK_ULONG n = sizeof(out);
	put_rv(t, init(sd, s, m));
	put_rv(t, sd->f->C_DigestInit(s, NULL));
	put_rv(t, sd->f->C_DigestFinal(s, out, &n));
}

static void mechanism_info(const side *sd, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, text *t)
{
	CK_MECHANISM_INFO info;
	CK_RV rv = sd->f->C_GetMechanismInfo(sd->slot, m, &info);
	put_rv(t, rv);
	if (rv == CKR_OK)
		put(t, "flags=0x%lx min=%lu max=%lu", (unsigned long)info.flags,
		    (unsigned long)info.ulMinKeySize, (unsigned long)info.ulMaxKeySize);
}

/* ---- running a case on both sides -------------------------------------- */

static side azkv = {.name = "azkv"}, softhsm = {.name = "SoftHSM"};

static int has_mech(const side *sd, CK_MECHANISM_TYPE m)
{
	CK_MECHANISM_INFO info;
	return sd->f->C_GetMechanismInfo(sd->slot, m, &info) == CKR_OK;
}

static void run_on(const side *sd, case_fn *fn, CK_MECHANISM_TYPE m, text *t)
{
	CK_SESSION_HANDLE s;
	memset(t, 0, sizeof(*t));
	CK_RV rv = sd->f->C_OpenSession(sd->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		put(t, "C_OpenSession: %s", rv_name(rv));
		return;
	}
	fn(sd, s, m, t);
	sd->f->C_CloseSession(s);
}

/* One line: the case on both sides against want. note (or NULL): why
 * SoftHSMv2 may answer otherwise here. */
static void compare(const char *id, case_fn *fn, CK_MECHANISM_TYPE m, const text *want,
                    const char *note)
{
	text a, b;
	run_on(&azkv, fn, m, &a);
	if (strcmp(a.s, want->s) != 0) {
		TAP_FAIL("%s: azkv = %s (want %s)", id, a.s, want->s);
		return;
	}
	if (!has_mech(&softhsm, m)) {
		tap_check(1, "%s: azkv = %s # azkv only: SoftHSM has no mechanism 0x%lx", id, a.s,
		          (unsigned long)m);
		return;
	}
	run_on(&softhsm, fn, m, &b);
	if (strcmp(a.s, b.s) == 0)
		tap_check(1, "%s: azkv = SoftHSM = %s", id, a.s);
	else if (note != NULL)
		tap_check(1, "%s: azkv = %s # differs from SoftHSM (%s), documented: %s", id, a.s,
		          b.s, note);
	else
		TAP_FAIL("%s: azkv = %s, SoftHSM = %s: DIFFER", id, a.s, b.s);
}

static text literal(const char *s)
{
	text t;
	snprintf(t.s, sizeof(t.s), "%s", s);
	return t;
}

/* The answers of single() for msg. */
static text want_single(const char *md, const unsigned char *msg, size_t len)
{
	text t = {""};
	digest e = expect(md, msg, len, END);
	put_len(&t, &e);
	put_digest(&t, &e);
	return t;
}

/* The answer of a call that gives the digest of msg. */
static text want_digest(const char *md, const unsigned char *msg, size_t len)
{
	text t = {""};
	digest e = expect(md, msg, len, END);
	put_digest(&t, &e);
	return t;
}

/* ---- setting up a side --------------------------------------------------- */

static int side_open(side *sd, const char *path, const char *label, const char *pin,
                     const char *rsa_label)
{
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CK_C_GetFunctionList get =
	        lib != NULL ? (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList") : NULL;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	if (get == NULL || get(&sd->f) != CKR_OK || sd->f->C_Initialize(NULL) != CKR_OK ||
	    sd->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK) {
		fprintf(stderr, "%s: %s does not load or initialise\n", sd->name, path);
		return -1;
	}
	int found = 0;
	CK_TOKEN_INFO ti;
	for (CK_ULONG i = 0; i < n && !found; i++) {
		char want[32];
		memset(want, ' ', sizeof(want));
		memcpy(want, label, strlen(label) < 32 ? strlen(label) : 32);
		if (sd->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    memcmp(ti.label, want, sizeof(want)) == 0) {
			sd->slot = slots[i];
			found = 1;
		}
	}
	if (!found || sd->f->C_OpenSession(sd->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
	                                   NULL, &sd->keeper) != CKR_OK) {
		fprintf(stderr, "%s: no token '%s' to open a session on\n", sd->name, label);
		return -1;
	}
	/* Logged in where the token asks for it: SoftHSMv2's secret keys are
	 * private objects. */
	CK_RV rv = CKR_OK;
	if (ti.flags & CKF_LOGIN_REQUIRED)
		rv = sd->f->C_Login(sd->keeper, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		fprintf(stderr, "%s: C_Login: %s\n", sd->name, rv_name(rv));
		return -1;
	}
	p11_known_aes k;
	p11_known_aes_init(&k, aes_value, sizeof(aes_value));
	if ((rv = sd->f->C_CreateObject(sd->keeper, k.create, 4, &sd->aes)) != CKR_OK) {
		fprintf(stderr, "%s: C_CreateObject of the AES key: %s\n", sd->name, rv_name(rv));
		return -1;
	}
	sd->rsa = p11_find_one(sd->f, sd->keeper, CKO_PRIVATE_KEY, rsa_label);
	if (sd->rsa == CK_INVALID_HANDLE) {
		fprintf(stderr, "%s: no private key '%s'\n", sd->name, rsa_label);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: xcheck_digest AZKV_MODULE SOFTHSM_MODULE TOKEN_LABEL PIN "
		                "RSA_LABEL\n");
		return 2;
	}
	if (side_open(&azkv, argv[1], argv[3], argv[4], argv[5]) != 0 ||
	    side_open(&softhsm, argv[2], argv[3], argv[4], argv[5]) != 0)
		return 2;
	for (size_t i = 0; i < sizeof(long_msg); i++)
		long_msg[i] = (unsigned char)(i * 7 + 3);

	char id[96];
	const unsigned char *abc = (const unsigned char *)"abc";
	for (size_t i = 0; i < N_MECHS; i++) {
		CK_MECHANISM_TYPE m = mechs[i].type;
		const char *md = mechs[i].name;
		text want;
#define CASE(what, fn, w)                                                                          \
	do {                                                                                       \
		snprintf(id, sizeof(id), "%s %s", md, what);                                       \
		want = (w);                                                                        \
		compare(id, fn, m, &want, NULL);                                                   \
	} while (0)
		CASE("C_GetMechanismInfo", mechanism_info,
		     literal("CKR_OK flags=0x400 min=0 max=0"));
		CASE("single-part empty", single_empty, want_single(md, long_msg, 0));
		CASE("single-part abc", single_abc, want_single(md, abc, 3));
		CASE("single-part 448 bits", single_448,
		     want_single(md, (const unsigned char *)MSG_448, sizeof(MSG_448) - 1));
		CASE("single-part 1000 bytes", single_1000,
		     want_single(md, long_msg, sizeof(long_msg)));
		CASE("multi-part in odd parts", multi_odd_parts,
		     want_digest(md, long_msg, sizeof(long_msg)));
		/* The length query, the short buffer, the digest, then no
		 * operation. */
		digest e = expect(md, abc, (size_t)3, END);
		want = literal("");
		put_len(&want, &e);
		put_out(&want, CKR_BUFFER_TOO_SMALL, NULL, e.n);
		put_digest(&want, &e);
		put_rv(&want, CKR_OPERATION_NOT_INITIALIZED);
		CASE("C_DigestFinal length query and short buffer", final_lengths, want);
		e = expect(md, abc, (size_t)3, aes_value, sizeof(aes_value),
		           (const unsigned char *)"xyz", (size_t)3, END);
		want = literal("");
		put_digest(&want, &e);
		CASE("C_DigestKey of an AES key between updates", digest_key, want);
#undef CASE
	}

	/* The error paths, with SHA-256. */
	const char *md = "SHA256";
	CK_MECHANISM_TYPE m = CKM_SHA256;
	text digest_abc = want_digest(md, abc, 3), want;
#define ERROR_CASE(what, fn, w, note)                                                              \
	do {                                                                                       \
		want = (w);                                                                        \
		compare(what, fn, m, &want, note);                                                 \
	} while (0)
	ERROR_CASE("every call without C_DigestInit", not_initialized,
	           literal("CKR_OPERATION_NOT_INITIALIZED CKR_OPERATION_NOT_INITIALIZED "
	                   "CKR_OPERATION_NOT_INITIALIZED CKR_OPERATION_NOT_INITIALIZED"),
	           NULL);
	want = literal("CKR_OK CKR_OPERATION_ACTIVE");
	put(&want, "%s", digest_abc.s);
	ERROR_CASE("C_DigestInit while active, the first goes on", init_twice, want, NULL);
	want = literal("CKR_BUFFER_TOO_SMALL len=32");
	put(&want, "%s", digest_abc.s);
	ERROR_CASE("C_Digest short buffer, then the digest", digest_short, want, NULL);
	want = literal("CKR_KEY_HANDLE_INVALID CKR_KEY_INDIGESTIBLE");
	put(&want, "%s", digest_abc.s);
	ERROR_CASE("C_DigestKey of a bad handle and of a private key, the digest goes on",
	           digest_key_refused, want, NULL);
	ERROR_CASE("C_DigestInit of a signature and a cipher mechanism", not_a_digest,
	           literal("CKR_MECHANISM_INVALID CKR_MECHANISM_INVALID"), NULL);
	ERROR_CASE("C_DigestUpdate of NULL with a length", null_data,
	           literal("CKR_OK CKR_ARGUMENTS_BAD"), NULL);
	/* Where the two differ, and why. */
	ERROR_CASE("C_Digest after C_DigestUpdate", digest_after_update,
	           literal("CKR_OPERATION_ACTIVE"),
	           "3.0 5.10.2: C_Digest cannot end a multi-part operation; SoftHSMv2 2.6 "
	           "digests the data of both calls");
	ERROR_CASE("C_Digest of NULL with length 0", null_empty_data, want_digest(md, abc, 0),
	           "an empty message needs no buffer; SoftHSMv2 refuses any NULL pData");
	ERROR_CASE("C_DigestInit with a parameter", with_parameter,
	           literal("CKR_MECHANISM_PARAM_INVALID"),
	           "the SHA mechanisms take no parameter; SoftHSMv2 ignores it");
	ERROR_CASE("C_DigestInit(NULL) ends the operation", null_mechanism,
	           literal("CKR_OK CKR_OK CKR_OPERATION_NOT_INITIALIZED"),
	           "PKCS#11 3.0 5.10.1; SoftHSMv2 answers as 2.40, CKR_ARGUMENTS_BAD");
#undef ERROR_CASE

	azkv.f->C_Finalize(NULL);
	softhsm.f->C_Finalize(NULL);
	return tap_status();
}
