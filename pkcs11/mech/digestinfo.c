#include "digestinfo.h"

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

#include "log.h"

CK_RV azkv_digestinfo_parse(const unsigned char *in, size_t in_len, const EVP_MD **md,
                            azkv_bytes *digest)
{
	CK_RV rv = CKR_DATA_INVALID;
	const unsigned char *p = in;
	unsigned char *der = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *value = NULL;
	const ASN1_OBJECT *oid = NULL;
	int ptype = V_ASN1_UNDEF;
	X509_SIG *sig = NULL;

	digest->data = NULL;
	digest->len = 0;
	if (in == NULL || in_len == 0 || in_len > 1024 ||
	    (sig = d2i_X509_SIG(NULL, &p, (long)in_len)) == NULL) {
		azkv_error("CKM_RSA_PKCS: the data to sign is not a DER DigestInfo (a hash "
		           "algorithm and a digest)");
		goto out;
	}
	if ((size_t)(p - in) != in_len) {
		azkv_error("CKM_RSA_PKCS: %zu bytes follow the DigestInfo",
		           in_len - (size_t)(p - in));
		goto out;
	}
	X509_SIG_get0(sig, &alg, &value);
	X509_ALGOR_get0(&oid, &ptype, NULL, alg);
	int nid = OBJ_obj2nid(oid);
	switch (nid) {
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
		*md = EVP_get_digestbynid(nid);
		break;
	default:
		/* The mechanism is one the vault signs with; only this data
		 * (the hash it names) is not: CKR_DATA_INVALID. */
		if (nid != NID_undef && EVP_get_digestbynid(nid) != NULL) {
			azkv_error("CKM_RSA_PKCS: the DigestInfo is of %s; Key Vault signs PKCS#1 "
			           "v1.5 DigestInfos of SHA-256, SHA-384 or SHA-512 only (RS256, "
			           "RS384, RS512) -> CKR_DATA_INVALID",
			           OBJ_nid2sn(nid));
		} else {
			azkv_error("CKM_RSA_PKCS: the DigestInfo's algorithm is not a known hash");
		}
		goto out;
	}
	if (ptype != V_ASN1_NULL) {
		/* The vault encodes NULL parameters; a signature over another
		 * encoding would not verify against this input. */
		azkv_error("CKM_RSA_PKCS: the DigestInfo's hash parameters must be NULL, as the "
		           "vault encodes them");
		goto out;
	}
	if (ASN1_STRING_length(value) != EVP_MD_get_size(*md)) {
		azkv_error("CKM_RSA_PKCS: a %s digest is %d bytes, not %d", OBJ_nid2sn(nid),
		           EVP_MD_get_size(*md), ASN1_STRING_length(value));
		goto out;
	}
	/* DER only: the vault signs the DER encoding. */
	int der_len = i2d_X509_SIG(sig, &der);
	if (der_len < 0 || (size_t)der_len != in_len || memcmp(der, in, in_len) != 0) {
		azkv_error("CKM_RSA_PKCS: the DigestInfo is not DER-encoded");
		goto out;
	}
	if (azkv_bytes_set(digest, ASN1_STRING_get0_data(value),
	                   (size_t)ASN1_STRING_length(value)) != 0) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = CKR_OK;
out:
	OPENSSL_free(der);
	X509_SIG_free(sig);
	return rv;
}
