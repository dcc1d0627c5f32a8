/* C_GenerateKeyPair: key creation in the vault (issue 18). Run by run.sh
 * with AZKV_MODULE and AZKV_PKCS11_CONFIG set, on the vault 'demo':
 *
 *   p11_keygen off            the vault without "allow_key_creation": the
 *                             call is CKR_FUNCTION_NOT_SUPPORTED and the
 *                             mechanisms do not say CKF_GENERATE_KEY_PAIR
 *   p11_keygen templates      with it: the order of the checks, each
 *                             template edge case's CK_RV, RSA and EC keys
 *                             made, signing, and key_ops as the vault then
 *                             has them (read again after C_Initialize)
 *   p11_keygen expect NAME RV an RSA-2048 key named NAME gives RV
 *
 * Prints one "ok"/"not ok" line per check; exits non-zero on a failure. */
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_load.h"
#include "tap.h"

static CK_FUNCTION_LIST *p11;

static CK_BBOOL YES = CK_TRUE, NO = CK_FALSE;
static CK_ULONG BITS2048 = 2048;
static CK_OBJECT_CLASS PUB = CKO_PUBLIC_KEY, PRIV = CKO_PRIVATE_KEY;
static CK_KEY_TYPE RSA = CKK_RSA;
static CK_MECHANISM RSA_GEN = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
static CK_MECHANISM EC_GEN = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
/* DER of the OIDs of P-256, secp256k1 and secp224r1 (no Key Vault curve),
 * and of the name "P-384" as a PrintableString. */
static const unsigned char P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char K256[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const unsigned char P224[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21};
static const unsigned char P384_NAME[] = {0x13, 0x05, 'P', '-', '3', '8', '4'};

/* A template being built: at most 16 attributes. */
typedef struct tmpl {
	CK_ATTRIBUTE a[16];
	CK_ULONG n;
} tmpl;

static void put(tmpl *t, CK_ATTRIBUTE_TYPE type, const void *v, CK_ULONG len)
{
	t->a[t->n++] = (CK_ATTRIBUTE){type, (void *)v, len};
}

/* Drops type from t (to leave an attribute out). */
static void drop(tmpl *t, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < t->n; i++)
		if (t->a[i].type == type)
			t->a[i--] = t->a[--t->n];
}

/* The templates pkcs11-tool sends for an RSA-2048 sign/verify key named
 * label (usage: which of sign, decrypt, unwrap the pair gets). */
enum { U_SIGN = 1, U_DECRYPT = 2, U_UNWRAP = 4 };
static void rsa_templates(tmpl *pub, tmpl *priv, const char *label, int usage)
{
	memset(pub, 0, sizeof(*pub));
	memset(priv, 0, sizeof(*priv));
	put(pub, CKA_CLASS, &PUB, sizeof(PUB));
	put(pub, CKA_KEY_TYPE, &RSA, sizeof(RSA));
	put(pub, CKA_TOKEN, &YES, sizeof(YES));
	put(pub, CKA_MODULUS_BITS, &BITS2048, sizeof(BITS2048));
	put(pub, CKA_LABEL, label, strlen(label));
	put(priv, CKA_CLASS, &PRIV, sizeof(PRIV));
	put(priv, CKA_KEY_TYPE, &RSA, sizeof(RSA));
	put(priv, CKA_TOKEN, &YES, sizeof(YES));
	put(priv, CKA_PRIVATE, &YES, sizeof(YES));
	put(priv, CKA_SENSITIVE, &YES, sizeof(YES));
	put(priv, CKA_LABEL, label, strlen(label));
	if (usage & U_SIGN) {
		put(pub, CKA_VERIFY, &YES, sizeof(YES));
		put(priv, CKA_SIGN, &YES, sizeof(YES));
	}
	if (usage & U_DECRYPT) {
		put(pub, CKA_ENCRYPT, &YES, sizeof(YES));
		put(priv, CKA_DECRYPT, &YES, sizeof(YES));
	}
	if (usage & U_UNWRAP) {
		put(pub, CKA_WRAP, &YES, sizeof(YES));
		put(priv, CKA_UNWRAP, &YES, sizeof(YES));
	}
}

static void ec_templates(tmpl *pub, tmpl *priv, const char *label, const void *params, CK_ULONG len)
{
	memset(pub, 0, sizeof(*pub));
	memset(priv, 0, sizeof(*priv));
	put(pub, CKA_TOKEN, &YES, sizeof(YES));
	put(pub, CKA_EC_PARAMS, params, len);
	put(pub, CKA_VERIFY, &YES, sizeof(YES));
	put(priv, CKA_TOKEN, &YES, sizeof(YES));
	put(priv, CKA_LABEL, label, strlen(label));
	put(priv, CKA_SIGN, &YES, sizeof(YES));
}

static CK_RV gen(CK_SESSION_HANDLE s, CK_MECHANISM *m, tmpl *pub, tmpl *priv,
                 CK_OBJECT_HANDLE *hpub, CK_OBJECT_HANDLE *hpriv)
{
	*hpub = *hpriv = CK_INVALID_HANDLE;
	return p11->C_GenerateKeyPair(s, m, pub->a, pub->n, priv->a, priv->n, hpub, hpriv);
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0xff;
	CK_ATTRIBUTE a = {type, &v, sizeof(v)};
	return p11->C_GetAttributeValue(s, h, &a, 1) == CKR_OK ? v : 0xff;
}

static CK_SESSION_HANDLE open_session(CK_FLAGS extra)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION | extra, NULL, NULL, &s);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_keygen: C_OpenSession: 0x%lx\n", (unsigned long)rv);
		exit(2);
	}
	return s;
}

static void init(void)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_RV rv = p11->C_Initialize(&args);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11_keygen: C_Initialize: 0x%lx\n", (unsigned long)rv);
		exit(2);
	}
}

/* Signs 32 bytes with mech and verifies the signature with the public
 * key: the new key works at once. */
static int signs(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE priv,
                 CK_OBJECT_HANDLE pub)
{
	CK_MECHANISM m = {mech, NULL, 0};
	unsigned char data[32] = "thirty-two bytes of data to sig";
	unsigned char sig[512];
	CK_ULONG len = sizeof(sig);
	return p11->C_SignInit(s, &m, priv) == CKR_OK &&
	       p11->C_Sign(s, data, sizeof(data), sig, &len) == CKR_OK &&
	       p11->C_VerifyInit(s, &m, pub) == CKR_OK &&
	       p11->C_Verify(s, data, sizeof(data), sig, len) == CKR_OK;
}

static int keygen_off(void)
{
	tmpl pub, priv;
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_MECHANISM_INFO info;
	init();
	CK_SESSION_HANDLE s = open_session(CKF_RW_SESSION);
	rsa_templates(&pub, &priv, "off-key", U_SIGN);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_FUNCTION_NOT_SUPPORTED,
	         "C_GenerateKeyPair without allow_key_creation");
	CHECK_RV(gen(s + 100, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_SESSION_HANDLE_INVALID,
	         "with an invalid session: the session first");
	CHECK(p11->C_GetMechanismInfo(0, CKM_RSA_PKCS_KEY_PAIR_GEN, &info) == CKR_OK &&
	              !(info.flags & CKF_GENERATE_KEY_PAIR),
	      "CKM_RSA_PKCS_KEY_PAIR_GEN is not CKF_GENERATE_KEY_PAIR here (flags 0x%lx)",
	      (unsigned long)info.flags);
	p11->C_Finalize(NULL);
	return tap_status();
}

/* The refusals, each for one reason, in the order of the checks. */
static void check_refusals(CK_SESSION_HANDLE s, CK_SESSION_HANDLE ro)
{
	tmpl pub, priv;
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_MECHANISM aes = {CKM_AES_KEY_GEN, NULL, 0};

	rsa_templates(&pub, &priv, "refused", U_SIGN);
	CHECK_RV(gen(s + 100, &aes, &pub, &priv, &hpub, &hpriv), CKR_SESSION_HANDLE_INVALID,
	         "an invalid session before a wrong mechanism");
	CHECK_RV(p11->C_GenerateKeyPair(s, NULL, pub.a, pub.n, priv.a, priv.n, &hpub, &hpriv),
	         CKR_ARGUMENTS_BAD, "no mechanism");
	CHECK_RV(p11->C_GenerateKeyPair(s, &RSA_GEN, pub.a, pub.n, priv.a, priv.n, NULL, &hpriv),
	         CKR_ARGUMENTS_BAD, "no place for the public handle");
	CHECK_RV(gen(s, &aes, &pub, &priv, &hpub, &hpriv), CKR_MECHANISM_INVALID,
	         "CKM_AES_KEY_GEN is no key pair mechanism");
	drop(&pub, CKA_LABEL);
	drop(&priv, CKA_LABEL);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCOMPLETE,
	         "no CKA_LABEL (the vault key's name)");
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&pub, CKA_MODULUS_BITS);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCOMPLETE,
	         "no CKA_MODULUS_BITS");
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&priv, CKA_TOKEN);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCOMPLETE,
	         "no CKA_TOKEN in the private template (a session key)");
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&priv, CKA_TOKEN);
	put(&priv, CKA_TOKEN, &NO, sizeof(NO));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "CKA_TOKEN=FALSE (the vault keeps persistent keys only)");
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&pub, CKA_TOKEN);
	put(&pub, CKA_TOKEN, &NO, sizeof(NO));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "CKA_TOKEN=FALSE in the public template");
	rsa_templates(&pub, &priv, "bad_name", U_SIGN);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_ATTRIBUTE_VALUE_INVALID,
	         "a label that is no Key Vault name ('_')");
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&pub, CKA_LABEL);
	put(&pub, CKA_LABEL, "other", 5);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "two different labels");
	CK_ULONG bits1024 = 1024;
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&pub, CKA_MODULUS_BITS);
	put(&pub, CKA_MODULUS_BITS, &bits1024, sizeof(bits1024));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_KEY_SIZE_RANGE,
	         "CKA_MODULUS_BITS 1024");
	static const unsigned char e3[] = {0x03};
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	put(&pub, CKA_PUBLIC_EXPONENT, e3, sizeof(e3));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_ATTRIBUTE_VALUE_INVALID,
	         "CKA_PUBLIC_EXPONENT 3");
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	put(&priv, CKA_EXTRACTABLE, &YES, sizeof(YES));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "CKA_EXTRACTABLE=TRUE");
	CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	rsa_templates(&pub, &priv, "refused", U_SIGN);
	drop(&priv, CKA_CLASS);
	put(&priv, CKA_CLASS, &secret, sizeof(secret));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "CKA_CLASS CKO_SECRET_KEY in the private template");
	rsa_templates(&pub, &priv, "refused", 0);
	put(&pub, CKA_VERIFY, &NO, sizeof(NO));
	put(&priv, CKA_SIGN, &NO, sizeof(NO));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "every usage flag FALSE (a key that can do nothing)");

	ec_templates(&pub, &priv, "refused", P256, sizeof(P256));
	drop(&pub, CKA_EC_PARAMS);
	CHECK_RV(gen(s, &EC_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCOMPLETE,
	         "no CKA_EC_PARAMS");
	ec_templates(&pub, &priv, "refused", P224, sizeof(P224));
	CHECK_RV(gen(s, &EC_GEN, &pub, &priv, &hpub, &hpriv), CKR_CURVE_NOT_SUPPORTED,
	         "secp224r1 (not a Key Vault curve)");
	ec_templates(&pub, &priv, "refused", "\x04\x02\x01\x02", 4);
	CHECK_RV(gen(s, &EC_GEN, &pub, &priv, &hpub, &hpriv), CKR_ATTRIBUTE_VALUE_INVALID,
	         "CKA_EC_PARAMS that names no curve");
	ec_templates(&pub, &priv, "refused", P256, sizeof(P256));
	put(&priv, CKA_DECRYPT, &YES, sizeof(YES));
	CHECK_RV(gen(s, &EC_GEN, &pub, &priv, &hpub, &hpriv), CKR_TEMPLATE_INCONSISTENT,
	         "an EC key with CKA_DECRYPT (Key Vault's EC keys only sign)");

	rsa_templates(&pub, &priv, "refused", U_SIGN);
	CHECK_RV(gen(ro, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_SESSION_READ_ONLY,
	         "a read-only session");
	CHECK(hpub == CK_INVALID_HANDLE && hpriv == CK_INVALID_HANDLE,
	      "no handles after a refusal");
}

/* Made keys: handles at once, found by label, signing, and the usage flags
 * as key_ops. */
static void check_created(CK_SESSION_HANDLE s)
{
	tmpl pub, priv;
	CK_OBJECT_HANDLE hpub, hpriv;

	rsa_templates(&pub, &priv, "gen-sign", U_SIGN);
	static const unsigned char e65537[] = {0x00, 0x01, 0x00, 0x01}; /* a leading zero */
	put(&pub, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_OK,
	         "RSA-2048 sign/verify key 'gen-sign'");
	CHECK(hpub != CK_INVALID_HANDLE && hpriv != CK_INVALID_HANDLE && hpub != hpriv,
	      "two handles");
	CHECK(p11_find_one(p11, s, CKO_PRIVATE_KEY, "gen-sign") == hpriv &&
	              p11_find_one(p11, s, CKO_PUBLIC_KEY, "gen-sign") == hpub,
	      "C_FindObjects finds the pair by its label, with those handles");
	CHECK(get_bool(s, hpriv, CKA_SIGN) == CK_TRUE &&
	              get_bool(s, hpriv, CKA_DECRYPT) == CK_FALSE &&
	              get_bool(s, hpriv, CKA_UNWRAP) == CK_FALSE &&
	              get_bool(s, hpub, CKA_VERIFY) == CK_TRUE &&
	              get_bool(s, hpub, CKA_ENCRYPT) == CK_FALSE &&
	              get_bool(s, hpriv, CKA_TOKEN) == CK_TRUE &&
	              get_bool(s, hpriv, CKA_EXTRACTABLE) == CK_FALSE,
	      "its objects: sign/verify only, token, not extractable");
	CHECK(signs(s, CKM_SHA256_RSA_PKCS, hpriv, hpub), "it signs (CKM_SHA256_RSA_PKCS)");
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_ATTRIBUTE_VALUE_INVALID,
	         "the same name again (a new version would be a rotation)");

	rsa_templates(&pub, &priv, "gen-wrap", U_UNWRAP);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), CKR_OK,
	         "RSA-2048 wrap/unwrap key 'gen-wrap'");
	CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CHECK_RV(p11->C_SignInit(s, &sha256, hpriv), CKR_KEY_FUNCTION_NOT_PERMITTED,
	         "which does not sign");

	ec_templates(&pub, &priv, "gen-ec256k", K256, sizeof(K256));
	CHECK_RV(gen(s, &EC_GEN, &pub, &priv, &hpub, &hpriv), CKR_OK,
	         "EC secp256k1 key (CKA_EC_PARAMS an OID)");
	CHECK(signs(s, CKM_ECDSA, hpriv, hpub), "it signs (CKM_ECDSA)");
	ec_templates(&pub, &priv, "gen-ec384", P384_NAME, sizeof(P384_NAME));
	CHECK_RV(gen(s, &EC_GEN, &pub, &priv, &hpub, &hpriv), CKR_OK,
	         "EC P-384 key (CKA_EC_PARAMS a curve name)");
	CHECK(signs(s, CKM_ECDSA_SHA384, hpriv, hpub), "it signs (CKM_ECDSA_SHA384)");
}

/* After C_Finalize and C_Initialize the module reads the keys from the
 * vault again: their flags are the key_ops the vault keeps. */
static void check_in_vault(void)
{
	init();
	CK_SESSION_HANDLE s = open_session(0);
	CK_OBJECT_HANDLE sign = p11_find_one(p11, s, CKO_PRIVATE_KEY, "gen-sign");
	CK_OBJECT_HANDLE wrap = p11_find_one(p11, s, CKO_PRIVATE_KEY, "gen-wrap");
	CK_OBJECT_HANDLE ec = p11_find_one(p11, s, CKO_PRIVATE_KEY, "gen-ec384");
	CHECK(sign != CK_INVALID_HANDLE && get_bool(s, sign, CKA_SIGN) == CK_TRUE &&
	              get_bool(s, sign, CKA_DECRYPT) == CK_FALSE &&
	              get_bool(s, sign, CKA_UNWRAP) == CK_FALSE,
	      "in the vault: 'gen-sign' has key_ops sign, verify");
	CHECK(wrap != CK_INVALID_HANDLE && get_bool(s, wrap, CKA_UNWRAP) == CK_TRUE &&
	              get_bool(s, wrap, CKA_SIGN) == CK_FALSE &&
	              get_bool(s, wrap, CKA_DECRYPT) == CK_FALSE,
	      "in the vault: 'gen-wrap' has key_ops wrapKey, unwrapKey");
	CHECK(ec != CK_INVALID_HANDLE && get_bool(s, ec, CKA_SIGN) == CK_TRUE,
	      "in the vault: 'gen-ec384' signs");
	p11->C_Finalize(NULL);
}

static int keygen_templates(void)
{
	init();
	CK_SESSION_HANDLE s = open_session(CKF_RW_SESSION);
	CK_SESSION_HANDLE ro = open_session(0);
	check_refusals(s, ro);
	check_created(s);
	p11->C_Finalize(NULL);
	check_in_vault();
	return tap_status();
}

static int keygen_expect(const char *name, CK_RV want)
{
	tmpl pub, priv;
	CK_OBJECT_HANDLE hpub, hpriv;
	init();
	CK_SESSION_HANDLE s = open_session(CKF_RW_SESSION);
	rsa_templates(&pub, &priv, name, U_SIGN);
	CHECK_RV(gen(s, &RSA_GEN, &pub, &priv, &hpub, &hpriv), want, "C_GenerateKeyPair");
	p11->C_Finalize(NULL);
	return tap_status();
}

int main(int argc, char **argv)
{
	if ((p11 = p11_load("p11_keygen")) == NULL)
		return 2;
	int rc = 2;
	if (argc == 2 && !strcmp(argv[1], "off"))
		rc = keygen_off();
	else if (argc == 2 && !strcmp(argv[1], "templates"))
		rc = keygen_templates();
	else if (argc == 4 && !strcmp(argv[1], "expect"))
		rc = keygen_expect(argv[2], strtoul(argv[3], NULL, 0));
	else
		fprintf(stderr, "usage: p11_keygen off | templates | expect NAME RV\n");
	p11_unload();
	return rc;
}
