/* RSASSA-PSS parameters: signing takes what the vault does (PS256/384/512:
 * MGF1 of the same hash, salt = digest length); verifying takes what the
 * public key can check. And verification through the family. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rsa.h>

#include "object.h"
#include "op_rsa_pkcs1.h"
#include "op_rsa_pss.h"

static CK_RV check(CK_MECHANISM_TYPE mech, CK_MECHANISM_TYPE hash, CK_RSA_PKCS_MGF_TYPE mgf,
                   CK_ULONG slen, int sign, azkv_pss_params *out)
{
	CK_RSA_PKCS_PSS_PARAMS p = {hash, mgf, slen};
	return azkv_pss_params_check(azkv_mech_find(mech), &p, sizeof(p), sign, 256, out);
}

static void test_vault_parameters_sign(void **state)
{
	azkv_pss_params p;
	assert_int_equal(check(CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32, 1, &p), CKR_OK);
	assert_string_equal(p.alg, "PS256");
	assert_int_equal(p.salt_len, 32);
	assert_ptr_equal(p.md, EVP_sha256());
	assert_int_equal(check(CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48, 1, &p),
	                 CKR_OK);
	assert_string_equal(p.alg, "PS384");
	assert_int_equal(check(CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 64, 1, &p),
	                 CKR_OK);
	assert_string_equal(p.alg, "PS512");
}

/* Parameters refused with CKR_MECHANISM_PARAM_INVALID, and why. */
static const struct {
	CK_MECHANISM_TYPE mech, hash;
	CK_RSA_PKCS_MGF_TYPE mgf;
	CK_ULONG slen;
	int sign;
	const char *why;
} refused[] = {
        {CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 0, 1, "vault: salt not the digest length"},
        {CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 20, 1, "vault: salt not the digest length"},
        {CKM_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 32, 1, "vault: salt not the digest length"},
        {CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA1, 32, 1, "vault: MGF1 of another hash"},
        {CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA256, 48, 1,
         "vault: MGF1 of another hash"},
        {CKM_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA1, 20, 1, "vault: no PS alg for SHA-1"},
        {CKM_RSA_PKCS_PSS, CKM_SHA224, CKG_MGF1_SHA224, 28, 1, "vault: no PS alg for SHA-224"},
        {CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48, 1,
         "a hashing mechanism's hashAlg is its hash"},
        {CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48, 0,
         "a hashing mechanism's hashAlg is its hash"},
        {CKM_RSA_PKCS_PSS, CKM_MD5, CKG_MGF1_SHA256, 16, 0, "not a SHA-1 or SHA-2 hash"},
        {CKM_RSA_PKCS_PSS, CKM_SHA256, 0x77, 32, 0, "not an MGF1"},
        /* emLen - hLen - 2 = 256 - 32 - 2 for a 2048-bit key. */
        {CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 223, 0, "a salt that does not fit"},
};

static void test_refused_parameters_are_param_invalid(void **state)
{
	azkv_pss_params p;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CK_RV rv = check(refused[i].mech, refused[i].hash, refused[i].mgf, refused[i].slen,
		                 refused[i].sign, &p);
		if (rv != CKR_MECHANISM_PARAM_INVALID)
			fail_msg("case %zu (%s): 0x%lx", i, refused[i].why, (unsigned long)rv);
	}
}

static void test_malformed_parameters(void **state)
{
	azkv_pss_params p;
	CK_RSA_PKCS_PSS_PARAMS ok = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	const azkv_mech *pss = azkv_mech_find(CKM_RSA_PKCS_PSS);
	assert_int_equal(azkv_pss_params_check(pss, NULL, 0, 1, 256, &p),
	                 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(azkv_pss_params_check(pss, &ok, sizeof(ok) - 1, 0, 256, &p),
	                 CKR_MECHANISM_PARAM_INVALID);
}

static void test_verification_takes_what_the_key_can_check(void **state)
{
	azkv_pss_params p;
	assert_int_equal(check(CKM_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA1, 20, 0, &p), CKR_OK);
	assert_int_equal(check(CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA1, 0, 0, &p), CKR_OK);
	assert_int_equal(p.salt_len, 0);
	assert_null(p.alg);
	/* emLen - hLen - 2 = 256 - 32 - 2 for a 2048-bit key. */
	assert_int_equal(check(CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 222, 0, &p), CKR_OK);
}

/* A vault public key object around a local key pair. */
typedef struct fixture {
	EVP_PKEY *key;
	azkv_vault_key vk;
	azkv_object pub;
} fixture;

static int setup(void **state)
{
	static fixture f;
	memset(&f, 0, sizeof(f));
	f.key = EVP_RSA_gen(2048);
	if (f.key == NULL)
		return -1;
	f.vk.refs = 1;
	f.vk.pub = f.key;
	f.pub.cls = CKO_PUBLIC_KEY;
	f.pub.key_type = CKK_RSA;
	f.pub.vkey = &f.vk;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	EVP_PKEY_free(f->key);
	return 0;
}

static size_t pss_sign(EVP_PKEY *key, const EVP_MD *md, int salt, const unsigned char *digest,
                       unsigned char *sig)
{
	size_t len = 512;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, sig, &len, digest, (size_t)EVP_MD_get_size(md)), 1);
	EVP_PKEY_CTX_free(ctx);
	return len;
}

static CK_RV verify(fixture *f, CK_RSA_PKCS_PSS_PARAMS *p, const unsigned char *digest, size_t dlen,
                    const unsigned char *sig, size_t slen)
{
	CK_MECHANISM m = {CKM_RSA_PKCS_PSS, p, sizeof(*p)};
	void *ctx = NULL;
	CK_ULONG n = slen;
	CK_RV rv = azkv_rsa_pss_sig_ops.init(&ctx, azkv_mech_find(CKM_RSA_PKCS_PSS), &m, &f->pub,
	                                     AZKV_OPER_VERIFY);
	if (rv != CKR_OK)
		return rv;
	assert_null(azkv_rsa_pss_sig_ops.update); /* the raw mechanism is single-part */
	rv = azkv_rsa_pss_sig_ops.run(ctx, digest, dlen, (unsigned char *)sig, &n);
	azkv_rsa_pss_sig_ops.free(ctx);
	return rv;
}

static void test_local_signatures_verify_through_the_family(void **state)
{
	fixture *f = *state;
	unsigned char digest[32], sig[512];
	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (unsigned char)(i * 7);
	size_t len = pss_sign(f->key, EVP_sha256(), 32, digest, sig);
	CK_RSA_PKCS_PSS_PARAMS p = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	assert_int_equal(verify(f, &p, digest, 32, sig, len), CKR_OK);
	p.sLen = 0;
	assert_int_equal(verify(f, &p, digest, 32, sig, len), CKR_SIGNATURE_INVALID);
	p.sLen = 32;
	assert_int_equal(verify(f, &p, digest, 31, sig, len), CKR_DATA_LEN_RANGE);
	assert_int_equal(verify(f, &p, digest, 32, sig, len - 1), CKR_SIGNATURE_LEN_RANGE);
	sig[5] ^= 1;
	assert_int_equal(verify(f, &p, digest, 32, sig, len), CKR_SIGNATURE_INVALID);

	/* Salt 0 with SHA-1: the vault cannot make it, but it verifies. */
	len = pss_sign(f->key, EVP_sha1(), 0, digest, sig);
	CK_RSA_PKCS_PSS_PARAMS p1 = {CKM_SHA_1, CKG_MGF1_SHA1, 0};
	assert_int_equal(verify(f, &p1, digest, 20, sig, len), CKR_OK);
}

static void test_vault_signatures_are_padded_to_the_modulus(void **state)
{
	unsigned char out[8], sig[8] = {1, 2, 3};
	assert_int_equal(azkv_rsa_sig_from_vault(sig, 3, 8, out), CKR_OK);
	const unsigned char want[8] = {0, 0, 0, 0, 0, 1, 2, 3};
	assert_memory_equal(out, want, 8);
	assert_int_equal(azkv_rsa_sig_from_vault(sig, 8, 8, out), CKR_OK);
	assert_int_equal(azkv_rsa_sig_from_vault(sig, 9, 8, out), CKR_DEVICE_ERROR);
	assert_int_equal(azkv_rsa_sig_from_vault(sig, 0, 8, out), CKR_DEVICE_ERROR);
	assert_string_equal(azkv_rsa_sig_alg("RS", EVP_sha384()), "RS384");
	assert_string_equal(azkv_rsa_sig_alg("PS", EVP_sha512()), "PS512");
	assert_null(azkv_rsa_sig_alg("PS", EVP_sha1()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vault_parameters_sign),
	        cmocka_unit_test(test_refused_parameters_are_param_invalid),
	        cmocka_unit_test(test_malformed_parameters),
	        cmocka_unit_test(test_verification_takes_what_the_key_can_check),
	        cmocka_unit_test_setup_teardown(test_local_signatures_verify_through_the_family,
	                                        setup, teardown),
	        cmocka_unit_test(test_vault_signatures_are_padded_to_the_modulus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
