/* The JSON configuration: valid files, defaults, and one test per kind of
 * error, each checking that the message names what is wrong and never
 * the client secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define SECRET "s3cr3t-Value~with.chars"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/azkv-test-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

/* Parses json expecting failure; checks that the message names every
 * string in must (NULL-terminated) and not the secret. */
static void expect_error(const char *json, azkv_rc want, const char *const *must)
{
	azkv_config *cfg = (azkv_config *)0x1;
	azkv_err err;

	azkv_err_clear(&err);
	assert_int_equal(azkv_config_parse(json, "test.json", &cfg, &err), want);
	assert_null(cfg);
	assert_int_equal(err.rc, want);
	assert_non_null(strstr(err.message, "test.json"));
	for (size_t i = 0; must && must[i]; i++) {
		if (!strstr(err.message, must[i]))
			fail_msg("message \"%s\" does not name \"%s\"", err.message, must[i]);
	}
	if (strstr(err.message, SECRET) || strstr(err.message, "s3cr3t"))
		fail_msg("message \"%s\" shows the secret", err.message);
}

#define MUST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A configuration that is refused (AZKV_ERR_CONFIG) with a message naming
 * each of must: one row per case of a test. */
typedef struct refusal {
	const char *json;
	const char *must[5];
} refusal;

static void each_refused(const refusal *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_error(rows[i].json, AZKV_ERR_CONFIG, rows[i].must);
}

#define EACH_REFUSED(rows) each_refused(rows, sizeof(rows) / sizeof(rows[0]))

#define VAULT "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"

#define CRED                                                                                       \
	"\"credential\": {\"type\": \"client_secret\", \"tenant_id\": \"tenant-1\", "              \
	"\"client_id\": \"client-1\", \"client_secret\": \"" SECRET "\"}"

static void full_config_is_read_with_every_field(void **state)
{
	static const char json[] =
	        "{\n"
	        "  \"vaults\": [ { \"url\": \"https://demo.vault.azure.net/\", \"label\": \"Demo "
	        "KV\" },\n"
	        "              { \"url\": \"https://hsm1.managedhsm.azure.net\" } ],\n"
	        "  \"credential\": { \"type\": \"client_secret\", \"tenant_id\": \"tenant-1\",\n"
	        "     \"client_id\": \"client-1\", \"client_secret\": \"" SECRET "\",\n"
	        "     \"authority_host\": \"https://login.microsoftonline.us/\" },\n"
	        "  \"http\": { \"ca_file\": \"/tmp/ca.pem\", \"connect_to\": \"127.0.0.1:8443\",\n"
	        "     \"connect_timeout_ms\": 1500, \"timeout_ms\": 9000, \"max_retries\": 5 },\n"
	        "  \"log\": { \"level\": \"TRACE\", \"file\": \"/tmp/azkv.log\" },\n"
	        "  \"wrap\": \"vault\",\n"
	        "  \"api_version\": \"7.5\"\n"
	        "}\n";
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_config_parse(json, "full.json", &cfg, &err), AZKV_OK);
	assert_int_equal(cfg->n_vaults, 2);
	assert_string_equal(cfg->vaults[0].url, "https://demo.vault.azure.net");
	assert_string_equal(cfg->vaults[0].label, "Demo KV");
	assert_string_equal(cfg->vaults[1].url, "https://hsm1.managedhsm.azure.net");
	assert_string_equal(cfg->vaults[1].label, "hsm1");
	assert_int_equal(cfg->credential.type, AZKV_CRED_CLIENT_SECRET);
	assert_string_equal(cfg->credential.tenant_id, "tenant-1");
	assert_string_equal(cfg->credential.client_id, "client-1");
	assert_string_equal(cfg->credential.client_secret, SECRET);
	assert_string_equal(cfg->credential.authority_host, "https://login.microsoftonline.us");
	assert_string_equal(cfg->http.ca_file, "/tmp/ca.pem");
	assert_string_equal(cfg->http.connect_to, "127.0.0.1:8443");
	assert_int_equal(cfg->http.connect_timeout_ms, 1500);
	assert_int_equal(cfg->http.timeout_ms, 9000);
	assert_int_equal(cfg->http.retry.max_retries, 5);
	assert_string_equal(cfg->log_level, "TRACE");
	assert_string_equal(cfg->log_file, "/tmp/azkv.log");
	assert_int_equal(cfg->wrap, AZKV_WRAP_VAULT);
	assert_string_equal(cfg->api_version, "7.5");
	assert_string_equal(cfg->source, "full.json");
	azkv_config_free(cfg);
}

static void minimal_config_gets_documented_defaults(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(
	        azkv_config_parse("{\"vaults\":[{\"url\":\"https://demo.vault.azure.net\"}]}",
	                          "min.json", &cfg, &err),
	        AZKV_OK);
	assert_int_equal(cfg->n_vaults, 1);
	assert_string_equal(cfg->vaults[0].label, "demo");
	/* No credential section: the SDKs' DefaultAzureCredential chain. */
	assert_int_equal(cfg->credential.type, AZKV_CRED_DEFAULT);
	assert_null(cfg->credential.client_secret);
	/* The authority comes from the cloud when the credential is made. */
	assert_null(cfg->credential.authority_host);
	assert_ptr_equal(cfg->cloud, azkv_cloud_find("AzureCloud"));
	assert_null(cfg->http.ca_file);
	assert_null(cfg->http.connect_to);
	assert_int_equal(cfg->http.connect_timeout_ms, 5000);
	assert_int_equal(cfg->http.timeout_ms, 30000);
	assert_int_equal(cfg->http.retry.max_retries, 3);
	assert_int_equal(cfg->http.retry.base_delay_ms, 800);
	assert_int_equal(cfg->http.retry.max_delay_ms, 30000);
	assert_int_equal(cfg->http.retry.deadline_ms, 120000);
	assert_int_equal(cfg->credential.n_allowed_tenants, 0);
	assert_null(cfg->log_level);
	assert_null(cfg->log_file);
	assert_int_equal(cfg->wrap, AZKV_WRAP_LOCAL);
	assert_string_equal(cfg->api_version, "7.4");
	azkv_config_free(cfg);
}

static void credential_type_defaults_to_client_secret(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(
	        azkv_config_parse("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	                          "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	                          "\"client_secret\":\"" SECRET "\"}}",
	                          "t.json", &cfg, &err),
	        AZKV_OK);
	assert_int_equal(cfg->credential.type, AZKV_CRED_CLIENT_SECRET);
	azkv_config_free(cfg);
}

static void http_to_loopback_is_allowed(void **state)
{
	static const char *const urls[] = {"http://127.0.0.1:8080", "http://localhost:9",
	                                   "http://[::1]:8443", "https://127.0.0.1:8443"};
	char json[256];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		azkv_config *cfg = NULL;
		azkv_err err;

		snprintf(json, sizeof(json), "{\"vaults\":[{\"url\":\"%s\",\"label\":\"x\"}]}",
		         urls[i]);
		if (azkv_config_parse(json, "t.json", &cfg, &err) != AZKV_OK)
			fail_msg("%s refused: %s", urls[i], err.message);
		assert_string_equal(cfg->vaults[0].url, urls[i]);
		azkv_config_free(cfg);
	}
}

static void load_reads_the_file_and_records_its_path(void **state)
{
	char *path = write_file("c.json", "{\"vaults\":[{\"url\":\"https://k.vault.azure.net\"}]}",
	                        0600);
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_config_load(path, &cfg, &err), AZKV_OK);
	assert_string_equal(cfg->source, path);
	assert_string_equal(cfg->vaults[0].label, "k");
	azkv_config_free(cfg);
}

static void missing_file_is_an_error_naming_it(void **state)
{
	char path[128];
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/nope.json", tmpdir);
	assert_int_equal(azkv_config_load(path, &cfg, &err), AZKV_ERR_CONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "No such file"));
}

/* An installed module not configured yet has no slots (issue 20: p11-kit
 * loads every registered module); a file that is there but wrong, or a
 * missing file that AZKV_PKCS11_CONFIG names, still fails. */
static void module_without_its_default_file_has_no_vaults(void **state)
{
	char path[128];
	azkv_config *cfg = NULL;
	azkv_err err;
	int absent = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.json", tmpdir);
	assert_int_equal(azkv_config_load_module(path, 1, &cfg, &absent, &err), AZKV_OK);
	assert_int_equal(absent, 1);
	assert_int_equal(cfg->n_vaults, 0);
	azkv_config_free(cfg);
	cfg = NULL;
	assert_int_equal(azkv_config_load_module(path, 0, &cfg, &absent, &err), AZKV_ERR_CONFIG);
	assert_int_equal(absent, 0);
	assert_null(cfg);
	assert_non_null(strstr(err.message, "No such file"));
	write_file("wrong.json", "{\"vaults\": []}", 0600);
	snprintf(path, sizeof(path), "%s/wrong.json", tmpdir);
	assert_int_equal(azkv_config_load_module(path, 1, &cfg, &absent, &err), AZKV_ERR_CONFIG);
	assert_int_equal(absent, 0);
	assert_null(cfg);
	assert_non_null(strstr(err.message, "non-empty"));
}

static void malformed_json_reports_line_and_column(void **state)
{
	static const refusal refused[] = {
	        {"{\n  \"vaults\": [\n    { \"url\": \"https://a.vault.azure.net\" \n  ]\n}",
	         {"malformed JSON", "line 4"}},
	        {"{\"vaults\": [], }", {"line 1, column"}},
	        {"", {"malformed JSON"}},
	        {"{} trailing", {"malformed JSON"}},
	        {"[1, 2]", {"JSON object"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void malformed_json_inside_the_secret_does_not_show_it(void **state)
{
	static const refusal refused[] = {
	        {"{\"credential\": {\"client_secret\": \"" SECRET, {"malformed JSON", "line 1"}},
	        {"{\"credential\": {\"client_secret\": " SECRET "}}", {"malformed JSON"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void unknown_keys_are_errors_naming_the_key(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], \"vault\": 1}",
	         {"unknown key \"vault\"", "top level"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], "
	         "\"http\": {\"timeout\": 5}}",
	         {"unknown key \"timeout\"", "\"http\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\", \"lable\": \"x\"}]}",
	         {"unknown key \"lable\"", "vaults[0]"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], "
	         "\"credential\": {\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"clientSecret\":\"" SECRET "\"}}",
	         {"unknown key \"clientSecret\"", "\"credential\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], "
	         "\"log\": {\"levels\": \"warn\"}}",
	         {"unknown key \"levels\"", "\"log\""}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void duplicate_keys_are_errors(void **state)
{
	(void)state;
	expect_error("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], \"wrap\": \"local\", "
	             "\"wrap\": \"vault\"}",
	             AZKV_ERR_CONFIG, MUST("duplicate key \"wrap\""));
}

/* "//" members are comments in every object (config.c, is_comment): the
 * file reads as the same file without them. */
static void comments_are_skipped_in_every_object(void **state)
{
	static const char json[] =
	        "{ \"//\": \"top\", \"//\": \"again\",\n"
	        "  \"vaults\": [ { \"//\": \"v\", \"url\": \"https://demo.vault.azure.net\",\n"
	        "     \"certificates\": { \"//\": \"c\", \"k\": \"/tmp/k.pem\" } } ],\n"
	        "  \"credential\": { \"//\": \"c\", \"type\": \"azure_cli\", \"//\": \"c2\" },\n"
	        "  \"http\": { \"//\": \"h\", \"timeout_ms\": 9000 },\n"
	        "  \"retry\": { \"//\": \"r\", \"max_retries\": 2 },\n"
	        "  \"log\": { \"//\": \"l\", \"level\": \"info\" },\n"
	        "  \"arm\": { \"//\": \"a\", \"subscription_id\": \"s\" } }\n";
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_config_parse(json, "c.json", &cfg, &err), AZKV_OK);
	assert_int_equal(cfg->n_vaults, 1);
	assert_int_equal(cfg->vaults[0].n_certs, 1);
	assert_string_equal(cfg->vaults[0].cert_keys[0], "k");
	assert_int_equal(cfg->credential.type, AZKV_CRED_AZURE_CLI);
	assert_int_equal(cfg->http.timeout_ms, 9000);
	assert_int_equal(cfg->http.retry.max_retries, 2);
	assert_string_equal(cfg->log_level, "info");
	assert_string_equal(cfg->arm_subscription_id, "s");
	azkv_config_free(cfg);
}

/* A comment that is not a string is refused: {"//": {...}} would be a
 * section switched off without saying so, and "//": 5 a value lost. */
static void comments_must_be_strings(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], \"//\": 1}",
	         {"\"//\" in the top level", "must be a string"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\", \"//\": {}}]}",
	         {"\"//\" in vaults[0]", "must be a string"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\", "
	         "\"certificates\": {\"//\": null}}]}",
	         {"\"//\" in vaults[0].certificates", "must be a string"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], "
	         "\"credential\": {\"type\": \"azure_cli\", \"//\": [\"x\"]}}",
	         {"\"//\" in \"credential\"", "must be a string"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}], \"log\": {\"//\": true}}",
	         {"\"//\" in \"log\"", "must be a string"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

/* The example installed in $(sysconfdir)/azkv-pkcs11 is refused as it is
 * (its vault URL is a placeholder, so a copy left unedited fails at once,
 * naming it) and read once the URL is filled in, with the defaults it
 * says it has. */
static void installed_example_is_read_once_its_url_is_set(void **state)
{
	FILE *f = fopen(EXAMPLE_CONFIG, "r");
	char text[8192], *at, edited[8192];
	static const char placeholder[] = "\"https://<vault-name>.vault.azure.net\"";
	size_t len;
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_non_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	assert_true(len > 0 && len < sizeof(text) - 1);
	text[len] = '\0';
	expect_error(text, AZKV_ERR_CONFIG, MUST("vaults[0].url"));

	at = strstr(text, placeholder);
	assert_non_null(at);
	assert_null(strstr(at + 1, placeholder));
	snprintf(edited, sizeof(edited), "%.*s\"https://contoso-cmk.vault.azure.net\"%s",
	         (int)(at - text), text, at + strlen(placeholder));
	assert_null(strstr(edited, placeholder));
	assert_int_equal(azkv_config_parse(edited, "example", &cfg, &err), AZKV_OK);
	assert_int_equal(cfg->n_vaults, 1);
	assert_string_equal(cfg->vaults[0].url, "https://contoso-cmk.vault.azure.net");
	assert_string_equal(cfg->vaults[0].label, "contoso-cmk");
	assert_int_equal(cfg->vaults[0].n_keys, 1);
	assert_null(cfg->vaults[0].pin);
	assert_false(cfg->vaults[0].allow_key_creation);
	assert_false(cfg->vaults[0].allow_rsa_pkcs1_v15_decrypt);
	assert_int_equal(cfg->credential.type, AZKV_CRED_DEFAULT);
	assert_int_equal(cfg->http.connect_timeout_ms, 5000);
	assert_int_equal(cfg->http.timeout_ms, 30000);
	assert_int_equal(cfg->http.retry.max_retries, 3);
	assert_int_equal(cfg->http.retry.base_delay_ms, 800);
	assert_int_equal(cfg->http.retry.max_delay_ms, 30000);
	assert_int_equal(cfg->http.retry.deadline_ms, 120000);
	assert_string_equal(cfg->log_level, "warn");
	assert_int_equal(cfg->wrap, AZKV_WRAP_LOCAL);
	assert_string_equal(cfg->api_version, "7.4");
	azkv_config_free(cfg);
}

static void missing_or_empty_vaults_are_errors(void **state)
{
	static const refusal refused[] = {
	        {"{}", {"\"vaults\" is required"}},
	        {"{\"vaults\": []}", {"\"vaults\"", "non-empty"}},
	        {"{\"vaults\": {\"url\": \"https://a.vault.azure.net\"}}", {"\"vaults\""}},
	        {"{\"vaults\": [{\"label\": \"x\"}]}", {"vaults[0].url is required"}},
	        {"{\"vaults\": [\"https://a.vault.azure.net\"]}", {"vaults[0]", "object"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void bad_vault_urls_are_refused(void **state)
{
	static const struct {
		const char *url;
		const char *why;
	} bad[] = {
	        {"not a url", "is not a URL"},
	        {"https://a.vault.azure.net/keys", "must not have a path"},
	        {"https://a.vault.azure.net?x=1", "query"},
	        {"https://a.vault.azure.net/#frag", "query or fragment"},
	        {"ftp://a.vault.azure.net", "https://"},
	        {"https://user:" SECRET "@a.vault.azure.net", "user information"},
	        {"", "non-empty string"},
	};
	char json[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"vaults\":[{\"url\":\"%s\"}]}", bad[i].url);
		expect_error(json, AZKV_ERR_CONFIG, MUST("vaults[0].url", bad[i].why));
	}
}

/* The "arm" section is azkv-cmk's: endpoint and subscription, checked
 * like every other URL; the module ignores it. */
/* RSA1_5 decryption is opt-in per vault (its padding oracle): false unless
 * the vault says true, and only a boolean says so. */
static void rsa_pkcs1_v15_decrypt_is_opt_in_per_vault(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_config_parse("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"},"
	                                   "{\"url\":\"https://b.vault.azure.net\","
	                                   "\"allow_rsa_pkcs1_v15_decrypt\":true},"
	                                   "{\"url\":\"https://c.vault.azure.net\","
	                                   "\"allow_rsa_pkcs1_v15_decrypt\":false}]}",
	                                   "rsa15.json", &cfg, &err),
	                 AZKV_OK);
	assert_int_equal(cfg->vaults[0].allow_rsa_pkcs1_v15_decrypt, 0);
	assert_int_equal(cfg->vaults[1].allow_rsa_pkcs1_v15_decrypt, 1);
	assert_int_equal(cfg->vaults[2].allow_rsa_pkcs1_v15_decrypt, 0);
	azkv_config_free(cfg);
	expect_error("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	             "\"allow_rsa_pkcs1_v15_decrypt\":\"yes\"}]}",
	             AZKV_ERR_CONFIG,
	             MUST("vaults[0].allow_rsa_pkcs1_v15_decrypt", "true or false"));
}

/* Key creation (C_GenerateKeyPair) is opt-in per vault, like RSA1_5. */
static void key_creation_is_opt_in_per_vault(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_config_parse("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"},"
	                                   "{\"url\":\"https://b.vault.azure.net\","
	                                   "\"allow_key_creation\":true}]}",
	                                   "keygen.json", &cfg, &err),
	                 AZKV_OK);
	assert_int_equal(cfg->vaults[0].allow_key_creation, 0);
	assert_int_equal(cfg->vaults[1].allow_key_creation, 1);
	azkv_config_free(cfg);
	expect_error("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	             "\"allow_key_creation\":1}]}",
	             AZKV_ERR_CONFIG, MUST("vaults[0].allow_key_creation", "true or false"));
}

/* A vault whose PIN is in the file %s. */
#define PIN_FILE_JSON "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"pin_file\":\"%s\"}]}"

/* "pin" or "pin_file" per vault: absent, no PIN; a file gives its first
 * line; both, an empty PIN, a longer one than C_GetTokenInfo allows, or an
 * unreadable file are refused, naming the vault and never the PIN. */
static void vault_pin_is_read_inline_or_from_a_file(void **state)
{
	char json[512], missing[128];
	char *path = write_file("pin", SECRET "\nsecond line\n", 0600);
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	snprintf(json, sizeof(json),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"},"
	         "{\"url\":\"https://b.vault.azure.net\",\"pin\":\"" SECRET "\"},"
	         "{\"url\":\"https://c.vault.azure.net\",\"pin_file\":\"%s\"}]}",
	         path);
	assert_int_equal(azkv_config_parse(json, "pin.json", &cfg, &err), AZKV_OK);
	assert_null(cfg->vaults[0].pin);
	assert_string_equal(cfg->vaults[1].pin, SECRET);
	assert_string_equal(cfg->vaults[2].pin, SECRET);
	azkv_config_free(cfg);

	snprintf(json, sizeof(json),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"pin\":\"" SECRET
	         "\",\"pin_file\":\"%s\"}]}",
	         path);
	expect_error(json, AZKV_ERR_CONFIG, MUST("vaults[0]", "pin or pin_file, not both"));
	snprintf(missing, sizeof(missing), "%s/missing-pin", tmpdir);
	snprintf(json, sizeof(json), PIN_FILE_JSON, missing);
	expect_error(json, AZKV_ERR_CONFIG, MUST("vaults[0].pin_file", missing, "No such file"));
	snprintf(json, sizeof(json), PIN_FILE_JSON, tmpdir);
	expect_error(json, AZKV_ERR_CONFIG, MUST("vaults[0].pin_file", tmpdir));
	snprintf(json, sizeof(json), PIN_FILE_JSON,
	         write_file("empty-pin", "\nthe PIN is on the first line\n", 0600));
	expect_error(json, AZKV_ERR_CONFIG, MUST("vaults[0].pin_file", "empty"));
	expect_error("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"pin\":\"\"}]}",
	             AZKV_ERR_CONFIG, MUST("vaults[0].pin", "non-empty string"));
	expect_error("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"pin\":1234}]}",
	             AZKV_ERR_CONFIG, MUST("vaults[0].pin", "non-empty string"));

	char long_pin[AZKV_PIN_MAX + 2], big[AZKV_PIN_MAX + 128];
	memset(long_pin, '7', sizeof(long_pin) - 1);
	long_pin[sizeof(long_pin) - 1] = '\0';
	snprintf(big, sizeof(big),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"pin\":\"%s\"}]}", long_pin);
	expect_error(big, AZKV_ERR_CONFIG, MUST("vaults[0]", "longer than 256 bytes"));
	long_pin[AZKV_PIN_MAX] = '\0';
	snprintf(big, sizeof(big),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"pin\":\"%s\"}]}", long_pin);
	assert_int_equal(azkv_config_parse(big, "pin.json", &cfg, &err), AZKV_OK);
	assert_int_equal(strlen(cfg->vaults[0].pin), AZKV_PIN_MAX);
	azkv_config_free(cfg);
}

static void arm_section_is_read_and_checked(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(
	        azkv_config_parse("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	                          "\"arm\":{\"endpoint\":\"https://management.azure.com/\","
	                          "\"subscription_id\":\"sub-1\"}}",
	                          "arm.json", &cfg, &err),
	        AZKV_OK);
	assert_string_equal(cfg->arm_endpoint, "https://management.azure.com");
	assert_string_equal(cfg->arm_subscription_id, "sub-1");
	azkv_config_free(cfg);
	assert_int_equal(azkv_config_parse("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}]}",
	                                   "noarm.json", &cfg, &err),
	                 AZKV_OK);
	assert_null(cfg->arm_endpoint);
	assert_null(cfg->arm_subscription_id);
	azkv_config_free(cfg);
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"arm\":{\"subscription\":\"x\"}}",
	         {"unknown key \"subscription\"", "\"arm\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"arm\":{\"endpoint\":\"http://management.azure.com\"}}",
	         {"arm.endpoint", "https://"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"arm\":{\"subscription_id\":\"\"}}",
	         {"arm.subscription_id"}},
	};

	EACH_REFUSED(refused);
}

static void named_keys_are_read_and_checked(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(
	        azkv_config_parse(
	                "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	                "\"keys\":[\"cmk\",\"aifoundry-encryption-key\",\"cmk/0a1b2c\"]}]}",
	                "test.json", &cfg, &err),
	        AZKV_OK);
	assert_int_equal(cfg->vaults[0].n_keys, 3);
	assert_string_equal(cfg->vaults[0].keys[2], "cmk/0a1b2c");
	assert_string_equal(cfg->vaults[0].keys[1], "aifoundry-encryption-key");
	azkv_config_free(cfg);

	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"keys\":[]}]}",
	         {"vaults[0].keys", "non-empty"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"keys\":\"cmk\"}]}",
	         {"vaults[0].keys"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	         "\"keys\":[\"ok\",\"bad_char\"]}]}",
	         {"vaults[0].keys[1]", "not a key name"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"keys\":[\"cmk/\"]}]}",
	         {"vaults[0].keys[0]", "not a key name"}},
	};

	EACH_REFUSED(refused);
}

static void certificates_are_read_and_checked(void **state)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(azkv_config_parse("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	                                   "\"certificates\":{\"cmk\":\"/etc/cmk.pem\","
	                                   "\"cmk/0a1b\":\"/etc/old.pem\"}}]}",
	                                   "test.json", &cfg, &err),
	                 AZKV_OK);
	assert_int_equal(cfg->vaults[0].n_certs, 2);
	assert_string_equal(cfg->vaults[0].cert_keys[1], "cmk/0a1b");
	assert_string_equal(cfg->vaults[0].cert_files[1], "/etc/old.pem");
	azkv_config_free(cfg);

	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\",\"certificates\":[]}]}",
	         {"vaults[0].certificates", "object"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	         "\"certificates\":{\"cmk\":3}}]}",
	         {"vaults[0].certificates.cmk", "PEM"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	         "\"certificates\":{\"bad key\":\"/x.pem\"}}]}",
	         {"not a key name"}},
	};

	EACH_REFUSED(refused);
}

static void plain_http_to_a_remote_host_is_refused(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"http://demo.vault.azure.net\"}]}",
	         {"http://demo.vault.azure.net", "loopback"}},
	        {"{\"vaults\":[{\"url\":\"http://10.0.0.1:8080\"}]}", {"loopback"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\",\"client_secret\":"
	         "\"" SECRET "\",\"authority_host\":\"http://login.microsoftonline.com\"}}",
	         {"credential.authority_host"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void repeated_vaults_and_labels_are_refused(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"},"
	         "{\"url\":\"https://A.vault.azure.net/\"}]}",
	         {"vaults[1]", "vaults[0]"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"},"
	         "{\"url\":\"https://a.managedhsm.azure.net\"}]}",
	         {"label \"a\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\","
	         "\"label\":\"0123456789012345678901234567890123\"}]}",
	         {"longer than 32"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void bad_log_level_is_refused_naming_it(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"log\":{\"level\":\"loud\"}}",
	         {"log.level", "\"loud\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"log\":{\"level\":3}}",
	         {"log.level", "string"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void bad_values_are_refused_naming_the_key(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],\"wrap\":\"remote\"}",
	         {"\"wrap\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"http\":{\"timeout_ms\":-1}}",
	         {"http.timeout_ms", "integer"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"http\":{\"connect_timeout_ms\":1.5}}",
	         {"http.connect_timeout_ms"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"http\":{\"max_retries\":11}}",
	         {"http.max_retries", "0 to 10"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"http\":{\"max_retries\":\"3\"}}",
	         {"http.max_retries"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],\"http\":[]}",
	         {"\"http\" must be an object"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],\"api_version\":\"\"}",
	         {"api_version"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"type\":\"kerberos\"}}",
	         {"credential.type", "managed_identity", "azure_cli"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void client_secret_credential_needs_its_fields(void **state)
{
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"client_id\":\"c\",\"client_secret\":\"" SECRET "\"}}",
	         {"credential.tenant_id is required"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_secret\":\"" SECRET "\"}}",
	         {"credential.client_id is required"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\"}}",
	         {"client_secret_file"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"client_secret\":\"" SECRET "\",\"client_secret_file\":\"/x\"}}",
	         {"not both"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"client_secret\":1234}}",
	         {"credential.client_secret", "string"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"type\":\"environment\",\"client_secret\":\"" SECRET "\"}}",
	         {"credential.client_secret", "environment"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void secret_is_read_from_file_without_trailing_newline(void **state)
{
	char json[512];
	char *path = write_file("secret", SECRET "\r\n\n", 0600);
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	snprintf(json, sizeof(json),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"client_secret_file\":\"%s\"}}",
	         path);
	assert_int_equal(azkv_config_parse(json, "t.json", &cfg, &err), AZKV_OK);
	assert_string_equal(cfg->credential.client_secret, SECRET);
	azkv_config_free(cfg);
}

static void bad_secret_file_is_an_error_naming_the_file(void **state)
{
	char json[512], path[128];
	char *empty;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing-secret", tmpdir);
	snprintf(json, sizeof(json),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"client_secret_file\":\"%s\"}}",
	         path);
	expect_error(json, AZKV_ERR_CONFIG, MUST("client_secret_file", path, "No such file"));

	empty = write_file("empty-secret", "\n", 0600);
	snprintf(json, sizeof(json),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"client_secret_file\":\"%s\"}}",
	         empty);
	expect_error(json, AZKV_ERR_CONFIG, MUST("client_secret_file", "empty"));
}

/* Parses json, which must succeed. */
static azkv_config *parse_ok(const char *json)
{
	azkv_config *cfg = NULL;
	azkv_err err;

	azkv_err_clear(&err);
	if (azkv_config_parse(json, "test.json", &cfg, &err) != AZKV_OK)
		fail_msg("refused: %s (%s)", err.message, json);
	return cfg;
}

static void log_format_is_text_or_json(void **state)
{
	azkv_config *cfg = parse_ok(VAULT "\"log\":{\"format\":\"JSON\"}}");
	static const refusal refused[] = {
	        {VAULT "\"log\":{\"format\":\"xml\"}}", {"log.format", "\"xml\"", "text, json"}},
	        {VAULT "\"log\":{\"format\":true}}", {"log.format", "string"}},
	};

	(void)state;
	assert_string_equal(cfg->log_format, "JSON");
	azkv_config_free(cfg);
	EACH_REFUSED(refused);
}

/* Every credential type with every key it takes (the table in config.c,
 * documented in the README's "Credentials"). */
static void each_credential_type_takes_its_keys(void **state)
{
	char json[1024];
	char *pass = write_file("p12-pass", "pfx-pass\n", 0600);
	azkv_config *cfg;

	(void)state;
	snprintf(json, sizeof(json),
	         VAULT "\"credential\":{\"type\":\"client_certificate\",\"tenant_id\":\"t\","
	               "\"client_id\":\"c\",\"certificate_file\":\"/etc/app.pem\","
	               "\"certificate_password_file\":\"%s\",\"send_certificate_chain\":true,"
	               "\"assertion_alg\":\"PS256\",\"authority_host\":"
	               "\"https://login.microsoftonline.us\"}}",
	         pass);
	cfg = parse_ok(json);
	assert_int_equal(cfg->credential.type, AZKV_CRED_CLIENT_CERTIFICATE);
	assert_string_equal(cfg->credential.certificate_file, "/etc/app.pem");
	assert_string_equal(cfg->credential.certificate_password, "pfx-pass");
	assert_int_equal(cfg->credential.send_certificate_chain, 1);
	assert_int_equal(cfg->credential.assertion_alg, AZKV_ASSERTION_PS256);
	azkv_config_free(cfg);

	cfg = parse_ok(VAULT "\"credential\":{\"type\":\"managed_identity\",\"resource_id\":"
	                     "\"/subscriptions/s/resourceGroups/g/providers/"
	                     "Microsoft.ManagedIdentity/userAssignedIdentities/u\","
	                     "\"imds_endpoint\":\"http://169.254.169.254\","
	                     "\"identity_endpoint\":\"http://localhost:42356/msi/token\","
	                     "\"arc_key_dir\":\"/var/opt/azcmagent/tokens\"}}");
	assert_int_equal(cfg->credential.type, AZKV_CRED_MANAGED_IDENTITY);
	assert_non_null(strstr(cfg->credential.resource_id, "userAssignedIdentities/u"));
	assert_string_equal(cfg->credential.imds_endpoint, "http://169.254.169.254");
	assert_string_equal(cfg->credential.identity_endpoint, "http://localhost:42356/msi/token");
	azkv_config_free(cfg);

	cfg = parse_ok(VAULT "\"credential\":{\"type\":\"workload_identity\",\"tenant_id\":\"t\","
	                     "\"client_id\":\"c\",\"token_file\":\"/var/run/token\"}}");
	assert_int_equal(cfg->credential.type, AZKV_CRED_WORKLOAD_IDENTITY);
	assert_string_equal(cfg->credential.token_file, "/var/run/token");
	azkv_config_free(cfg);

	cfg = parse_ok(VAULT "\"credential\":{\"type\":\"azure_cli\",\"tenant_id\":\"t\","
	                     "\"process_timeout_ms\":20000}}");
	assert_int_equal(cfg->credential.type, AZKV_CRED_AZURE_CLI);
	assert_int_equal(cfg->credential.process_timeout_ms, 20000);
	azkv_config_free(cfg);

	cfg = parse_ok(VAULT "\"credential\":{\"type\":\"default\",\"client_id\":\"mi-client\","
	                     "\"imds_endpoint\":\"https://127.0.0.1:8443\"}}");
	assert_int_equal(cfg->credential.type, AZKV_CRED_DEFAULT);
	assert_string_equal(cfg->credential.client_id, "mi-client");
	azkv_config_free(cfg);

	cfg = parse_ok(VAULT "\"credential\":{\"type\":\"environment\"}}");
	assert_int_equal(cfg->credential.type, AZKV_CRED_ENVIRONMENT);
	azkv_config_free(cfg);
}

static void credential_keys_of_another_type_are_refused(void **state)
{
	(void)state;
	/* The message names the type and what it takes. */
	static const refusal refused[] = {
	        {VAULT "\"credential\":{\"type\":\"managed_identity\",\"tenant_id\":\"t\"}}",
	         {"credential.tenant_id is not used with type managed_identity",
	          "client_id, object_id, resource_id, imds_endpoint"}},
	        {VAULT "\"credential\":{\"type\":\"azure_cli\",\"client_secret\":\"" SECRET "\"}}",
	         {"credential.client_secret", "azure_cli"}},
	        {VAULT "\"credential\":{\"type\":\"client_certificate\",\"tenant_id\":\"t\","
	               "\"client_id\":\"c\"}}",
	         {"credential.certificate_file is required for type client_certificate"}},
	        {VAULT "\"credential\":{\"type\":\"client_certificate\",\"tenant_id\":\"t\","
	               "\"client_id\":\"c\",\"certificate_file\":\"/x\","
	               "\"assertion_alg\":\"ES256\"}}",
	         {"credential.assertion_alg", "RS256", "PS256"}},
	        {VAULT "\"credential\":{\"type\":\"client_certificate\",\"tenant_id\":\"t\","
	               "\"client_id\":\"c\",\"certificate_file\":\"/x\","
	               "\"send_certificate_chain\":\"yes\"}}",
	         {"credential.send_certificate_chain", "true or false"}},
	        {VAULT "\"credential\":{\"type\":\"managed_identity\",\"client_id\":\"a\","
	               "\"object_id\":\"b\"}}",
	         {"one of client_id, object_id or resource_id"}},
	        {VAULT "\"credential\":{\"type\":\"azure_cli\",\"process_timeout_ms\":0}}",
	         {"credential.process_timeout_ms", "1 to 600000"}},
	        {VAULT "\"credential\":{\"type\":\"azure_cli\",\"az\":\"/bin/az\"}}",
	         {"unknown key \"az\"", "azure_cli takes tenant_id"}},
	        {VAULT "\"credential\":{\"type\":\"managed_identity\",\"type\":\"default\"}}",
	         {"duplicate key \"type\""}},
	};

	EACH_REFUSED(refused);
}

/* IMDS speaks plain HTTP at 169.254.169.254 and nowhere else; every
 * other endpoint is https:// or loopback. */
static void identity_endpoints_are_checked(void **state)
{
	static const refusal refused[] = {
	        {VAULT "\"credential\":{\"type\":\"managed_identity\","
	               "\"imds_endpoint\":\"http://10.0.0.4\"}}",
	         {"credential.imds_endpoint", "169.254.169.254"}},
	        {VAULT "\"credential\":{\"type\":\"managed_identity\","
	               "\"imds_endpoint\":\"http://169.254.169.254/metadata\"}}",
	         {"credential.imds_endpoint", "path"}},
	        {VAULT "\"credential\":{\"type\":\"managed_identity\","
	               "\"identity_endpoint\":\"http://169.254.169.254/msi/token\"}}",
	         {"credential.identity_endpoint", "loopback"}},
	        {VAULT "\"credential\":{\"type\":\"workload_identity\","
	               "\"authority_host\":\"http://login.microsoftonline.com\"}}",
	         {"credential.authority_host", "https://"}},
	};

	(void)state;
	EACH_REFUSED(refused);
}

static void certificate_password_file_is_read_like_the_secret(void **state)
{
	char json[512], path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-pass", tmpdir);
	snprintf(json, sizeof(json),
	         VAULT "\"credential\":{\"type\":\"client_certificate\",\"tenant_id\":\"t\","
	               "\"client_id\":\"c\",\"certificate_file\":\"/x\","
	               "\"certificate_password_file\":\"%s\"}}",
	         path);
	expect_error(json, AZKV_ERR_CONFIG,
	             MUST("credential.certificate_password_file", path, "No such file"));
}

/* "cloud" names a row of the cloud table; without it, the vaults' host
 * names tell. */
static void cloud_is_named_or_follows_the_vaults(void **state)
{
	azkv_config *cfg;

	(void)state;
	cfg = parse_ok(VAULT "\"cloud\":\"AzureUSGovernment\"}");
	assert_string_equal(cfg->cloud->name, "AzureUSGovernment");
	assert_string_equal(cfg->cloud->authority_host, "https://login.microsoftonline.us");
	azkv_config_free(cfg);
	cfg = parse_ok("{\"vaults\":[{\"url\":\"https://cmk.vault.azure.cn\"}]}");
	assert_string_equal(cfg->cloud->name, "AzureChinaCloud");
	assert_string_equal(cfg->cloud->vault_scope, "https://vault.azure.cn/.default");
	azkv_config_free(cfg);
	cfg = parse_ok("{\"vaults\":[{\"url\":\"https://127.0.0.1:8443\",\"label\":\"x\"},"
	               "{\"url\":\"https://h.managedhsm.usgovcloudapi.net\"}]}");
	assert_string_equal(cfg->cloud->name, "AzureUSGovernment");
	azkv_config_free(cfg);
	cfg = parse_ok(VAULT "\"cloud\":\"china\"}");
	assert_string_equal(cfg->cloud->arm_scope, "https://management.chinacloudapi.cn/.default");
	azkv_config_free(cfg);
	expect_error(VAULT "\"cloud\":\"AzureGermanCloud\"}", AZKV_ERR_CONFIG,
	             MUST("\"cloud\"", "AzureCloud", "AzureChinaCloud", "AzureUSGovernment"));
}

/* The table rows of each cloud, as `az cloud show` gives them. */
static void cloud_table_finds_hosts_of_each_cloud(void **state)
{
	int hsm = -1;

	(void)state;
	assert_string_equal(azkv_cloud_for_vault_host("x.vault.azure.net", &hsm)->name,
	                    "AzureCloud");
	assert_int_equal(hsm, 0);
	assert_string_equal(azkv_cloud_for_vault_host("X.MANAGEDHSM.AZURE.NET", &hsm)->hsm_scope,
	                    "https://managedhsm.azure.net/.default");
	assert_int_equal(hsm, 1);
	assert_string_equal(
	        azkv_cloud_for_vault_host("x.vault.usgovcloudapi.net", NULL)->arm_endpoint,
	        "https://management.usgovcloudapi.net");
	assert_string_equal(
	        azkv_cloud_for_vault_host("x.managedhsm.azure.cn", &hsm)->authority_host,
	        "https://login.chinacloudapi.cn");
	assert_null(azkv_cloud_for_vault_host("vault.azure.net", NULL));
	assert_null(azkv_cloud_for_vault_host("x.notvault.azure.net", NULL));
	assert_null(azkv_cloud_for_vault_host("evil-vault.azure.net.example.com", NULL));
	assert_ptr_equal(azkv_cloud_find("usgov"), azkv_cloud_find("AZUREUSGOVERNMENT"));
	assert_null(azkv_cloud_find("mars"));
}

/* AZKV_PKCS11_CA_FILE and AZKV_PKCS11_CONNECT_TO win over the file, as
 * the log variables do: how a run with no file reaches a test server. */
static void environment_overrides_http_settings(void **state)
{
	azkv_config *cfg;
	azkv_err err;

	(void)state;
	setenv("AZKV_PKCS11_CA_FILE", "/tmp/other-ca.pem", 1);
	setenv("AZKV_PKCS11_CONNECT_TO", "127.0.0.1:9443", 1);
	cfg = parse_ok(VAULT "\"http\":{\"ca_file\":\"/tmp/ca.pem\"}}");
	assert_string_equal(cfg->http.ca_file, "/tmp/other-ca.pem");
	assert_string_equal(cfg->http.connect_to, "127.0.0.1:9443");
	azkv_config_free(cfg);
	/* And in a run with no configuration file at all. */
	assert_int_equal(azkv_config_new_default(&cfg, &err), AZKV_OK);
	assert_int_equal(cfg->n_vaults, 0);
	assert_int_equal(cfg->credential.type, AZKV_CRED_DEFAULT);
	assert_string_equal(cfg->http.connect_to, "127.0.0.1:9443");
	assert_string_equal(cfg->cloud->name, "AzureCloud");
	azkv_config_free(cfg);
	unsetenv("AZKV_PKCS11_CA_FILE");
	unsetenv("AZKV_PKCS11_CONNECT_TO");
	cfg = parse_ok(VAULT "\"http\":{\"ca_file\":\"/tmp/ca.pem\"}}");
	assert_string_equal(cfg->http.ca_file, "/tmp/ca.pem");
	assert_null(cfg->http.connect_to);
	azkv_config_free(cfg);
}

static void config_path_comes_from_the_environment_else_sysconfdir(void **state)
{
	const char *p;

	(void)state;
	setenv("AZKV_PKCS11_CONFIG", "/srv/azkv.json", 1);
	assert_string_equal(azkv_config_path(), "/srv/azkv.json");
	setenv("AZKV_PKCS11_CONFIG", "", 1);
	p = azkv_config_path();
	assert_true(strlen(p) > strlen("/azkv-pkcs11/config.json"));
	assert_string_equal(p + strlen(p) - strlen("/azkv-pkcs11/config.json"),
	                    "/azkv-pkcs11/config.json");
	unsetenv("AZKV_PKCS11_CONFIG");
	assert_string_equal(azkv_config_path(), p);
}

static void free_is_null_safe(void **state)
{
	(void)state;
	azkv_config_free(NULL);
}

/* "retry" holds the request loops' policy; http.max_retries is its older
 * name for retry.max_retries, and both at once is a mistake. */
static void retry_section_sets_the_policy(void **state)
{
	azkv_config *cfg;

	(void)state;
	cfg = parse_ok("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	               "\"retry\":{\"max_retries\":6,\"base_delay_ms\":100,"
	               "\"max_delay_ms\":2000,\"deadline_ms\":0}}");
	assert_int_equal(cfg->http.retry.max_retries, 6);
	assert_int_equal(cfg->http.retry.base_delay_ms, 100);
	assert_int_equal(cfg->http.retry.max_delay_ms, 2000);
	assert_int_equal(cfg->http.retry.deadline_ms, 0);
	azkv_config_free(cfg);
	cfg = parse_ok("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	               "\"http\":{\"max_retries\":1}}");
	assert_int_equal(cfg->http.retry.max_retries, 1);
	azkv_config_free(cfg);
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"http\":{\"max_retries\":1},\"retry\":{\"max_retries\":2}}",
	         {"retry.max_retries", "http.max_retries", "not both"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"retry\":{\"max_delay_ms\":10,\"base_delay_ms\":100}}",
	         {"retry.max_delay_ms", "retry.base_delay_ms"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"retry\":{\"delay\":10}}",
	         {"unknown key \"delay\"", "\"retry\""}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"retry\":{\"deadline_ms\":-5}}",
	         {"retry.deadline_ms", "integer"}},
	};

	EACH_REFUSED(refused);
}

static void additionally_allowed_tenants_are_read(void **state)
{
	azkv_config *cfg;

	(void)state;
	cfg = parse_ok("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	               "\"credential\":{\"type\":\"azure_cli\","
	               "\"additionally_allowed_tenants\":[\"contoso.onmicrosoft.com\",\"*\"]}}");
	assert_int_equal(cfg->credential.n_allowed_tenants, 2);
	assert_string_equal(cfg->credential.allowed_tenants[0], "contoso.onmicrosoft.com");
	assert_string_equal(cfg->credential.allowed_tenants[1], "*");
	azkv_config_free(cfg);
	static const refusal refused[] = {
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"type\":\"azure_cli\","
	         "\"additionally_allowed_tenants\":\"*\"}}",
	         {"credential.additionally_allowed_tenants", "array"}},
	        {"{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"type\":\"azure_cli\","
	         "\"additionally_allowed_tenants\":[\"a/b\"]}}",
	         {"additionally_allowed_tenants[0]"}},
	};

	EACH_REFUSED(refused);
	/* A managed identity ignores a challenge's tenant, as in the SDKs. */
	expect_error("{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	             "\"credential\":{\"type\":\"managed_identity\","
	             "\"additionally_allowed_tenants\":[\"*\"]}}",
	             AZKV_ERR_CONFIG, MUST("additionally_allowed_tenants", "managed_identity"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(full_config_is_read_with_every_field),
	        cmocka_unit_test(minimal_config_gets_documented_defaults),
	        cmocka_unit_test(retry_section_sets_the_policy),
	        cmocka_unit_test(additionally_allowed_tenants_are_read),
	        cmocka_unit_test(credential_type_defaults_to_client_secret),
	        cmocka_unit_test(http_to_loopback_is_allowed),
	        cmocka_unit_test(load_reads_the_file_and_records_its_path),
	        cmocka_unit_test(missing_file_is_an_error_naming_it),
	        cmocka_unit_test(module_without_its_default_file_has_no_vaults),
	        cmocka_unit_test(malformed_json_reports_line_and_column),
	        cmocka_unit_test(malformed_json_inside_the_secret_does_not_show_it),
	        cmocka_unit_test(unknown_keys_are_errors_naming_the_key),
	        cmocka_unit_test(duplicate_keys_are_errors),
	        cmocka_unit_test(comments_are_skipped_in_every_object),
	        cmocka_unit_test(comments_must_be_strings),
	        cmocka_unit_test(installed_example_is_read_once_its_url_is_set),
	        cmocka_unit_test(missing_or_empty_vaults_are_errors),
	        cmocka_unit_test(bad_vault_urls_are_refused),
	        cmocka_unit_test(rsa_pkcs1_v15_decrypt_is_opt_in_per_vault),
	        cmocka_unit_test(key_creation_is_opt_in_per_vault),
	        cmocka_unit_test(vault_pin_is_read_inline_or_from_a_file),
	        cmocka_unit_test(arm_section_is_read_and_checked),
	        cmocka_unit_test(named_keys_are_read_and_checked),
	        cmocka_unit_test(certificates_are_read_and_checked),
	        cmocka_unit_test(plain_http_to_a_remote_host_is_refused),
	        cmocka_unit_test(repeated_vaults_and_labels_are_refused),
	        cmocka_unit_test(bad_log_level_is_refused_naming_it),
	        cmocka_unit_test(log_format_is_text_or_json),
	        cmocka_unit_test(bad_values_are_refused_naming_the_key),
	        cmocka_unit_test(client_secret_credential_needs_its_fields),
	        cmocka_unit_test(secret_is_read_from_file_without_trailing_newline),
	        cmocka_unit_test(bad_secret_file_is_an_error_naming_the_file),
	        cmocka_unit_test(each_credential_type_takes_its_keys),
	        cmocka_unit_test(credential_keys_of_another_type_are_refused),
	        cmocka_unit_test(identity_endpoints_are_checked),
	        cmocka_unit_test(certificate_password_file_is_read_like_the_secret),
	        cmocka_unit_test(cloud_is_named_or_follows_the_vaults),
	        cmocka_unit_test(cloud_table_finds_hosts_of_each_cloud),
	        cmocka_unit_test(environment_overrides_http_settings),
	        cmocka_unit_test(config_path_comes_from_the_environment_else_sysconfdir),
	        cmocka_unit_test(free_is_null_safe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
