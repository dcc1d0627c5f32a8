/* The rules for the files the core reads (file.h): a FIFO is refused at
 * once, not waited on (each test runs under an alarm: a hang kills it),
 * whether read whole, named as http.ca_file, as a certificate object or as
 * the log file; links to secrets are followed and the file they name is
 * judged; a secret file its group or every user may read is named in a
 * warning with the chmod that fixes it; a secret file's copy is wiped
 * whole before it is freed (linked with -Wl,--wrap=free: __wrap_free
 * looks into each block the core frees). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "config.h"
#include "cred_source.h"
#include "file.h"
#include "http.h"
#include "log.h"
#include "object.h"

#define SECRET "fifo-test-secret-value"
#define HANG_S 10 /* far above the few ms a refusal takes */

static char dir[64];
static char log_path[128];
static EVP_PKEY *rsa_key; /* a client certificate's key; made once, RSA takes a while */
static EVP_PKEY *ec_key;  /* another key */

/* ---- free, watched: while watch_len > 0, each block the core frees that
 * is large enough to hold a file of watch_len bytes is searched for
 * watch_needle (bytes from the middle of that file). */
void __real_free(void *p);
void __wrap_free(void *p);

static unsigned char watch_needle[32];
static size_t watch_len;
static int watch_inspected, watch_found;

void __wrap_free(void *p)
{
	size_t n = p && watch_len ? malloc_usable_size(p) : 0;

	if (n >= watch_len && n > 0) {
		watch_inspected++;
		if (memmem(p, n, watch_needle, sizeof(watch_needle)))
			watch_found++;
	}
	__real_free(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/azkv-test-file-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	rsa_key = EVP_RSA_gen(2048);
	ec_key = EVP_EC_gen("P-256");
	return rsa_key && ec_key ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	azkv_log_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Each test starts with an empty log at warn and an alarm. */
static int before(void **state)
{
	(void)state;
	unlink(log_path);
	azkv_log_configure("warn", log_path, NULL);
	alarm(HANG_S);
	return 0;
}

static int after(void **state)
{
	(void)state;
	alarm(0);
	azkv_log_shutdown();
	return 0;
}

static const char *in_dir(const char *name)
{
	static char path[4][128];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	const char *path = in_dir(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static const char *make_fifo(const char *name)
{
	const char *path = in_dir(name);

	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	return path;
}

/* The log's text (static), "" when empty. */
static const char *log_text(void)
{
	static char text[8192];
	FILE *f = fopen(log_path, "r");
	size_t n = 0;

	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

/* A configuration whose client secret is read from path. */
static azkv_rc parse_with_secret_file(const char *path, azkv_config **cfg, azkv_err *err)
{
	char json[512];

	snprintf(json, sizeof(json),
	         "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	         "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	         "\"client_secret_file\":\"%s\"}}",
	         path);
	azkv_err_clear(err);
	return azkv_config_parse(json, "t.json", cfg, err);
}

static void fifo_config_is_refused_at_once(void **state)
{
	const char *fifo = make_fifo("config.fifo");
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	azkv_err_clear(&err);
	/* No writer: a blocking open would wait for ever. */
	assert_int_equal(azkv_config_load(fifo, &cfg, &err), AZKV_ERR_CONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err.message, fifo));
	assert_non_null(strstr(err.message, "not a regular file"));
}

static void fifo_secret_file_is_refused_at_once(void **state)
{
	const char *fifo = make_fifo("secret.fifo");
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(parse_with_secret_file(fifo, &cfg, &err), AZKV_ERR_CONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err.message, "client_secret_file"));
	assert_non_null(strstr(err.message, "not a regular file"));
}

static void directory_and_device_are_refused(void **state)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(azkv_file_read(dir, 0, 1024, &buf, &len, &st), EINVAL);
	assert_int_equal(azkv_file_read("/dev/zero", 0, 1024, &buf, &len, &st), EINVAL);
	assert_null(buf);
}

/* A Kubernetes Secret volume: NAME -> ..data/NAME, read through the link;
 * the mode judged is the file's, not the link's (always 0777). */
static void linked_secret_file_is_read_and_its_target_judged(void **state)
{
	const char *target, *link;
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	mkdir(in_dir("..data"), 0700);
	target = write_file("..data/client-secret", SECRET "\n", 0600);
	link = in_dir("client-secret");
	unlink(link);
	assert_int_equal(symlink("..data/client-secret", link), 0);
	assert_int_equal(parse_with_secret_file(link, &cfg, &err), AZKV_OK);
	assert_string_equal(cfg->credential.client_secret, SECRET);
	azkv_config_free(cfg);
	assert_string_equal(log_text(), "");

	assert_int_equal(chmod(target, 0644), 0);
	assert_int_equal(parse_with_secret_file(link, &cfg, &err), AZKV_OK);
	azkv_config_free(cfg);
	assert_non_null(strstr(log_text(), "readable by every user (mode 0644)"));
}

static void no_follow_refuses_a_link(void **state)
{
	const char *target = write_file("arc.key", "k", 0600);
	const char *link = in_dir("arc-link.key");
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	unlink(link);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(azkv_file_read(link, O_NOFOLLOW, 1024, &buf, &len, &st), ELOOP);
	assert_null(buf);
	assert_int_equal(azkv_file_read(target, O_NOFOLLOW, 1024, &buf, &len, &st), 0);
	assert_string_equal(buf, "k");
	free(buf);
}

static void group_readable_secret_file_is_named_with_its_fix(void **state)
{
	const char *path = write_file("group-secret", SECRET, 0640);
	azkv_config *cfg = NULL;
	azkv_err err;
	char want[256];

	(void)state;
	assert_int_equal(parse_with_secret_file(path, &cfg, &err), AZKV_OK);
	azkv_config_free(cfg);
	assert_non_null(strstr(log_text(), "credential.client_secret_file"));
	assert_non_null(strstr(log_text(), "readable by its group (mode 0640)"));
	snprintf(want, sizeof(want), "run chmod go-rwx %s", path);
	assert_non_null(strstr(log_text(), want));
	assert_null(strstr(log_text(), SECRET));
}

static void private_secret_file_passes_without_a_word(void **state)
{
	const char *path = write_file("private-secret", SECRET, 0600);
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	assert_int_equal(parse_with_secret_file(path, &cfg, &err), AZKV_OK);
	azkv_config_free(cfg);
	assert_string_equal(log_text(), "");
}

static void config_with_inline_secret_readable_by_group_is_named(void **state)
{
	const char *path = write_file("inline.json",
	                              "{\"vaults\":[{\"url\":\"https://a.vault.azure.net\"}],"
	                              "\"credential\":{\"tenant_id\":\"t\",\"client_id\":\"c\","
	                              "\"client_secret\":\"" SECRET "\"}}",
	                              0640);
	azkv_config *cfg = NULL;
	azkv_err err;

	(void)state;
	azkv_err_clear(&err);
	assert_int_equal(azkv_config_load(path, &cfg, &err), AZKV_OK);
	azkv_config_free(cfg);
	assert_non_null(strstr(log_text(), "configuration with credential.client_secret in it"));
	assert_non_null(strstr(log_text(), "readable by its group"));
}

/* A self-signed certificate of key, one hour long. */
static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                            (const unsigned char *)cn, -1, -1, 0),
	                 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* The core's copy of a PKCS#12 client certificate (binary: NULs from its
 * first bytes) is wiped whole before it is freed, not up to its first NUL
 * as a string would be. */
static void pkcs12_certificate_copy_is_wiped_whole(void **state)
{
	const char *path = in_dir("client.pfx");
	X509 *cert = self_signed(rsa_key, "wipe-test");
	PKCS12 *p12 = PKCS12_create("pw", "wipe", rsa_key, cert, NULL, 0, 0, 0, 0, 0);
	azkv_cert_options opts = {.path = path, .password = "pw", .alg = AZKV_ASSERTION_RS256};
	azkv_cred_source *src = NULL;
	unsigned char *der = NULL;
	int der_len;
	azkv_err err;
	azkv_rc rc;
	FILE *f;

	(void)state;
	assert_non_null(p12);
	der_len = i2d_PKCS12(p12, &der);
	assert_true(der_len > 4 * (int)sizeof(watch_needle));
	/* A wipe that stops at the first NUL stops before the needle. */
	assert_non_null(memchr(der, 0, (size_t)der_len / 2));
	memcpy(watch_needle, der + der_len / 2, sizeof(watch_needle));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(der, 1, (size_t)der_len, f), (size_t)der_len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	OPENSSL_free(der);
	PKCS12_free(p12);
	X509_free(cert);

	azkv_err_clear(&err);
	watch_inspected = watch_found = 0;
	watch_len = (size_t)der_len;
	rc = azkv_src_certificate_new(NULL, "https://login.microsoftonline.com", "t", "c", &opts,
	                              &src, &err);
	watch_len = 0;
	assert_int_equal(rc, AZKV_OK);
	src->free(src);
	assert_true(watch_inspected > 0); /* the file's copy was freed, and looked into */
	assert_int_equal(watch_found, 0);
}

static void fifo_or_directory_ca_file_is_refused_at_once(void **state)
{
	azkv_http_config cfg;
	azkv_http *http = NULL;
	azkv_err err;
	char *refused[] = {(char *)make_fifo("ca.fifo"), dir};

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		cfg.ca_file = refused[i];
		azkv_err_clear(&err);
		/* No writer: a blocking open would wait for ever. */
		assert_int_equal(azkv_http_new(&cfg, &http, &err), AZKV_ERR_CONFIG);
		assert_null(http);
		assert_non_null(strstr(err.message, "http.ca_file"));
		assert_non_null(strstr(err.message, refused[i]));
		assert_non_null(strstr(err.message, "not a regular file"));
	}
	cfg.ca_file = (char *)write_file("ca.pem", "trust anchors\n", 0644);
	assert_int_equal(azkv_http_new(&cfg, &http, &err), AZKV_OK);
	azkv_http_free(http);
}

/* What the module logs to stderr while fn runs (static). */
static const char *stderr_of(void (*fn)(const char *), const char *arg)
{
	static char text[4096];
	const char *path = in_dir("stderr");
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f;
	size_t n;

	assert_true(saved >= 0 && fd >= 0);
	fflush(stderr);
	assert_true(dup2(fd, 2) == 2);
	close(fd);
	fn(arg);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static void log_to(const char *path)
{
	azkv_log_configure("warn", path, NULL);
}

static void fifo_log_file_without_reader_is_refused_at_once(void **state)
{
	const char *fifo = make_fifo("log.fifo");
	const char *text;
	char want[256];

	(void)state;
	/* No reader: a blocking open for writing would wait for ever. */
	text = stderr_of(log_to, fifo);
	snprintf(want, sizeof(want), "cannot open log file %s", fifo);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "a FIFO that no process reads"));
	assert_non_null(strstr(text, "logging to stderr"));
}

/* A log collector reading a FIFO is a fair log file. */
static void fifo_log_file_with_reader_gets_the_lines(void **state)
{
	const char *fifo = make_fifo("collector.fifo");
	int reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char text[512];
	ssize_t n;

	(void)state;
	assert_true(reader >= 0);
	azkv_log_configure("warn", fifo, NULL);
	azkv_warn("a line for the collector");
	n = read(reader, text, sizeof(text) - 1);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, "a line for the collector"));
	azkv_log_shutdown();
	close(reader);
}

/* A vault key object (label "k", CKA_ID "id") whose public key is pub. */
static azkv_vault_key vkey;
static azkv_object key_object;

static const azkv_object *vault_key_object(EVP_PKEY *pub)
{
	memset(&vkey, 0, sizeof(vkey));
	memset(&key_object, 0, sizeof(key_object));
	vkey.pub = pub;
	vkey.key.name = (char *)"k";
	vkey.key.version = (char *)"v1";
	vkey.key.jwk.kid = (char *)"https://a.vault.azure.net/keys/k/v1";
	key_object.vkey = &vkey;
	assert_int_equal(azkv_attrs_set(&key_object.attrs, CKA_LABEL, "k", 1), CKR_OK);
	assert_int_equal(azkv_attrs_set(&key_object.attrs, CKA_ID, "id", 2), CKR_OK);
	return &key_object;
}

static void fifo_certificate_object_is_refused_at_once(void **state)
{
	const char *fifo = make_fifo("cert.fifo");
	azkv_object *cert = NULL;
	char want[256];

	(void)state;
	assert_int_equal(azkv_cert_object_new(vault_key_object(rsa_key), fifo, &cert),
	                 CKR_FUNCTION_FAILED);
	assert_null(cert);
	snprintf(want, sizeof(want), "certificate %s: cannot read: not a regular file", fifo);
	assert_non_null(strstr(log_text(), want));
	azkv_attrs_free(&key_object.attrs);
}

static void certificate_object_is_read_from_its_pem_file(void **state)
{
	const char *path = in_dir("cert.pem");
	X509 *x = self_signed(rsa_key, "object-test");
	azkv_object *cert = NULL;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
	X509_free(x);
	assert_int_equal(azkv_cert_object_new(vault_key_object(rsa_key), path, &cert), CKR_OK);
	assert_non_null(cert);
	assert_int_equal(cert->cls, CKO_CERTIFICATE);
	azkv_object_free(cert);
	azkv_attrs_free(&key_object.attrs);
	assert_string_equal(log_text(), "");

	/* Another key's certificate is not shown beside this one. */
	cert = NULL;
	assert_int_equal(azkv_cert_object_new(vault_key_object(ec_key), path, &cert),
	                 CKR_FUNCTION_FAILED);
	assert_null(cert);
	assert_non_null(strstr(log_text(), "does not hold the public key of vault key 'k'"));
	azkv_attrs_free(&key_object.attrs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(fifo_config_is_refused_at_once, before, after),
	        cmocka_unit_test_setup_teardown(fifo_secret_file_is_refused_at_once, before, after),
	        cmocka_unit_test_setup_teardown(directory_and_device_are_refused, before, after),
	        cmocka_unit_test_setup_teardown(linked_secret_file_is_read_and_its_target_judged,
	                                        before, after),
	        cmocka_unit_test_setup_teardown(no_follow_refuses_a_link, before, after),
	        cmocka_unit_test_setup_teardown(group_readable_secret_file_is_named_with_its_fix,
	                                        before, after),
	        cmocka_unit_test_setup_teardown(private_secret_file_passes_without_a_word, before,
	                                        after),
	        cmocka_unit_test_setup_teardown(
	                config_with_inline_secret_readable_by_group_is_named, before, after),
	        cmocka_unit_test_setup_teardown(pkcs12_certificate_copy_is_wiped_whole, before,
	                                        after),
	        cmocka_unit_test_setup_teardown(fifo_or_directory_ca_file_is_refused_at_once,
	                                        before, after),
	        cmocka_unit_test_setup_teardown(fifo_log_file_without_reader_is_refused_at_once,
	                                        before, after),
	        cmocka_unit_test_setup_teardown(fifo_log_file_with_reader_gets_the_lines, before,
	                                        after),
	        cmocka_unit_test_setup_teardown(fifo_certificate_object_is_refused_at_once, before,
	                                        after),
	        cmocka_unit_test_setup_teardown(certificate_object_is_read_from_its_pem_file,
	                                        before, after),
	};

	/* The environment must not move the log elsewhere. */
	unsetenv("AZKV_PKCS11_LOG_FILE");
	unsetenv("AZKV_PKCS11_LOG_LEVEL");
	return cmocka_run_group_tests(tests, setup, teardown);
}
