/* The mechanism table: what C_GetMechanismList/Info report, that every
 * mechanism reported has an implementation, and the checks every
 * C_*Init makes on its key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mech.h"
#include "object.h"
#include "op_aes_kw.h"

static CK_ULONG listed(CK_MECHANISM_TYPE *list)
{
	CK_ULONG n = 64;
	assert_int_equal(azkv_mech_list(list, &n), CKR_OK);
	return n;
}

static void test_list_follows_the_two_call_convention(void **state)
{
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = 0, all;
	assert_int_equal(azkv_mech_list(NULL, &n), CKR_OK);
	all = n;
	assert_true(all >= 20);
	n = 3;
	assert_int_equal(azkv_mech_list(list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, all);
	assert_int_equal(listed(list), all);
	assert_int_equal(azkv_mech_list(list, NULL), CKR_ARGUMENTS_BAD);
}

static void test_every_listed_mechanism_is_implemented(void **state)
{
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = listed(list);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_MECHANISM_INFO info;
		assert_int_equal(azkv_mech_info(list[i], &info), CKR_OK);
		assert_true(info.ulMinKeySize <= info.ulMaxKeySize);
		const azkv_mech *mech = azkv_mech_find(list[i]);
		assert_non_null(mech);
		assert_int_equal(mech->type, list[i]);
		if (info.flags & (CKF_ENCRYPT | CKF_DECRYPT))
			assert_non_null(azkv_mech_ops(mech, AZKV_OPER_DECRYPT));
		else
			assert_null(azkv_mech_ops(mech, AZKV_OPER_ENCRYPT));
		if (info.flags & (CKF_SIGN | CKF_VERIFY))
			assert_non_null(azkv_mech_ops(mech, AZKV_OPER_VERIFY));
		else
			assert_null(azkv_mech_ops(mech, AZKV_OPER_SIGN));
		/* A hashing mechanism is the digesting signer around its
		 * pre-hashed one, multi-part; a raw one is single-part. */
		if (mech->sig == AZKV_FAMILY_MAC) {
			/* A MAC hashes for itself, multi-part. */
			assert_ptr_equal(azkv_mech_ops(mech, AZKV_OPER_SIGN),
			                 azkv_family_ops(mech->sig));
			assert_non_null(azkv_family_ops(mech->sig)->update);
		} else if (mech->hash != 0) {
			assert_non_null(azkv_mech_hash_md(mech));
			assert_ptr_equal(azkv_mech_ops(mech, AZKV_OPER_SIGN),
			                 &azkv_digest_sign_ops);
			assert_null(azkv_family_ops(mech->sig)->update);
		} else if (mech->sig != AZKV_FAMILY_NONE) {
			assert_ptr_equal(azkv_mech_ops(mech, AZKV_OPER_SIGN),
			                 azkv_family_ops(mech->sig));
		}
	}
}

/* The family table has one row per family, each with ops (a family a row
 * names without ops would be a NULL dereference at C_*Init), and nothing
 * for none or out of range. */
static void test_every_family_has_ops(void **state)
{
	assert_null(azkv_family_ops(AZKV_FAMILY_NONE));
	for (int f = AZKV_FAMILY_NONE + 1; f < AZKV_FAMILY_COUNT; f++) {
		const azkv_op_ops *ops = azkv_family_ops((azkv_family)f);
		assert_non_null(ops);
		assert_non_null(ops->init);
		assert_non_null(ops->run);
		assert_non_null(ops->free);
		for (int g = AZKV_FAMILY_NONE + 1; g < f; g++)
			assert_ptr_not_equal(azkv_family_ops((azkv_family)g), ops);
	}
	assert_null(azkv_family_ops(AZKV_FAMILY_COUNT));
}

static void test_true_key_sizes_and_flags(void **state)
{
	CK_MECHANISM_INFO info;
	static const CK_MECHANISM_TYPE ec[] = {CKM_ECDSA, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384,
	                                       CKM_ECDSA_SHA512};
	const CK_FLAGS ec_flags =
	        CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	for (size_t i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
		assert_int_equal(azkv_mech_info(ec[i], &info), CKR_OK);
		assert_int_equal(info.ulMinKeySize, 256);
		assert_int_equal(info.ulMaxKeySize, 521);
		assert_int_equal(info.flags & ec_flags, ec_flags);
		assert_false(info.flags & (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP));
	}
	static const CK_MECHANISM_TYPE rsa_sig[] = {
	        CKM_SHA256_RSA_PKCS,    CKM_SHA384_RSA_PKCS,     CKM_SHA512_RSA_PKCS,
	        CKM_RSA_PKCS_PSS,       CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS,
	        CKM_SHA512_RSA_PKCS_PSS};
	for (size_t i = 0; i < sizeof(rsa_sig) / sizeof(rsa_sig[0]); i++) {
		assert_int_equal(azkv_mech_info(rsa_sig[i], &info), CKR_OK);
		assert_int_equal(info.ulMinKeySize, 2048);
		assert_int_equal(info.ulMaxKeySize, 4096);
		assert_int_equal(info.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
		assert_false(info.flags & (CKF_ENCRYPT | CKF_DECRYPT));
	}
	assert_int_equal(azkv_mech_info(CKM_RSA_PKCS, &info), CKR_OK);
	assert_int_equal(info.flags & (CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT |
	                               CKF_WRAP | CKF_UNWRAP),
	                 CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP);
	assert_int_equal(azkv_mech_info(CKM_RSA_PKCS_OAEP, &info), CKR_OK);
	assert_false(info.flags & (CKF_SIGN | CKF_VERIFY));
	static const CK_MECHANISM_TYPE aes[] = {CKM_AES_GCM, CKM_AES_CBC_PAD, CKM_AES_KEY_WRAP,
	                                        CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_GEN};
	for (size_t i = 0; i < sizeof(aes) / sizeof(aes[0]); i++) {
		assert_int_equal(azkv_mech_info(aes[i], &info), CKR_OK);
		assert_int_equal(info.ulMinKeySize, 16);
		assert_int_equal(info.ulMaxKeySize, 32);
	}
	assert_int_equal(azkv_mech_info(CKM_AES_KEY_WRAP, &info), CKR_OK);
	assert_int_equal(info.flags & (CKF_WRAP | CKF_UNWRAP), CKF_WRAP | CKF_UNWRAP);
	assert_int_equal(azkv_mech_info(CKM_AES_CBC_PAD, &info), CKR_OK);
	assert_false(info.flags & (CKF_WRAP | CKF_SIGN));
}

static void test_unknown_mechanisms_are_invalid(void **state)
{
	CK_MECHANISM_INFO info;
	assert_int_equal(azkv_mech_info(CKM_SHA1_RSA_PKCS, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(azkv_mech_info(CKM_DES3_ECB, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(azkv_mech_info(CKM_ECDSA, NULL), CKR_ARGUMENTS_BAD);
	assert_null(azkv_mech_find(CKM_DES3_ECB));
	assert_null(azkv_mech_find(CKM_SHA1_RSA_PKCS));
}

static void test_allowed_mechanisms_follow_the_key_type(void **state)
{
	const CK_MECHANISM_TYPE *list;
	size_t n;
	CK_MECHANISM_INFO info;
	azkv_mech_allowed(CKK_RSA, &list, &n);
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(azkv_mech_info(list[i], &info), CKR_OK);
		assert_int_equal(info.ulMinKeySize, 2048);
	}
	azkv_mech_allowed(CKK_EC, &list, &n);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(azkv_mech_info(list[i], &info), CKR_OK);
		assert_true(info.flags & CKF_EC_NAMEDCURVE);
		assert_non_null(azkv_mech_ops(azkv_mech_find(list[i]), AZKV_OPER_SIGN));
	}
	/* Managed HSM AES keys: AES key wrap, in the HSM. */
	azkv_mech_allowed(CKK_AES, &list, &n);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(azkv_mech_info(list[i], &info), CKR_OK);
		assert_int_equal(info.flags & (CKF_HW | CKF_WRAP | CKF_UNWRAP),
		                 CKF_HW | CKF_WRAP | CKF_UNWRAP);
		assert_true(azkv_aes_kw_mech(list[i]));
	}
	azkv_mech_allowed(CKK_GENERIC_SECRET, &list, &n);
	assert_int_equal(n, 0);
	assert_null(list);
}

static void test_key_checks_usage_then_allowed_mechanisms(void **state)
{
	azkv_object obj;
	memset(&obj, 0, sizeof(obj));
	obj.cls = CKO_PRIVATE_KEY;
	obj.key_type = CKK_RSA;
	assert_int_equal(azkv_attrs_set_bool(&obj.attrs, CKA_SIGN, CK_FALSE), CKR_OK);
	assert_int_equal(azkv_key_usage_check(&obj, 7, CKA_SIGN, "test"),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* Absent is false. */
	assert_int_equal(azkv_key_usage_check(&obj, 7, CKA_DECRYPT, "test"),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(azkv_attrs_set_bool(&obj.attrs, CKA_SIGN, CK_TRUE), CKR_OK);
	assert_int_equal(azkv_key_usage_check(&obj, 7, CKA_SIGN, "test"), CKR_OK);

	/* No CKA_ALLOWED_MECHANISMS, or an empty one: anything goes. */
	assert_int_equal(azkv_key_mech_check(&obj, 7, CKM_ECDSA, "test"), CKR_OK);
	assert_int_equal(azkv_attrs_set(&obj.attrs, CKA_ALLOWED_MECHANISMS, NULL, 0), CKR_OK);
	assert_int_equal(azkv_key_mech_check(&obj, 7, CKM_ECDSA, "test"), CKR_OK);
	CK_MECHANISM_TYPE only[] = {CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS_PSS};
	assert_int_equal(azkv_attrs_set(&obj.attrs, CKA_ALLOWED_MECHANISMS, only, sizeof(only)),
	                 CKR_OK);
	assert_int_equal(azkv_key_mech_check(&obj, 7, CKM_RSA_PKCS_PSS, "test"), CKR_OK);
	assert_int_equal(azkv_key_mech_check(&obj, 7, CKM_RSA_PKCS, "test"), CKR_MECHANISM_INVALID);
	azkv_attrs_free(&obj.attrs);
}

/* The class and type a mechanism needs, for each use, in one place. */
static void test_key_check_follows_the_mechanism_row(void **state)
{
	azkv_vault_key vk;
	azkv_object rsa_priv, aes;
	memset(&vk, 0, sizeof(vk));
	memset(&rsa_priv, 0, sizeof(rsa_priv));
	memset(&aes, 0, sizeof(aes));
	rsa_priv.cls = CKO_PRIVATE_KEY;
	rsa_priv.key_type = CKK_RSA;
	rsa_priv.vkey = &vk;
	aes.cls = CKO_SECRET_KEY;
	aes.key_type = CKK_AES;
	aes.value.len = 32;
	static const CK_ATTRIBUTE_TYPE uses[] = {CKA_SIGN,    CKA_VERIFY, CKA_ENCRYPT,
	                                         CKA_DECRYPT, CKA_WRAP,   CKA_UNWRAP};
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		assert_int_equal(azkv_attrs_set_bool(&rsa_priv.attrs, uses[i], CK_TRUE), CKR_OK);
		assert_int_equal(azkv_attrs_set_bool(&aes.attrs, uses[i], CK_TRUE), CKR_OK);
	}
	const azkv_mech *sha256 = azkv_mech_find(CKM_SHA256_RSA_PKCS);
	const azkv_mech *oaep = azkv_mech_find(CKM_RSA_PKCS_OAEP);
	const azkv_mech *cbc = azkv_mech_find(CKM_AES_CBC_PAD);
	const azkv_mech *ecdsa = azkv_mech_find(CKM_ECDSA);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, sha256, CKA_SIGN, "test"), CKR_OK);
	/* The private half signs, decrypts and unwraps; never the rest. */
	assert_int_equal(azkv_key_check(&rsa_priv, 7, sha256, CKA_VERIFY, "test"),
	                 CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, oaep, CKA_DECRYPT, "test"), CKR_OK);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, oaep, CKA_ENCRYPT, "test"),
	                 CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, oaep, CKA_UNWRAP, "test"), CKR_OK);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, oaep, CKA_WRAP, "test"),
	                 CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, ecdsa, CKA_SIGN, "test"),
	                 CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, cbc, CKA_ENCRYPT, "test"),
	                 CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(azkv_key_check(&aes, 7, cbc, CKA_ENCRYPT, "test"), CKR_OK);
	assert_int_equal(azkv_key_check(&aes, 7, oaep, CKA_UNWRAP, "test"),
	                 CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
	/* An RSA key object that is not a vault key is no RSA key here. */
	rsa_priv.vkey = NULL;
	assert_int_equal(azkv_key_check(&rsa_priv, 7, sha256, CKA_SIGN, "test"),
	                 CKR_KEY_TYPE_INCONSISTENT);
	/* Usage comes before the type for an operation, after it for a
	 * wrapping key. */
	assert_int_equal(azkv_attrs_set_bool(&rsa_priv.attrs, CKA_VERIFY, CK_FALSE), CKR_OK);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, sha256, CKA_VERIFY, "test"),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(azkv_attrs_set_bool(&rsa_priv.attrs, CKA_WRAP, CK_FALSE), CKR_OK);
	assert_int_equal(azkv_key_check(&rsa_priv, 7, oaep, CKA_WRAP, "test"),
	                 CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
	azkv_attrs_free(&rsa_priv.attrs);
	azkv_attrs_free(&aes.attrs);
}

/* The MAC rows: their key types (HMAC: generic secret and AES, CMAC: AES)
 * and sizes in bytes (HMAC keys at least the digest's length, as
 * SoftHSMv2), in C_GetMechanismInfo and in the key check alike. */
static void test_mac_rows_take_their_key_types_and_sizes(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE type;
		CK_ULONG min;
	} hmac[] = {{CKM_SHA_1_HMAC, 20},          {CKM_SHA224_HMAC, 28},
	            {CKM_SHA256_HMAC, 32},         {CKM_SHA384_HMAC, 48},
	            {CKM_SHA512_HMAC, 64},         {CKM_SHA256_HMAC_GENERAL, 32},
	            {CKM_SHA512_HMAC_GENERAL, 64}, {CKM_SHA_1_HMAC_GENERAL, 20}};
	azkv_object key;
	CK_MECHANISM_INFO info;
	memset(&key, 0, sizeof(key));
	key.cls = CKO_SECRET_KEY;
	assert_int_equal(azkv_attrs_set_bool(&key.attrs, CKA_SIGN, CK_TRUE), CKR_OK);
	assert_int_equal(azkv_attrs_set_bool(&key.attrs, CKA_ENCRYPT, CK_TRUE), CKR_OK);
	for (size_t i = 0; i < sizeof(hmac) / sizeof(hmac[0]); i++) {
		const azkv_mech *m = azkv_mech_find(hmac[i].type);
		assert_int_equal(azkv_mech_info(hmac[i].type, &info), CKR_OK);
		assert_int_equal(info.ulMinKeySize, hmac[i].min);
		assert_int_equal(info.ulMaxKeySize, 512);
		assert_int_equal(info.flags, CKF_SIGN | CKF_VERIFY);
		key.key_type = CKK_GENERIC_SECRET;
		key.value.len = hmac[i].min;
		assert_int_equal(azkv_key_check(&key, 7, m, CKA_SIGN, "test"), CKR_OK);
		key.value.len = hmac[i].min - 1;
		assert_int_equal(azkv_key_check(&key, 7, m, CKA_SIGN, "test"), CKR_KEY_SIZE_RANGE);
		key.value.len = 513;
		assert_int_equal(azkv_key_check(&key, 7, m, CKA_SIGN, "test"), CKR_KEY_SIZE_RANGE);
		key.key_type = CKK_AES;
		key.value.len = 32;
		assert_int_equal(azkv_key_check(&key, 7, m, CKA_SIGN, "test"),
		                 hmac[i].min <= 32 ? CKR_OK : CKR_KEY_SIZE_RANGE);
	}
	static const CK_MECHANISM_TYPE aes_only[] = {CKM_AES_CMAC, CKM_AES_CMAC_GENERAL,
	                                             CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CTR};
	for (size_t i = 0; i < sizeof(aes_only) / sizeof(aes_only[0]); i++) {
		const azkv_mech *m = azkv_mech_find(aes_only[i]);
		CK_ATTRIBUTE_TYPE use = m->sig == AZKV_FAMILY_MAC ? CKA_SIGN : CKA_ENCRYPT;
		assert_int_equal(azkv_mech_info(aes_only[i], &info), CKR_OK);
		assert_int_equal(info.ulMinKeySize, 16);
		assert_int_equal(info.ulMaxKeySize, 32);
		assert_int_equal(info.flags, use == CKA_SIGN ? CKF_SIGN | CKF_VERIFY
		                                             : CKF_ENCRYPT | CKF_DECRYPT);
		key.key_type = CKK_AES;
		key.value.len = 16;
		assert_int_equal(azkv_key_check(&key, 7, m, use, "test"), CKR_OK);
		key.key_type = CKK_GENERIC_SECRET;
		assert_int_equal(azkv_key_check(&key, 7, m, use, "test"),
		                 CKR_KEY_TYPE_INCONSISTENT);
	}
	azkv_attrs_free(&key.attrs);
}

static void test_hash_and_mgf_mapping(void **state)
{
	assert_ptr_equal(azkv_mech_md(CKM_SHA256), EVP_sha256());
	assert_ptr_equal(azkv_mech_md(CKM_SHA_1), EVP_sha1());
	assert_null(azkv_mech_md(CKM_MD5));
	assert_ptr_equal(azkv_mgf_md(CKG_MGF1_SHA512), EVP_sha512());
	assert_ptr_equal(azkv_mgf_md(CKG_MGF1_SHA224), EVP_sha224());
	assert_null(azkv_mgf_md(0x99));
}

/* RSA1_5 decryption is the vault's to allow: off unless its configuration
 * says allow_rsa_pkcs1_v15_decrypt; everything else CKM_RSA_PKCS does is
 * local or a signature, and stays. */
static void test_rsa_pkcs1_v15_decrypt_is_opt_in_per_vault(void **state)
{
	azkv_vault_config off = {.url = "https://off.vault.azure.net"};
	azkv_vault_config on = {.url = "https://on.vault.azure.net",
	                        .allow_rsa_pkcs1_v15_decrypt = 1};
	CK_MECHANISM_INFO info;
	const CK_FLAGS kept = CKF_HW | CKF_ENCRYPT | CKF_WRAP | CKF_SIGN | CKF_VERIFY;
	assert_int_equal(azkv_mech_vault_info(&off, CKM_RSA_PKCS, &info), CKR_OK);
	assert_int_equal(info.flags, kept);
	assert_int_equal(azkv_mech_vault_info(&on, CKM_RSA_PKCS, &info), CKR_OK);
	assert_int_equal(info.flags, kept | CKF_DECRYPT | CKF_UNWRAP);
	assert_int_equal(azkv_mech_vault_info(&off, CKM_RSA_PKCS_OAEP, &info), CKR_OK);
	assert_int_equal(info.flags & (CKF_DECRYPT | CKF_UNWRAP), CKF_DECRYPT | CKF_UNWRAP);
	assert_int_equal(azkv_mech_vault_info(&off, CKM_DES3_ECB, &info), CKR_MECHANISM_INVALID);

	assert_int_equal(azkv_mech_vault_allows(&off, CKM_RSA_PKCS, CKA_DECRYPT, "test"),
	                 CKR_MECHANISM_INVALID);
	assert_int_equal(azkv_mech_vault_allows(&off, CKM_RSA_PKCS, CKA_UNWRAP, "test"),
	                 CKR_MECHANISM_INVALID);
	static const CK_ATTRIBUTE_TYPE local[] = {CKA_ENCRYPT, CKA_WRAP, CKA_SIGN, CKA_VERIFY};
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		assert_int_equal(azkv_mech_vault_allows(&off, CKM_RSA_PKCS, local[i], "test"),
		                 CKR_OK);
	assert_int_equal(azkv_mech_vault_allows(&off, CKM_RSA_PKCS_OAEP, CKA_DECRYPT, "test"),
	                 CKR_OK);
	assert_int_equal(azkv_mech_vault_allows(&on, CKM_RSA_PKCS, CKA_DECRYPT, "test"), CKR_OK);
	assert_int_equal(azkv_mech_vault_allows(&on, CKM_RSA_PKCS, CKA_UNWRAP, "test"), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_list_follows_the_two_call_convention),
	        cmocka_unit_test(test_every_listed_mechanism_is_implemented),
	        cmocka_unit_test(test_every_family_has_ops),
	        cmocka_unit_test(test_true_key_sizes_and_flags),
	        cmocka_unit_test(test_unknown_mechanisms_are_invalid),
	        cmocka_unit_test(test_allowed_mechanisms_follow_the_key_type),
	        cmocka_unit_test(test_key_checks_usage_then_allowed_mechanisms),
	        cmocka_unit_test(test_key_check_follows_the_mechanism_row),
	        cmocka_unit_test(test_mac_rows_take_their_key_types_and_sizes),
	        cmocka_unit_test(test_hash_and_mgf_mapping),
	        cmocka_unit_test(test_rsa_pkcs1_v15_decrypt_is_opt_in_per_vault),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
