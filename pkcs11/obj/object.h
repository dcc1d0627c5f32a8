/* Objects: vault keys (a public and a private object per key version),
 * session secret keys and session data objects, kept in one handle table. */
#ifndef AZKV_P11_OBJECT_H
#define AZKV_P11_OBJECT_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "attr.h"
#include "bytes.h"
#include "keyvault.h"
#include "op_rsa_wrap.h"

/* One key version in a vault, shared by its public and private objects
 * (a Managed HSM AES key has one secret-key object) and by operations in
 * flight (refcounted under the module lock). */
typedef struct azkv_vault_key {
	int refs;
	CK_SLOT_ID slot;
	azkv_key key;                 /* name, version, JWK and attributes */
	EVP_PKEY *pub;                /* for local public-key operations; NULL for an AES key */
	azkv_rsa_wrap_ctxs wrap_ctxs; /* RSA: local wrap and encrypt; under the module lock */
	/* An AES key's size, which its bundle does not state: 0 until learned
	 * (op_hsm_aes_kw.c); aes_bits_unknowable when the vault refused every
	 * size. Under the module lock. */
	unsigned aes_bits;
	int aes_bits_unknowable;
} azkv_vault_key;

typedef struct azkv_object {
	CK_OBJECT_HANDLE handle;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session; /* owner of a session object; 0 for token objects */
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE key_type;
	azkv_attrs attrs;     /* everything but secret values */
	azkv_vault_key *vkey; /* vault keys only */
	azkv_bytes value;     /* a secret key's value; wiped on free */
} azkv_object;

struct azkv_vault_config;

/* Builds the public and private objects of a vault key version; takes
 * ownership of *key (left empty). vault's url fills CKA_AZKV_VAULT_URI;
 * with a "pin", the private (or secret) object is CKA_PRIVATE, hidden
 * until login (login.h); without, every object is public, as the token
 * shows them all.
 * current: this is the key's latest version (labelled with the key name;
 * older versions are labelled "name/version"). A Managed HSM oct-HSM key
 * is one CKO_SECRET_KEY object (CKK_AES), given in *priv, with *pub NULL.
 * CKR_KEY_TYPE_INCONSISTENT (logged) for a key type not exposed. */
CK_RV azkv_vault_objects_new(CK_SLOT_ID slot, const struct azkv_vault_config *vault, azkv_key *key,
                             int current, azkv_object **pub, azkv_object **priv);

/* Whether a vault key version may be used now: enabled, and within its
 * nbf/exp window. Logs why not, naming what. */
int azkv_vault_key_usable(const azkv_vault_key *vk, const char *what);

/* Builds a session secret key of value from the caller's template.
 * origin_local is 1 for C_GenerateKey (CKA_LOCAL, and ALWAYS_SENSITIVE /
 * NEVER_EXTRACTABLE follow the template), 0 for C_UnwrapKey. keygen_mech
 * is CKA_KEY_GEN_MECHANISM (CK_UNAVAILABLE_INFORMATION when unwrapped).
 * The template is validated as PKCS#11 requires. */
CK_RV azkv_secret_key_new(CK_SLOT_ID slot, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                          CK_ULONG n, const unsigned char *value, CK_ULONG value_len,
                          int origin_local, CK_MECHANISM_TYPE keygen_mech, azkv_object **out);

/* A session data object (CKO_DATA) from the caller's template, validated
 * as PKCS#11 requires (data_object.c). */
CK_RV azkv_data_object_new(CK_SLOT_ID slot, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                           CK_ULONG n, azkv_object **out);

/* (changes.c) Checks a C_SetAttributeValue (copy 0) or C_CopyObject (copy 1)
 * template against obj before anything changes, by the attribute table of its kind
 * (the one its making followed), so that a refused template leaves the
 * object as it was. CKR_ACTION_PROHIBITED for an object no table covers
 * (a vault object). */
CK_RV azkv_object_check_changes(const azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                int copy);

/* C_SetAttributeValue on obj: checked (azkv_object_check_changes), then
 * changed. */
CK_RV azkv_object_set_attributes(azkv_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* C_CopyObject of obj, owned by session, with the changes of tmpl (checked
 * first); the copy has its own CKA_UNIQUE_ID. *out is the caller's. */
CK_RV azkv_object_copy(const azkv_object *obj, CK_SESSION_HANDLE session, const CK_ATTRIBUTE *tmpl,
                       CK_ULONG n, azkv_object **out);

/* Checks a C_UnwrapKey template before the vault is asked to unwrap, so a
 * template that would be refused costs no vault transaction: everything
 * azkv_secret_key_new checks except what depends on the key's length. */
CK_RV azkv_secret_template_check(const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* A certificate object for the vault key object key (its CKA_ID and
 * label), from a PEM file; refused (logged) when the certificate does not
 * hold the key's public key. */
CK_RV azkv_cert_object_new(const azkv_object *key, const char *pem_path, azkv_object **out);

/* C_GetAttributeValue on one object. */
CK_RV azkv_object_get_attributes(const azkv_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG n);

void azkv_object_free(azkv_object *obj);

void azkv_vault_key_ref(azkv_vault_key *vk);
void azkv_vault_key_unref(azkv_vault_key *vk);

/* The handle table. All of these need the module lock held. */
CK_RV azkv_objects_add(azkv_object *obj); /* assigns obj->handle, takes ownership */
azkv_object *azkv_objects_get(CK_OBJECT_HANDLE h);
void azkv_objects_destroy(CK_OBJECT_HANDLE h);
/* Destroys the objects of session s (C_CloseSession). */
void azkv_objects_destroy_session(CK_SESSION_HANDLE s);
/* Destroys every session object on *slot (every slot when slot is NULL),
 * in one pass: once all the sessions there are closed
 * (C_CloseAllSessions). */
void azkv_objects_destroy_session_objects(const CK_SLOT_ID *slot);
/* After a logout of the token on slot (login.h): destroys its private
 * session objects and gives its private token objects new handles, their
 * old ones stale. Cannot fail: each takes back the table slot it left. */
void azkv_objects_private_logged_out(CK_SLOT_ID slot);
/* Calls fn on each object in handle-table order; stops at the first
 * result other than CKR_OK, and returns it. */
CK_RV azkv_objects_each(CK_RV (*fn)(azkv_object *obj, void *ctx), void *ctx);
void azkv_objects_clear(void);
/* Drops the table without freeing it (in a forked child): the secret
 * key values are wiped in place, nothing is freed. */
void azkv_objects_forget(void);

extern void *azkv_objects_inherited; /* the parent's table, after fork() */

#endif
