/* C_GenerateKeyPair: a new RSA or EC key made in the vault (POST
 * /keys/{name}/create), on a vault whose configuration says
 * "allow_key_creation": true, shown at once as a public and a private key
 * object. As Google's kmsp11 makes Cloud KMS keys. The vault keeps only
 * persistent keys, so the templates ask for token objects (CKA_TOKEN=TRUE)
 * and name the key (CKA_LABEL, the vault key's name); the key's key_ops
 * are the templates' usage flags.
 *
 * The order of the checks: the session (CKR_SESSION_HANDLE_INVALID before
 * anything else), the arguments, the vault's option, the mechanism, the
 * templates, a read/write session; then the vault. Each refusal is logged
 * with its reason. */
#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <string.h>

#include "keyvault.h"
#include "log.h"
#include "login.h"
#include "mech.h"
#include "mhsm.h"
#include "module.h"
#include "object.h"
#include "rv.h"
#include "session.h"
#include "token.h"

#define FN "C_GenerateKeyPair"

/* Key Vault creates RSA keys of these sizes with exponent 65537 only
 * (learn.microsoft.com/azure/key-vault/keys/about-keys). */
static const unsigned rsa_sizes[] = {2048, 3072, 4096};

/* What the templates ask of the vault. */
typedef struct keygen_req {
	char name[128]; /* CKA_LABEL: the vault key's name, 1-127 characters */
	azkv_key_create spec;
} keygen_req;

/* A CK_BBOOL of a template; present 0 when absent. */
static CK_RV get_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_BBOOL *v,
                      int *present)
{
	*v = CK_FALSE;
	CK_RV rv = azkv_tmpl_bool(t, n, type, v, present);
	if (rv != CKR_OK)
		azkv_error(FN ": %s is not a CK_BBOOL", azkv_attr_name(type));
	return rv;
}

/* CKA_CLASS and CKA_KEY_TYPE, when given, are those of the mechanism's
 * pair. */
static CK_RV class_and_type(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                            const char *which)
{
	CK_ULONG v;
	int present;
	CK_RV rv = azkv_tmpl_ulong(t, n, CKA_CLASS, &v, &present);
	if (rv == CKR_OK && present && v != cls) {
		azkv_error(FN ": the %s template's CKA_CLASS is 0x%lx, not the %s key's", which,
		           (unsigned long)v, which);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if (rv == CKR_OK)
		rv = azkv_tmpl_ulong(t, n, CKA_KEY_TYPE, &v, &present);
	if (rv == CKR_OK && present && v != kt) {
		azkv_error(FN ": the %s template's CKA_KEY_TYPE 0x%lx is not the mechanism's",
		           which, (unsigned long)v);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	return rv;
}

/* The vault keeps persistent keys only: CKA_TOKEN=TRUE in the private
 * template (absent means FALSE there, a session key), and not FALSE in
 * the public one. */
static CK_RV token_objects(const CK_ATTRIBUTE *pub, CK_ULONG n_pub, const CK_ATTRIBUTE *priv,
                           CK_ULONG n_priv)
{
	CK_BBOOL v_pub, v_priv;
	int in_pub, in_priv;
	CK_RV rv = get_bool(pub, n_pub, CKA_TOKEN, &v_pub, &in_pub);
	if (rv == CKR_OK)
		rv = get_bool(priv, n_priv, CKA_TOKEN, &v_priv, &in_priv);
	if (rv != CKR_OK)
		return rv;
	if ((in_pub && !v_pub) || (in_priv && !v_priv)) {
		azkv_error(FN ": CKA_TOKEN=FALSE: the vault holds only persistent keys; ask for "
		              "token objects (CKA_TOKEN=TRUE)");
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if (!in_priv) {
		azkv_error(FN
		           ": the private key template needs CKA_TOKEN=TRUE: the vault holds "
		           "only persistent keys, and without it PKCS#11 asks for a session key");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	return CKR_OK;
}

/* What the vault's keys are: never extractable, always sensitive. A
 * template asking otherwise is refused. They derive nothing either, but
 * that is only logged (see below). */
static CK_RV vault_key_nature(const CK_ATTRIBUTE *pub, CK_ULONG n_pub, const CK_ATTRIBUTE *priv,
                              CK_ULONG n_priv)
{
	CK_BBOOL v;
	int present;
	CK_RV rv = get_bool(priv, n_priv, CKA_EXTRACTABLE, &v, &present);
	if (rv == CKR_OK && present && v) {
		azkv_error(FN ": CKA_EXTRACTABLE=TRUE: a vault key never leaves the vault");
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if (rv == CKR_OK)
		rv = get_bool(priv, n_priv, CKA_SENSITIVE, &v, &present);
	if (rv == CKR_OK && present && !v) {
		azkv_error(FN
		           ": CKA_SENSITIVE=FALSE: a vault key's private part is never readable");
		return CKR_TEMPLATE_INCONSISTENT;
	}
	/* pkcs11-tool asks every EC key pair for CKA_DERIVE unless told
	 * otherwise: the key is made, its objects say CKA_DERIVE=FALSE. */
	for (int i = 0; i < 2 && rv == CKR_OK; i++) {
		rv = get_bool(i ? priv : pub, i ? n_priv : n_pub, CKA_DERIVE, &v, &present);
		if (rv == CKR_OK && present && v) {
			azkv_warn(FN
			          ": CKA_DERIVE=TRUE: Key Vault keys do not derive keys; the new "
			          "key's objects have CKA_DERIVE=FALSE");
			break;
		}
	}
	return rv;
}

/* CKA_LABEL, the vault key's name: in the private template or the public
 * one (the same in both when in both), and a name Key Vault takes. */
static CK_RV key_name(const CK_ATTRIBUTE *pub, CK_ULONG n_pub, const CK_ATTRIBUTE *priv,
                      CK_ULONG n_priv, keygen_req *req)
{
	const CK_ATTRIBUTE *l_priv = azkv_tmpl_find(priv, n_priv, CKA_LABEL);
	const CK_ATTRIBUTE *l_pub = azkv_tmpl_find(pub, n_pub, CKA_LABEL);
	const CK_ATTRIBUTE *l = l_priv != NULL ? l_priv : l_pub;
	if (l == NULL) {
		azkv_error(FN ": the templates need CKA_LABEL: it names the key in the vault");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	if (l_priv != NULL && l_pub != NULL &&
	    (l_priv->ulValueLen != l_pub->ulValueLen ||
	     memcmp(l_priv->pValue, l_pub->pValue, l_pub->ulValueLen) != 0)) {
		azkv_error(FN ": the public and private templates give different CKA_LABELs; the "
		              "key has one name in the vault");
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if (l->ulValueLen < sizeof(req->name)) {
		memcpy(req->name, l->pValue, l->ulValueLen);
		req->name[l->ulValueLen] = '\0';
	}
	if (l->ulValueLen >= sizeof(req->name) || strlen(req->name) != l->ulValueLen ||
	    !azkv_kv_name_ok(req->name)) {
		azkv_error(FN ": CKA_LABEL \"%.*s\" is not a Key Vault key name (1-127 letters, "
		              "digits and dashes)",
		           (int)(l->ulValueLen < 200 ? l->ulValueLen : 200),
		           (const char *)l->pValue);
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

/* key_ops from the usage flags: each flag of the half that has it (the
 * private key signs, decrypts and unwraps, the public one verifies,
 * encrypts and wraps). No flag at all: the vault's default, every
 * operation of the key type. */
static CK_RV key_ops(const CK_ATTRIBUTE *pub, CK_ULONG n_pub, const CK_ATTRIBUTE *priv,
                     CK_ULONG n_priv, CK_KEY_TYPE kt, unsigned *ops)
{
	static const struct {
		CK_ATTRIBUTE_TYPE attr;
		int priv;
		unsigned op;
	} usages[] = {
	        {CKA_SIGN, 1, AZKV_OP_SIGN},         {CKA_VERIFY, 0, AZKV_OP_VERIFY},
	        {CKA_DECRYPT, 1, AZKV_OP_DECRYPT},   {CKA_ENCRYPT, 0, AZKV_OP_ENCRYPT},
	        {CKA_UNWRAP, 1, AZKV_OP_UNWRAP_KEY}, {CKA_WRAP, 0, AZKV_OP_WRAP_KEY},
	};
	const unsigned ec_ops = AZKV_OP_SIGN | AZKV_OP_VERIFY;
	int any = 0;
	*ops = 0;
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		CK_BBOOL v;
		int present;
		CK_RV rv = get_bool(usages[i].priv ? priv : pub, usages[i].priv ? n_priv : n_pub,
		                    usages[i].attr, &v, &present);
		if (rv != CKR_OK)
			return rv;
		any |= present;
		if (!present || !v)
			continue;
		if (kt == CKK_EC && !(usages[i].op & ec_ops)) {
			azkv_error(FN ": %s=TRUE: Key Vault's EC keys sign and verify only",
			           azkv_attr_name(usages[i].attr));
			return CKR_TEMPLATE_INCONSISTENT;
		}
		*ops |= usages[i].op;
	}
	if (any && *ops == 0) {
		azkv_error(FN ": every usage flag is FALSE: the key could do nothing");
		return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

/* CKA_MODULUS_BITS (2048, 3072, 4096) and CKA_PUBLIC_EXPONENT (65537
 * only, when given) of the public template. */
static CK_RV rsa_params(const CK_ATTRIBUTE *pub, CK_ULONG n_pub, keygen_req *req)
{
	CK_ULONG bits;
	int present;
	CK_RV rv = azkv_tmpl_ulong(pub, n_pub, CKA_MODULUS_BITS, &bits, &present);
	if (rv != CKR_OK)
		return rv;
	if (!present) {
		azkv_error(FN ": the public key template needs CKA_MODULUS_BITS (2048, 3072 or "
		              "4096)");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	for (size_t i = 0; i < sizeof(rsa_sizes) / sizeof(rsa_sizes[0]); i++)
		if (bits == rsa_sizes[i])
			req->spec.key_size = rsa_sizes[i];
	if (req->spec.key_size == 0) {
		azkv_error(FN ": CKA_MODULUS_BITS %lu: Key Vault creates RSA keys of 2048, 3072 or "
		              "4096 bits",
		           (unsigned long)bits);
		return CKR_KEY_SIZE_RANGE;
	}
	const CK_ATTRIBUTE *e = azkv_tmpl_find(pub, n_pub, CKA_PUBLIC_EXPONENT);
	if (e == NULL)
		return CKR_OK;
	/* Big-endian, leading zeros allowed: 0x01 0x00 0x01. */
	const unsigned char *p = e->pValue;
	CK_ULONG len = e->ulValueLen;
	while (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (len != 3 || p[0] != 0x01 || p[1] != 0x00 || p[2] != 0x01) {
		azkv_error(FN ": CKA_PUBLIC_EXPONENT: Key Vault creates RSA keys with exponent "
		              "65537 only");
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

/* The curve of CKA_EC_PARAMS: the DER of the curve's OID, or of its name
 * as a PrintableString ("P-256", "prime256v1", "secp256k1"; PKCS#11 3.0,
 * 2.3.3). The curves are jwk.c's table (Key Vault's). */
static CK_RV ec_params(const CK_ATTRIBUTE *pub, CK_ULONG n_pub, keygen_req *req)
{
	const CK_ATTRIBUTE *a = azkv_tmpl_find(pub, n_pub, CKA_EC_PARAMS);
	if (a == NULL) {
		azkv_error(FN ": the public key template needs CKA_EC_PARAMS (the curve)");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	const unsigned char *p = a->pValue;
	ASN1_TYPE *t = a->ulValueLen > 0 && a->ulValueLen < 256
	                       ? d2i_ASN1_TYPE(NULL, &p, (long)a->ulValueLen)
	                       : NULL;
	int nid = NID_undef;
	if (t != NULL && p == (const unsigned char *)a->pValue + a->ulValueLen) {
		if (t->type == V_ASN1_OBJECT) {
			nid = OBJ_obj2nid(t->value.object);
		} else if (t->type == V_ASN1_PRINTABLESTRING) {
			char name[64];
			int len = ASN1_STRING_length(t->value.printablestring);
			if (len > 0 && (size_t)len < sizeof(name)) {
				memcpy(name, ASN1_STRING_get0_data(t->value.printablestring),
				       (size_t)len);
				name[len] = '\0';
				nid = EC_curve_nist2nid(name);
				if (nid == NID_undef)
					nid = OBJ_sn2nid(name);
			}
		}
	}
	int parsed = t != NULL;
	ASN1_TYPE_free(t);
	if (!parsed || nid == NID_undef) {
		azkv_error(FN ": CKA_EC_PARAMS is not the DER of a named curve (its OID or name)");
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	const azkv_curve *curve = azkv_curve_find_nid(nid);
	if (curve == NULL) {
		azkv_error(FN ": curve %s: Key Vault has P-256, P-384, P-521 and secp256k1 only",
		           OBJ_nid2sn(nid));
		return CKR_CURVE_NOT_SUPPORTED;
	}
	req->spec.crv = curve->crv;
	return CKR_OK;
}

/* Everything the templates say, checked, into req; their form
 * (azkv_tmpl_check) checked already. */
static CK_RV read_templates(CK_KEY_TYPE kt, const CK_ATTRIBUTE *pub, CK_ULONG n_pub,
                            const CK_ATTRIBUTE *priv, CK_ULONG n_priv, keygen_req *req)
{
	CK_RV rv;
	if ((rv = class_and_type(pub, n_pub, CKO_PUBLIC_KEY, kt, "public")) != CKR_OK ||
	    (rv = class_and_type(priv, n_priv, CKO_PRIVATE_KEY, kt, "private")) != CKR_OK ||
	    (rv = token_objects(pub, n_pub, priv, n_priv)) != CKR_OK ||
	    (rv = key_name(pub, n_pub, priv, n_priv, req)) != CKR_OK ||
	    (rv = vault_key_nature(pub, n_pub, priv, n_priv)) != CKR_OK ||
	    (rv = key_ops(pub, n_pub, priv, n_priv, kt, &req->spec.key_ops)) != CKR_OK)
		return rv;
	return kt == CKK_RSA ? rsa_params(pub, n_pub, req) : ec_params(pub, n_pub, req);
}

/* The session's token, when it may create keys: "allow_key_creation" on
 * its vault (else CKR_FUNCTION_NOT_SUPPORTED, saying how to turn it on).
 * *rw: whether the session is read/write; *private_shows: whether a
 * private key may be made now (login.h). */
static CK_RV creating_token(CK_SESSION_HANDLE session, azkv_token **tok, int *rw,
                            int *private_shows)
{
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_session_find(session, FN, &rv);
	if (s != NULL) {
		*tok = azkv_token_get(s->slot);
		*rw = (s->flags & CKF_RW_SESSION) != 0;
		*private_shows = azkv_login_private_shows(*tok);
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* A key of that name is in the vault already: creating would add a
 * version to it (a rotation), which C_GenerateKeyPair must not do. */
static CK_RV name_free(azkv_token *tok, const char *name)
{
	azkv_key key;
	azkv_err err;
	char what[256];
	if (azkv_kv_get_key(tok->kv, name, NULL, &key, &err) == AZKV_OK) {
		azkv_error(FN ": a key named '%s' is in %s already; C_GenerateKeyPair creates new "
		              "keys only (a new version is a rotation: azkv-cmk rotate)",
		           name, tok->vault->url);
		azkv_key_free(&key);
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	if (err.rc == AZKV_ERR_NOT_FOUND)
		return CKR_OK;
	snprintf(what, sizeof(what), FN ": looking for key '%s' in %s", name, tok->vault->url);
	return azkv_rv_from_vault_err(&err, AZKV_CTX_KEYGEN, what, tok->vault->url, name, "get");
}

/* Creates the key and adds its two objects to the token, with the token's
 * load lock held so that no refresh adds them a second time. */
static CK_RV create_in_vault(azkv_token *tok, const keygen_req *req, CK_OBJECT_HANDLE *pub_h,
                             CK_OBJECT_HANDLE *priv_h)
{
	azkv_key key;
	azkv_err err;
	azkv_object *pub = NULL, *priv = NULL;
	char what[256];
	/* The token's objects first, so that the new key is not read twice. */
	CK_RV rv = azkv_token_load(tok);
	if (rv != CKR_OK)
		return rv;
	azkv_lock_acquire(tok->load_lock);
	if ((rv = name_free(tok, req->name)) != CKR_OK)
		goto out;
	char size[32];
	if (req->spec.crv != NULL)
		snprintf(size, sizeof(size), "%s", req->spec.crv);
	else
		snprintf(size, sizeof(size), "%u bits", req->spec.key_size);
	azkv_info(FN ": creating %s key '%s' (%s) in %s", req->spec.kty, req->name, size,
	          tok->vault->url);
	if (azkv_kv_create_key(tok->kv, req->name, &req->spec, &key, &err) != AZKV_OK) {
		snprintf(what, sizeof(what), FN ": creating key '%s' in %s", req->name,
		         tok->vault->url);
		rv = azkv_rv_from_vault_err(&err, AZKV_CTX_KEYGEN, what, tok->vault->url, req->name,
		                            "create");
		goto out;
	}
	rv = azkv_vault_objects_new(tok->id, tok->vault, &key, 1, &pub, &priv);
	azkv_key_free(&key);
	if (rv != CKR_OK) {
		azkv_error(FN ": key '%s' was created in %s but cannot be shown", req->name,
		           tok->vault->url);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	/* The private object is added as every made object is
	 * (azkv_session_object_add): a C_Logout during the vault's create
	 * leaves it unshown, and its handle not given. */
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	azkv_lock_acquire(azkv_g.lock);
	rv = azkv_objects_add(pub);
	if (rv == CKR_OK) {
		hpub = pub->handle;
		pub = NULL;
		rv = azkv_session_object_add(priv, FN);
		if (rv == CKR_OK) {
			hpriv = priv->handle;
			priv = NULL;
		} else {
			azkv_objects_destroy(hpub);
		}
	}
	azkv_lock_release(azkv_g.lock);
	if (rv == CKR_OK) {
		*pub_h = hpub;
		*priv_h = hpriv;
		azkv_info(FN ": key '%s' created: objects %lu (public) and %lu (private)",
		          req->name, (unsigned long)hpub, (unsigned long)hpriv);
	} else {
		azkv_error(FN ": key '%s' was created in %s but is not shown (%s); it shows when "
		              "the token next lists the vault",
		           req->name, tok->vault->url, azkv_rv_name(rv));
	}
out:
	azkv_lock_release(tok->load_lock);
	azkv_object_free(pub);
	azkv_object_free(priv);
	return rv;
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *pub_tmpl,
                        CK_ULONG pub_count, CK_ATTRIBUTE *priv_tmpl, CK_ULONG priv_count,
                        CK_OBJECT_HANDLE *pub_key, CK_OBJECT_HANDLE *priv_key)
{
	AZKV_REQUIRE_INIT();
	azkv_token *tok = NULL;
	int rw = 0, private_shows = 0;
	keygen_req req = {0};
	CK_RV rv = creating_token(session, &tok, &rw, &private_shows);
	if (rv != CKR_OK)
		return rv;
	if (mechanism == NULL || pub_key == NULL || priv_key == NULL)
		return CKR_ARGUMENTS_BAD;
	/* A malformed template (NULL with a count, ...) is the caller's error
	 * whatever the vault allows: answered before the option. */
	if ((rv = azkv_tmpl_check(pub_tmpl, pub_count, FN)) != CKR_OK ||
	    (rv = azkv_tmpl_check(priv_tmpl, priv_count, FN)) != CKR_OK)
		return rv;
	if (!tok->vault->allow_key_creation) {
		azkv_error(FN ": key creation is off for vault %s; set \"%s\": true on this vault "
		              "in the configuration to create keys there",
		           tok->vault->url, AZKV_CONFIG_KEY_CREATION_KEY);
		return CKR_FUNCTION_NOT_SUPPORTED;
	}
	/* The private key is a private object (login.h): as SoftHSMv2 does
	 * for any private object made before login. */
	if (!private_shows) {
		azkv_error(FN ": the token has a PIN; log in (C_Login) before creating keys");
		return CKR_USER_NOT_LOGGED_IN;
	}
	CK_KEY_TYPE kt;
	if (mechanism->mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN) {
		kt = CKK_RSA;
	} else if (mechanism->mechanism == CKM_EC_KEY_PAIR_GEN) {
		kt = CKK_EC;
	} else {
		azkv_error(FN
		           ": mechanism 0x%lx: the vault creates RSA (CKM_RSA_PKCS_KEY_PAIR_GEN) "
		           "and EC (CKM_EC_KEY_PAIR_GEN) key pairs only",
		           (unsigned long)mechanism->mechanism);
		return CKR_MECHANISM_INVALID;
	}
	if (mechanism->pParameter != NULL || mechanism->ulParameterLen != 0) {
		azkv_error(FN ": %s takes no parameter",
		           azkv_mech_find(mechanism->mechanism)->name);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if ((rv = read_templates(kt, pub_tmpl, pub_count, priv_tmpl, priv_count, &req)) != CKR_OK)
		return rv;
	if (!rw) {
		azkv_error(FN ": the session is read-only; token keys need a read/write session");
		return CKR_SESSION_READ_ONLY;
	}
	/* A Managed HSM has HSM keys only; a vault's "RSA"/"EC" keys work on
	 * both tiers (a premium vault also has -HSM, not asked here). */
	int hsm = azkv_mhsm_is_hsm(tok->vault->url);
	req.spec.kty = kt == CKK_RSA ? (hsm ? "RSA-HSM" : "RSA") : (hsm ? "EC-HSM" : "EC");
	return create_in_vault(tok, &req, pub_key, priv_key);
}
