/* Managed HSM specifics (src/mhsm.c): the AES key wrap alg by key size,
 * the host test, and the role and grant text of a refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mhsm.h"

static void kw_alg_follows_the_key_size(void **state)
{
	(void)state;
	assert_string_equal(azkv_mhsm_aes_wrap_alg(128, 0), "A128KW");
	assert_string_equal(azkv_mhsm_aes_wrap_alg(192, 0), "A192KW");
	assert_string_equal(azkv_mhsm_aes_wrap_alg(256, 0), "A256KW");
}

static void unknown_size_uses_the_size_free_alg(void **state)
{
	(void)state;
	/* A bundle does not state an AES key's size. */
	assert_string_equal(azkv_mhsm_aes_wrap_alg(0, 0), "CKM_AES_KEY_WRAP");
	assert_string_equal(azkv_mhsm_aes_wrap_alg(512, 0), "CKM_AES_KEY_WRAP");
}

static void padded_wrap_is_one_alg_for_every_size(void **state)
{
	(void)state;
	assert_string_equal(azkv_mhsm_aes_wrap_alg(0, 1), "CKM_AES_KEY_WRAP_PAD");
	assert_string_equal(azkv_mhsm_aes_wrap_alg(128, 1), "CKM_AES_KEY_WRAP_PAD");
	assert_string_equal(azkv_mhsm_aes_wrap_alg(256, 1), "CKM_AES_KEY_WRAP_PAD");
}

static void alg_names_its_size(void **state)
{
	(void)state;
	assert_int_equal(azkv_mhsm_aes_alg_bits("A128KW"), 128);
	assert_int_equal(azkv_mhsm_aes_alg_bits("A192KW"), 192);
	assert_int_equal(azkv_mhsm_aes_alg_bits("A256KW"), 256);
	assert_int_equal(azkv_mhsm_aes_alg_bits("CKM_AES_KEY_WRAP"), 0);
	assert_int_equal(azkv_mhsm_aes_alg_bits("CKM_AES_KEY_WRAP_PAD"), 0);
	assert_int_equal(azkv_mhsm_aes_alg_bits(NULL), 0);
}

static void managed_hsm_hosts(void **state)
{
	(void)state;
	assert_true(azkv_mhsm_is_hsm("https://h1.managedhsm.azure.net"));
	assert_true(azkv_mhsm_is_hsm("https://H1.ManagedHSM.azure.net/"));
	assert_true(azkv_mhsm_is_hsm("https://h1.managedhsm.usgovcloudapi.net"));
	assert_false(azkv_mhsm_is_hsm("https://kv.vault.azure.net"));
	assert_false(azkv_mhsm_is_hsm("https://kv.vault.azure.net/keys/x.managedhsm.y"));
	assert_false(azkv_mhsm_is_hsm(NULL));
}

static void least_privilege_role_per_operation(void **state)
{
	(void)state;
	assert_string_equal(azkv_mhsm_role_for("wrapkey"),
	                    "Managed HSM Crypto Service Encryption User");
	assert_string_equal(azkv_mhsm_role_for("unwrapkey"),
	                    "Managed HSM Crypto Service Encryption User");
	assert_string_equal(azkv_mhsm_role_for("decrypt"), "Managed HSM Crypto User");
	assert_string_equal(azkv_mhsm_role_for("sign"), "Managed HSM Crypto User");
}

static void grant_hint_names_role_scope_and_command(void **state)
{
	char buf[512];
	(void)state;
	assert_int_equal(azkv_mhsm_grant_hint("https://h1.managedhsm.azure.net", "kek", "unwrapkey",
	                                      buf, sizeof(buf)),
	                 1);
	assert_non_null(strstr(buf, "\"Managed HSM Crypto Service Encryption User\" at scope "
	                            "/keys/kek"));
	assert_non_null(strstr(buf, "az keyvault role assignment create --hsm-name h1 "));
	assert_non_null(strstr(buf, "--scope /keys/kek"));
	assert_int_equal(azkv_mhsm_grant_hint("https://kv.vault.azure.net", "kek", "unwrapkey", buf,
	                                      sizeof(buf)),
	                 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(kw_alg_follows_the_key_size),
	        cmocka_unit_test(unknown_size_uses_the_size_free_alg),
	        cmocka_unit_test(padded_wrap_is_one_alg_for_every_size),
	        cmocka_unit_test(alg_names_its_size),
	        cmocka_unit_test(managed_hsm_hosts),
	        cmocka_unit_test(least_privilege_role_per_operation),
	        cmocka_unit_test(grant_hint_names_role_scope_and_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
