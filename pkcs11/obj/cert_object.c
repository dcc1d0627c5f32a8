/* Certificate objects: an X.509 certificate from a PEM file named in the
 * configuration, shown beside the vault key it certifies (same CKA_ID and
 * label). Programs such as Java's keystore list a key only together with
 * its certificate. The certificate must hold the vault key's public key. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "file.h"
#include "log.h"
#include "internal.h"
#include "pkcs11_v3.h"

/* A certificate with a long chain after it stays far below this. */
#define CERT_PEM_MAX (1024 * 1024)

/* DER of a certificate part, as an attribute. */
typedef int (*i2d_fn)(const void *, unsigned char **);

static CK_RV set_der(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, const void *obj, i2d_fn i2d)
{
	unsigned char *der = NULL;
	int len = i2d(obj, &der);
	if (len <= 0)
		return CKR_FUNCTION_FAILED;
	CK_RV rv = azkv_attrs_set(a, type, der, (CK_ULONG)len);
	OPENSSL_free(der);
	return rv;
}

static int i2d_name(const void *name, unsigned char **out)
{
	return i2d_X509_NAME((const X509_NAME *)name, out);
}

static int i2d_serial(const void *serial, unsigned char **out)
{
	return i2d_ASN1_INTEGER((const ASN1_INTEGER *)serial, out);
}

static int i2d_cert(const void *cert, unsigned char **out)
{
	return i2d_X509((const X509 *)cert, out);
}

static int i2d_pubkey(const void *cert, unsigned char **out)
{
	return i2d_X509_PUBKEY(X509_get_X509_PUBKEY((const X509 *)cert), out);
}

CK_RV azkv_cert_object_new(const azkv_object *key, const char *pem_path, azkv_object **out)
{
	CK_RV rv = CKR_FUNCTION_FAILED;
	azkv_object *obj = NULL;
	X509 *cert = NULL;
	struct stat st;
	char *pem = NULL;
	size_t pem_len = 0;
	/* A regular file only: a FIFO must not hang C_FindObjects. */
	int e = azkv_file_read(pem_path, 0, CERT_PEM_MAX, &pem, &pem_len, &st);
	if (e) {
		azkv_warn("certificate %s: cannot read: %s", pem_path, azkv_file_error(e));
		return CKR_FUNCTION_FAILED;
	}
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	free(pem);
	if (cert == NULL) {
		azkv_warn("certificate %s: not a PEM X.509 certificate", pem_path);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key->vkey->pub) != 1) {
		azkv_warn("certificate %s does not hold the public key of vault key '%s' "
		          "version %s; not shown",
		          pem_path, key->vkey->key.name, key->vkey->key.version);
		goto out;
	}
	rv = CKR_HOST_MEMORY;
	obj = calloc(1, sizeof(*obj));
	if (obj == NULL)
		goto out;
	obj->slot = key->slot;
	obj->cls = CKO_CERTIFICATE;
	obj->key_type = CK_UNAVAILABLE_INFORMATION;
	azkv_attrs *a = &obj->attrs;
	const CK_ATTRIBUTE *label = azkv_attrs_find(&key->attrs, CKA_LABEL);
	const CK_ATTRIBUTE *id = azkv_attrs_find(&key->attrs, CKA_ID);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char unique[1100];
	snprintf(unique, sizeof(unique), "%s#certificate", key->vkey->key.jwk.kid);
	if (!X509_digest(cert, EVP_sha1(), md, &md_len)) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	if ((rv = azkv_attrs_set_ulong(a, CKA_CLASS, CKO_CERTIFICATE)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(a, CKA_CERTIFICATE_TYPE, CKC_X_509)) != CKR_OK ||
	    (rv = azkv_obj_set_vault_storage(a, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_TRUSTED, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(a, CKA_CERTIFICATE_CATEGORY, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(a, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_LABEL, label->pValue, label->ulValueLen)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_ID, id->pValue, id->ulValueLen)) != CKR_OK ||
	    (rv = azkv_attrs_set_string(a, CKA_UNIQUE_ID, unique)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_CHECK_VALUE, md, 3)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_START_DATE, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_END_DATE, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_URL, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_HASH_OF_ISSUER_PUBLIC_KEY, NULL, 0)) != CKR_OK ||
	    (rv = set_der(a, CKA_SUBJECT, X509_get_subject_name(cert), i2d_name)) != CKR_OK ||
	    (rv = set_der(a, CKA_ISSUER, X509_get_issuer_name(cert), i2d_name)) != CKR_OK ||
	    (rv = set_der(a, CKA_SERIAL_NUMBER, X509_get0_serialNumber(cert), i2d_serial)) !=
	            CKR_OK ||
	    (rv = set_der(a, CKA_VALUE, cert, i2d_cert)) != CKR_OK ||
	    (rv = set_der(a, CKA_PUBLIC_KEY_INFO, cert, i2d_pubkey)) != CKR_OK)
		goto out;
	*out = obj;
	obj = NULL;
	rv = CKR_OK;
out:
	azkv_object_free(obj);
	X509_free(cert);
	return rv;
}
