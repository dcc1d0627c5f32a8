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

/* One row per attribute of a session secret key: whether a template may
 * give it when the key is made (C_GenerateKey, C_UnwrapKey,
 * C_CreateObject), its value when not given, and whether C_SetAttributeValue
 * or C_CopyObject may change it afterwards. Every row is on every key; an
 * attribute without a row does not apply to a secret key. */
typedef enum {
	FROM_BOOL,   /* a CK_BBOOL from the template, else dflt */
	FROM_BYTES,  /* copied from the template, else empty (strings, dates) */
	FROM_MODULE, /* set by the module; a template's value is checked */
} origin;

typedef enum {
	CREATE_GIVEN,         /* the template may give it */
	CREATE_READ_ONLY,     /* CKR_ATTRIBUTE_READ_ONLY in a template */
	CREATE_NOT_SUPPORTED, /* not taken in a template: CKR_ATTRIBUTE_TYPE_INVALID */
	CREATE_APART,         /* CKA_VALUE: travels apart from the template */
} at_create;

typedef enum {
	CHANGE_NEVER,
	CHANGE_IF_MODIFIABLE, /* C_SetAttributeValue (of a modifiable key) and C_CopyObject */
	CHANGE_IN_COPY,       /* C_CopyObject only */
} change_rule;

/* Which way a boolean may change. Protections only move one way: a
 * sensitive key cannot become readable, an unextractable one cannot
 * become extractable. */
typedef enum {
	EITHER_WAY,
	ONLY_TO_TRUE,
	ONLY_TO_FALSE,
	ALWAYS_FALSE, /* CKA_TOKEN: only session keys are made here */
} direction;

/* One line per row: */
/* clang-format off */
static const struct secret_attr {
	CK_ATTRIBUTE_TYPE type;
	origin from;
	CK_BBOOL dflt; /* FROM_BOOL only */
	at_create create;
	change_rule change;
	direction dir;
} secret_attrs[] = {
        {CKA_CLASS, FROM_MODULE, CK_FALSE, CREATE_GIVEN, CHANGE_NEVER, EITHER_WAY},
        {CKA_KEY_TYPE, FROM_MODULE, CK_FALSE, CREATE_GIVEN, CHANGE_NEVER, EITHER_WAY},
        {CKA_TOKEN, FROM_BOOL, CK_FALSE, CREATE_GIVEN, CHANGE_IN_COPY, ALWAYS_FALSE},
        {CKA_PRIVATE, FROM_BOOL, CK_FALSE, CREATE_GIVEN, CHANGE_IN_COPY, EITHER_WAY},
        {CKA_MODIFIABLE, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IN_COPY, EITHER_WAY},
        {CKA_COPYABLE, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, ONLY_TO_FALSE},
        {CKA_DESTROYABLE, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IN_COPY, EITHER_WAY},
        {CKA_LABEL, FROM_BYTES, CK_FALSE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_ID, FROM_BYTES, CK_FALSE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_START_DATE, FROM_BYTES, CK_FALSE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_END_DATE, FROM_BYTES, CK_FALSE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_DERIVE, FROM_BOOL, CK_FALSE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        /* Every use but derivation by default, as SoftHSMv2 (the MACs need
         * CKA_SIGN and CKA_VERIFY; issue 18). */
        {CKA_ENCRYPT, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_DECRYPT, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_SIGN, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_VERIFY, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_WRAP, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_UNWRAP, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, EITHER_WAY},
        {CKA_SENSITIVE, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, ONLY_TO_TRUE},
        {CKA_EXTRACTABLE, FROM_BOOL, CK_TRUE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, ONLY_TO_FALSE},
        {CKA_WRAP_WITH_TRUSTED, FROM_BOOL, CK_FALSE, CREATE_GIVEN, CHANGE_IF_MODIFIABLE, ONLY_TO_TRUE},
        /* Only a security officer may set it. */
        {CKA_TRUSTED, FROM_BOOL, CK_FALSE, CREATE_READ_ONLY, CHANGE_NEVER, EITHER_WAY},
        /* Checked against the key's length and value. */
        {CKA_VALUE_LEN, FROM_MODULE, CK_FALSE, CREATE_GIVEN, CHANGE_NEVER, EITHER_WAY},
        {CKA_CHECK_VALUE, FROM_MODULE, CK_FALSE, CREATE_GIVEN, CHANGE_NEVER, EITHER_WAY},
        {CKA_LOCAL, FROM_MODULE, CK_FALSE, CREATE_READ_ONLY, CHANGE_NEVER, EITHER_WAY},
        {CKA_KEY_GEN_MECHANISM, FROM_MODULE, CK_FALSE, CREATE_READ_ONLY, CHANGE_NEVER, EITHER_WAY},
        {CKA_ALWAYS_SENSITIVE, FROM_MODULE, CK_FALSE, CREATE_READ_ONLY, CHANGE_NEVER, EITHER_WAY},
        {CKA_NEVER_EXTRACTABLE, FROM_MODULE, CK_FALSE, CREATE_READ_ONLY, CHANGE_NEVER, EITHER_WAY},
        {CKA_UNIQUE_ID, FROM_MODULE, CK_FALSE, CREATE_READ_ONLY, CHANGE_NEVER, EITHER_WAY},
        /* Empty: the module does not restrict mechanisms or templates. */
        {CKA_ALLOWED_MECHANISMS, FROM_MODULE, CK_FALSE, CREATE_NOT_SUPPORTED, CHANGE_NEVER, EITHER_WAY},
        {CKA_WRAP_TEMPLATE, FROM_MODULE, CK_FALSE, CREATE_NOT_SUPPORTED, CHANGE_NEVER, EITHER_WAY},
        {CKA_UNWRAP_TEMPLATE, FROM_MODULE, CK_FALSE, CREATE_NOT_SUPPORTED, CHANGE_NEVER, EITHER_WAY},
        /* The secret, kept apart from the attributes (obj->value). */
        {CKA_VALUE, FROM_MODULE, CK_FALSE, CREATE_APART, CHANGE_NEVER, EITHER_WAY},
};
/* clang-format on */

#define N_SECRET_ATTRS (sizeof(secret_attrs) / sizeof(secret_attrs[0]))

/* type's row; NULL when type does not apply to a secret key. */
static const struct secret_attr *row_of(CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < N_SECRET_ATTRS; i++)
		if (secret_attrs[i].type == type)
			return &secret_attrs[i];
	return NULL;
}

/* A CK_TOKEN=TRUE: only session keys are made (fn names the call). */
static CK_RV check_always_false(const struct secret_attr *row, CK_BBOOL v, const char *fn)
{
	if (row->dir != ALWAYS_FALSE || !v)
		return CKR_OK;
	azkv_error("%s: %s=TRUE: only session keys can be created; the token's keys live in the "
	           "vault",
	           fn, azkv_attr_name(row->type));
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

/* Everything about the template that does not depend on the key's value:
 * which attributes may appear, the class and key type, CKA_TOKEN. */
static CK_RV check_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_KEY_TYPE *key_type)
{
	static const char fn[] = "secret key template";
	CK_RV rv;
	int present;
	for (CK_ULONG i = 0; i < n; i++) {
		const struct secret_attr *row = row_of(tmpl[i].type);
		at_create create = row != NULL ? row->create : CREATE_NOT_SUPPORTED;
		if (create == CREATE_READ_ONLY) {
			azkv_error("%s: attribute 0x%lx is read-only", fn,
			           (unsigned long)tmpl[i].type);
			return CKR_ATTRIBUTE_READ_ONLY;
		}
		if (create == CREATE_APART) {
			azkv_error("%s: CKA_VALUE cannot be given here", fn);
			return CKR_TEMPLATE_INCONSISTENT;
		}
		if (create == CREATE_NOT_SUPPORTED) {
			azkv_error("%s: attribute 0x%lx does not apply to a secret key", fn,
			           (unsigned long)tmpl[i].type);
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
	}

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
	/* Every boolean must be a CK_BBOOL, and CKA_TOKEN false. */
	for (size_t r = 0; r < N_SECRET_ATTRS; r++) {
		CK_BBOOL v = CK_FALSE;
		if (secret_attrs[r].from == FROM_BOOL &&
		    ((rv = azkv_tmpl_bool(tmpl, n, secret_attrs[r].type, &v, &present)) != CKR_OK ||
		     (rv = check_always_false(&secret_attrs[r], v, fn)) != CKR_OK))
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

	/* What the template gives: booleans (else their defaults), strings
	 * and dates (copied as given; else empty). The module's own below. */
	for (size_t i = 0; i < N_SECRET_ATTRS; i++) {
		const struct secret_attr *row = &secret_attrs[i];
		CK_BBOOL v = row->dflt;
		const CK_ATTRIBUTE *t = azkv_tmpl_find(tmpl, n, row->type);
		if (row->from == FROM_BOOL &&
		    ((rv = azkv_tmpl_bool(tmpl, n, row->type, &v, &present)) != CKR_OK ||
		     (rv = azkv_attrs_set_bool(&obj->attrs, row->type, v)) != CKR_OK))
			goto out;
		if (row->from == FROM_BYTES &&
		    (rv = azkv_attrs_set(&obj->attrs, row->type, t ? t->pValue : NULL,
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

CK_RV azkv_secret_key_check_changes(const azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                    int copy)
{
	const char *fn = copy ? "C_CopyObject" : "C_SetAttributeValue";
	for (CK_ULONG i = 0; i < n; i++) {
		const CK_ATTRIBUTE *t = &tmpl[i];
		const struct secret_attr *row = row_of(t->type);
		change_rule rule = row != NULL ? row->change : CHANGE_NEVER;
		if (rule == CHANGE_NEVER || (rule == CHANGE_IN_COPY && !copy)) {
			azkv_error("%s: attribute 0x%lx cannot be changed%s", fn,
			           (unsigned long)t->type, copy ? " when copying" : "");
			return row != NULL ? CKR_ATTRIBUTE_READ_ONLY : CKR_ATTRIBUTE_TYPE_INVALID;
		}
		/* The rules below are for CK_BBOOLs, whose size
		 * azkv_tmpl_check has checked. */
		if (row->from != FROM_BOOL)
			continue;
		CK_BBOOL v = *(const CK_BBOOL *)t->pValue ? CK_TRUE : CK_FALSE;
		CK_BBOOL now = azkv_attrs_bool(&obj->attrs, t->type, CK_FALSE);
		if ((row->dir == ONLY_TO_TRUE && now && !v) ||
		    (row->dir == ONLY_TO_FALSE && !now && v)) {
			azkv_error(
			        "%s: attribute 0x%lx can only be changed towards more protection",
			        fn, (unsigned long)t->type);
			return CKR_ATTRIBUTE_READ_ONLY;
		}
		CK_RV rv = check_always_false(row, v, fn);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}
