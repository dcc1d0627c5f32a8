/* PKCS#11-level checks of the module against the emulator: the envelope
 * round trip and the exact CK_RV of each kind of bad input. Run by run.sh
 * with AZKV_MODULE and AZKV_PKCS11_CONFIG set:
 *
 *   p11_checks roundtrip               wrap/unwrap, attributes, misuse (vault 'demo')
 *   p11_checks expect-init RV          C_Initialize gives RV (config errors)
 *   p11_checks expect-find RV          C_FindObjectsInit on slot 0 gives RV
 *   p11_checks expect-unwrap LABEL RV  C_UnwrapKey with LABEL gives RV
 *   p11_checks wrap-in-vault LABEL     C_WrapKey through the vault ("wrap": "vault")
 *   p11_checks crypto                  signatures, encryption, AES (see below)
 *   p11_checks sign|verify|decrypt ... with files, for openssl to check (see below)
 *   p11_checks hsm ...                 Managed HSM keys (see below)
 *   p11_checks templates               malformed templates and mechanism parameters
 *   p11_checks rsa-pkcs-decrypt-off    CKM_RSA_PKCS decrypt/unwrap refused (the default)
 *
 * Prints one "ok"/"not ok" line per check and exits non-zero on any failure. */
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azkv/azkv-pkcs11.h"
#include "p11_load.h"
#include "tap.h"

/* PKCS#11 3.0's RFC 5649 mechanism; not in every pkcs11.h. */
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP 0x210bUL
#endif

static CK_FUNCTION_LIST *p11;

/* The module's list, or exit status 2. */
static void load(void)
{
	if ((p11 = p11_load("p11_checks")) == NULL)
		exit(2);
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
	return p11_find(p11, s, cls, label, out);
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
static CK_MECHANISM oaep256_mech = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
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
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0};
	check_roundtrip(s, "RSA-OAEP", &oaep1, pub, priv);
	check_roundtrip(s, "RSA-OAEP-256", &oaep256_mech, pub, priv);
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
	return tap_status();
}

static int expect_find(CK_RV want)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize (no network I/O)");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
	CHECK_RV(p11->C_FindObjectsInit(s, &t, 1), want, "C_FindObjectsInit");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* Initialises, wraps a new AES-256 key with LABEL's public key (CKR_OK
 * expected; wrap_what names the check) and unwraps it with its private key
 * (want). The session; *pub LABEL's public key. */
static CK_SESSION_HANDLE wrap_and_unwrap(const char *label, const char *wrap_what, CK_RV want,
                                         CK_OBJECT_HANDLE *pub)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	*pub = must_find(s, CKO_PUBLIC_KEY, label);
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, label);
	CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE), out;
	unsigned char wrapped[512];
	CK_ULONG wlen = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &oaep256_mech, *pub, dek, wrapped, &wlen), CKR_OK, wrap_what);
	CHECK_RV(unwrap(s, &oaep256_mech, priv, wrapped, wlen, &out), want, "C_UnwrapKey");
	return s;
}

static int expect_unwrap(const char *label, CK_RV want)
{
	CK_OBJECT_HANDLE pub;
	wrap_and_unwrap(label, "C_WrapKey (local, needs no permission)", want, &pub);
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* ---- cryptographic operations ------------------------------------------
 *
 *   p11_checks crypto                        sign/verify/encrypt/decrypt/AES checks
 *   p11_checks sign LABEL MECH IN OUT ...    signs file IN with LABEL's private key
 *   p11_checks verify LABEL MECH IN SIG ...  C_Verify with LABEL's public key is CKR_OK
 *   p11_checks decrypt LABEL MECH IN OUT ... decrypts IN with LABEL's private key
 *
 * MECH is a name of named_mechs[] below. The vault 'demo' has RSA keys cmk
 * (2048, every key_op), rsa3072, nosign (wrapKey/unwrapKey only) and
 * signing (sign/verify only), and EC keys ec (P-256), ec384, ec521 and
 * ec256k (secp256k1). */

static CK_RSA_PKCS_PSS_PARAMS pss256 = {CKM_SHA256, CKG_MGF1_SHA256, 32};
static CK_RSA_PKCS_PSS_PARAMS pss384 = {CKM_SHA384, CKG_MGF1_SHA384, 48};
static CK_RSA_PKCS_PSS_PARAMS pss512 = {CKM_SHA512, CKG_MGF1_SHA512, 64};

static struct {
	const char *name;
	CK_MECHANISM mech;
} named_mechs[] = {
        {"RSA_PKCS", {CKM_RSA_PKCS, NULL, 0}},
        {"SHA256_RSA_PKCS", {CKM_SHA256_RSA_PKCS, NULL, 0}},
        {"SHA384_RSA_PKCS", {CKM_SHA384_RSA_PKCS, NULL, 0}},
        {"SHA512_RSA_PKCS", {CKM_SHA512_RSA_PKCS, NULL, 0}},
        {"RSA_PKCS_PSS-SHA256", {CKM_RSA_PKCS_PSS, &pss256, sizeof(pss256)}},
        {"RSA_PKCS_PSS-SHA384", {CKM_RSA_PKCS_PSS, &pss384, sizeof(pss384)}},
        {"RSA_PKCS_PSS-SHA512", {CKM_RSA_PKCS_PSS, &pss512, sizeof(pss512)}},
        {"SHA256_RSA_PKCS_PSS", {CKM_SHA256_RSA_PKCS_PSS, &pss256, sizeof(pss256)}},
        {"SHA384_RSA_PKCS_PSS", {CKM_SHA384_RSA_PKCS_PSS, &pss384, sizeof(pss384)}},
        {"SHA512_RSA_PKCS_PSS", {CKM_SHA512_RSA_PKCS_PSS, &pss512, sizeof(pss512)}},
        {"ECDSA", {CKM_ECDSA, NULL, 0}},
        {"ECDSA_SHA256", {CKM_ECDSA_SHA256, NULL, 0}},
        {"ECDSA_SHA384", {CKM_ECDSA_SHA384, NULL, 0}},
        {"ECDSA_SHA512", {CKM_ECDSA_SHA512, NULL, 0}},
        {"RSA_PKCS_OAEP-SHA1", {CKM_RSA_PKCS_OAEP, &oaep_sha1, sizeof(oaep_sha1)}},
        {"RSA_PKCS_OAEP-SHA256", {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)}},
};

static CK_MECHANISM *mech_named(const char *name)
{
	for (size_t i = 0; i < sizeof(named_mechs) / sizeof(named_mechs[0]); i++)
		if (!strcmp(named_mechs[i].name, name))
			return &named_mechs[i].mech;
	fprintf(stderr, "p11_checks: unknown mechanism %s\n", name);
	exit(2);
}

/* The multi-part (hashing) mechanisms. */
static int hashes_data(CK_MECHANISM_TYPE m)
{
	return m != CKM_RSA_PKCS && m != CKM_RSA_PKCS_PSS && m != CKM_ECDSA;
}

/* A DigestInfo prefix (RFC 8017, 9.2 note 1) for a digest of len bytes. */
static size_t digest_info(const char *hash, const unsigned char *digest, size_t len,
                          unsigned char *out)
{
	static const unsigned char sha1[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
	                                     0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
	static const unsigned char sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                       0x01, 0x05, 0x00, 0x04, 0x20};
	static const unsigned char sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                       0x02, 0x05, 0x00, 0x04, 0x30};
	static const unsigned char sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                       0x03, 0x05, 0x00, 0x04, 0x40};
	const unsigned char *prefix = !strcmp(hash, "sha1")     ? sha1
	                              : !strcmp(hash, "sha384") ? sha384
	                              : !strcmp(hash, "sha512") ? sha512
	                                                        : sha256;
	size_t plen = prefix == sha1 ? sizeof(sha1) : sizeof(sha256);
	memcpy(out, prefix, plen);
	memcpy(out + plen, digest, len);
	return plen + len;
}

static size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap, f) : 0;
	if (f == NULL || ferror(f) || !feof(f)) {
		fprintf(stderr, "p11_checks: cannot read %s (at most %zu bytes)\n", path, cap);
		exit(2);
	}
	fclose(f);
	return n;
}

static void write_file(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "p11_checks: cannot write %s\n", path);
		exit(2);
	}
}

/* How many times the module's trace log says needle (0 without one): each
 * request is a line "http: METHOD host/path status=N ...". */
static int log_count(const char *needle)
{
	const char *path = getenv("AZKV_PKCS11_LOG_FILE");
	FILE *f = path && *path ? fopen(path, "r") : NULL;
	char line[4096];
	int n = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	if (f != NULL)
		fclose(f);
	return n;
}

static int tracing(void)
{
	const char *level = getenv("AZKV_PKCS11_LOG_LEVEL");
	const char *path = getenv("AZKV_PKCS11_LOG_FILE");
	return level && !strcmp(level, "trace") && path && *path;
}

/* A session secret key of value from C_CreateObject. flags: which of
 * CKA_EXTRACTABLE, CKA_WRAP, CKA_UNWRAP, CKA_WRAP_WITH_TRUSTED are TRUE
 * (the others FALSE); never sensitive, so that tests can read it back. */
enum { K_EXTRACTABLE = 1, K_WRAP = 2, K_UNWRAP = 4, K_TRUSTED_ONLY = 8 };
#define K_USUAL (K_EXTRACTABLE | K_WRAP | K_UNWRAP)

static CK_OBJECT_HANDLE make_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const unsigned char *value,
                                 CK_ULONG len, int flags)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL no = CK_FALSE, ext = (flags & K_EXTRACTABLE) ? CK_TRUE : CK_FALSE,
	         wrap = (flags & K_WRAP) ? CK_TRUE : CK_FALSE,
	         unwrap = (flags & K_UNWRAP) ? CK_TRUE : CK_FALSE,
	         trusted = (flags & K_TRUSTED_ONLY) ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                    {CKA_VALUE, (void *)value, len},
	                    {CKA_SENSITIVE, &no, sizeof(no)},
	                    {CKA_EXTRACTABLE, &ext, sizeof(ext)},
	                    {CKA_WRAP, &wrap, sizeof(wrap)},
	                    {CKA_UNWRAP, &unwrap, sizeof(unwrap)},
	                    {CKA_WRAP_WITH_TRUSTED, &trusted, sizeof(trusted)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = p11->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_checks: C_CreateObject: 0x%lx\n", (unsigned long)rv);
		exit(2);
	}
	return h;
}

static void hex_decode(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = 0;
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned int b;
		if (sscanf(hex, "%2x", &b) != 1)
			break;
		out[n++] = (unsigned char)b;
	}
	*len = n;
}

/* ---- signatures ---- */

typedef struct sig_case {
	const char *label;
	const char *mech;
	CK_ULONG sig_len;
	const unsigned char *in; /* data, digest or DigestInfo */
	CK_ULONG in_len;
} sig_case;

static CK_RV sign_once(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE priv,
                       const unsigned char *in, CK_ULONG in_len, unsigned char *sig,
                       CK_ULONG *sig_len)
{
	CK_RV rv = p11->C_SignInit(s, m, priv);
	return rv != CKR_OK ? rv : p11->C_Sign(s, (unsigned char *)in, in_len, sig, sig_len);
}

static CK_RV verify_once(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE pub,
                         const unsigned char *in, CK_ULONG in_len, const unsigned char *sig,
                         CK_ULONG sig_len)
{
	CK_RV rv = p11->C_VerifyInit(s, m, pub);
	return rv != CKR_OK ? rv
	                    : p11->C_Verify(s, (unsigned char *)in, in_len, (unsigned char *)sig,
	                                    sig_len);
}

/* Three parts of unequal length. */
static CK_RV sign_parts(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE priv,
                        const unsigned char *in, CK_ULONG len, unsigned char *sig,
                        CK_ULONG *sig_len)
{
	CK_ULONG a = len / 3, b = len / 2;
	CK_RV rv;
	if ((rv = p11->C_SignInit(s, m, priv)) != CKR_OK ||
	    (rv = p11->C_SignUpdate(s, (unsigned char *)in, a)) != CKR_OK ||
	    (rv = p11->C_SignUpdate(s, (unsigned char *)in + a, b - a)) != CKR_OK ||
	    (rv = p11->C_SignUpdate(s, (unsigned char *)in + b, len - b)) != CKR_OK)
		return rv;
	return p11->C_SignFinal(s, sig, sig_len);
}

static CK_RV verify_parts(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE pub,
                          const unsigned char *in, CK_ULONG len, const unsigned char *sig,
                          CK_ULONG sig_len)
{
	CK_ULONG a = len / 4;
	CK_RV rv;
	if ((rv = p11->C_VerifyInit(s, m, pub)) != CKR_OK ||
	    (rv = p11->C_VerifyUpdate(s, (unsigned char *)in, a)) != CKR_OK ||
	    (rv = p11->C_VerifyUpdate(s, (unsigned char *)in + a, len - a)) != CKR_OK)
		return rv;
	return p11->C_VerifyFinal(s, (unsigned char *)sig, sig_len);
}

static void check_sig_case(CK_SESSION_HANDLE s, const sig_case *c)
{
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, c->label);
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, c->label);
	CK_MECHANISM *m = mech_named(c->mech);
	unsigned char sig[600], sig2[600];
	CK_ULONG len = 0, small = 8;
	char what[160];
	CK_RV rv;

	snprintf(what, sizeof(what), "%s %s: C_SignInit", c->label, c->mech);
	CHECK_RV(p11->C_SignInit(s, m, priv), CKR_OK, what);
	rv = p11->C_Sign(s, (unsigned char *)c->in, c->in_len, NULL, &len);
	CHECK(rv == CKR_OK && len == c->sig_len, "%s %s: length query gives %lu (got 0x%lx, %lu)",
	      c->label, c->mech, c->sig_len, (unsigned long)rv, (unsigned long)len);
	rv = p11->C_Sign(s, (unsigned char *)c->in, c->in_len, sig, &small);
	CHECK(rv == CKR_BUFFER_TOO_SMALL && small == c->sig_len,
	      "%s %s: short buffer gives CKR_BUFFER_TOO_SMALL and the length (0x%lx, %lu)",
	      c->label, c->mech, (unsigned long)rv, (unsigned long)small);
	len = sizeof(sig);
	rv = p11->C_Sign(s, (unsigned char *)c->in, c->in_len, sig, &len);
	CHECK(rv == CKR_OK && len == c->sig_len,
	      "%s %s: C_Sign in the vault after both (0x%lx, %lu bytes)", c->label, c->mech,
	      (unsigned long)rv, (unsigned long)len);
	snprintf(what, sizeof(what), "%s %s: the operation ended", c->label, c->mech);
	CHECK_RV(p11->C_Sign(s, (unsigned char *)c->in, c->in_len, sig2, &small),
	         CKR_OPERATION_NOT_INITIALIZED, what);

	snprintf(what, sizeof(what), "%s %s: C_Verify with the public key", c->label, c->mech);
	CHECK_RV(verify_once(s, m, pub, c->in, c->in_len, sig, len), CKR_OK, what);
	sig[len / 2] ^= 0x01;
	snprintf(what, sizeof(what), "%s %s: C_Verify of a changed signature", c->label, c->mech);
	CHECK_RV(verify_once(s, m, pub, c->in, c->in_len, sig, len), CKR_SIGNATURE_INVALID, what);
	sig[len / 2] ^= 0x01;
	snprintf(what, sizeof(what), "%s %s: C_Verify of a short signature", c->label, c->mech);
	CHECK_RV(verify_once(s, m, pub, c->in, c->in_len, sig, len - 1), CKR_SIGNATURE_LEN_RANGE,
	         what);
	if (!hashes_data(m->mechanism))
		return;

	CK_ULONG len2 = sizeof(sig2);
	snprintf(what, sizeof(what), "%s %s: multi-part C_SignUpdate/C_SignFinal", c->label,
	         c->mech);
	CHECK_RV(sign_parts(s, m, priv, c->in, c->in_len, sig2, &len2), CKR_OK, what);
	snprintf(what, sizeof(what), "%s %s: the multi-part signature verifies in one part",
	         c->label, c->mech);
	CHECK_RV(verify_once(s, m, pub, c->in, c->in_len, sig2, len2), CKR_OK, what);
	snprintf(what, sizeof(what), "%s %s: the one-part signature verifies in parts", c->label,
	         c->mech);
	CHECK_RV(verify_parts(s, m, pub, c->in, c->in_len, sig, len), CKR_OK, what);
	if (m->mechanism == CKM_SHA256_RSA_PKCS || m->mechanism == CKM_SHA384_RSA_PKCS ||
	    m->mechanism == CKM_SHA512_RSA_PKCS)
		CHECK(len == len2 && !memcmp(sig, sig2, len),
		      "%s %s: multi-part equals single-part (deterministic)", c->label, c->mech);
	sig[0] ^= 0x80;
	snprintf(what, sizeof(what), "%s %s: C_VerifyFinal of a changed signature", c->label,
	         c->mech);
	CHECK_RV(verify_parts(s, m, pub, c->in, c->in_len, sig, len), CKR_SIGNATURE_INVALID, what);
}

static const unsigned char MSG[] = "The quick brown fox signs over the lazy vault, in parts.";
static unsigned char D32[32], D48[48], D64[64], D66[66], D20[20];

static void check_signatures(CK_SESSION_HANDLE s)
{
	unsigned char di256[64], di384[96], di512[96];
	for (size_t i = 0; i < sizeof(D66); i++) {
		if (i < sizeof(D20))
			D20[i] = (unsigned char)(0xa0 + i);
		if (i < sizeof(D32))
			D32[i] = (unsigned char)(0x10 + i);
		if (i < sizeof(D48))
			D48[i] = (unsigned char)(0x30 + i);
		if (i < sizeof(D64))
			D64[i] = (unsigned char)(0x50 + i);
		D66[i] = (unsigned char)(0xf0 - i);
	}
	CK_ULONG n256 = digest_info("sha256", D32, 32, di256);
	CK_ULONG n384 = digest_info("sha384", D48, 48, di384);
	CK_ULONG n512 = digest_info("sha512", D64, 64, di512);
	const CK_ULONG m = sizeof(MSG) - 1;
	const sig_case cases[] = {
	        {"cmk", "RSA_PKCS", 256, di256, n256},
	        {"cmk", "RSA_PKCS", 256, di384, n384},
	        {"cmk", "RSA_PKCS", 256, di512, n512},
	        {"cmk", "SHA256_RSA_PKCS", 256, MSG, m},
	        {"cmk", "SHA384_RSA_PKCS", 256, MSG, m},
	        {"cmk", "SHA512_RSA_PKCS", 256, MSG, m},
	        {"cmk", "RSA_PKCS_PSS-SHA256", 256, D32, 32},
	        {"cmk", "RSA_PKCS_PSS-SHA384", 256, D48, 48},
	        {"cmk", "RSA_PKCS_PSS-SHA512", 256, D64, 64},
	        {"cmk", "SHA256_RSA_PKCS_PSS", 256, MSG, m},
	        {"cmk", "SHA384_RSA_PKCS_PSS", 256, MSG, m},
	        {"cmk", "SHA512_RSA_PKCS_PSS", 256, MSG, m},
	        {"signing", "SHA256_RSA_PKCS", 256, MSG, m},
	        {"rsa3072", "SHA384_RSA_PKCS", 384, MSG, m},
	        {"rsa3072", "SHA512_RSA_PKCS_PSS", 384, MSG, m},
	        {"rsa3072", "RSA_PKCS", 384, di256, n256},
	        {"ec", "ECDSA", 64, D32, 32},
	        {"ec", "ECDSA_SHA256", 64, MSG, m},
	        {"ec", "ECDSA_SHA384", 64, MSG, m},
	        {"ec", "ECDSA_SHA512", 64, MSG, m},
	        {"ec", "ECDSA", 64, D48, 48}, /* a longer digest is cut, as ECDSA says */
	        {"ec", "ECDSA", 64, D20, 20}, /* a shorter one is left-padded */
	        {"ec384", "ECDSA", 96, D48, 48},
	        {"ec384", "ECDSA_SHA384", 96, MSG, m},
	        {"ec384", "ECDSA_SHA256", 96, MSG, m},
	        {"ec521", "ECDSA", 132, D64, 64},
	        {"ec521", "ECDSA_SHA512", 132, MSG, m},
	        {"ec521", "ECDSA", 132, D32, 32},
	        {"ec256k", "ECDSA", 64, D32, 32},
	        {"ec256k", "ECDSA_SHA256", 64, MSG, m},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_sig_case(s, &cases[i]);
}

static void check_sign_misuse(CK_SESSION_HANDLE s)
{
	CK_OBJECT_HANDLE cmk = must_find(s, CKO_PRIVATE_KEY, "cmk");
	CK_OBJECT_HANDLE cmk_pub = must_find(s, CKO_PUBLIC_KEY, "cmk");
	CK_OBJECT_HANDLE ec = must_find(s, CKO_PRIVATE_KEY, "ec");
	CK_OBJECT_HANDLE ec521 = must_find(s, CKO_PRIVATE_KEY, "ec521");
	CK_OBJECT_HANDLE nosign = must_find(s, CKO_PRIVATE_KEY, "nosign");
	CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0}, raw = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
	unsigned char sig[600], buf[200];
	CK_ULONG len = sizeof(sig), l1, l2;

	CHECK_RV(p11->C_SignInit(s, &sha256, nosign), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "C_SignInit with a key whose key_ops lack sign");
	CHECK_RV(p11->C_SignInit(s, &sha256, cmk_pub), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "C_SignInit with a public key");
	CHECK_RV(p11->C_VerifyInit(s, &sha256, cmk), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "C_VerifyInit with a private key");
	CHECK_RV(p11->C_SignInit(s, &ecdsa, cmk), CKR_KEY_TYPE_INCONSISTENT,
	         "C_SignInit: CKM_ECDSA with an RSA key");
	CHECK_RV(p11->C_SignInit(s, &sha256, ec), CKR_KEY_TYPE_INCONSISTENT,
	         "C_SignInit: CKM_SHA256_RSA_PKCS with an EC key");
	CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0}, des3_mac = {CKM_DES3_MAC, NULL, 0};
	CHECK_RV(p11->C_SignInit(s, &hmac, cmk), CKR_KEY_TYPE_INCONSISTENT,
	         "C_SignInit: CKM_SHA256_HMAC (session secret keys) with an RSA key");
	CHECK_RV(p11->C_SignInit(s, &des3_mac, cmk), CKR_MECHANISM_INVALID,
	         "C_SignInit: a mechanism the module does not have");
	/* Hashes Key Vault has no signing algorithm for: the mechanism alone
	 * decides, so C_SignInit refuses it, and says what the vault signs.
	 * Verification offers the same mechanisms (issue 18). */
	static const CK_MECHANISM_TYPE cannot[] = {CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS,
	                                           CKM_SHA1_RSA_PKCS_PSS, CKM_ECDSA_SHA1};
	for (size_t i = 0; i < sizeof(cannot) / sizeof(cannot[0]); i++) {
		CK_MECHANISM m = {cannot[i], NULL, 0};
		int said = log_count("Key Vault signs RS256/384/512");
		char what[80];
		snprintf(what, sizeof(what), "C_SignInit: mechanism 0x%lx (SHA-1/SHA-224)",
		         (unsigned long)cannot[i]);
		CHECK_RV(p11->C_SignInit(s, &m, cannot[i] == CKM_ECDSA_SHA1 ? ec : cmk),
		         CKR_MECHANISM_INVALID, what);
		CHECK(!tracing() || log_count("Key Vault signs RS256/384/512") == said + 1,
		      "and the log says what Key Vault signs");
		CHECK_RV(p11->C_VerifyInit(s, &m, cannot[i] == CKM_ECDSA_SHA1 ? ec : cmk_pub),
		         CKR_MECHANISM_INVALID, "C_VerifyInit with it too");
	}
	CHECK_RV(p11->C_SignInit(s, &sha256, 0xdead), CKR_KEY_HANDLE_INVALID,
	         "C_SignInit: an invalid key handle");
	CHECK_RV(p11->C_Sign(s, (unsigned char *)MSG, 4, sig, &len), CKR_OPERATION_NOT_INITIALIZED,
	         "C_Sign without C_SignInit");

	/* One operation at a time; a NULL mechanism ends it (PKCS#11 3.0). */
	CHECK_RV(p11->C_SignInit(s, &sha256, cmk), CKR_OK, "C_SignInit");
	CHECK_RV(p11->C_SignInit(s, &sha256, cmk), CKR_OPERATION_ACTIVE, "C_SignInit again");
	CHECK_RV(p11->C_SignInit(s, NULL, cmk), CKR_OK, "C_SignInit(NULL) ends the operation");
	CHECK_RV(p11->C_SignFinal(s, sig, &len), CKR_OPERATION_NOT_INITIALIZED,
	         "nothing is active after that");

	/* Multi-part: length queries keep the data; C_Sign may not finish it. */
	CHECK_RV(p11->C_SignInit(s, &sha256, cmk), CKR_OK, "C_SignInit for parts");
	CHECK_RV(p11->C_SignUpdate(s, (unsigned char *)MSG, 10), CKR_OK, "C_SignUpdate");
	CHECK_RV(p11->C_Sign(s, (unsigned char *)MSG, 10, sig, &len), CKR_OPERATION_ACTIVE,
	         "C_Sign after C_SignUpdate");
	CHECK_RV(p11->C_SignUpdate(s, (unsigned char *)MSG, 10), CKR_OPERATION_NOT_INITIALIZED,
	         "which ended the operation");
	/* Nor may the parts finish a C_Sign that asked the length
	 * (google/pkcs11test's mode policing): refused, and ended. */
	CHECK_RV(p11->C_SignInit(s, &sha256, cmk), CKR_OK, "C_SignInit for one part");
	l1 = 0;
	CHECK(p11->C_Sign(s, (unsigned char *)MSG, 10, NULL, &l1) == CKR_OK && l1 == 256,
	      "C_Sign length query");
	CHECK_RV(p11->C_SignUpdate(s, (unsigned char *)MSG, 10), CKR_OPERATION_ACTIVE,
	         "C_SignUpdate after a C_Sign length query");
	CHECK_RV(p11->C_Sign(s, (unsigned char *)MSG, 10, sig, &len), CKR_OPERATION_NOT_INITIALIZED,
	         "which ended the operation");
	CHECK_RV(p11->C_SignInit(s, &sha256, cmk), CKR_OK, "C_SignInit for parts");
	CHECK_RV(p11->C_SignUpdate(s, (unsigned char *)MSG, 10), CKR_OK, "C_SignUpdate 1");
	CHECK_RV(p11->C_SignUpdate(s, (unsigned char *)MSG + 10, sizeof(MSG) - 11), CKR_OK,
	         "C_SignUpdate 2");
	l1 = 0;
	CHECK(p11->C_SignFinal(s, NULL, &l1) == CKR_OK && l1 == 256, "C_SignFinal length query");
	l1 = 100;
	CHECK(p11->C_SignFinal(s, sig, &l1) == CKR_BUFFER_TOO_SMALL && l1 == 256,
	      "C_SignFinal into a short buffer");
	l1 = sizeof(sig);
	CHECK_RV(p11->C_SignFinal(s, sig, &l1), CKR_OK, "C_SignFinal after both");
	unsigned char one[600];
	l2 = sizeof(one);
	CHECK(sign_once(s, &sha256, cmk, MSG, sizeof(MSG) - 1, one, &l2) == CKR_OK && l1 == l2 &&
	              !memcmp(sig, one, l1),
	      "parts around a length query and a short buffer sign the same data");

	/* Raw mechanisms are single-part. */
	CHECK_RV(p11->C_SignInit(s, &ecdsa, ec), CKR_OK, "C_SignInit CKM_ECDSA");
	CHECK_RV(p11->C_SignUpdate(s, D32, 32), CKR_FUNCTION_NOT_SUPPORTED,
	         "C_SignUpdate with CKM_ECDSA (single-part)");
	len = sizeof(sig);
	CHECK_RV(p11->C_Sign(s, D32, 32, sig, &len), CKR_OPERATION_NOT_INITIALIZED,
	         "the refused update ended the operation");

	/* ECDSA digests ES512 cannot carry. */
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &ecdsa, ec521, D66, 66, sig, &len), CKR_DATA_LEN_RANGE,
	         "CKM_ECDSA on P-521 with a 66-byte digest");

	/* CKM_RSA_PKCS takes a DigestInfo of SHA-256/384/512. */
	unsigned char di[128];
	CK_ULONG n = digest_info("sha1", D20, 20, di);
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &raw, cmk, di, n, sig, &len), CKR_DATA_INVALID,
	         "CKM_RSA_PKCS with a SHA-1 DigestInfo (no such vault algorithm: the data's "
	         "fault, C_SignInit took the mechanism)");
	CHECK_RV(p11->C_Sign(s, di, n, sig, &len), CKR_OPERATION_NOT_INITIALIZED,
	         "the refused input ended the operation");
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &raw, cmk, D32, 32, sig, &len), CKR_DATA_INVALID,
	         "CKM_RSA_PKCS with a bare digest");
	n = digest_info("sha256", D32, 32, di);
	di[n] = 0;
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &raw, cmk, di, n + 1, sig, &len), CKR_DATA_INVALID,
	         "CKM_RSA_PKCS with a byte after the DigestInfo");
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &raw, cmk, di, n - 1, sig, &len), CKR_DATA_INVALID,
	         "CKM_RSA_PKCS with a truncated DigestInfo");
	static const unsigned char no_null[] = {0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09,
	                                        0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	                                        0x04, 0x02, 0x01, 0x04, 0x20};
	memcpy(di, no_null, sizeof(no_null));
	memcpy(di + sizeof(no_null), D32, 32);
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &raw, cmk, di, sizeof(no_null) + 32, sig, &len), CKR_DATA_INVALID,
	         "CKM_RSA_PKCS with a DigestInfo without NULL parameters");
	CHECK_RV(verify_once(s, &raw, cmk_pub, buf, 246, sig, 256), CKR_DATA_LEN_RANGE,
	         "CKM_RSA_PKCS C_Verify of more data than the key signs");

	/* PSS: what the vault can do (salt = digest length, MGF1 of the hash). */
	CK_RSA_PKCS_PSS_PARAMS p = pss256;
	CK_MECHANISM pss = {CKM_RSA_PKCS_PSS, &p, sizeof(p)};
	p.sLen = 0;
	CHECK_RV(p11->C_SignInit(s, &pss, cmk), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_RSA_PKCS_PSS with sLen 0");
	p.sLen = 20;
	CHECK_RV(p11->C_SignInit(s, &pss, cmk), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_RSA_PKCS_PSS with sLen 20 and SHA-256");
	p = pss256;
	p.mgf = CKG_MGF1_SHA1;
	CHECK_RV(p11->C_SignInit(s, &pss, cmk), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_RSA_PKCS_PSS with SHA-256 and MGF1-SHA1");
	p = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA_1, CKG_MGF1_SHA1, 20};
	CHECK_RV(p11->C_SignInit(s, &pss, cmk), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_RSA_PKCS_PSS with SHA-1 (no such vault algorithm)");
	p = pss384;
	CK_MECHANISM pss_sha256 = {CKM_SHA256_RSA_PKCS_PSS, &p, sizeof(p)};
	CHECK_RV(p11->C_SignInit(s, &pss_sha256, cmk), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_SHA256_RSA_PKCS_PSS with hashAlg SHA-384");
	CK_MECHANISM pss_none = {CKM_SHA256_RSA_PKCS_PSS, NULL, 0};
	CHECK_RV(p11->C_SignInit(s, &pss_none, cmk), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_SHA256_RSA_PKCS_PSS without parameters");
	p = pss256;
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &pss, cmk, D48, 48, sig, &len), CKR_DATA_LEN_RANGE,
	         "CKM_RSA_PKCS_PSS (SHA-256) with a 48-byte digest");
	len = sizeof(sig);
	CHECK_RV(sign_once(s, &pss, cmk, D32, 32, sig, &len), CKR_OK, "CKM_RSA_PKCS_PSS sign");
	p.sLen = 0;
	CHECK_RV(verify_once(s, &pss, cmk_pub, D32, 32, sig, len), CKR_SIGNATURE_INVALID,
	         "C_Verify honours sLen (0 does not verify a 32-byte salt)");
	p.sLen = 32;
	CHECK_RV(verify_once(s, &pss, cmk_pub, D32, 32, sig, len), CKR_OK,
	         "and the right sLen verifies");
}

/* p11_checks sign|verify|decrypt LABEL MECH IN OUT [MECH IN OUT]... */
static int file_ops(const char *op, int argc, char **argv)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	int sign = !strcmp(op, "sign"), verify = !strcmp(op, "verify");
	CK_OBJECT_HANDLE key = must_find(s, verify ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY, argv[0]);
	static unsigned char in[1 << 16], out[1024];
	for (int i = 1; i + 2 < argc; i += 3) {
		CK_MECHANISM *m = mech_named(argv[i]);
		size_t n = read_file(argv[i + 1], in, sizeof(in));
		CK_ULONG len = sizeof(out);
		char what[300];
		snprintf(what, sizeof(what), "%s %s %s %s", op, argv[0], argv[i], argv[i + 1]);
		if (sign) {
			CHECK_RV(sign_once(s, m, key, in, n, out, &len), CKR_OK, what);
		} else if (verify) {
			size_t sl = read_file(argv[i + 2], out, sizeof(out));
			CHECK_RV(verify_once(s, m, key, in, n, out, sl), CKR_OK, what);
			continue;
		} else {
			CK_RV rv = p11->C_DecryptInit(s, m, key);
			if (rv == CKR_OK)
				rv = p11->C_Decrypt(s, in, n, out, &len);
			CHECK_RV(rv, CKR_OK, what);
		}
		write_file(argv[i + 2], out, len);
	}
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* ---- RSA encryption (local) and decryption (in the vault) ---- */

static CK_RV encrypt_once(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                          const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                          CK_ULONG *out_len)
{
	CK_RV rv = p11->C_EncryptInit(s, m, key);
	return rv != CKR_OK ? rv : p11->C_Encrypt(s, (unsigned char *)in, in_len, out, out_len);
}

static CK_RV decrypt_once(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                          const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                          CK_ULONG *out_len)
{
	CK_RV rv = p11->C_DecryptInit(s, m, key);
	return rv != CKR_OK ? rv : p11->C_Decrypt(s, (unsigned char *)in, in_len, out, out_len);
}

static void check_rsa_crypt(CK_SESSION_HANDLE s)
{
	static const char *const mechs[] = {"RSA_PKCS_OAEP-SHA1", "RSA_PKCS_OAEP-SHA256",
	                                    "RSA_PKCS"};
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, "cmk");
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, "cmk");
	unsigned char ct[512], pt[512];
	CK_ULONG len, plen;
	char what[160];

	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
		CK_MECHANISM *m = mech_named(mechs[i]);
		len = 0;
		CHECK_RV(p11->C_EncryptInit(s, m, pub), CKR_OK, "C_EncryptInit");
		CHECK(p11->C_Encrypt(s, D32, 32, NULL, &len) == CKR_OK && len == 256,
		      "%s: C_Encrypt length query gives 256", mechs[i]);
		len = sizeof(ct);
		snprintf(what, sizeof(what), "%s: C_Encrypt with the public key", mechs[i]);
		CHECK_RV(p11->C_Encrypt(s, D32, 32, ct, &len), CKR_OK, what);

		int calls = log_count("/decrypt status=");
		CHECK_RV(p11->C_DecryptInit(s, m, priv), CKR_OK, "C_DecryptInit");
		plen = 0;
		CHECK(p11->C_Decrypt(s, ct, len, NULL, &plen) == CKR_OK && plen == 256,
		      "%s: C_Decrypt length query gives the modulus length", mechs[i]);
		CHECK(!tracing() || log_count("/decrypt status=") == calls,
		      "%s: the length query made no vault request", mechs[i]);
		plen = 4;
		CHECK(p11->C_Decrypt(s, ct, len, pt, &plen) == CKR_BUFFER_TOO_SMALL && plen == 32,
		      "%s: C_Decrypt into 4 bytes: CKR_BUFFER_TOO_SMALL with the real length 32",
		      mechs[i]);
		plen = 32;
		CHECK(p11->C_Decrypt(s, ct, len, pt, &plen) == CKR_OK && plen == 32 &&
		              !memcmp(pt, D32, 32),
		      "%s: C_Decrypt in the vault gives the plaintext back", mechs[i]);
		CHECK(!tracing() || log_count("/decrypt status=") == calls + 1,
		      "%s: one vault request for the short buffer and the retry (%d)", mechs[i],
		      log_count("/decrypt status=") - calls);
		plen = sizeof(pt);
		snprintf(what, sizeof(what), "%s: the operation ended", mechs[i]);
		CHECK_RV(p11->C_Decrypt(s, ct, len, pt, &plen), CKR_OPERATION_NOT_INITIALIZED,
		         what);

		ct[100] ^= 0x40;
		plen = sizeof(pt);
		snprintf(what, sizeof(what), "%s: C_Decrypt of corrupted ciphertext", mechs[i]);
		CHECK_RV(decrypt_once(s, m, priv, ct, len, pt, &plen), CKR_ENCRYPTED_DATA_INVALID,
		         what);
		calls = log_count("/decrypt status=");
		plen = sizeof(pt);
		snprintf(what, sizeof(what), "%s: C_Decrypt of 255 bytes", mechs[i]);
		CHECK_RV(decrypt_once(s, m, priv, ct, len - 1, pt, &plen),
		         CKR_ENCRYPTED_DATA_LEN_RANGE, what);
		CHECK(!tracing() || log_count("/decrypt status=") == calls,
		      "%s: a wrong length costs no vault request", mechs[i]);
	}

	CK_MECHANISM *oaep256 = mech_named("RSA_PKCS_OAEP-SHA256");
	unsigned char big[256] = {0};
	len = sizeof(ct);
	CHECK_RV(encrypt_once(s, oaep256, pub, big, 190, ct, &len), CKR_OK,
	         "RSA-OAEP-256: 190 bytes (the most a 2048-bit key takes)");
	len = sizeof(ct);
	CHECK_RV(encrypt_once(s, oaep256, pub, big, 191, ct, &len), CKR_DATA_LEN_RANGE,
	         "RSA-OAEP-256: 191 bytes");
	CK_MECHANISM *pkcs1 = mech_named("RSA_PKCS");
	len = sizeof(ct);
	CHECK_RV(encrypt_once(s, pkcs1, pub, big, 246, ct, &len), CKR_DATA_LEN_RANGE,
	         "RSA1_5: 246 bytes");
	CK_MECHANISM m384 = {CKM_RSA_PKCS_OAEP, &oaep_sha384, sizeof(oaep_sha384)};
	CHECK_RV(p11->C_EncryptInit(s, &m384, pub), CKR_MECHANISM_PARAM_INVALID,
	         "C_EncryptInit: OAEP with SHA-384");
	CHECK_RV(p11->C_DecryptInit(s, &m384, priv), CKR_MECHANISM_PARAM_INVALID,
	         "C_DecryptInit: OAEP with SHA-384");
	CHECK_RV(p11->C_EncryptInit(s, oaep256, priv), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "C_EncryptInit with a private key");
	CHECK_RV(p11->C_DecryptInit(s, oaep256, pub), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "C_DecryptInit with a public key");
	CHECK_RV(p11->C_DecryptInit(s, oaep256, must_find(s, CKO_PRIVATE_KEY, "signing")),
	         CKR_KEY_FUNCTION_NOT_PERMITTED, "C_DecryptInit: key_ops without decrypt");
	CHECK_RV(p11->C_EncryptInit(s, oaep256, must_find(s, CKO_PUBLIC_KEY, "ec")),
	         CKR_KEY_FUNCTION_NOT_PERMITTED, "C_EncryptInit with an EC key");
	CHECK_RV(p11->C_EncryptInit(s, oaep256, pub), CKR_OK, "C_EncryptInit");
	len = sizeof(ct);
	CHECK_RV(p11->C_EncryptUpdate(s, D32, 32, ct, &len), CKR_FUNCTION_NOT_SUPPORTED,
	         "C_EncryptUpdate with RSA (single-part)");

	CK_OBJECT_HANDLE pub3 = must_find(s, CKO_PUBLIC_KEY, "rsa3072");
	CK_OBJECT_HANDLE priv3 = must_find(s, CKO_PRIVATE_KEY, "rsa3072");
	len = sizeof(ct);
	plen = sizeof(pt);
	CHECK(encrypt_once(s, oaep256, pub3, D48, 48, ct, &len) == CKR_OK && len == 384 &&
	              decrypt_once(s, oaep256, priv3, ct, len, pt, &plen) == CKR_OK && plen == 48 &&
	              !memcmp(pt, D48, 48),
	      "RSA-3072 RSA-OAEP-256 round trip");
}

/* ---- session-key crypto ---- */

static const char *CBC_KEY = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
static const char *CBC_IV = "000102030405060708090a0b0c0d0e0f";
static const char *CBC_PT = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                            "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
static const char *CBC_CT = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
                            "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";

/* Multi-part encryption or decryption of in, in chunks of step bytes,
 * into out; 0 on success. */
static int cipher_parts(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key, int encrypt,
                        const unsigned char *in, CK_ULONG len, CK_ULONG step, unsigned char *out,
                        CK_ULONG *out_len)
{
	CK_ULONG done = 0, part;
	CK_RV rv = encrypt ? p11->C_EncryptInit(s, m, key) : p11->C_DecryptInit(s, m, key);
	if (rv != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < len; i += step) {
		CK_ULONG n = len - i < step ? len - i : step, want = 0;
		/* A length query first: it must not consume the part. */
		rv = encrypt ? p11->C_EncryptUpdate(s, (unsigned char *)in + i, n, NULL, &want)
		             : p11->C_DecryptUpdate(s, (unsigned char *)in + i, n, NULL, &want);
		if (rv != CKR_OK)
			return -2;
		part = *out_len - done;
		rv = encrypt ? p11->C_EncryptUpdate(s, (unsigned char *)in + i, n, out + done,
		                                    &part)
		             : p11->C_DecryptUpdate(s, (unsigned char *)in + i, n, out + done,
		                                    &part);
		if (rv != CKR_OK || part != want)
			return -3;
		done += part;
	}
	part = *out_len - done;
	rv = encrypt ? p11->C_EncryptFinal(s, out + done, &part)
	             : p11->C_DecryptFinal(s, out + done, &part);
	if (rv != CKR_OK)
		return (int)rv;
	*out_len = done + part;
	return 0;
}

static void check_aes_cbc(CK_SESSION_HANDLE s)
{
	unsigned char key[32], iv[16], pt[128], ct[128], out[160], back[160];
	size_t n, pt_len, ct_len;
	hex_decode(CBC_KEY, key, &n);
	hex_decode(CBC_IV, iv, &n);
	hex_decode(CBC_PT, pt, &pt_len);
	hex_decode(CBC_CT, ct, &ct_len);
	CK_OBJECT_HANDLE k = make_key(s, CKK_AES, key, 32, K_USUAL);
	CK_MECHANISM m = {CKM_AES_CBC_PAD, iv, 16};
	CK_ULONG len = 0;

	CHECK(encrypt_once(s, &m, k, pt, 64, NULL, &len) == CKR_OK && len == 80,
	      "CKM_AES_CBC_PAD: 64 bytes encrypt to 80 (length query)");
	len = sizeof(out);
	CHECK(p11->C_Encrypt(s, pt, 64, out, &len) == CKR_OK && len == 80 && !memcmp(out, ct, 64),
	      "CKM_AES_CBC_PAD: NIST SP 800-38A F.2.5 (CBC-AES256) known answer");
	CK_ULONG blen = sizeof(back);
	CHECK(decrypt_once(s, &m, k, out, 80, back, &blen) == CKR_OK && blen == 64 &&
	              !memcmp(back, pt, 64),
	      "CKM_AES_CBC_PAD: decrypts back, padding removed");

	/* Every length up to four blocks, in parts of 1, 7, 16 and 17 bytes. */
	static const CK_ULONG steps[] = {1, 7, 16, 17};
	int all_ok = 1;
	for (CK_ULONG l = 0; l <= 64; l++) {
		CK_ULONG single = sizeof(out);
		if (encrypt_once(s, &m, k, pt, l, out, &single) != CKR_OK ||
		    single != (l / 16 + 1) * 16) {
			printf("#   single-part encryption of %lu bytes failed\n",
			       (unsigned long)l);
			all_ok = 0;
			continue;
		}
		for (size_t j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			CK_ULONG multi = sizeof(back), plain = sizeof(back);
			unsigned char dec[160];
			int r1 = cipher_parts(s, &m, k, 1, pt, l, steps[j], back, &multi);
			int r2 = cipher_parts(s, &m, k, 0, out, single, steps[j], dec, &plain);
			if (r1 || r2 || multi != single || memcmp(back, out, single) ||
			    plain != l || memcmp(dec, pt, l)) {
				printf("#   %lu bytes in parts of %lu: %d %d\n", (unsigned long)l,
				       (unsigned long)steps[j], r1, r2);
				all_ok = 0;
			}
		}
	}
	CHECK(all_ok, "CKM_AES_CBC_PAD: multi-part equals single-part for 0..64 bytes in "
	              "parts of 1, 7, 16, 17 (with length queries)");

	/* Bad input. */
	unsigned char block[16];
	len = sizeof(out);
	encrypt_once(s, &m, k, key, 16, out, &len); /* 32 bytes: 16 of data, 16 of padding */
	blen = sizeof(back);
	CHECK_RV(decrypt_once(s, &m, k, out, 16, back, &blen), CKR_ENCRYPTED_DATA_INVALID,
	         "CKM_AES_CBC_PAD: C_Decrypt of a block whose padding is wrong");
	memcpy(block, out, 16);
	CK_ULONG z = sizeof(back);
	CHECK(p11->C_DecryptInit(s, &m, k) == CKR_OK &&
	              p11->C_DecryptUpdate(s, block, 16, back, &z) == CKR_OK && z == 0,
	      "CKM_AES_CBC_PAD: C_DecryptUpdate keeps the last block back");
	z = sizeof(back);
	CHECK_RV(p11->C_DecryptFinal(s, back, &z), CKR_ENCRYPTED_DATA_INVALID,
	         "CKM_AES_CBC_PAD: C_DecryptFinal of a block whose padding is wrong");
	blen = sizeof(back);
	CHECK_RV(decrypt_once(s, &m, k, out, 17, back, &blen), CKR_ENCRYPTED_DATA_LEN_RANGE,
	         "CKM_AES_CBC_PAD: C_Decrypt of 17 bytes");
	z = sizeof(back);
	CHECK(p11->C_DecryptInit(s, &m, k) == CKR_OK &&
	              p11->C_DecryptUpdate(s, out, 21, back, &z) == CKR_OK &&
	              p11->C_DecryptFinal(s, back, &z) == CKR_ENCRYPTED_DATA_LEN_RANGE,
	      "CKM_AES_CBC_PAD: C_DecryptFinal after 21 bytes is CKR_ENCRYPTED_DATA_LEN_RANGE");
	CK_MECHANISM short_iv = {CKM_AES_CBC_PAD, iv, 8};
	CHECK_RV(p11->C_EncryptInit(s, &short_iv, k), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_CBC_PAD with an 8-byte IV");
	CHECK_RV(p11->C_EncryptInit(s, &m, must_find(s, CKO_PUBLIC_KEY, "cmk")),
	         CKR_KEY_TYPE_INCONSISTENT, "CKM_AES_CBC_PAD with an RSA key");
	/* A length query leaves a multi-part operation as it was. */
	CK_ULONG q = 0, r = sizeof(out);
	CHECK(p11->C_EncryptInit(s, &m, k) == CKR_OK &&
	              p11->C_EncryptUpdate(s, pt, 20, out, &r) == CKR_OK && r == 16 &&
	              p11->C_EncryptFinal(s, NULL, &q) == CKR_OK && q == 16 &&
	              (r = 3, p11->C_EncryptFinal(s, out + 16, &r)) == CKR_BUFFER_TOO_SMALL &&
	              r == 16 && (r = 16, p11->C_EncryptFinal(s, out + 16, &r)) == CKR_OK &&
	              r == 16,
	      "CKM_AES_CBC_PAD: C_EncryptFinal length query and short buffer keep the operation");
	CHECK_RV(p11->C_Encrypt(s, pt, 16, out, &r), CKR_OPERATION_NOT_INITIALIZED,
	         "CKM_AES_CBC_PAD: C_EncryptFinal ended the operation");
	p11->C_DestroyObject(s, k);
}

static void check_aes_gcm(CK_SESSION_HANDLE s)
{
	unsigned char key[32], iv[12] = {1, 2, 3}, aad[] = "header";
	unsigned char pt[100], one[200], parts[200], dec[200];
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (unsigned char)i;
	memcpy(key, D32, 32);
	CK_OBJECT_HANDLE k = make_key(s, CKK_AES, key, 32, K_USUAL);
	CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, aad, sizeof(aad), 128};
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
	CK_ULONG l1 = sizeof(one), l2 = sizeof(parts), l3 = sizeof(dec);
	CHECK(encrypt_once(s, &m, k, pt, 100, one, &l1) == CKR_OK && l1 == 116,
	      "CKM_AES_GCM: single-part");
	CHECK(cipher_parts(s, &m, k, 1, pt, 100, 33, parts, &l2) == 0 && l2 == l1 &&
	              !memcmp(one, parts, l1),
	      "CKM_AES_GCM: multi-part encryption (the tag from C_EncryptFinal) equals "
	      "single-part");
	CHECK(cipher_parts(s, &m, k, 0, one, l1, 40, dec, &l3) == 0 && l3 == 100 &&
	              !memcmp(dec, pt, 100),
	      "CKM_AES_GCM: multi-part decryption");
	CK_ULONG z = sizeof(dec);
	CHECK(p11->C_DecryptInit(s, &m, k) == CKR_OK &&
	              p11->C_DecryptUpdate(s, one, 60, dec, &z) == CKR_OK && z == 0,
	      "CKM_AES_GCM: C_DecryptUpdate releases no plaintext before the tag is checked");
	one[l1 - 1] ^= 1;
	z = sizeof(dec);
	CHECK(p11->C_DecryptUpdate(s, one + 60, l1 - 60, dec, &z) == CKR_OK && z == 0 &&
	              (z = sizeof(dec), p11->C_DecryptFinal(s, dec, &z)) ==
	                      CKR_ENCRYPTED_DATA_INVALID,
	      "CKM_AES_GCM: a wrong tag fails C_DecryptFinal (CKR_ENCRYPTED_DATA_INVALID)");
	l3 = sizeof(dec);
	CHECK_RV(decrypt_once(s, &m, k, one, l1, dec, &l3), CKR_ENCRYPTED_DATA_INVALID,
	         "CKM_AES_GCM: and single-part C_Decrypt");
	p11->C_DestroyObject(s, k);
}

/* RFC 3394 4.1 and 4.6, RFC 5649 6. */
static const struct {
	const char *name;
	CK_MECHANISM_TYPE mech;
	CK_KEY_TYPE key_type;
	const char *kek, *key, *wrapped;
} kw_vectors[] = {
        {"RFC 3394 4.1 (128-bit KEK, 128-bit key)", CKM_AES_KEY_WRAP, CKK_AES,
         "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
         "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
        {"RFC 3394 4.6 (256-bit KEK, 256-bit key)", CKM_AES_KEY_WRAP, CKK_AES,
         "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
         "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
         "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
        {"RFC 5649 6 (20-byte key)", CKM_AES_KEY_WRAP_PAD, CKK_GENERIC_SECRET,
         "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
         "c37b7e6492584340bed12207808941155068f738",
         "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
        {"RFC 5649 6 (7-byte key)", CKM_AES_KEY_WRAP_PAD, CKK_GENERIC_SECRET,
         "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "466f7250617369",
         "afbeb0f07dfbf5419200f2ccb50bb24f"},
};

static CK_RV unwrap_secret(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
                           CK_KEY_TYPE kt, const unsigned char *wrapped, CK_ULONG len,
                           CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                    {CKA_SENSITIVE, &no, sizeof(no)}};
	return p11->C_UnwrapKey(s, m, kek, (unsigned char *)wrapped, len, t, 3, out);
}

static void check_aes_kw(CK_SESSION_HANDLE s)
{
	unsigned char kek[32], key[32], want[48], got[64], value[64] = {0};
	size_t kek_len, key_len, want_len;
	char what[160];
	for (size_t i = 0; i < sizeof(kw_vectors) / sizeof(kw_vectors[0]); i++) {
		hex_decode(kw_vectors[i].kek, kek, &kek_len);
		hex_decode(kw_vectors[i].key, key, &key_len);
		hex_decode(kw_vectors[i].wrapped, want, &want_len);
		CK_MECHANISM m = {kw_vectors[i].mech, NULL, 0};
		CK_OBJECT_HANDLE wk = make_key(s, CKK_AES, kek, kek_len, K_USUAL);
		CK_OBJECT_HANDLE k = make_key(s, kw_vectors[i].key_type, key, key_len, K_USUAL);
		CK_ULONG len = 0;
		CHECK(p11->C_WrapKey(s, &m, wk, k, NULL, &len) == CKR_OK && len >= want_len,
		      "%s: C_WrapKey length query (%lu)", kw_vectors[i].name, (unsigned long)len);
		len = sizeof(got);
		CHECK(p11->C_WrapKey(s, &m, wk, k, got, &len) == CKR_OK && len == want_len &&
		              !memcmp(got, want, want_len),
		      "%s: C_WrapKey gives the known answer", kw_vectors[i].name);
		CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
		snprintf(what, sizeof(what), "%s: C_UnwrapKey", kw_vectors[i].name);
		CHECK_RV(unwrap_secret(s, &m, wk, kw_vectors[i].key_type, want, want_len, &back),
		         CKR_OK, what);
		CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
		CHECK(p11->C_GetAttributeValue(s, back, &v, 1) == CKR_OK &&
		              v.ulValueLen == key_len && !memcmp(value, key, key_len),
		      "%s: the unwrapped key has the value", kw_vectors[i].name);
		len = sizeof(got);
		CHECK(encrypt_once(s, &m, wk, key, key_len, got, &len) == CKR_OK &&
		              len == want_len && !memcmp(got, want, want_len),
		      "%s: C_Encrypt gives the same", kw_vectors[i].name);
		len = sizeof(got);
		CHECK(decrypt_once(s, &m, wk, want, want_len, got, &len) == CKR_OK &&
		              len == key_len && !memcmp(got, key, key_len),
		      "%s: C_Decrypt gives the key back", kw_vectors[i].name);
		want[want_len / 2] ^= 1;
		snprintf(what, sizeof(what), "%s: C_UnwrapKey of corrupted data",
		         kw_vectors[i].name);
		CHECK_RV(unwrap_secret(s, &m, wk, kw_vectors[i].key_type, want, want_len, &back),
		         CKR_WRAPPED_KEY_INVALID, what);
		p11->C_DestroyObject(s, wk);
		p11->C_DestroyObject(s, k);
	}

	/* The extractability rules. */
	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0}, kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_OBJECT_HANDLE wk = make_key(s, CKK_AES, D32, 32, K_USUAL);
	CK_OBJECT_HANDLE nowrap = make_key(s, CKK_AES, D32, 32, K_EXTRACTABLE);
	CK_OBJECT_HANDLE locked = make_key(s, CKK_AES, D48, 32, K_WRAP | K_UNWRAP);
	CK_OBJECT_HANDLE trusted_only = make_key(s, CKK_AES, D64, 16, K_USUAL | K_TRUSTED_ONLY);
	CK_OBJECT_HANDLE odd = make_key(s, CKK_GENERIC_SECRET, D64, 20, K_USUAL);
	CK_OBJECT_HANDLE dek = make_key(s, CKK_AES, D64, 32, K_USUAL), back;
	CK_ULONG len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, locked, got, &len), CKR_KEY_UNEXTRACTABLE,
	         "AES key wrap of a key with CKA_EXTRACTABLE=FALSE");
	len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, trusted_only, got, &len), CKR_KEY_NOT_WRAPPABLE,
	         "AES key wrap of a CKA_WRAP_WITH_TRUSTED key with an untrusted key");
	len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kw, nowrap, dek, got, &len), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "AES key wrap with a key whose CKA_WRAP is FALSE");
	len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, must_find(s, CKO_PRIVATE_KEY, "cmk"), got, &len),
	         CKR_KEY_UNEXTRACTABLE, "AES key wrap of a vault private key");
	len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, odd, got, &len), CKR_KEY_SIZE_RANGE,
	         "CKM_AES_KEY_WRAP of a 20-byte key (RFC 3394 takes multiples of 8)");
	len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kwp, wk, odd, got, &len), CKR_OK,
	         "CKM_AES_KEY_WRAP_PAD of a 20-byte key");
	CHECK(len == 32, "which is 32 bytes wrapped");
	len = 10;
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, dek, got, &len), CKR_BUFFER_TOO_SMALL,
	         "AES key wrap into a short buffer");
	CHECK(len == 40, "gives the length, 40");
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, dek, got, &len), CKR_OK, "AES key wrap");
	CHECK_RV(unwrap_secret(s, &kw, nowrap, CKK_AES, got, len, &back),
	         CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "AES key unwrap with a key whose CKA_UNWRAP is "
	         "FALSE");
	CHECK_RV(unwrap_secret(s, &kw, wk, CKK_AES, got, 36, &back), CKR_WRAPPED_KEY_LEN_RANGE,
	         "AES key unwrap of 36 bytes");
	CHECK_RV(unwrap_secret(s, &kw, wk, CKK_AES, got, 16, &back), CKR_WRAPPED_KEY_LEN_RANGE,
	         "CKM_AES_KEY_WRAP unwrap of 16 bytes");
	CHECK_RV(unwrap_secret(s, &kwp, wk, CKK_AES, got, len, &back), CKR_WRAPPED_KEY_INVALID,
	         "RFC 3394 data unwrapped as RFC 5649");
	unsigned char iv8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CK_MECHANISM kw_iv = {CKM_AES_KEY_WRAP, iv8, 8}, kw_bad = {CKM_AES_KEY_WRAP, iv8, 5};
	CHECK_RV(unwrap_secret(s, &kw_iv, wk, CKK_AES, got, len, &back), CKR_WRAPPED_KEY_INVALID,
	         "AES key unwrap with another IV");
	CHECK_RV(p11->C_WrapKey(s, &kw_bad, wk, dek, got, &len), CKR_MECHANISM_PARAM_INVALID,
	         "AES key wrap with a 5-byte IV");
	CK_MECHANISM oaep = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
	len = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &oaep, wk, dek, got, &len), CKR_MECHANISM_INVALID,
	         "C_WrapKey: RSA-OAEP with an AES key");

	/* An unwrapped key was outside: never "always sensitive". */
	len = sizeof(got);
	p11->C_WrapKey(s, &kw, wk, dek, got, &len);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, as = CK_TRUE, ne = CK_TRUE, sens = CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                    {CKA_SENSITIVE, &yes, sizeof(yes)},
	                    {CKA_EXTRACTABLE, &no, sizeof(no)}};
	CK_ATTRIBUTE a[] = {{CKA_ALWAYS_SENSITIVE, &as, sizeof(as)},
	                    {CKA_NEVER_EXTRACTABLE, &ne, sizeof(ne)},
	                    {CKA_SENSITIVE, &sens, sizeof(sens)}};
	CHECK(p11->C_UnwrapKey(s, &kw, wk, got, len, t, 4, &back) == CKR_OK &&
	              p11->C_GetAttributeValue(s, back, a, 3) == CKR_OK && !as && !ne && sens,
	      "an AES-unwrapped key is sensitive as asked, but neither always sensitive nor "
	      "never extractable");
	CK_ULONG again = sizeof(got);
	CHECK_RV(p11->C_WrapKey(s, &kw, wk, back, got, &again), CKR_KEY_UNEXTRACTABLE,
	         "and, unwrapped unextractable, it cannot be wrapped again");

	/* The envelope through session keys only: DEK under KEK, data under DEK. */
	unsigned char iv[12] = {9}, sealed[200], opened[200];
	CK_GCM_PARAMS gp = {iv, sizeof(iv), 96, NULL, 0, 128};
	CK_MECHANISM gcm = {CKM_AES_GCM, &gp, sizeof(gp)};
	CK_OBJECT_HANDLE dek2 = CK_INVALID_HANDLE;
	CK_ULONG sl = sizeof(sealed), ol = sizeof(opened);
	len = sizeof(got);
	CHECK(p11->C_WrapKey(s, &kwp, wk, dek, got, &len) == CKR_OK &&
	              encrypt_once(s, &gcm, dek, MSG, sizeof(MSG), sealed, &sl) == CKR_OK &&
	              unwrap_secret(s, &kwp, wk, CKK_AES, got, len, &dek2) == CKR_OK &&
	              decrypt_once(s, &gcm, dek2, sealed, sl, opened, &ol) == CKR_OK &&
	              ol == sizeof(MSG) && !memcmp(opened, MSG, ol),
	      "envelope with session keys: AES-KWP-wrapped DEK opens AES-GCM data");
}

/* ---- Managed HSM keys --------------------------------------------------
 *
 *   p11_checks hsm LABEL BITS          the oct-HSM key LABEL of BITS bits: its one
 *                                      secret-key object, CKM_AES_KEY_WRAP, _PAD and
 *                                      _KWP in the HSM, misuse
 *   p11_checks hsm-rsa LABEL           an RSA-HSM key in the HSM wraps and unwraps
 *   p11_checks hsm-unwrap LABEL FILE HEX  C_UnwrapKey of FILE (RFC 3394, wrapped
 *                                      elsewhere) gives the generic secret HEX
 *   p11_checks expect-hsm LABEL RV     C_WrapKey and C_UnwrapKey with LABEL give RV
 *
 * Slot 0 is the Managed HSM. */

static void check_hsm_attributes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, const char *label,
                                 CK_ULONG bits)
{
	CK_OBJECT_CLASS cls = 0;
	CK_KEY_TYPE kt = 0;
	CK_BBOOL token = 0, sens = 0, ext = 1, asens = 0, nex = 0, wrap = 0, unwrap = 0;
	CK_ULONG value_len = 0;
	unsigned char id[64], name[64], value[64];
	CK_MECHANISM_TYPE mechs[8];
	CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                    {CKA_TOKEN, &token, sizeof(token)},
	                    {CKA_SENSITIVE, &sens, sizeof(sens)},
	                    {CKA_EXTRACTABLE, &ext, sizeof(ext)},
	                    {CKA_ALWAYS_SENSITIVE, &asens, sizeof(asens)},
	                    {CKA_NEVER_EXTRACTABLE, &nex, sizeof(nex)},
	                    {CKA_WRAP, &wrap, sizeof(wrap)},
	                    {CKA_UNWRAP, &unwrap, sizeof(unwrap)},
	                    {CKA_ID, id, sizeof(id)},
	                    {CKA_AZKV_KEY_NAME, name, sizeof(name)},
	                    {CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs)},
	                    {CKA_VALUE_LEN, &value_len, sizeof(value_len)}};
	CHECK_RV(p11->C_GetAttributeValue(s, k, a, sizeof(a) / sizeof(a[0])), CKR_OK,
	         "HSM AES key: attributes");
	CHECK(cls == CKO_SECRET_KEY && kt == CKK_AES && token, "%s: a token AES secret key", label);
	CHECK(sens && !ext && asens && nex,
	      "%s: sensitive, never extractable, always sensitive, never extractable", label);
	CHECK(wrap && unwrap, "%s: CKA_WRAP and CKA_UNWRAP from key_ops", label);
	CHECK(a[9].ulValueLen == 16, "%s: CKA_ID is the version's 16 bytes", label);
	CHECK(a[10].ulValueLen == strlen(label) && !memcmp(name, label, strlen(label)),
	      "%s: CKA_AZKV_KEY_NAME", label);
	CHECK(a[11].ulValueLen == 3 * sizeof(CK_MECHANISM_TYPE) && mechs[0] == CKM_AES_KEY_WRAP,
	      "%s: CKA_ALLOWED_MECHANISMS are the AES key wraps", label);
	CHECK(value_len == bits / 8, "%s: CKA_VALUE_LEN %lu (the HSM's size)", label,
	      (unsigned long)value_len);
	CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
	CHECK_RV(p11->C_GetAttributeValue(s, k, &v, 1), CKR_ATTRIBUTE_SENSITIVE,
	         "HSM AES key: CKA_VALUE is sensitive");
	CHECK(v.ulValueLen == CK_UNAVAILABLE_INFORMATION, "%s: no value leaves the HSM", label);
	CK_OBJECT_HANDLE none;
	CHECK_RV(find_key(s, CKO_PUBLIC_KEY, label, &none), CKR_OBJECT_HANDLE_INVALID,
	         "HSM AES key: no public-key object");
	CHECK_RV(p11->C_DestroyObject(s, k), CKR_ACTION_PROHIBITED,
	         "HSM AES key: C_DestroyObject is refused");
}

static int hsm_aes(const char *label, CK_ULONG bits)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_HANDLE k = must_find(s, CKO_SECRET_KEY, label), back = CK_INVALID_HANDLE;
	check_hsm_attributes(s, k, label, bits);

	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0}, kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0},
	             kwp3 = {CKM_AES_KEY_WRAP_KWP, NULL, 0};
	unsigned char wrapped[64], c1[64], c2[64], value[64] = {0};
	CK_ULONG len = 0, l1 = sizeof(c1), l2 = sizeof(c2);
	CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE);
	int calls = log_count("/wrapkey status=");
	CHECK(p11->C_WrapKey(s, &kw, k, dek, NULL, &len) == CKR_OK && len == 40,
	      "%s: CKM_AES_KEY_WRAP length query: 40 (got %lu)", label, (unsigned long)len);
	CHECK(!tracing() || log_count("/wrapkey status=") == calls,
	      "%s: the length query cost no vault call", label);
	len = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &kw, k, dek, wrapped, &len), CKR_OK,
	         "CKM_AES_KEY_WRAP: C_WrapKey in the HSM");
	CHECK_RV(unwrap(s, &kw, k, wrapped, len, &back), CKR_OK,
	         "CKM_AES_KEY_WRAP: C_UnwrapKey in the HSM");
	CK_RV r1 = gcm_fixed(s, dek, c1, &l1), r2 = gcm_fixed(s, back, c2, &l2);
	CHECK(r1 == CKR_OK && r2 == CKR_OK && l1 == l2 && !memcmp(c1, c2, l1),
	      "%s: original and unwrapped keys give the same AES-GCM ciphertext", label);

	/* A 21-byte generic secret: only the padded mechanisms take it. */
	CK_OBJECT_HANDLE odd = make_key(s, CKK_GENERIC_SECRET, D64, 21, K_USUAL);
	CK_ULONG olen = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &kw, k, odd, wrapped, &olen), CKR_KEY_SIZE_RANGE,
	         "CKM_AES_KEY_WRAP of a 21-byte key (RFC 3394 takes multiples of 8)");
	CK_MECHANISM *padded[] = {&kwp, &kwp3};
	for (size_t i = 0; i < 2; i++) {
		const char *mname = i ? "CKM_AES_KEY_WRAP_KWP" : "CKM_AES_KEY_WRAP_PAD";
		olen = 0;
		CHECK(p11->C_WrapKey(s, padded[i], k, odd, NULL, &olen) == CKR_OK && olen == 32,
		      "%s: %s length query: 32", label, mname);
		olen = sizeof(wrapped);
		CK_OBJECT_HANDLE got = CK_INVALID_HANDLE;
		CK_ATTRIBUTE va = {CKA_VALUE, value, sizeof(value)};
		CHECK(p11->C_WrapKey(s, padded[i], k, odd, wrapped, &olen) == CKR_OK &&
		              olen == 32 &&
		              unwrap_secret(s, padded[i], k, CKK_GENERIC_SECRET, wrapped, olen,
		                            &got) == CKR_OK &&
		              p11->C_GetAttributeValue(s, got, &va, 1) == CKR_OK &&
		              va.ulValueLen == 21 && !memcmp(value, D64, 21),
		      "%s: %s wraps and unwraps a 21-byte key in the HSM", label, mname);
	}

	/* Bad input: the vault's answer, or the module's before any call. */
	wrapped[len / 2] ^= 1;
	CHECK_RV(unwrap(s, &kw, k, wrapped, len, &back), CKR_WRAPPED_KEY_INVALID,
	         "C_UnwrapKey of corrupted data");
	calls = log_count("/unwrapkey status=");
	CHECK_RV(unwrap(s, &kw, k, wrapped, 36, &back), CKR_WRAPPED_KEY_LEN_RANGE,
	         "C_UnwrapKey of 36 bytes");
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE on_token[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                           {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                           {CKA_TOKEN, &yes, sizeof(yes)}};
	CHECK_RV(p11->C_UnwrapKey(s, &kw, k, wrapped, len, on_token, 3, &back),
	         CKR_ATTRIBUTE_VALUE_INVALID, "C_UnwrapKey into a token object");
	CHECK(!tracing() || log_count("/unwrapkey status=") == calls,
	      "%s: a wrong length and a refused template cost no vault call", label);
	unsigned char iv8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CK_MECHANISM kw_iv = {CKM_AES_KEY_WRAP, iv8, 8};
	len = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &kw_iv, k, dek, wrapped, &len), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_KEY_WRAP with an IV (the HSM takes none)");
	CHECK_RV(p11->C_EncryptInit(s, &kw, k), CKR_MECHANISM_INVALID,
	         "C_EncryptInit with the HSM key (wrap and unwrap only)");
	CK_MECHANISM_INFO info;
	CHECK(p11->C_GetMechanismInfo(0, CKM_AES_KEY_WRAP, &info) == CKR_OK &&
	              (info.flags & (CKF_WRAP | CKF_UNWRAP)) == (CKF_WRAP | CKF_UNWRAP),
	      "C_GetMechanismInfo: CKM_AES_KEY_WRAP wraps and unwraps");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

static int hsm_rsa(const char *label)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	check_roundtrip(s, "RSA-HSM in a Managed HSM, RSA-OAEP-256", &oaep256_mech,
	                must_find(s, CKO_PUBLIC_KEY, label), must_find(s, CKO_PRIVATE_KEY, label));
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

static int hsm_unwrap(const char *label, const char *path, const char *hex)
{
	unsigned char wrapped[512], want[64], value[64] = {0};
	size_t want_len;
	size_t len = read_file(path, wrapped, sizeof(wrapped));
	hex_decode(hex, want, &want_len);
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_HANDLE k = must_find(s, CKO_SECRET_KEY, label), got = CK_INVALID_HANDLE;
	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_ATTRIBUTE va = {CKA_VALUE, value, sizeof(value)};
	CHECK(unwrap_secret(s, &kw, k, CKK_GENERIC_SECRET, wrapped, len, &got) == CKR_OK &&
	              p11->C_GetAttributeValue(s, got, &va, 1) == CKR_OK &&
	              va.ulValueLen == want_len && !memcmp(value, want, want_len),
	      "%s: C_UnwrapKey in the HSM gives the key wrapped elsewhere", label);
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

static int expect_hsm(const char *label, CK_RV want)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_HANDLE k = must_find(s, CKO_SECRET_KEY, label), back;
	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
	unsigned char wrapped[40] = {0};
	CK_ULONG len = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &kw, k, gen_aes(s, CK_TRUE), wrapped, &len), want, "C_WrapKey");
	CHECK_RV(unwrap(s, &kw, k, wrapped, sizeof(wrapped), &back), want, "C_UnwrapKey");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

static void check_mechanisms(CK_SESSION_HANDLE s)
{
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = 64;
	CK_MECHANISM_INFO info;
	CHECK_RV(p11->C_GetMechanismList(0, list, &n), CKR_OK, "C_GetMechanismList");
	static const CK_MECHANISM_TYPE want[] = {CKM_RSA_PKCS,
	                                         CKM_RSA_PKCS_OAEP,
	                                         CKM_SHA256_RSA_PKCS,
	                                         CKM_SHA384_RSA_PKCS,
	                                         CKM_SHA512_RSA_PKCS,
	                                         CKM_RSA_PKCS_PSS,
	                                         CKM_SHA256_RSA_PKCS_PSS,
	                                         CKM_SHA384_RSA_PKCS_PSS,
	                                         CKM_SHA512_RSA_PKCS_PSS,
	                                         CKM_ECDSA,
	                                         CKM_ECDSA_SHA256,
	                                         CKM_ECDSA_SHA384,
	                                         CKM_ECDSA_SHA512,
	                                         CKM_AES_GCM,
	                                         CKM_AES_CBC_PAD,
	                                         CKM_AES_KEY_WRAP,
	                                         CKM_AES_KEY_WRAP_PAD};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int found = 0;
		for (CK_ULONG j = 0; j < n; j++)
			found |= list[j] == want[i];
		CHECK(found, "mechanism 0x%lx is listed", (unsigned long)want[i]);
	}
	CHECK(p11->C_GetMechanismInfo(0, CKM_ECDSA_SHA384, &info) == CKR_OK &&
	              info.ulMinKeySize == 256 && info.ulMaxKeySize == 521 &&
	              (info.flags & (CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
	                             CKF_EC_UNCOMPRESS)) ==
	                      (CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
	                       CKF_EC_UNCOMPRESS) &&
	              !(info.flags & (CKF_ENCRYPT | CKF_DECRYPT)),
	      "CKM_ECDSA_SHA384: 256..521 bits, sign/verify, F_p named curves uncompressed");
	CHECK(p11->C_GetMechanismInfo(0, CKM_SHA256_RSA_PKCS_PSS, &info) == CKR_OK &&
	              info.ulMinKeySize == 2048 && info.ulMaxKeySize == 4096 &&
	              (info.flags & (CKF_SIGN | CKF_VERIFY)) == (CKF_SIGN | CKF_VERIFY),
	      "CKM_SHA256_RSA_PKCS_PSS: 2048..4096 bits, sign/verify");
	CHECK(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_OAEP, &info) == CKR_OK &&
	              (info.flags & (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP)) ==
	                      (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP) &&
	              !(info.flags & CKF_SIGN),
	      "CKM_RSA_PKCS_OAEP: encrypt/decrypt/wrap/unwrap, no sign");
	CHECK(p11->C_GetMechanismInfo(0, CKM_AES_KEY_WRAP_PAD, &info) == CKR_OK &&
	              info.ulMinKeySize == 16 && info.ulMaxKeySize == 32 &&
	              (info.flags & (CKF_WRAP | CKF_UNWRAP)) == (CKF_WRAP | CKF_UNWRAP),
	      "CKM_AES_KEY_WRAP_PAD: 16..32 bytes, wrap/unwrap");
	CHECK(p11->C_GetMechanismInfo(0, CKM_AES_CBC_PAD, &info) == CKR_OK &&
	              info.ulMinKeySize == 16 && info.ulMaxKeySize == 32 &&
	              (info.flags & (CKF_ENCRYPT | CKF_DECRYPT)) == (CKF_ENCRYPT | CKF_DECRYPT),
	      "CKM_AES_CBC_PAD: 16..32 bytes, encrypt/decrypt");

	CK_MECHANISM_TYPE allowed[32];
	CK_ATTRIBUTE a = {CKA_ALLOWED_MECHANISMS, allowed, sizeof(allowed)};
	int has_pss = 0, has_ecdsa = 0, has_rsa = 0;
	if (p11->C_GetAttributeValue(s, must_find(s, CKO_PRIVATE_KEY, "cmk"), &a, 1) == CKR_OK)
		for (CK_ULONG i = 0; i < a.ulValueLen / sizeof(CK_MECHANISM_TYPE); i++)
			has_pss |= allowed[i] == CKM_SHA256_RSA_PKCS_PSS;
	a.ulValueLen = sizeof(allowed);
	if (p11->C_GetAttributeValue(s, must_find(s, CKO_PUBLIC_KEY, "ec"), &a, 1) == CKR_OK)
		for (CK_ULONG i = 0; i < a.ulValueLen / sizeof(CK_MECHANISM_TYPE); i++) {
			has_ecdsa |= allowed[i] == CKM_ECDSA_SHA256;
			has_rsa |= allowed[i] == CKM_RSA_PKCS;
		}
	CHECK(has_pss && has_ecdsa && !has_rsa,
	      "CKA_ALLOWED_MECHANISMS: the RSA and ECDSA mechanisms of each key type");
}

static int crypto(void)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	check_mechanisms(s);
	check_signatures(s);
	check_sign_misuse(s);
	check_rsa_crypt(s);
	check_aes_cbc(s);
	check_aes_gcm(s);
	check_aes_kw(s);
	/* Closing a session with operations active frees them. */
	CHECK_RV(p11->C_SignInit(s, mech_named("SHA256_RSA_PKCS"),
	                         must_find(s, CKO_PRIVATE_KEY, "cmk")),
	         CKR_OK, "C_SignInit left active");
	CHECK_RV(
	        p11->C_DecryptInit(s, mech_named("RSA_PKCS"), must_find(s, CKO_PRIVATE_KEY, "cmk")),
	        CKR_OK, "C_DecryptInit left active");
	CHECK_RV(p11->C_CloseSession(s), CKR_OK, "C_CloseSession with operations active");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* ---- caller templates and mechanism parameters (issue 15) --------------
 *
 *   p11_checks templates              malformed templates and parameters
 *   p11_checks rsa-pkcs-decrypt-off   CKM_RSA_PKCS decrypt/unwrap refused
 *
 * A malformed template or parameter gives its CK_RV and no crash: a NULL
 * pValue with a length, a wild length, and fixed-size values (CK_BBOOL,
 * CK_ULONG, CK_DATE) of the wrong size. */

static CK_BBOOL T_YES = CK_TRUE;
static CK_ULONG T_LEN32 = 32;
static CK_OBJECT_CLASS T_SECRET = CKO_SECRET_KEY;
static CK_KEY_TYPE T_AES = CKK_AES;

/* C_GenerateKey of a 32-byte AES key with extra, what it gives. */
static CK_RV gen_with(CK_SESSION_HANDLE s, const CK_ATTRIBUTE *extra, CK_ULONG n_extra,
                      CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[8] = {{CKA_VALUE_LEN, &T_LEN32, sizeof(T_LEN32)},
	                     {CKA_EXTRACTABLE, &T_YES, sizeof(T_YES)}};
	CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
	memcpy(&t[2], extra, n_extra * sizeof(*extra));
	*out = CK_INVALID_HANDLE;
	return p11->C_GenerateKey(s, &m, t, 2 + n_extra, out);
}

/* C_CreateObject of a 32-byte AES key with extra. */
static CK_RV create_with(CK_SESSION_HANDLE s, const CK_ATTRIBUTE *extra, CK_ULONG n_extra,
                         CK_OBJECT_HANDLE *out)
{
	static unsigned char value[32] = {1, 2, 3};
	CK_ATTRIBUTE t[8] = {{CKA_CLASS, &T_SECRET, sizeof(T_SECRET)},
	                     {CKA_KEY_TYPE, &T_AES, sizeof(T_AES)},
	                     {CKA_VALUE, value, sizeof(value)}};
	memcpy(&t[3], extra, n_extra * sizeof(*extra));
	*out = CK_INVALID_HANDLE;
	return p11->C_CreateObject(s, t, 3 + n_extra, out);
}

/* C_UnwrapKey of wrapped with kek and m, the template with extra. */
static CK_RV unwrap_with(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
                         unsigned char *wrapped, CK_ULONG len, const CK_ATTRIBUTE *extra,
                         CK_ULONG n_extra, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[8] = {{CKA_CLASS, &T_SECRET, sizeof(T_SECRET)},
	                     {CKA_KEY_TYPE, &T_AES, sizeof(T_AES)}};
	memcpy(&t[2], extra, n_extra * sizeof(*extra));
	*out = CK_INVALID_HANDLE;
	return p11->C_UnwrapKey(s, m, kek, wrapped, len, t, 2 + n_extra, out);
}

static void check_bad_templates(CK_SESSION_HANDLE s)
{
	unsigned char buf[16] = "label";
	CK_ULONG ulong_one = 1;
	/* Each a single attribute no call may accept. */
	const struct {
		const char *what;
		CK_ATTRIBUTE attr;
	} bad[] = {
	        {"CKA_LABEL NULL with length 5", {CKA_LABEL, NULL, 5}},
	        {"CKA_ID NULL with length 4", {CKA_ID, NULL, 4}},
	        {"CKA_START_DATE NULL with length 8", {CKA_START_DATE, NULL, 8}},
	        {"CKA_END_DATE NULL with length 8", {CKA_END_DATE, NULL, 8}},
	        {"CKA_LABEL of length CK_UNAVAILABLE_INFORMATION",
	         {CKA_LABEL, buf, CK_UNAVAILABLE_INFORMATION}},
	        {"CKA_START_DATE of 4 bytes", {CKA_START_DATE, "2026", 4}},
	        {"CKA_END_DATE not digits", {CKA_END_DATE, "2026ab01", 8}},
	        {"CKA_SENSITIVE as a CK_ULONG", {CKA_SENSITIVE, &ulong_one, sizeof(ulong_one)}},
	        {"CKA_ENCRYPT NULL with length 1", {CKA_ENCRYPT, NULL, 1}},
	};
	CK_OBJECT_HANDLE kek = gen_aes(s, CK_TRUE), dek = gen_aes(s, CK_TRUE), h;
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, "cmk");
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, "cmk");
	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_MECHANISM oaep = {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256)};
	unsigned char kw_wrapped[64], rsa_wrapped[512];
	CK_ULONG kw_len = sizeof(kw_wrapped), rsa_len = sizeof(rsa_wrapped);
	CHECK_RV(p11->C_WrapKey(s, &kw, kek, dek, kw_wrapped, &kw_len), CKR_OK,
	         "C_WrapKey with a session AES key");
	CHECK_RV(p11->C_WrapKey(s, &oaep, pub, dek, rsa_wrapped, &rsa_len), CKR_OK,
	         "C_WrapKey with the vault key");
	int unwraps = log_count("/unwrapkey status=");
	char what[200];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const CK_ATTRIBUTE *a = &bad[i].attr;
		snprintf(what, sizeof(what), "C_GenerateKey: %s", bad[i].what);
		CHECK_RV(gen_with(s, a, 1, &h), CKR_ATTRIBUTE_VALUE_INVALID, what);
		snprintf(what, sizeof(what), "C_CreateObject: %s", bad[i].what);
		CHECK_RV(create_with(s, a, 1, &h), CKR_ATTRIBUTE_VALUE_INVALID, what);
		snprintf(what, sizeof(what), "C_UnwrapKey (session AES key): %s", bad[i].what);
		CHECK_RV(unwrap_with(s, &kw, kek, kw_wrapped, kw_len, a, 1, &h),
		         CKR_ATTRIBUTE_VALUE_INVALID, what);
		snprintf(what, sizeof(what), "C_UnwrapKey (vault key): %s", bad[i].what);
		CHECK_RV(unwrap_with(s, &oaep, priv, rsa_wrapped, rsa_len, a, 1, &h),
		         CKR_ATTRIBUTE_VALUE_INVALID, what);
		snprintf(what, sizeof(what), "C_SetAttributeValue: %s", bad[i].what);
		CHECK_RV(p11->C_SetAttributeValue(s, dek, (CK_ATTRIBUTE *)a, 1),
		         CKR_ATTRIBUTE_VALUE_INVALID, what);
		snprintf(what, sizeof(what), "C_CopyObject: %s", bad[i].what);
		CHECK_RV(p11->C_CopyObject(s, dek, (CK_ATTRIBUTE *)a, 1, &h),
		         CKR_ATTRIBUTE_VALUE_INVALID, what);
		snprintf(what, sizeof(what), "C_FindObjectsInit: %s", bad[i].what);
		CHECK_RV(p11->C_FindObjectsInit(s, (CK_ATTRIBUTE *)a, 1),
		         CKR_ATTRIBUTE_VALUE_INVALID, what);
	}
	CHECK(!tracing() || log_count("/unwrapkey status=") == unwraps,
	      "a refused template costs no vault request");
	CK_ULONG n = 0;
	CHECK_RV(p11->C_FindObjects(s, &h, 1, &n), CKR_OPERATION_NOT_INITIALIZED,
	         "no search was started by a refused template");

	/* A NULL template with entries. */
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CHECK_RV(p11->C_GenerateKey(s, &gen, NULL, 2, &h), CKR_ARGUMENTS_BAD,
	         "C_GenerateKey: NULL template, count 2");
	CHECK_RV(p11->C_CreateObject(s, NULL, 3, &h), CKR_ARGUMENTS_BAD,
	         "C_CreateObject: NULL template, count 3");
	CHECK_RV(p11->C_UnwrapKey(s, &kw, kek, kw_wrapped, kw_len, NULL, 2, &h), CKR_ARGUMENTS_BAD,
	         "C_UnwrapKey: NULL template, count 2");
	CHECK_RV(p11->C_SetAttributeValue(s, dek, NULL, 1), CKR_ARGUMENTS_BAD,
	         "C_SetAttributeValue: NULL template, count 1");
	CHECK_RV(p11->C_CopyObject(s, dek, NULL, 1, &h), CKR_ARGUMENTS_BAD,
	         "C_CopyObject: NULL template, count 1");
	CHECK_RV(p11->C_FindObjectsInit(s, NULL, 1), CKR_ARGUMENTS_BAD,
	         "C_FindObjectsInit: NULL template, count 1");
	CHECK_RV(p11->C_GetAttributeValue(s, dek, NULL, 1), CKR_ARGUMENTS_BAD,
	         "C_GetAttributeValue: NULL template, count 1");

	/* What is valid still is: an empty label, an empty date, a real date. */
	CK_ATTRIBUTE good[] = {
	        {CKA_LABEL, NULL, 0}, {CKA_START_DATE, NULL, 0}, {CKA_END_DATE, "20261231", 8}};
	CHECK_RV(gen_with(s, good, 3, &h), CKR_OK,
	         "C_GenerateKey: empty label and start date, end date 20261231");
	unsigned char date[8];
	CK_ATTRIBUTE get[] = {{CKA_LABEL, NULL, 0}, {CKA_END_DATE, date, sizeof(date)}};
	CHECK(p11->C_GetAttributeValue(s, h, get, 2) == CKR_OK && get[0].ulValueLen == 0 &&
	              get[1].ulValueLen == 8 && !memcmp(date, "20261231", 8),
	      "C_GetAttributeValue: the empty label and the end date as given");
	CK_ATTRIBUTE label = {CKA_LABEL, buf, 5};
	CHECK_RV(p11->C_SetAttributeValue(s, h, &label, 1), CKR_OK, "C_SetAttributeValue: a label");
	CHECK_RV(p11->C_FindObjectsInit(s, &label, 1), CKR_OK, "C_FindObjectsInit: by label");
	n = 0;
	CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
	CHECK(p11->C_FindObjects(s, &found, 1, &n) == CKR_OK && n == 1 && found == h,
	      "C_FindObjects finds the key by its new label");
	p11->C_FindObjectsFinal(s);
	CK_ATTRIBUTE empty_date = {CKA_START_DATE, NULL, 0};
	CHECK_RV(p11->C_CopyObject(s, h, &empty_date, 1, &found), CKR_OK,
	         "C_CopyObject: an empty start date");
	CHECK_RV(unwrap_with(s, &kw, kek, kw_wrapped, kw_len, good, 3, &found), CKR_OK,
	         "C_UnwrapKey: the same valid template");
	CHECK_RV(create_with(s, good, 3, &found), CKR_OK,
	         "C_CreateObject: the same valid template");
}

static void check_bad_params(CK_SESSION_HANDLE s)
{
	CK_OBJECT_HANDLE aes = gen_aes(s, CK_TRUE), dek = gen_aes(s, CK_TRUE);
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, "cmk");
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, "cmk");
	unsigned char iv[16] = {0}, out[512];
	CK_ULONG len = sizeof(out);
	const struct {
		const char *what;
		CK_GCM_PARAMS p;
	} gcm[] = {
	        {"pIv NULL", {NULL, 12, 96, NULL, 0, 128}},
	        {"ulIvLen 0", {iv, 0, 0, NULL, 0, 128}},
	        {"pAAD NULL with ulAADLen 16", {iv, 12, 96, NULL, 16, 128}},
	        {"ulTagBits 0", {iv, 12, 96, NULL, 0, 0}},
	        {"ulTagBits 136", {iv, 12, 96, NULL, 0, 136}},
	        {"ulTagBits 100", {iv, 12, 96, NULL, 0, 100}},
	};
	char what[160];
	for (size_t i = 0; i < sizeof(gcm) / sizeof(gcm[0]); i++) {
		CK_MECHANISM m = {CKM_AES_GCM, (void *)&gcm[i].p, sizeof(gcm[i].p)};
		snprintf(what, sizeof(what), "CKM_AES_GCM %s", gcm[i].what);
		CHECK_RV(p11->C_EncryptInit(s, &m, aes), CKR_MECHANISM_PARAM_INVALID, what);
	}
	CK_MECHANISM gcm_null = {CKM_AES_GCM, NULL, sizeof(CK_GCM_PARAMS)};
	CHECK_RV(p11->C_EncryptInit(s, &gcm_null, aes), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_GCM: pParameter NULL with a length");
	CK_GCM_PARAMS gp = {iv, 12, 96, NULL, 0, 128};
	CK_MECHANISM gcm_short = {CKM_AES_GCM, &gp, sizeof(gp) - 1};
	CHECK_RV(p11->C_DecryptInit(s, &gcm_short, aes), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_GCM: ulParameterLen one short");
	CK_MECHANISM cbc = {CKM_AES_CBC_PAD, NULL, 16};
	CHECK_RV(p11->C_EncryptInit(s, &cbc, aes), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_CBC_PAD: IV NULL with length 16");
	CK_MECHANISM cbc8 = {CKM_AES_CBC_PAD, iv, 8};
	CHECK_RV(p11->C_EncryptInit(s, &cbc8, aes), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_CBC_PAD: an 8-byte IV");
	CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 8};
	CHECK_RV(p11->C_WrapKey(s, &kw, aes, dek, out, &len), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_AES_KEY_WRAP: IV NULL with length 8");

	CK_RSA_PKCS_OAEP_PARAMS label_null = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL,
	                                      4};
	CK_MECHANISM oaep_bad[] = {
	        {CKM_RSA_PKCS_OAEP, NULL, sizeof(CK_RSA_PKCS_OAEP_PARAMS)},
	        {CKM_RSA_PKCS_OAEP, &oaep_sha256, sizeof(oaep_sha256) - 1},
	        {CKM_RSA_PKCS_OAEP, &label_null, sizeof(label_null)},
	};
	static const char *const oaep_what[] = {"pParameter NULL with a length",
	                                        "ulParameterLen one short",
	                                        "pSourceData NULL with ulSourceDataLen 4"};
	for (size_t i = 0; i < sizeof(oaep_bad) / sizeof(oaep_bad[0]); i++) {
		len = sizeof(out);
		snprintf(what, sizeof(what), "CKM_RSA_PKCS_OAEP %s: C_WrapKey", oaep_what[i]);
		CHECK_RV(p11->C_WrapKey(s, &oaep_bad[i], pub, dek, out, &len),
		         CKR_MECHANISM_PARAM_INVALID, what);
		snprintf(what, sizeof(what), "CKM_RSA_PKCS_OAEP %s: C_DecryptInit", oaep_what[i]);
		CHECK_RV(p11->C_DecryptInit(s, &oaep_bad[i], priv), CKR_MECHANISM_PARAM_INVALID,
		         what);
		snprintf(what, sizeof(what), "CKM_RSA_PKCS_OAEP %s: C_UnwrapKey", oaep_what[i]);
		CK_OBJECT_HANDLE h;
		CHECK_RV(unwrap(s, &oaep_bad[i], priv, out, 256, &h), CKR_MECHANISM_PARAM_INVALID,
		         what);
	}
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_MECHANISM pss_bad[] = {{CKM_SHA256_RSA_PKCS_PSS, NULL, sizeof(pss)},
	                          {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) + 1}};
	CHECK_RV(p11->C_SignInit(s, &pss_bad[0], priv), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_SHA256_RSA_PKCS_PSS: pParameter NULL with a length");
	CHECK_RV(p11->C_VerifyInit(s, &pss_bad[1], pub), CKR_MECHANISM_PARAM_INVALID,
	         "CKM_SHA256_RSA_PKCS_PSS: ulParameterLen one long");
}

static int templates(void)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	check_bad_templates(s);
	check_bad_params(s);
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* The vault's configuration does not allow RSA1_5 decryption: CKM_RSA_PKCS
 * is still offered for what happens locally or signs, not to decrypt or
 * unwrap (the vault's PKCS#1 v1.5 padding oracle). */
static int rsa_pkcs_decrypt_off(void)
{
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CK_SESSION_HANDLE s = open_session();
	CK_OBJECT_HANDLE pub = must_find(s, CKO_PUBLIC_KEY, "cmk");
	CK_OBJECT_HANDLE priv = must_find(s, CKO_PRIVATE_KEY, "cmk");
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM_INFO info;
	CHECK(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS, &info) == CKR_OK &&
	              (info.flags & (CKF_ENCRYPT | CKF_WRAP | CKF_SIGN | CKF_VERIFY)) ==
	                      (CKF_ENCRYPT | CKF_WRAP | CKF_SIGN | CKF_VERIFY) &&
	              !(info.flags & (CKF_DECRYPT | CKF_UNWRAP)),
	      "CKM_RSA_PKCS: encrypt, wrap, sign, verify; no decrypt, no unwrap (flags 0x%lx)",
	      (unsigned long)info.flags);
	CHECK(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_OAEP, &info) == CKR_OK &&
	              (info.flags & (CKF_DECRYPT | CKF_UNWRAP)) == (CKF_DECRYPT | CKF_UNWRAP),
	      "CKM_RSA_PKCS_OAEP still decrypts and unwraps");
	CHECK_RV(p11->C_DecryptInit(s, &pkcs1, priv), CKR_MECHANISM_INVALID,
	         "C_DecryptInit(CKM_RSA_PKCS)");
	CK_OBJECT_HANDLE dek = gen_aes(s, CK_TRUE), back;
	unsigned char wrapped[512], ct[512], sig[512];
	CK_ULONG wlen = sizeof(wrapped), clen = sizeof(ct), slen = sizeof(sig);
	CHECK_RV(p11->C_WrapKey(s, &pkcs1, pub, dek, wrapped, &wlen), CKR_OK,
	         "C_WrapKey(CKM_RSA_PKCS): local, still allowed");
	int unwraps = log_count("/unwrapkey status=");
	CHECK_RV(unwrap(s, &pkcs1, priv, wrapped, wlen, &back), CKR_MECHANISM_INVALID,
	         "C_UnwrapKey(CKM_RSA_PKCS)");
	CHECK(!tracing() || log_count("/unwrapkey status=") == unwraps,
	      "the refused unwrap made no vault request");
	CHECK_RV(encrypt_once(s, &pkcs1, pub, D32, 32, ct, &clen), CKR_OK,
	         "C_Encrypt(CKM_RSA_PKCS): local, still allowed");
	unsigned char di[19 + 32];
	size_t di_len = digest_info("sha256", D32, 32, di);
	CHECK_RV(sign_once(s, &pkcs1, priv, di, di_len, sig, &slen), CKR_OK,
	         "C_Sign(CKM_RSA_PKCS) of a DigestInfo (RS256): not affected");
	CHECK_RV(verify_once(s, &pkcs1, pub, di, di_len, sig, slen), CKR_OK,
	         "C_Verify(CKM_RSA_PKCS)");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* With "wrap": "vault": C_WrapKey calls the vault's wrapkey. A key the
 * vault's 400 refuses as too long for RSA-OAEP-256 with a 2048-bit key (at
 * most 190 bytes) is CKR_KEY_SIZE_RANGE, as when the module wraps locally:
 * CKR_ENCRYPTED_DATA_INVALID, which it was, is not a C_WrapKey result. */
static int wrap_in_vault(const char *label)
{
	static unsigned char long_key[300];
	CK_OBJECT_HANDLE pub;
	CK_SESSION_HANDLE s =
	        wrap_and_unwrap(label, "C_WrapKey of an AES-256 key in the vault", CKR_OK, &pub);
	memset(long_key, 0x5a, sizeof(long_key));
	CK_OBJECT_HANDLE big = make_key(s, CKK_GENERIC_SECRET, long_key, sizeof(long_key), K_USUAL);
	unsigned char wrapped[512];
	CK_ULONG wlen = sizeof(wrapped);
	CHECK_RV(p11->C_WrapKey(s, &oaep256_mech, pub, big, wrapped, &wlen), CKR_KEY_SIZE_RANGE,
	         "C_WrapKey of a 300-byte key: the vault's 400 is CKR_KEY_SIZE_RANGE");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
}

/* Calls that fail before and after the module knows their slot, for
 * run.sh to read their log lines: each names the PKCS#11 call (op=) and,
 * once the slot is known, the slot (slot=). */
static int log_ops(void)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	unsigned char sig[8];
	CK_ULONG sig_len = sizeof(sig);
	CHECK_RV(init(), CKR_OK, "C_Initialize");
	CHECK_RV(p11->C_Sign(57005, (unsigned char *)"x", 1, sig, &sig_len),
	         CKR_SESSION_HANDLE_INVALID, "C_Sign in session 57005, never opened");
	CHECK_RV(p11->C_OpenSession(0, CKF_RW_SESSION, NULL, NULL, &s),
	         CKR_SESSION_PARALLEL_NOT_SUPPORTED, "C_OpenSession without CKF_SERIAL_SESSION");
	CK_TOKEN_INFO info;
	CHECK_RV(p11->C_GetTokenInfo(99, &info), CKR_SLOT_ID_INVALID, "C_GetTokenInfo of slot 99");
	CHECK_RV(p11->C_GetTokenInfo(0, NULL), CKR_ARGUMENTS_BAD, "C_GetTokenInfo into NULL");
	CHECK_RV(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD,
	         "C_OpenSession into NULL");
	CHECK_RV(p11->C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD,
	         "C_GetSlotList into NULL");
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	return tap_status();
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
		return tap_status();
	}
	if (argc == 3 && !strcmp(argv[1], "expect-find"))
		return expect_find(strtoul(argv[2], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "expect-unwrap"))
		return expect_unwrap(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "wrap-in-vault"))
		return wrap_in_vault(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "log-ops"))
		return log_ops();
	if (argc == 2 && !strcmp(argv[1], "crypto"))
		return crypto();
	if (argc == 2 && !strcmp(argv[1], "templates"))
		return templates();
	if (argc == 2 && !strcmp(argv[1], "rsa-pkcs-decrypt-off"))
		return rsa_pkcs_decrypt_off();
	if (argc == 4 && !strcmp(argv[1], "hsm"))
		return hsm_aes(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "hsm-rsa"))
		return hsm_rsa(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "hsm-unwrap"))
		return hsm_unwrap(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "expect-hsm"))
		return expect_hsm(argv[2], strtoul(argv[3], NULL, 0));
	if (argc >= 6 && (argc - 3) % 3 == 0 &&
	    (!strcmp(argv[1], "sign") || !strcmp(argv[1], "verify") || !strcmp(argv[1], "decrypt")))
		return file_ops(argv[1], argc - 2, argv + 2);
	fprintf(stderr, "usage: p11_checks roundtrip | expect-init RV | expect-find RV | "
	                "expect-unwrap LABEL RV | wrap-in-vault LABEL | crypto | templates | "
	                "rsa-pkcs-decrypt-off | log-ops | "
	                "sign|verify|decrypt LABEL MECH IN OUT "
	                "[MECH IN OUT]... | hsm LABEL BITS | hsm-rsa LABEL | hsm-unwrap LABEL FILE "
	                "HEX | expect-hsm LABEL RV\n");
	return 2;
}
