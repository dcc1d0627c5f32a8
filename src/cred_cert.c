/* Client certificate credential: the app proves itself with a JWT signed
 * by its certificate's key (RFC 7523 client assertion, as MSAL builds it:
 * aud = the token endpoint, iss = sub = the client id, a fresh jti, ten
 * minutes of validity) instead of a secret. The certificate is read once,
 * when the credential is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "b64url.h"
#include "bytes.h"
#include "cred_source.h"
#include "file.h"
#include "log.h"

#define ASSERTION_LIFETIME_S 600
#define CERT_FILE_MAX        (1024 * 1024)

typedef struct cert_source {
	azkv_entra_source entra;
	EVP_PKEY *key;
	char *header_b64; /* the JOSE header, base64url: the same for every assertion */
	azkv_assertion_alg alg;
} cert_source;

/* The OpenSSL error queue's last reason, for messages. */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown reason";
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t len = pass ? strlen(pass) : 0;

	(void)rwflag;
	if (len > (size_t)size)
		return -1;
	memcpy(buf, pass ? pass : "", len);
	return (int)len;
}

/* The whole file, at most CERT_FILE_MAX bytes, in a BUF_MEM (wiped on
 * free). It holds the private key: azkv_file_read refuses what is not a
 * regular file, and a file others may read gets a warning. */
static BUF_MEM *read_whole(const char *path, azkv_err *err)
{
	BUF_MEM *mem = BUF_MEM_new();
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int e = azkv_file_read(path, 0, CERT_FILE_MAX, &buf, &len, &st);

	if (e || !mem || (len > 0 && !BUF_MEM_grow_clean(mem, len))) {
		azkv_err_set(err, e ? AZKV_ERR_CONFIG : AZKV_ERR_NOMEM,
		             "client certificate %s cannot be read: %s (fix the path in "
		             "credential.certificate_file or AZURE_CLIENT_CERTIFICATE_PATH, or its "
		             "permissions)",
		             path, e ? azkv_file_error(e) : "out of memory");
		BUF_MEM_free(mem);
		mem = NULL;
	} else {
		if (len > 0)
			memcpy(mem->data, buf, len);
		azkv_file_warn_unprotected(path, &st, "client certificate with its private key");
	}
	/* Binary (PKCS#12 DER has NULs early): wiped by length. */
	azkv_file_free(buf, len);
	return mem;
}

/* Reads key and certificates from PEM text (any order) or a PKCS#12 file;
 * the leaf is the certificate of the key, the others form its chain. */
static azkv_rc load_certificate(const azkv_cert_options *o, EVP_PKEY **key, X509 **leaf,
                                STACK_OF(X509) * *chain, azkv_err *err)
{
	BUF_MEM *mem = read_whole(o->path, err);
	BIO *bio = NULL;
	PKCS12 *p12 = NULL;
	X509 *x;
	azkv_rc rc = AZKV_OK;

	*key = NULL;
	*leaf = NULL;
	*chain = NULL;
	if (!mem)
		return err ? err->rc : AZKV_ERR_CONFIG;
	*chain = sk_X509_new_null();
	if (!*chain) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "client certificate: out of memory");
		goto out;
	}
	if (mem->length > 0 && memmem(mem->data, mem->length, "-----BEGIN", 10)) {
		bio = BIO_new_mem_buf(mem->data, (int)mem->length);
		*key = bio ? PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)o->password)
		           : NULL;
		BIO_free(bio);
		bio = BIO_new_mem_buf(mem->data, (int)mem->length);
		while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (!*leaf && *key && X509_check_private_key(x, *key) == 1)
				*leaf = x;
			else if (!sk_X509_push(*chain, x))
				X509_free(x);
		}
		if (!*key) {
			rc = azkv_err_set(err, AZKV_ERR_CONFIG,
			                  "client certificate %s holds no private key (or its "
			                  "password is wrong): the PEM file needs the key and the "
			                  "certificate",
			                  o->path);
			goto out;
		}
	} else {
		bio = BIO_new_mem_buf(mem->data, (int)mem->length);
		p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;
		if (!p12 || !PKCS12_parse(p12, o->password ? o->password : "", key, leaf, chain)) {
			rc = azkv_err_set(err, AZKV_ERR_CONFIG,
			                  "client certificate %s is neither PEM nor a PKCS#12 file "
			                  "that this password opens (%s); for PKCS#12, set "
			                  "credential.certificate_password_file",
			                  o->path, ossl_reason());
			goto out;
		}
	}
	if (!*leaf) {
		rc = azkv_err_set(err, AZKV_ERR_CONFIG,
		                  "client certificate %s has no certificate for its private key",
		                  o->path);
		goto out;
	}
	if (!EVP_PKEY_is_a(*key, "RSA")) {
		rc = azkv_err_set(
		        err, AZKV_ERR_CONFIG,
		        "client certificate %s: the key is not RSA (Entra ID takes client "
		        "assertions signed with RSA keys only)",
		        o->path);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(*leaf)) < 0)
		azkv_warn("client certificate %s has expired: Entra ID will refuse it; register a "
		          "new certificate on the app",
		          o->path);
out:
	if (rc != AZKV_OK) {
		EVP_PKEY_free(*key);
		X509_free(*leaf);
		sk_X509_pop_free(*chain, X509_free);
		*key = NULL;
		*leaf = NULL;
		*chain = NULL;
	}
	ERR_clear_error();
	PKCS12_free(p12);
	BIO_free(bio);
	BUF_MEM_free(mem); /* grown with BUF_MEM_grow_clean: wiped */
	return rc;
}

/* base64url of the certificate's digest: x5t (SHA-1) or x5t#S256. */
static char *thumbprint(X509 *cert, const EVP_MD *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	return X509_digest(cert, md, d, &len) ? azkv_b64url_encode(d, len) : NULL;
}

/* Standard base64 (not url) of the DER, as x5c wants (RFC 7515 4.1.6). */
static int add_x5c(cJSON *array, X509 *cert)
{
	unsigned char *der = NULL;
	int len = i2d_X509(cert, &der);
	char *b64 = len > 0 ? malloc(4 * (((size_t)len + 2) / 3) + 1) : NULL;
	int ok = 0;

	if (b64 && EVP_EncodeBlock((unsigned char *)b64, der, len) > 0)
		ok = cJSON_AddItemToArray(array, cJSON_CreateString(b64));
	free(b64);
	OPENSSL_free(der);
	return ok;
}

static char *json_b64url(cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	char *b64 = text ? azkv_b64url_encode((unsigned char *)text, strlen(text)) : NULL;

	free(text);
	return b64;
}

static char *make_header(const azkv_cert_options *o, X509 *leaf, STACK_OF(X509) * chain)
{
	cJSON *h = cJSON_CreateObject();
	cJSON *x5c;
	char *tp = thumbprint(leaf, o->alg == AZKV_ASSERTION_PS256 ? EVP_sha256() : EVP_sha1());
	char *out = NULL;

	if (!h || !tp)
		goto out;
	cJSON_AddStringToObject(h, "alg", o->alg == AZKV_ASSERTION_PS256 ? "PS256" : "RS256");
	cJSON_AddStringToObject(h, "typ", "JWT");
	cJSON_AddStringToObject(h, o->alg == AZKV_ASSERTION_PS256 ? "x5t#S256" : "x5t", tp);
	if (o->send_chain) {
		x5c = cJSON_AddArrayToObject(h, "x5c");
		if (!x5c || !add_x5c(x5c, leaf))
			goto out;
		for (int i = 0; i < sk_X509_num(chain); i++) {
			if (!add_x5c(x5c, sk_X509_value(chain, i)))
				goto out;
		}
	}
	out = json_b64url(h);
out:
	free(tp);
	cJSON_Delete(h);
	return out;
}

/* A random (version 4) UUID for jti. */
static int uuid4(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
	return 0;
}

/* header.claims.signature for the token endpoint of tenant. Owned. */
static azkv_rc make_assertion(cert_source *s, const char *tenant, char **out, azkv_err *err)
{
	cJSON *claims = cJSON_CreateObject();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	char *aud = azkv_entra_token_url(s->entra.app.authority, tenant);
	char *payload = NULL, *input = NULL, *sig_b64 = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0, len;
	char jti[37];
	time_t now = time(NULL);
	azkv_rc rc = AZKV_OK;

	*out = NULL;
	if (!claims || !md || !aud || uuid4(jti) != 0) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "client certificate: out of memory");
		goto out;
	}
	cJSON_AddStringToObject(claims, "aud", aud);
	cJSON_AddStringToObject(claims, "iss", s->entra.app.client_id);
	cJSON_AddStringToObject(claims, "sub", s->entra.app.client_id);
	cJSON_AddStringToObject(claims, "jti", jti);
	cJSON_AddNumberToObject(claims, "nbf", (double)now);
	cJSON_AddNumberToObject(claims, "iat", (double)now);
	cJSON_AddNumberToObject(claims, "exp", (double)(now + ASSERTION_LIFETIME_S));
	payload = json_b64url(claims);
	len = payload ? strlen(s->header_b64) + strlen(payload) + 2 : 0;
	input = len ? malloc(len) : NULL;
	if (!input) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "client certificate: out of memory");
		goto out;
	}
	snprintf(input, len, "%s.%s", s->header_b64, payload);
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, s->key) != 1 ||
	    (s->alg == AZKV_ASSERTION_PS256 &&
	     (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) ||
	    EVP_DigestSign(md, NULL, &sig_len, (unsigned char *)input, strlen(input)) != 1 ||
	    !(sig = malloc(sig_len)) ||
	    EVP_DigestSign(md, sig, &sig_len, (unsigned char *)input, strlen(input)) != 1 ||
	    !(sig_b64 = azkv_b64url_encode(sig, sig_len))) {
		rc = azkv_err_set(err, AZKV_ERR_CRYPTO, "client certificate: signing failed: %s",
		                  ossl_reason());
		goto out;
	}
	len = strlen(input) + strlen(sig_b64) + 2;
	*out = malloc(len);
	if (!*out) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "client certificate: out of memory");
		goto out;
	}
	snprintf(*out, len, "%s.%s", input, sig_b64);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	cJSON_Delete(claims);
	free(aud);
	free(payload);
	free(input);
	free(sig);
	free(sig_b64);
	return rc;
}

static azkv_rc cert_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                              azkv_token *out, azkv_err *err)
{
	cert_source *s = (cert_source *)src;
	const char *t = tenant ? tenant : s->entra.app.tenant;
	char *assertion = NULL;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	/* The assertion's aud is the token endpoint of the tenant asked. */
	rc = make_assertion(s, t, &assertion, err);
	if (rc == AZKV_OK)
		rc = azkv_entra_app_token(&s->entra.app, t, NULL, assertion, scope, out, err);
	/* An assertion is a bearer proof for ten minutes. */
	azkv_secret_str_free(assertion);
	return rc;
}

static void cert_free(azkv_cred_source *src)
{
	cert_source *s = (cert_source *)src;

	free(s->header_b64);
	EVP_PKEY_free(s->key);
	azkv_entra_source_free(&s->entra);
}

static const azkv_cred_source cert_ops = {
        .name = "client_certificate",
        .get_token = cert_get_token,
        .free = cert_free,
};

azkv_rc azkv_src_certificate_new(azkv_http *http, const char *authority, const char *tenant,
                                 const char *client_id, const azkv_cert_options *opts,
                                 azkv_cred_source **out, azkv_err *err)
{
	cert_source *s = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	azkv_rc rc;

	*out = NULL;
	rc = load_certificate(opts, &key, &leaf, &chain, err);
	if (rc != AZKV_OK)
		goto out;
	s = azkv_entra_source_new(sizeof(*s), &cert_ops, http, authority, tenant, client_id, err);
	if (!s) {
		rc = AZKV_ERR_NOMEM;
		goto out;
	}
	s->key = key;
	key = NULL;
	s->alg = opts->alg;
	s->header_b64 = make_header(opts, leaf, chain);
	if (!s->header_b64) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
		goto out;
	}
	{
		/* The thumbprint as the portal shows it: SHA-1, hex. */
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dlen = 0;
		char subject[256] = "", hex[2 * EVP_MAX_MD_SIZE + 1] = "";
		BIO *b = BIO_new(BIO_s_mem());
		int n;

		/* "CN=ci-job,O=...", as the portal and az show a subject. */
		if (b &&
		    X509_NAME_print_ex(b, X509_get_subject_name(leaf), 0, XN_FLAG_RFC2253) >= 0 &&
		    (n = BIO_read(b, subject, sizeof(subject) - 1)) > 0)
			subject[n] = '\0';
		BIO_free(b);
		if (X509_digest(leaf, EVP_sha1(), d, &dlen))
			for (unsigned int i = 0; i < dlen; i++)
				snprintf(hex + 2 * i, 3, "%02X", d[i]);
		azkv_info("client certificate %s: %s, thumbprint %s, %s%s", opts->path, subject,
		          hex, opts->alg == AZKV_ASSERTION_PS256 ? "PS256" : "RS256",
		          opts->send_chain ? ", sending its chain (x5c)" : "");
	}
	*out = &s->entra.base;
	s = NULL;
out:
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	if (s)
		cert_free(&s->entra.base);
	return rc;
}
