/* Session secret keys (AES and generic secret), made by C_GenerateKey and
 * C_UnwrapKey. Token objects cannot be created: the token is the vault,
 * and its keys are made with the vault's own tools (or azkv-cmk). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "internal.h"
#include "pkcs11_v3.h"

/* The attribute table of a session secret key (internal.h), one line per
 * row, after the storage rows every session object has (attr_rules.c). */
/* clang-format off */
static const azkv_attr_rule secret_attrs[] = {
        {CKA_KEY_TYPE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_ID, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_START_DATE, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_END_DATE, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_DERIVE, AZKV_FROM_BOOL, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        /* Every use but derivation by default, as SoftHSMv2 (the MACs need
         * CKA_SIGN and CKA_VERIFY; issue 18). */
        {CKA_ENCRYPT, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_DECRYPT, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_SIGN, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_VERIFY, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_WRAP, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_UNWRAP, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_SENSITIVE, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_ONLY_TO_TRUE},
        {CKA_EXTRACTABLE, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_ONLY_TO_FALSE},
        {CKA_WRAP_WITH_TRUSTED, AZKV_FROM_BOOL, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_ONLY_TO_TRUE},
        /* Only a security officer may set it. */
        {CKA_TRUSTED, AZKV_FROM_BOOL, CK_FALSE, AZKV_CREATE_READ_ONLY, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        /* Checked against the key's length and value. */
        {CKA_VALUE_LEN, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_CHECK_VALUE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_LOCAL, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_READ_ONLY, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_KEY_GEN_MECHANISM, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_READ_ONLY, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_ALWAYS_SENSITIVE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_READ_ONLY, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_NEVER_EXTRACTABLE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_READ_ONLY, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        /* Empty: the module does not restrict mechanisms or templates. */
        {CKA_ALLOWED_MECHANISMS, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_NOT_SUPPORTED, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_WRAP_TEMPLATE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_NOT_SUPPORTED, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_UNWRAP_TEMPLATE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_NOT_SUPPORTED, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        /* The secret, kept apart from the attributes (obj->value). */
        {CKA_VALUE, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_APART, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
};
/* clang-format on */

const azkv_attr_rules azkv_secret_key_rules = {
        .kind = "secret key",
        .session_only = "only session keys can be created; the token's keys live in the vault",
        .rows = secret_attrs,
        .n = sizeof(secret_attrs) / sizeof(secret_attrs[0]),
};

/* Everything about the template that does not depend on the key's value:
 * which attributes may appear, the class and key type, CKA_TOKEN. */
static CK_RV check_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_KEY_TYPE *key_type)
{
	static const char fn[] = "secret key template";
	CK_RV rv;
	int present;
	if ((rv = azkv_rules_check_create(&azkv_secret_key_rules, tmpl, n)) != CKR_OK)
		return rv;
	CK_ULONG cls = CKO_SECRET_KEY;
	if ((rv = azkv_tmpl_ulong(tmpl, n, CKA_CLASS, &cls, &present)) != CKR_OK)
		return rv;
	if (cls != CKO_SECRET_KEY) {
		azkv_error("%s: CKA_CLASS 0x%lx is not CKO_SECRET_KEY", fn, (unsigned long)cls);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if ((rv = azkv_tmpl_ulong(tmpl, n, CKA_KEY_TYPE, key_type, &present)) != CKR_OK)
		return rv;
	if (*key_type != CKK_AES && *key_type != CKK_GENERIC_SECRET) {
		azkv_error("%s: key type 0x%lx is not supported (CKK_AES or CKK_GENERIC_SECRET)",
		           fn, (unsigned long)*key_type);
		return CKR_ATTRIBUTE_VALUE_INVALID;
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

CK_RV azkv_secret_key_new(CK_SLOT_ID slot, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                          CK_ULONG n, const unsigned char *value, CK_ULONG value_len,
                          int origin_local, CK_MECHANISM_TYPE keygen_mech, azkv_object **out)
{
	CK_KEY_TYPE key_type = CKK_GENERIC_SECRET;
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

	azkv_object *obj = azkv_obj_alloc(slot, session, CKO_SECRET_KEY, key_type);
	if (obj == NULL)
		return CKR_HOST_MEMORY;
	rv = CKR_HOST_MEMORY;
	if (azkv_bytes_set(&obj->value, value, value_len) != 0)
		goto out;

	/* What the template gives: booleans (else their defaults), strings
	 * and dates (copied as given; else empty). The module's own below. */
	if ((rv = azkv_rules_fill(&azkv_secret_key_rules, &obj->attrs, tmpl, n)) != CKR_OK)
		goto out;
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
	    (rv = azkv_obj_set_unique_id(&obj->attrs)) != CKR_OK)
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
