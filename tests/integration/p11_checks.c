/* PKCS#11-level checks of the module against the emulator: the envelope
 * round trip and the exact CK_RV of each kind of bad input. Run by run.sh
 * with AZKV_MODULE and AZKV_PKCS11_CONFIG set:
 *
 *   p11_checks roundtrip               wrap/unwrap, attributes, misuse (vault 'demo')
 *   p11_checks expect-init RV          C_Initialize gives RV (config errors)
 *   p11_checks expect-find RV          C_FindObjectsInit on slot 0 gives RV
 *   p11_checks expect-unwrap LABEL RV  C_UnwrapKey with LABEL gives RV
 *
 * Prints one "ok"/"not ok" line per check and exits non-zero on any failure. */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azkv/azkv-pkcs11.h"

static CK_FUNCTION_LIST *p11;
static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok - ");                                                           \
		} else {                                                                           \
			printf("not ok - ");                                                       \
			failures++;                                                                \
		}                                                                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
	} while (0)

#define CHECK_RV(got, want, what)                                                                  \
	do {                                                                                       \
		CK_RV got_ = (got);                                                                \
		CHECK(got_ == (CK_RV)(want), "%s: 0x%lx (want 0x%lx)", what, (unsigned long)got_,  \
		      (unsigned long)(want));                                                      \
	} while (0)

static void load(void)
{
	const char *path = getenv("AZKV_MODULE");
	void *dl = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	CK_C_GetFunctionList get = dl ? (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList") : NULL;
	if (get == NULL || get(&p11) != CKR_OK) {
		fprintf(stderr, "p11_checks: cannot load AZKV_MODULE=%s\n",
		        path ? path : "(unset)");
		exit(2);
	}
}

static CK_RV init(void)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	return p11->C_Initialize(&args);
}

static CK_SESSION_HANDLE open_session(void)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_checks: C_OpenSession: 0x%lx\n", (unsigned long)rv);
		exit(2);
	}
	return s;
}

static CK_RV find_key(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
                      CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_ULONG n = 0;
	CK_RV rv = p11->C_FindObjectsInit(s, t, 2);
	if (rv != CKR_OK)
		return rv;
	rv = p11->C_FindObjects(s, out, 1, &n);
	p11->C_FindObjectsFinal(s);
	return rv == CKR_OK && n == 0 ? CKR_OBJECT_HANDLE_INVALID : rv;
}

static CK_OBJECT_HANDLE must_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = find_key(s, cls, label, &h);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_checks: key '%s' not found: 0x%lx\n", label,
		        (unsigned long)rv);
		exit(2);
	}
	return h;
}

static CK_RSA_PKCS_OAEP_PARAMS oaep_sha1 = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
static CK_RSA_PKCS_OAEP_PARAMS oaep_sha256 = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL,
                                              0};
static CK_RSA_PKCS_OAEP_PARAMS oaep_sha384 = {CKM_SHA384, CKG_MGF1_SHA384, CKZ_DATA_SPECIFIED, NULL,
                                              0};

static CK_OBJECT_HANDLE gen_aes(CK_SESSION_HANDLE s, CK_BBOOL extractable)
{
	CK_ULONG len = 32;
	CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
	                    {CKA_EXTRACTABLE, &extractable, sizeof(extractable)}};
	CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = p11->C_GenerateKey(s, &m, t, 2, &h);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_checks: C_GenerateKey: 0x%lx\n", (unsigned long)rv);
		exit(2);
	}
	return h;
}

static CK_RV unwrap(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                    unsigned char *wrapped, CK_ULONG len, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &aes, sizeof(aes)}};
	return p11->C_UnwrapKey(s, m, key, wrapped, len, t, 2, out);
}

/* AES-GCM ciphertext of a fixed message under key, into out (64 bytes). */
static CK_RV gcm_fixed(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, unsigned char *out,
                       CK_ULONG *out_len)
{
	unsigned char iv[12] = {0};
	unsigned char msg[] = "the same plaintext, the same IV";
	CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, NULL, 0, 128};
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
	CK_RV rv = p11->C_EncryptInit(s, &m, key);
	if (rv != CKR_OK)
		return rv;
	return p11->C_Encrypt(s, msg, sizeof(msg), out, out_len);
}

static void check_roundtrip(CK_SESSION_HANDLE s, const char *name, CK_MECHANISM *m,
                            CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv)
{
	CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE), back = CK_INVALID_HANDLE;
	unsigned char wrapped[512], c1[64], c2[64];
	CK_ULONG wlen = 0, l1 = sizeof(c1), l2 = sizeof(c2);
	char what[128];

	snprintf(what, sizeof(what), "%s: C_WrapKey length query", name);
	CHECK_RV(p11->C_WrapKey(s, m, pub, dek, NULL, &wlen), CKR_OK, what);
	CHECK(wlen == 256, "%s: wrapped length of a 2048-bit key is 256 (got %lu)", name,
	      (unsigned long)wlen);
	CK_ULONG small = 10;
	snprintf(what, sizeof(what), "%s: C_WrapKey into a short buffer", name);
	CHECK_RV(p11->C_WrapKey(s, m, pub, dek, wrapped, &small), CKR_BUFFER_TOO_SMALL, what);
	wlen = sizeof(wrapped);
	snprintf(what, sizeof(what), "%s: C_WrapKey", name);
	CHECK_RV(p11->C_WrapKey(s, m, pub, dek, wrapped, &wlen), CKR_OK, what);
	snprintf(what, sizeof(what), "%s: C_UnwrapKey through the vault", name);
	CHECK_RV(unwrap(s, m, priv, wrapped, wlen, &back), CKR_OK, what);
	CK_RV r1 = gcm_fixed(s, dek, c1, &l1), r2 = gcm_fixed(s, back, c2, &l2);
	CHECK(r1 == CKR_OK && r2 == CKR_OK && l1 == l2 && memcmp(c1, c2, l1) == 0,
	      "%s: original and unwrapped keys give the same AES-GCM ciphertext", name);
	p11->C_DestroyObject(s, dek);
	p11->C_DestroyObject(s, back);
}

static void check_attributes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv)
{
	unsigned char buf[600], id_pub[64], id_priv[64], kid[256];
	CK_BBOOL b = CK_FALSE;
	CK_ULONG bits = 0;
	CK_ATTRIBUTE a[] = {{CKA_MODULUS, buf, sizeof(buf)},
	                    {CKA_MODULUS_BITS, &bits, sizeof(bits)}};
	CHECK_RV(p11->C_GetAttributeValue(s, pub, a, 2), CKR_OK, "public key: modulus and bits");
	CHECK(a[0].ulValueLen == 256 && bits == 2048, "public key: 2048-bit modulus");

	CK_ATTRIBUTE secret = {CKA_PRIVATE_EXPONENT, buf, sizeof(buf)};
	CHECK_RV(p11->C_GetAttributeValue(s, priv, &secret, 1), CKR_ATTRIBUTE_SENSITIVE,
	         "private key: CKA_PRIVATE_EXPONENT is sensitive");
	CHECK(secret.ulValueLen == CK_UNAVAILABLE_INFORMATION,
	      "private key: sensitive length is CK_UNAVAILABLE_INFORMATION");
	CK_ATTRIBUTE invalid = {CKA_CERTIFICATE_TYPE, buf, sizeof(buf)};
	CHECK_RV(p11->C_GetAttributeValue(s, priv, &invalid, 1), CKR_ATTRIBUTE_TYPE_INVALID,
	         "private key: an attribute keys do not have");
	CK_ATTRIBUTE tiny = {CKA_MODULUS, buf, 8};
	CHECK_RV(p11->C_GetAttributeValue(s, priv, &tiny, 1), CKR_BUFFER_TOO_SMALL,
	         "private key: modulus into 8 bytes");
	CK_ATTRIBUTE flags[] = {{CKA_UNWRAP, &b, sizeof(b)}};
	CHECK_RV(p11->C_GetAttributeValue(s, priv, flags, 1), CKR_OK, "private key: CKA_UNWRAP");
	CHECK(b == CK_TRUE, "private key: CKA_UNWRAP is true for a wrapKey/unwrapKey key");
	CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE;
	CK_ATTRIBUTE prot[] = {{CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
	                       {CKA_SENSITIVE, &sensitive, sizeof(sensitive)}};
	CHECK_RV(p11->C_GetAttributeValue(s, priv, prot, 2), CKR_OK, "private key: protection");
	CHECK(!extractable && sensitive, "private key: sensitive and never extractable");

	CK_ATTRIBUTE ip = {CKA_ID, id_pub, sizeof(id_pub)}, iq = {CKA_ID, id_priv, sizeof(id_priv)};
	CHECK(p11->C_GetAttributeValue(s, pub, &ip, 1) == CKR_OK &&
	              p11->C_GetAttributeValue(s, priv, &iq, 1) == CKR_OK &&
	              ip.ulValueLen == iq.ulValueLen && ip.ulValueLen <= 100 &&
	              memcmp(id_pub, id_priv, ip.ulValueLen) == 0,
	      "CKA_ID is the same on both halves and short enough for libp11 (%lu bytes)",
	      (unsigned long)ip.ulValueLen);
	CK_ATTRIBUTE k = {CKA_AZKV_KEY_ID, kid, sizeof(kid) - 1};
	CHECK_RV(p11->C_GetAttributeValue(s, priv, &k, 1), CKR_OK, "vendor attribute: key id");
	kid[k.ulValueLen] = 0;
	CHECK(strncmp((char *)kid, "https://demo.vault.azure.net/keys/cmk/", 38) == 0 &&
	              k.ulValueLen == 38 + 32,
	      "vendor attribute: key id with version (%s)", kid);
}

static void check_bad_unwraps(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
                              CK_OBJECT_HANDLE other_priv, CK_OBJECT_HANDLE nowrap_priv)
{
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
	CK_MECHANISM m384 = {CKM_RSA_PKCS_OAEP, &oaep_sha384, sizeof(oaep_sha384)};
	CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE), out;
	unsigned char wrapped[512];
	CK_ULONG wlen = sizeof(wrapped);
	if (p11->C_WrapKey(s, &m, pub, dek, wrapped, &wlen) != CKR_OK) {
		CHECK(0, "wrap for the bad-input checks");
		return;
	}
	CHECK_RV(unwrap(s, &m, priv, wrapped, wlen - 1, &out), CKR_WRAPPED_KEY_LEN_RANGE,
	         "unwrap: wrapped key one byte short");
	CHECK_RV(unwrap(s, &m, other_priv, wrapped, wlen, &out), CKR_WRAPPED_KEY_INVALID,
	         "unwrap: with the wrong vault key");
	wrapped[10] ^= 0x55;
	CHECK_RV(unwrap(s, &m, priv, wrapped, wlen, &out), CKR_WRAPPED_KEY_INVALID,
	         "unwrap: corrupted wrapped key");
	wrapped[10] ^= 0x55;
	CHECK_RV(unwrap(s, &m, 0xdead, wrapped, wlen, &out), CKR_UNWRAPPING_KEY_HANDLE_INVALID,
	         "unwrap: invalid key handle");
	CHECK_RV(unwrap(s, &m, pub, wrapped, wlen, &out), CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
	         "unwrap: with a public key");
	CHECK_RV(unwrap(s, &m384, priv, wrapped, wlen, &out), CKR_MECHANISM_PARAM_INVALID,
	         "unwrap: OAEP with SHA-384 (no such vault algorithm)");
	CHECK_RV(unwrap(s, &m, nowrap_priv, wrapped, wlen, &out), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "unwrap: key whose key_ops lack unwrapKey");
	CK_ATTRIBUTE no_type[] = {{CKA_LABEL, "x", 1}};
	CHECK_RV(p11->C_UnwrapKey(s, &m, priv, wrapped, wlen, no_type, 1, &out),
	         CKR_TEMPLATE_INCOMPLETE, "unwrap: template without CKA_KEY_TYPE");
	CK_MECHANISM nomech = {CKM_AES_KEY_WRAP, NULL, 0};
	CHECK_RV(unwrap(s, &nomech, priv, wrapped, wlen, &out), CKR_MECHANISM_INVALID,
	         "unwrap: AES key wrap with an RSA key");

	CK_OBJECT_HANDLE locked = gen_aes(s, CK_FALSE);
	wlen = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &m, pub, locked, wrapped, &wlen), CKR_KEY_UNEXTRACTABLE,
	         "wrap: a key with CKA_EXTRACTABLE=FALSE");
	wlen = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &m, priv, dek, wrapped, &wlen),
	         CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "wrap: with a private key");
	CHECK_RV(p11->C_DestroyObject(s, priv), CKR_ACTION_PROHIBITED,
	         "destroy: a vault key cannot be destroyed through PKCS#11");
	p11->C_DestroyObject(s, dek);
	p11->C_DestroyObject(s, locked);
}

typedef struct {
	CK_OBJECT_HANDLE pub, priv;
	int ok;
} thread_arg;

static void *thread_main(void *p)
{
	thread_arg *t = p;
	CK_SESSION_HANDLE s = open_session();
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
	t->ok = 1;
	for (int i = 0; i < 5; i++) {
		CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE), back;
		unsigned char wrapped[512];
		CK_ULONG wlen = sizeof(wrapped);
		if (p11->C_WrapKey(s, &m, t->pub, dek, wrapped, &wlen) != CKR_OK ||
		    unwrap(s, &m, t->priv, wrapped, wlen, &back) != CKR_OK)
			t->ok = 0;
	}
	p11->C_CloseSession(s);
	return NULL;
}

static void check_threads(CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv)
{
	pthread_t th[4];
	thread_arg args[4];
	int ok = 1;
	for (int i = 0; i < 4; i++) {
		args[i] = (thread_arg){pub, priv, 0};
		pthread_create(&th[i], NULL, thread_main, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok &= args[i].ok;
	}
	CHECK(ok, "4 threads x 5 envelope round trips with CKF_OS_LOCKING_OK");
}

static int roundtrip(void)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CHECK_RV(init(), CKR_CRYPTOKI_ALREADY_INITIALIZED, "C_Initialize twice");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, "cmk");
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, "cmk");
	CK_OBJECT_HANDLE other = must_find(s, CKO_PRIVATE_KEY, "other");
	CK_OBJECT_HANDLE nowrap = must_find(s, CKO_PRIVATE_KEY, "signing");

	CK_MECHANISM oaep1 = {CKM_RSA_PKCS_OAEP, &oaep_sha1, sizeof(oaep_sha1)};
	CK_MECHANISM oaep256 = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0};
	check_roundtrip(s, "RSA-OAEP", &oaep1, pub, priv);
	check_roundtrip(s, "RSA-OAEP-256", &oaep256, pub, priv);
	check_roundtrip(s, "RSA1_5", &pkcs1, pub, priv);
	check_attributes(s, pub, priv);
	check_bad_unwraps(s, pub, priv, other, nowrap);
	check_threads(pub, priv);

	CK_SESSION_INFO info;
	CHECK_RV(p11->C_GetSessionInfo(s, &info), CKR_OK, "C_GetSessionInfo");
	CHECK_RV(p11->C_CloseSession(s), CKR_OK, "C_CloseSession");
	CHECK_RV(p11->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID, "C_CloseSession twice");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	CHECK_RV(p11->C_GetSessionInfo(s, &info), CKR_CRYPTOKI_NOT_INITIALIZED,
	         "a call after C_Finalize");
	CHECK_RV(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED, "C_Finalize twice");
	return failures ? 1 : 0;
}

static int expect_find(CK_RV want)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize (no network I/O)");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
	CHECK_RV(p11->C_FindObjectsInit(s, &t, 1), want, "C_FindObjectsInit");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return failures ? 1 : 0;
}

static int expect_unwrap(const char *label, CK_RV want)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, label);
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, label);
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
	CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE), out;
	unsigned char wrapped[512];
	CK_ULONG wlen = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &m, pub, dek, wrapped, &wlen), CKR_OK,
	         "C_WrapKey (local, needs no permission)");
	CHECK_RV(unwrap(s, &m, priv, wrapped, wlen, &out), want, "C_UnwrapKey");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	load();
	if (argc == 2 && !strcmp(argv[1], "roundtrip"))
		return roundtrip();
	if (argc == 3 && !strcmp(argv[1], "expect-init")) {
		CK_RV want = strtoul(argv[2], NULL, 0);
		CK_RV got = init();
		CHECK_RV(got, want, "C_Initialize");
		if (got == CKR_OK)
			p11->C_Finalize(NULL);
		return failures ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "expect-find"))
		return expect_find(strtoul(argv[2], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "expect-unwrap"))
		return expect_unwrap(argv[2], strtoul(argv[3], NULL, 0));
	fprintf(stderr, "usage: p11_checks roundtrip | expect-init RV | expect-find RV | "
	                "expect-unwrap LABEL RV\n");
	return 2;
}
