/* The objects of a vault key version: a public and a private object for
 * RSA and EC keys, one secret-key object for a Managed HSM AES key.
 * Attributes come from the key bundle: JWK fields, key_ops and the
 * enabled/nbf/exp attributes. Private and secret keys are sensitive and
 * never extractable: their material never leaves the vault. */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azkv/azkv-pkcs11.h"
#include "config.h"
#include "log.h"
#include "mech.h"
#include "internal.h"
#include "pkcs11_v3.h"

#define ID_LEN 16

/* CKA_AZKV_KEY_OPS is the core's key_ops mask, bit for bit. */
_Static_assert(AZKV_KEY_OP_ENCRYPT == AZKV_OP_ENCRYPT && AZKV_KEY_OP_DECRYPT == AZKV_OP_DECRYPT &&
                       AZKV_KEY_OP_SIGN == AZKV_OP_SIGN && AZKV_KEY_OP_VERIFY == AZKV_OP_VERIFY &&
                       AZKV_KEY_OP_WRAP_KEY == AZKV_OP_WRAP_KEY &&
                       AZKV_KEY_OP_UNWRAP_KEY == AZKV_OP_UNWRAP_KEY &&
                       AZKV_KEY_OP_IMPORT == AZKV_OP_IMPORT && AZKV_KEY_OP_EXPORT == AZKV_OP_EXPORT,
               "CKA_AZKV_KEY_OPS bits");

/* CKA_ID: the version's 16 bytes when it is the usual 32 hex digits (short
 * enough for libp11, stable, the same on both objects); otherwise the
 * first 16 bytes of SHA-256("name/version"). */
static void make_id(const azkv_key *key, unsigned char id[ID_LEN])
{
	const char *v = key->version ? key->version : "";
	int hex = strlen(v) == 2 * ID_LEN;
	for (size_t i = 0; hex && i < 2 * ID_LEN; i++)
		hex = isxdigit((unsigned char)v[i]) != 0;
	if (hex) {
		for (size_t i = 0; i < ID_LEN; i++) {
			unsigned int byte;
			sscanf(v + 2 * i, "%2x", &byte);
			id[i] = (unsigned char)byte;
		}
		return;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, key->name, strlen(key->name)) && EVP_DigestUpdate(ctx, "/", 1) &&
	    EVP_DigestUpdate(ctx, v, strlen(v)) && EVP_DigestFinal_ex(ctx, md, &md_len))
		memcpy(id, md, ID_LEN);
	else
		memset(id, 0, ID_LEN);
	EVP_MD_CTX_free(ctx);
}

static CK_RV set_date(azkv_attrs *a, CK_ATTRIBUTE_TYPE type, int64_t when)
{
	if (when == 0)
		return azkv_attrs_set(a, type, NULL, 0);
	time_t t = (time_t)when;
	struct tm tm;
	char buf[9];
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y%m%d", &tm) != 8)
		return azkv_attrs_set(a, type, NULL, 0);
	return azkv_attrs_set(a, type, buf, 8); /* CK_DATE: YYYYMMDD, no NUL */
}

/* DER of an OBJECT IDENTIFIER (CKA_EC_PARAMS) or an OCTET STRING holding
 * the uncompressed point (CKA_EC_POINT). */
static CK_RV set_ec_attrs(azkv_attrs *a, const azkv_jwk *jwk)
{
	CK_RV rv = CKR_HOST_MEMORY;
	unsigned char *der = NULL, *point = NULL;
	ASN1_OCTET_STRING *os = NULL;
	const azkv_curve *curve = azkv_curve_find(jwk->crv);
	const ASN1_OBJECT *oid = curve != NULL ? OBJ_nid2obj(curve->nid) : NULL;
	int len = oid ? i2d_ASN1_OBJECT(oid, &der) : -1;
	if (len <= 0)
		goto out;
	if ((rv = azkv_attrs_set(a, CKA_EC_PARAMS, der, (CK_ULONG)len)) != CKR_OK)
		goto out;
	OPENSSL_free(der);
	der = NULL;

	rv = CKR_HOST_MEMORY;
	size_t plen = 1 + jwk->x.len + jwk->y.len;
	point = malloc(plen);
	os = ASN1_OCTET_STRING_new();
	if (point == NULL || os == NULL)
		goto out;
	point[0] = 0x04;
	memcpy(point + 1, jwk->x.data, jwk->x.len);
	memcpy(point + 1 + jwk->x.len, jwk->y.data, jwk->y.len);
	if (!ASN1_OCTET_STRING_set(os, point, (int)plen))
		goto out;
	len = i2d_ASN1_OCTET_STRING(os, &der);
	if (len <= 0)
		goto out;
	rv = azkv_attrs_set(a, CKA_EC_POINT, der, (CK_ULONG)len);
out:
	OPENSSL_free(der);
	free(point);
	ASN1_OCTET_STRING_free(os);
	return rv;
}

/* Attributes both objects carry. */
/* CKA_UNIQUE_ID (PKCS#11 3.0): the key id with version and the class. */
static CK_RV set_unique_id(azkv_attrs *a, const azkv_key *key, CK_OBJECT_CLASS cls)
{
	char id[1024];
	snprintf(id, sizeof(id), "%s#%s", key->jwk.kid,
	         cls == CKO_PUBLIC_KEY   ? "public"
	         : cls == CKO_SECRET_KEY ? "secret"
	                                 : "private");
	return azkv_attrs_set_string(a, CKA_UNIQUE_ID, id);
}

static CK_RV set_label(azkv_attrs *a, const azkv_key *key, int current)
{
	char label[512];
	if (current)
		return azkv_attrs_set_string(a, CKA_LABEL, key->name);
	snprintf(label, sizeof(label), "%s/%s", key->name, key->version ? key->version : "");
	return azkv_attrs_set_string(a, CKA_LABEL, label);
}

/* What every object of a vault key version carries: class and type, the
 * storage attributes, label, ids, dates, mechanisms and the vendor
 * attributes. */
static CK_RV set_identity(azkv_attrs *a, const azkv_vault_key *vk, const azkv_vault_config *vault,
                          CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, int current)
{
	/* A token with a PIN hides what its key can do but show (login.h). */
	CK_BBOOL private = cls != CKO_PUBLIC_KEY && vault->pin != NULL ? CK_TRUE : CK_FALSE;
	const azkv_key *key = &vk->key;
	unsigned char id[ID_LEN];
	CK_RV rv;
	make_id(key, id);
	const CK_MECHANISM_TYPE *mechs; /* every mechanism the module uses it with */
	size_t n_mechs;
	azkv_mech_allowed(kt, &mechs, &n_mechs);

	if ((rv = azkv_attrs_set_ulong(a, CKA_CLASS, cls)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(a, CKA_KEY_TYPE, kt)) != CKR_OK ||
	    (rv = azkv_obj_set_vault_storage(a, private)) != CKR_OK ||
	    (rv = set_label(a, key, current)) != CKR_OK ||
	    (rv = set_unique_id(a, key, cls)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_ID, id, ID_LEN)) != CKR_OK ||
	    (rv = set_date(a, CKA_START_DATE, key->nbf)) != CKR_OK ||
	    (rv = set_date(a, CKA_END_DATE, key->exp)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_DERIVE, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_LOCAL, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(a, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION)) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_ALLOWED_MECHANISMS, mechs, n_mechs * sizeof(*mechs))) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_string(a, CKA_AZKV_KEY_ID, key->jwk.kid)) != CKR_OK ||
	    (rv = azkv_attrs_set_string(a, CKA_AZKV_KEY_VERSION, key->version)) != CKR_OK ||
	    (rv = azkv_attrs_set_string(a, CKA_AZKV_KEY_NAME, key->name)) != CKR_OK ||
	    (rv = azkv_attrs_set_string(a, CKA_AZKV_VAULT_URI, vault->url)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_AZKV_CURRENT_VERSION, current ? CK_TRUE : CK_FALSE)) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(a, CKA_AZKV_ENABLED, key->enabled ? CK_TRUE : CK_FALSE)) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_string(a, CKA_AZKV_TAGS,
	                                key->tags_json ? key->tags_json : "{}")) != CKR_OK ||
	    (rv = azkv_attrs_set_ulong(a, CKA_AZKV_KEY_OPS, key->jwk.key_ops)) != CKR_OK)
		return rv;
	return CKR_OK;
}

/* The identity and the public key's attributes, on both objects of an RSA
 * or EC key. */
static CK_RV set_common(azkv_attrs *a, const azkv_vault_key *vk, const azkv_vault_config *vault,
                        CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, int current)
{
	const azkv_key *key = &vk->key;
	unsigned char *spki = NULL;
	CK_RV rv;
	if ((rv = set_identity(a, vk, vault, cls, kt, current)) != CKR_OK ||
	    (rv = azkv_attrs_set(a, CKA_SUBJECT, NULL, 0)) != CKR_OK)
		return rv;

	int len = i2d_PUBKEY(vk->pub, &spki);
	if (len <= 0)
		return CKR_HOST_MEMORY;
	rv = azkv_attrs_set(a, CKA_PUBLIC_KEY_INFO, spki, (CK_ULONG)len);
	OPENSSL_free(spki);
	if (rv != CKR_OK)
		return rv;

	if (kt == CKK_RSA) {
		if ((rv = azkv_attrs_set(a, CKA_MODULUS, key->jwk.n.data, key->jwk.n.len)) !=
		            CKR_OK ||
		    (rv = azkv_attrs_set(a, CKA_PUBLIC_EXPONENT, key->jwk.e.data,
		                         key->jwk.e.len)) != CKR_OK)
			return rv;
		/* Leading zero bytes of n do not count. */
		CK_ULONG bits = (CK_ULONG)EVP_PKEY_get_bits(vk->pub);
		return azkv_attrs_set_ulong(a, CKA_MODULUS_BITS, bits);
	}
	return set_ec_attrs(a, &key->jwk);
}

static CK_BBOOL op(const azkv_key *key, unsigned bit)
{
	return (key->jwk.key_ops & bit) ? CK_TRUE : CK_FALSE;
}

static CK_RV new_object(CK_SLOT_ID slot, azkv_vault_key *vk, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                        azkv_object **out)
{
	azkv_object *obj = calloc(1, sizeof(*obj));
	if (obj == NULL)
		return CKR_HOST_MEMORY;
	obj->slot = slot;
	obj->cls = cls;
	obj->key_type = kt;
	obj->vkey = vk;
	azkv_vault_key_ref(vk);
	*out = obj;
	return CKR_OK;
}

/* A Managed HSM AES key: one secret-key object, sensitive, never
 * extractable, without CKA_VALUE; usable for what key_ops allow. Its
 * CKA_VALUE_LEN is answered by azkv_object_get_attributes (the bundle does
 * not state it; op_hsm_aes_kw.c learns it). */
static CK_RV secret_object_new(CK_SLOT_ID slot, const azkv_vault_config *vault, azkv_vault_key *vk,
                               int current, azkv_object **out)
{
	const azkv_key *k = &vk->key;
	azkv_object *obj = NULL;
	CK_RV rv = new_object(slot, vk, CKO_SECRET_KEY, CKK_AES, &obj);
	if (rv != CKR_OK ||
	    (rv = set_identity(&obj->attrs, vk, vault, CKO_SECRET_KEY, CKK_AES, current)) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_ENCRYPT, op(k, AZKV_OP_ENCRYPT))) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_DECRYPT, op(k, AZKV_OP_DECRYPT))) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_WRAP, op(k, AZKV_OP_WRAP_KEY))) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_UNWRAP, op(k, AZKV_OP_UNWRAP_KEY))) !=
	            CKR_OK ||
	    /* HMAC signatures of oct-HSM keys are not offered here. */
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_SIGN, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_VERIFY, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_SENSITIVE, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_EXTRACTABLE, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_ALWAYS_SENSITIVE, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_NEVER_EXTRACTABLE, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_WRAP_WITH_TRUSTED, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&obj->attrs, CKA_TRUSTED, CK_FALSE)) != CKR_OK ||
	    /* A check value needs the key's bytes; the HSM does not give one. */
	    (rv = azkv_attrs_set(&obj->attrs, CKA_CHECK_VALUE, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(&obj->attrs, CKA_WRAP_TEMPLATE, NULL, 0)) != CKR_OK ||
	    (rv = azkv_attrs_set(&obj->attrs, CKA_UNWRAP_TEMPLATE, NULL, 0)) != CKR_OK) {
		azkv_object_free(obj);
		return rv;
	}
	*out = obj;
	return CKR_OK;
}

/* The key_ops a key of type kt can do in Key Vault: RSA all six, EC
 * sign and verify, AES (oct-HSM) encrypt, decrypt, wrap and unwrap
 * (https://learn.microsoft.com/azure/key-vault/keys/about-keys-details).
 * A bundle claiming more (an EC key with unwrapKey) is not offered what
 * the vault cannot do: the object's CKA_* and CKA_AZKV_KEY_OPS show the
 * possible ones, and the warning says what was dropped. */
static void drop_impossible_ops(azkv_key *key, CK_KEY_TYPE kt)
{
	const unsigned crypt =
	        AZKV_OP_ENCRYPT | AZKV_OP_DECRYPT | AZKV_OP_WRAP_KEY | AZKV_OP_UNWRAP_KEY;
	const unsigned sig = AZKV_OP_SIGN | AZKV_OP_VERIFY;
	unsigned possible = kt == CKK_RSA ? crypt | sig : kt == CKK_EC ? sig : crypt;
	unsigned dropped = key->jwk.key_ops & (crypt | sig) & ~possible;
	if (dropped == 0)
		return;
	azkv_warn("key '%s' version %s: key_ops 0x%x are not possible for a %s key; not offered",
	          key->name, key->version ? key->version : "?", dropped, key->jwk.kty_name);
	key->jwk.key_ops &= ~dropped;
}

CK_RV azkv_vault_objects_new(CK_SLOT_ID slot, const azkv_vault_config *vault, azkv_key *key,
                             int current, azkv_object **pub_out, azkv_object **priv_out)
{
	CK_RV rv = CKR_HOST_MEMORY;
	azkv_object *pub = NULL, *priv = NULL;
	azkv_err err;
	CK_KEY_TYPE kt;

	if (key->jwk.kty == AZKV_KTY_RSA)
		kt = CKK_RSA;
	else if (key->jwk.kty == AZKV_KTY_EC && azkv_curve_find(key->jwk.crv) != NULL)
		kt = CKK_EC;
	else if (key->jwk.kty == AZKV_KTY_OCT)
		kt = CKK_AES;
	else {
		azkv_warn("key '%s': type %s%s%s is not exposed", key->name, key->jwk.kty_name,
		          key->jwk.crv ? " " : "", key->jwk.crv ? key->jwk.crv : "");
		return CKR_KEY_TYPE_INCONSISTENT;
	}

	drop_impossible_ops(key, kt);
	azkv_vault_key *vk = calloc(1, sizeof(*vk));
	if (vk == NULL)
		return CKR_HOST_MEMORY;
	vk->refs = 1;
	vk->slot = slot;
	vk->key = *key;
	memset(key, 0, sizeof(*key));
	if (kt == CKK_AES) {
		*pub_out = NULL;
		rv = secret_object_new(slot, vault, vk, current, priv_out);
		goto out;
	}
	if (azkv_jwk_to_pkey(&vk->key.jwk, &vk->pub, &err) != AZKV_OK) {
		azkv_warn("key '%s': unusable public key: %s", vk->key.name, err.message);
		rv = CKR_KEY_TYPE_INCONSISTENT;
		goto out;
	}

	const azkv_key *k = &vk->key;
	if ((rv = new_object(slot, vk, CKO_PUBLIC_KEY, kt, &pub)) != CKR_OK ||
	    (rv = set_common(&pub->attrs, vk, vault, CKO_PUBLIC_KEY, kt, current)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&pub->attrs, CKA_ENCRYPT, op(k, AZKV_OP_ENCRYPT))) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&pub->attrs, CKA_VERIFY, op(k, AZKV_OP_VERIFY))) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&pub->attrs, CKA_VERIFY_RECOVER, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&pub->attrs, CKA_WRAP, op(k, AZKV_OP_WRAP_KEY))) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&pub->attrs, CKA_TRUSTED, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set(&pub->attrs, CKA_WRAP_TEMPLATE, NULL, 0)) != CKR_OK)
		goto out;

	if ((rv = new_object(slot, vk, CKO_PRIVATE_KEY, kt, &priv)) != CKR_OK ||
	    (rv = set_common(&priv->attrs, vk, vault, CKO_PRIVATE_KEY, kt, current)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_DECRYPT, op(k, AZKV_OP_DECRYPT))) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_SIGN, op(k, AZKV_OP_SIGN))) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_SIGN_RECOVER, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_UNWRAP, op(k, AZKV_OP_UNWRAP_KEY))) !=
	            CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_SENSITIVE, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_EXTRACTABLE, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_ALWAYS_SENSITIVE, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_NEVER_EXTRACTABLE, CK_TRUE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_WRAP_WITH_TRUSTED, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set_bool(&priv->attrs, CKA_ALWAYS_AUTHENTICATE, CK_FALSE)) != CKR_OK ||
	    (rv = azkv_attrs_set(&priv->attrs, CKA_UNWRAP_TEMPLATE, NULL, 0)) != CKR_OK)
		goto out;

	*pub_out = pub;
	*priv_out = priv;
	pub = priv = NULL;
	rv = CKR_OK;
out:
	azkv_object_free(pub);
	azkv_object_free(priv);
	azkv_vault_key_unref(vk); /* the objects hold their own references */
	return rv;
}

/* "2026-11-27T12:00:00Z" */
static void iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

int azkv_vault_key_usable(const azkv_vault_key *vk, const char *what)
{
	const azkv_key *k = &vk->key;
	time_t now = time(NULL);
	char when[32];
	if (!k->enabled) {
		azkv_error("%s: key '%s' version %s is disabled in the vault", what, k->name,
		           k->version);
		return 0;
	}
	if (k->nbf != 0 && now < (time_t)k->nbf) {
		iso_time(k->nbf, when);
		azkv_error("%s: key '%s' version %s is not valid before %s (nbf)", what, k->name,
		           k->version, when);
		return 0;
	}
	if (k->exp != 0 && now >= (time_t)k->exp) {
		iso_time(k->exp, when);
		azkv_error("%s: key '%s' version %s expired at %s (exp)", what, k->name, k->version,
		           when);
		return 0;
	}
	return 1;
}
