/* Session secret keys (AES and generic secret), made by C_GenerateKey and
 * C_UnwrapKey. Token objects cannot be created: the token is the vault,
 * and its keys are made with the vault's own tools (or azkv-cmk). */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "object.h"
#include "pkcs11_v3.h"

/* What a caller may put in a secret key template, and what is read-only. */
static int template_attr_allowed(CK_ATTRIBUTE_TYPE type)
{
	switch (type) {
	case CKA_CLASS:
	case CKA_KEY_TYPE:
	case CKA_TOKEN:
	case CKA_PRIVATE:
	case CKA_MODIFIABLE:
	case CKA_COPYABLE:
	case CKA_DESTROYABLE:
	case CKA_LABEL:
	case CKA_ID:
	case CKA_START_DATE:
	case CKA_END_DATE:
	case CKA_DERIVE:
	case CKA_ENCRYPT:
	case CKA_DECRYPT:
	case CKA_SIGN:
	case CKA_VERIFY:
	case CKA_WRAP:
	case CKA_UNWRAP:
	case CKA_SENSITIVE:
	case CKA_EXTRACTABLE:
	case CKA_WRAP_WITH_TRUSTED:
	case CKA_VALUE_LEN:
	case CKA_CHECK_VALUE: /* checked against the value */
		return 1;
	default:
		return 0;
	}
}

static int template_attr_read_only(CK_ATTRIBUTE_TYPE type)
{
	switch (type) {
	case CKA_LOCAL:
	case CKA_KEY_GEN_MECHANISM:
	case CKA_ALWAYS_SENSITIVE:
	case CKA_NEVER_EXTRACTABLE:
	case CKA_TRUSTED: /* only a security officer may set it */
	case CKA_UNIQUE_ID:
		return 1;
	default:
		return 0;
	}
}

/* Everything about the template that does not depend on the key's value:
 * which attributes may appear, the class and key type, CKA_TOKEN. */
static CK_RV check_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_KEY_TYPE *key_type)
{
	CK_RV rv;
	int present;
	for (CK_ULONG i = 0; i < n; i++) {
		if (template_attr_read_only(tmpl[i].type)) {
			azkv_error("secret key template: attribute 0x%lx is read-only",
			           (unsigned long)tmpl[i].type);
			return CKR_ATTRIBUTE_READ_ONLY;
		}
		if (tmpl[i].type == CKA_VALUE) {
			azkv_error("secret key template: CKA_VALUE cannot be given here");
			return CKR_TEMPLATE_INCONSISTENT;
		}
		if (!template_attr_allowed(tmpl[i].type)) {
			azkv_error("secret key template: attribute 0x%lx does not apply to a "
			           "secret key",
			           (unsigned long)tmpl[i].type);
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
	}

	CK_ULONG cls = CKO_SECRET_KEY;
	if ((rv = azkv_tmpl_ulong(tmpl, n, CKA_CLASS, &cls, &present)) != CKR_OK)
		return rv;
	if (cls != CKO_SECRET_KEY) {
		azkv_error("secret key template: CKA_CLASS 0x%lx is not CKO_SECRET_KEY",
		           (unsigned long)cls);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if ((rv = azkv_tmpl_ulong(tmpl, n, CKA_KEY_TYPE, key_type, &present)) != CKR_OK)
		return rv;
	if (*key_type != CKK_AES && *key_type != CKK_GENERIC_SECRET) {
		azkv_error("secret key template: key type 0x%lx is not supported (CKK_AES or "
		           "CKK_GENERIC_SECRET)",
		           (unsigned long)*key_type);
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	CK_BBOOL token = CK_FALSE;
	if ((rv = azkv_tmpl_bool(tmpl, n, CKA_TOKEN, &token, &present)) != CKR_OK)
		return rv;
	if (token) {
		azkv_error("secret key template: CKA_TOKEN=TRUE: only session keys can be "
		           "created; the token's keys live in the vault");
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	/* Every boolean must be a CK_BBOOL. */
	for (CK_ULONG i = 0; i < n; i++) {
		CK_BBOOL b;
		if (tmpl[i].type != CKA_LABEL && tmpl[i].type != CKA_ID &&
		    tmpl[i].type != CKA_START_DATE && tmpl[i].type != CKA_END_DATE &&
		    tmpl[i].type != CKA_CLASS && tmpl[i].type != CKA_KEY_TYPE &&
		    tmpl[i].type != CKA_VALUE_LEN && tmpl[i].type != CKA_CHECK_VALUE &&
		    (rv = azkv_tmpl_bool(&tmpl[i], 1, tmpl[i].type, &b, &present)) != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/* The checks that need the key's length. */
static CK_RV check_length(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_KEY_TYPE key_type,
                          CK_ULONG value_len)
{
	CK_RV rv;
	int present;
	if (key_type == CKK_AES && value_len != 16 && value_len != 24 && value_len != 32) {
		azkv_error("secret key: an AES key must be 16, 24 or 32 bytes, not %lu",
		           (unsigned long)value_len);
		return CKR_KEY_SIZE_RANGE;
	}
	CK_ULONG want_len;
	if ((rv = azkv_tmpl_ulong(tmpl, n, CKA_VALUE_LEN, &want_len, &present)) != CKR_OK)
		return rv;
	if (present && want_len != value_len) {
		azkv_error("secret key template: CKA_VALUE_LEN %lu but the key has %lu bytes",
		           (unsigned long)want_len, (unsigned long)value_len);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

CK_RV azkv_secret_template_check(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_KEY_TYPE key_type = CKK_GENERIC_SECRET;
	if (azkv_tmpl_find(tmpl, n, CKA_KEY_TYPE) == NULL) {
		azkv_error("secret key template: CKA_KEY_TYPE is required");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	return check_template(tmpl, n, &key_type);
}

/* CKA_CHECK_VALUE: the first three bytes of AES-ECB of a zero block for AES
 * keys, of SHA-1 of the value for generic secrets (PKCS#11 3.0). */
static CK_RV set_check_value(azkv_attrs *a, CK_KEY_TYPE kt, const unsigned char *value,
                             CK_ULONG len)
{
	unsigned char out[EVP_MAX_MD_SIZE + 16];
	unsigned int md_len = 0;
	int n = 0;
	int ok;
	if (kt == CKK_AES) {
		static const unsigned char zero[16];
		const EVP_CIPHER *c = len == 16   ? EVP_aes_128_ecb()
		                      : len == 24 ? EVP_aes_192_ecb()
		                                  : EVP_aes_256_ecb();
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		ok = ctx != NULL && EVP_EncryptInit_ex(ctx, c, NULL, value, NULL) &&
		     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
		     EVP_EncryptUpdate(ctx, out, &n, zero, sizeof(zero)) && n == 16;
		EVP_CIPHER_CTX_free(ctx);
	} else {
		ok = EVP_Digest(value, len, out, &md_len, EVP_sha1(), NULL);
	}
	return ok ? azkv_attrs_set(a, CKA_CHECK_VALUE, out, 3) : CKR_FUNCTION_FAILED;
}

/* CKA_UNIQUE_ID: random, as session keys have no name outside the module. */
static CK_RV set_unique_id(azkv_attrs *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	char id[sizeof(r) * 2 + 1];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return CKR_FUNCTION_FAILED;
	/* Not snprintf per byte: every C_UnwrapKey makes a key, and 16
	 * formatted prints were a tenth of its work outside libcurl. */
	for (size_t i = 0; i < sizeof(r); i++) {
		id[2 * i] = hex[r[i] >> 4];
		id[2 * i + 1] = hex[r[i] & 0xf];
	}
	id[sizeof(id) - 1] = '\0';
	return azkv_attrs_set_string(a, CKA_UNIQUE_ID, id);
}

/* The boolean attributes and their defaults for a new session secret key. */
static const struct {
	CK_ATTRIBUTE_TYPE type;
	CK_BBOOL dflt;
} bool_defaults[] = {
        {CKA_TOKEN, CK_FALSE},    {CKA_PRIVATE, CK_FALSE},    {CKA_MODIFIABLE, CK_TRUE},
        {CKA_COPYABLE, CK_TRUE},  {CKA_DESTROYABLE, CK_TRUE}, {CKA_DERIVE, CK_FALSE},
        {CKA_ENCRYPT, CK_TRUE},   {CKA_DECRYPT, CK_TRUE},     {CKA_SIGN, CK_FALSE},
        {CKA_VERIFY, CK_FALSE},   {CKA_WRAP, CK_TRUE},        {CKA_UNWRAP, CK_TRUE},
        {CKA_SENSITIVE, CK_TRUE}, {CKA_EXTRACTABLE, CK_TRUE}, {CKA_WRAP_WITH_TRUSTED, CK_FALSE},
        {CKA_TRUSTED, CK_FALSE},
};

CK_RV azkv_secret_key_new(CK_SLOT_ID slot, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                          CK_ULONG n, const unsigned char *value, CK_ULONG value_len,
                          int origin_local, CK_MECHANISM_TYPE keygen_mech, azkv_object **out)
{
	CK_KEY_TYPE key_type = CKK_GENERIC_SECRET;
	int present;
	CK_RV rv = CKR_HOST_MEMORY;
	if (azkv_tmpl_find(tmpl, n, CKA_KEY_TYPE) == NULL && keygen_mech == CKM_AES_KEY_GEN)
		key_type = CKK_AES;
	else if (azkv_tmpl_find(tmpl, n, CKA_KEY_TYPE) == NULL && !origin_local) {
		/* C_UnwrapKey needs the type of the key it makes. */
		azkv_error("secret key template: CKA_KEY_TYPE is required");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	if ((rv = check_template(tmpl, n, &key_type)) != CKR_OK ||
	    (rv = check_length(tmpl, n, key_type, value_len)) != CKR_OK)
		return rv;

	azkv_object *obj = calloc(1, sizeof(*obj));
	if (obj == NULL)
		return CKR_HOST_MEMORY;
	obj->slot = slot;
	obj->session = session;
	obj->cls = CKO_SECRET_KEY;
	obj->key_type = key_type;
	rv = CKR_HOST_MEMORY;
	if (azkv_bytes_set(&obj->value, value, value_len) != 0)
		goto out;

	for (size_t i = 0; i < sizeof(bool_defaults) / sizeof(bool_defaults[0]); i++) {
		CK_BBOOL v = bool_defaults[i].dflt;
		if ((rv = azkv_tmpl_bool(tmpl, n, bool_defaults[i].type, &v, &present)) != CKR_OK)
			goto out;
		if ((rv = azkv_attrs_set_bool(&obj->attrs, bool_defaults[i].type, v)) != CKR_OK)
			goto out;
	}
	/* Strings and dates are copied as given; empty when not given. */
	static const CK_ATTRIBUTE_TYPE copied[] = {CKA_LABEL, CKA_ID, CKA_START_DATE, CKA_END_DATE};
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		const CK_ATTRIBUTE *t = azkv_tmpl_find(tmpl, n, copied[i]);
		if ((rv = azkv_attrs_set(&obj->attrs, copied[i], t ? t->pValue : NULL,
		                         t ? t->ulValueLen : 0)) != CKR_OK)
			goto out;
	}
	CK_BBOOL sensitive = azkv_attrs_bool(&obj->attrs, CKA_SENSITIVE, CK_TRUE);
	CK_BBOOL extractable = azkv_attrs_bool(&obj->attrs, CKA_EXTRACTABLE, CK_TRUE);
	/* A generated key has always been what its template says; an unwrapped
	 * key has been outside the token, so it never was "always" anything. */
	if ((rv = azkv_attrs_set_ulong(&obj->attrs, CKA_CLASS, CKO_SECRET_KEY)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(&obj->attrs, CKA_KEY_TYPE, key_type)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(&obj->attrs, CKA_VALUE_LEN, value_len)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_LOCAL, origin_local ? CK_TRUE : CK_FALSE)) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_ulong(&obj->attrs, CKA_KEY_GEN_MECHANISM, keygen_mech)) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_ALWAYS_SENSITIVE,
	                              origin_local ? sensitive : CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_NEVER_EXTRACTABLE,
	                              origin_local ? !extractable : CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set(&obj->attrs, CKA_ALLOWED_MECHANISMS, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(&obj->attrs, CKA_WRAP_TEMPLATE, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(&obj->attrs, CKA_UNWRAP_TEMPLATE, NULL, 0)) != CKR_OK ||
	    (rv = set_check_value(&obj->attrs, key_type, value, value_len)) != CKR_OK ||
	    (rv = set_unique_id(&obj->attrs)) != CKR_OK)
		goto out;
	const CK_ATTRIBUTE *want_check = azkv_tmpl_find(tmpl, n, CKA_CHECK_VALUE);
	const CK_ATTRIBUTE *check = azkv_attrs_find(&obj->attrs, CKA_CHECK_VALUE);
	if (want_check != NULL && (want_check->pValue == NULL || want_check->ulValueLen != 3 ||
	                           memcmp(want_check->pValue, check->pValue, 3) != 0)) {
		azkv_error("secret key template: CKA_CHECK_VALUE does not match the key");
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
		goto out;
	}
	*out = obj;
	obj = NULL;
	rv = CKR_OK;
out:
	azkv_object_free(obj);
	return rv;
}
