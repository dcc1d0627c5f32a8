/* azkv_cmk_versions: a key's versions from the token's objects, grouped by
 * version, the current first, then newest created, and only the key's own
 * vault objects of the slot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmk_ext.h"

typedef struct fixture {
	azkv_vault_key vk[4];
	azkv_object obj[9];
	azkv_object *ptrs[9];
} fixture;

static void version(azkv_vault_key *vk, char *name, char *ver, char *kid, int64_t created)
{
	vk->key.name = name;
	vk->key.version = ver;
	vk->key.jwk.kid = kid;
	vk->key.created = created;
	vk->key.enabled = 1;
}

static void object(azkv_object *o, CK_OBJECT_HANDLE h, CK_OBJECT_CLASS cls, azkv_vault_key *vk,
                   CK_BBOOL current)
{
	o->handle = h;
	o->cls = cls;
	o->vkey = vk;
	assert_int_equal(azkv_attrs_set_bool(&o->attrs, CKA_AZKV_CURRENT_VERSION, current), CKR_OK);
}

/* cmk: v1 (oldest), v3 (current, created before v2: clocks), v2; other:
 * w1; plus a session key, and an object of cmk on another slot. */
static fixture *make(void)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	version(&f->vk[0], "cmk", "v1", "https://x/keys/cmk/v1", 100);
	version(&f->vk[1], "cmk", "v2", "https://x/keys/cmk/v2", 300);
	version(&f->vk[2], "cmk", "v3", "https://x/keys/cmk/v3", 200);
	version(&f->vk[3], "other", "w1", "https://x/keys/other/w1", 500);
	object(&f->obj[0], 1, CKO_PUBLIC_KEY, &f->vk[0], CK_FALSE);
	object(&f->obj[1], 2, CKO_PRIVATE_KEY, &f->vk[0], CK_FALSE);
	object(&f->obj[2], 3, CKO_PRIVATE_KEY, &f->vk[1], CK_FALSE); /* private first */
	object(&f->obj[3], 4, CKO_PUBLIC_KEY, &f->vk[1], CK_FALSE);
	object(&f->obj[4], 5, CKO_PUBLIC_KEY, &f->vk[2], CK_TRUE);
	object(&f->obj[5], 6, CKO_PRIVATE_KEY, &f->vk[2], CK_TRUE);
	object(&f->obj[6], 7, CKO_PUBLIC_KEY, &f->vk[3], CK_TRUE);
	object(&f->obj[7], 8, CKO_SECRET_KEY, NULL, CK_FALSE);
	object(&f->obj[8], 9, CKO_PUBLIC_KEY, &f->vk[0], CK_FALSE);
	f->obj[7].session = 1;
	f->obj[8].slot = 1;
	for (int i = 0; i < 9; i++)
		f->ptrs[i] = &f->obj[i];
	return f;
}

static int setup(void **state)
{
	*state = make();
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	for (int i = 0; i < 9; i++)
		azkv_attrs_free(&f->obj[i].attrs);
	free(f);
	return 0;
}

/* The versions of the key named by name_len bytes of name on slot 0: their
 * count, the list in *v (owned; NULL when none). The count starts other
 * than 0, so that a 0 is the function's. */
static size_t versions(fixture *f, const char *name, size_t name_len, AZKV_KEY_VERSION_INFO **v)
{
	size_t n = 7;

	*v = NULL;
	assert_int_equal(azkv_cmk_versions(f->ptrs, 9, 0, name, name_len, v, &n), CKR_OK);
	return n;
}

static void test_grouped_current_first_then_newest(void **state)
{
	AZKV_KEY_VERSION_INFO *v;
	assert_int_equal(versions(*state, "cmk", 3, &v), 3);
	assert_string_equal(v[0].version, "v3");
	assert_true(v[0].current);
	assert_int_equal(v[0].public_key, 5);
	assert_int_equal(v[0].private_key, 6);
	assert_string_equal(v[1].version, "v2");
	assert_false(v[1].current);
	assert_int_equal(v[1].public_key, 4);
	assert_int_equal(v[1].private_key, 3);
	assert_string_equal(v[2].version, "v1");
	assert_int_equal(v[2].public_key, 1); /* not 9: that one is on slot 1 */
	assert_int_equal(v[2].created, 100);
	assert_true(v[2].enabled);
	free(v);
}

static void test_name_must_match_exactly(void **state)
{
	AZKV_KEY_VERSION_INFO *v;
	assert_int_equal(versions(*state, "cm", 2, &v), 0);
	assert_null(v);
	assert_int_equal(versions(*state, "cmkx", 3, &v),
	                 3); /* name_len bytes only: not NUL-terminated */
	free(v);
	assert_int_equal(versions(*state, "other", 5, &v), 1);
	assert_int_equal(v[0].private_key, CK_INVALID_HANDLE); /* only a public object */
	free(v);
}

/* A Managed HSM AES key version is one secret-key object: private_key. */
static void test_aes_key_version_is_its_secret_object(void **state)
{
	fixture *f = *state;
	AZKV_KEY_VERSION_INFO *v;
	f->obj[6].cls = CKO_SECRET_KEY; /* other/w1 */
	assert_int_equal(versions(f, "other", 5, &v), 1);
	assert_int_equal(v[0].private_key, 7);
	assert_int_equal(v[0].public_key, CK_INVALID_HANDLE);
	free(v);
}

static void test_long_version_is_cut_and_terminated(void **state)
{
	fixture *f = *state;
	AZKV_KEY_VERSION_INFO *v;
	char long_version[200];
	memset(long_version, 'a', sizeof(long_version) - 1);
	long_version[sizeof(long_version) - 1] = '\0';
	f->vk[3].key.version = long_version;
	assert_int_equal(versions(f, "other", 5, &v), 1);
	assert_int_equal(strlen(v[0].version), AZKV_KEY_VERSION_MAX);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_grouped_current_first_then_newest, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_name_must_match_exactly, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_aes_key_version_is_its_secret_object, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_long_version_is_cut_and_terminated, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
