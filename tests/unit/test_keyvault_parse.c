/* Key Vault response parsing (no network): key bundles with attributes,
 * tags and managed; list pages and paging; kid splitting; operation
 * results; error bodies and their status mapping; client construction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyvault.h"

/* importKeyOperationForKeyOperationsTest.json (2018), verbatim. */
static const char bundle_2018[] =
        "{\"key\":{\"kid\":\"https://tifchen-keyvault-fancy.vault.azure.net/keys/javaKey/"
        "dc38d2c3e5874dbd8a9799181034fc8c\",\"kty\":\"RSA\",\"key_ops\":[\"encrypt\",\"decrypt\"],"
        "\"n\":\"1_6ZtP288hEkKML-L6nFyZh1PD1rmAgwbbwjEvTSDK_008BYWhjp_6ULy9BhWtRIytNkPkm9gzaBTrCpp"
        "-vyDXPGa836Htp-w8u5JmxoUZchJh576m3m-8ZYWTmZSAp5SpruyKAmLSxPJHEWPXQntnmuTMjb9HBT9Ltrwc0ZD"
        "k-jsMLYunDJrNmrRUxQgb0zQ_Tl5fJjj8j-0KVx2RXtbfWFvf5fRdBYyP3m0aUpoopQPwtXszD2LcSKMJ_TnmnvM"
        "Wr8MOA5aRlBaGdBk7zBgRafvDPam3Q2AvFA9mfcAVncpfZ3JFm73VARw6MofXtRqOHtZ7y4oNbY95xXwU2r6w\","
        "\"e\":\"AQAB\"},\"attributes\":{\"enabled\":true,\"nbf\":948833656,\"exp\":2526756856,"
        "\"created\":1529956457,\"updated\":1529956457,\"recoveryLevel\":\"Recoverable+Purgeable\"}"
        ","
        "\"tags\":{\"foo\":\"baz\"}}";

/* A certificate-backed key: "managed": true, disabled, Managed HSM kid. */
static const char bundle_managed[] =
        "{\"key\":{\"kid\":\"https://hsm1.managedhsm.azure.net/keys/cert-key/"
        "0123456789abcdef0123456789abcdef\",\"kty\":\"EC-HSM\",\"key_ops\":[\"sign\"],"
        "\"crv\":\"P-256\",\"x\":\"syOqDVICauAXpT5ztl70OJ4WdW-l6OVzKnmxygBV62U\","
        "\"y\":\"XqCXgFJx9OXWCx3QiCIkuyYHKbTtmtZiCbX3Z5wA1RM\"},"
        "\"attributes\":{\"enabled\":false,\"created\":1,\"updated\":2,"
        "\"recoveryLevel\":\"CustomizedRecoverable+Purgeable\",\"exportable\":false},"
        "\"managed\":true}";

/* A Managed HSM oct-HSM key as the service answers it (the shape of the
 * Azure SDK for JavaScript's Managed HSM recordings, members sorted): no
 * key material and no key size; values are ours. */
static const char bundle_oct_hsm[] =
        "{\"attributes\":{\"created\":1700000000,\"enabled\":true,\"exportable\":false,"
        "\"recoverableDays\":7,\"recoveryLevel\":\"CustomizedRecoverable+Purgeable\","
        "\"updated\":1700000001},\"key\":{\"key_ops\":[\"wrapKey\",\"unwrapKey\",\"decrypt\","
        "\"encrypt\"],\"kid\":\"https://hsm1.managedhsm.azure.net/keys/kek/"
        "70e288c11c3500290431c99887a27d16\",\"kty\":\"oct-HSM\"}}";

/* keyAsyncForAsyncOperationsTest.json (2018): an empty page that goes on. */
static const char page_empty_with_next[] =
        "{\"value\":[],\"nextLink\":\"https://tifchen-keyvault-fancy.vault.azure.net:443/keys?"
        "api-version=7.0&$skiptoken=eyJOZXh0TWFya2VyIjoiMiExMDAhTURBd01ETXdJV3RsZVM5RFVrVkJWRVZU"
        "UlV4R1UwbEhUa1ZFU2tGV1FWQkxRMU14TWlFd01EQXdNamdoT1RrNU9TMHhNaTB6TVZReU16bzFPVG8xT1M0NU9U"
        "azVPVGs1V2lFLSIsIlRhcmdldExvY2F0aW9uIjowfQ&maxresults=2\"}";

/* The same file: the last page of a versions list. */
static const char page_last_versions[] =
        "{\"value\":[{\"kid\":\"https://tifchen-keyvault-fancy.vault.azure.net/keys/mykey/"
        "3e460debb7fe40e5b54d4e08343a3ba7\",\"attributes\":{\"enabled\":true,\"created\":"
        "1529955141,"
        "\"updated\":1529955144,\"recoveryLevel\":\"Recoverable+Purgeable\"}}],\"nextLink\":null}";

/* GetPropertiesOfKeysAllPages.json (2022), cut to two items; a list of
 * keys has kids without versions. */
static const char page_keys[] =
        "{\"value\":[{\"kid\":\"https://cpp-recordings.vault.azure.net/keys/BackupKey\","
        "\"attributes\":{\"enabled\":true,\"created\":1638401108,\"updated\":1638401108,"
        "\"recoveryLevel\":\"Recoverable+Purgeable\",\"recoverableDays\":90}},"
        "{\"kid\":\"https://cpp-recordings.vault.azure.net/keys/CreateKeyWithTags\","
        "\"attributes\":{\"enabled\":false,\"nbf\":5,\"exp\":6,\"created\":1638401410,"
        "\"updated\":1638401410},\"tags\":{\"one\":\"value=1\"},\"managed\":true}],"
        "\"nextLink\":\"https://REDACTED.vault.azure.net:443/keys?api-version=7.3&$skiptoken=x\"}";

static void key_bundle_gives_key_name_version_attributes_and_tags(void **state)
{
	cJSON *obj = cJSON_Parse(bundle_2018);
	azkv_key key;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_parse(obj, &key, &err), AZKV_OK);
	assert_int_equal(key.jwk.kty, AZKV_KTY_RSA);
	assert_int_equal(key.jwk.n.len, 256);
	assert_string_equal(key.name, "javaKey");
	assert_string_equal(key.version, "dc38d2c3e5874dbd8a9799181034fc8c");
	assert_int_equal(key.enabled, 1);
	assert_int_equal(key.nbf, 948833656);
	assert_int_equal(key.exp, 2526756856LL);
	assert_int_equal(key.created, 1529956457);
	assert_int_equal(key.updated, 1529956457);
	assert_int_equal(key.managed, 0);
	assert_string_equal(key.recovery_level, "Recoverable+Purgeable");
	assert_string_equal(key.tags_json, "{\"foo\":\"baz\"}");
	azkv_key_free(&key);
	assert_null(key.name);
	cJSON_Delete(obj);
}

static void managed_disabled_hsm_key_bundle_is_parsed(void **state)
{
	cJSON *obj = cJSON_Parse(bundle_managed);
	azkv_key key;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_parse(obj, &key, &err), AZKV_OK);
	assert_int_equal(key.jwk.kty, AZKV_KTY_EC);
	assert_int_equal(key.jwk.hsm, 1);
	assert_string_equal(key.name, "cert-key");
	assert_string_equal(key.version, "0123456789abcdef0123456789abcdef");
	assert_int_equal(key.enabled, 0);
	assert_int_equal(key.managed, 1);
	assert_int_equal(key.nbf, 0);
	assert_int_equal(key.exp, 0);
	assert_string_equal(key.recovery_level, "CustomizedRecoverable+Purgeable");
	assert_null(key.tags_json);
	azkv_key_free(&key);
	cJSON_Delete(obj);
}

static void oct_hsm_bundle_parses_without_key_material(void **state)
{
	cJSON *obj = cJSON_Parse(bundle_oct_hsm);
	azkv_key key;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_parse(obj, &key, &err), AZKV_OK);
	assert_int_equal(key.jwk.kty, AZKV_KTY_OCT);
	assert_int_equal(key.jwk.hsm, 1);
	assert_string_equal(key.jwk.kty_name, "oct-HSM");
	assert_null(key.jwk.crv);
	assert_int_equal(key.jwk.n.len, 0);
	assert_int_equal(key.jwk.x.len, 0);
	assert_int_equal(key.jwk.key_ops,
	                 AZKV_OP_WRAP_KEY | AZKV_OP_UNWRAP_KEY | AZKV_OP_ENCRYPT | AZKV_OP_DECRYPT);
	assert_string_equal(key.name, "kek");
	assert_string_equal(key.version, "70e288c11c3500290431c99887a27d16");
	assert_int_equal(key.enabled, 1);
	assert_int_equal(key.created, 1700000000);
	assert_string_equal(key.recovery_level, "CustomizedRecoverable+Purgeable");
	azkv_key_free(&key);
	cJSON_Delete(obj);
}

static void bad_key_bundles_are_protocol_errors(void **state)
{
	static const char *const bad[] = {
	        "[]",
	        "{\"attributes\":{}}",
	        "{\"key\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}}", /* no kid */
	        "{\"key\":{\"kid\":\"https://a.vault.azure.net/secrets/x/1\",\"kty\":\"RSA\","
	        "\"n\":\"AQAB\",\"e\":\"AQAB\"}}",
	        "{\"key\":{\"kid\":\"https://a.vault.azure.net/keys/x/1\",\"kty\":\"RSA\"}}",
	        /* A bundle is one version: a kid without one crashed the module
	         * (strdup(NULL) in pkcs11/token.c, issue 15 finding 1). */
	        "{\"key\":{\"kid\":\"https://a.vault.azure.net/keys/x\",\"kty\":\"RSA\","
	        "\"n\":\"AQAB\",\"e\":\"AQAB\"}}",
	        "{\"key\":{\"kid\":\"https://a.vault.azure.net/keys/x/\",\"kty\":\"RSA\","
	        "\"n\":\"AQAB\",\"e\":\"AQAB\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *obj = cJSON_Parse(bad[i]);
		azkv_key key = {.name = (char *)0x1};
		azkv_err err;

		assert_non_null(obj);
		if (azkv_key_parse(obj, &key, &err) != AZKV_ERR_PROTOCOL)
			fail_msg("bundle %zu accepted", i);
		assert_null(key.name);
		assert_null(key.jwk.kid);
		cJSON_Delete(obj);
	}
}

static void empty_page_with_next_link_continues(void **state)
{
	azkv_key_item *items = NULL;
	size_t n = 0;
	char *next = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_list_page_parse(page_empty_with_next, &items, &n, &next, &err),
	                 AZKV_OK);
	assert_int_equal(n, 0);
	assert_non_null(next);
	assert_true(strncmp(next, "https://tifchen-keyvault-fancy.vault.azure.net:443/keys?", 56) ==
	            0);
	assert_non_null(strstr(next, "$skiptoken="));
	free(next);
	azkv_key_items_free(items, n);
}

static void last_page_has_null_next_link_and_versioned_kids(void **state)
{
	azkv_key_item *items = NULL;
	size_t n = 0;
	char *next = (char *)0x1;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_list_page_parse(page_last_versions, &items, &n, &next, &err),
	                 AZKV_OK);
	assert_null(next);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].name, "mykey");
	assert_string_equal(items[0].version, "3e460debb7fe40e5b54d4e08343a3ba7");
	assert_int_equal(items[0].enabled, 1);
	assert_int_equal(items[0].created, 1529955141);
	assert_int_equal(items[0].updated, 1529955144);
	azkv_key_items_free(items, n);
}

static void pages_append_and_key_list_kids_have_no_version(void **state)
{
	azkv_key_item *items = NULL;
	size_t n = 0;
	char *next = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_list_page_parse(page_keys, &items, &n, &next, &err), AZKV_OK);
	assert_int_equal(n, 2);
	free(next);
	assert_int_equal(azkv_key_list_page_parse(page_last_versions, &items, &n, &next, &err),
	                 AZKV_OK);
	assert_null(next);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].kid, "https://cpp-recordings.vault.azure.net/keys/BackupKey");
	assert_string_equal(items[0].name, "BackupKey");
	assert_null(items[0].version);
	assert_string_equal(items[1].name, "CreateKeyWithTags");
	assert_int_equal(items[1].enabled, 0);
	assert_int_equal(items[1].nbf, 5);
	assert_int_equal(items[1].exp, 6);
	assert_int_equal(items[1].managed, 1);
	assert_string_equal(items[2].name, "mykey");
	azkv_key_items_free(items, n);
}

static void bad_pages_are_errors_and_leave_earlier_items(void **state)
{
	static const char *const bad[] = {
	        "not json",
	        "{}",
	        "{\"value\":{}}",
	        "{\"value\":[{\"attributes\":{}}]}",
	        "{\"value\":[{\"kid\":\"https://a.vault.azure.net/keys/ok\"},"
	        "{\"kid\":\"https://a.vault.azure.net/certificates/x\"}]}",
	        "{\"value\":[],\"nextLink\":5}",
	};
	azkv_key_item *items = NULL;
	size_t n = 0;
	char *next = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_key_list_page_parse(page_last_versions, &items, &n, &next, &err),
	                 AZKV_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (azkv_key_list_page_parse(bad[i], &items, &n, &next, &err) != AZKV_ERR_PROTOCOL)
			fail_msg("page %zu accepted", i);
		assert_null(next);
		assert_int_equal(n, 1);
	}
	assert_string_equal(items[0].name, "mykey");
	azkv_key_items_free(items, n);
	azkv_key_items_free(NULL, 0);
}

static void kid_splits_into_name_and_optional_version(void **state)
{
	static const struct {
		const char *kid, *name, *version;
	} ok[] = {
	        {"https://demo.vault.azure.net/keys/cmk/3e460debb7fe40e5b54d4e08343a3ba7", "cmk",
	         "3e460debb7fe40e5b54d4e08343a3ba7"},
	        {"https://demo.vault.azure.net/keys/cmk", "cmk", NULL},
	        {"https://demo.vault.azure.net/keys/cmk/", "cmk", NULL},
	        {"https://demo.vault.azure.net:443/keys/my-key/abc", "my-key", "abc"},
	        {"https://hsm1.managedhsm.azure.net/keys/k1/35e07b4fbcdd0260137ee5100b599ff8", "k1",
	         "35e07b4fbcdd0260137ee5100b599ff8"},
	        {"http://127.0.0.1:8443/keys/k", "k", NULL},
	};
	static const char *const bad[] = {
	        "not a url",
	        "https://demo.vault.azure.net",
	        "https://demo.vault.azure.net/keys",
	        "https://demo.vault.azure.net/keys/",
	        "https://demo.vault.azure.net/secrets/s/1",
	        "https://demo.vault.azure.net/keys/a/b/c",
	        /* Not a Key Vault name (1-127 letters, digits, dashes) or
	         * version (letters and digits). */
	        "https://demo.vault.azure.net/keys/a%2Fb/1",
	        "https://demo.vault.azure.net/keys/a_b/1",
	        "https://demo.vault.azure.net/keys/k/1%0Aforged",
	        "https://demo.vault.azure.net/keys/k/"
	        "0123456789abcdef0123456789abcdef0123456789abcdef"
	        "0123456789abcdef0",
	        NULL,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *name, *version;
		azkv_err err;

		if (azkv_kid_split(ok[i].kid, &name, &version, &err) != AZKV_OK)
			fail_msg("%s refused: %s", ok[i].kid, err.message);
		assert_string_equal(name, ok[i].name);
		if (ok[i].version)
			assert_string_equal(version, ok[i].version);
		else
			assert_null(version);
		free(name);
		free(version);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *name = (char *)0x1, *version = (char *)0x1;
		azkv_err err;

		if (azkv_kid_split(bad[i], &name, &version, &err) != AZKV_ERR_PROTOCOL)
			fail_msg("%s accepted", bad[i] ? bad[i] : "(null)");
		assert_null(name);
		assert_null(version);
		assert_non_null(strstr(err.message, "key id"));
	}
}

static void kid_check_names_the_vault_key_and_version_asked_for(void **state)
{
	static const char v1[] = "3e460debb7fe40e5b54d4e08343a3ba7";
	static const char kid[] =
	        "https://demo.vault.azure.net/keys/CMK/3e460debb7fe40e5b54d4e08343a3ba7";
	static const struct {
		const char *kid, *host, *name, *version, *mention;
	} bad[] = {
	        {kid, "other.vault.azure.net", "cmk", v1, "not on the vault's"},
	        {"https://demo.vault.azure.net.evil.test/keys/cmk/1", "demo.vault.azure.net", "cmk",
	         "", "not on the vault's"},
	        {kid, "demo.vault.azure.net", "other", v1, "not the other asked for"},
	        {kid, "demo.vault.azure.net", "cmk", "00000000000000000000000000000000",
	         "not the 00000000000000000000000000000000 asked for"},
	        {"https://demo.vault.azure.net/keys/cmk", "demo.vault.azure.net", "cmk", "",
	         "has no version"},
	        {"https://demo.vault.azure.net/keys/cmk", "demo.vault.azure.net", "cmk", v1,
	         "has no version"},
	        {"https://demo.vault.azure.net/secrets/cmk/1", "demo.vault.azure.net", NULL, NULL,
	         "is not https://HOST/keys/NAME"},
	};
	azkv_err err;

	(void)state;
	/* Names and versions compare without case, hosts too. */
	assert_int_equal(azkv_kid_check(kid, "DEMO.vault.azure.net", "cmk", v1, &err), AZKV_OK);
	assert_int_equal(azkv_kid_check(kid, "demo.vault.azure.net", "cmk",
	                                "3E460DEBB7FE40E5B54D4E08343A3BA7", &err),
	                 AZKV_OK);
	assert_int_equal(azkv_kid_check(kid, "demo.vault.azure.net", "cmk", "", &err), AZKV_OK);
	assert_int_equal(azkv_kid_check(kid, NULL, NULL, NULL, &err), AZKV_OK);
	assert_int_equal(azkv_kid_check("https://demo.vault.azure.net/keys/cmk",
	                                "demo.vault.azure.net", NULL, NULL, &err),
	                 AZKV_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (azkv_kid_check(bad[i].kid, bad[i].host, bad[i].name, bad[i].version, &err) !=
		    AZKV_ERR_PROTOCOL)
			fail_msg("case %zu accepted", i);
		if (!strstr(err.message, bad[i].mention))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.message,
			         bad[i].mention);
	}
}

static void operation_result_value_is_decoded(void **state)
{
	/* unwrapkey result from Crypto-...RemoteWrap-0.json (2022). */
	static const char result[] =
	        "{\"kid\":\"https://REDACTED.vault.azure.net/keys/RemoteWrap-0/"
	        "dd357d4efa6e47299947b4cc93d4f7dd\",\"value\":"
	        "\"QSBzaW5nbGUgYmxvY2sgb2YgcGxhaW50ZXh0AA\"}";
	azkv_bytes value;
	char *kid;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_kv_op_result_parse(result, &kid, &value, &err), AZKV_OK);
	assert_string_equal(kid, "https://REDACTED.vault.azure.net/keys/RemoteWrap-0/"
	                         "dd357d4efa6e47299947b4cc93d4f7dd");
	/* The C SDK test encrypted the string with its NUL. */
	assert_int_equal(value.len, 28);
	assert_memory_equal(value.data, "A single block of plaintext", 28);
	azkv_bytes_free(&value);
	free(kid);

	assert_int_equal(azkv_kv_op_result_parse("{\"value\":\"AQAB\"}", &kid, &value, &err),
	                 AZKV_OK);
	assert_null(kid);
	assert_int_equal(value.len, 3);
	azkv_bytes_free(&value);
	assert_int_equal(azkv_kv_op_result_parse("{\"value\":\"\"}", NULL, &value, &err), AZKV_OK);
	assert_int_equal(value.len, 0);
	azkv_bytes_free(&value);
}

static void bad_operation_results_are_protocol_errors(void **state)
{
	static const char *const bad[] = {
	        "",
	        "{}",
	        "{\"kid\":\"x\"}",
	        "{\"value\":true}",
	        "{\"value\":\"AQ+B\"}",
	        "{\"value\":\"A\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		azkv_bytes value;
		char *kid = (char *)0x1;
		azkv_err err;

		if (azkv_kv_op_result_parse(bad[i], &kid, &value, &err) != AZKV_ERR_PROTOCOL)
			fail_msg("result %zu accepted", i);
		assert_null(value.data);
		assert_null(kid);
	}
}

static void error_bodies_map_status_and_fill_code_and_message(void **state)
{
	static const struct {
		long status;
		const char *body;
		azkv_rc rc;
		const char *code, *in_message, *inner;
	} cases[] = {
	        {404,
	         "{\"error\":{\"code\":\"KeyNotFound\",\"message\":\"Key not found: javaKey\"}}",
	         AZKV_ERR_NOT_FOUND, "KeyNotFound", "Key not found: javaKey", ""},
	        {409,
	         "{\"error\":{\"code\":\"Conflict\",\"message\":\"Key CreateDeletedKey is "
	         "currently "
	         "in a deleted but recoverable state\",\"innererror\":{\"code\":"
	         "\"ObjectIsDeletedButRecoverable\"}}}",
	         AZKV_ERR_CONFLICT, "Conflict", "Conflict (ObjectIsDeletedButRecoverable)",
	         "ObjectIsDeletedButRecoverable"},
	        {401,
	         "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"AKV10000: Request is missing "
	         "a Bearer or PoP token.\"}}",
	         AZKV_ERR_AUTH, "Unauthorized", "AKV10000", ""},
	        {403,
	         "{\"error\":{\"code\":\"Forbidden\",\"message\":\"The user, group or application "
	         "does not have keys unwrapKey permission\",\"innererror\":{\"code\":"
	         "\"AccessDenied\"}}}",
	         AZKV_ERR_FORBIDDEN, "Forbidden", "unwrapKey permission", "AccessDenied"},
	        {400, "{\"error\":{\"code\":\"BadParameter\",\"message\":\"Invalid algorithm\"}}",
	         AZKV_ERR_BAD_PARAMETER, "BadParameter", "Invalid algorithm", ""},
	        {429,
	         "{\"error\":{\"code\":\"Throttled\",\"message\":\"Request was not processed\"}}",
	         AZKV_ERR_THROTTLED, "Throttled", "HTTP 429", ""},
	        {503, "<html>Service Unavailable</html>", AZKV_ERR_SERVER, "", "HTTP 503", ""},
	        {500, "", AZKV_ERR_SERVER, "", "no error details", ""},
	        {405, NULL, AZKV_ERR_BAD_PARAMETER, "", "HTTP 405", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		azkv_err err;

		azkv_err_clear(&err);
		assert_int_equal(azkv_kv_error_from_response(cases[i].status, cases[i].body,
		                                             "unwrapkey with key k on demo", &err),
		                 cases[i].rc);
		assert_int_equal(err.rc, cases[i].rc);
		assert_int_equal(err.http_status, cases[i].status);
		assert_string_equal(err.code, cases[i].code);
		assert_string_equal(err.inner_code, cases[i].inner);
		if (!strstr(err.message, cases[i].in_message) ||
		    !strstr(err.message, "unwrapkey with key k on demo"))
			fail_msg("message \"%s\" lacks \"%s\"", err.message, cases[i].in_message);
	}
}

static void client_construction_checks_the_url_without_io(void **state)
{
	azkv_credential_config cc = {
	        .type = AZKV_CRED_CLIENT_SECRET,
	        .tenant_id = "tenant-1",
	        .client_id = "client-1",
	        .client_secret = "secret",
	        .authority_host = "https://login.microsoftonline.com",
	};
	azkv_http_config hc = {.connect_timeout_ms = 1000, .timeout_ms = 2000};
	azkv_http *http = NULL;
	azkv_credential *cred = NULL;
	azkv_kv_client *kv = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_http_global_init(&err), AZKV_OK);
	assert_int_equal(azkv_http_new(&hc, &http, &err), AZKV_OK);
	assert_int_equal(azkv_credential_new(&cc, NULL, 3, http, &cred, &err), AZKV_OK);

	assert_int_equal(
	        azkv_kv_client_new("https://demo.vault.azure.net/", NULL, 3, http, cred, &kv, &err),
	        AZKV_OK);
	assert_string_equal(azkv_kv_client_url(kv), "https://demo.vault.azure.net");
	azkv_kv_client_free(kv);

	/* Request URLs: segments escaped only where they need it. */
	assert_int_equal(azkv_kv_client_new("https://demo.vault.azure.net", "7.4 beta", 3, http,
	                                    cred, &kv, &err),
	                 AZKV_OK);
	const char *plain[] = {"keys", "Key-1", "0a1B_.~", "unwrapkey"};
	const char *odd[] = {"keys", "a b/c?d", NULL, "%x"};
	char *url = azkv_kv_request_url(kv, plain, 4);
	assert_string_equal(url, "https://demo.vault.azure.net/keys/Key-1/0a1B_.~/unwrapkey"
	                         "?api-version=7.4%20beta");
	free(url);
	url = azkv_kv_request_url(kv, odd, 4);
	assert_string_equal(url, "https://demo.vault.azure.net/keys/a%20b%2Fc%3Fd/%25x"
	                         "?api-version=7.4%20beta");
	free(url);
	azkv_kv_client_free(kv);

	kv = (azkv_kv_client *)0x1;
	assert_int_equal(
	        azkv_kv_client_new("http://demo.vault.azure.net", "7.4", 3, http, cred, &kv, &err),
	        AZKV_ERR_INVALID_ARG);
	assert_null(kv);
	assert_int_equal(azkv_kv_client_new("nope", "7.4", 3, http, cred, &kv, &err),
	                 AZKV_ERR_INVALID_ARG);

	azkv_credential_free(cred);
	azkv_http_free(http);
	azkv_http_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(key_bundle_gives_key_name_version_attributes_and_tags),
	        cmocka_unit_test(managed_disabled_hsm_key_bundle_is_parsed),
	        cmocka_unit_test(oct_hsm_bundle_parses_without_key_material),
	        cmocka_unit_test(bad_key_bundles_are_protocol_errors),
	        cmocka_unit_test(empty_page_with_next_link_continues),
	        cmocka_unit_test(last_page_has_null_next_link_and_versioned_kids),
	        cmocka_unit_test(pages_append_and_key_list_kids_have_no_version),
	        cmocka_unit_test(bad_pages_are_errors_and_leave_earlier_items),
	        cmocka_unit_test(kid_splits_into_name_and_optional_version),
	        cmocka_unit_test(kid_check_names_the_vault_key_and_version_asked_for),
	        cmocka_unit_test(operation_result_value_is_decoded),
	        cmocka_unit_test(bad_operation_results_are_protocol_errors),
	        cmocka_unit_test(error_bodies_map_status_and_fill_code_and_message),
	        cmocka_unit_test(client_construction_checks_the_url_without_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
